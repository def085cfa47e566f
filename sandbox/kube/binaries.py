"""The sandbox's binaries: found where the user keeps them, else built once and cached.

The versions are those of the two tools modules: ``go.mod`` beside this file pins
Kubernetes (``kube-apiserver``, ``kube-controller-manager``, ``kube-scheduler`` and
``kubectl`` from ``k8s.io/kubernetes``) and ``etcd`` at the version that release
requires; ``prometheus/go.mod`` pins Prometheus, whose Kubernetes service discovery
Debian's package leaves out. Each binary is looked up, in order:

1. ``$KUBEBUILDER_ASSETS/<name>``, the directory envtest (controller-runtime) uses;
2. ``<name>`` on ``PATH``, when it reports the pinned minor version (etcd: the pinned
   etcd minor or newer), so an unrelated older install is not picked up by accident;
3. the cache, ``$CANARY_SANDBOX_CACHE`` (default ``$XDG_CACHE_HOME/canary-sandbox`` or
   ``~/.cache/canary-sandbox``), ``<module>-<version>/<name>``;

and what is found nowhere is built into the cache with ``go build`` (Go's module and
build caches make a second build of the same version a link step).
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

KUBE_TOOLS = os.path.dirname(os.path.abspath(__file__))
PROMETHEUS_TOOLS = os.path.join(KUBE_TOOLS, "prometheus")
KUBERNETES_MODULE = "k8s.io/kubernetes"
ETCD_MODULE = "go.etcd.io/etcd/server/v3"
PROMETHEUS_MODULE = "github.com/prometheus/prometheus"
# binary -> (tools module, Go module that versions it, package of its main)
BINARIES = {
    "etcd": (KUBE_TOOLS, ETCD_MODULE, ETCD_MODULE),
    "kube-apiserver": (KUBE_TOOLS, KUBERNETES_MODULE, KUBERNETES_MODULE + "/cmd/kube-apiserver"),
    "kube-controller-manager": (
        KUBE_TOOLS,
        KUBERNETES_MODULE,
        KUBERNETES_MODULE + "/cmd/kube-controller-manager",
    ),
    "kube-scheduler": (KUBE_TOOLS, KUBERNETES_MODULE, KUBERNETES_MODULE + "/cmd/kube-scheduler"),
    "kubectl": (KUBE_TOOLS, KUBERNETES_MODULE, KUBERNETES_MODULE + "/cmd/kubectl"),
    "prometheus": (PROMETHEUS_TOOLS, PROMETHEUS_MODULE, PROMETHEUS_MODULE + "/cmd/prometheus"),
}
# Go module -> the package whose variables its build stamps with the version
_STAMPS = {
    KUBERNETES_MODULE: "k8s.io/component-base/version",
    PROMETHEUS_MODULE: "github.com/prometheus/common/version",
}
_SEMVER = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


class BinaryError(Exception):
    """A binary cannot be found or built; the message says what to do."""


def pinned_versions(tools=KUBE_TOOLS):
    """``{module: version}`` of a tools module's requirements."""
    versions = {}
    with open(os.path.join(tools, "go.mod")) as handle:
        for line in handle:
            fields = line.split("//", 1)[0].split()
            if fields[:1] == ["require"]:
                fields = fields[1:]
            if len(fields) == 2 and fields[1].startswith("v") and "." in fields[0]:
                versions.setdefault(fields[0], fields[1])
    return versions


def version(name):
    """The pinned version of the Go module that versions a binary."""
    tools, module, _ = BINARIES[name]
    pinned = pinned_versions(tools).get(module)
    if not pinned:
        raise BinaryError(f"{tools}/go.mod does not require {module}")
    return pinned


def kubernetes_version():
    return version("kube-apiserver")


def release(name):
    """The version a binary reports: Prometheus tags v3.X.Y as its module's v0.3XX.Y."""
    pinned = version(name)
    if BINARIES[name][1] == PROMETHEUS_MODULE:
        minor, patch = _SEMVER.match(pinned).group(2, 3)
        return f"{int(minor) // 100}.{int(minor) % 100}.{patch}"
    return pinned


