"""AWX's validation of a survey spec, as its API applies it when a survey is saved.

Follows ``JobTemplateSurveySpec._validate_spec_data`` of the AWX API (name, description
and a non-empty spec; per question a type of AWX's list, question_name, variable and a
boolean required; unique variables; defaults of the question's type; integer min and
max; choices for the choice types, with the default among them), plus what AWX checks
only when a job is launched and a saved survey should never fail: min not above max,
and a default within them.
"""

import re

# AWX's SURVEY_TYPE_MAPPING: question type -> the Python types of its answers.
TYPES = {
    "text": (str,),
    "textarea": (str,),
    "password": (str,),
    "multiplechoice": (str,),
    "multiselect": (str,),
    "integer": (int,),
    "float": (float, int),
}
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def choices_of(question):
    """The choices of a choice question (AWX accepts a list or newline-separated text)."""
    choices = question.get("choices", [])
    if isinstance(choices, str):
        return [c for c in choices.splitlines() if c.strip()]
    return list(choices)


def survey_spec_errors(spec):
    """The reasons AWX would refuse ``spec``; empty when it is valid."""
    if not isinstance(spec, dict):
        return ["a survey spec is a JSON object"]
    errors = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(spec.get(field), kind):
            errors.append(f"field {field!r} missing or not a {kind.__name__}")
    if errors:
        return errors
    if not spec["spec"]:
        return ["'spec' doesn't contain any items"]
    seen = set()
    for index, question in enumerate(spec["spec"]):
        errors.extend(f"question {index}: {e}" for e in _question_errors(question, seen))
    return errors


def _question_errors(question, seen):
    if not isinstance(question, dict):
        return ["not a JSON object"]
    errors = []
    for field, kind in (
        ("type", str),
        ("question_name", str),
        ("variable", str),
        ("required", bool),
    ):
        if not isinstance(question.get(field), kind):
            errors.append(f"{field!r} missing or not a {kind.__name__}")
    if errors:
        return errors
    variable, qtype = question["variable"], question["type"]
    if not VARIABLE.match(variable):
        errors.append(f"variable {variable!r} is not a valid variable name")
    if variable in seen:
        errors.append(f"variable {variable!r} duplicated")
    seen.add(variable)
    if qtype not in TYPES:
        return [*errors, f"type {qtype!r} is not one of {', '.join(TYPES)}"]
    default = question.get("default")
    has_default = default not in (None, "")
    if has_default and (isinstance(default, bool) or not isinstance(default, TYPES[qtype])):
        errors.append(f"default {default!r} is not of type {qtype}")
    limits = {k: question[k] for k in ("min", "max") if question.get(k) is not None}
    for key, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{key} {value!r} is not an integer")
    if len(limits) == 2 and limits["min"] > limits["max"]:
        errors.append(f"min {limits['min']} is above max {limits['max']}")
    numeric = qtype in ("integer", "float") and has_default and not errors
    if numeric and not limits.get("min", default) <= default <= limits.get("max", default):
        errors.append(f"default {default} is outside min/max")
    if qtype in ("multiplechoice", "multiselect"):
        choices = choices_of(question)
        if not choices:
            errors.append(f"type {qtype} needs choices")
        defaults = default.splitlines() if isinstance(default, str) else []
        if qtype == "multiplechoice" and len(defaults) > 1:
            errors.append("a multiple choice question has one default at most")
        if any(d not in choices for d in defaults):
            errors.append(f"default {default!r} is not among the choices {choices}")
    return errors
