"""The autoscaling/v1 Scale view of a Deployment or ReplicaSet (the /scale subresource).

``kubectl scale`` and kubernetes.core.k8s_scale read and write replicas through it;
``status.selector`` is the label selector in its string form, as HPA consumers expect.
"""


def selector_string(selector):
    """Render a LabelSelector object as a selector string (``app=web,tier in (a,b)``)."""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    operators = {"In": "in", "NotIn": "notin"}
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        if operator in operators:
            values = ",".join(sorted(expression.get("values") or []))
            terms.append(f"{key} {operators[operator]} ({values})")
        else:
            terms.append(key if operator == "Exists" else f"!{key}")
    return ",".join(terms)


def to_scale(obj):
    """Return the Scale object for a stored Deployment or ReplicaSet."""
    metadata = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: metadata[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in metadata
        },
        "spec": {"replicas": obj["spec"].get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": selector_string(obj["spec"].get("selector") or {}),
        },
    }
