"""The release spec: its shape, its defaults and the rules no type check can express.

``RELEASE_SPEC`` is an Ansible argument spec, so Ansible itself checks types,
choices, required fields and unknown keys, and fills the plain defaults. On top
of that ``cross_check`` enforces ranges and relations (weights 0-100 and
strictly increasing, non-negative durations, URLs, failure limit >= 1, object names,
given or derived, that the API server accepts for their kinds) and
``complete`` fills the defaults that depend on other fields. Every error names
its field as ``canary.<path>``; nothing in the cluster is touched before the
spec passes.
"""

import copy
from typing import NamedTuple

from ansible.module_utils.analysis.spec import (
    ANALYSIS_ARGUMENT_SPEC,
    AnalysisSpecError,
    is_http_url,
    validate_analysis,
)
from ansible.module_utils.argspec import validated
from ansible.module_utils.durations import DurationError, parse_duration
from ansible.module_utils.names import DNS1123_LABEL, image_problem
from ansible.module_utils.names import problem as name_problem
from ansible.module_utils.notify.spec import ARGUMENT_SPEC as NOTIFICATIONS_SPEC
from ansible.module_utils.notify.spec import check_notifications
from ansible.module_utils.targeting import normalize, provider_problems
from ansible.module_utils.targeting import validate as validate_targeting
from ansible.module_utils.traffic import PROVIDERS, TrafficError
from ansible.module_utils.validation.journey import ROUTE_ARGUMENT_SPEC
from ansible.module_utils.validation.suite import problems as suite_problems
from ansible.module_utils.windows import ARGUMENT_SPEC as WINDOWS_SPEC
from ansible.module_utils.windows import check_windows
from ansible.module_utils.workload import referenced_objects

# The plan's three alert tiers, as far as request metrics can tell them apart. Resource
# and dependency alerts (CPU, memory, disk, cache, database) are canary_monitoring's.
DEFAULT_CHECKS = [
    {"name": "error_rate", "type": "error_rate", "max": 0.01},
    {"name": "latency_p99", "type": "latency", "quantile": 0.99, "max": 2.0},
    {"name": "availability", "type": "availability", "min": 0.99},
    {"name": "error_rate_important", "type": "error_rate", "max": 0.005, "severity": "important"},
    {
        "name": "latency_p99_important",
        "type": "latency",
        "quantile": 0.99,
        "max": 1.5,
        "severity": "important",
    },
    {"name": "error_rate_general", "type": "error_rate", "max": 0.001, "severity": "general"},
    {
        "name": "latency_p99_general",
        "type": "latency",
        "quantile": 0.99,
        "max": 1.0,
        "severity": "general",
    },
]

