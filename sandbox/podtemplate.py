"""The pod-template hash shared by the sandbox API server and the sandbox kubelet.

Kubernetes labels each pod with ``pod-template-hash`` so that the Deployment
controller can tell pods of the current template from older ones. The sandbox
computes it the same way on both sides: a stable digest of the template.
"""

import hashlib
import json


def template_hash(template):
    """Return a 10-character hash of a pod template (a dict)."""
    canonical = json.dumps(template or {}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]
