""".NET date handling the attribute-mapping expression functions rely on (expression_functions.py).

The functions are documented in terms of .NET: FormatDateTime takes ".NET custom date and time format
strings" (https://learn.microsoft.com/dotnet/standard/base-types/custom-date-and-time-format-strings),
CDate, DateAdd and Now return "M/d/yyyy h:mm:ss tt" strings, DateFromNum and NumFromDate use Active
Directory's 100-nanosecond ticks since 1601-01-01 (https://learn.microsoft.com/windows/win32/adschema/a-accountexpires),
all per https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data.
Only the invariant culture is modelled (the page says ToLower/ToUpper default to it; docs are silent
on the culture FormatDateTime uses: we chose invariant).
"""

import calendar
import re
from datetime import datetime, timedelta, timezone

_MONTHS = [calendar.month_name[index] for index in range(1, 13)]
_MONTHS_SHORT = [calendar.month_abbr[index] for index in range(1, 13)]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)
# Format characters that form runs ("yyyy", "MM", ...); everything else is literal.
_SPECIFIERS = "dfFhHKmMstyz"


class DateError(ValueError):
    """A value that is not a date in the expected format."""


def _tokens(fmt):
    """Split a .NET custom format string into (kind, text) tokens: kind "spec" or "literal"."""
    tokens, index = [], 0
    while index < len(fmt):
        char = fmt[index]
        if char in "'\"":
            end = fmt.find(char, index + 1)
            if end < 0:
                raise DateError("Unterminated quoted text in the date format %r." % fmt)
            tokens.append(("literal", fmt[index + 1:end]))
            index = end + 1
        elif char == "\\" and index + 1 < len(fmt):
            tokens.append(("literal", fmt[index + 1]))
            index += 2
        elif char == "%" and index + 1 < len(fmt):
            index += 1
        elif char in _SPECIFIERS:
            end = index
            while end < len(fmt) and fmt[end] == char:
                end += 1
            tokens.append(("spec", fmt[index:end]))
            index = end
        else:
            tokens.append(("literal", char))
            index += 1
    return tokens


