"""``python -m sandbox up|down|status|wait-ready|router``: the sandbox as one command.

``up`` starts, each detached with a PID file and a log under the state dir: the real
Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler; ``sandbox.kube``), building its binaries first when they are not
cached; then it installs the CRDs and RBAC, writes the kubeconfigs, seeds the cluster
from ``sandbox/manifests/`` and starts the node agent, the router, Prometheus and
the load generator; then it waits until the stable Deployment is ready, the router
answers through to stable and Prometheus has scraped the apps. If anything fails on
the way, what was started is stopped again and the error is printed. Every ``up``
starts a new, empty cluster. ``down`` stops everything by PID, app processes
included, removes the pod network and is idempotent. ``--traffic PROVIDER`` picks the
router's traffic provider (default ``configmap``); ``router --traffic PROVIDER``
restarts only the router with another one, on the same ports, stopping the running
router by its PID.

Ports come from flags, else the environment (``SANDBOX_API_PORT``, ...), else the
defaults. ``up`` records them in ``<state-dir>/state.json`` so that the other commands
find the running sandbox without repeating them.
"""

import argparse
import contextlib
import glob
import hashlib
import ipaddress
import json
import os
import shutil
import sys
import time

import requests
import yaml

from sandbox import kubeapi, procs, prometheus, state, traffic
from sandbox.kube import binaries, bootstrap, controlplane
from sandbox.kube.binaries import BinaryError
from sandbox.kube.controlplane import ControlPlane, ControlPlaneError
from sandbox.node import podnet

PROJECT_ROOT = state.PROJECT_ROOT
MANIFESTS = os.path.join(PROJECT_ROOT, "sandbox", "manifests")
# The objects of the other traffic providers. Apart from manifests/*.yaml because the kind
# scenario applies those to a real cluster, which need not serve these kinds.
PROVIDER_MANIFESTS = os.path.join(MANIFESTS, "providers")
ROUTER_CONFIG = os.path.join(PROJECT_ROOT, "sandbox", "router.yaml")
PORTS = {  # setting -> (flag, environment variable, default, what listens there)
    "api_port": ("--api-port", "SANDBOX_API_PORT", 16443, "API server"),
    "etcd_port": ("--etcd-port", "SANDBOX_ETCD_PORT", 16379, "etcd"),
    "etcd_peer_port": ("--etcd-peer-port", "SANDBOX_ETCD_PEER_PORT", 16380, "etcd peer"),
    "controller_manager_port": (
        "--controller-manager-port",
        "SANDBOX_CONTROLLER_MANAGER_PORT",
        16257,
        "controller-manager",
    ),
    "scheduler_port": ("--scheduler-port", "SANDBOX_SCHEDULER_PORT", 16259, "scheduler"),
    "router_port": ("--router-port", "SANDBOX_ROUTER_PORT", 18080, "router"),
    "router_admin_port": (
        "--router-admin-port",
        "SANDBOX_ROUTER_ADMIN_PORT",
        18081,
        "router admin",
    ),
    "prometheus_port": ("--prometheus-port", "SANDBOX_PROMETHEUS_PORT", 19090, "Prometheus"),
}
# ``up`` takes the first /24 of it that no route on the host reaches into yet.
POD_CIDR_POOL = "10.244.0.0/16"
# Started after the control plane, in this order; ``down`` goes the other way, so the
# node agent stops its pods before the control plane goes.
COMPONENTS = ("node", "router", "prometheus", "loadgen")
SERVERS = COMPONENTS[:-1]  # the load generator may end by itself
STABLE = ("yyc3-short-drama", "frontend-deployment")
# The stable Service through its service proxy path: stable whatever the router's provider.
STABLE_HEALTH = "/api/v1/namespaces/yyc3-short-drama/services/frontend/proxy/api/health"


def netns_name(state_dir):
    """The pod network namespace of a state dir: one per sandbox."""
    return "canary-sbx-" + hashlib.sha256(state.state_dir(state_dir).encode()).hexdigest()[:8]


class SandboxError(Exception):
    """Something the user has to fix; printed without a traceback."""


