"""The name rules of each kind, and the spec check of the names a release gives or derives."""

import pytest
from ansible.module_utils.names import image_problem, problem
from ansible.module_utils.spec import validate_release

from tests.bad_specs import merged

VALID = [
    ("Service", "frontend"),
    ("Service", "f"),
    ("Service", "a" * 63),
    ("Service", "frontend-v2-canary"),
    ("Namespace", "yyc3-short-drama"),
    ("Namespace", "1st-namespace"),
    ("Namespace", "n" * 63),
    ("Deployment", "frontend-deployment"),
    ("Deployment", "frontend.v2"),
    ("Deployment", "0frontend"),
    ("Deployment", ".".join(["a" * 63] * 3) + "." + "b" * 61),
    ("ConfigMap", "frontend-canary-ledger"),
    ("Lease", "frontend-canary-lock"),
]

INVALID = [
    ("Service", "1frontend", "is not valid; Service names are DNS-1035 labels: a lower-case"),
    ("Service", "front.end", "is not valid; Service names are DNS-1035 labels"),
    ("Service", "frontend-", "is not valid"),
    ("Service", "Frontend", "is not valid"),
    ("Service", "", "is not valid"),
    (
        "Service",
        "a" * 64,
        "is 64 characters; Service names are DNS-1035 labels of at most 63 characters",
    ),
    ("Namespace", "-shop", "is not valid; Namespace names are DNS-1123 labels"),
    ("Namespace", "shop.canary", "is not valid; Namespace names are DNS-1123 labels"),
    ("Namespace", "Shop", "is not valid"),
    (
        "Namespace",
        "n" * 64,
        "is 64 characters; Namespace names are DNS-1123 labels of at most 63 characters",
    ),
    ("Deployment", "frontend_deployment", "is not valid; Deployment names are DNS-1123 subdomains"),
    ("Deployment", "frontend..v2", "is not valid"),
    ("Deployment", "frontend-.v2", "is not valid"),
    ("Deployment", "frontend.", "is not valid"),
    (
        "Deployment",
        "d" * 254,
        "is 254 characters; Deployment names are DNS-1123 subdomains of at most 253 characters",
    ),
    ("ConfigMap", "Ledger", "is not valid; ConfigMap names are DNS-1123 subdomains"),
    ("Lease", "lock_1", "is not valid; Lease names are DNS-1123 subdomains"),
]


@pytest.mark.parametrize(("kind", "name"), VALID)
def test_valid_names_pass(kind, name):
    assert problem(kind, name) is None


@pytest.mark.parametrize(("kind", "name", "message"), INVALID)
def test_invalid_names_say_why(kind, name, message):
    assert problem(kind, name).startswith(message)


def errors(change):
    spec, found = validate_release(merged(change))
    assert spec is None
    return found


def test_a_canary_service_name_too_long_names_workload_service():
    service = "s" * 63
    assert errors({"workload": {"name": "frontend-deployment", "service": service}}) == [
        f"canary.workload.service: the canary Service name '{service}-canary' (from "
        "workload.service) is 70 characters; Service names are DNS-1035 labels of at most 63 "
        "characters"
    ]


def test_a_service_named_by_the_service_field_is_checked_as_a_service():
    (error,) = errors({"service": "9lives"})
    assert error.startswith("canary.service: '9lives' is not valid; Service names are DNS-1035")


def test_a_derived_canary_namespace_too_long_names_namespace():
    namespace = "n" * 60
    assert errors({"namespace": namespace, "canary_namespace": None}) == [
        f"canary.namespace: the canary namespace '{namespace}-canary' (from namespace) is 67 "
        "characters; Namespace names are DNS-1123 labels of at most 63 characters"
    ]


def test_a_derived_canary_deployment_name_too_long_names_workload_name():
    name = "d" * 250
    assert errors({"workload": {"name": name}}) == [
        f"canary.workload.name: the canary Deployment name '{name}-canary' (from "
        "workload.name) is 257 characters; Deployment names are DNS-1123 subdomains of at "
        "most 253 characters"
    ]


def test_given_names_are_checked_once_per_field():
    found = errors(
        {
            "workload": {"name": "Frontend", "service": "frontend"},
            "ledger": {"name": "Ledger", "namespace": "Ops"},
            "canary_namespace": "shop_canary",
        }
    )
    assert [error.split(":")[0] for error in found] == [
        "canary.canary_namespace",
        "canary.ledger.namespace",
        "canary.workload.name",
        "canary.ledger.name",
    ]


def test_the_completed_spec_carries_the_derived_names():
    spec, found = validate_release(merged({"workload": {"name": "web", "service": "www"}}))
    assert found == []
    assert (spec["workload"]["canary_name"], spec["workload"]["canary_service"]) == (
        "web-canary",
        "www-canary",
    )
    assert spec["ledger"]["name"] == "frontend-canary-ledger"
    assert spec["ledger"]["lock"] == "frontend-canary-lock"


@pytest.mark.parametrize(
    "reference",
    [
        "nginx",
        "yyc3/short-drama-frontend:1.1.0",
        "registry.example.com:5000/yyc3/app:1.1.0_rc.1",
        "localhost/app@sha256:" + "a" * 64,
        "[::1]:5000/app:1@sha256:" + "0" * 64,
    ],
)
def test_image_references_runtimes_pull_are_accepted(reference):
    assert image_problem(reference) is None


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("yyc3/front end:💥;x", "no valid image name"),
        ("yyc3//app", "no valid image name"),
        ("", "no valid image name"),
        ("app:", "invalid tag ''"),
        ("app:-rc", "invalid tag '-rc'"),
        ("app:北京", "invalid tag '北京'"),
        ("app:" + "1" * 129, "invalid tag"),
        ("app@sha256:xyz", "invalid digest 'sha256:xyz'"),
        ("a/" + "b" * 254, "a name of 256 characters"),
    ],
)
def test_malformed_image_references_say_what_is_wrong(reference, reason):
    assert reason in image_problem(reference)
