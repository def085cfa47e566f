"""The Prometheus side of the sandbox: its config and its command line.

Debian's prometheus runs as a plain process. It finds the app pods through the file_sd
file the kubelet rewrites (``<state-dir>/file_sd/*.json``) and scrapes the router's
admin port. A 1 s scrape and evaluation interval make a change in error rate visible in
a ``[5s]`` rate within a few seconds, which keeps release tests short.
``honor_labels`` keeps the apps' own ``track`` and ``version`` labels authoritative.
"""

import os

import yaml


def config(state_dir, router_admin_port):
    file_sd = os.path.join(os.path.abspath(state_dir), "file_sd", "*.json")
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {
                "job_name": "apps",
                "honor_labels": True,
                "file_sd_configs": [{"files": [file_sd], "refresh_interval": "1s"}],
            },
            {
                "job_name": "router",
                "static_configs": [{"targets": [f"127.0.0.1:{router_admin_port}"]}],
            },
        ],
    }


def write_config(state_dir, router_admin_port):
    """Write ``<state-dir>/prometheus.yml`` and return its path."""
    path = os.path.join(os.path.abspath(state_dir), "prometheus.yml")
    with open(path, "w") as handle:
        handle.write("# Written by `python -m sandbox up`; rewritten at every start.\n")
        yaml.safe_dump(config(state_dir, router_admin_port), handle, sort_keys=False)
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
