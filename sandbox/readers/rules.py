"""What a reader hands the router: ``TrafficRules``, and the route table some of them carry.

A route table is the object's routing rules in the order the real controller tries them
(Gateway API precedence, ingress-nginx's header > cookie > weight, Istio's list order):
the first ``Route`` whose conditions all hold decides, sending ``share`` % of its users
(by the sticky bucket) to the canary, or answering ``status`` when the object routes the
request nowhere.
"""

import dataclasses
import re
import urllib.parse

DEFAULT_HEADER = "X-Canary"
STABLE, CANARY = "stable", "canary"
# Sources a user controls per request: a route selecting on them forces a track, so a
# canary chosen that way without a ready backend is refused rather than served by stable.
FORCING_SOURCES = ("header", "cookie", "query")


class Invalid(ValueError):
    """The object is not one the real controller would accept; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Request:
    """The parts of an HTTP request routing rules look at; header names in lower case."""

    method: str = "GET"
    path: str = "/"
    query: dict = dataclasses.field(default_factory=dict)
    headers: dict = dataclasses.field(default_factory=dict)
    cookies: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_http(cls, method, target, header_items):
        """From the request line's method and target and the header (name, value) pairs."""
        parts = urllib.parse.urlsplit(target)
        query = {}
        for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(name, value)
        headers = {}
        for name, value in header_items:
            headers.setdefault(name.lower(), value)
        return cls(method, parts.path or "/", query, headers, parse_cookies(headers.get("cookie")))


def parse_cookies(header):
    """Cookie pairs as nginx reads them: lenient, the first of a repeated name wins."""
    cookies = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            cookies.setdefault(name.strip(), value.strip())
    return cookies


@dataclasses.dataclass(frozen=True)
class Condition:
    """One test of a request.

    ``source``: header, cookie, query, path or method. ``op``: exact, prefix (of the
    text), segments (a path prefix by whole path elements, as Gateway API PathPrefix and
    Ingress Prefix), regex (the whole value, RE2 style), search (anywhere in the value, as
    ingress-nginx's PCRE match) or present. ``negate`` holds when the test does not.
    """

    source: str
    op: str
    value: str = ""
    name: str = ""
    negate: bool = False
    pattern: re.Pattern = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.op in ("regex", "search"):
            try:
                object.__setattr__(self, "pattern", re.compile(self.value))
            except re.error as error:
                raise Invalid(f"regular expression {self.value!r}: {error}") from None

    def holds(self, request):
        return self._test(request) != self.negate

    def _test(self, request):
        if self.source == "path":
            actual = request.path
        elif self.source == "method":
            actual = request.method
        else:
            table = {"header": request.headers, "cookie": request.cookies, "query": request.query}
            actual = table[self.source].get(self.name)
        if actual is None:
            return False
        if self.op == "exact":
            return actual == self.value
        if self.op == "prefix":
            return actual.startswith(self.value)
        if self.op == "segments":
            base = self.value.rstrip("/")
            return not base or actual == base or actual.startswith(base + "/")
        if self.op == "regex":
            return self.pattern.fullmatch(actual) is not None
        if self.op == "search":
            return self.pattern.search(actual) is not None
        return True  # present


@dataclasses.dataclass(frozen=True)
class Route:
    """Requests meeting every condition go ``share`` % to the canary, or get ``status``."""

    name: str
    conditions: tuple = ()
    share: float = 0.0
    status: int = 0

    def matches(self, request):
        return all(condition.holds(request) for condition in self.conditions)

    @property
    def forced(self):
        return any(condition.source in FORCING_SOURCES for condition in self.conditions)


@dataclasses.dataclass(frozen=True)
class TrafficRules:
    """What the router applies, read from one traffic object.

    ``weight`` is the canary's share of plain requests (what ``/state`` and
    ``router_canary_weight`` report). Without ``routes``, ``sandbox.routing`` decides each
    request from the weight, ``canary_header`` and ``targeting`` (the ConfigMap's
    published targeting spec, or None). With ``routes``, the first matching route
    decides. ``replicas``: no router rules at all, requests spread over ``pods`` (the
    ready endpoints of the Service selecting both tracks; a missing Service: all to stable).
    ``problem`` is logged once; a reader that cannot trust its object returns
    ``fail_closed``.
    """

    weight: float = 0
    canary_header: str = DEFAULT_HEADER
    problem: str = ""
    targeting: dict = None
    routes: tuple = ()
    replicas: bool = False
    pods: tuple = ()

    @property
    def mode(self):
        if self.replicas:
            return "replicas"
        return "routes" if self.routes else "weight"


def fail_closed(problem):
    """Every request to stable, nothing forced: what a broken traffic object earns."""
    return TrafficRules(0, "", problem, routes=(Route("fail closed: everything to stable"),))


def first_match(routes, request):
    return next((route for route in routes if route.matches(request)), None)


def table_rules(routes, problem=""):
    """Rules from a route table; the weight is the share a plain ``GET /`` gets."""
    plain = first_match(routes, Request())
    weight = percentage(plain.share) if plain is not None and not plain.status else 0
    forcing = next(
        (
            c.name
            for route in routes
            if route.share >= 100
            for c in route.conditions
            if c.source == "header"
        ),
        "",
    )
    return TrafficRules(weight, forcing, problem, routes=tuple(routes))


def percentage(share):
    """A share for people to read: whole numbers as such, else two decimals."""
    rounded = round(share, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def parse_weight(raw):
    """Return (weight, problem): an int in 0..100, or 0 with the reason it was refused."""
    text = str(raw).strip() if raw is not None else ""
    try:
        weight = int(text)
    except ValueError:
        return 0, f"canary weight {raw!r} is not an integer; using 0"
    if not 0 <= weight <= 100:
        return 0, f"canary weight {weight} is outside 0..100; using 0"
    return weight, ""


class Tracks:
    """Which of the router's two backends a Service reference names."""

    def __init__(self, backends):
        self.services = {
            (target["namespace"], target["service"]): track for track, target in backends.items()
        }

    def of(self, namespace, name):
        return self.services.get((namespace, name))

    def share(self, weights, field):
        """Canary share (0..100) of ``[(namespace, name, weight)]``; Invalid when unknown."""
        totals = {STABLE: 0, CANARY: 0}
        for namespace, name, weight in weights:
            track = self.of(namespace, name)
            if track is None:
                known = ", ".join(f"{ns}/{svc}" for ns, svc in sorted(self.services))
                raise Invalid(
                    f"{field} names Service {namespace}/{name}, "
                    f"which is neither of the router's backends ({known})"
                )
            totals[track] += weight
        total = totals[STABLE] + totals[CANARY]
        return None if total == 0 else 100.0 * totals[CANARY] / total


def as_list(value, field):
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(f"{field} must be a list")
    return value


def as_dict(value, field):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{field} must be a mapping")
    return value


def as_weight(value, field, default, highest=None):
    """An integer weight, at least 0 and at most ``highest`` when given."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{field} must be an integer, not {value!r}")
    if value < 0 or (highest is not None and value > highest):
        bound = f"0..{highest}" if highest is not None else "at least 0"
        raise Invalid(f"{field} is {value}, outside {bound}")
    return value
