"""In-memory stand-ins: for module_utils.cluster.Cluster, and a clock for the wait loops.

The cluster keeps the semantics the release logic relies on: missing objects read as
None, create of an existing object and replace with a stale resourceVersion
raise Conflict, and every write bumps resourceVersion.
"""

import copy
import itertools

from ansible.module_utils.cluster import Conflict


class FakeCluster:
    def __init__(self, dry_run=False):
        self.objects = {}
        self.dry_run = dry_run
        self.writes = 0
        self._versions = itertools.count(1)

    @staticmethod
    def _key(api_version, kind, name, namespace):
        return (api_version, kind, namespace or "", name)

    def add(self, definition):
        definition = copy.deepcopy(definition)
        meta = definition["metadata"]
        meta["resourceVersion"] = str(next(self._versions))
        key = self._key(
            definition["apiVersion"], definition["kind"], meta["name"], meta.get("namespace")
        )
        self.objects[key] = definition
        return copy.deepcopy(definition)

    def get(self, api_version, kind, name, namespace=None):
        found = self.objects.get(self._key(api_version, kind, name, namespace))
        return copy.deepcopy(found)

    def _write(self, definition):
        self.writes += 1
        if self.dry_run:
            return copy.deepcopy(definition)
        return self.add(definition)

    def create(self, definition):
        meta = definition["metadata"]
        if self.get(
            definition["apiVersion"], definition["kind"], meta["name"], meta.get("namespace")
        ):
            raise Conflict(f"{definition['kind']} {meta['name']} already exists")
        return self._write(definition)

    def replace(self, definition):
        meta = definition["metadata"]
        current = self.get(
            definition["apiVersion"], definition["kind"], meta["name"], meta.get("namespace")
        )
        if current is None:
            raise KeyError(meta["name"])
        wanted = meta.get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise Conflict("the object has been modified")
        return self._write(definition)

    def merge_patch(self, api_version, kind, name, namespace, patch):
        current = self.get(api_version, kind, name, namespace)
        if current is None:
            raise KeyError(name)

        def merge(target, change):
            for key, value in change.items():
                if value is None:
                    target.pop(key, None)
                elif isinstance(value, dict) and isinstance(target.get(key), dict):
                    merge(target[key], value)
                else:
                    target[key] = copy.deepcopy(value)

        merge(current, patch)
        return self._write(current)


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds
