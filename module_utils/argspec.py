"""A section of the release spec checked against its Ansible argument spec.

Ansible's ``ArgumentSpecValidator`` checks types, choices, required fields and unknown
keys, but lets two kinds of bad number through: a boolean where an int belongs (``True``
is an ``int`` to Python, so ``weight: true`` would be 1 %) and NaN or an infinity where a
float belongs (``max: .nan`` would never fail). Both are refused here, from the raw
input, before the validator converts anything, each naming its field.
"""

import copy
import math

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

_NUMBERS = ("int", "float")


def validated(argument_spec, raw, prefix):
    """Check ``raw`` (the section named ``prefix``) against ``argument_spec``.

    Returns ``(validated copy, errors)``; the copy is None when there are errors.
    Copies: the validator hands out the spec's own default dicts and the caller's
    own dicts, and completing the section must change neither.
    """
    wrapped = {prefix: {"type": "dict", "options": copy.deepcopy(argument_spec)}}
    errors = list(number_problems(wrapped, {prefix: raw}))
    if errors:
        return None, errors
    result = ArgumentSpecValidator(wrapped).validate({prefix: copy.deepcopy(raw)})
    if result.error_messages:
        return None, list(result.error_messages)
    return result.validated_parameters[prefix], []


def number_problems(argument_spec, params, path=""):
    """Each boolean or non-finite value given for an int or float option, as an error."""
    if not isinstance(params, dict):
        return
    for key, option in argument_spec.items():
        if key not in params:
            continue
        value, field = params[key], f"{path}.{key}" if path else key
        kind = option.get("type", "str")
        if kind in _NUMBERS:
            yield from _number_problem(field, value, kind)
        elif kind == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                if option.get("elements") in _NUMBERS:
                    yield from _number_problem(f"{field}[{index}]", item, option["elements"])
                elif option.get("options"):
                    yield from number_problems(option["options"], item, f"{field}[{index}]")
        elif kind == "dict" and option.get("options"):
            yield from number_problems(option["options"], value, field)


def _number_problem(field, value, kind):
    if isinstance(value, bool):
        yield f"{field}: expected {'an integer' if kind == 'int' else 'a number'}, got {value!r}"
    elif isinstance(value, float) and not math.isfinite(value):
        yield f"{field}: must be a finite number, got {value!r}"
