"""A refusal of the real API server, as kubernetes.core's modules report it, in words."""

import pytest
from ansible.module_utils.refusals import from_core_message, in_words
from kubernetes.dynamic.exceptions import DynamicApiError


def refused_body(client, definition):
    """The body of the API server's answer to a dry-run create of ``definition``."""
    resource = client.client.resources.get(api_version="v1", kind=definition["kind"])
    with pytest.raises(DynamicApiError) as refused:
        resource.create(body=definition, dry_run="All")
    return refused.value.body


def test_a_status_in_kubernetes_cores_message_becomes_the_servers_reason(client):
    body = refused_body(
        client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Not_A_Label"}}
    )
    # What kubernetes.core's K8sService.create() raises: "...: {0}".format(e.body), the
    # body text as the dynamic client has it, or bytes as the REST client has it.
    for body_of_error in (body, body.encode()):
        words = from_core_message(f"Failed to create object: {body_of_error}")
        assert words.startswith(
            'Failed to create object: 422 Unprocessable Entity: Namespace "Not_A_Label" is invalid'
        )
        assert '"kind"' not in words and "b'" not in words


def test_other_messages_pass_as_they_are():
    for message in (
        "Failed to create object: connection refused",
        "Failed to create object: b'not json'",
        'Failed to patch object: b\'{"kind": "Pod"}\'',
        "",
        None,
    ):
        assert from_core_message(message) == message


def test_an_unknown_status_code_still_reads():
    assert in_words(403, "quota exceeded") == "403 Forbidden: quota exceeded"
    assert in_words(499, "gone") == "499 Error: gone"
