"""What the runbooks ask of the Kubernetes API: the permissions each playbook needs.

Every object a role's kubernetes.core task or a module's Cluster call reads or writes
is a row here: its API group and resource, the verbs used on it, and where it lives (a
namespace named by the completed release spec, or the cluster). Rows are grouped by the
phase that uses them, one per playbook (release.yml runs them all), by traffic
provider, and for the monitoring role's PrometheusRule. The preflight (module
canary_access) asks the API server about the rows a run needs, one
SelfSubjectAccessReview per verb, before the run changes anything; a unit test holds
``rbac/*.yaml`` to exactly these rows, so that a new call and its grant come together.

kubernetes.core reads an object by name before it writes it (``get``), replaces it with
``force`` (``update``), patches it otherwise (``patch``), and waits by reading it again;
its server-side dry run in check mode needs the same verbs as the real write.
"""

import dataclasses
from collections.abc import Callable

from ansible.module_utils.workload import MANAGED_BY


class AccessError(Exception):
    """The permissions cannot be worked out: a field is missing or a name is unknown."""


CORE = ""
APPS = "apps"
COORDINATION = "coordination.k8s.io"
GATEWAY = "gateway.networking.k8s.io"
NETWORKING = "networking.k8s.io"
ISTIO = "networking.istio.io"
OPENSHIFT = "route.openshift.io"
MONITORING = "monitoring.coreos.com"

# The file of rbac/ that grants each API group's rows, in the order docs/rbac.md lists them.
RBAC_FILES = {
    CORE: "rbac/canary-runbooks.yaml",
    APPS: "rbac/canary-runbooks.yaml",
    COORDINATION: "rbac/canary-runbooks.yaml",
    GATEWAY: "rbac/providers/gateway_api.yaml",
    NETWORKING: "rbac/providers/ingress_nginx.yaml",
    ISTIO: "rbac/providers/istio.yaml",
    OPENSHIFT: "rbac/providers/openshift_route.yaml",
    MONITORING: "rbac/monitoring.yaml",
}

# Where an object lives: the field of the completed release spec naming its namespace,
# or the cluster (namespaces themselves; read and written cluster-wide, see docs/rbac.md).
CLUSTER = None
STABLE = "namespace"
CANARY = "canary_namespace"
LEDGER = "ledger.namespace"
TRAFFIC = "traffic.options.namespace"
TRAFFIC_CANARY = "traffic.options.canary_namespace"
# Not the spec's: the monitoring role's canary_monitoring_prometheus_rule_namespace.
PROMETHEUS_RULE = "prometheus_rule_namespace"

# The canary namespace as a run finds it: missing, created by prepare.yml (labelled as
# ours), or someone else's (which finalize.yml leaves in place).
ABSENT, OURS, THEIRS = "absent", "ours", "theirs"


@dataclasses.dataclass(frozen=True)
class Options:
    """What the permissions depend on beyond the release spec."""

    canary_namespace: str = ABSENT
    # The namespace of the PrometheusRule the run applies; None when it applies none.
    prometheus_rule_namespace: str | None = None


@dataclasses.dataclass(frozen=True)
class Need:
    """Verbs on one resource (``deployments/scale`` for a subresource) in one place."""

    group: str
    resource: str
    verbs: tuple
    scope: str | None
    # Whether the row applies, given the release spec and the Options; None: always.
    when: Callable | None = None


def field(release, path):
    """The value at the dotted ``path`` of the release spec; AccessError naming it if missing."""
    value = release
    keys = path.split(".")
    for depth, key in enumerate(keys, 1):
        if not isinstance(value, dict) or value.get(key) in (None, ""):
            raise AccessError(
                f"release.{'.'.join(keys[:depth])} is missing: pass the canary_release fact "
                "that the canary_spec role sets"
            )
        value = value[key]
    return value


def namespace_owner(namespace):
    """ABSENT, OURS or THEIRS for the canary Namespace object as read (None: missing)."""
    if namespace is None:
        return ABSENT
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    return OURS if all(labels.get(key) == value for key, value in MANAGED_BY.items()) else THEIRS


