"""Who sees the canary: the sticky bucket and the targeting rules built on it.

A user's bucket is the plan's rule: the first 32 bits of md5(user_id), modulo 100. It
never changes, so raising a share only adds users: whoever saw the canary at 5 % still
sees it at 20 %.

A targeting spec (``canary.traffic.targeting``) lists rules; the first rule a request
matches decides its track:

- ``{header: X-Canary}``: the header says ``always`` (canary) or ``never`` (stable);
  any other value, or none, falls through to the next rule (ingress-nginx's
  canary-by-header). ``{cookie: canary}`` does the same with a cookie. Header rules come
  before cookie rules and both before the others: ingress-nginx's precedence, header,
  cookie, weight.
- ``{match: {...}}``: every listed user attribute matches (``internal: true``,
  ``level: {min: 5}``, ``type: vip`` or ``type: [vip, new]``); ``{regions: [...]}``: the
  user's region is one of them; both may be given. A rule with neither matches everyone.
- A matched rule that is not forced sends the user to the canary when
  ``bucket(user_id) < share``: ``share: stage`` is the stage's weight, raised to ``min``
  and lowered to ``max`` when given; ``share: <0-100>`` is that share at every stage.
  At weight 0 (before the first stage, after a rollback) only forced requests reach the
  canary. A request no rule matches goes to stable.

User ids and attribute values are UTF-8 text. On the wire (a header or a cookie) they
travel as raw UTF-8 or percent-encoded UTF-8 (``%E5%8C%97%E4%BA%AC`` is ``北京``): both
mean the same text (``wire_text``), so an id or a value holding a literal ``%`` followed
by two hex digits is sent as ``%25``. The bucket is md5 of that text's UTF-8 bytes, and a
``match`` or ``regions`` word matches it case-insensitively (``casefold``), with no
further normalization: the same characters in other code points are other text. The
spec's own words are written as text, never percent-encoded.

The playbooks (filters ``canary_bucket``, ``canary_in``, ``canary_target``), the spec
check, the configmap provider and the sandbox router all use this file. It imports
nothing from the project, so the filter plugin and the router can load it by path.
"""

import copy
import hashlib
import re
import urllib.parse

STABLE, CANARY = "stable", "canary"
FORCE_VALUES = {"always": CANARY, "never": STABLE}
FORCED_KINDS = frozenset(("header", "cookie"))
STAGE = "stage"
FIELD = "canary.traffic.targeting"

# Where the router (or the application) finds each attribute: a header, else a cookie.
DEFAULT_ATTRIBUTES = {
    "user_id": {"header": "X-User-Id", "cookie": "user_id"},
    "type": {"header": "X-User-Type"},
    "level": {"header": "X-User-Level"},
    "active": {"header": "X-User-Active"},
    "internal": {"header": "X-User-Internal"},
    "region": {"header": "X-User-Region"},
}
RULE_KEYS = ("name", "header", "cookie", "match", "regions", "share", "min", "max")
TRUE_WORDS = frozenset(("true", "1", "yes", "on"))
FALSE_WORDS = frozenset(("false", "0", "no", "off"))
# RFC 9110 token: what a header or cookie name may be made of.
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def wire_text(value):
    """The text an id or attribute value stands for: percent-encoded UTF-8 decoded, raw kept.

    A value that is not valid percent-encoded UTF-8 (``100%``, ``%FF``) is taken as written.
    """
    text = str(value).strip()
    if "%" not in text:
        return text
    try:
        return urllib.parse.unquote(text, errors="strict")
    except UnicodeDecodeError:
        return text


def user_bucket(user_id):
    """Return the user's bucket, an integer in 0..99."""
    text = wire_text(user_id)
    digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % 100


def in_canary(user_id, weight):
    """Return True when the user falls in the canary at the given weight (0-100)."""
    return user_bucket(user_id) < weight


def default_spec(canary_header="X-Canary"):
    """What the router does without a targeting spec: the forcing header, then the weight."""
    return {
        "attributes": copy.deepcopy(DEFAULT_ATTRIBUTES),
        "rules": [{"name": "forced", "header": canary_header}, {"name": "weight", "share": STAGE}],
    }


# --- validation -----------------------------------------------------------------------


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _percentage_problem(value):
    if _is_int(value) and 0 <= value <= 100:
        return None
    return f"must be a whole percentage 0-100, got {value!r}"


