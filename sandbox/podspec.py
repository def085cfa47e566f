"""What the node agent runs for a Pod's container: its version, catalog env and env.

Pure functions: the app version from the image tag, the env an image bakes in (from
the image catalog), and the container env with the downward API resolved.
"""

import re

import yaml

_LABEL_REF = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")
_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def app_version(image):
    """``yyc3/short-drama-frontend:1.1.0`` -> ``1.1.0``; no tag means ``latest``."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def load_images(path):
    """The image catalog (``sandbox/images.yaml``): image -> env the image bakes in."""
    with open(path) as handle:
        images = (yaml.safe_load(handle) or {}).get("images") or {}
    return {image: {k: str(v) for k, v in (env or {}).items()} for image, env in images.items()}


def field_value(field_path, metadata, pod_ip="127.0.0.1", host_ip=None, node_name="sandbox"):
    """Resolve a downward-API ``fieldRef.fieldPath`` against the pod's metadata."""
    match = _LABEL_REF.match(field_path)
    if match:
        return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))
    simple = {
        "metadata.name": metadata.get("name", ""),
        "metadata.namespace": metadata.get("namespace", ""),
        "metadata.uid": metadata.get("uid", ""),
        "status.podIP": pod_ip,
        "status.hostIP": host_ip or pod_ip,
        "spec.nodeName": node_name,
    }
    if field_path not in simple:
        raise ValueError(f"unsupported fieldRef.fieldPath {field_path!r}")
    return simple[field_path]


def resolve_env(env_list, metadata, **where):
    """Return the container env as a dict, in order, as the kubelet would set it.

    ``value`` may refer to earlier variables as ``$(NAME)``; ``valueFrom.fieldRef`` reads
    the pod's own metadata (``where``: ``pod_ip``, ``host_ip``, ``node_name``). Other sources (ConfigMap and Secret refs) raise ValueError,
    so an unsupported manifest fails loudly instead of running with a missing variable.
    """
    env = {}
    for item in env_list or []:
        name = item["name"]
        if "valueFrom" in item:
            ref = item["valueFrom"].get("fieldRef")
            if not ref:
                raise ValueError(f"env {name}: only valueFrom.fieldRef is supported")
            env[name] = field_value(ref["fieldPath"], metadata, **where)
        else:
            value = str(item.get("value", ""))
            env[name] = _VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)), value)
    return env
