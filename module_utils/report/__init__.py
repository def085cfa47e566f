"""The release report: what happened to one release, from its ledger, as JSON and HTML.

One concept per file: ``build`` (the ledger and the spec into the report dict, the
JSON), ``charts`` (inline SVG charts) and ``page`` (the self-contained HTML page).
``render`` puts them together with the files' names; the monitoring's ``files`` writes
them.
"""

import json

from ansible.module_utils.report.build import build
from ansible.module_utils.report.page import render_page

FILE_MODE = 0o644


def file_names(report):
    """The files of a report, by the name the module returns them under.

    Each release has its own pair, named by the service and the start of the release;
    ``latest`` is the same content under a name that does not change.
    """
    stem = f"{report['service']}-{report['release_id']}"
    latest = f"{report['service']}-latest"
    return {
        "json": f"{stem}.json",
        "html": f"{stem}.html",
        "latest_json": f"{latest}.json",
        "latest_html": f"{latest}.html",
    }


def render(release, ledger):
    """Return ``(report, texts)``: the report dict, and file name -> content.

    Raises ``ReportError`` naming the field when the inputs cannot be reported on.
    """
    report = build(release, ledger)
    data = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    page = render_page(report)
    names = file_names(report)
    texts = {
        names["json"]: data,
        names["html"]: page,
        names["latest_json"]: data,
        names["latest_html"]: page,
    }
    return report, texts