def _offset_text(value, width):
    offset = value.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    if width == 1:
        return "%s%d" % (sign, minutes // 60)
    if width == 2:
        return "%s%02d" % (sign, minutes // 60)
    return "%s%02d:%02d" % (sign, minutes // 60, minutes % 60)


def format_custom(value, fmt):
    """``value`` (a datetime) formatted with a .NET custom format string."""
    out = []
    for kind, text in _tokens(fmt):
        if kind == "literal":
            out.append(text)
            continue
        char, width = text[0], len(text)
        if char == "y":
            out.append(str(value.year % 100) if width == 1 else ("%02d" % (value.year % 100) if width == 2 else str(value.year).zfill(width)))
        elif char == "M":
            out.append([str(value.month), "%02d" % value.month, _MONTHS_SHORT[value.month - 1], _MONTHS[value.month - 1]][min(width, 4) - 1])
        elif char == "d":
            out.append([str(value.day), "%02d" % value.day, _DAYS[value.weekday()][:3], _DAYS[value.weekday()]][min(width, 4) - 1])
        elif char in "hH":
            hour = value.hour if char == "H" else (value.hour % 12 or 12)
            out.append(str(hour) if width == 1 else "%02d" % hour)
        elif char in "ms":
            number = value.minute if char == "m" else value.second
            out.append(str(number) if width == 1 else "%02d" % number)
        elif char in "fF":
            digits = ("%07d" % (value.microsecond * 10))[:width]
            out.append(digits if char == "f" else digits.rstrip("0"))
        elif char == "t":
            out.append(("AM" if value.hour < 12 else "PM")[:width])
        elif char == "z":
            out.append(_offset_text(value, min(width, 3)))
        elif char == "K":
            out.append("" if value.tzinfo is None else ("Z" if value.utcoffset() == timedelta(0) else _offset_text(value, 3)))
    return "".join(out)


def _pattern(fmt):
    """A regex with named groups that parses text written with the .NET custom format ``fmt``."""
    parts, seen = [], set()
    for kind, text in _tokens(fmt):
        if kind == "literal":
            parts.append(r"\s+" if text.isspace() else re.escape(text))
            continue
        char, width = text[0], len(text)
        group = {"y": "year", "M": "month", "d": "day", "h": "hour12", "H": "hour", "m": "minute", "s": "second",
                 "f": "fraction", "F": "fraction", "t": "ampm", "z": "offset", "K": "offset"}[char]
        if char == "d" and width >= 3:
            group = None
        if char == "y":
            body = r"\d{4}" if width >= 4 else (r"\d{2}" if width == 2 else r"\d{1,4}")
        elif char == "M" and width >= 3:
            body = "|".join(_MONTHS if width >= 4 else _MONTHS_SHORT)
        elif char == "d" and width >= 3:
            body = "|".join(_DAYS if width >= 4 else [day[:3] for day in _DAYS])
        elif char in "MdhHms":
            body = r"\d{1,2}" if width == 1 else r"\d{2}"
        elif char == "f":
            body = r"\d{%d}" % width
        elif char == "F":
            body = r"\d{0,%d}" % width
        elif char == "t":
            body = "AM|PM" if width > 1 else "A|P"
        elif char == "z":
            body = r"[+-]\d{1,2}" if width == 1 else (r"[+-]\d{2}" if width == 2 else r"[+-]\d{2}:\d{2}")
        else:
            body = r"Z|[+-]\d{2}:\d{2}|"
        if group is None or group in seen:
            parts.append("(?:%s)" % body)
        else:
            seen.add(group)
            parts.append("(?P<%s>%s)" % (group, body))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE)


def _offset(text):
    if not text:
        return None
    if text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    hours, _sep, minutes = text[1:].partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def parse_exact(text, fmt):
    """Parse ``text`` written in the .NET custom format ``fmt`` (DateTime.ParseExact).

    Leading and trailing white space is allowed (the page's default DateTimeStyles include
    AllowLeadingWhite and AllowTrailingWhite). An offset in the text is kept, not converted.
    """
    match = _pattern(fmt).match(text.strip())
    if match is None:
        raise DateError("The value %r does not match the date format %r." % (text, fmt))
    parts = match.groupdict()
    month = parts.get("month") or "1"
    if not month.isdigit():
        names = _MONTHS if len(month) > 3 else _MONTHS_SHORT
        month = str([name.lower() for name in names].index(month.lower()) + 1)
    hour = int(parts.get("hour") or 0)
    if parts.get("hour12") is not None:
        hour = int(parts["hour12"]) % 12 + (12 if (parts.get("ampm") or "A").upper().startswith("P") else 0)
    year = int(parts.get("year") or 1)
    if parts.get("year") is not None and len(parts["year"]) <= 2:
        year += 2000
    fraction = (parts.get("fraction") or "").ljust(6, "0")[:6]
    try:
        return datetime(year, int(month), int(parts.get("day") or 1), hour, int(parts.get("minute") or 0),
                        int(parts.get("second") or 0), int(fraction or 0), _offset(parts.get("offset")))
    except ValueError as exc:
        raise DateError("The value %r is not a valid date: %s." % (text, exc)) from exc


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


def to_utc(value):
    """A naive or aware datetime as an aware UTC datetime (naive values are taken as UTC: the service runs in UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def parse_date(text):
    """CDate: a UTC datetime from an ISO 8601 date ("2020-03-16-07:00", "2009-06-15T01:45:30-07:00") or a
    "M/d/yyyy h:mm:ss tt" string (the forms the page's CDate, DateAdd and DateDiff examples use)."""
    text = text.strip()
    match = _ISO.match(text)
    if match:
        year, month, day, hour, minute, second, fraction, offset = match.groups()
    else:
        match = _US.match(text)
        if match is None:
            raise DateError("The value %r is not a date." % text)
        month, day, year, hour, minute, second, ampm, offset = match.groups()
        fraction = None
        if ampm and hour:
            hour = str(int(hour) % 12 + (12 if ampm.upper() == "PM" else 0))
    if offset and ":" not in offset and offset.upper() != "Z":
        offset = offset[:3] + ":" + offset[3:]
    try:
        value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                         int((fraction or "0").ljust(6, "0")[:6]), _offset(offset))
    except ValueError as exc:
        raise DateError("The value %r is not a valid date: %s." % (text, exc)) from exc
    return to_utc(value)


def format_general(value):
    """The "M/d/yyyy h:mm:ss tt" form CDate, DateAdd and Now return (in UTC)."""
    return format_custom(to_utc(value), "M/d/yyyy h:mm:ss tt")


def from_filetime(ticks):
    """DateFromNum: Active Directory's 100 ns ticks since 1601-01-01 UTC -> datetime."""
    return _FILETIME_EPOCH + timedelta(microseconds=int(ticks) // 10)


def to_filetime(value):
    """NumFromDate: datetime -> Active Directory ticks."""
    delta = to_utc(value) - _FILETIME_EPOCH
    return (delta.days * 86400 + delta.seconds) * 10 ** 7 + delta.microseconds * 10


def add_interval(value, interval, number):
    """DateAdd's intervals: yyyy, m, d, ww, h, n, s."""
    value = to_utc(value)
    if interval in ("yyyy", "m"):
        months = value.month - 1 + number * (12 if interval == "yyyy" else 1)
        year, month = value.year + months // 12, months % 12 + 1
        return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))
    seconds = {"d": 86400, "ww": 7 * 86400, "h": 3600, "n": 60, "s": 1}.get(interval)
    if seconds is None:
        raise DateError("The interval %r is not one of yyyy, m, d, ww, h, n, s." % interval)
    return value + timedelta(seconds=seconds * number)


def difference(interval, first, second):
    """DateDiff: second - first in whole intervals (Visual Basic's DateDiff: years and months count
    calendar boundaries, weeks count Sundays crossed, the rest truncate)."""
    first, second = to_utc(first), to_utc(second)
    if interval == "yyyy":
        return second.year - first.year
    if interval == "m":
        return (second.year - first.year) * 12 + second.month - first.month
    if interval == "ww":
        def sunday(value):
            return value.date() - timedelta(days=(value.weekday() + 1) % 7)
        return (sunday(second) - sunday(first)).days // 7
    seconds = {"d": 86400, "h": 3600, "n": 60, "s": 1}.get(interval)
    if seconds is None:
        raise DateError("The interval %r is not one of yyyy, m, d, ww, h, n, s." % interval)
    return int((second - first).total_seconds() / seconds)