# --- when a row applies ---------------------------------------------------------------


def _own_canary_namespace(release, options):
    return field(release, "canary_namespace") != field(release, "namespace")


def _creates_canary_namespace(release, options):
    return options.canary_namespace == ABSENT


def _removes_canary_namespace(release, options):
    return (
        field(release, "cleanup.delete_canary_namespace")
        and _own_canary_namespace(release, options)
        and options.canary_namespace != THEIRS
    )


def _rollback(how):
    def applies(release, options):
        return field(release, "rollback.canary") == how

    return applies


def _separate_route_namespace(release):
    return field(release, TRAFFIC_CANARY) != field(release, TRAFFIC)


def _grant_created(release, options):
    return _separate_route_namespace(release) and field(release, "traffic.options.reference_grant")


def _grant_required(release, options):
    return _separate_route_namespace(release) and not _grant_created(release, options)


def _applies_prometheus_rule(release, options):
    return bool(options.prometheus_rule_namespace)


# --- the table ------------------------------------------------------------------------

# The spec check (module canary_spec), which every playbook runs first. It only reads,
# and before the preflight: a refusal there stops the run before anything changes, so
# the preflight does not ask again (these rows keep rbac/ whole).
SPEC_CHECK = (
    Need(CORE, "namespaces", ("get",), CLUSTER),
    Need(APPS, "deployments", ("get",), STABLE),
    Need(CORE, "services", ("get",), STABLE),
    # What stable's pod spec uses must exist in a canary namespace of its own too.
    *(
        Need(CORE, resource, ("get",), CANARY, _own_canary_namespace)
        for resource in ("configmaps", "secrets", "serviceaccounts", "persistentvolumeclaims")
    ),
)

# The ledger ConfigMap and the lock Lease as every playbook reads them (canary_state
# read, which the canary_stats and canary_report roles run too).
READ_LEDGER = (
    Need(CORE, "configmaps", ("get",), LEDGER),
    Need(COORDINATION, "leases", ("get",), LEDGER),
)
# canary_state start: stable's image read, the lock taken, the ledger started or
# resumed; then records in the ledger, lock renewals, and the lock released.
RUN_LEDGER = (
    Need(CORE, "configmaps", ("get", "create", "update"), LEDGER),
    Need(COORDINATION, "leases", ("get", "create", "update"), LEDGER),
    Need(APPS, "deployments", ("get",), STABLE),
)

# The monitoring role's PrometheusRule (kubernetes.core.k8s, state present), applied by
# prepare once it holds the lock, when canary_monitoring_apply_prometheus_rule is on.
PROMETHEUS_RULES = (
    Need(
        MONITORING,
        "prometheusrules",
        ("get", "create", "patch"),
        PROMETHEUS_RULE,
        _applies_prometheus_rule,
    ),
)

