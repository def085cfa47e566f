"""Jinja filters for the canary roles.

The logic lives in the project's module_utils (shared with the modules and the
sandbox router); this file only exposes it to templates. Controller-side
plugins cannot import a project's module_utils through ``ansible.module_utils``,
so the files are loaded by path.
"""

import importlib.util
import pathlib

_MODULE_UTILS = pathlib.Path(__file__).resolve().parent.parent / "module_utils"


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f"canary_runbooks_{name}", _MODULE_UTILS / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_targeting = _load("targeting")
_workload = _load("workload")
_timeline = _load("timeline")
_secrets = _load("secrets")
_refusals = _load("refusals")


def canary_bucket(user_id):
    """``'user-42' | canary_bucket`` -> the user's bucket, 0..99."""
    return _targeting.user_bucket(user_id)


def canary_in(user_id, weight):
    """``'user-42' | canary_in(20)`` -> whether the user sees the canary at 20%."""
    return _targeting.in_canary(user_id, int(weight))


def canary_target(request, targeting, weight, canary_header="X-Canary"):
    """Where a request goes at a stage weight, as the router decides it.

    ``{'headers': {'X-User-Id': 'user-42', 'X-User-Type': 'vip'}} |
    canary_target(canary_release.traffic.targeting, 20)`` -> ``{track, rule, forced,
    share, bucket, user_id}``. A string is a user id with no other attribute. Without a
    targeting spec (``none``) it is the router's default: ``canary_header``
    (always/never), then the weight.
    """
    if isinstance(request, str):
        request = {"user_id": request}
    spec = targeting or _targeting.default_spec(canary_header)
    # A ValueError names the field; Ansible reports it as the filter's error. (No
    # AnsibleFilterError: importing ansible.errors here would put the tests' process in
    # controller mode, where modules run in-process lose their warnings.)
    try:
        return _targeting.explain(spec, request, int(weight))
    except ValueError as err:
        raise ValueError(f"canary_target: {err}") from err


def canary_deployment(stable, release, image, replicas):
    """The canary Deployment for ``release``: the stable Deployment with ``image``."""
    workload = release["workload"]
    return _workload.canary_deployment(
        stable,
        namespace=release["canary_namespace"],
        name=workload["canary_name"],
        image=image,
        replicas=int(replicas),
        container=workload.get("container"),
    )


def canary_service(stable, release):
    """The canary Service for ``release`` derived from the stable Service."""
    return _workload.canary_service(
        stable, namespace=release["canary_namespace"], name=release["workload"]["canary_service"]
    )


def canary_namespace(stable_namespace, release):
    """The canary Namespace for ``release``, with the stable Namespace's admission labels."""
    return _workload.canary_namespace(stable_namespace, release["canary_namespace"])


def canary_image(deployment, container=None):
    """The image of the container a release changes."""
    return _workload.container_image(deployment, container)


def canary_public_spec(spec):
    """The release spec without its secret fields (module_utils/secrets.py).

    This is what modules and facts get; the secrets travel apart (``canary_secrets``)
    in arguments declared ``no_log``, so none reaches output, a fact or the ledger.
    """
    return _secrets.split(spec)[0]


def canary_secrets(spec):
    """The secret fields of the release spec, by dotted path, for a ``secrets`` argument."""
    return _secrets.split(spec)[1]


def canary_container(deployment, container=None):
    """The name of the container a release changes (the named one, else the first)."""
    return _workload.target_container(deployment["spec"]["template"]["spec"], container)["name"]


class FilterModule:
    def filters(self):
        return {
            "canary_bucket": canary_bucket,
            "canary_in": canary_in,
            "canary_target": canary_target,
            "canary_deployment": canary_deployment,
            "canary_service": canary_service,
            "canary_namespace": canary_namespace,
            "canary_container": canary_container,
            "canary_image": canary_image,
            "canary_secrets": canary_secrets,
            "canary_public_spec": canary_public_spec,
            "canary_history": _timeline.history_lines,
            "canary_stage_summary": _timeline.stage_summary,
            "canary_release_stats": _timeline.release_stats,
            "canary_refusal": _refusals.from_core_message,
        }
