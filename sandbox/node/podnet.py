"""The node's pod network: one network namespace, one address per Pod.

Every Pod needs an IP that an EndpointSlice may carry, and the API server refuses
loopback addresses there (``may not be in the loopback range``). So the pods run in a
network namespace of their own, joined to the host by a veth pair: the host end has
the first address of the pod CIDR (the node's InternalIP), each Pod gets the next
free address on the namespace's end, and every replica listens on the same container
port of its own address, as in a cluster. Only the host reaches that namespace: the
router, Prometheus and the node agent's probes. Nothing there can reach anything but
the host end of the pair.

Needs root (CAP_NET_ADMIN) for ``ip netns`` and ``ip link``.
"""

import contextlib
import ipaddress
import os
import shutil
import subprocess


class PodNetworkError(Exception):
    """The namespace, the veth pair or an address could not be set up."""


def _ip(*args):
    command = ["ip", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PodNetworkError(f"`{' '.join(command)}` failed: {result.stderr.strip()}")
    return result.stdout


def host_routes():
    """The host's IPv4 routes as ``(network, device)``; the default route left out."""
    routes = []
    for line in _ip("-o", "-4", "route", "show").splitlines():
        fields = line.split()
        if not fields or fields[0] == "default":
            continue
        device = fields[fields.index("dev") + 1] if "dev" in fields else ""
        try:
            routes.append((ipaddress.ip_network(fields[0], strict=False), device))
        except ValueError:  # a route type first (``unreachable 10.0.0.0/8``): not a path
            continue
    return routes


def overlaps(network, routes, own_link):
    """The routes other than ``own_link``'s that reach into ``network``."""
    return [(net, dev) for net, dev in routes if dev != own_link and net.overlaps(network)]


def first_free(pool, routes, prefix=24):
    """The first ``/prefix`` of ``pool`` that no route on the host reaches into."""
    for candidate in ipaddress.ip_network(pool).subnets(new_prefix=prefix):
        if not overlaps(candidate, routes, own_link=None):
            return str(candidate)
    raise PodNetworkError(f"every /{prefix} of {pool} is routed on this host already")


class PodNetwork:
    """``name`` names the namespace and (shortened) the host's veth end."""

    def __init__(self, name, cidr):
        self.name = name
        self.network = ipaddress.ip_network(cidr)
        hosts = self.network.hosts()
        self.host_ip = str(next(hosts))
        self._pool = [str(address) for address in hosts]
        # Interface names are at most 15 bytes: the name's last part (a hash, per sandbox).
        self.host_link = ("v" + name.rsplit("-", 1)[-1])[:15]
        self.pod_link = "eth0"

    def exists(self):
        return os.path.exists(f"/run/netns/{self.name}")

    def create(self):
        """Create the namespace and the veth pair; an existing one is kept as it is."""
        if os.geteuid() != 0 or not shutil.which("ip"):
            raise PodNetworkError(
                "the pod network needs root and iproute2 (`ip netns`): run the sandbox as root"
            )
        # Another link routing these addresses (often a sandbox killed before its
        # ``down``) would take the probes, the router's and Prometheus' requests.
        taken = overlaps(self.network, host_routes(), self.host_link)
        if taken:
            found = ", ".join(f"{net} on {dev}" for net, dev in taken)
            raise PodNetworkError(
                f"the pod network {self.network} overlaps routes on this host ({found}); "
                "choose another (--pod-cidr, $SANDBOX_POD_CIDR), or remove a stale "
                "sandbox's link with `ip link delete <link>`"
            )
        if self.exists():
            return
        prefix = self.network.prefixlen
        _ip("netns", "add", self.name)
        try:
            _ip(
                "link",
                "add",
                self.host_link,
                "type",
                "veth",
                "peer",
                "name",
                self.pod_link,
                "netns",
                self.name,
            )
            _ip("addr", "add", f"{self.host_ip}/{prefix}", "dev", self.host_link)
            _ip("link", "set", self.host_link, "up")
            _ip("-n", self.name, "link", "set", "lo", "up")
            _ip("-n", self.name, "link", "set", self.pod_link, "up")
            # Pods' addresses are /32s (below): the way back to the host is this route.
            _ip("-n", self.name, "route", "add", str(self.network), "dev", self.pod_link)
        except PodNetworkError:
            self.delete()
            raise

    def delete(self):
        """Remove the namespace; its end of the pair takes the host's end with it."""
        if self.exists():
            _ip("netns", "delete", self.name)
        # Gone with the namespace, unless a process still held the namespace open.
        if os.path.exists(f"/sys/class/net/{self.host_link}"):
            with contextlib.suppress(PodNetworkError):
                _ip("link", "delete", self.host_link)

    def addresses(self):
        """The pod addresses now on the namespace's interface."""
        out = _ip("-n", self.name, "-o", "-4", "addr", "show", "dev", self.pod_link)
        return {
            field.split("/")[0]
            for line in out.splitlines()
            for field in line.split()
            if "/" in field and field[0].isdigit()
        }

    def allocate(self, taken, wanted=None):
        """An address for a new Pod: ``wanted`` when it is free and ours, else the first free."""
        if wanted in self._pool and wanted not in taken:
            return wanted
        for address in self._pool:
            if address not in taken:
                return address
        raise PodNetworkError(f"no free pod address left in {self.network}")

    # Each address a /32 of its own: of several addresses in one subnet the kernel makes
    # the first primary and deletes the others with it, so the first Pod to stop would
    # take every later Pod's address away.
    def add(self, address):
        _ip(
            "-n",
            self.name,
            "addr",
            "replace",
            f"{address}/32",
            "dev",
            self.pod_link,
        )

    def remove(self, address):
        if address in self.addresses():
            _ip(
                "-n",
                self.name,
                "addr",
                "del",
                f"{address}/32",
                "dev",
                self.pod_link,
            )

    def command(self, argv):
        """``argv`` run inside the namespace; ``ip netns exec`` execs it, keeping the PID."""
        return ["ip", "netns", "exec", self.name, *argv]
