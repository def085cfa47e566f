"""The verbs of the API (get, list, create, update, patch, delete) with their semantics.

This is where the real server's generic registry rules live: system metadata
(uid, creationTimestamp, generation), optimistic concurrency on resourceVersion,
status subresource separation, dry-run, namespace existence and cascade, and
garbage collection of dependents through ownerReferences.
"""

import copy
import datetime
import json
import random
import uuid

import yaml

from sandbox.apiserver.defaults import ClusterIPs, apply_defaults, initial_status
from sandbox.apiserver.errors import (
    already_exists,
    bad_request,
    conflict,
    invalid,
    not_found,
    unsupported_media_type,
)
from sandbox.apiserver.patches import json_patch, merge_patch, strategic_merge
from sandbox.apiserver.resources import NAMESPACES, RESOURCES
from sandbox.apiserver.scale import to_scale
from sandbox.apiserver.validation import check_name, check_namespace, check_object, check_type

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# The alphabet Kubernetes uses for generateName suffixes (no vowels, no look-alikes).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Fields whose change is not a spec change: they never bump metadata.generation.
_NOT_SPEC = ("apiVersion", "kind", "metadata", "status")


def timestamp():
    """The current time in the RFC 3339 form Kubernetes writes (second precision, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec_of(obj):
    return {key: value for key, value in obj.items() if key not in _NOT_SPEC}


def _apply_patch(current, content_type, patch, custom=False):
    if content_type == JSON_PATCH:
        return json_patch(current, patch)
    if content_type == MERGE_PATCH or (content_type == APPLY_PATCH and custom):
        return merge_patch(current, patch)
    return strategic_merge(current, patch)


def decode_patch(content_type, raw, custom=False):
    """Parse a patch body; 415 for a patch type the resource does not accept.

    Custom resources (CRDs in a real cluster) do not accept strategic merge patches;
    clients such as kubernetes.core fall back to a merge patch on that 415.
    """
    accepted = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
    if not custom:
        accepted.insert(2, STRATEGIC_PATCH)
    if content_type not in accepted:
        raise unsupported_media_type(accepted)
    try:
        if content_type == APPLY_PATCH:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as error:
        raise bad_request(f"error decoding patch: {error}") from error


class Registry:
    """All reads and writes of API objects go through here."""

    def __init__(self, store):
        self.store = store
        self.cluster_ips = ClusterIPs()

    def get(self, resource, namespace, name):
        obj = self.store.get(resource, namespace, name)
        if obj is None:
            raise not_found(resource, name)
        return obj

    def list(self, resource, namespace, matches):
        items, revision = self.store.list(resource, namespace)
        return {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(revision)},
            "items": [obj for obj in items if matches(obj)],
        }

    def create(self, resource, namespace, body, dry_run=False):
        """Create an object; the namespace must exist and the name must be free."""
        obj = self._identify(resource, namespace, body)
        metadata = obj["metadata"]
        if not metadata.get("name") and metadata.get("generateName"):
            suffix = "".join(random.choices(_SUFFIX_ALPHABET, k=5))
            metadata["name"] = metadata["generateName"] + suffix
        check_name(resource, metadata.get("name"))
        with self.store.lock:
            if resource.namespaced and self.store.get(NAMESPACES, None, namespace) is None:
                raise not_found(NAMESPACES, namespace)
            if self.store.get(resource, namespace, metadata["name"]) is not None:
                raise already_exists(resource, metadata["name"])
            for key in ("resourceVersion", "deletionTimestamp", "managedFields"):
                metadata.pop(key, None)
            metadata.update(uid=str(uuid.uuid4()), creationTimestamp=timestamp(), generation=1)
            if resource.status:
                obj["status"] = initial_status(resource, obj)
            apply_defaults(resource, obj, None, self.cluster_ips)
            check_object(resource, obj)
            if dry_run:
                return obj
            return self.store.put(resource, obj)

    def update(self, resource, namespace, name, body, dry_run=False):
        """Replace an object (PUT). A stale metadata.resourceVersion is a 409 Conflict."""
        obj = self._identify(resource, namespace, body)
        if obj["metadata"].get("name") != name:
            raise bad_request(
                f"the name of the object ({obj['metadata'].get('name')}) does not match the "
                f"name on the URL ({name})"
            )
        with self.store.lock:
            old = self.get(resource, namespace, name)
            self._check_version(resource, old, obj["metadata"])
            if resource.status:
                obj.pop("status", None)
                if "status" in old:
                    obj["status"] = old["status"]
            return self._write(resource, old, obj, dry_run)

    def update_status(self, resource, namespace, name, body, dry_run=False):
        """Replace only .status (PUT .../status); spec and metadata stay as stored."""
        check_type(resource, body)
        with self.store.lock:
            old = self.get(resource, namespace, name)
            self._check_version(resource, old, body.get("metadata") or {})
            obj = copy.deepcopy(old)
            obj["status"] = copy.deepcopy(body.get("status") or {})
            return self._write(resource, old, obj, dry_run)

    def patch(self, resource, namespace, name, content_type, raw, dry_run=False, status=False):
        """Patch an object or its status.

        Server-side apply (``application/apply-patch+yaml``) is create-or-merge here: a
        missing object is created from the applied configuration, an existing one gets it
        as a strategic merge patch (a merge patch for custom resources). Unlike the real
        server there is no field ownership: fields dropped from the applied configuration
        are not removed, and conflicts between field managers are never reported.
        """
        patch = decode_patch(content_type, raw, resource.custom)
        with self.store.lock:
            old = self.store.get(resource, namespace, name)
            if old is None and content_type == APPLY_PATCH and not status:
                check_type(resource, patch)
                if (patch.get("metadata") or {}).get("name") != name:
                    raise bad_request("the name in the applied configuration must match the URL")
                return self.create(resource, namespace, patch, dry_run)
            if old is None:
                raise not_found(resource, name)
            patched = _apply_patch(old, content_type, patch, resource.custom)
            if status:
                return self.update_status(resource, namespace, name, patched, dry_run)
            return self.update(resource, namespace, name, patched, dry_run)

    def delete(self, resource, namespace, name, dry_run=False, orphan=False):
        """Delete an object and return its last state.

        Deleting a namespace deletes everything in it; deleting anything else deletes its
        dependents (objects whose ownerReferences name its uid) unless the propagation
        policy is Orphan. The real server does both asynchronously; here it is immediate.
        """
        with self.store.lock:
            obj = self.get(resource, namespace, name)
            if dry_run:
                return obj
            if resource is NAMESPACES:
                for member, member_name in self.store.namespaced_keys(name):
                    self.store.remove(member, name, member_name)
            elif not orphan:
                self._delete_dependents(namespace, obj["metadata"]["uid"])
            return self.store.remove(resource, namespace, name)

    def delete_collection(self, resource, namespace, matches, dry_run=False, orphan=False):
        with self.store.lock:
            items, _ = self.store.list(resource, namespace)
            for obj in items:
                if matches(obj) and not dry_run:
                    metadata = obj["metadata"]
                    self.delete(
                        resource, metadata.get("namespace"), metadata["name"], orphan=orphan
                    )
        details = {"kind": resource.plural}
        if resource.group:
            details["group"] = resource.group
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    def get_scale(self, resource, namespace, name):
        return to_scale(self.get(resource, namespace, name))

    def update_scale(self, resource, namespace, name, body, dry_run=False):
        """Set spec.replicas from a Scale object; the Scale's resourceVersion is a precondition."""
        if not isinstance(body, dict):
            raise bad_request("the request body must be a Scale object")
        replicas = (body.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise invalid(
                resource,
                name,
                "spec.replicas",
                f"Invalid value: {replicas!r}: must be greater than or equal to 0",
            )
        with self.store.lock:
            old = self.get(resource, namespace, name)
            self._check_version(resource, old, body.get("metadata") or {})
            obj = copy.deepcopy(old)
            obj["spec"]["replicas"] = replicas
            return to_scale(self._write(resource, old, obj, dry_run))

    def patch_scale(self, resource, namespace, name, content_type, raw, dry_run=False):
        patch = decode_patch(content_type, raw)
        with self.store.lock:
            scale = self.get_scale(resource, namespace, name)
            patched = _apply_patch(scale, content_type, patch)
            return self.update_scale(resource, namespace, name, patched, dry_run)

    def set_status(self, resource, namespace, name, status):
        """Write a controller-computed status unless it is unchanged (no event then)."""
        with self.store.lock:
            obj = self.store.get(resource, namespace, name)
            if obj is None or obj.get("status") == status:
                return
            obj["status"] = status
            self.store.put(resource, obj)

    def _identify(self, resource, namespace, body):
        """Copy a request body and pin its apiVersion, kind and namespace to the URL."""
        check_type(resource, body)
        obj = copy.deepcopy(body)
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        metadata = obj.setdefault("metadata", {})
        if resource.namespaced:
            check_namespace(obj, namespace)
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        return obj

    @staticmethod
    def _check_version(resource, old, metadata):
        version = metadata.get("resourceVersion")
        if version and version != old["metadata"]["resourceVersion"]:
            raise conflict(resource, old["metadata"]["name"])

    def _write(self, resource, old, obj, dry_run):
        """Store an update: keep system metadata, default, validate, bump generation.

        An update that changes nothing is not written, so it neither bumps the
        resourceVersion nor wakes watchers, as on a real server.
        """
        metadata = obj["metadata"]
        for key in ("uid", "creationTimestamp", "generation", "resourceVersion"):
            metadata[key] = old["metadata"][key]
        apply_defaults(resource, obj, old, self.cluster_ips)
        check_object(resource, obj)
        if _spec_of(obj) != _spec_of(old):
            metadata["generation"] = old["metadata"]["generation"] + 1
        if dry_run or obj == old:
            return obj
        return self.store.put(resource, obj)

    def _delete_dependents(self, namespace, uid):
        for resource in RESOURCES:
            if not resource.namespaced or not namespace:
                continue
            items, _ = self.store.list(resource, namespace)
            for item in items:
                references = item["metadata"].get("ownerReferences") or []
                if any(reference.get("uid") == uid for reference in references):
                    self.delete(resource, namespace, item["metadata"]["name"])