RELEASE_SPEC = {
    "service": {"type": "str", "required": True},
    "namespace": {"type": "str", "required": True},
    "canary_namespace": {"type": "str"},
    "image": {"type": "str", "default": ""},
    "workload": {
        "type": "dict",
        "required": True,
        "options": {
            "kind": {"type": "str", "default": "Deployment", "choices": ["Deployment"]},
            "name": {"type": "str", "required": True},
            "container": {"type": "str"},
            "service": {"type": "str"},
        },
    },
    "traffic": {
        "type": "dict",
        "required": True,
        "options": {
            "provider": {"type": "str", "required": True, "choices": sorted(PROVIDERS)},
            # Who sees the canary (module_utils/targeting.py checks the insides).
            "targeting": {"type": "dict"},
            **{
                name: {"type": "dict", "options": provider.OPTIONS}
                for name, provider in PROVIDERS.items()
            },
        },
    },
    "stages": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str"},
            "weight": {"type": "int", "required": True},
            "replicas": {"type": "int"},
            "bake": {"type": "raw", "default": 0},
        },
    },
    "analysis": {
        "type": "dict",
        "required": True,
        "options": {
            **ANALYSIS_ARGUMENT_SPEC,
            # Derived from the canary namespace when not given.
            "selector": {"type": "str"},
            # The plan's three checks when not given.
            "checks": {**ANALYSIS_ARGUMENT_SPEC["checks"], "required": False},
            "interval": {"type": "raw", "default": "60s"},
            "initial_delay": {"type": "raw", "default": 0},
            "failure_limit": {"type": "int", "default": 2},
            # Argo Rollouts' consecutiveErrorLimit default.
            "error_limit": {"type": "int", "default": 4},
            "success_limit": {"type": "int", "default": 1},
            "hold_timeout": {"type": "raw", "default": "10m"},
        },
    },
    "validation": {
        "type": "dict",
        "required": True,
        "options": {
            "url": {"type": "str", "required": True},
            "validate_certs": {"type": "bool", "default": True},
            "timeout": {"type": "raw", "default": 10},
            "canary_header": {"type": "str", "default": "X-Canary"},
            "health_path": {"type": "str", "default": "/api/health"},
            # How to reach each track instead of the forcing header: a cookie, or the
            # canary Service's own URL.
            "route": {
                "type": "dict",
                "default": {},
                "options": {
                    target: {"type": "dict", "options": ROUTE_ARGUMENT_SPEC}
                    for target in ("canary", "stable")
                },
            },
            # The suite (module_utils/validation/suite.py checks the insides).
            "journeys": {"type": "list", "elements": "dict", "default": []},
            "compare_stable": {"type": "bool", "default": True},
            "load": {"type": "dict"},
            "resources": {"type": "dict"},
            "security": {
                "type": "dict",
                "options": {
                    section: {"type": "dict"} for section in ("tls", "headers", "ports", "zap")
                },
            },
        },
    },
    "notifications": {"type": "dict", "default": {}, "options": NOTIFICATIONS_SPEC},
    # When a release may start (module_utils/windows.py); absent: at any time.
    "windows": {"type": "dict", "options": WINDOWS_SPEC},
    "ledger": {
        "type": "dict",
        "default": {},
        "options": {"name": {"type": "str"}, "namespace": {"type": "str"}},
    },
    "lock_ttl": {"type": "raw", "default": "10m"},
    "rollout_timeout": {"type": "raw", "default": "5m"},
    "rollback": {
        "type": "dict",
        "default": {},
        "options": {
            "canary": {
                "type": "str",
                "default": "scale_to_zero",
                "choices": ["scale_to_zero", "delete"],
            },
        },
    },
    "cleanup": {
        "type": "dict",
        "default": {},
        "options": {"delete_canary_namespace": {"type": "bool", "default": True}},
    },
}


def _url_problem(value):
    if is_http_url(value):
        return None
    return f"must be an http:// or https:// URL with a host and no query, got {value!r}"


class _Problems:
    """Collects errors, each naming its field."""

    def __init__(self):
        self.errors = []

    def add(self, field, message):
        self.errors.append(f"canary.{field}: {message}")

    def duration(self, spec, key, field, positive=False):
        """Return spec[key] parsed as seconds, or None after recording the problem."""
        try:
            seconds = parse_duration(spec[key])
        except DurationError as err:
            self.add(field, str(err))
            return None
        if positive and seconds <= 0:
            self.add(field, f"must be greater than zero, got {spec[key]!r}")
            return None
        return seconds


class _Name(NamedTuple):
    kind: str
    value: str
    field: str
    # What the release makes of the field ("the canary Service name"); None for the field's
    # own value.
    derived: str | None = None


