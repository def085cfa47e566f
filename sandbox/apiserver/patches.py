"""The three patch formats of the Kubernetes API.

- JSON merge patch (RFC 7386): maps merge, ``null`` deletes, lists replace.
- JSON patch (RFC 6902): a list of operations on JSON pointers.
- Strategic merge patch: a merge patch where some lists merge element by element on a
  merge key (``containers`` by ``name``...). The real server reads merge keys from the Go
  struct tags of built-in types; this server keeps the ones the project meets in
  MERGE_KEYS and replaces every other list.
"""

import copy

from sandbox.apiserver.errors import ApiError, bad_request

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

# List field -> merge key. "ports" depends on where it sits: see _merge_key.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "ownerReferences": "uid",
    "conditions": "type",
}


def merge_patch(target, patch):
    """Apply an RFC 7386 merge patch and return the result (inputs are not modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer: {path!r}")
    return [_unescape(token) for token in path[1:].split("/")]


def _index(container, token, for_insert=False):
    if token == "-" and for_insert:
        return len(container)
    if not token.isdigit():
        raise _patch_failed(f"invalid list index {token!r}")
    index = int(token)
    limit = len(container) if for_insert else len(container) - 1
    if index > limit:
        raise _patch_failed(f"list index {index} out of range")
    return index


def _patch_failed(message):
    return ApiError(422, "Invalid", f"the server rejected our request: {message}")


def _parent(doc, tokens):
    """Walk to the container holding the last token of a pointer."""
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, list):
            node = node[_index(node, token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise _patch_failed(f"path segment {token!r} does not exist")
    return node


def _get(doc, tokens):
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, list):
        return parent[_index(parent, last)]
    if not isinstance(parent, dict) or last not in parent:
        raise _patch_failed(f"path {'/' + '/'.join(tokens)!r} does not exist")
    return parent[last]


def _add(doc, tokens, value):
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, list):
        parent.insert(_index(parent, last, for_insert=True), value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise _patch_failed(f"cannot add to a {type(parent).__name__}")
    return doc


def _remove(doc, tokens):
    value = _get(doc, tokens)
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, list):
        del parent[_index(parent, last)]
    else:
        del parent[last]
    return value


def json_patch(target, operations):
    """Apply an RFC 6902 JSON patch; a failed ``test`` or a bad path is a 422."""
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for operation in operations:
        op, tokens = operation.get("op"), _pointer(operation.get("path", ""))
        if op == "add":
            doc = _add(doc, tokens, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(doc, tokens)
        elif op == "replace":
            _get(doc, tokens)
            if tokens:
                parent = _parent(doc, tokens)
                key = _index(parent, tokens[-1]) if isinstance(parent, list) else tokens[-1]
                parent[key] = copy.deepcopy(operation.get("value"))
            else:
                doc = copy.deepcopy(operation.get("value"))
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from", ""))
            value = _remove(doc, source) if op == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, tokens, value)
        elif op == "test":
            if _get(doc, tokens) != operation.get("value"):
                raise _patch_failed(
                    f"testing value {operation.get('path')} failed: "
                    f"expected {operation.get('value')!r}"
                )
        else:
            raise bad_request(f"unexpected JSON patch operation {op!r}")
    return doc


def _merge_key(path, field):
    """Return the merge key of a list field at a path, or None when the list replaces."""
    if field == "ports":
        return "containerPort" if any(p in _CONTAINER_LISTS for p in path) else "port"
    return MERGE_KEYS.get(field)


def _order_by(items, key, order):
    """Honour a ``$setElementOrder`` list: listed keys first in that order, others after."""
    rank = {entry.get(key): position for position, entry in enumerate(order)}
    return sorted(items, key=lambda item: rank.get(item.get(key), len(rank)))


def _merge_list(original, patch, key, path):
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [item for item in patch if not (isinstance(item, dict) and "$patch" in item)]
    result = copy.deepcopy(original) if isinstance(original, list) else []
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(copy.deepcopy(item))
            continue
        position = next(
            (
                i
                for i, old in enumerate(result)
                if isinstance(old, dict) and old.get(key) == item[key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if position is not None:
                del result[position]
        elif position is None:
            result.append(strategic_merge({}, item, path))
        else:
            result[position] = strategic_merge(result[position], item, path)
    return result


def strategic_merge(original, patch, path=()):
    """Apply a strategic merge patch to a map and return the result.

    Directives: ``$patch: replace`` / ``$patch: delete`` on maps and list elements,
    ``$setElementOrder/<list>`` (honoured for merge-keyed lists),
    ``$deleteFromPrimitiveList/<list>`` and ``$retainKeys`` (ignored: keys the patch
    leaves out are kept).
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    orders = {}
    for name, value in patch.items():
        if name.startswith("$setElementOrder/"):
            orders[name.split("/", 1)[1]] = value
        elif name.startswith("$deleteFromPrimitiveList/"):
            field = name.split("/", 1)[1]
            result[field] = [item for item in result.get(field) or [] if item not in value]
    for name, value in patch.items():
        if name.startswith("$"):
            continue
        if value is None:
            result.pop(name, None)
            continue
        key = _merge_key(path, name)
        if isinstance(value, list) and key:
            result[name] = _merge_list(result.get(name), value, key, (*path, name))
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(name), value, (*path, name))
            if merged is None:
                result.pop(name, None)
            else:
                result[name] = merged
        else:
            result[name] = copy.deepcopy(value)
    for name, order in orders.items():
        key = _merge_key(path, name)
        if key and isinstance(result.get(name), list):
            result[name] = _order_by(result[name], key, order)
    return result
