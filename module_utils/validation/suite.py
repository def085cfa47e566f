"""A release's validation suite: journeys, load test and security checks of the canary.

The release spec's ``validation`` section names them once; this module turns that
section into the runs of ``journey``, ``loadtest`` and ``security`` aimed at the canary
(through the router's forcing header) and, for comparison, at stable. ``problems``
checks the section when the spec is validated, so a bad suite stops a release before
anything changes; ``run`` runs it at each stage.
"""

from ansible.module_utils.durations import DurationError, parse_duration
from ansible.module_utils.validation import journey, loadreport, loadtest, resources, security

LOAD_KEYS = (
    "path",
    "method",
    "headers",
    "body",
    "requests",
    "duration",
    "concurrency",
    "rate",
    "timeout",
    "tool",
)
LOAD_FIELDS = (*LOAD_KEYS, "thresholds", "compare_stable")


def _resource_variables(analysis):
    """What a resource query can use: the release's names and the analysis window."""
    return {**(analysis.get("variables") or {}), "window": analysis["window"]}


def _routes(validation):
    """How to reach each track: ``validation.route``, else the router's forcing header."""
    return journey.build_routes(
        validation["url"], validation.get("route"), validation["canary_header"]
    )


def _load_options(validation, target):
    """The load test's options, aimed at one track; durations in seconds."""
    load = validation["load"]
    route = _routes(validation)[target]
    options = {key: load[key] for key in LOAD_KEYS if load.get(key) is not None}
    path = options.pop("path", validation["health_path"])
    for key in ("duration", "timeout"):
        if key in options:
            options[key] = parse_duration(options[key])
    return {
        **options,
        "url": route["url"] + path,
        "headers": journey.route_headers(route, options.get("headers", {})),
        "validate_certs": validation["validate_certs"],
    }


def _security_options(validation):
    """The security sections, the headers check aimed at the canary's health path."""
    options = dict(validation.get("security") or {})
    if options.get("headers") is not None:
        route = _routes(validation)["canary"]
        options["headers"] = {
            "url": route["url"] + validation["health_path"],
            "validate_certs": validation["validate_certs"],
            "request_headers": journey.route_headers(route, {}),
            **options["headers"],
        }
    return options


def problems(validation, analysis, prefix="canary.validation"):
    """Every problem of the suite's settings, each naming its field."""
    errors = []
    if validation.get("resources"):
        try:
            resources.prepare(validation["resources"], _resource_variables(analysis))
        except ValueError as exc:
            errors.append(f"{prefix}.resources.{exc}")
    if validation.get("journeys"):
        try:
            journey.validate_journeys(validation["journeys"], prefix=f"{prefix}.journeys")
        except journey.JourneySpecError as exc:
            errors.extend(exc.errors)
    load = validation.get("load")
    if load:
        unknown = sorted(set(load) - set(LOAD_FIELDS))
        if unknown:
            errors.append(f"{prefix}.load: unknown field(s) {', '.join(unknown)}")
        if not str(load.get("path", "/")).startswith("/"):
            errors.append(f"{prefix}.load.path: must start with '/', got {load['path']!r}")
        else:
            try:
                loadtest.normalize(_load_options(validation, "canary"))
            except (loadreport.LoadTestError, DurationError, TypeError, ValueError) as exc:
                errors.append(f"{prefix}.load: {exc}")
        thresholds = load.get("thresholds") or {}
        for name in sorted(set(thresholds) - set(loadreport.THRESHOLDS)):
            errors.append(
                f"{prefix}.load.thresholds.{name}: unknown; one of {', '.join(loadreport.THRESHOLDS)}"
            )
    if validation.get("security"):
        try:
            security.prepare_sections(_security_options(validation), prefix=f"{prefix}.security.")
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def run(validation, analysis, check_mode=False):
    """Run the suite; return ``{passed, failures, health, journeys, load, security, resources}``.

    The canary's health is always checked first. Only the canary's results decide: a
    journey failing on stable is reported (the comparison) but is not the release's
    fault. In check mode journeys that could change something are skipped and no load
    is sent; the health check and security checks only read and run.
    """
    failures = []
    result = {"journeys": [], "load": None, "security": None, "resources": None}
    result["health"] = _health(validation, failures)
    if validation.get("journeys"):
        result["journeys"] = _journeys(validation, check_mode, failures)
    if validation.get("load") and not check_mode:
        result["load"] = _load(validation, failures)
    if validation.get("security"):
        settings = security.prepare_sections(_security_options(validation))
        result["security"], found = security.run_sections(settings)
        failures.extend(f"security: {reason}" for reason in found)
    if validation.get("resources"):
        settings = resources.prepare(validation["resources"], _resource_variables(analysis))
        checked = resources.check_resources(settings, analysis["prometheus"])
        result["resources"] = checked["results"]
        failures.extend(checked["failures"])
    return {"passed": not failures, "failures": failures, **result}