def object_names(spec):
    """Every object name the spec gives or the release derives, each with its field.

    ``complete`` fills the spec from these and ``_check_names`` checks each against the
    rule of its kind, so a derived name is made in one place only.
    """
    workload, ledger = spec["workload"], spec["ledger"]
    service = workload.get("service") or spec["service"]
    service_field = "workload.service" if workload.get("service") else "service"
    names = {"namespace": _Name("Namespace", spec["namespace"], "namespace")}
    if spec.get("canary_namespace"):
        names["canary_namespace"] = _Name("Namespace", spec["canary_namespace"], "canary_namespace")
    else:
        names["canary_namespace"] = _Name(
            "Namespace", f"{spec['namespace']}-canary", "namespace", "the canary namespace"
        )
    if ledger.get("namespace"):
        names["ledger_namespace"] = _Name("Namespace", ledger["namespace"], "ledger.namespace")
    names["workload"] = _Name("Deployment", workload["name"], "workload.name")
    names["service"] = _Name("Service", service, service_field)
    names["canary_name"] = _Name(
        "Deployment", f"{workload['name']}-canary", "workload.name", "the canary Deployment name"
    )
    names["canary_service"] = _Name(
        "Service", f"{service}-canary", service_field, "the canary Service name"
    )
    if ledger.get("name"):
        names["ledger"] = _Name("ConfigMap", ledger["name"], "ledger.name")
    else:
        names["ledger"] = _Name(
            "ConfigMap",
            f"{spec['service']}-canary-ledger",
            "service",
            "the ledger ConfigMap name",
        )
    names["lock"] = _Name(
        "Lease", f"{spec['service']}-canary-lock", "service", "the lock Lease name"
    )
    return names


def _check_names(problems, spec):
    """One error per field at most: a derived name is checked once its field is valid."""
    invalid = set()
    if not DNS1123_LABEL.matches(spec["service"]):
        # It names the ledger, the lock and the canary.yyc3.io/service label's value.
        problems.add(
            "service",
            f"must be a {DNS1123_LABEL.name} ({DNS1123_LABEL.describe()}), got {spec['service']!r}",
        )
        invalid.add("service")
    for name in object_names(spec).values():
        if name.field in invalid:
            continue
        reason = name_problem(name.kind, name.value)
        if reason:
            subject = repr(name.value)
            if name.derived:
                subject = f"{name.derived} {subject} (from {name.field})"
            problems.add(name.field, f"{subject} {reason}")
            invalid.add(name.field)


def _check_stages(problems, spec):
    stages = spec["stages"]
    if not stages:
        problems.add("stages", "must list at least one stage")
    previous = None
    for index, stage in enumerate(stages):
        field = f"stages[{index}]"
        weight = stage["weight"]
        if not 0 <= weight <= 100:
            problems.add(f"{field}.weight", f"must be between 0 and 100, got {weight}")
        elif previous is not None and weight <= previous:
            problems.add(
                f"{field}.weight",
                f"must be greater than the previous stage's weight {previous} "
                f"(stages must strictly increase), got {weight}",
            )
        previous = weight
        if stage.get("replicas") is not None and stage["replicas"] < 1:
            problems.add(f"{field}.replicas", f"must be at least 1, got {stage['replicas']}")
        seconds = problems.duration(stage, "bake", f"{field}.bake")
        if seconds is not None:
            stage["bake_seconds"] = seconds


def _check_analysis(problems, spec):
    analysis = spec["analysis"]
    analysis["selector"] = analysis.get("selector") or (
        f'namespace="{spec["canary_namespace"]}",track="canary"'
    )
    if analysis.get("baseline") and not analysis["baseline"].get("selector"):
        analysis["baseline"]["selector"] = f'namespace="{spec["namespace"]}",track="stable"'
    analysis["variables"] = {
        "service": spec["service"],
        "namespace": spec["namespace"],
        "canary_namespace": spec["canary_namespace"],
        **(analysis.get("variables") or {}),
    }
    if analysis.get("checks") is None and not analysis.get("baseline"):
        analysis["checks"] = copy.deepcopy(DEFAULT_CHECKS)
    try:
        spec["analysis"] = analysis = validate_analysis(analysis, prefix="canary.analysis")
    except AnalysisSpecError as err:
        problems.errors.extend(err.errors)
    analysis["interval_seconds"] = problems.duration(
        analysis, "interval", "analysis.interval", positive=True
    )
    analysis["initial_delay_seconds"] = problems.duration(
        analysis, "initial_delay", "analysis.initial_delay"
    )
    analysis["hold_timeout_seconds"] = problems.duration(
        analysis, "hold_timeout", "analysis.hold_timeout"
    )
    for limit in ("failure_limit", "error_limit", "success_limit"):
        if analysis[limit] < 1:
            problems.add(f"analysis.{limit}", f"must be at least 1, got {analysis[limit]}")


