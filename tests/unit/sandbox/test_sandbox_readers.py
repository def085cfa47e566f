"""The router's readers: each traffic object read as its real controller applies it."""

import copy
import json
import pathlib

import pytest
import yaml

from sandbox import traffic
from sandbox.readers.rules import Condition, Invalid, Request, first_match

MANIFESTS = pathlib.Path(__file__).resolve().parents[3] / "sandbox" / "manifests"
NS, CANARY_NS = "yyc3-short-drama", "yyc3-short-drama-canary"
CANARY_HOST = f"frontend-canary.{CANARY_NS}.svc.cluster.local"


class FakeClient:
    def __init__(self, *objects):
        self.objects = {}
        for obj in objects:
            meta = obj["metadata"]
            self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = obj

    def get(self, kind, namespace, name):
        return copy.deepcopy(self.objects.get((kind, namespace, name)))

    def list(self, kind, namespace=None, label_selector=None):
        """As the API server lists: ``label_selector`` of ``key=value`` terms only."""
        wanted = dict(term.split("=", 1) for term in (label_selector or "").split(",") if term)
        return [
            copy.deepcopy(obj)
            for (k, ns, _), obj in self.objects.items()
            if k == kind
            and namespace in (None, ns)
            and wanted.items() <= (obj["metadata"].get("labels") or {}).items()
        ]


