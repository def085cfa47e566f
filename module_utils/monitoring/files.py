"""The generated files on disk: serialized the same way every time, written only when
their content changes, with a diff for each, and nothing written in check mode."""

import json
import os
import tempfile

import yaml


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists (yamllint's default), no anchors for repeated values."""

    def ignore_aliases(self, data):
        return True

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def to_yaml(data, header=""):
    """YAML text with ``header`` as a leading comment; long PromQL stays on one line."""
    comment = f"# {header}\n" if header else ""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )
    return f"{comment}---\n{body}"


def to_json(data):
    """Indented JSON with a final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read(path):
    """The text of ``path``, or None when it does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def sync(directory, texts, modes, check_mode=False):
    """Make ``directory/<name>`` hold ``texts[name]`` with mode ``modes(name)``.

    Returns ``(changed names, diffs)``; a diff per changed file, in Ansible's format.
    In check mode nothing is written. Each file is replaced atomically.
    """
    changed, diffs = [], []
    for name, text in texts.items():
        path = os.path.join(directory, name)
        before = read(path)
        mode = modes(name)
        mode_differs = before is not None and (os.stat(path).st_mode & 0o777) != mode
        if before == text and not mode_differs:
            continue
        changed.append(name)
        if before != text:
            diffs.append(
                {
                    "before": before or "",
                    "after": text,
                    "before_header": path if before is not None else f"{path} (absent)",
                    "after_header": path,
                }
            )
        if not check_mode:
            _write(directory, path, text, mode)
    return changed, diffs


def _write(directory, path, text, mode):
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
