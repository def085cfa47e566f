"""Watch streams: the events of one resource, filtered the way kube-apiserver filters them.

With a selector, an object that starts matching arrives as ADDED and one that stops
matching as DELETED, so a client's cache always equals "what the selector matches".
"""

import time

from sandbox.apiserver.errors import ApiError

# kube-apiserver ends a watch without timeoutSeconds after its minimum request timeout.
DEFAULT_TIMEOUT = 1800


def _translate(event, namespace, matches):
    """Return the event type seen through a namespace and selector filter, or None."""
    if namespace is not None and event.new["metadata"].get("namespace") != namespace:
        return None
    was = event.old is not None and matches(event.old)
    if event.type == "DELETED":
        return "DELETED" if was else None
    now = matches(event.new)
    if now:
        return "MODIFIED" if was else "ADDED"
    return "DELETED" if was else None


def stream(store, resource, namespace, matches, resource_version, timeout, alive):
    """Yield watch events (dicts) until the timeout ends, the store closes or ``alive()``
    turns false (the client went away: checked every second while idle).

    ``resource_version`` "0" or empty starts with an ADDED event per current object
    (the "get state and start watching" semantics); any other value resumes after it.
    A resourceVersion older than the store's change log yields one ERROR event (410).
    """
    deadline = time.monotonic() + timeout
    if resource_version in (None, "", "0"):
        items, seen = store.list(resource, namespace)
        for obj in items:
            if matches(obj):
                yield {"type": "ADDED", "object": obj}
    else:
        seen = int(resource_version)
    while True:
        try:
            events, seen = store.events_after(resource, seen)
        except ApiError as error:
            yield {"type": "ERROR", "object": error.status()}
            return
        for event in events:
            kind = _translate(event, namespace, matches)
            if kind:
                yield {"type": kind, "object": event.new}
        remaining = deadline - time.monotonic()
        if remaining <= 0 or store.closed or not alive():
            return
        store.wait(seen, min(remaining, 1.0))
