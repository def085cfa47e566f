"""API errors, rendered as ``kind: Status`` objects the way kube-apiserver writes them.

kubectl prints ``Error from server (<reason>): <message>``, and client libraries
branch on ``reason`` and ``code``, so the wording follows the real server.
"""

DNS_1123_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS_1123_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


class ApiError(Exception):
    """An error response: HTTP code, Status reason, message and details."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self):
        """Return the Status object sent as the response body."""
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(resource, name):
    details = {"name": name, "kind": resource.plural}
    if resource.group:
        details["group"] = resource.group
    return details


def not_found(resource, name):
    return ApiError(
        404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name)
    )


def already_exists(resource, name):
    return ApiError(
        409,
        "AlreadyExists",
        f'{resource.qualified} "{name}" already exists',
        _details(resource, name),
    )


def conflict(resource, name):
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(resource, name),
    )


def invalid(resource, name, field, detail, reason="FieldValueInvalid"):
    """A 422 for one bad field; ``detail`` is the part after ``<field>: ``."""
    details = {
        "name": name,
        "kind": resource.kind,
        "causes": [{"reason": reason, "message": detail, "field": field}],
    }
    if resource.group:
        details["group"] = resource.group
    return ApiError(
        422, "Invalid", f'{resource.kind} "{name}" is invalid: {field}: {detail}', details
    )


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def method_not_allowed():
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def unsupported_media_type(accepted):
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def gone(resource_version):
    return ApiError(410, "Expired", f"too old resource version: {resource_version}")


def path_not_found():
    return ApiError(404, "NotFound", "the server could not find the requested resource")