def _check_validation(problems, validation):
    url_problem = _url_problem(validation["url"])
    if url_problem:
        problems.add("validation.url", url_problem)
    seconds = problems.duration(validation, "timeout", "validation.timeout", positive=True)
    validation["timeout_seconds"] = seconds
    if not validation["health_path"].startswith("/"):
        problems.add(
            "validation.health_path", f"must start with '/', got {validation['health_path']!r}"
        )
    for target, route in validation["route"].items():
        if route and route["url"] and _url_problem(route["url"]):
            problems.add(f"validation.route.{target}.url", _url_problem(route["url"]))


def _check_targeting(problems, spec):
    """The targeting spec's own rules, then what the chosen provider can express of it."""
    traffic = spec["traffic"]
    if traffic.get("targeting") is None:
        return
    provider = traffic["provider"]
    errors = validate_targeting(traffic["targeting"]) or provider_problems(
        traffic["targeting"],
        provider,
        PROVIDERS[provider].unsupported_kinds,
        spec["validation"]["canary_header"],
    )
    problems.errors.extend(errors)
    if not errors:
        traffic["targeting"] = normalize(traffic["targeting"])


def _retired_fields(raw):
    """Fields earlier versions had, each with what replaced it."""
    validation = raw.get("validation") if isinstance(raw, dict) else None
    if isinstance(validation, dict) and "functional" in validation:
        return [
            "canary.validation.functional: replaced by validation.journeys; write it as a "
            "journey of one step (the same method, path, body and status, its expect as an "
            "assert), see the README's validation section"
        ]
    return []


def validate_release(raw, image=None):
    """Validate a raw spec; return ``(completed spec, errors)``.

    Ansible's argument-spec validator checks the shape (its messages name the
    field as ``canary -> traffic`` or ``canary.workload.bogus``), then
    ``cross_check`` the rest. The spec is only completed when both pass.
    """
    retired = _retired_fields(raw)
    if retired:
        return None, retired
    spec, errors = validated(RELEASE_SPEC, raw, "canary")
    if errors:
        return None, errors
    errors = cross_check(spec, image)
    return (None, errors) if errors else (spec, [])


def cross_check(spec, image=None):
    """Check what the argument spec cannot, and fill dependent defaults.

    ``spec`` has passed RELEASE_SPEC (types, choices, required keys). Returns
    the list of errors; on success ``spec`` is completed in place.
    """
    problems = _Problems()
    _check_names(problems, spec)
    spec["canary_namespace"] = object_names(spec)["canary_namespace"].value
    if image:
        spec["image"] = image
    if spec["image"]:
        reason = image_problem(spec["image"])
        if reason:
            given = " (-e canary_image)" if image else ""
            problems.add("image", f"{spec['image']!r}{given} {reason}")
    _check_stages(problems, spec)
    _check_analysis(problems, spec)
    _check_validation(problems, spec["validation"])
    _check_targeting(problems, spec)
    if not problems.errors:
        problems.errors.extend(suite_problems(spec["validation"], spec["analysis"]))
    problems.errors.extend(check_notifications(spec["notifications"]))
    if spec["windows"] is not None:
        problems.errors.extend(check_windows(spec["windows"]))
    for key in ("lock_ttl", "rollout_timeout"):
        spec[f"{key}_seconds"] = problems.duration(spec, key, key, positive=True)
    _check_lock_ttl(problems, spec)
    if not problems.errors:
        complete(spec)
    return problems.errors


