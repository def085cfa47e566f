"""The router's per-request decision: which track, and which backend of that track.

Without a targeting spec the semantics follow ingress-nginx canary-by-header: ``always``
forces the canary, ``never`` forces stable, any other value falls through to the weight,
applied with the project's own sticky bucketing (``module_utils/bucketing.py``), so a
user who saw the canary at 5 % still sees it at 20 %, as in the playbooks. When the
traffic object carries a targeting spec (the configmap provider publishes it), each
request is decided by ``module_utils/targeting.py``, the code behind the playbooks'
``canary_target`` filter, so what the router does is what the filter says.
"""

import dataclasses
import http.client
import importlib.util
import itertools
import logging
import pathlib
import threading
import uuid

_MODULE_UTILS = pathlib.Path(__file__).resolve().parent.parent / "module_utils"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"canary_{name}", _MODULE_UTILS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bucketing = _load("bucketing")
targeting = _load("targeting")
LOG = logging.getLogger("sandbox.routing")

STABLE, CANARY = "stable", "canary"


@dataclasses.dataclass(frozen=True)
class Choice:
    """The track to serve from, or the status to answer with when that is impossible."""

    track: str
    status: int = 0


def http_text(value):
    """A header value as the client wrote it.

    http.server decodes header bytes as ISO-8859-1, as HTTP/1.1 says; clients send ids
    and regions as UTF-8, so bytes that are valid UTF-8 are read as UTF-8 again.
    """
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def decoded_headers(message):
    """The request's headers (an ``email.message.Message``) with ``http_text`` values."""
    decoded = http.client.HTTPMessage()
    for name, value in message.items():
        decoded[name] = http_text(value)
    return decoded


def cookies_of(cookie_header):
    """The request's cookies by name (RFC 6265 ``name=value; ...``), the first of a name.

    Values are kept as sent, raw UTF-8 included (which ``http.cookies`` drops), with the
    optional double quotes taken off; pieces without a token name and ``=`` are skipped.
    """
    cookies = {}
    for piece in (cookie_header or "").split(";"):
        name, equals, value = piece.strip().partition("=")
        if not equals or not targeting.TOKEN.match(name):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies.setdefault(name, value)
    return cookies


def user_id(headers, cookie_header):
    """``X-User-Id``, else cookie ``user_id``, else a fresh random id (pure weight split)."""
    explicit = (headers.get("X-User-Id") or "").strip()
    if explicit:
        return explicit
    return cookies_of(cookie_header).get("user_id") or uuid.uuid4().hex


def forced_track(header_value):
    value = (header_value or "").strip().lower()
    return {"always": CANARY, "never": STABLE}.get(value)


def choose(user, weight, forced, canary_ready):
    """Pick the track for one request.

    A forced canary without a ready backend is refused (503) rather than silently
    served by stable; a weighted one falls back to stable, as a canary Ingress whose
    backend has no endpoints would.
    """
    if forced == STABLE:
        return Choice(STABLE)
    if forced == CANARY:
        return Choice(CANARY) if canary_ready else Choice(CANARY, 503)
    if weight > 0 and bucketing.in_canary(user, weight) and canary_ready:
        return Choice(CANARY)
    return Choice(STABLE)


# The last targeting spec seen and its Targeting (None when invalid) with its error:
# a reader hands over a new spec at most once a poll, so one slot is the whole cache.
_compiled = (None, None, None)


def _targeting_of(spec):
    """The Targeting of ``spec``, or None when it is invalid (logged once per problem)."""
    global _compiled
    cached, compiled, error = _compiled
    if cached is spec:
        return compiled
    try:
        compiled, problem = targeting.Targeting(spec), None
    except ValueError as invalid:
        compiled, problem = None, str(invalid)
        if problem != error:
            LOG.warning("targeting spec refused, every request to stable: %s", problem)
    _compiled = (spec, compiled, problem)
    return compiled


def route(rules, headers, cookie_header, canary_ready):
    """Pick the track for one request under ``rules`` (a reader's ``TrafficRules``).

    With ``rules.targeting`` the targeting spec decides (a request without a user id
    gets a random one, as without a spec); an invalid spec sends every request to stable,
    forced ones included, as a broken traffic object does. Otherwise the forcing header
    and the weight decide (``choose``).
    """
    spec = rules.targeting
    if not spec:
        return choose(
            user_id(headers, cookie_header),
            rules.weight,
            forced_track(headers.get(rules.canary_header)),
            canary_ready,
        )
    compiled = _targeting_of(spec)
    if compiled is None:
        return Choice(STABLE)
    request = {
        "headers": dict(headers.items()),
        "cookies": cookies_of(cookie_header),
        "user_id": uuid.uuid4().hex,
    }
    decision = compiled.explain(request, rules.weight)
    if decision["track"] == STABLE:
        return Choice(STABLE)
    if canary_ready:
        return Choice(CANARY)
    return Choice(CANARY, 503) if decision["forced"] else Choice(STABLE)


@dataclasses.dataclass(frozen=True)
class Backend:
    pod: str
    host: str
    port: int


def service_slices(client, namespace, service):
    """The EndpointSlices the EndpointSlice controller keeps for a Service."""
    return client.list(
        "EndpointSlice", namespace, label_selector=f"kubernetes.io/service-name={service}"
    )


def backends_from_slices(slices):
    """Ready endpoints of a Service's EndpointSlices, one Backend per address and port.

    ``ready`` is what kube-proxy sends new connections to: serving and not terminating
    (a missing condition counts as ready, as the API defines it).
    """
    found = []
    for endpoint_slice in slices or []:
        ports = [p["port"] for p in endpoint_slice.get("ports") or [] if p.get("port")]
        for endpoint in endpoint_slice.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            for address in endpoint.get("addresses") or []:
                pod = (endpoint.get("targetRef") or {}).get("name", address)
                found += [Backend(pod, address, port) for port in ports]
    return sorted(found, key=lambda b: (b.pod, b.port))


class RoundRobin:
    """Cycles through a track's backends; replacing the list restarts the cycle."""

    def __init__(self):
        self._lock = threading.Lock()
        self._backends = ()
        self._cycle = iter(())

    def update(self, backends):
        backends = tuple(backends)
        with self._lock:
            if backends != self._backends:
                self._backends = backends
                self._cycle = itertools.cycle(backends)

    def __len__(self):
        return len(self._backends)

    def next(self):
        with self._lock:
            return next(self._cycle, None)