def _check_attributes(attributes, field):
    if not isinstance(attributes, dict):
        return [f"{field}: must be a mapping of attribute names to {{header, cookie}}"]
    errors = []
    for name, where in attributes.items():
        at = f"{field}.{name}"
        if not isinstance(name, str) or not ATTRIBUTE_NAME.match(name):
            errors.append(f"{at}: attribute names are lower case letters, digits and '_'")
            continue
        if not isinstance(where, dict) or not where:
            errors.append(f"{at}: must give a header and/or a cookie, got {where!r}")
            continue
        for key, value in where.items():
            if key not in ("header", "cookie"):
                errors.append(
                    f"{at}.{key}: unknown; an attribute is read from a header or a cookie"
                )
            elif not isinstance(value, str) or not TOKEN.match(value):
                errors.append(f"{at}.{key}: must be a {key} name (an HTTP token), got {value!r}")
    return errors


def _check_condition(value, field):
    """One ``match`` entry: a bool, a whole number, a {min, max} range, a word or words."""
    if isinstance(value, bool) or _is_int(value):
        return []
    if isinstance(value, str):
        return [] if value.strip() else [f"{field}: must not be empty"]
    if isinstance(value, list):
        if value and all(isinstance(item, str) and item.strip() for item in value):
            return []
        return [f"{field}: a list must hold one or more non-empty words, got {value!r}"]
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"min", "max"})
        if unknown:
            return [f"{field}.{unknown[0]}: unknown; a range has min and/or max"]
        if not value:
            return [f"{field}: a range needs min and/or max"]
        bad = [k for k in ("min", "max") if k in value and not _is_int(value[k])]
        if bad:
            return [f"{field}.{k}: must be a whole number, got {value[k]!r}" for k in bad]
        if "min" in value and "max" in value and value["min"] > value["max"]:
            return [f"{field}: min {value['min']} is greater than max {value['max']}"]
        return []
    return [
        f"{field}: must be true/false, a whole number, a {{min, max}} range, a word or a "
        f"list of words, got {value!r}"
    ]


def _check_match(match, field, attributes):
    if not isinstance(match, dict) or not match:
        return [f"{field}: must map one or more attributes to the values they must have"]
    errors = []
    for name, value in match.items():
        if name == "user_id":
            errors.append(f"{field}.user_id: the user id is the bucketing key, not a condition")
        elif name == "region":
            errors.append(f"{field}.region: use the rule's regions list for regions")
        elif name not in attributes:
            errors.append(
                f"{field}.{name}: unknown attribute; declare it under attributes or use one "
                f"of {', '.join(sorted(set(attributes) - {'user_id', 'region'}))}"
            )
        else:
            errors.extend(_check_condition(value, f"{field}.{name}"))
    return errors


def _check_share(rule, field):
    errors = []
    share = rule.get("share", STAGE)
    if share != STAGE:
        if _percentage_problem(share):
            errors.append(
                f"{field}.share: must be 'stage' or a whole percentage 0-100, got {share!r}"
            )
        for bound in ("min", "max"):
            if bound in rule:
                errors.append(f"{field}.{bound}: only bounds a share of 'stage'")
        return errors
    for bound in ("min", "max"):
        if bound in rule and _percentage_problem(rule[bound]):
            errors.append(f"{field}.{bound}: {_percentage_problem(rule[bound])}")
    if not errors and rule.get("min", 0) > rule.get("max", 100):
        errors.append(f"{field}.min: {rule['min']} is greater than max {rule['max']}")
    return errors


def kinds_of(rule):
    """The kinds of one rule: header, cookie, attribute and/or region, or hash (everyone)."""
    if "header" in rule:
        return {"header"}
    if "cookie" in rule:
        return {"cookie"}
    kinds = {kind for key, kind in (("match", "attribute"), ("regions", "region")) if key in rule}
    return kinds or {"hash"}


def _check_rule(rule, field, attributes):
    if not isinstance(rule, dict):
        return [f"{field}: must be a mapping, got {rule!r}"]
    errors = [
        f"{field}.{key}: unknown; a rule has {', '.join(RULE_KEYS)}"
        for key in rule
        if key not in RULE_KEYS
    ]
    if "name" in rule and (not isinstance(rule["name"], str) or not rule["name"].strip()):
        errors.append(f"{field}.name: must be a non-empty string, got {rule['name']!r}")
    forced = [key for key in ("header", "cookie") if key in rule]
    if len(forced) == 2:
        return [*errors, f"{field}: a rule forces by a header or by a cookie, not both"]
    if forced:
        key = forced[0]
        if not isinstance(rule[key], str) or not TOKEN.match(rule[key]):
            errors.append(f"{field}.{key}: must be a {key} name (an HTTP token), got {rule[key]!r}")
        errors.extend(
            f"{field}.{other}: a {key} rule forces the track (always/never); it takes no {other}"
            for other in ("match", "regions", "share", "min", "max")
            if other in rule
        )
        return errors
    if "match" in rule:
        errors.extend(_check_match(rule["match"], f"{field}.match", attributes))
    if "regions" in rule:
        regions = rule["regions"]
        if not (
            isinstance(regions, list)
            and regions
            and all(isinstance(r, str) and r.strip() for r in regions)
        ):
            errors.append(f"{field}.regions: must list one or more region names, got {regions!r}")
    errors.extend(_check_share(rule, field))
    return errors


