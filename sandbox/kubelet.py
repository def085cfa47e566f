"""The sandbox kubelet: runs every Deployment's replicas as local demo-app processes.

It plays the parts of the ReplicaSet controller, the kubelet and the endpoints
controller at once. Every ``--interval`` it lists Namespaces, Deployments, Pods,
Services and Endpoints from the API server and makes the processes match:

- ``spec.replicas`` processes of ``python -m sandbox.app`` per Deployment, each on a free
  port of 127.0.0.1, version from the image tag, env from the image catalog
  (``sandbox/images.yaml``) overridden by the container's env (downward API resolved),
  each with a Pod object that turns Ready when ``/api/health`` answers;
- a new template starts new pods first and stops old ones only as new ones turn ready;
  the annotation ``sandbox.canary.io/hold-rollout: "true"`` stops that (a stuck rollout);
- a process that exits is restarted with back-off; a Pod deleted through the API, a
  deleted Deployment or Namespace stops its processes;
- Endpoints of every selector Service and a Prometheus file_sd file list the ready pods.

Polling keeps it simple and robust against API server restarts; at 0.25 s a change
shows within half a second. Each process's PID is also written under the state dir so
``sandbox down`` can stop them even if this kubelet is gone.
"""

import argparse
import contextlib
import dataclasses
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import requests

from sandbox import kubeapi, podspec, procs, publish
from sandbox.podtemplate import template_hash

