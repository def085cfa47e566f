"""What the node agent writes to the API server: its Node, its Lease, its Pods' status.

Pure functions on dicts, shaped as a kubelet leaves them, so that ``kubectl get
nodes,pods -o wide`` and the controllers read the sandbox node as any other.
"""

import datetime
import os
import platform

CONTAINER_RUNTIME = "sandbox-process://1"
# How long the Node's Lease holds without renewal (the kubelet's default).
LEASE_SECONDS = 40


def timestamp(seconds):
    """RFC 3339 in seconds, as metav1.Time serialises."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_timestamp(seconds):
    """RFC 3339 in microseconds, as metav1.MicroTime (a Lease's renewTime) serialises."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def node(name, pod_cidr):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
            },
        },
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]},
    }


def node_status(name, host_ip, kubernetes_version, started, now, capacity):
    """Ready, no pressure, the host end of the pod network as InternalIP."""

    def condition(kind, status, reason, message):
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": timestamp(now),
            "lastTransitionTime": timestamp(started),
        }

    uname = platform.uname()
    return {
        "capacity": capacity,
        "allocatable": capacity,
        "addresses": [
            {"type": "InternalIP", "address": host_ip},
            {"type": "Hostname", "address": name},
        ],
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "sandbox node"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "sandbox node"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "sandbox node"),
            condition(
                "Ready", "True", "KubeletReady", "sandbox node agent is posting ready status"
            ),
        ],
        "nodeInfo": {
            "machineID": _machine_id(),
            "systemUUID": _machine_id(),
            "bootID": _boot_id(),
            "kernelVersion": uname.release,
            "osImage": _os_image(),
            "containerRuntimeVersion": CONTAINER_RUNTIME,
            # Build metadata: the API level it speaks, and that it is not the real kubelet.
            "kubeletVersion": f"{kubernetes_version}+sandbox",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
    }


def lease(name, now):
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": LEASE_SECONDS,
            "renewTime": micro_timestamp(now),
        },
    }


def container_status(container, state, ready, restarts, last_state=None):
    """``state``: ``{"running": {...}}``, ``{"waiting": {...}}`` or ``{"terminated": {...}}``."""
    status = {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "containerID": "",
        "ready": ready,
        "started": "running" in state,
        "restartCount": restarts,
        "state": state,
        "lastState": last_state or {},
    }
    return status


def pod_status(phase, host_ip, pod_ip, started, containers, ready_since, ready):
    """A pod's status; ``containers`` are container statuses, ``ready_since`` when Ready flipped."""
    ready_flag = "True" if ready else "False"
    start = timestamp(started)
    changed = timestamp(ready_since)

    def condition(kind, status, when):
        return {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": when}

    status = {
        "phase": phase,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": start,
        "conditions": [
            condition("PodReadyToStartContainers", "True", start),
            condition("Initialized", "True", start),
            condition("ContainersReady", ready_flag, changed),
            condition("Ready", ready_flag, changed),
        ],
        "containerStatuses": containers,
    }
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    return status


def _read(path, default=""):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return default


def _machine_id():
    return _read("/etc/machine-id") or "sandbox"


def _boot_id():
    return _read("/proc/sys/kernel/random/boot_id") or "sandbox"


def _os_image():
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return os.uname().sysname