def seed(kind):
    """The seeded object of ``kind`` from sandbox/manifests/providers/."""
    for path in sorted((MANIFESTS / "providers").glob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            if obj and obj["kind"] == kind:
                return obj
    raise LookupError(kind)


def read(provider, *objects, backends=None):
    return traffic.make_reader({"provider": provider}, backends).read(FakeClient(*objects))


def track_share(rules, headers=None, path="/", cookies=None):
    """The canary share (or the status) the table gives one request."""
    request = Request("GET", path, {}, {k.lower(): v for k, v in (headers or {}).items()})
    if cookies:
        request = Request("GET", path, {}, request.headers, cookies)
    route = first_match(rules.routes, request)
    if route is None:
        return 404
    return f"status {route.status}" if route.status else route.share


# --- ConfigMap -----------------------------------------------------------------------------


def configmap(**data):
    return {
        "kind": "ConfigMap",
        "metadata": {"namespace": NS, "name": "traffic-config"},
        "data": data,
    }


def test_configmap_hands_over_the_published_targeting_spec():
    spec = {"rules": [{"name": "forced", "header": "X-Canary"}, {"name": "all", "share": "stage"}]}
    rules = read("configmap", configmap(canary_percentage="20", targeting=json.dumps(spec)))
    assert (rules.weight, rules.targeting, rules.problem, rules.mode) == (20, spec, "", "weight")
    assert read("configmap", configmap(canary_percentage="20")).targeting is None


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"'])
def test_configmap_with_a_garbled_targeting_spec_fails_closed(raw):
    rules = read("configmap", configmap(canary_percentage="20", targeting=raw))
    assert (rules.weight, rules.targeting) == (0, None)
    assert "key targeting is not a JSON object" in rules.problem


# --- Gateway API HTTPRoute -----------------------------------------------------------------


def httproute(*rules, parents=({"name": "frontend-gateway"},)):
    return {
        "kind": "HTTPRoute",
        "metadata": {"namespace": NS, "name": "frontend"},
        "spec": {"parentRefs": list(parents), "rules": list(rules)},
    }


STABLE_REF = {"name": "frontend", "port": 80}
CANARY_REF = {"name": "frontend-canary", "namespace": CANARY_NS, "port": 80}


def forced_rule(value, ref, header="X-Canary"):
    match = {"path": {"type": "PathPrefix", "value": "/"}}
    match["headers"] = [{"name": header, "type": "Exact", "value": value}]
    return {"matches": [match], "backendRefs": [{**ref, "weight": 1}]}


def test_the_seeded_httproute_sends_everyone_to_stable():
    rules = read("gateway_api", seed("HTTPRoute"))
    assert (rules.weight, rules.problem, rules.mode) == (0, "", "routes")
    assert track_share(rules, {"X-Canary": "always"}) == 0


def test_httproute_weights_and_header_matches_that_outrank_the_traffic_rule():
    weighted = {"backendRefs": [{**STABLE_REF, "weight": 80}, {**CANARY_REF, "weight": 20}]}
    route = httproute(weighted, forced_rule("always", CANARY_REF), forced_rule("never", STABLE_REF))
    rules = read("gateway_api", route)
    assert (rules.weight, rules.canary_header, rules.problem) == (20, "x-canary", "")
    # More header matches win although the forced rules come last in the list.
    assert track_share(rules, {"X-Canary": "always"}) == 100
    assert track_share(rules, {"x-canary": "never"}) == 0
    assert track_share(rules, {"X-Canary": "Always"}) == 20  # header values are exact


def test_httproute_weights_are_relative_and_all_zero_answers_500():
    uneven = {"backendRefs": [{**STABLE_REF, "weight": 3}, {**CANARY_REF}]}
    assert read("gateway_api", httproute(uneven)).weight == 25
    zero = {"backendRefs": [{**STABLE_REF, "weight": 0}, {**CANARY_REF, "weight": 0}]}
    rules = read("gateway_api", httproute(zero))
    assert (rules.weight, track_share(rules)) == (0, "status 500")


def test_httproute_exact_path_beats_the_longest_prefix_which_beats_a_shorter_one():
    def rule(kind, value, ref):
        return {"matches": [{"path": {"type": kind, "value": value}}], "backendRefs": [ref]}

    route = httproute(
        rule("PathPrefix", "/", STABLE_REF),
        rule("PathPrefix", "/api", CANARY_REF),
        rule("Exact", "/api/health", STABLE_REF),
    )
    rules = read("gateway_api", route)
    assert track_share(rules, path="/api/content/list") == 100
    assert track_share(rules, path="/api/health") == 0
    assert track_share(rules, path="/apiary") == 0  # a prefix matches whole path elements


def test_httproute_that_matches_nothing_answers_404():
    only_api = {
        "matches": [{"path": {"type": "Exact", "value": "/api"}}],
        "backendRefs": [STABLE_REF],
    }
    assert track_share(read("gateway_api", httproute(only_api)), path="/other") == 404


@pytest.mark.parametrize(
    ("route", "problem"),
    [
        (httproute({"backendRefs": [STABLE_REF]}, parents=()), "does not name Gateway"),
        (httproute({"backendRefs": [{"name": "other"}]}), "spec.rules[0].backendRefs names"),
        (httproute({"backendRefs": [{**STABLE_REF, "weight": -1}]}), "weight is -1"),
        (httproute({"backendRefs": [{"kind": "Bucket", "name": "x"}]}), "not a core Service"),
        (httproute(), "spec.rules is empty"),
        (
            httproute(
                {
                    "matches": [
                        {"headers": [{"type": "RegularExpression", "name": "a", "value": "("}]}
                    ],
                    "backendRefs": [STABLE_REF],
                }
            ),
            "regular expression",
        ),
    ],
)
def test_a_broken_httproute_fails_closed_naming_the_field(route, problem):
    rules = read("gateway_api", route)
    assert problem in rules.problem
    assert rules.weight == 0
    assert {track_share(rules, {"X-Canary": "always"}), track_share(rules)} == {0}


def test_a_missing_object_fails_closed_for_every_provider():
    for provider in ("gateway_api", "ingress_nginx", "istio", "openshift_route"):
        rules = read(provider)
        assert "not found" in rules.problem
        assert (rules.weight, track_share(rules, {"X-Canary": "always"})) == (0, 0)


# --- ingress-nginx -------------------------------------------------------------------------


def canary_ingress(
    name="frontend-canary", namespace=CANARY_NS, created="2026-01-01T00:00:00Z", **notes
):
    ingress = copy.deepcopy(seed("Ingress"))
    ingress["metadata"] = {
        "name": name,
        "namespace": namespace,
        "creationTimestamp": created,
        "annotations": {
            "nginx.ingress.kubernetes.io/canary": "true",
            **{f"nginx.ingress.kubernetes.io/{k.replace('_', '-')}": v for k, v in notes.items()},
        },
    }
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    path["backend"]["service"]["name"] = "frontend-canary"
    return ingress


def test_without_a_canary_ingress_everyone_goes_to_stable():
    rules = read("ingress_nginx", seed("Ingress"))
    assert (rules.weight, rules.problem, track_share(rules, {"X-Canary": "always"})) == (0, "", 0)


def test_ingress_nginx_precedence_is_header_then_cookie_then_weight():
    canary = canary_ingress(
        canary_by_header="X-Canary", canary_by_cookie="canary", canary_weight="20"
    )
    rules = read("ingress_nginx", seed("Ingress"), canary)
    assert (rules.weight, rules.problem) == (20, "")
    assert track_share(rules, {"X-Canary": "always"}, cookies={"canary": "never"}) == 100
    assert track_share(rules, {"X-Canary": "never"}, cookies={"canary": "always"}) == 0
    assert track_share(rules, {"X-Canary": "maybe"}, cookies={"canary": "always"}) == 100
    assert track_share(rules, {"X-Canary": "Always"}) == 20  # compared as sent
    assert track_share(rules, cookies={"canary": "never"}) == 0


def test_ingress_nginx_header_value_then_pattern_replace_always_and_never():
    by_value = canary_ingress(
        canary_by_header="X-Beta", canary_by_header_value="yes", canary_by_header_pattern="^n"
    )
    rules = read("ingress_nginx", seed("Ingress"), by_value)
    assert track_share(rules, {"X-Beta": "yes"}) == 100
    assert track_share(rules, {"X-Beta": "no"}) == 0  # the pattern is ignored
    assert track_share(rules, {"X-Beta": "always"}) == 0  # falls through to weight 0
    by_pattern = canary_ingress(canary_by_header="X-Beta", canary_by_header_pattern="beta|rc")
    assert (
        track_share(read("ingress_nginx", seed("Ingress"), by_pattern), {"X-Beta": "my-rc1"}) == 100
    )


@pytest.mark.parametrize(
    ("weight", "total", "share"),
    [("5", None, 5), ("55", "1000", 5.5), ("30", "50", 30), ("300", None, 100)],
)
def test_ingress_nginx_weight_total_counts_only_above_100(weight, total, share):
    notes = {"canary_weight": weight} | ({"canary_weight_total": total} if total else {})
    assert read("ingress_nginx", seed("Ingress"), canary_ingress(**notes)).weight == share


def test_ingress_nginx_uses_the_oldest_canary_of_a_location_and_says_so():
    old = canary_ingress(canary_weight="10", created="2026-01-01T00:00:00Z")
    new = canary_ingress(name="second", canary_weight="90", created="2026-02-01T00:00:00Z")
    rules = read("ingress_nginx", seed("Ingress"), new, old)
    assert rules.weight == 10
    assert "one canary per location" in rules.problem
    assert f"ignored: {CANARY_NS}/second" in rules.problem


def test_ingress_nginx_ignores_canaries_of_another_class_path_or_not_enabled():
    other_class = canary_ingress(canary_weight="50")
    other_class["spec"]["ingressClassName"] = "traefik"
    other_path = canary_ingress(canary_weight="50")
    other_path["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/api"
    disabled = canary_ingress(canary_weight="50")
    disabled["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"] = "false"
    for canary in (other_class, other_path, disabled):
        assert read("ingress_nginx", seed("Ingress"), canary).weight == 0


def test_ingress_nginx_invalid_weight_counts_as_zero_and_is_reported():
    rules = read("ingress_nginx", seed("Ingress"), canary_ingress(canary_weight="ten"))
    assert rules.weight == 0
    assert "canary-weight 'ten' is invalid" in rules.problem


def test_a_canary_ingress_sending_elsewhere_fails_closed():
    stray = canary_ingress(canary_by_header="X-Canary")
    stray["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "frontend"
    rules = read("ingress_nginx", seed("Ingress"), stray)
    assert "not to the canary Service" in rules.problem
    assert track_share(rules, {"X-Canary": "always"}) == 0


# --- Istio VirtualService ------------------------------------------------------------------


def virtualservice(*http):
    return {
        "kind": "VirtualService",
        "metadata": {"namespace": NS, "name": "frontend"},
        "spec": {"http": list(http)},
    }


def destination(host, weight=None):
    return {"destination": {"host": host}} | ({} if weight is None else {"weight": weight})


def test_virtualservice_first_match_wins_in_list_order():
    vs = virtualservice(
        {
            "match": [{"headers": {"x-canary": {"exact": "always"}}}],
            "route": [destination(CANARY_HOST)],
        },
        {
            "match": [{"headers": {"x-canary": {"exact": "never"}}}],
            "route": [destination("frontend")],
        },
        {"route": [destination("frontend", 95), destination(CANARY_HOST, 5)]},
    )
    rules = read("istio", vs)
    assert (rules.weight, rules.problem) == (5, "")
    assert track_share(rules, {"X-Canary": "always"}) == 100
    assert track_share(rules, {"X-Canary": "never"}) == 0


def test_virtualservice_string_matches_and_without_headers():
    vs = virtualservice(
        {
            "match": [{"headers": {"cookie": {"regex": "^(.*; )?canary=always(;.*)?$"}}}],
            "route": [destination(CANARY_HOST)],
        },
        {
            "match": [{"uri": {"prefix": "/api/ai"}, "withoutHeaders": {"x-user-id": {}}}],
            "route": [destination(CANARY_HOST)],
        },
        {"route": [destination("frontend")]},
    )
    rules = read("istio", vs)
    assert track_share(rules, {"Cookie": "a=1; canary=always"}) == 100
    assert track_share(rules, {"Cookie": "canary=alwaysnot"}) == 0
    assert track_share(rules, path="/api/ai/generate") == 100
    assert track_share(rules, {"X-User-Id": "u"}, path="/api/ai/generate") == 0


@pytest.mark.parametrize(
    ("http", "problem"),
    [
        ({"route": [destination("frontend", 0), destination(CANARY_HOST, 0)]}, "add up to 0"),
        ({"route": [destination("frontend.yyc3-short-drama")]}, "neither a short Service name"),
        (
            {"route": [{"destination": {"host": "frontend", "subset": "v2"}}]},
            "subset is not modelled",
        ),
        (
            {"match": [{"sourceLabels": {"app": "x"}}], "route": [destination("frontend")]},
            "sourceLabels is not modelled",
        ),
        (
            {"match": [{"uri": {"exact": "/", "prefix": "/"}}], "route": [destination("frontend")]},
            "must hold one of",
        ),
    ],
)
def test_a_broken_virtualservice_fails_closed_naming_the_field(http, problem):
    rules = read("istio", virtualservice(http))
    assert problem in rules.problem
    assert rules.weight == 0


def test_virtualservice_direct_response():
    rules = read("istio", virtualservice({"directResponse": {"status": 503}}))
    assert track_share(rules) == "status 503"


# --- OpenShift Route -----------------------------------------------------------------------


def route(to_weight, *alternates, **spec):
    body = {"to": {"kind": "Service", "name": "frontend", "weight": to_weight}, **spec}
    if alternates:
        body["alternateBackends"] = [
            {"kind": "Service", "name": n, "weight": w} for n, w in alternates
        ]
    return {"kind": "Route", "metadata": {"namespace": NS, "name": "frontend"}, "spec": body}


# A Route reaches Services of its own namespace only: here the canary Service lives there.
SAME_NAMESPACE = {
    "stable": {"namespace": NS, "service": "frontend"},
    "canary": {"namespace": NS, "service": "frontend-canary"},
}


def read_route(obj):
    return read("openshift_route", obj, backends=SAME_NAMESPACE)


def test_route_weights_are_shares_of_their_sum_on_the_0_256_scale():
    assert read_route(route(None)).weight == 0
    assert read_route(route(240, ("frontend-canary", 16))).weight == 6.25
    assert read_route(route(0, ("frontend-canary", 256))).weight == 100
    rules = read_route(route(95, ("frontend-canary", 5)))
    assert (rules.weight, rules.canary_header) == (5, "")
    assert track_share(rules, {"X-Canary": "always"}) == 5  # nothing forces a track


def test_route_with_every_weight_zero_answers_503_and_path_limits_it():
    assert track_share(read_route(route(0, ("frontend-canary", 0)))) == "status 503"
    rules = read_route(route(100, path="/api"))
    assert (track_share(rules, path="/api/health"), track_share(rules, path="/")) == (0, 404)


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        (route(257), "spec.to.weight is 257, outside 0..256"),
        (route(1, *[("frontend-canary", 1)] * 4), "at most 3"),
        (route(1, ("frontend-canary", 1)), "names Service yyc3-short-drama/frontend-canary"),
    ],
)
def test_a_broken_route_fails_closed(obj, problem):
    rules = read("openshift_route", obj)
    assert problem in rules.problem
    assert rules.weight == 0


# --- the rest ------------------------------------------------------------------------------


def test_replicas_reads_the_pods_of_the_service_selecting_both_tracks():
    service = {"kind": "Service", "metadata": {"namespace": NS, "name": "frontend-all"}}

    def endpoint_slice(name, service, pod, port, ready):
        """One slice per pod, as each pod listens on its own port; ``ready`` may be unset."""
        conditions = {} if ready is None else {"ready": ready}
        return {
            "kind": "EndpointSlice",
            "metadata": {
                "namespace": NS,
                "name": name,
                "labels": {"kubernetes.io/service-name": service},
            },
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": ["10.244.0.2"],
                    "conditions": conditions,
                    "targetRef": {"kind": "Pod", "name": pod},
                }
            ],
            "ports": [{"port": port}],
        }

    slices = [
        endpoint_slice("frontend-all-a", "frontend-all", "stable-a", 1001, True),
        endpoint_slice("frontend-all-b", "frontend-all", "canary-a", 1002, None),
        endpoint_slice("frontend-all-c", "frontend-all", "stable-b", 1003, False),
        endpoint_slice("frontend-x", "frontend", "stable-c", 1004, True),
    ]
    reader = traffic.make_reader({"provider": "replicas", "replicas": {"service": "frontend-all"}})
    rules = reader.read(FakeClient(service, *slices))
    assert (rules.mode, rules.problem, rules.canary_header) == ("replicas", "", "")
    # Not ready is left out, no condition counts as ready, another Service's slice is not read.
    assert [(pod.pod, pod.port) for pod in rules.pods] == [("canary-a", 1002), ("stable-a", 1001)]
    missing = reader.read(FakeClient(*slices))
    assert (missing.pods, missing.mode) == ((), "replicas")
    assert (
        "Service yyc3-short-drama/frontend-all (the one selecting both tracks) not found"
        in missing.problem
    )


def test_conditions():
    request = Request.from_http(
        "POST", "/api/x?user=7&user=8", [("X-Canary", "always"), ("Cookie", "a=1; bad; b = 2 ")]
    )
    assert request.query == {"user": "7"} and request.cookies == {"a": "1", "b": "2"}
    assert Condition("header", "exact", "always", "x-canary").holds(request)
    assert Condition("header", "present", "", "x-other", negate=True).holds(request)
    assert Condition("query", "regex", "[0-9]", "user").holds(request)
    assert not Condition("query", "regex", "[0-9]", "missing").holds(request)
    assert Condition("path", "segments", "/api/").holds(request)
    assert not Condition("path", "segments", "/ap").holds(request)
    assert Condition("path", "prefix", "/ap").holds(request)
    assert Condition("method", "exact", "POST").holds(request)
    assert Condition("cookie", "search", "^2$", "b").holds(request)
    with pytest.raises(Invalid, match="regular expression"):
        Condition("header", "regex", "(", "a")