LOG = logging.getLogger("sandbox.kubelet")
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_MARKER = "sandbox.app"
APP_COMMAND = [sys.executable, "-m", APP_MARKER]
# A stopped pod keeps serving this long after it left the Endpoints and the file_sd
# targets: the router notices within a poll, and Prometheus applies target changes
# at most every 5 s, so it never scrapes a pod that is gone (which would read as down).
DRAIN_SECONDS = 6.0
STOP_GRACE_SECONDS = 5.0
READY_RECHECK_SECONDS = 2.0
# Kubernetes' readiness probe defaults: a 1 s timeout, and three failures in a row
# before a ready pod leaves its Service, so one slow answer under load does not.
PROBE_TIMEOUT_SECONDS = 1.0
PROBE_FAILURE_THRESHOLD = 3
MAX_BACKOFF_SECONDS = 20.0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(port, timeout=PROBE_TIMEOUT_SECONDS):
    """The readiness probe: ``GET /api/health`` answers 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/api/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@dataclasses.dataclass
class Replica:
    """One pod: the process that runs it and what the API knows about it."""

    name: str
    namespace: str
    deployment: str
    deployment_uid: str
    template_hash: str
    labels: dict
    container: dict
    env: dict
    version: str
    port: int = 0
    uid: str = ""
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    ready: bool = False
    probe_failures: int = 0
    probed_at: float = 0.0
    restart_after: float = 0.0
    terminate_at: float = 0.0
    terminated: bool = False


class Kubelet:
    def __init__(self, client, state_dir, interval=0.25, images=None):
        self.client = client
        self.interval = interval
        self.images = images or {}
        self.pid_dir = os.path.join(state_dir, "pids", "apps")
        self.log_dir = os.path.join(state_dir, "logs", "apps")
        self.file_sd = os.path.join(state_dir, "file_sd", "pods.json")
        self.replicas = {}
        self.stopping = []
        self.published = set()
        self.last_targets = None
        self.reported = set()
        os.makedirs(self.pid_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)

    # -- the loop -------------------------------------------------------------------

    def run(self, stop):
        self.clean_previous_run()
        while not stop.is_set():
            try:
                self.tick()
            except (requests.RequestException, kubeapi.ApiError) as error:
                self.report("api", f"API server call failed: {error}")
            stop.wait(self.interval)
        self.shutdown()

    def tick(self):
        namespaces = {
            ns["metadata"]["name"]
            for ns in self.client.list("Namespace")
            if not ns["metadata"].get("deletionTimestamp")
        }
        deployments = [
            d
            for d in self.client.list("Deployment")
            if d["metadata"]["namespace"] in namespaces
            and not d["metadata"].get("deletionTimestamp")
        ]
        pods = {
            (p["metadata"]["namespace"], p["metadata"]["name"]) for p in self.client.list("Pod")
        }
        for replica in list(self.replicas.values()):
            if replica.uid and (replica.namespace, replica.name) not in pods:
                LOG.info("pod %s/%s was deleted through the API", replica.namespace, replica.name)
                self.stop(replica, delete_object=False)
        self.reconcile(deployments)
        self.supervise()
        self.reap()
        self.publish(namespaces)

    # -- desired vs running ---------------------------------------------------------

    def reconcile(self, deployments):
        live = {d["metadata"]["uid"]: d for d in deployments}
        for replica in list(self.replicas.values()):
            if replica.deployment_uid not in live:
                self.stop(replica)
        for deployment in deployments:
            self.reconcile_deployment(deployment)

    def reconcile_deployment(self, deployment):
        uid = deployment["metadata"]["uid"]
        desired = deployment["spec"].get("replicas", 1)
        current_hash = template_hash(deployment["spec"]["template"])
        mine = [r for r in self.replicas.values() if r.deployment_uid == uid]
        new = [r for r in mine if r.template_hash == current_hash]
        old = [r for r in mine if r.template_hash != current_hash]
        if podspec.is_held(deployment):
            self.stop_surplus(new + old, desired)
            return
        for _ in range(desired - len(new)):
            self.start(deployment, current_hash)
        self.stop_surplus(new, desired)
        ready_new = sum(r.ready for r in new if r.name in self.replicas)
        self.stop_surplus(old, max(0, desired - ready_new))

    def stop_surplus(self, replicas, keep):
        """Stop all but ``keep`` replicas, the not-ready and the youngest first."""
        ordered = sorted(replicas, key=lambda r: (r.ready, -r.started_at), reverse=True)
        for replica in ordered[max(0, keep) :]:
            self.stop(replica)

    # -- processes ------------------------------------------------------------------

    def start(self, deployment, pod_template_hash):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        name = podspec.pod_name(deployment["metadata"]["name"], pod_template_hash)
        port = free_port()
        metadata = podspec.pod_metadata(deployment, pod_template_hash, name, port)
        try:
            env = {
                **self.images.get(container.get("image", ""), {}),
                **podspec.resolve_env(container.get("env"), metadata),
            }
        except ValueError as error:
            where = f"{metadata['namespace']}/{deployment['metadata']['name']}"
            self.report(deployment["metadata"]["uid"], f"cannot start a pod of {where}: {error}")
            return
        replica = Replica(
            name=name,
            namespace=metadata["namespace"],
            deployment=deployment["metadata"]["name"],
            deployment_uid=deployment["metadata"]["uid"],
            template_hash=pod_template_hash,
            labels=metadata["labels"],
            container=container,
            env=env,
            version=podspec.app_version(container.get("image", "")),
            port=port,
        )
        created = self.client.create(podspec.pod_object(deployment, metadata))
        replica.uid = created["metadata"].get("uid", "")
        self.launch(replica)
        self.replicas[name] = replica
        self.write_status(replica)
        LOG.info(
            "started %s/%s (%s) on port %d", replica.namespace, name, replica.version, replica.port
        )

    def launch(self, replica):
        """Run the app process on ``replica.port`` and record its PID."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": PROJECT_ROOT,
            **replica.env,
            "PORT": str(replica.port),
            "APP_VERSION": replica.version,
        }
        replica.process = procs.start(
            APP_COMMAND,
            os.path.join(self.log_dir, replica.name + ".log"),
            os.path.join(self.pid_dir, replica.name + ".pid"),
            PROJECT_ROOT,
            env,
        )
        replica.started_at = time.time()
        replica.ready = False
        replica.probed_at = 0.0

    def supervise(self):
        """Restart exited processes (with back-off) and run readiness probes."""
        now = time.time()
        for replica in list(self.replicas.values()):
            if replica.process.poll() is not None:
                self.restart(replica, now)
                continue
            due = not replica.ready or now - replica.probed_at >= READY_RECHECK_SECONDS
            if due:
                replica.probed_at = now
                answered = healthy(replica.port)
                replica.probe_failures = 0 if answered else replica.probe_failures + 1
                ready = answered or (
                    replica.ready and replica.probe_failures < PROBE_FAILURE_THRESHOLD
                )
                if ready != replica.ready:
                    replica.ready = ready
                    self.write_status(replica)

    def restart(self, replica, now):
        if not replica.restart_after:
            code = replica.process.returncode
            backoff = min(MAX_BACKOFF_SECONDS, 0.5 * 2**replica.restarts)
            LOG.warning("%s exited with %s; restarting in %.1fs", replica.name, code, backoff)
            replica.restart_after = now + backoff
            if replica.ready:
                replica.ready = False
                self.write_status(replica)
            return
        if now < replica.restart_after:
            return
        replica.restart_after = 0.0
        replica.restarts += 1
        replica.port = free_port()
        self.launch(replica)
        annotations = {podspec.PORT_ANNOTATION: str(replica.port)}
        self.client.merge_patch(
            "Pod", replica.namespace, replica.name, {"metadata": {"annotations": annotations}}
        )
        self.write_status(replica)

    def write_status(self, replica):
        status = podspec.pod_status(
            replica.container, replica.ready, replica.restarts, replica.started_at, time.time()
        )
        self.client.merge_patch(
            "Pod", replica.namespace, replica.name, {"status": status}, subresource="status"
        )

    def stop(self, replica, delete_object=True, drain=True):
        """Take the pod out of service now; ``reap`` ends its process.

        With ``drain`` the process keeps serving for ``DRAIN_SECONDS`` after it left the
        Endpoints, long enough for the router to notice, as a preStop sleep gives an
        ingress controller time on a real cluster: scaling down and rollouts then cost
        no failed requests.
        """
        self.replicas.pop(replica.name, None)
        replica.ready = False
        replica.terminate_at = time.time() + (DRAIN_SECONDS if drain else 0.0)
        self.stopping.append(replica)
        LOG.info("stopping %s/%s", replica.namespace, replica.name)
        if delete_object:
            self.client.delete("Pod", replica.namespace, replica.name)
        if not drain:
            self.reap()

    def reap(self):
        """SIGTERM once the drain is over, SIGKILL after the grace period, forget the exited."""
        still = []
        now = time.time()
        for replica in self.stopping:
            if replica.process.poll() is not None:
                pid_file = os.path.join(self.pid_dir, replica.name + ".pid")
                if os.path.exists(pid_file):
                    os.unlink(pid_file)
                continue
            if not replica.terminated and now >= replica.terminate_at:
                replica.process.terminate()
                replica.terminated = True
            elif replica.terminated and now - replica.terminate_at > STOP_GRACE_SECONDS:
                replica.process.kill()
            still.append(replica)
        self.stopping = still

    # -- publishing -----------------------------------------------------------------

    def publish(self, namespaces):
        pods = list(self.replicas.values())
        current = {
            (e["metadata"]["namespace"], e["metadata"]["name"]): e
            for e in self.client.list("Endpoints")
        }
        wanted = set()
        for service in self.client.list("Service"):
            meta = service["metadata"]
            key = (meta["namespace"], meta["name"])
            if meta["namespace"] not in namespaces or not service["spec"].get("selector"):
                continue
            wanted.add(key)
            endpoints = publish.endpoints_object(service, pods)
            existing = current.get(key)
            if existing is None:
                self.client.create(endpoints)
            elif (existing.get("subsets") or []) != endpoints["subsets"]:
                endpoints["metadata"]["resourceVersion"] = existing["metadata"].get(
                    "resourceVersion"
                )
                self.client.replace(endpoints)
        for namespace, name in self.published - wanted:
            if (namespace, name) in current:
                self.client.delete("Endpoints", namespace, name)
        self.published = wanted
        targets = publish.file_sd_targets(pods)
        if targets != self.last_targets:
            publish.write_atomically(self.file_sd, targets)
            self.last_targets = targets

    # -- start and stop of the kubelet itself ---------------------------------------

    def clean_previous_run(self):
        """Stop app processes and delete Pod objects a previous kubelet left behind."""
        leftovers = [os.path.join(self.pid_dir, entry) for entry in os.listdir(self.pid_dir)]
        procs.stop([(procs.read_pid(path), APP_MARKER) for path in leftovers], grace=2.0)
        for path in leftovers:
            os.unlink(path)
        try:
            for pod in self.client.list("Pod"):
                meta = pod["metadata"]
                if podspec.PORT_ANNOTATION in (meta.get("annotations") or {}):
                    self.client.delete("Pod", meta["namespace"], meta["name"])
        except (requests.RequestException, kubeapi.ApiError) as error:
            LOG.warning("could not clean up old pods: %s", error)

    def shutdown(self):
        LOG.info("shutting down %d pods", len(self.replicas))
        for replica in list(self.replicas.values()):
            with contextlib.suppress(requests.RequestException, kubeapi.ApiError):
                self.stop(replica, drain=False)
        for replica in self.stopping:  # no more draining: nothing will be routed here
            replica.terminate_at = min(replica.terminate_at, time.time())
        try:
            self.publish(set())
        except (requests.RequestException, kubeapi.ApiError):
            publish.write_atomically(self.file_sd, [])
        deadline = time.time() + STOP_GRACE_SECONDS + 1
        while self.stopping and time.time() < deadline:
            self.reap()
            time.sleep(0.1)

    def report(self, key, message):
        """Log a recurring problem once until it changes, not every tick."""
        if (key, message) not in self.reported:
            self.reported.add((key, message))
            LOG.error("%s", message)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandbox.kubelet", description=__doc__)
    parser.add_argument("--apiserver", default="http://127.0.0.1:16443")
    parser.add_argument("--state-dir", default=".sandbox")
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument(
        "--images",
        default=os.path.join(PROJECT_ROOT, "sandbox", "images.yaml"),
        help="image catalog: the FAULT_* env each demo image bakes in",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    client = kubeapi.Client(args.apiserver, timeout=3.0)
    images = podspec.load_images(args.images)
    kubelet = Kubelet(client, args.state_dir, args.interval, images)
    kubelet.run(stop)


if __name__ == "__main__":
    main()