def _check_order(rules, field):
    """Forced rules first, headers before cookies; nothing after a rule that matches everyone."""
    errors = []
    rank = {"header": 0, "cookie": 1}
    highest = 0
    everyone = None
    for index, rule in enumerate(rules):
        at = f"{field}[{index}]"
        if everyone is not None:
            errors.append(
                f"{at}: can never match; rules[{everyone}] before it matches every request"
            )
            continue
        kinds = kinds_of(rule)
        position = min(rank.get(kind, 2) for kind in kinds)
        if position < highest:
            errors.append(
                f"{at}: a {'header' if position == 0 else 'cookie'} rule must come before "
                f"{'cookie and ' if position == 0 else ''}attribute, region and hash rules "
                "(ingress-nginx's precedence: header, cookie, weight)"
            )
        highest = max(highest, position)
        if kinds == {"hash"}:
            everyone = index
    return errors


def validate(spec, field=FIELD):
    """Every problem of a targeting spec, each naming its field; [] when it is valid."""
    if not isinstance(spec, dict):
        return [f"{field}: must be a mapping with rules (and optionally attributes)"]
    errors = [
        f"{field}.{key}: unknown; targeting has attributes and rules"
        for key in spec
        if key not in ("attributes", "rules")
    ]
    attributes = {**DEFAULT_ATTRIBUTES}
    if spec.get("attributes") is not None:
        attribute_errors = _check_attributes(spec["attributes"], f"{field}.attributes")
        errors.extend(attribute_errors)
        if not attribute_errors:
            attributes.update(spec["attributes"])
    rules = spec.get("rules")
    if not isinstance(rules, list) or not rules:
        return [*errors, f"{field}.rules: must list one or more rules, got {rules!r}"]
    rule_errors = []
    for index, rule in enumerate(rules):
        rule_errors.extend(_check_rule(rule, f"{field}.rules[{index}]", attributes))
    errors.extend(rule_errors)
    if rule_errors:
        return errors
    seen = {}
    for index, name in enumerate(_names(rules)):
        if name in seen:
            errors.append(
                f"{field}.rules[{index}].name: {name!r} is already the name of rules[{seen[name]}]"
            )
        seen.setdefault(name, index)
    errors.extend(_check_order(rules, f"{field}.rules"))
    return errors


def _names(rules):
    return [rule.get("name") or f"rules[{index}]" for index, rule in enumerate(rules)]


def normalize(spec):
    """A valid spec with its defaults filled: every attribute, every rule's name and share."""
    attributes = copy.deepcopy(DEFAULT_ATTRIBUTES)
    attributes.update(copy.deepcopy(spec.get("attributes") or {}))
    rules = []
    for name, rule in zip(_names(spec["rules"]), spec["rules"], strict=True):
        completed = {**copy.deepcopy(rule), "name": name}
        if not kinds_of(rule) & FORCED_KINDS:
            completed.setdefault("share", STAGE)
        rules.append(completed)
    return {"attributes": attributes, "rules": rules}


def rule_kinds(spec):
    """The set of kinds the spec's rules use."""
    return set().union(*(kinds_of(rule) for rule in spec["rules"]))


def provider_problems(spec, provider, unsupported_kinds, canary_header, field=FIELD):
    """Errors for what a valid spec asks of a provider that it cannot do.

    ``unsupported_kinds(kinds)`` is the provider's ``{kind: reason}``. A router that cannot
    match attributes splits whoever is left by the stage's weight, so its hash rule takes
    no fixed share or bounds. Where the provider forces tracks by a header,
    ``canary_header`` (validation.canary_header) must be a header rule: the validation and
    the rollback's check of stable force their track with it.
    """
    errors = []
    unsupported = unsupported_kinds(rule_kinds(spec))
    weight_only = bool(unsupported_kinds({"attribute"}))
    for index, rule in enumerate(spec["rules"]):
        at = f"{field}.rules[{index}]"
        kinds = kinds_of(rule)
        errors.extend(
            f"{at}: {provider} cannot express {kind} rules: {unsupported[kind]}"
            for kind in sorted(kinds & set(unsupported))
        )
        bounded = rule.get("share", STAGE) != STAGE or "min" in rule or "max" in rule
        if weight_only and kinds == {"hash"} and bounded:
            errors.append(
                f"{at}: {provider} splits the remaining users by the stage's weight; a fixed "
                "share, min or max needs the configmap provider"
            )
    headers = {rule["header"].lower() for rule in spec["rules"] if "header" in rule}
    if not unsupported_kinds({"header"}) and canary_header.lower() not in headers:
        errors.append(
            f"{field}.rules: needs a header rule for validation.canary_header "
            f"({{header: {canary_header}}}): the validation and the rollback's check of "
            "stable force their track with it"
        )
    return errors


# --- decision -------------------------------------------------------------------------


def effective_share(rule, weight):
    """The share (0-100) of a matched, non-forced rule at the given stage weight.

    Non-decreasing in the weight for every rule, so membership is monotone.
    """
    if weight <= 0:
        return 0
    share = rule.get("share", STAGE)
    if share != STAGE:
        return share
    return min(max(weight, rule.get("min", 0)), rule.get("max", 100))


def _truth(text):
    word = text.lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def _condition(expected):
    """A predicate on an attribute's text for one ``match`` entry (or a regions list)."""
    if isinstance(expected, bool):
        return lambda text: _truth(wire_text(text)) is expected
    if isinstance(expected, int | dict):
        low, high = (
            (expected, expected)
            if isinstance(expected, int)
            else (expected.get("min"), expected.get("max"))
        )

        def in_range(text):
            try:
                number = int(wire_text(text))
            except ValueError:
                return False
            return (low is None or low <= number) and (high is None or number <= high)

        return in_range
    words = frozenset(
        word.strip().casefold() for word in (expected if isinstance(expected, list) else [expected])
    )
    return lambda text: wire_text(text).casefold() in words


class Targeting:
    """A normalized spec ready to decide requests (the router builds one per spec it reads)."""

    def __init__(self, spec):
        errors = validate(spec)
        if errors:
            raise ValueError("; ".join(errors))
        self.spec = normalize(spec)
        self._where = {
            name: (where["header"].lower() if "header" in where else None, where.get("cookie"))
            for name, where in self.spec["attributes"].items()
        }
        self._rules = []
        for rule in self.spec["rules"]:
            conditions = [
                (self._where[name], _condition(expected))
                for name, expected in (rule.get("match") or {}).items()
            ]
            if "regions" in rule:
                conditions.append((self._where["region"], _condition(rule["regions"])))
            forcing = (rule["header"].lower(), None) if "header" in rule else None
            if "cookie" in rule:
                forcing = (None, rule["cookie"])
            self._rules.append((rule, forcing, conditions))

    @staticmethod
    def _read(where, headers, cookies):
        """An attribute's text, from its header, else its cookie; None when absent or blank."""
        header, cookie = where
        value = headers.get(header) if header else None
        if (value is None or not str(value).strip()) and cookie:
            value = cookies.get(cookie)
        value = str(value).strip() if value is not None else ""
        return value or None

    def _matches(self, conditions, headers, cookies):
        """Every condition holds; a missing attribute fails its condition."""
        for where, holds in conditions:
            text = self._read(where, headers, cookies)
            if text is None or not holds(text):
                return False
        return True

    def explain(self, request, weight):
        """The decision with its reasons: track, rule, forced, share, bucket, user_id."""
        headers = {str(k).lower(): v for k, v in (request.get("headers") or {}).items()}
        cookies = request.get("cookies") or {}
        for rule, forcing, conditions in self._rules:
            if forcing:
                track = FORCE_VALUES.get((self._read(forcing, headers, cookies) or "").lower())
                if track:
                    return _decision(track, rule, forced=True)
                continue
            if not self._matches(conditions, headers, cookies):
                continue
            share = effective_share(rule, weight)
            user = self._read(self._where["user_id"], headers, cookies) or request.get("user_id")
            bucket = user_bucket(user) if user else None
            # Without a user id only a whole share can place the request.
            canary = share >= 100 or (bucket is not None and bucket < share)
            user = wire_text(user) if user else user
            return _decision(CANARY if canary else STABLE, rule, False, share, bucket, user)
        return _decision(STABLE, None, False)

    def decide(self, request, weight):
        """``(track, rule name)``; the name is None when no rule matched."""
        decision = self.explain(request, weight)
        return decision["track"], decision["rule"]


def _decision(track, rule, forced, share=None, bucket=None, user=None):
    return {
        "track": track,
        "rule": rule["name"] if rule else None,
        "forced": forced,
        "share": share,
        "bucket": bucket,
        "user_id": user,
    }


def decide(spec, request, weight):
    """``(track, rule name)`` for ``request`` (``{"headers": {...}, "cookies": {...}}``).

    ``request["user_id"]``, when given, is the user id of a request the spec's
    ``user_id`` attribute finds none in; without any, a partial share sends it to stable.
    """
    return Targeting(spec).decide(request, weight)


def explain(spec, request, weight):
    """Like ``decide``, with the share, the bucket and whether the track was forced."""
    return Targeting(spec).explain(request, weight)
