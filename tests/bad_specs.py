"""Bad release specs, each with the field its error must name.

Shared by the unit tests (module_utils.spec) and the integration tests, which
run every playbook with each of them and check the cluster was left untouched.
Each case is ``(id, change, field)``: ``change`` is a dict merged into the good
spec (lists replaced whole) and ``field`` a text the error message must contain.
"""

import copy


class Unsafe(str):
    """Text Ansible must pass through untemplated (written as ``!unsafe`` in YAML)."""


GOOD_SPEC = {
    "service": "frontend",
    "namespace": "yyc3-short-drama",
    "canary_namespace": "yyc3-short-drama-canary",
    "image": "yyc3/short-drama-frontend:1.1.0",
    "workload": {"kind": "Deployment", "name": "frontend-deployment", "container": "frontend"},
    "traffic": {
        "provider": "configmap",
        "configmap": {"name": "traffic-config", "key": "canary_percentage"},
    },
    "stages": [
        {"weight": 5, "replicas": 1, "bake": "10s"},
        {"weight": 20, "replicas": 1, "bake": "10s"},
        {"weight": 50, "replicas": 2, "bake": "10s"},
        {"weight": 100, "replicas": 2, "bake": "10s"},
    ],
    "analysis": {
        "prometheus": {"url": "http://127.0.0.1:19090", "timeout": "2s"},
        "interval": "2s",
        "failure_limit": 2,
        "window": "10s",
    },
    "validation": {"url": "http://127.0.0.1:18080"},
}

BAD_SPECS = [
    ("weight-above-100", {"stages": [{"weight": 5}, {"weight": 120}]}, "canary.stages[1].weight"),
    ("weight-negative", {"stages": [{"weight": -5}, {"weight": 20}]}, "canary.stages[0].weight"),
    (
        "stages-not-increasing",
        {"stages": [{"weight": 20}, {"weight": 5}]},
        "canary.stages[1].weight: must be greater than",
    ),
    ("stages-repeated-weight", {"stages": [{"weight": 20}, {"weight": 20}]}, "canary.stages[1]"),
    (
        "weight-boolean",
        {"stages": [{"weight": True}, {"weight": 20}]},
        "canary.stages[0].weight: expected an integer, got True",
    ),
    (
        "bake-nan",
        {"stages": [{"weight": 5, "bake": float("nan")}]},
        "canary.stages[0].bake: must be a finite number of seconds",
    ),
    (
        "threshold-infinite",
        {"analysis": {"checks": [{"name": "errors", "type": "error_rate", "max": float("inf")}]}},
        "canary.analysis.checks[0].max: must be a finite number",
    ),
    (
        "malformed-image",
        {"image": "yyc3/front end:💥;x"},
        "canary.image: 'yyc3/front end:💥;x' has no valid image name",
    ),
    ("no-stages", {"stages": []}, "canary.stages"),
    ("unknown-provider", {"traffic": {"provider": "haproxy"}}, "provider"),
    ("missing-namespace", {"namespace": None}, "namespace"),
    ("bad-namespace-name", {"namespace": "Not_A_Label"}, "canary.namespace"),
    ("missing-workload-name", {"workload": {"name": None}}, "name"),
    (
        "malformed-prometheus-url",
        {"analysis": {"prometheus": {"url": "prometheus:9090"}}},
        "canary.analysis.prometheus.url",
    ),
    ("malformed-validation-url", {"validation": {"url": "ftp://x"}}, "canary.validation.url"),
    (
        "negative-bake",
        {"stages": [{"weight": 5, "bake": "-10s"}, {"weight": 20}]},
        "canary.stages[0].bake",
    ),
    ("malformed-bake", {"stages": [{"weight": 5, "bake": "ten minutes"}]}, "canary.stages[0].bake"),
    ("zero-interval", {"analysis": {"interval": 0}}, "canary.analysis.interval"),
    (
        "negative-initial-delay",
        {"analysis": {"initial_delay": -1}},
        "canary.analysis.initial_delay",
    ),
    ("failure-limit-zero", {"analysis": {"failure_limit": 0}}, "canary.analysis.failure_limit"),
    ("bad-window", {"analysis": {"window": "5 minutes"}}, "canary.analysis.window"),
    (
        "check-without-bound",
        {"analysis": {"checks": [{"name": "errors", "type": "error_rate"}]}},
        "canary.analysis.checks[0]",
    ),
    (
        "promql-without-query",
        {"analysis": {"checks": [{"name": "custom", "type": "promql", "max": 1}]}},
        "canary.analysis.checks[0].query",
    ),
    (
        "latency-quantile-out-of-range",
        {"analysis": {"checks": [{"name": "p", "type": "latency", "quantile": 99, "max": 2}]}},
        "canary.analysis.checks[0].quantile",
    ),
    (
        "unknown-severity",
        {"analysis": {"checks": [{"name": "e", "type": "error_rate", "max": 1, "severity": "x"}]}},
        "severity",
    ),
    ("unknown-no-data-policy", {"analysis": {"no_data": "skip"}}, "no_data"),
    ("success-limit-zero", {"analysis": {"success_limit": 0}}, "canary.analysis.success_limit"),
    (
        "undefined-query-variable",
        {
            "analysis": {
                "checks": [
                    {"name": "q", "type": "promql", "query": Unsafe("x{{ tier }}"), "max": 1}
                ]
            }
        },
        "canary.analysis.checks[0].query: cannot render: 'tier' is undefined",
    ),
    (
        "baseline-scores-reversed",
        {
            "analysis": {
                "baseline": {
                    "pass_score": 70,
                    "metrics": [{"name": "e", "type": "error_rate"}],
                }
            }
        },
        "canary.analysis.baseline.marginal_score",
    ),
    ("replicas-zero", {"stages": [{"weight": 5, "replicas": 0}]}, "canary.stages[0].replicas"),
    ("unknown-field", {"workload": {"name": "frontend-deployment", "replica": 3}}, "replica"),
    ("negative-lock-ttl", {"lock_ttl": "-1m"}, "canary.lock_ttl"),
    (
        "canary-service-name-too-long",
        {"workload": {"name": "frontend-deployment", "service": "s" * 60}},
        "canary.workload.service: the canary Service name",
    ),
]

# Cases whose spec is well formed but names objects the cluster does not have.
MISSING_OBJECTS = [
    ("namespace-does-not-exist", {"namespace": "no-such-namespace"}, "canary.namespace"),
    (
        "workload-does-not-exist",
        {"workload": {"kind": "Deployment", "name": "no-such-deployment"}},
        "canary.workload.name",
    ),
    (
        "traffic-object-does-not-exist",
        {"traffic": {"provider": "configmap", "configmap": {"name": "no-such-config"}}},
        "canary.traffic",
    ),
]


def merged(change, base=None):
    """The good spec with ``change`` merged in (dicts deep, lists and None replace)."""
    spec = copy.deepcopy(base if base is not None else GOOD_SPEC)
    for key, value in change.items():
        if value is None:
            spec.pop(key, None)
        elif isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = merged(value, spec[key])
        else:
            spec[key] = copy.deepcopy(value)
    return spec
