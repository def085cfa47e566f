"""Release windows: whether a release may start now, in the spec's time zone.

The spec's ``windows`` section names a time zone, ``deny`` and ``allow`` rules
and public holidays (inline and/or a holidays file). At a given moment, in this
order:

1. the moment is taken as a wall-clock date and time in ``timezone``;
2. a holiday blocks its whole local calendar day (00:00 to 24:00), whatever
   the rules say;
3. inside any ``deny`` rule: blocked;
4. when ``allow`` lists rules, the moment must be inside one of them;
5. otherwise it is allowed.

A rule is ``{days, start, end, name}``: ``start`` is inclusive, ``end``
exclusive (``"24:00"`` is the end of the day). An ``end`` before ``start``
crosses midnight and belongs to the day it starts on: ``{days: [fri], start:
"22:00", end: "06:00"}`` covers Friday 22:00 to Saturday 06:00, not Friday
00:00-06:00. Windows are wall-clock times: on the night the clocks go forward a
22:00-06:00 window lasts 7 hours, on the night they go back 9, and both passes
through the repeated hour are judged by the time the clock shows.

Make-up working days (China's adjusted weekends, ``workdays``) are working
days: a rule whose days include all of Monday to Friday applies to them too,
whatever their weekday; rules for their own weekday still apply.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from ansible.module_utils.argspec import validated

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKING_DAYS = frozenset(DAYS[:5])
DAY_SECONDS = 86400
# Weekly rules repeat every 7 days and holidays are listed by year: a year and a day
# reaches past any run of blocked days a calendar can hold.
HORIZON_DAYS = 367

_RULE_OPTIONS = {
    "days": {"type": "list", "elements": "str", "default": list(DAYS)},
    # raw: YAML reads an unquoted 22:00 as the number 1320, which deserves its own message.
    "start": {"type": "raw", "required": True},
    "end": {"type": "raw", "required": True},
    "name": {"type": "str"},
}

ARGUMENT_SPEC = {
    "timezone": {"type": "str", "required": True},
    "allow": {"type": "list", "elements": "dict", "default": [], "options": _RULE_OPTIONS},
    "deny": {"type": "list", "elements": "dict", "default": [], "options": _RULE_OPTIONS},
    "holidays_file": {"type": "str"},
    "holidays": {"type": "list", "elements": "raw", "default": []},
    "workdays": {"type": "list", "elements": "raw", "default": []},
}

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ENTRY_KEYS = ("date", "from", "to", "name")
_FILE_KEYS = ("holidays", "workdays")


class WindowError(ValueError):
    """A windows section, holidays file or moment that cannot be used."""


class HolidaysFileError(WindowError):
    """Problems in a holidays file, each naming the file and the line."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


def zone(name):
    """Return the ZoneInfo of an IANA name; raise WindowError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai or Europe/Berlin"
        ) from None


def parse_time(value, end=False):
    """Return seconds after midnight of ``"HH:MM"``; ``"24:00"`` only as an end."""
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value < 1500:
        hours, minutes = divmod(value, 60)
        raise WindowError(
            f"got the number {value}: YAML reads an unquoted {hours}:{minutes:02d} as a "
            f'number; quote it: "{hours:02d}:{minutes:02d}"'
        )
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if minutes < 60 and (hours < 24 or (end and hours == 24 and minutes == 0)):
            return hours * 3600 + minutes * 60
    latest = '"24:00"' if end else '"23:59"'
    raise WindowError(f'must be a time "HH:MM" from "00:00" to {latest}, got {value!r}')


def format_time(seconds):
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def parse_date(value):
    """Return a date from a ``date`` or ``"YYYY-MM-DD"``."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise WindowError(f"must be a date YYYY-MM-DD, got {value!r}")


def parse_entry(value):
    """Return ``(first, last, name)`` of a holiday or make-up working day.

    An entry is a date, ``{date, name}``, or a range ``{from, to, name}`` (both
    days included).
    """
    if not isinstance(value, dict):
        day = parse_date(value)
        return day, day, None
    unknown = sorted(str(key) for key in value if key not in _ENTRY_KEYS)
    if unknown:
        raise WindowError(
            f"unknown key {', '.join(unknown)}; an entry is a date, {{date, name}} or "
            "{from, to, name}"
        )
    name = value.get("name")
    if name is not None and not isinstance(name, str):
        raise WindowError(f"name must be text, got {name!r}")
    if "date" in value:
        if "from" in value or "to" in value:
            raise WindowError("give either date or from and to, not both")
        day = _entry_date(value, "date")
        return day, day, name
    if "from" not in value or "to" not in value:
        raise WindowError("needs date, or both from and to")
    first, last = _entry_date(value, "from"), _entry_date(value, "to")
    if last < first:
        raise WindowError(f"to ({last}) is before from ({first})")
    return first, last, name


def _entry_date(entry, key):
    try:
        return parse_date(entry[key])
    except WindowError as err:
        raise WindowError(f"{key} {err}") from None


def normalize_entry(first, last, name):
    """The completed spec's form of an entry (valid input to ``parse_entry`` again)."""
    return {"from": first.isoformat(), "to": last.isoformat(), "name": name}


def check_windows(section, prefix="canary.windows"):
    """Check a ``windows`` section that passed ARGUMENT_SPEC; return errors naming fields.

    On success the section is completed in place: days in lower case, times as
    ``"HH:MM"``, inline holidays and workdays as ``{from, to, name}``.
    """
    errors = []
    try:
        zone(section["timezone"])
    except WindowError as err:
        errors.append(f"{prefix}.timezone: {err}")
    for kind in ("deny", "allow"):
        for index, rule in enumerate(section[kind]):
            field = f"{prefix}.{kind}[{index}]"
            errors.extend(_rule_problems(rule, field))
    for key in ("holidays", "workdays"):
        for index, value in enumerate(section[key]):
            try:
                section[key][index] = normalize_entry(*parse_entry(value))
            except WindowError as err:
                errors.append(f"{prefix}.{key}[{index}]: {err}")
    if section.get("holidays_file") is not None and not section["holidays_file"].strip():
        errors.append(f"{prefix}.holidays_file: must be a path, got an empty string")
    return errors


def _rule_problems(rule, field):
    errors = []
    days = [str(day).strip().lower() for day in rule["days"]]
    unknown = [day for day in days if day not in DAYS]
    if unknown:
        errors.append(
            f"{field}.days: unknown day {', '.join(map(repr, unknown))}; use {', '.join(DAYS)}"
        )
    elif not days:
        errors.append(f"{field}.days: must name at least one day")
    else:
        rule["days"] = [day for day in DAYS if day in days]
    times = {}
    for key in ("start", "end"):
        try:
            times[key] = parse_time(rule[key], end=key == "end")
        except WindowError as err:
            errors.append(f"{field}.{key}: {err}")
    if len(times) == 2:
        if times["start"] == times["end"]:
            errors.append(
                f"{field}.end: must differ from start ({rule['start']}); a whole day is "
                '"00:00" to "24:00"'
            )
        else:
            rule["start"], rule["end"] = format_time(times["start"]), format_time(times["end"])
    return errors


def validate_section(raw, prefix="windows"):
    """Validate a whole ``windows`` section (shape, then ``check_windows``).

    Returns ``(section, errors)``; the section is a completed copy, None on errors.
    """
    section, errors = validated(ARGUMENT_SPEC, raw, prefix)
    if errors:
        return None, errors
    errors = check_windows(section, prefix)
    return (None, errors) if errors else (section, [])


class Entry:
    """A holiday or make-up working day (a range of days), and where it was written."""

    def __init__(self, first, last, name, source):
        self.first, self.last, self.name, self.source = first, last, name, source

    def __contains__(self, day):
        return self.first <= day <= self.last

    @property
    def label(self):
        days = (
            self.first.isoformat()
            if self.first == self.last
            else f"{self.first.isoformat()} to {self.last.isoformat()}"
        )
        return f"{self.name} {days}" if self.name else days


def _scalar_tree(node, path, errors):
    """A composed YAML node as plain strings and dicts, or None after an error."""
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        entry = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or not isinstance(value, yaml.ScalarNode):
                errors.append(
                    f"{path}:{key.start_mark.line + 1}: an entry's keys and values are single "
                    "values (date, from, to, name), not lists or mappings"
                )
                return None
            entry[key.value] = value.value
        return entry
    errors.append(
        f"{path}:{node.start_mark.line + 1}: an entry is a date, {{date, name}} or "
        "{from, to, name}, not a list"
    )
    return None


def read_holidays_file(path):
    """Return ``{"holidays": [Entry], "workdays": [Entry]}`` read from a YAML file.

    The file is a mapping with ``holidays`` (a list of entries, see
    ``parse_entry``) and optionally ``workdays``. Raises HolidaysFileError with
    every problem, each naming the file and its line.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as err:
        raise HolidaysFileError(
            [f"{path}: cannot read the holidays file: {err.strerror}"]
        ) from None
    except UnicodeDecodeError:
        raise HolidaysFileError([f"{path}: the holidays file is not UTF-8 text"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}" if mark else path
        raise HolidaysFileError([f"{where}: not valid YAML: {err.problem}"]) from None
    if not isinstance(root, yaml.MappingNode):
        line = f":{root.start_mark.line + 1}" if root is not None else ""
        raise HolidaysFileError(
            [f"{path}{line}: expected a mapping with holidays (and optionally workdays)"]
        )
    found = {key: [] for key in _FILE_KEYS}
    errors = []
    seen = set()
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        key = key_node.value
        if key not in _FILE_KEYS:
            errors.append(f"{path}:{line}: unknown key {key!r}; use holidays and workdays")
            continue
        seen.add(key)
        if not isinstance(value_node, yaml.SequenceNode):
            errors.append(f"{path}:{line}: {key} must be a list")
            continue
        for item in value_node.value:
            where = f"{path}:{item.start_mark.line + 1}"
            value = _scalar_tree(item, path, errors)
            if value is None:
                continue
            try:
                found[key].append(Entry(*parse_entry(value), where))
            except WindowError as err:
                errors.append(f"{where}: {key}: {err}")
    if "holidays" not in seen and not errors:
        errors.append(f"{path}: no holidays list")
    if errors:
        raise HolidaysFileError(errors)
    return found


def parse_moment(text):
    """Return an aware datetime from ISO 8601 text with a UTC offset."""
    try:
        moment = dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise WindowError(
            f"must be an ISO 8601 date and time such as 2026-03-10T10:30:00+08:00, got {text!r}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise WindowError(
            f"must include a UTC offset (2026-03-10T10:30:00+08:00 or ...Z), got {text!r}"
        )
    return moment


def _days_label(days):
    chosen = [index for index, day in enumerate(DAYS) if day in days]
    common = {7: "every day"}.get(len(chosen)) or {
        (0, 1, 2, 3, 4): "weekdays",
        (5, 6): "weekends",
    }.get(tuple(chosen))
    if common:
        return common
    runs = []
    for index in chosen:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ", ".join(
        f"{DAYS[run[0]]}-{DAYS[run[-1]]}" if len(run) > 2 else ", ".join(DAYS[i] for i in run)
        for run in runs
    )


class Rule:
    """An allow or deny rule of the section, in seconds after local midnight."""

    def __init__(self, kind, index, rule):
        self.kind, self.index = kind, index
        self.days = frozenset(rule["days"])
        self.start = parse_time(rule["start"])
        self.end = parse_time(rule["end"], end=True)
        self.name = rule.get("name")
        self.crosses_midnight = self.end < self.start

    @property
    def label(self):
        times = f"{_days_label(self.days)} {format_time(self.start)}-{format_time(self.end)}"
        return f"{self.name} ({times})" if self.name else times

    def describe(self):
        return {
            "type": self.kind,
            "label": self.label,
            "field": f"windows.{self.kind}[{self.index}]",
        }

    def _on(self, day, calendar):
        return DAYS[day.weekday()] in self.days or (
            self.days >= WORKING_DAYS and calendar.is_workday(day)
        )

    def covers(self, day, seconds, calendar):
        """Whether local ``day`` at ``seconds`` after midnight is inside the rule."""
        if not self.crosses_midnight:
            return self.start <= seconds < self.end and self._on(day, calendar)
        if seconds >= self.start and self._on(day, calendar):
            return True
        return seconds < self.end and self._on(day - dt.timedelta(days=1), calendar)


class Calendar:
    """Holidays (blocked all day) and make-up working days."""

    def __init__(self, holidays=(), workdays=()):
        self.holidays, self.workdays = list(holidays), list(workdays)

    def holiday(self, day):
        return next((entry for entry in self.holidays if day in entry), None)

    def is_workday(self, day):
        return any(day in entry for entry in self.workdays)

    def lists_year(self, year):
        return any(entry.first.year <= year <= entry.last.year for entry in self.holidays)


class Verdict:
    """Whether a moment is allowed, why, and the rule that decided (None: no rule applied)."""

    def __init__(self, allowed, reason, rule=None):
        self.allowed, self.reason, self.rule = allowed, reason, rule


class Windows:
    """The release windows of a completed ``windows`` section."""

    def __init__(self, section, calendar):
        self.zone = zone(section["timezone"])
        self.deny = [Rule("deny", index, rule) for index, rule in enumerate(section["deny"])]
        self.allow = [Rule("allow", index, rule) for index, rule in enumerate(section["allow"])]
        self.calendar = calendar
        rules = self.deny + self.allow
        self._boundaries = sorted(
            {0} | {rule.start for rule in rules} | {rule.end % DAY_SECONDS for rule in rules}
        )

    @classmethod
    def from_section(cls, section, holidays_file=None):
        """Build from a completed section, with the entries of its holidays file if any."""
        inline = {
            key: [
                Entry(*parse_entry(value), f"windows.{key}[{index}]")
                for index, value in enumerate(section[key])
            ]
            for key in ("holidays", "workdays")
        }
        if holidays_file:
            from_file = read_holidays_file(holidays_file)
            for key in inline:
                inline[key].extend(from_file[key])
        return cls(section, Calendar(inline["holidays"], inline["workdays"]))

    def local(self, moment):
        return moment.astimezone(self.zone)

    def describe(self, moment):
        return f"{self.local(moment):%A %Y-%m-%d %H:%M} {self.zone.key}"

    def verdict(self, moment):
        local = self.local(moment)
        day = local.date()
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        when = self.describe(moment)
        holiday = self.calendar.holiday(day)
        if holiday:
            return Verdict(
                False,
                f"{when} is on the holiday {holiday.label} ({holiday.source}), blocked all day",
                {"type": "holiday", "label": holiday.label, "field": holiday.source},
            )
        for rule in self.deny:
            if rule.covers(day, seconds, self.calendar):
                return Verdict(
                    False, f"{when} is inside the blocked window {rule.label}", rule.describe()
                )
        for rule in self.allow:
            if rule.covers(day, seconds, self.calendar):
                return Verdict(
                    True, f"{when} is inside the allowed window {rule.label}", rule.describe()
                )
        if self.allow:
            labels = "; ".join(rule.label for rule in self.allow)
            return Verdict(
                False,
                f"{when} is outside every allowed window ({labels})",
                {
                    "type": "outside",
                    "label": f"outside the allowed windows: {labels}",
                    "field": "windows.allow",
                },
            )
        return Verdict(True, f"{when} is in no blocked window and on no holiday")

    def _wall(self, day, seconds, fold=0):
        naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
        return naive.replace(tzinfo=self.zone, fold=fold).astimezone(dt.UTC)

    def _transition(self, day):
        """The instant the UTC offset changes during local ``day``, or None."""
        low = int(self._wall(day, 0).timestamp())
        high = int(self._wall(day + dt.timedelta(days=1), 0).timestamp())

        def offset(seconds):
            return dt.datetime.fromtimestamp(seconds, self.zone).utcoffset()

        before = offset(low)
        if offset(high) == before:
            return None
        while high - low > 1:
            middle = (low + high) // 2
            if offset(middle) == before:
                low = middle
            else:
                high = middle
        return dt.datetime.fromtimestamp(high, dt.UTC)

    def _instants(self, day):
        """The instants of local ``day`` at which a verdict can change, in order.

        The verdict depends on the wall clock's date and time only, so it changes
        where the clock passes a rule's start or end or midnight (both passes
        through a repeated hour) and where it jumps (a DST transition).
        """
        found = {self._wall(day, seconds, fold) for seconds in self._boundaries for fold in (0, 1)}
        transition = self._transition(day)
        if transition:
            found.add(transition)
        return sorted(found)

    def next_time(self, moment, allowed):
        """The first instant after ``moment`` whose verdict is ``allowed``, or None."""
        first_day = self.local(moment).date()
        for offset in range(HORIZON_DAYS + 1):
            for instant in self._instants(first_day + dt.timedelta(days=offset)):
                if instant > moment and self.verdict(instant).allowed == allowed:
                    return instant
        return None

    def decide(self, moment):
        """The verdict at ``moment``, when it is next allowed, and until when."""
        verdict = self.verdict(moment)
        opens = moment if verdict.allowed else self.next_time(moment, True)
        closes = self.next_time(opens, False) if opens else None
        return {
            "allowed": verdict.allowed,
            "reason": verdict.reason,
            "rule": verdict.rule,
            "now": self.local(moment).isoformat(),
            "next_allowed": self.local(opens).isoformat() if opens else None,
            "allowed_until": self.local(closes).isoformat() if closes else None,
        }
