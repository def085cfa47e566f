"""The sandbox node agent: a kubelet for the real control plane that runs Pods as processes.

It registers the Node ``--node-name`` (Ready, the pod CIDR, the host end of the pod
network as its InternalIP) and renews its Lease in ``kube-node-lease`` every 10 s, as
the kubelet does, so the node lifecycle controller keeps it Ready. It authenticates
as ``system:node:<name>`` in ``system:nodes``, so the Node authorizer and
NodeRestriction admission limit it to its own Node and the Pods bound to it.

Every ``--interval`` it lists the Pods the scheduler bound to its Node and makes the
processes match:

- a new Pod gets the next free address of the pod network and its first container
  runs ``python -m sandbox.app`` inside the pod network's namespace, listening on that
  address at the container's first port (``PORT``, ``LISTEN_HOST``), with the image's
  catalog env (``sandbox/images.yaml``) under the container's env (downward API
  resolved) and ``APP_VERSION`` from the image tag; a Pod with more containers, or env
  or probes the sandbox cannot honour, stays ``Pending`` with the reason in its status;
- readiness and liveness probes (``httpGet``, ``tcpSocket``) run with the Pod's own
  timing; Ready follows readiness; a failed liveness probe restarts the container;
- an exited container is restarted (``restartPolicy`` Always or OnFailure) after a
  back-off of 1 s doubling to 20 s, ``restartCount`` counts it;
- a Pod being deleted (``deletionTimestamp``) runs its ``preStop`` (``sleep`` or
  ``httpGet``), gets SIGTERM, SIGKILL when its grace period is over, reaches a terminal
  phase and is then deleted for good (grace 0, UID precondition), as the kubelet does;
  a Pod removed without grace has its process killed at once.

ReplicaSets, scheduling and EndpointSlices are the real controllers' work. A restart of
the agent stops the processes of the previous run and starts every Pod afresh.
"""

import argparse
import contextlib
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import requests

from sandbox import kubeapi, podspec, procs
from sandbox.kube import binaries
from sandbox.node import objects, podnet, probes

LOG = logging.getLogger("sandbox.node")
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP_MARKER = "sandbox.app"
IMAGES = os.path.join(PROJECT_ROOT, "sandbox", "images.yaml")
HEARTBEAT_SECONDS = 10.0
FIRST_BACKOFF, MAX_BACKOFF = 1.0, 20.0
DEFAULT_PORT = 8080
DEFAULT_GRACE = 30
# Room the machine offers the scheduler; the demo pods request far less.
CAPACITY = {"cpu": "8", "memory": "16Gi", "pods": "110", "ephemeral-storage": "20Gi"}


class PodSpecError(ValueError):
    """A Pod this node cannot run; the message goes into the Pod's status."""


@dataclasses.dataclass
class Container:
    """The running first container of one Pod."""

    pod: dict
    address: str
    port: int
    env: dict
    log_path: str
    pid_path: str
    readiness: probes.ProbeState | None
    liveness: probes.ProbeState | None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    pod_started: float = 0.0
    ready_since: float = 0.0
    restarts: int = 0
    last_exit: dict | None = None
    restart_at: float = 0.0
    backoff: float = FIRST_BACKOFF
    terminating: bool = False
    stop_probing: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def meta(self):
        return self.pod["metadata"]

    @property
    def spec(self):
        return self.pod["spec"]["containers"][0]

    @property
    def ready(self):
        running = self.process is not None and self.process.poll() is None
        return running and (self.readiness is None or self.readiness.passing)


def exit_status(returncode):
    """A container's exit code as the kubelet reports it: 128 + the signal that ended it."""
    return 128 - returncode if returncode < 0 else returncode


def container_port(container):
    ports = container.get("ports") or []
    return int(ports[0]["containerPort"]) if ports else DEFAULT_PORT


def check_runnable(pod):
    """Refuse what the node cannot run, naming it."""
    spec = pod["spec"]
    if len(spec.get("containers") or []) != 1 or spec.get("initContainers"):
        raise PodSpecError(
            "the sandbox node runs pods of exactly one container and no init containers"
        )
    container = spec["containers"][0]
    if container.get("envFrom"):
        raise PodSpecError(f"container {container['name']}: envFrom is not supported here")
    return container


