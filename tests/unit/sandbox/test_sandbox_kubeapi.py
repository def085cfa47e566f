"""The sandbox's API client in a real cluster: TLS to the cluster's API server with the
pod's service account token, as the router of the kind scenario runs.

The API server is the real one (``real_api``); the service account directory holds its
CA and a token of the sandbox router's ServiceAccount (TokenRequest), whose RBAC is the
sandbox's own (``sandbox/kube/identities.yaml``). ``seen`` is the Authorization header
of each request the API server answered, from any client but the admin's.
"""

import shutil
import threading
import uuid

import pytest
import requests

from sandbox import kubeapi, router

from .seeded import router_token


@pytest.fixture
def cluster(real_api, tmp_path, monkeypatch):
    """A namespace with the traffic ConfigMap at 5 %, and a service account directory."""
    admin = real_api.client
    namespace = f"kubeapi-{uuid.uuid4().hex[:6]}"
    admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    admin.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"namespace": namespace, "name": "traffic-config"},
            "data": {"canary_percentage": "5"},
        }
    )
    account = tmp_path / "serviceaccount"
    account.mkdir()
    shutil.copy(real_api.control_plane.ca_path, account / "ca.crt")
    token = router_token(admin)
    (account / "token").write_text(token + "\n")
    environ = {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(real_api.control_plane.ports["api_port"]),
    }

    seen = []
    send = requests.Session.send

    def recording(session, request, **kwargs):
        response = send(session, request, **kwargs)
        if session is not admin._http and request.url.startswith(real_api.url):
            seen.append(request.headers.get("Authorization"))
        return response

    monkeypatch.setattr(requests.Session, "send", recording)
    return {
        "admin": admin,
        "namespace": namespace,
        "environ": environ,
        "account": account,
        "token": token,
        "seen": seen,
    }


def test_in_cluster_client_sends_the_token_it_reads_at_each_call(cluster):
    namespace = cluster["namespace"]
    client = kubeapi.Client.in_cluster(environ=cluster["environ"], account_dir=cluster["account"])
    assert client.server == f"https://127.0.0.1:{cluster['environ']['KUBERNETES_SERVICE_PORT']}"
    first = client.get("ConfigMap", namespace, "traffic-config")
    rotated = router_token(cluster["admin"])
    assert rotated != cluster["token"]
    (cluster["account"] / "token").write_text(rotated + "\n")
    again = client.get("ConfigMap", namespace, "traffic-config")
    assert first["data"]["canary_percentage"] == again["data"]["canary_percentage"] == "5"
    # The API server authenticates whatever the file holds now.
    (cluster["account"] / "token").write_text("not-a-token\n")
    with pytest.raises(kubeapi.ApiError) as refused:
        client.get("ConfigMap", namespace, "traffic-config")
    assert refused.value.status == 401
    assert cluster["seen"] == [
        f"Bearer {cluster['token']}",
        f"Bearer {rotated}",
        "Bearer not-a-token",
    ]


def test_in_cluster_client_trusts_only_the_cluster_ca(cluster):
    port = cluster["environ"]["KUBERNETES_SERVICE_PORT"]
    stranger = kubeapi.Client(f"https://127.0.0.1:{port}", token_path=cluster["account"] / "token")
    with pytest.raises(requests.exceptions.SSLError):
        stranger.get("ConfigMap", cluster["namespace"], "traffic-config")
    assert cluster["seen"] == []


def test_in_cluster_client_without_the_pod_environment_is_refused():
    with pytest.raises(ValueError, match="KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT"):
        kubeapi.Client.in_cluster(environ={"KUBERNETES_SERVICE_PORT": "443"})


def test_in_cluster_client_brackets_an_ipv6_service_address(tmp_path):
    environ = {"KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "443"}
    client = kubeapi.Client.in_cluster(environ=environ, account_dir=tmp_path)
    assert client.server == "https://[fd00:10:96::1]:443"
    assert (client.token_path, client.verify) == (
        str(tmp_path / "token"),
        str(tmp_path / "ca.crt"),
    )


def test_router_reads_in_cluster_or_the_configured_url(cluster, monkeypatch):
    for name, value in cluster["environ"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(kubeapi, "SERVICE_ACCOUNT_DIR", str(cluster["account"]))
    in_cluster = router.make_client("in-cluster")
    assert in_cluster.server.startswith("https://127.0.0.1:")
    assert in_cluster.timeout == 2.0
    plain = router.make_client("http://127.0.0.1:16443")
    assert (plain.server, plain.token_path, plain.verify) == ("http://127.0.0.1:16443", None, True)


def test_a_router_without_its_token_keeps_polling_and_reads_once_it_has_one(cluster):
    namespace = cluster["namespace"]
    token = cluster["account"] / "token"
    token.unlink()
    client = kubeapi.Client.in_cluster(environ=cluster["environ"], account_dir=cluster["account"])
    config = router.load_config()
    config["traffic"]["configmap"] = {"namespace": namespace, "name": "traffic-config"}
    config["backends"] = {
        "stable": {"namespace": namespace, "service": "frontend"},
        "canary": {"namespace": namespace, "service": "frontend-canary"},
    }
    live = router.Router(config, client)
    stop = threading.Event()
    poller = threading.Thread(target=live.poll, args=(stop,))
    poller.start()
    try:
        stop.wait(0.5)
        assert poller.is_alive()
        assert cluster["seen"] == []
        assert live.state()["weight"] == 0
        token.write_text(cluster["token"] + "\n")
        for _ in range(50):
            if live.state()["weight"] == 5:
                break
            stop.wait(0.1)
        assert live.state()["weight"] == 5
        assert poller.is_alive()
    finally:
        stop.set()
        poller.join(timeout=5)
    assert set(cluster["seen"]) == {f"Bearer {cluster['token']}"}
