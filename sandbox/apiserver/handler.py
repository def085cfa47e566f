"""The HTTP layer: decode a request, call the registry, encode the answer.

Every response is JSON; every error is a Status object with the HTTP code it names.
Watches are newline-delimited JSON events in a chunked response, as kube-apiserver
sends them.
"""

import json
import select
import socket
import traceback
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import yaml

from sandbox.apiserver import discovery, openapi, routes, watch
from sandbox.apiserver.errors import (
    ApiError,
    bad_request,
    method_not_allowed,
    path_not_found,
    unsupported_media_type,
)
from sandbox.apiserver.selectors import parse_field_selector, parse_label_selector

HEALTH_PATHS = ("/healthz", "/readyz", "/livez")


def _flag(value):
    return value in ("true", "1", "True")


class ApiHandler(BaseHTTPRequestHandler):
    """One request. ``registry`` and ``verbose`` are set on the subclass the server makes."""

    protocol_version = "HTTP/1.1"
    server_version = "sandbox-apiserver"
    # Without it, small responses on a kept-alive connection wait for the client's
    # delayed ACK (Nagle), about 40 ms each.
    disable_nagle_algorithm = True
    registry = None
    verbose = False

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def _handle(self, method):
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        try:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path in HEALTH_PATHS:
                self._send(200, b"ok", "text/plain")
                return
            answer = self._dispatch(method, url.path, query, raw)
            if answer is not None:
                self._send_json(200 if method != "POST" else 201, answer)
        except ApiError as error:
            self._send_json(error.code, error.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # a bug must answer 500, not hang the client
            traceback.print_exc()
            self._send_json(
                500, ApiError(500, "InternalError", f"internal error: {error}").status()
            )

    def _dispatch(self, method, path, query, raw):
        """Return the response body, or None when the response was already streamed."""
        parts = [part for part in path.split("/") if part]
        if method == "GET":
            document = self._discovery(parts)
            if document is not None:
                return document
        route = routes.parse(parts)
        dry_run = query.get("dryRun") == "All"
        if method == "GET":
            return self._read(route, query)
        if method == "POST" and route.name is None:
            return self.registry.create(route.resource, route.namespace, self._body(raw), dry_run)
        if method == "PUT" and route.name:
            return self._update(route, self._body(raw), dry_run)
        if method == "PATCH" and route.name:
            return self._patch(route, raw, dry_run)
        if method == "DELETE" and route.subresource is None:
            return self._delete(route, query, raw, dry_run)
        raise method_not_allowed()

    def _discovery(self, parts):
        """Return a discovery document for discovery paths, None for anything else."""
        if parts == ["version"]:
            return discovery.VERSION
        if parts == ["api"]:
            return discovery.api_versions("{}:{}".format(*self.server.server_address[:2]))
        if parts == ["apis"]:
            return discovery.api_group_list()
        if parts == ["openapi", "v3"]:
            return openapi.root()
        if parts[:2] == ["openapi", "v3"]:
            document = openapi.group_version_document(parts[2:])
            if document is None:
                raise path_not_found()
            return document
        if parts[:1] == ["openapi"]:
            raise path_not_found()
        if parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"):
            document = discovery.resource_list(parts[1] if parts[0] == "apis" else "", parts[-1])
            if document is None:
                raise path_not_found()
            return document
        return None

    def _read(self, route, query):
        resource, namespace = route.resource, route.namespace
        if route.name:
            if route.subresource == "scale":
                return self.registry.get_scale(resource, namespace, route.name)
            return self.registry.get(resource, namespace, route.name)
        matches = self._selector(route, query)
        if not _flag(query.get("watch")):
            return self.registry.list(resource, namespace, matches)
        version = query.get("resourceVersion")
        if version not in (None, "") and not version.isdigit():
            raise bad_request(f"invalid resource version: {version}")
        timeout = int(query.get("timeoutSeconds") or watch.DEFAULT_TIMEOUT)
        events = watch.stream(
            self.registry.store, resource, namespace, matches, version, timeout, self._alive
        )
        self._stream(events)
        return None

    def _update(self, route, body, dry_run):
        resource, namespace, name = route.resource, route.namespace, route.name
        if route.subresource == "status":
            return self.registry.update_status(resource, namespace, name, body, dry_run)
        if route.subresource == "scale":
            return self.registry.update_scale(resource, namespace, name, body, dry_run)
        return self.registry.update(resource, namespace, name, body, dry_run)

    def _patch(self, route, raw, dry_run):
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        args = (route.resource, route.namespace, route.name, content_type, raw, dry_run)
        if route.subresource == "scale":
            return self.registry.patch_scale(*args)
        return self.registry.patch(*args, status=route.subresource == "status")

    def _delete(self, route, query, raw, dry_run):
        """Delete one object or a collection; DeleteOptions may come in the body or query."""
        options = self._body(raw) if raw.strip() else {}
        dry_run = dry_run or "All" in (options.get("dryRun") or [])
        policy = query.get("propagationPolicy") or options.get("propagationPolicy")
        orphan = policy == "Orphan"
        if route.name:
            return self.registry.delete(
                route.resource, route.namespace, route.name, dry_run, orphan
            )
        matches = self._selector(route, query)
        return self.registry.delete_collection(
            route.resource, route.namespace, matches, dry_run, orphan
        )

    @staticmethod
    def _selector(route, query):
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), route.resource)
        return lambda obj: labels(obj) and fields(obj)

    def _body(self, raw):
        content_type = self.headers.get("Content-Type") or "application/json"
        if "protobuf" in content_type or "cbor" in content_type:
            raise unsupported_media_type(["application/json", "application/yaml"])
        try:
            if "yaml" in content_type:
                return yaml.safe_load(raw)
            return json.loads(raw or b"null")
        except (ValueError, yaml.YAMLError) as error:
            raise bad_request(f"unable to decode the request body: {error}") from error

    def _alive(self):
        """True while the client keeps the connection open (a closed socket reads as EOF)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return not readable or bool(self.connection.recv(1, socket.MSG_PEEK))
        except OSError:
            return False

    def _stream(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            data = json.dumps(event).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_json(self, code, body):
        self._send(code, json.dumps(body).encode(), "application/json")

    def _send(self, code, data, content_type):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
