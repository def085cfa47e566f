"""Sticky, monotone assignment of users to the canary, under its first name.

A user is in the canary when the first 32 bits of md5(user_id), taken modulo 100,
fall below the canary weight. The rule itself lives in ``targeting.py`` beside the
targeting rules that build on it, so there is one implementation; this file keeps the
name the sandbox and the kind image load. It loads ``targeting.py`` by path because its
callers load it both ways, as ``ansible.module_utils.bucketing`` and by path.
"""

import importlib.util
import pathlib

_spec = importlib.util.spec_from_file_location(
    "canary_runbooks_targeting", pathlib.Path(__file__).resolve().with_name("targeting.py")
)
_targeting = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_targeting)

user_bucket = _targeting.user_bucket
in_canary = _targeting.in_canary
