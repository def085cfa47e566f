"""Config parsing: the router config, Prometheus config, loadgen stats, ctl ports."""

import argparse
import pathlib

import pytest
import yaml

from sandbox import ctl, loadgen, prometheus, router

ROUTER_YAML = pathlib.Path(__file__).resolve().parents[3] / "sandbox" / "router.yaml"


def test_shipped_router_config_uses_the_configmap_provider():
    config = router.load_config(str(ROUTER_YAML))
    assert config["listen"] == {"host": "127.0.0.1", "port": 18080}
    assert config["admin"]["port"] == 18081
    assert config["traffic"]["configmap"]["key"] == "canary_percentage"
    assert config["backends"]["canary"] == {
        "namespace": "yyc3-short-drama-canary",
        "service": "frontend-canary",
    }


def test_router_overrides_beat_the_file_and_sections_merge(tmp_path):
    path = tmp_path / "router.yaml"
    path.write_text("listen: {port: 1}\npoll_interval_seconds: 1\n")
    config = router.load_config(str(path), port=2, admin_port=3, apiserver="http://x")
    assert config["listen"] == {"host": "127.0.0.1", "port": 2}
    assert (config["admin"]["port"], config["apiserver"]) == (3, "http://x")
    assert config["poll_interval_seconds"] == 1


def test_router_config_with_unknown_provider_is_refused(tmp_path):
    path = tmp_path / "router.yaml"
    path.write_text("traffic: {provider: httproute}\n")
    with pytest.raises(ValueError, match="httproute"):
        router.load_config(str(path))


def test_prometheus_config_discovers_the_pods_and_scrapes_the_router(tmp_path):
    path = prometheus.write_config(
        str(tmp_path), 18081, "https://127.0.0.1:16443", "/ca.crt", "/prometheus.token"
    )
    config = yaml.safe_load(pathlib.Path(path).read_text())
    assert config["global"]["scrape_interval"] == "1s"
    assert config["global"]["evaluation_interval"] == "1s"
    apps, routerjob = config["scrape_configs"]
    assert apps["honor_labels"] is True
    assert apps["kubernetes_sd_configs"] == [
        {
            "role": "pod",
            "api_server": "https://127.0.0.1:16443",
            "tls_config": {"ca_file": "/ca.crt"},
            "authorization": {"credentials_file": "/prometheus.token"},
        }
    ]
    keep = [r for r in apps["relabel_configs"] if r.get("action") == "keep"]
    assert [(r["source_labels"], r["regex"]) for r in keep] == [
        (["__meta_kubernetes_pod_label_app"], "frontend"),
        (["__meta_kubernetes_pod_phase"], "Running"),
    ]
    targets = {r["target_label"] for r in apps["relabel_configs"] if "target_label" in r}
    assert targets == {"namespace", "pod", "deployment", "track", "version"}
    assert routerjob["static_configs"] == [{"targets": ["127.0.0.1:18081"]}]
    argv = prometheus.command("/usr/bin/prometheus", path, str(tmp_path), 19090)
    assert "--web.listen-address=127.0.0.1:19090" in argv
    assert "--storage.tsdb.retention.time=2h" in argv


def test_loadgen_percentiles_and_per_track_stats():
    assert loadgen.percentile([], 50) is None
    assert loadgen.percentile([1, 2, 3, 4], 50) == 2
    assert loadgen.percentile([1, 2, 3, 4], 99) == 4
    stats = loadgen.Stats(seed=1)
    stats.add("user-1", "stable", 200, 0.01)
    stats.add("user-2", "canary", 500, 0.02)
    stats.add("user-2", "canary", 0, 0.03)
    snap = stats.snapshot()
    assert (snap["total"]["requests"], snap["total"]["errors"], snap["total"]["users"]) == (3, 2, 2)
    assert snap["tracks"]["canary"]["codes"] == {"0": 1, "500": 1}
    assert snap["tracks"]["stable"]["latency_seconds"]["p50"] == 0.01


def test_ctl_ports_come_from_flags_then_env_then_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("SANDBOX_ROUTER_PORT", "28080")
    for setting in ctl.PORTS.values():
        if setting[1] != "SANDBOX_ROUTER_PORT":
            monkeypatch.delenv(setting[1], raising=False)
    args = argparse.Namespace(command="up", **{**dict.fromkeys(ctl.PORTS), "api_port": 26443})
    ports = ctl.resolve_ports(args, str(tmp_path))
    assert ports == {
        "api_port": 26443,
        "etcd_port": 16379,
        "etcd_peer_port": 16380,
        "controller_manager_port": 16257,
        "scheduler_port": 16259,
        "router_port": 28080,
        "router_admin_port": 18081,
        "prometheus_port": 19090,
    }