class Sandbox:
    def __init__(self, state_dir, ports, traffic_provider="configmap", pod_cidr=None):
        self.state_dir = state.state_dir(state_dir)
        self.ports = ports
        self.traffic = traffic_provider
        self.control_plane = ControlPlane(self.state_dir, ports)
        self.api = self.control_plane.server
        self.network = podnet.PodNetwork(
            netns_name(self.state_dir),
            pod_cidr or str(next(ipaddress.ip_network(POD_CIDR_POOL).subnets(new_prefix=24))),
        )
        self.python_env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (PROJECT_ROOT, os.environ.get("PYTHONPATH")) if p
            ),
        }

    def path(self, *parts):
        return os.path.join(self.state_dir, *parts)

    def pid(self, name):
        return procs.read_pid(self.path("pids", name + ".pid"))

    def marker(self, name):
        """What a component's command line contains, to check a PID before signalling it."""
        return self.path("prometheus") if name == "prometheus" else f"sandbox.{name}"

    def running(self, name):
        return procs.running(self.pid(name), self.marker(name))

    def admin(self, timeout=5.0):
        return kubeapi.Client.from_kubeconfig(self.path(state.ADMIN_KUBECONFIG), timeout)

    def app_pids(self):
        return [procs.read_pid(p) for p in glob.glob(self.path("pids", "apps", "*.pid"))]

    # -- up -------------------------------------------------------------------------

    def up(self, load, timeout):
        live = [n for n in controlplane.COMPONENTS if self.control_plane.running(n)]
        live += [name for name in COMPONENTS if self.running(name)]
        if live:
            raise SandboxError(
                f"a sandbox already runs from {self.state_dir} ({', '.join(live)}); "
                "run `python -m sandbox down` first"
            )
        for setting, (flag, _, _, what) in PORTS.items():
            port = self.ports[setting]
            if not procs.port_free(port):
                raise SandboxError(
                    f"port {port} for the {what} is already in use; pick another with {flag}"
                )
        # A new cluster every time: nothing of an earlier run's objects survives.
        for stale in ("etcd", "logs", "prometheus"):
            shutil.rmtree(self.path(stale), ignore_errors=True)
        for sub in ("pids/apps", "logs", "prometheus", "tokens"):
            os.makedirs(self.path(sub), exist_ok=True)
        self.write_state(started=time.time())
        try:
            self.start_all(load, timeout)
        except (BinaryError, ControlPlaneError, podnet.PodNetworkError, kubeapi.ApiError) as error:
            self.down()
            raise SandboxError(str(error)) from None
        except BaseException:
            self.down()
            raise

    def start_all(self, load, timeout):
        ports = self.ports
        # Built first, when missing: Debian's Prometheus has no Kubernetes discovery.
        binary = binaries.ensure(("prometheus",), log=print)["prometheus"]
        self.control_plane.start(timeout=max(60.0, timeout), log=print)
        self.network.create()
        tokens = bootstrap.bootstrap(self.admin(timeout=30.0))
        self.write_identities(tokens)
        self.seed()
        self.start_module(
            "node",
            *("--kubeconfig", self.control_plane.path("kubeconfigs", "node")),
            *("--state-dir", self.state_dir, "--netns", self.network.name),
            *("--pod-cidr", str(self.network.network)),
        )
        self.start_router()
        config = prometheus.write_config(
            self.state_dir,
            ports["router_admin_port"],
            self.api,
            self.control_plane.ca_path,
            self.path("tokens", "prometheus"),
        )
        self.start(
            "prometheus",
            prometheus.command(binary, config, self.state_dir, ports["prometheus_port"]),
        )
        self.wait_ready(timeout)
        if load:  # only now: load before stable is ready would only log 503s
            self.start_module(
                "loadgen",
                *("--url", f"http://127.0.0.1:{ports['router_port']}", "--rate", load["rate"]),
                *("--users", load["users"], "--duration", load["duration"]),
                *("--stats-file", self.path("loadgen-stats.json")),
            )

    def write_identities(self, tokens):
        """The runbooks' kubeconfig, the router's, and Prometheus' token file."""
        ca = self.control_plane.ca_path
        controlplane.write_yaml(
            self.path(state.RUNBOOKS_KUBECONFIG),
            controlplane.kubeconfig(
                self.api, ca, {"token": tokens[bootstrap.RUNBOOKS]}, namespace=STABLE[0]
            ),
        )
        controlplane.write_yaml(
            self.path("kubeconfigs", "router"),
            controlplane.kubeconfig(self.api, ca, {"token": tokens[bootstrap.ROUTER]}),
        )
        with open(
            os.open(
                self.path("tokens", "prometheus"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
            ),
            "w",
        ) as handle:
            handle.write(tokens[bootstrap.PROMETHEUS])

    def write_state(self, **extra):
        """Record the ports and the traffic provider for the commands that come later."""
        path = self.path("state.json")
        os.makedirs(self.state_dir, exist_ok=True)
        try:
            with open(path) as handle:
                recorded = json.load(handle)
        except (OSError, ValueError):
            recorded = {}
        recorded.update(
            extra, ports=self.ports, traffic=self.traffic, pod_cidr=str(self.network.network)
        )
        with open(path, "w") as handle:
            json.dump(recorded, handle, indent=1)

    def start_router(self):
        self.start_module(
            "router",
            *("--config", ROUTER_CONFIG, "--kubeconfig", self.path("kubeconfigs", "router")),
            *("--traffic", self.traffic),
            *("--port", self.ports["router_port"], "--admin-port", self.ports["router_admin_port"]),
        )

    def switch_router(self, timeout):
        """Restart only the router, with ``self.traffic``; the rest keeps running.

        Seeds first (existing objects are kept), so that a sandbox started before a
        provider's objects were added to the manifests gets them too.
        """
        if not self.control_plane.running("kube-apiserver"):
            raise SandboxError(f"no sandbox runs from {self.state_dir}; run `python -m sandbox up`")
        self.seed()
        if self.running("router"):
            procs.stop([(self.pid("router"), self.marker("router"))], grace=5.0)
        self.start_router()
        self.write_state()
        self.wait("router answering from stable", self.router_answers, timeout)
        return requests.get(self.admin_url("/state"), timeout=2).json()

    def admin_url(self, path):
        return f"http://127.0.0.1:{self.ports['router_admin_port']}{path}"

    def start_module(self, name, *args):
        """Start ``python -m sandbox.<name> args...`` with this interpreter."""
        argv = [sys.executable, "-m", f"sandbox.{name}", *(str(a) for a in args)]
        self.start(name, argv)

    def start(self, name, argv):
        process = procs.start(
            argv,
            self.path("logs", name + ".log"),
            self.path("pids", name + ".pid"),
            PROJECT_ROOT,
            self.python_env,
        )
        time.sleep(0.1)
        if process.poll() is not None:
            log = self.path("logs", name + ".log")
            raise SandboxError(f"{name} exited at start; see {log}:\n{procs.tail(log)}")

    def seed(self):
        """Create every object in ``sandbox/manifests/``; existing ones are kept."""
        client = self.admin()
        paths = sorted(glob.glob(os.path.join(MANIFESTS, "*.yaml")))
        for path in paths + sorted(glob.glob(os.path.join(PROVIDER_MANIFESTS, "*.yaml"))):
            with open(path) as handle:
                for obj in yaml.safe_load_all(handle):
                    if not obj:
                        continue
                    try:
                        client.create(obj)
                    except kubeapi.ApiError as error:
                        if error.status != 409:
                            raise SandboxError(
                                f"seeding {os.path.basename(path)}: {error}"
                            ) from None

    # -- readiness ------------------------------------------------------------------

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        for what, check, explain in (
            ("API server", self.api_answers, None),
            ("stable Deployment ready", self.stable_ready, self.stable_pods),
            ("router answering from stable", self.router_answers, None),
            ("Prometheus scraping the apps", self.prometheus_scraped, None),
        ):
            self.wait(what, check, max(1.0, deadline - time.monotonic()), explain)

    def wait(self, what, check, timeout, explain=None):
        """Poll ``check() -> (ok, counts)``; at the timeout, say ``explain()`` too."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name in SERVERS:
                pid_file = self.path("pids", name + ".pid")
                if os.path.exists(pid_file) and not self.running(name):
                    log = self.path("logs", name + ".log")
                    raise SandboxError(f"{name} stopped; see {log}:\n{procs.tail(log)}")
            try:
                ok, last = check()
            except (requests.RequestException, kubeapi.ApiError, OSError) as error:
                ok, last = False, str(error)
            if ok:
                return
            time.sleep(0.2)
        if explain:
            with contextlib.suppress(requests.RequestException, kubeapi.ApiError, OSError):
                last += "; " + explain()
        raise SandboxError(f"timed out waiting for: {what} ({last})")

    def api_answers(self):
        return self.control_plane.healthy("kube-apiserver")

    def stable_ready(self):
        deployment = self.admin(timeout=2).get("Deployment", *STABLE)
        if deployment is None:
            return False, "Deployment not found"
        wanted = deployment["spec"].get("replicas", 1)
        status = deployment.get("status") or {}
        ready, updated = status.get("readyReplicas", 0), status.get("updatedReplicas", 0)
        return ready >= wanted and updated >= wanted, f"{ready}/{wanted} ready, {updated} updated"

    def stable_pods(self):
        """What a stuck wait for stable shows: its pods, and where the logs are."""
        pods = self.admin(timeout=2).list("Pod", STABLE[0], label_selector="track=stable")
        return f"{describe_pods(pods)}; logs in {self.path('logs')}"

    def router_answers(self):
        response = requests.get(
            f"http://127.0.0.1:{self.ports['router_port']}{STABLE_HEALTH}", timeout=2
        )
        track = response.headers.get("X-Canary-Track")
        return response.status_code == 200 and track == "stable", f"HTTP {response.status_code}"

    def prometheus_scraped(self):
        response = requests.get(
            f"http://127.0.0.1:{self.ports['prometheus_port']}/api/v1/query",
            params={"query": 'up{job="apps"} == 1'},
            timeout=2,
        )
        result = response.json().get("data", {}).get("result", []) if response.ok else []
        return bool(result), f"{len(result)} app targets up"

    # -- down and status ------------------------------------------------------------

    def down(self):
        """Stop every component, newest first, then any app process left behind."""
        stopped = []
        for name in reversed(COMPONENTS):
            pid_file = self.path("pids", name + ".pid")
            if self.running(name):
                grace = 15.0 if name == "node" else 5.0
                procs.stop([(self.pid(name), self.marker(name))], grace=grace)
                stopped.append(name)
            if os.path.exists(pid_file):
                os.unlink(pid_file)
        app_files = glob.glob(self.path("pids", "apps", "*.pid"))
        procs.stop([(procs.read_pid(p), "sandbox.app") for p in app_files], grace=3.0)
        for path in app_files:
            os.unlink(path)
        stopped += self.control_plane.stop()
        if self.network.exists():
            try:
                self.network.delete()
            except podnet.PodNetworkError as error:
                print(f"sandbox down: {error}", file=sys.stderr)
        return stopped

    def status(self):
        lines = []
        for name in (*controlplane.COMPONENTS, *COMPONENTS):
            owner = self.control_plane if name in controlplane.COMPONENTS else self
            pid = owner.pid(name)
            up = owner.running(name)
            lines.append(
                f"{name:<24} {'running' if up else ('stopped' if pid else 'not started'):<12} pid {pid or '-'}"
            )
        apps = [pid for pid in self.app_pids() if procs.running(pid, "sandbox.app")]
        lines.append(f"{'pods':<24} {len(apps)} processes")
        ports = ", ".join(f"{PORTS[k][3]} {v}" for k, v in self.ports.items())
        lines.append(f"ports: {ports}")
        lines.append(f"pod network: {self.network.network} in netns {self.network.name}")
        if self.running("router"):
            try:
                lines.append(f"router: {requests.get(self.admin_url('/state'), timeout=2).json()}")
            except (requests.RequestException, ValueError) as error:
                lines.append(f"router: unreachable ({error})")
        return "\n".join(lines)


def describe_pods(pods):
    """Each Pod's phase, readiness and why its container waits: what a stuck wait shows."""
    described = []
    for pod in pods:
        status = pod.get("status") or {}
        ready = any(
            c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])
        )
        line = f"{pod['metadata']['name']} {status.get('phase', 'no phase')}"
        line += f" {'ready' if ready else 'not ready'} at {status.get('podIP', 'no IP')}"
        for container in status.get("containerStatuses", []):
            waiting = container.get("state", {}).get("waiting")
            if waiting:
                line += f", {container['name']} waiting: {waiting.get('reason')}"
            if container.get("restartCount"):
                line += f", {container['restartCount']} restarts"
        described.append(line)
    return "; ".join(described) or "no pods"


