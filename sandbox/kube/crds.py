"""Install the upstream CustomResourceDefinitions listed in ``crds.yaml``.

Each source is a Go module at a pinned version: ``go mod download`` fetches it into
Go's module cache (once per machine), its hash is compared with the pinned ``sum``, and
the named files are applied unchanged. A CRD is ready when the API server reports it
``Established``.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import yaml

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crds.yaml")


class CRDError(Exception):
    """A source cannot be fetched or verified, or a CRD is refused."""


def load_sources(path=SOURCES):
    with open(path) as handle:
        return yaml.safe_load(handle)["sources"]


def module_dir(source, environ=None):
    """Where Go keeps the module's files, after checking the pinned hash."""
    environ = dict(os.environ if environ is None else environ)
    go = shutil.which("go", path=environ.get("PATH"))
    if not go:
        raise CRDError(f"Go is needed to fetch the CRDs of {source['module']} (go mod download)")
    ref = f"{source['module']}@{source['version']}"
    # Outside any module, so that nothing but this one module is resolved.
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [go, "mod", "download", "-json", ref],
            cwd=scratch,
            env={**environ, "GO111MODULE": "on", "GOFLAGS": "-mod=mod"},
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        info = json.loads(result.stdout)
    except ValueError:
        raise CRDError(f"go mod download {ref} failed: {result.stderr.strip()}") from None
    if info.get("Error") or result.returncode != 0:
        raise CRDError(f"go mod download {ref} failed: {info.get('Error') or result.stderr}")
    if info.get("Sum") != source["sum"]:
        raise CRDError(f"{ref} has hash {info.get('Sum')}, crds.yaml pins {source['sum']}")
    return info["Dir"]


def definitions(sources=None, environ=None):
    """Every CRD object the sources name, in order."""
    found = []
    for source in load_sources() if sources is None else sources:
        root = module_dir(source, environ)
        wanted = set(source.get("crds") or ())
        for relative in source["files"]:
            with open(os.path.join(root, relative)) as handle:
                documents = [d for d in yaml.safe_load_all(handle) if d]
            for document in documents:
                if document.get("kind") != "CustomResourceDefinition":
                    continue
                if wanted and document["metadata"]["name"] not in wanted:
                    continue
                found.append(document)
        missing = wanted - {d["metadata"]["name"] for d in found}
        if missing:
            raise CRDError(f"{source['module']}: no CRD named {', '.join(sorted(missing))}")
    return found


def established(crd):
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def install(client, crds, timeout=30.0):
    """Create each CRD (replace an older copy) and wait until all are Established.

    ``client`` is a ``sandbox.kubeapi.Client`` with the rights to manage CRDs.
    """
    for crd in crds:
        client.apply(crd)
    deadline = time.monotonic() + timeout
    pending = [crd["metadata"]["name"] for crd in crds]
    while pending:
        pending = [
            name
            for name in pending
            if not established(client.get("CustomResourceDefinition", None, name) or {})
        ]
        if pending and time.monotonic() > deadline:
            raise CRDError(f"CRDs not Established after {timeout:.0f} s: {', '.join(pending)}")
        if pending:
            time.sleep(0.2)
