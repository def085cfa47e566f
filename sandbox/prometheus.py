"""The Prometheus side of the sandbox: its config and its command line.

Debian's prometheus runs as a plain process. It discovers the app pods through the API
server (``kubernetes_sd_configs``, role ``pod``, as the original plan's ``prometheus.yml``
does), as the sandbox's ``prometheus`` ServiceAccount, keeps those labelled
``app=frontend`` and scrapes each at its Pod IP and container port; it also scrapes the
router's admin port. A 1 s scrape and evaluation interval make a change in error rate visible in
a ``[5s]`` rate within a few seconds, which keeps release tests short.
``honor_labels`` keeps the apps' own ``track`` and ``version`` labels authoritative.
"""

import os

import yaml


def pod_discovery(api_server, ca_file, token_file):
    """The ``apps`` job: every pod labelled ``app=frontend``, in any namespace.

    The target labels are the ones queries and dashboards use: ``namespace``, ``pod``,
    ``deployment`` (the ReplicaSet's name without its template hash), ``track`` (the
    pod label) and ``version`` (the image tag).
    """
    return {
        "job_name": "apps",
        "honor_labels": True,
        "kubernetes_sd_configs": [
            {
                "role": "pod",
                "api_server": api_server,
                "tls_config": {"ca_file": ca_file},
                "authorization": {"credentials_file": token_file},
            }
        ],
        "relabel_configs": [
            {
                "source_labels": ["__meta_kubernetes_pod_label_app"],
                "regex": "frontend",
                "action": "keep",
            },
            {
                "source_labels": ["__meta_kubernetes_pod_phase"],
                "regex": "Running",
                "action": "keep",
            },
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {
                "source_labels": ["__meta_kubernetes_pod_controller_name"],
                "regex": "(.+)-[a-z0-9]+",
                "target_label": "deployment",
            },
            {"source_labels": ["__meta_kubernetes_pod_label_track"], "target_label": "track"},
            {
                "source_labels": ["__meta_kubernetes_pod_container_image"],
                "regex": ".*:([^:/]+)",
                "target_label": "version",
            },
        ],
    }


def config(router_admin_port, api_server, ca_file, token_file):
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            pod_discovery(api_server, ca_file, token_file),
            {
                "job_name": "router",
                "static_configs": [{"targets": [f"127.0.0.1:{router_admin_port}"]}],
            },
        ],
    }


def write_config(state_dir, router_admin_port, api_server, ca_file, token_file):
    """Write ``<state-dir>/prometheus.yml`` and return its path."""
    path = os.path.join(os.path.abspath(state_dir), "prometheus.yml")
    with open(path, "w") as handle:
        handle.write("# Written by `python -m sandbox up`; rewritten at every start.\n")
        yaml.safe_dump(
            config(router_admin_port, api_server, ca_file, token_file), handle, sort_keys=False
        )
    return path


def command(binary, config_path, state_dir, port):
    return [
        binary,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={os.path.join(os.path.abspath(state_dir), 'prometheus')}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=2h",
        "--web.enable-lifecycle",
    ]
