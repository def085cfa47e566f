"""An in-memory AWX API, enough of it for the awx.awx modules awx_setup.yml runs.

Listens on 127.0.0.1 and a free port. It keeps objects per endpoint and answers as the
AWX API v2 does where the modules look: list views filtered by field (with the
``or__`` lookups of name-or-id searches), detail views with ``url``, ``type`` and
``related`` links, PATCH, the survey_spec and association sub-resources, the unified
job templates list, approval templates created on a workflow node. Like AWX, it refuses
a job template whose playbook, or an inventory source whose path, is not in the
project's checkout (here: a local directory given as the project's scm_url
``file://...``), a survey spec that AWX's validation refuses, a reference to an object
that does not exist, and hides secret credential inputs as ``$encrypted$``.
"""

import http.server
import json
import pathlib
import threading
import urllib.parse

from tests.unit.awx.surveys import survey_spec_errors

API = "/api/v2/"
# Endpoint -> the object type AWX reports.
TYPES = {
    "organizations": "organization",
    "credential_types": "credential_type",
    "credentials": "credential",
    "execution_environments": "execution_environment",
    "projects": "project",
    "inventories": "inventory",
    "inventory_sources": "inventory_source",
    "job_templates": "job_template",
    "workflow_job_templates": "workflow_job_template",
    "workflow_job_template_nodes": "workflow_job_template_node",
    "workflow_approval_templates": "workflow_approval_template",
    "labels": "label",
    "instance_groups": "instance_group",
    "notification_templates": "notification_template",
}
# Fields that hold the id of another object, and that object's endpoint.
REFERENCES = {
    "organization": "organizations",
    "credential_type": "credential_types",
    "credential": "credentials",
    "execution_environment": "execution_environments",
    "default_environment": "execution_environments",
    "project": "projects",
    "source_project": "projects",
    "inventory": "inventories",
    "workflow_job_template": "workflow_job_templates",
}
# Sub-resources that associate objects: endpoint -> {name: endpoint of the members}.
ASSOCIATIONS = {
    "job_templates": {"credentials": "credentials", "labels": "labels"},
    "workflow_job_template_nodes": {
        "success_nodes": "workflow_job_template_nodes",
        "failure_nodes": "workflow_job_template_nodes",
        "always_nodes": "workflow_job_template_nodes",
        "credentials": "credentials",
    },
}
UNIFIED = ("job_templates", "workflow_job_templates", "projects", "inventory_sources")
VERSION = "24.6.1"