def cache_dir(name, environ=None):
    environ = os.environ if environ is None else environ
    root = environ.get("CANARY_SANDBOX_CACHE") or os.path.join(
        environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "canary-sandbox",
    )
    # One directory per tools module and version: etcd ships with Kubernetes' set.
    if BINARIES[name][0] == KUBE_TOOLS:
        label = f"kubernetes-{kubernetes_version()}"
    else:
        label = f"prometheus-{release('prometheus')}"
    return os.path.join(root, label)


def _minor(text):
    match = _SEMVER.search(text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def reported_version(path):
    """What ``<binary> --version`` prints, or '' when it does not run."""
    try:
        result = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return ""
    return (result.stdout + result.stderr).strip()


def _fits(name, path):
    """A binary found on PATH is used only at a version the sandbox expects."""
    found = _minor(reported_version(path).split("\n", 1)[0])
    if name == "etcd":
        return found is not None and found >= _minor(version("etcd"))
    return found == _minor(release(name))


def locate(name, environ=None):
    """Path of a binary per the order above, or None when it has to be built."""
    environ = os.environ if environ is None else environ
    assets = environ.get("KUBEBUILDER_ASSETS")
    if assets and os.access(os.path.join(assets, name), os.X_OK):
        return os.path.join(assets, name)
    on_path = shutil.which(name, path=environ.get("PATH"))
    if on_path and _fits(name, on_path):
        return on_path
    cached = os.path.join(cache_dir(name, environ), name)
    return cached if os.access(cached, os.X_OK) else None


def _ldflags(name):
    """Stamp the release into the binary, as the project's own build does, so that
    ``kubectl version``, ``/version`` and ``prometheus --version`` report it."""
    module = BINARIES[name][1]
    if module == KUBERNETES_MODULE:
        pinned = release(name)
        major, minor = _minor(pinned)
        stamps = {
            "gitVersion": pinned,
            "gitMajor": str(major),
            "gitMinor": str(minor),
            "gitTreeState": "clean",
        }
    elif module == PROMETHEUS_MODULE:
        stamps = {"Version": release(name), "Branch": "release", "BuildUser": "canary-sandbox"}
    else:
        stamps = {}
    flags = [f"-X {_STAMPS[module]}.{k}={v}" for k, v in stamps.items()]
    return " ".join(["-s", "-w", *flags])


def build(names, environ=None, log=print):
    """Build the named binaries into the cache; return {name: path}."""
    environ = dict(os.environ if environ is None else environ)
    go = shutil.which("go", path=environ.get("PATH"))
    if not go:
        raise BinaryError(
            "Go is needed to build " + ", ".join(names) + " (the version go.mod names, or newer);"
            " or point KUBEBUILDER_ASSETS at a directory that holds them"
        )
    built = {}
    for name in names:
        tools, _, package = BINARIES[name]
        target = cache_dir(name, environ)
        os.makedirs(target, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target, prefix=".build-") as scratch:
            log(f"building {name} {release(name)} from {package} (go build) ...")
            started = time.monotonic()
            output = os.path.join(scratch, name)
            result = subprocess.run(
                [go, "build", "-trimpath", "-ldflags", _ldflags(name), "-o", output, package],
                cwd=tools,
                env={
                    **environ,
                    "GOFLAGS": (environ.get("GOFLAGS", "") + " -mod=readonly").strip(),
                    "CGO_ENABLED": "0",
                },
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BinaryError(
                    f"go build {package} failed (in {tools}):\n"
                    + (result.stderr or result.stdout)[-4000:]
                )
            final = os.path.join(target, name)
            os.replace(output, final)
            built[name] = final
            log(f"built {final} in {time.monotonic() - started:.0f} s")
    return built


def ensure(names=tuple(BINARIES), environ=None, log=print):
    """{name: path} of the named binaries (default: all), building what is missing."""
    found = {name: locate(name, environ) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        found.update(build(missing, environ, log))
    return found
