"""Load generator ceiling: requests per second of the built-in generator, next to ab, hey, wrk.

The built-in generator is Python threads on this host's two cores, so its ceiling
decides how much load a ``canary_load`` task can put on a canary at all. It is measured
against two targets, each with the same total and concurrency for every generator
(wrk, which only runs for a time, gets a duration instead):
one sandbox app process (``python -m sandbox.app``, a Python server, the slow side)
and a static nginx (Debian's, a fast server, so the generator is the limit). No
sandbox needed; both targets are started here on 127.0.0.1 and free ports, and
stopped at the end. A target or tool that is not installed is skipped with a message.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench.common import row
from sandbox.product import PROJECT_ROOT

REQUESTS = 5_000
CONCURRENCY = 50
WRK_SECONDS = 3
EXTERNAL_TOOLS = {"ab": "apache2-utils", "hey": "hey", "wrk": "wrk"}
# ab opens a connection per request; Python's listen backlog (5) drops some of those
# connects, and a dropped SYN is retried after 1, 3, 7, 15 s: a request may wait ~30 s.
TIMEOUT = 60
NGINX_CONFIG = """\
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url, process, limit=10.0):
    """True once ``url`` answers 200; False when the process died or ``limit`` passed."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_app(scratch):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "APP_VERSION": "bench", "TRACK": "stable"}
    log = open(os.path.join(scratch, "app.log"), "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.app"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
    )
    return process, log, f"http://127.0.0.1:{port}/api/health"


def start_nginx(scratch):
    root = os.path.join(scratch, "nginx")
    os.makedirs(os.path.join(root, "www"))
    # nginx's workers drop root for nobody, who must be able to reach the page.
    os.chmod(scratch, 0o755)
    with open(os.path.join(root, "www", "index.html"), "w") as handle:
        handle.write("ok\n")
    port = free_port()
    config = os.path.join(root, "nginx.conf")
    with open(config, "w") as handle:
        handle.write(NGINX_CONFIG.format(root=root, port=port))
    log = open(os.path.join(scratch, "nginx.log"), "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [shutil.which("nginx"), "-p", root, "-c", config], stdout=log, stderr=log
    )
    return process, log, f"http://127.0.0.1:{port}/index.html"


def measure_target(label, url):
    from ansible.module_utils.validation.loadreport import LoadTestError
    from ansible.module_utils.validation.loadtest import run

    figures = {}
    tools = ["builtin"] + [tool for tool in EXTERNAL_TOOLS if shutil.which(tool)]
    for tool in tools:
        budget = {"duration": WRK_SECONDS} if tool == "wrk" else {"requests": REQUESTS}
        options = {
            "url": url,
            "concurrency": CONCURRENCY,
            "tool": tool,
            "timeout": TIMEOUT,
            **budget,
        }
        try:
            report = run(options)
        except LoadTestError as exc:
            row(f"{label}, {tool}", f"failed: {exc}")
            continue
        p99 = report["latency_p99"]
        p99_text = "n/a" if p99 is None else f"{p99 * 1000:.1f} ms"
        row(
            f"{label}, {tool}",
            f"{report['requests_per_second']:.0f} req/s (p99 {p99_text}, "
            f"max {report['latency_max'] * 1000:.0f} ms, {report['errors']} errors, "
            f"{report['duration']:.2f} s)",
        )
        figures[tool] = {
            "requests_per_second": round(report["requests_per_second"], 1),
            "latency_p99": p99,
            "errors": report["errors"],
        }
    for tool, package in EXTERNAL_TOOLS.items():
        if tool not in tools:
            row(f"{label}, {tool}", f"skipped: {tool} is not installed (apt-get install {package})")
    return figures


def measure():
    print(
        f"\nLoad generator ceiling ({REQUESTS} requests, concurrency {CONCURRENCY}; "
        f"wrk for {WRK_SECONDS} s; builtin, hey and wrk keep connections alive, "
        "ab opens one per request)",
        flush=True,
    )
    figures = {"requests": REQUESTS, "concurrency": CONCURRENCY}
    starters = {"sandbox app": start_app, "static nginx": start_nginx}
    with tempfile.TemporaryDirectory(prefix="bench-loadtest-") as scratch:
        for label, starter in starters.items():
            if label == "static nginx" and not shutil.which("nginx"):
                row(label, "skipped: nginx is not installed (apt-get install nginx)")
                continue
            process, log, url = starter(scratch)
            try:
                if wait_until_serving(url, process):
                    figures[label] = measure_target(label, url)
                else:
                    row(label, "skipped: it did not start (see its log)")
            finally:
                stop(process)
                log.close()
    return figures


if __name__ == "__main__":
    measure()