def _check_lock_ttl(problems, spec):
    """The lock is renewed between steps: it must outlive the longest wait between two."""
    analysis = spec["analysis"]
    waits = {
        "rollout_timeout": spec["rollout_timeout_seconds"],
        "analysis.initial_delay + analysis.interval": (analysis["initial_delay_seconds"] or 0)
        + (analysis["interval_seconds"] or 0),
    }
    longest = max(waits, key=lambda name: waits[name] or 0)
    ttl = spec["lock_ttl_seconds"]
    if ttl and waits[longest] and ttl <= waits[longest]:
        problems.add(
            "lock_ttl",
            f"must be longer than {longest} ({waits[longest]:g}s), the longest wait between "
            f"two renewals of the lock, got {spec['lock_ttl']!r}",
        )


def complete(spec):
    """Fill the defaults that are derived from other fields."""
    names = object_names(spec)
    workload = spec["workload"]
    workload["service"] = names["service"].value
    workload["canary_name"] = names["canary_name"].value
    workload["canary_service"] = names["canary_service"].value
    provider = spec["traffic"]["provider"]
    spec["traffic"]["options"] = PROVIDERS[provider].resolve_options(
        spec["traffic"].get(provider), spec["namespace"], spec
    )
    replicas = 1
    for stage in spec["stages"]:
        replicas = stage.get("replicas") or replicas
        stage["replicas"] = replicas
        stage["name"] = stage.get("name") or f"{stage['weight']}%"
    ledger = spec["ledger"]
    ledger["name"] = names["ledger"].value
    ledger["namespace"] = ledger.get("namespace") or spec["namespace"]
    ledger["lock"] = names["lock"].value


def _missing_in_canary_namespace(cluster, spec, workload):
    """Objects the pod spec needs that a separate canary namespace lacks."""
    canary_namespace = spec["canary_namespace"]
    if canary_namespace == spec["namespace"]:
        return []
    needed = referenced_objects(workload["spec"]["template"]["spec"])
    missing = [
        f"{kind} {name}"
        for kind, name in needed
        if cluster.get("v1", kind, name, canary_namespace) is None
    ]
    if not missing:
        return []
    return [
        f"canary.canary_namespace: the stable pod spec needs {', '.join(missing)}, which "
        f"namespace {canary_namespace} does not have; create them there first, or release "
        f"into the stable namespace (canary_namespace: {spec['namespace']})"
    ]


def cluster_problems(cluster, spec, provider):
    """Check that the objects the spec names exist; read only."""
    errors = []
    if cluster.get("v1", "Namespace", spec["namespace"]) is None:
        errors.append(f"canary.namespace: namespace {spec['namespace']!r} does not exist")
        return errors
    name = spec["workload"]["name"]
    workload = cluster.get("apps/v1", "Deployment", name, spec["namespace"])
    if workload is None:
        errors.append(f"canary.workload.name: Deployment {spec['namespace']}/{name} does not exist")
    else:
        errors.extend(_missing_in_canary_namespace(cluster, spec, workload))
        containers = [c["name"] for c in workload["spec"]["template"]["spec"]["containers"]]
        wanted = spec["workload"].get("container")
        if wanted and wanted not in containers:
            errors.append(
                f"canary.workload.container: Deployment {name} has no container {wanted!r} "
                f"(it has {', '.join(containers)})"
            )
    service = spec["workload"]["service"]
    if cluster.get("v1", "Service", service, spec["namespace"]) is None:
        errors.append(
            f"canary.workload.service: Service {spec['namespace']}/{service} does not exist"
        )
    # The provider checks its own object: that it exists and has the shape it edits.
    try:
        errors.extend(provider.problems(spec))
    except TrafficError as err:
        errors.append(f"canary.traffic: {err}")
    return errors
