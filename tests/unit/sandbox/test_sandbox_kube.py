"""The control plane's pieces that need no running server: binaries, certificates, CRDs."""

import os
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sandbox.kube import binaries, crds, pki
from sandbox.kube.controlplane import IDENTITIES, ControlPlane


def test_the_pins_come_from_the_tools_modules():
    assert binaries.kubernetes_version() == "v1.37.2"
    assert binaries.version("etcd") == "v3.7.0"
    # Prometheus tags v3.16.0 as its Go module's v0.316.0.
    assert binaries.version("prometheus") == "v0.316.0"
    assert binaries.release("prometheus") == "3.16.0"


def test_cache_dir_per_tools_module(tmp_path):
    environ = {"CANARY_SANDBOX_CACHE": str(tmp_path)}
    assert binaries.cache_dir("etcd", environ) == str(tmp_path / "kubernetes-v1.37.2")
    assert binaries.cache_dir("kubectl", environ) == str(tmp_path / "kubernetes-v1.37.2")
    assert binaries.cache_dir("prometheus", environ) == str(tmp_path / "prometheus-3.16.0")


def fake_binary(path, version_line):
    path.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_kubebuilder_assets_first_then_path_at_the_pinned_minor_then_the_cache(tmp_path):
    assets, on_path, cache = (tmp_path / d for d in ("assets", "bin", "cache"))
    for directory in (assets, on_path, cache / "kubernetes-v1.37.2"):
        directory.mkdir(parents=True)
    environ = {"PATH": str(on_path), "CANARY_SANDBOX_CACHE": str(cache)}
    assert binaries.locate("kube-apiserver", environ) is None  # to be built
    cached = fake_binary(cache / "kubernetes-v1.37.2" / "kube-apiserver", "Kubernetes v1.37.2")
    assert binaries.locate("kube-apiserver", environ) == cached
    # Another minor on PATH is passed over; the pinned one is taken before the cache.
    fake_binary(on_path / "kube-apiserver", "Kubernetes v1.33.4")
    assert binaries.locate("kube-apiserver", environ) == cached
    mine = fake_binary(on_path / "kube-apiserver", "Kubernetes v1.37.0")
    assert binaries.locate("kube-apiserver", environ) == mine
    # Debian's etcd-server 3.4 is too old; what KUBEBUILDER_ASSETS holds is taken as it is.
    fake_binary(on_path / "etcd", "etcd Version: 3.4.23")
    assert binaries.locate("etcd", environ) is None
    given = fake_binary(assets / "etcd", "etcd Version: 3.5.0")
    assert binaries.locate("etcd", {**environ, "KUBEBUILDER_ASSETS": str(assets)}) == given


def test_a_missing_go_says_what_to_do(tmp_path):
    with pytest.raises(binaries.BinaryError, match="KUBEBUILDER_ASSETS"):
        binaries.build(["etcd"], {"PATH": str(tmp_path), "CANARY_SANDBOX_CACHE": str(tmp_path)})


def load(path):
    return x509.load_pem_x509_certificate(open(path, "rb").read())


def test_certificates_carry_the_identities_kubernetes_reads(tmp_path):
    ca = pki.Authority(str(tmp_path))
    cert, key = ca.issue("node", "system:node:sandbox", ("system:nodes",))
    subject = load(cert).subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:sandbox"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    usage = load(cert).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    serving, _ = ca.issue(
        "apiserver", "kube-apiserver", server_names=("localhost",), server_ips=("127.0.0.1",)
    )
    names = load(serving).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    # Issued by the CA, which a second Authority on the same directory reuses.
    assert load(serving).issuer == load(ca.cert_path).subject
    assert pki.Authority(str(tmp_path))._cert == ca._cert


def test_each_component_gets_its_kubeadm_identity():
    assert IDENTITIES["kube-controller-manager"] == ("system:kube-controller-manager", ())
    assert IDENTITIES["admin"][1] == ("system:masters",)


def test_the_api_server_command_line(tmp_path):
    ports = dict.fromkeys(
        ("api_port", "etcd_port", "etcd_peer_port", "controller_manager_port", "scheduler_port"), 1
    )
    ports["api_port"] = 26443
    argv = ControlPlane(str(tmp_path), ports).commands(
        dict.fromkeys(("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"), "x")
    )["kube-apiserver"]
    for flag in (
        "--bind-address=127.0.0.1",
        "--secure-port=26443",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--endpoint-reconciler-type=none",
    ):
        assert flag in argv


def test_crds_are_picked_by_name_from_the_pinned_modules():
    names = [crd["metadata"]["name"] for crd in crds.definitions()]
    assert names == [
        "gatewayclasses.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "referencegrants.gateway.networking.k8s.io",
        "destinationrules.networking.istio.io",
        "virtualservices.networking.istio.io",
        "routes.route.openshift.io",
        "prometheusrules.monitoring.coreos.com",
    ]


def test_a_crd_source_with_another_hash_is_refused():
    (source,) = [s for s in crds.load_sources() if s["module"] == "istio.io/api"]
    with pytest.raises(crds.CRDError, match=r"crds\.yaml pins"):
        crds.module_dir({**source, "sum": "h1:notthehash="})