def recorded_state(state_dir):
    """What ``up`` (or ``router``) wrote in ``state.json``; empty when nothing did."""
    try:
        with open(os.path.join(state.state_dir(state_dir), "state.json")) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def resolve_ports(args, state_dir):
    """Flags, else the environment, else what ``up`` recorded, else the defaults."""
    recorded = recorded_state(state_dir).get("ports", {})
    ports = {}
    for setting, (_, env_name, default, _) in PORTS.items():
        flag = getattr(args, setting)
        env = os.environ.get(env_name)
        ports[setting] = int(
            flag or env or (recorded.get(setting) if args.command != "up" else None) or default
        )
    return ports


def resolve_pod_cidr(args):
    """The flag, else the environment, else what ``up`` recorded, else a free /24."""
    explicit = args.pod_cidr or os.environ.get("SANDBOX_POD_CIDR")
    if explicit:
        return explicit
    if args.command != "up":
        return recorded_state(args.state_dir).get("pod_cidr")
    if not shutil.which("ip"):  # ``up`` then stops at the pod network and says why
        return None
    try:
        return podnet.first_free(POD_CIDR_POOL, podnet.host_routes())
    except podnet.PodNetworkError as error:
        raise SandboxError(f"{error}; choose one with --pod-cidr") from None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=("up", "down", "status", "wait-ready", "router"))
    parser.add_argument(
        "--state-dir",
        default=None,
        help="relative to the project root unless absolute",
    )
    for setting, (flag, env_name, default, what) in PORTS.items():
        parser.add_argument(
            flag, dest=setting, type=int, help=f"{what} port (${env_name}, default {default})"
        )
    parser.add_argument(
        "--traffic",
        choices=sorted(traffic.READERS),
        help="the router's traffic provider (up: default configmap; router: required)",
    )
    parser.add_argument(
        "--pod-cidr",
        help=f"the pod network (${{SANDBOX_POD_CIDR}}; default: up takes the first /24 of "
        f"{POD_CIDR_POOL} not routed on this host, the other commands what up recorded)",
    )
    parser.add_argument("--no-load", action="store_true", help="do not start the load generator")
    parser.add_argument("--load-rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--load-users", type=int, default=3000)
    parser.add_argument("--load-duration", type=float, default=3600.0, help="seconds")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    args = parser.parse_args(argv)
    if args.command == "router" and not args.traffic:
        parser.error("router needs --traffic PROVIDER")
    recorded = recorded_state(args.state_dir).get("traffic") if args.command != "up" else None
    provider = args.traffic or recorded or "configmap"
    try:
        sandbox = Sandbox(
            args.state_dir, resolve_ports(args, args.state_dir), provider, resolve_pod_cidr(args)
        )
        print(run(args, sandbox))
    except SandboxError as error:
        print(f"sandbox {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


def run(args, sandbox):
    """Carry out one command; return what to print."""
    if args.command == "up":
        load = {"rate": args.load_rate, "users": args.load_users, "duration": args.load_duration}
        sandbox.up(None if args.no_load else load, args.timeout)
        urls = [
            f"{what} 127.0.0.1:{sandbox.ports[setting]}"
            for setting, (_, _, _, what) in PORTS.items()
        ]
        return (
            f"sandbox up: {', '.join(urls)}\n"
            f"kubeconfig (the runbooks' ServiceAccount): {sandbox.path(state.RUNBOOKS_KUBECONFIG)}\n"
            f"admin kubeconfig: {sandbox.path(state.ADMIN_KUBECONFIG)}"
        )
    if args.command == "down":
        stopped = sandbox.down()
        return "sandbox down" + (
            f" (stopped {', '.join(stopped)})" if stopped else " (nothing was running)"
        )
    if args.command == "status":
        return sandbox.status()
    if args.command == "router":
        router = sandbox.switch_router(args.timeout)
        problem = f"; problem: {router['problem']}" if router.get("problem") else ""
        return f"router restarted with {router['provider']}: weight {router['weight']}{problem}"
    sandbox.wait_ready(args.timeout)
    return "sandbox ready"