class Controller:
    """``with Controller() as awx: ... awx.url, awx.token ... awx.objects(endpoint)``."""

    def __init__(self, token="token-0123456789"):
        self.token = token
        self.store = {endpoint: {} for endpoint in TYPES}
        self.surveys = {}
        self.links = {}
        self.requests = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._create("organizations", {"name": "Default"})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # What the tests read.

    def objects(self, endpoint):
        return list(self.store[endpoint].values())

    def one(self, endpoint, **fields):
        (found,) = [o for o in self.store[endpoint].values() if _matches(o, fields)]
        return found

    def survey(self, endpoint, name):
        return self.surveys.get((endpoint, self.one(endpoint, name=name)["id"]))

    def linked(self, endpoint, obj, association):
        return self.links.get((endpoint, obj["id"], association), [])

    # The API.

    def _create(self, endpoint, data):
        obj = dict(data)
        obj["id"] = self._next_id
        self._next_id += 1
        obj["type"] = TYPES[endpoint]
        obj["url"] = f"{API}{endpoint}/{obj['id']}/"
        obj["related"] = {name: f"{obj['url']}{name}/" for name in ASSOCIATIONS.get(endpoint, {})}
        if endpoint in ("job_templates", "workflow_job_templates"):
            obj["related"]["survey_spec"] = f"{obj['url']}survey_spec/"
        if endpoint == "projects":
            obj.setdefault("scm_revision", "")
            obj["related"]["update"] = f"{obj['url']}update/"
        obj["summary_fields"] = {}
        self.store[endpoint][obj["id"]] = obj
        return obj

    def _problem(self, endpoint, data, current=None):
        """AWX's refusal of a create or update, or None."""
        merged = {**(current or {}), **data}
        for field, target in REFERENCES.items():
            value = data.get(field)
            if value not in (None, "") and value not in self.store[target]:
                return {field: [f'Invalid pk "{value}" - object does not exist.']}
        if endpoint == "job_templates" and "playbook" in data:
            project = self.store["projects"].get(merged.get("project"))
            if project is None or not _checkout(project).joinpath(data["playbook"]).is_file():
                return {"playbook": ["Playbook not found for project."]}
        if endpoint == "inventory_sources" and merged.get("source") == "scm":
            project = self.store["projects"].get(merged.get("source_project"))
            path = merged.get("source_path", "")
            if project is None or not _checkout(project).joinpath(path).exists():
                return {"source_path": [f"File {path} not found in the project."]}
        if endpoint == "credentials":
            ctype = self.store["credential_types"][merged["credential_type"]]
            fields = {f["id"] for f in ctype["inputs"].get("fields", [])}
            inputs = merged.get("inputs") or {}
            unknown = sorted(set(inputs) - fields)
            if unknown:
                return {"inputs": [f"Additional properties are not allowed: {unknown}"]}
            missing = [f for f in ctype["inputs"].get("required", []) if not inputs.get(f)]
            if missing:
                return {"inputs": {f: ["required for this credential type"] for f in missing}}
        return None

    def _show(self, endpoint, obj):
        if endpoint != "credentials":
            return obj
        ctype = self.store["credential_types"][obj["credential_type"]]
        secret = {f["id"] for f in ctype["inputs"].get("fields", []) if f.get("secret")}
        inputs = {k: "$encrypted$" if k in secret else v for k, v in obj["inputs"].items()}
        return {**obj, "inputs": inputs}

    def _list(self, endpoint, query):
        if endpoint == "unified_job_templates":
            pool = [o for e in UNIFIED for o in self.store[e].values()]
        else:
            pool = list(self.store[endpoint].values())
        plain = {k: v for k, v in query.items() if not k.startswith("or__")}
        either = {k[4:]: v for k, v in query.items() if k.startswith("or__")}
        found = [
            self._show(endpoint, o)
            for o in pool
            if _matches(o, plain)
            and (not either or any(_matches(o, {k: v}) for k, v in either.items()))
        ]
        return {"count": len(found), "next": None, "previous": None, "results": found}

    def handle(self, method, path, query, body):
        """(status, json) for one request."""
        if not path.startswith(API):
            return 404, {"detail": "Not found."}
        parts = [p for p in path[len(API) :].split("/") if p]
        endpoint = parts[0] if parts else ""
        if endpoint not in TYPES and endpoint != "unified_job_templates":
            return 404, {"detail": "Not found."}
        with self._lock:
            if len(parts) == 1:
                if method == "GET":
                    return 200, self._list(endpoint, query)
                if method == "POST" and endpoint in TYPES:
                    problem = self._problem(endpoint, body)
                    return (400, problem) if problem else (201, self._create(endpoint, body))
                return 405, {"detail": f'Method "{method}" not allowed.'}
            obj = self.store[endpoint].get(int(parts[1])) if parts[1].isdigit() else None
            if obj is None:
                return 404, {"detail": "Not found."}
            if len(parts) == 2:
                if method == "GET":
                    return 200, self._show(endpoint, obj)
                if method == "PATCH":
                    problem = self._problem(endpoint, body, obj)
                    if problem:
                        return 400, problem
                    obj.update(body)
                    return 200, self._show(endpoint, obj)
                return 405, {"detail": f'Method "{method}" not allowed.'}
            return self._sub_resource(method, endpoint, obj, parts[2], body)

    def _sub_resource(self, method, endpoint, obj, name, body):
        key = (endpoint, obj["id"])
        if name == "survey_spec" and endpoint in ("job_templates", "workflow_job_templates"):
            if method == "GET":
                return 200, self.surveys.get(key, {})
            if method == "POST":
                errors = survey_spec_errors(body)
                if errors:
                    return 400, {"error": "; ".join(errors)}
                self.surveys[key] = body
                return 200, {}
            if method == "DELETE":
                self.surveys.pop(key, None)
                return 200, {}
        if name == "create_approval_template" and endpoint == "workflow_job_template_nodes":
            if method != "POST":
                return 405, {"detail": f'Method "{method}" not allowed.'}
            approval = self._create("workflow_approval_templates", body)
            obj["unified_job_template"] = approval["id"]
            obj["related"]["unified_job_template"] = approval["url"]
            return 201, approval
        members = ASSOCIATIONS.get(endpoint, {}).get(name)
        if members is None:
            return 404, {"detail": "Not found."}
        linked = self.links.setdefault((*key, name), [])
        if method == "GET":
            results = [self.store[members][i] for i in linked]
            return 200, {"count": len(results), "next": None, "previous": None, "results": results}
        if method != "POST":
            return 405, {"detail": f'Method "{method}" not allowed.'}
        member = body.get("id")
        if member not in self.store[members]:
            return 400, {"msg": f"{members} {member} does not exist."}
        if body.get("disassociate"):
            if member in linked:
                linked.remove(member)
        elif member not in linked:
            linked.append(member)
        return 204, None

    def _handler(self):
        controller = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else {}
                controller.requests.append((self.command, url.path))
                if self.headers.get("Authorization") != f"Bearer {controller.token}":
                    status, answer = (
                        401,
                        {"detail": "Authentication credentials were not provided."},
                    )
                else:
                    status, answer = controller.handle(self.command, url.path, query, body)
                payload = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-API-Product-Name", "AWX")
                self.send_header("X-API-Product-Version", VERSION)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        return Handler


def _matches(obj, fields):
    return all(str(obj.get(k)) == str(v) for k, v in fields.items())


def _checkout(project):
    url = urllib.parse.urlsplit(project.get("scm_url", ""))
    return pathlib.Path(url.path) if url.scheme == "file" else pathlib.Path("/nonexistent")