PHASES = {
    "prepare": (
        *RUN_LEDGER,
        *PROMETHEUS_RULES,
        # Stable's Deployment and Service, which the canary's are made from.
        Need(CORE, "services", ("get",), STABLE),
        Need(CORE, "namespaces", ("get",), CLUSTER),
        Need(CORE, "namespaces", ("create",), CLUSTER, _creates_canary_namespace),
        Need(CORE, "services", ("get", "create", "patch"), CANARY),
        # Replaced whole (force: true), then waited for (canary_rollout reads it and
        # lists the pods it selects).
        Need(APPS, "deployments", ("get", "create", "update"), CANARY),
        Need(CORE, "pods", ("list",), CANARY),
    ),
    "promote": (
        *RUN_LEDGER,
        # canary_rollout patches the canary's replicas, then waits for its pods.
        Need(APPS, "deployments", ("get", "patch"), CANARY),
        Need(CORE, "pods", ("list",), CANARY),
    ),
    # The suite's requests go to the canary's URLs, not to the API server.
    "validate": READ_LEDGER,
    "rollback": (
        # The rollback recorded in a ledger that exists; the lock released.
        Need(CORE, "configmaps", ("get", "update"), LEDGER),
        Need(COORDINATION, "leases", ("get", "update"), LEDGER),
        Need(APPS, "deployments", ("get", "patch"), CANARY, _rollback("scale_to_zero")),
        Need(APPS, "deployments", ("get", "delete"), CANARY, _rollback("delete")),
        Need(CORE, "services", ("get", "delete"), CANARY, _rollback("delete")),
        # Stable put back on its image when finalize had moved it, then verified: its
        # rollout complete and every pod it selects on that image (canary_rollout).
        Need(APPS, "deployments", ("get", "patch"), STABLE),
        Need(CORE, "pods", ("list",), STABLE),
    ),
    "finalize": (
        *RUN_LEDGER,
        # Stable moved to the new image; every pod on it before the traffic goes back.
        Need(APPS, "deployments", ("get", "patch"), STABLE),
        Need(CORE, "pods", ("list",), STABLE),
        Need(APPS, "deployments", ("get", "delete"), CANARY),
        Need(CORE, "services", ("get", "delete"), CANARY),
        Need(CORE, "namespaces", ("get",), CLUSTER),
        Need(CORE, "namespaces", ("delete",), CLUSTER, _removes_canary_namespace),
    ),
    "status": READ_LEDGER,
}

# The phases that set the canary's weight through the release's traffic provider.
WEIGHT_PHASES = ("prepare", "promote", "rollback", "finalize")

# What each playbook runs: promote.yml rolls a failed stage back; release.yml runs every
# phase.
PLAYBOOKS = {
    "prepare": ("prepare",),
    "promote": ("promote", "rollback"),
    "validate": ("validate",),
    "rollback": ("rollback",),
    "finalize": ("finalize",),
    "status": ("status",),
    "release": tuple(PHASES),
}

# Per traffic provider (module_utils/traffic/), what its spec check reads ("check") and
# what reading and setting the weight uses ("weight"). Objects are read by name before
# they are written; the routing objects are replaced whole with their resourceVersion.
PROVIDERS = {
    "configmap": {
        "check": (Need(CORE, "configmaps", ("get",), TRAFFIC),),
        # One merge patch of the weight key and the published targeting spec.
        "weight": (Need(CORE, "configmaps", ("get", "patch"), TRAFFIC),),
    },
    "gateway_api": {
        "check": (
            Need(GATEWAY, "httproutes", ("get",), TRAFFIC),
            # With reference_grant: false, one that lets the route in must exist already.
            Need(GATEWAY, "referencegrants", ("list",), TRAFFIC_CANARY, _grant_required),
        ),
        "weight": (
            Need(GATEWAY, "httproutes", ("get", "update"), TRAFFIC),
            # The ReferenceGrant a canary Service in another namespace needs, made once
            # that namespace exists.
            Need(CORE, "namespaces", ("get",), CLUSTER, _grant_created),
            Need(GATEWAY, "referencegrants", ("list", "create"), TRAFFIC_CANARY, _grant_created),
        ),
    },
    "ingress_nginx": {
        "check": (
            Need(NETWORKING, "ingresses", ("get", "list"), TRAFFIC),
            # A second canary Ingress for the same hosts and paths is refused.
            Need(NETWORKING, "ingresses", ("get", "list"), TRAFFIC_CANARY),
            Need(CORE, "namespaces", ("get",), CLUSTER),
        ),
        "weight": (
            Need(NETWORKING, "ingresses", ("get",), TRAFFIC),
            # The canary Ingress, created beside the canary Service once its namespace exists.
            Need(NETWORKING, "ingresses", ("get", "create", "update"), TRAFFIC_CANARY),
            Need(CORE, "namespaces", ("get",), CLUSTER),
        ),
    },
    "istio": {
        "check": (Need(ISTIO, "virtualservices", ("get",), TRAFFIC),),
        "weight": (Need(ISTIO, "virtualservices", ("get", "update"), TRAFFIC),),
    },
    "openshift_route": {
        "check": (Need(OPENSHIFT, "routes", ("get",), TRAFFIC),),
        "weight": (Need(OPENSHIFT, "routes", ("get", "update"), TRAFFIC),),
    },
    "replicas": {
        # Stable's replicas, and the Service that must select both tracks.
        "check": (
            Need(APPS, "deployments", ("get",), TRAFFIC),
            Need(CORE, "services", ("get",), TRAFFIC),
        ),
        # The canary's replicas are its share: a merge patch of spec.replicas.
        "weight": (
            Need(APPS, "deployments", ("get",), TRAFFIC),
            Need(APPS, "deployments", ("get", "patch"), TRAFFIC_CANARY),
        ),
    },
}