def _health(validation, failures):
    """One GET of the health path on the canary, which must answer 200."""
    health = {"name": "health", "steps": [{"path": validation["health_path"]}]}
    (checked,) = journey.validate_journeys([health])
    outcome = journey.run_journey(
        checked,
        "canary",
        _routes(validation)["canary"],
        timeout=validation["timeout_seconds"],
        validate_certs=validation["validate_certs"],
    )
    if outcome["result"] == "fail":
        failures.append(f"health: GET {validation['health_path']}: {outcome['steps'][0]['reason']}")
    return outcome


def _journeys(validation, check_mode, failures):
    journeys = journey.validate_journeys(validation["journeys"])
    routes = _routes(validation)
    targets = ("canary", "stable") if validation.get("compare_stable", True) else ("canary",)
    results = []
    for target in targets:
        for item in journeys:
            if check_mode and not journey.read_only(item):
                results.append(
                    journey.skip_journey(item, target, routes[target], "check mode: not sent")
                )
                continue
            outcome = journey.run_journey(
                item,
                target,
                routes[target],
                timeout=validation["timeout_seconds"],
                validate_certs=validation["validate_certs"],
            )
            results.append(outcome)
            if target == "canary" and outcome["result"] == "fail":
                failures.append(f"journey {item['name']!r}: {outcome['reason']}")
    return results


def _load(validation, failures):
    load = validation["load"]
    options = _load_options(validation, "canary")
    try:
        if load.get("compare_stable"):
            compared = loadtest.compare(options, _load_options(validation, "stable"))
            report = {
                **compared["canary"],
                "stable": compared["stable"],
                "ratio": compared["ratio"],
            }
        else:
            report = loadtest.run(options)
    except loadreport.LoadTestError as exc:
        failures.append(f"load: {exc}")
        return None
    crossed = loadreport.check_thresholds(report, load.get("thresholds"))
    failures.extend(f"load: {failure['reason']}" for failure in crossed)
    return report


def summary(outcome):
    """The short form recorded in the ledger with the start of a stage."""
    text = {"health": outcome["health"]["result"]}
    if outcome["journeys"]:
        text["journeys"] = {
            f"{item['name']}@{item['target']}": item["result"] for item in outcome["journeys"]
        }
    if outcome["load"]:
        load = outcome["load"]
        text["load"] = (
            f"{load['requests_per_second']:.0f} req/s, p95 {_seconds(load['latency_p95'])}, "
            f"errors {load['error_ratio']:.2%}"
        )
    if outcome["resources"]:
        text["resources"] = {
            name: item["result"]
            if item["value"] is None
            else f"{item['value']:.1%} {item['result']}"
            for name, item in outcome["resources"].items()
        }
    if outcome["security"]:
        text["security"] = {
            name: "fail" if section["failures"] else "pass"
            for name, section in outcome["security"].items()
        }
    return text


def _seconds(value):
    return "n/a" if value is None else f"{value:.3f}s"
