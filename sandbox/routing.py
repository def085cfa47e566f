"""The router's per-request decision: which track, and which backend of that track.

Semantics follow ingress-nginx canary-by-header: ``always`` forces the canary,
``never`` forces stable, any other value falls through to the weight. The weight is
applied with the project's own sticky bucketing (``module_utils/bucketing.py``), so a
user who saw the canary at 5 % still sees it at 20 %, as in the playbooks.
"""

import dataclasses
import http.cookies
import importlib.util
import itertools
import pathlib
import threading
import uuid

_BUCKETING_PATH = pathlib.Path(__file__).resolve().parent.parent / "module_utils" / "bucketing.py"
_spec = importlib.util.spec_from_file_location("canary_bucketing", _BUCKETING_PATH)
bucketing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bucketing)

STABLE, CANARY = "stable", "canary"


@dataclasses.dataclass(frozen=True)
class Choice:
    """The track to serve from, or the status to answer with when that is impossible."""

    track: str
    status: int = 0


def user_id(headers, cookie_header):
    """``X-User-Id``, else cookie ``user_id``, else a fresh random id (pure weight split)."""
    explicit = (headers.get("X-User-Id") or "").strip()
    if explicit:
        return explicit
    if cookie_header:
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(cookie_header)
        except http.cookies.CookieError:
            cookies = {}
        if "user_id" in cookies and cookies["user_id"].value:
            return cookies["user_id"].value
    return uuid.uuid4().hex


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


@dataclasses.dataclass(frozen=True)
class Backend:
    pod: str
    host: str
    port: int


def backends_from_endpoints(endpoints):
    """Ready addresses of an Endpoints object, one Backend per address and port."""
    found = []
    for subset in (endpoints or {}).get("subsets") or []:
        for address in subset.get("addresses") or []:
            pod = (address.get("targetRef") or {}).get("name", address["ip"])
            found += [Backend(pod, address["ip"], p["port"]) for p in subset.get("ports") or []]
    return found


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