def every_need():
    """Every row of the table, whatever it applies to: what rbac/ must grant."""
    rows = list(SPEC_CHECK)
    for needs in PHASES.values():
        rows.extend(needs)
    for uses in PROVIDERS.values():
        for needs in uses.values():
            rows.extend(needs)
    return rows


# --- a run's reviews ------------------------------------------------------------------


def needs(phase, release, options=None):
    """The rows a run of the playbook ``phase`` uses for ``release``, after its spec check."""
    options = options or Options()
    if phase not in PLAYBOOKS:
        raise AccessError(f"phase: unknown {phase!r}; choose one of {', '.join(sorted(PLAYBOOKS))}")
    provider = field(release, "traffic.provider")
    if provider not in PROVIDERS:
        raise AccessError(
            f"release.traffic.provider: unknown {provider!r}; choose one of "
            f"{', '.join(sorted(PROVIDERS))}"
        )
    rows = []
    for name in PLAYBOOKS[phase]:
        rows.extend(PHASES[name])
        if name in WEIGHT_PHASES:
            rows.extend(PROVIDERS[provider]["weight"])
    return [row for row in rows if row.when is None or row.when(release, options)]


def _namespace(scope, release, options):
    if scope is CLUSTER:
        return ""
    if scope == PROMETHEUS_RULE:
        return options.prometheus_rule_namespace
    return field(release, scope)


def attributes(phase, release, options=None):
    """The SelfSubjectAccessReview resourceAttributes to ask about, each once, in table order."""
    options = options or Options()
    found = {}
    for need in needs(phase, release, options):
        namespace = _namespace(need.scope, release, options)
        resource, _, subresource = need.resource.partition("/")
        for verb in need.verbs:
            asked = {"verb": verb, "group": need.group, "resource": resource}
            if subresource:
                asked["subresource"] = subresource
            if namespace:
                asked["namespace"] = namespace
            found.setdefault(tuple(sorted(asked.items())), asked)
    return list(found.values())


def _resource_name(asked):
    name = f"{asked['resource']}.{asked['group']}" if asked["group"] else asked["resource"]
    return f"{name}/{asked['subresource']}" if asked.get("subresource") else name


def _place(namespace):
    return f"in namespace {namespace}" if namespace else "at the cluster scope"


def refusal(denied):
    """One message naming every refused permission (attributes() entries) and its files."""
    verbs = {}
    for asked in denied:
        key = (_resource_name(asked), asked.get("namespace", ""))
        verbs.setdefault(key, []).append(asked["verb"])
    refused = "; ".join(
        f"{', '.join(names)} {resource} {_place(namespace)}"
        for (resource, namespace), names in verbs.items()
    )
    order = list(dict.fromkeys(RBAC_FILES.values()))
    files = sorted({RBAC_FILES[asked["group"]] for asked in denied}, key=order.index)
    grant = f"{' and '.join(files)} {'grants' if len(files) == 1 else 'grant'}"
    return (
        f"the identity running the runbooks may not: {refused} "
        f"({grant} {'it' if len(denied) == 1 else 'them'}; docs/rbac.md)"
    )