class NodeAgent:
    def __init__(self, client, network, node_name, state_dir, images, interval=0.25):
        self.client = client
        self.network = network
        self.node_name = node_name
        self.state_dir = state_dir
        self.images = images
        self.interval = interval
        self.containers = {}  # pod uid -> Container
        self.published = {}  # pod uid -> last status written
        self.problems = {}  # pod uid -> problem reported
        self.started = time.time()
        self.heartbeat_at = 0.0
        self.lock = threading.Lock()
        for sub in ("pids/apps", "logs/pods"):
            os.makedirs(os.path.join(state_dir, sub), exist_ok=True)

    # -- the node -------------------------------------------------------------------

    def register(self):
        node = objects.node(self.node_name, str(self.network.network))
        node["status"] = self.node_status()
        current = self.client.get("Node", None, self.node_name)
        if current is None:
            self.client.create(node)
        else:
            self.client.strategic_merge_patch(
                "Node", None, self.node_name, {"status": node["status"]}, subresource="status"
            )
        self.heartbeat(force=True)

    def node_status(self):
        return objects.node_status(
            self.node_name,
            self.network.host_ip,
            binaries.kubernetes_version(),
            self.started,
            time.time(),
            CAPACITY,
        )

    def heartbeat(self, force=False):
        now = time.time()
        if not force and now - self.heartbeat_at < HEARTBEAT_SECONDS:
            return
        self.heartbeat_at = now
        lease = objects.lease(self.node_name, now)
        current = self.client.get("Lease", "kube-node-lease", self.node_name)
        if current is None:
            self.client.create(lease)
        else:
            self.client.merge_patch(
                "Lease", "kube-node-lease", self.node_name, {"spec": lease["spec"]}
            )
        self.client.strategic_merge_patch(
            "Node", None, self.node_name, {"status": self.node_status()}, subresource="status"
        )

    # -- the loop -------------------------------------------------------------------

    def run(self, stop):
        self.clean_previous_run()
        self.network.create()
        self.register()
        while not stop.is_set():
            try:
                self.sync()
                self.heartbeat()
            except (requests.RequestException, kubeapi.ApiError) as error:
                LOG.warning("API server: %s", error)
            stop.wait(self.interval)
        self.shutdown()

    def sync(self):
        pods = self.client.list("Pod", field_selector=f"spec.nodeName={self.node_name}")
        listed = set()
        for pod in pods:
            uid = pod["metadata"]["uid"]
            listed.add(uid)
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            container = self.containers.get(uid)
            if pod["metadata"].get("deletionTimestamp"):
                if container is None:
                    self.finish_deletion(pod)
                elif not container.terminating:
                    container.terminating = True
                    threading.Thread(target=self.terminate, args=(container,), daemon=True).start()
                continue
            if container is None:
                self.start_pod(pod)
            else:
                container.pod = pod
                self.supervise(container)
                self.publish(container)
        for uid in set(self.containers) - listed:
            # Removed without grace (``--force --grace-period=0``): nothing waits for it.
            self.kill(self.containers.pop(uid))
            self.published.pop(uid, None)

    # -- pods -----------------------------------------------------------------------

    def start_pod(self, pod):
        meta = pod["metadata"]
        uid = meta["uid"]
        try:
            container = check_runnable(pod)
            readiness = probes.Probe.parse(container.get("readinessProbe"), container)
            liveness = probes.Probe.parse(container.get("livenessProbe"), container)
            with self.lock:
                taken = {c.address for c in self.containers.values()}
                address = self.network.allocate(taken, (pod.get("status") or {}).get("podIP"))
            env = {
                **self.images.get(container.get("image", ""), {}),
                **podspec.resolve_env(
                    container.get("env"),
                    meta,
                    pod_ip=address,
                    host_ip=self.network.host_ip,
                    node_name=self.node_name,
                ),
            }
        except ValueError as error:  # PodSpecError, UnsupportedProbe, unsupported env
            self.report_unrunnable(pod, str(error))
            return
        log_dir = os.path.join(
            self.state_dir, "logs", "pods", f"{meta['namespace']}_{meta['name']}_{uid}"
        )
        os.makedirs(log_dir, exist_ok=True)
        running = Container(
            pod=pod,
            address=address,
            port=container_port(container),
            env=env,
            log_path=os.path.join(log_dir, container["name"] + ".log"),
            pid_path=os.path.join(self.state_dir, "pids", "apps", uid + ".pid"),
            readiness=probes.ProbeState(readiness, False) if readiness else None,
            liveness=probes.ProbeState(liveness, True) if liveness else None,
            pod_started=time.time(),
        )
        self.network.add(address)
        self.containers[uid] = running
        self.launch(running)
        threading.Thread(target=self.probe_loop, args=(running,), daemon=True).start()
        self.publish(running)
        LOG.info("started %s/%s on %s:%d", meta["namespace"], meta["name"], address, running.port)

    def launch(self, container):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": PROJECT_ROOT,
            **container.env,
            "PORT": str(container.port),
            "LISTEN_HOST": container.address,
            "APP_VERSION": podspec.app_version(container.spec.get("image", "")),
        }
        container.process = procs.start(
            self.network.command([sys.executable, "-m", APP_MARKER]),
            container.log_path,
            container.pid_path,
            PROJECT_ROOT,
            env,
        )
        container.started_at = time.time()
        container.ready_since = container.started_at
        if container.readiness:
            container.readiness = probes.ProbeState(container.readiness.probe, False)
        if container.liveness:
            container.liveness = probes.ProbeState(container.liveness.probe, True)

    def probe_loop(self, container):
        """Run the container's probes on their own schedule until the pod stops."""
        due = {}
        while not container.stop_probing.is_set():
            now = time.time()
            for state in (container.readiness, container.liveness):
                if (
                    state is None
                    or container.process is None
                    or container.process.poll() is not None
                ):
                    continue
                probe = state.probe
                first = container.started_at + probe.initial_delay
                if now < max(first, due.get(id(state), 0.0)):
                    continue
                due[id(state)] = now + probe.period
                if state.record(probe.attempt(container.address)) and state is container.readiness:
                    container.ready_since = time.time()
            container.stop_probing.wait(0.1)

    def supervise(self, container):
        """Restart an exited container with back-off; act on a failed liveness probe."""
        process = container.process
        now = time.time()
        if container.liveness and not container.liveness.passing and process.poll() is None:
            LOG.info("%s: liveness probe failed, restarting", container.meta["name"])
            self.stop_process(container, self.grace(container.pod))
        if process.poll() is None:
            return
        if container.last_exit is None or container.last_exit.get("pid") != process.pid:
            container.last_exit = {
                "pid": process.pid,
                "exitCode": exit_status(process.returncode),
                "finishedAt": objects.timestamp(now),
                "startedAt": objects.timestamp(container.started_at),
            }
            container.restart_at = now + container.backoff
            container.backoff = min(container.backoff * 2, MAX_BACKOFF)
            container.ready_since = now
        policy = container.pod["spec"].get("restartPolicy", "Always")
        if policy == "Never" or (policy == "OnFailure" and process.returncode == 0):
            return
        if now >= container.restart_at:
            container.restarts += 1
            self.launch(container)

    def grace(self, pod):
        meta_grace = pod["metadata"].get("deletionGracePeriodSeconds")
        spec_grace = pod["spec"].get("terminationGracePeriodSeconds", DEFAULT_GRACE)
        return float(spec_grace if meta_grace is None else meta_grace)

    def terminate(self, container):
        """Graceful deletion: preStop, SIGTERM, SIGKILL after the grace period, then delete."""
        pod = container.pod
        grace = self.grace(pod)
        started = time.monotonic()
        with contextlib.suppress(Exception):
            self.pre_stop(container, grace)
        self.stop_process(container, max(0.0, grace - (time.monotonic() - started)))
        container.stop_probing.set()
        self.release(container)
        try:
            self.write_terminal_status(container)
            self.finish_deletion(pod)
        except (requests.RequestException, kubeapi.ApiError) as error:
            LOG.warning("finishing the deletion of %s: %s", pod["metadata"]["name"], error)
        with self.lock:
            self.containers.pop(pod["metadata"]["uid"], None)
            self.published.pop(pod["metadata"]["uid"], None)

    def pre_stop(self, container, grace):
        hook = (container.spec.get("lifecycle") or {}).get("preStop") or {}
        if "sleep" in hook:
            time.sleep(min(float(hook["sleep"]["seconds"]), grace))
        elif "httpGet" in hook:
            probe = probes.Probe.parse(
                {"httpGet": hook["httpGet"], "timeoutSeconds": grace}, container.spec
            )
            probe.attempt(container.address)
        elif hook:
            LOG.warning("%s: preStop %s is not run here", container.meta["name"], ", ".join(hook))

    def stop_process(self, container, grace):
        process = container.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()

    def kill(self, container):
        container.stop_probing.set()
        self.stop_process(container, 0.0)
        self.release(container)

    def release(self, container):
        with contextlib.suppress(podnet.PodNetworkError):
            self.network.remove(container.address)
        with contextlib.suppress(OSError):
            os.unlink(container.pid_path)

    def finish_deletion(self, pod):
        meta = pod["metadata"]
        self.client.delete(
            "Pod",
            meta["namespace"],
            meta["name"],
            {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}},
        )

    # -- status ---------------------------------------------------------------------

    def container_state(self, container):
        process = container.process
        last = (
            {"terminated": {k: v for k, v in container.last_exit.items() if k != "pid"}}
            if container.last_exit
            else {}
        )
        if process is not None and process.poll() is None:
            state = {"running": {"startedAt": objects.timestamp(container.started_at)}}
        elif container.terminating:
            state, last = last or {"terminated": {"exitCode": 0}}, {}
        else:
            state = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off restarting the container of {container.meta['name']}",
                }
            }
        return objects.container_status(
            container.spec, state, container.ready, container.restarts, last
        )

    def publish(self, container):
        status = objects.pod_status(
            "Running",
            self.network.host_ip,
            container.address,
            container.pod_started,
            [self.container_state(container)],
            container.ready_since,
            container.ready,
        )
        self.write_status(container.pod, status)

    def write_terminal_status(self, container):
        exit_code = exit_status(container.process.returncode if container.process else 0)
        phase = "Succeeded" if exit_code == 0 else "Failed"
        state = {
            "terminated": {
                "exitCode": exit_code,
                "reason": "Completed" if exit_code == 0 else "Error",
                "finishedAt": objects.timestamp(time.time()),
                "startedAt": objects.timestamp(container.started_at),
            }
        }
        status = objects.pod_status(
            phase,
            self.network.host_ip,
            container.address,
            container.pod_started,
            [objects.container_status(container.spec, state, False, container.restarts)],
            time.time(),
            False,
        )
        self.write_status(container.pod, status, force=True)

    def report_unrunnable(self, pod, message):
        uid = pod["metadata"]["uid"]
        if self.problems.get(uid) == message:
            return
        self.problems[uid] = message
        LOG.warning("%s/%s: %s", pod["metadata"]["namespace"], pod["metadata"]["name"], message)
        containers = [
            objects.container_status(
                c,
                {"waiting": {"reason": "CreateContainerConfigError", "message": message}},
                False,
                0,
            )
            for c in pod["spec"].get("containers") or []
        ]
        status = objects.pod_status(
            "Pending", self.network.host_ip, None, time.time(), containers, time.time(), False
        )
        self.write_status(pod, status, force=True)

    def write_status(self, pod, status, force=False):
        uid = pod["metadata"]["uid"]
        # Timestamps of a heartbeat do not make a change worth writing.
        if not force and self.published.get(uid) == status:
            return
        self.client.strategic_merge_patch(
            "Pod",
            pod["metadata"]["namespace"],
            pod["metadata"]["name"],
            {"status": status},
            subresource="status",
        )
        self.published[uid] = status

    # -- start and stop -------------------------------------------------------------

    def clean_previous_run(self):
        pid_dir = os.path.join(self.state_dir, "pids", "apps")
        leftovers = [os.path.join(pid_dir, f) for f in os.listdir(pid_dir)]
        procs.stop([(procs.read_pid(p), APP_MARKER) for p in leftovers], grace=3.0)
        for path in leftovers:
            os.unlink(path)

    def shutdown(self):
        """Stop every process (the node goes away with the sandbox)."""
        for container in list(self.containers.values()):
            container.stop_probing.set()
        procs.stop(
            [(c.process.pid, APP_MARKER) for c in self.containers.values() if c.process],
            grace=5.0,
        )
        for container in list(self.containers.values()):
            self.release(container)
        self.containers.clear()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.node",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kubeconfig", required=True, help="the node's identity")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--node-name", default="sandbox")
    parser.add_argument("--pod-cidr", default="10.244.0.0/24")
    parser.add_argument("--netns", required=True, help="network namespace of the pods")
    parser.add_argument("--interval", type=float, default=0.25)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    agent = NodeAgent(
        kubeapi.Client.from_kubeconfig(args.kubeconfig, timeout=5.0),
        podnet.PodNetwork(args.netns, args.pod_cidr),
        args.node_name,
        args.state_dir,
        podspec.load_images(IMAGES),
        args.interval,
    )
    agent.run(stop)
    return 0
