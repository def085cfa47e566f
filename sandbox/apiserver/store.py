"""In-memory object storage with one global resourceVersion counter and a change log.

Like etcd behind kube-apiserver, every write bumps a single revision and the object
carries it as ``metadata.resourceVersion``. The bounded change log lets watches resume
from a resourceVersion; asking for one older than the log answers 410 Expired, which
clients handle by listing again.
"""

import collections
import copy
import threading

from sandbox.apiserver.errors import gone


class Event:
    """One committed change: ``old`` is None for ADDED, ``new`` is the last state for DELETED."""

    def __init__(self, revision, resource, kind, old, new):
        self.revision = revision
        self.resource = resource
        self.type = kind
        self.old = old
        self.new = new


class Store:
    """Objects keyed by (resource, namespace, name); all reads return copies.

    ``lock`` is reentrant: the registry holds it across a read-modify-write so that
    concurrent patches of one object cannot interleave.
    """

    def __init__(self, history=10000):
        self.lock = threading.Condition(threading.RLock())
        self._objects = {}
        self._revision = 0
        self._log = collections.deque(maxlen=history)
        self._listeners = []
        self.closed = False

    def subscribe(self, listener):
        """Call ``listener(event)`` after every commit (under the lock: keep it short)."""
        self._listeners.append(listener)

    def get(self, resource, namespace, name):
        with self.lock:
            return copy.deepcopy(self._objects.get((resource, namespace or "", name)))

    def list(self, resource, namespace=None):
        """Return (objects sorted by namespace and name, current revision)."""
        with self.lock:
            items = [
                copy.deepcopy(obj)
                for (res, ns, _), obj in sorted(
                    self._objects.items(), key=lambda entry: entry[0][1:]
                )
                if res == resource and (namespace is None or ns == namespace)
            ]
            return items, self._revision

    def namespaced_keys(self, namespace):
        """Return (resource, name) of every object in a namespace (for namespace cascade)."""
        with self.lock:
            return [(res, name) for (res, ns, name) in self._objects if ns == namespace]

    def put(self, resource, obj):
        """Store an object with the next resourceVersion and return a copy of it."""
        with self.lock:
            metadata = obj["metadata"]
            key = (resource, metadata.get("namespace") or "", metadata["name"])
            old = self._objects.get(key)
            self._revision += 1
            stored = copy.deepcopy(obj)
            stored["metadata"]["resourceVersion"] = str(self._revision)
            self._objects[key] = stored
            self._commit(resource, "MODIFIED" if old else "ADDED", old, stored)
            return copy.deepcopy(stored)

    def remove(self, resource, namespace, name):
        """Delete an object; return its last state stamped with the deletion revision."""
        with self.lock:
            old = self._objects.pop((resource, namespace or "", name))
            self._revision += 1
            last = copy.deepcopy(old)
            last["metadata"]["resourceVersion"] = str(self._revision)
            self._commit(resource, "DELETED", old, last)
            return copy.deepcopy(last)

    def _commit(self, resource, kind, old, new):
        event = Event(self._revision, resource, kind, old, new)
        self._log.append(event)
        for listener in self._listeners:
            listener(event)
        self.lock.notify_all()

    def events_after(self, resource, revision):
        """Return (events of a resource after ``revision``, the current revision).

        Both come from one moment, so a watcher that next waits for changes after the
        returned revision misses nothing.
        """
        with self.lock:
            if self._log and revision < self._log[0].revision - 1:
                raise gone(revision)
            events = [e for e in self._log if e.revision > revision and e.resource == resource]
            return events, self._revision

    def wait(self, revision, timeout):
        """Block until the revision moves past ``revision``, the timeout ends or close()."""
        with self.lock:
            self.lock.wait_for(
                lambda: self.closed or self._revision > revision, timeout=max(timeout, 0)
            )
            return self._revision

    def close(self):
        """Wake every watcher so that open streams end at shutdown."""
        with self.lock:
            self.closed = True
            self.lock.notify_all()
