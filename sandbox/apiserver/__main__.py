"""Command line: ``python -m sandbox.apiserver --port 16443 [--pods-from-kubelet]``."""

import argparse
import signal
import sys
import threading

from sandbox.apiserver.server import ApiServer


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.apiserver",
        description="A small Kubernetes API test server (plain HTTP, no authentication).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=16443)
    parser.add_argument(
        "--rollout-delay",
        type=float,
        default=0.5,
        help="seconds until a new pod template counts as ready (simulated pods)",
    )
    parser.add_argument(
        "--pods-from-kubelet",
        action="store_true",
        help="count Deployment pods from Pod objects instead of simulating them",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    server = ApiServer(
        args.host, args.port, args.rollout_delay, args.pods_from_kubelet, args.verbose
    )
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    server.start()
    print(f"sandbox apiserver listening on {server.address}", file=sys.stderr, flush=True)
    stopping.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
