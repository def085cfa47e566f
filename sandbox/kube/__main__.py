"""``python -m sandbox.kube build [--link DIR]``: find or build the sandbox's binaries.

Prints where each binary comes from. ``--link DIR`` also puts a ``kubectl`` of the
pinned release into DIR (``make`` links it into the venv, so that ``kubectl`` against
the sandbox is within the supported version skew).
"""

import argparse
import os
import sys
import time

from sandbox.kube import binaries


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandbox.kube", description=__doc__)
    parser.add_argument("command", choices=("build",))
    parser.add_argument("--link", help="directory to link kubectl into")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        found = binaries.ensure()
    except binaries.BinaryError as error:
        print(f"sandbox.kube build: {error}", file=sys.stderr)
        return 1
    for name, path in found.items():
        print(f"{name:<24} {path}")
    if args.link:
        link = os.path.join(args.link, "kubectl")
        if os.path.islink(link) or os.path.exists(link):
            os.unlink(link)
        os.symlink(found["kubectl"], link)
        print(f"{'kubectl':<24} linked as {link}")
    print(f"ready in {time.monotonic() - started:.0f} s")
    return 0


sys.exit(main())
