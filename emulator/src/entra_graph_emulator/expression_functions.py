"""The functions of the attribute-mapping expression language, evaluated (expressions.py parses).

Each function follows its section of "Reference for writing expressions for attribute mappings in
Microsoft Entra ID" (https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data);
"docs are silent: we chose X" marks our own choices. Functions receive a ``call`` (expressions._Call):
``call.value(key)`` evaluates the first argument given for a parameter, ``call.values(key)`` every
occurrence of a repeating one, ``call.given(key)`` tells whether a non-empty argument was written,
``call.context`` is the EvaluationContext (clock, GUIDs, randomness, uniqueness check).

Values are None (null: an absent attribute), a str, a list of str (multi-valued) or a datetime
(CDate, DateFromNum, Now, DateAdd), or IGNORE_FLOW. Booleans are the strings "True" / "False", as
.NET prints them.
"""

import base64
import re
import string
import unicodedata
from datetime import datetime

from . import dotnet_datetime


class EvaluationError(ValueError):
    """An expression that parses but cannot be evaluated against the given attributes."""


class _IgnoreFlow:
    """IgnoreFlowIfNullOrEmpty's result: the attribute is dropped from the flow."""

    def __repr__(self):
        return "IGNORE_FLOW"


IGNORE_FLOW = _IgnoreFlow()
TRUE, FALSE = "True", "False"


def text(value):
    """A value as one string (None stays None; a multi-valued value gives its first item)."""
    if value is None or value is IGNORE_FLOW:
        return None
    if isinstance(value, list):
        return text(value[0]) if value else None
    if isinstance(value, datetime):
        return dotnet_datetime.format_general(value)
    return value


def items(value):
    """A value as a list of strings (None gives [])."""
    if value is None or value is IGNORE_FLOW:
        return []
    if isinstance(value, list):
        return [text(item) for item in value if item is not None]
    return [text(value)]


def boolean(value):
    return TRUE if value else FALSE


def is_true(value, what):
    """"True"/"False" in any case, or a number (non-zero is true: CBool's description)."""
    value = text(value)
    if value is None:
        raise EvaluationError("%s is null." % what)
    if value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    try:
        return number(value, what) != 0
    except EvaluationError:
        raise EvaluationError("%s is %r, neither True, False nor a number." % (what, value)) from None


def number(value, what):
    """An integer: decimal, or hexadecimal written &H… as BitAnd's example does."""
    value = text(value)
    try:
        if value is not None and value.strip().upper().startswith("&H"):
            return int(value.strip()[2:], 16)
        return int(value.strip()) if value is not None else int("")
    except ValueError:
        try:
            return int(float(value))
        except (TypeError, ValueError):
            raise EvaluationError("%s is %r, not a number." % (what, value)) from None


def date(value, what):
    if isinstance(value, datetime):
        return value
    value = text(value)
    if value is None:
        raise EvaluationError("%s is null." % what)
    try:
        return dotnet_datetime.parse_date(value)
    except dotnet_datetime.DateError as exc:
        raise EvaluationError("%s: %s" % (what, exc)) from None


def _net_regex(pattern):
    """.NET named groups (?<name>…) and backreferences \\k<name> in Python's spelling."""
    pattern = re.sub(r"\(\?<(?![=!])(\w+)>", r"(?P<\1>", pattern)
    return re.sub(r"\\k<(\w+)>", r"(?P=\1)", pattern)


def _net_replacement(replacement):
    """.NET substitutions ${name}, $1, $$ in Python's spelling (literal backslashes kept)."""
    replacement = replacement.replace("\\", "\\\\")
    replacement = re.sub(r"\$\{(\w+)\}", r"\\g<\1>", replacement)
    replacement = re.sub(r"\$(\d+)", r"\\g<\1>", replacement)
    return replacement.replace("$$", "$")


def _regex(call, key):
    try:
        return re.compile(_net_regex(text(call.value(key)) or ""))
    except re.error as exc:
        raise EvaluationError("The regular expression %r is not valid: %s." % (text(call.value(key)), exc)) from None


def replace(call):
    """Replace: the parameter names are Graph's (schema/functions): Find is the page's oldValue,
    RegularExpression regexPattern, RegularExpressionGroupName regexGroupName, Replacement
    replacementValue, ReplacementPropertyName replacementAttributeName, Template template."""
    source = text(call.value("source"))
    replacement = text(call.value("Replacement")) or ""
    if call.given("RegularExpression"):
        pattern = _regex(call, "RegularExpression")
        group = text(call.value("RegularExpressionGroupName")) if call.given("RegularExpressionGroupName") else None
        if group is not None and call.given("ReplacementPropertyName"):
            if source:
                return source
            match = pattern.search(text(call.value("ReplacementPropertyName")) or "")
            return match.group(group) if match else None
        if source is None:
            return None
        if group is None:
            return pattern.sub(_net_replacement(replacement), source)
        out, last = [], 0
        for match in pattern.finditer(source):
            if match.start(group) < 0:
                continue
            out.append(source[last:match.start(group)])
            out.append(match.expand(_net_replacement(replacement)))
            last = match.end(group)
        return "".join(out) + source[last:]
    if call.given("Find"):
        find = text(call.value("Find"))
        if call.given("Template"):
            return (text(call.value("Template")) or "").replace(find, source or "") if find else text(call.value("Template"))
        return None if source is None else (source.replace(find, replacement) if find else source)
    return source


def switch(call):
    """Switch: case-sensitive comparison of source with each key (the page's note); a null source
    matches the key "" ("Use the function Switch to check for empty or null values":
    Switch([BusinessTitle],[BusinessTitle],"","N/A"),
    https://learn.microsoft.com/entra/identity/app-provisioning/hr-user-creation-issues)."""
    source = text(call.value("source")) or ""
    pairs = call.nodes("switchValue")
    for index in range(0, len(pairs) - 1, 2):
        if text(call.evaluate(pairs[index])) == source:
            return call.evaluate(pairs[index + 1])
    return call.value("defaultValue") if call.given("defaultValue") else None


def iif(call):
    """IIF: "If the source attribute used within the IIF function is empty or null, the condition
    check fails" (the page's known limitations): an evaluation error naming the attribute."""
    for name in call.attributes_in("condition"):
        if not text(call.attribute(name)):
            raise EvaluationError("The IIF condition check fails: the attribute [%s] is null or empty." % name)
    chosen = "valueIfTrue" if is_true(call.value("condition"), "The IIF condition") else "valueIfFalse"
    return call.value(chosen)


def coalesce(call):
    for value in call.values("source"):
        if value is not None:
            return value
    return None


def join(call):
    """Join: every value of multi-valued sources; empty values are skipped (the page's example
    Join(", ", "", [surname], [givenName]) gives "Doe, John")."""
    separator = text(call.value("separator")) or ""
    return separator.join(item for value in call.values("source") for item in items(value) if item)


def left(call):
    value = text(call.value("String"))
    count = number(call.value("NumChars"), "Left's NumChars")
    if value is None or count == 0:
        return ""
    return value if count < 0 else value[:count]


def mid(call):
    value = text(call.value("source"))
    start = number(call.value("start"), "Mid's start")
    length = number(call.value("length"), "Mid's length")
    if value is None:
        return None
    if start < 1 or length < 0:
        raise EvaluationError("Mid's start must be 1 or more and its length 0 or more.")
    return value[start - 1:start - 1 + length]


def word(call):
    """Word: words are the non-empty runs between any of the delimiter characters."""
    value = text(call.value("String"))
    index = number(call.value("WordNumber"), "Word's WordNumber")
    delimiters = text(call.value("Delimiters")) or ""
    if value is None or index < 1:
        return ""
    words = [part for part in re.split("[%s]" % re.escape(delimiters), value) if part] if delimiters else [value]
    return words[index - 1] if index <= len(words) else ""


def instr(call):
    """InStr: the 1-based position of value2 in value1 from start, 0 when absent; vbTextCompare
    ignores case, vbBinaryCompare (the default, as in Visual Basic) does not."""
    haystack = text(call.value("value1")) or ""
    needle = text(call.value("value2")) or ""
    start = number(call.value("start"), "InStr's start") if call.given("start") else 1
    compare = text(call.value("compareType")) if call.given("compareType") else "vbBinaryCompare"
    if compare not in ("vbBinaryCompare", "vbTextCompare"):
        raise EvaluationError("InStr's compareType must be vbTextCompare or vbBinaryCompare, not %r." % compare)
    if compare == "vbTextCompare":
        haystack, needle = haystack.lower(), needle.lower()
    return str(haystack.find(needle, max(start, 1) - 1) + 1)


# NormalizeDiacritics: letters the table maps that Unicode does not decompose.
_DIACRITIC_LETTERS = str.maketrans({"æ": "ae", "Æ": "AE", "ø": "oe", "Ø": "OE", "œ": "oe", "Œ": "OE", "ß": "ss",
                                    "ł": "l", "Ł": "L", "ı": "i"})


def normalize_diacritics(call):
    value = text(call.value("source"))
    if value is None:
        return None
    stripped = "".join(char for char in unicodedata.normalize("NFD", value) if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", stripped.translate(_DIACRITIC_LETTERS))


def pcase(call):
    """PCase: without wordSeparators every character that is not a letter or digit separates
    words (ToTitleCase's categories); the page's examples lower-case the rest of each word."""
    value = text(call.value("source"))
    if value is None:
        return None
    separators = text(call.value("wordSeparators")) if call.given("wordSeparators") else None
    out, start = [], True
    for char in value:
        separator = char in separators if separators is not None else not (char.isalnum() or char == "'")
        out.append(char if separator else (char.upper() if start else char.lower()))
        start = separator
    return "".join(out)


def split(call):
    """Split: items are trimmed (the page's example splits "PermissionSetOne, PermissionSetTwo" on ","
    into ["PermissionSetOne", "PermissionSetTwo"]); docs are silent on the default delimiter: ","."""
    value = text(call.value("source"))
    if value is None:
        return None
    delimiter = text(call.value("delimiter")) if call.given("delimiter") else ","
    return [part.strip() for part in value.split(delimiter)] if delimiter else [value]


def item(call):
    values = items(call.value("attribute"))
    index = number(call.value("index"), "Item's index")
    if index < 1:
        raise EvaluationError("Item's index starts at 1 (\"Index 0 shouldn't be used\").")
    return values[index - 1] if index <= len(values) else None


def format_date_time(call):
    source = call.value("source")
    if source is None:
        return None
    output_format = text(call.value("outputFormat")) or ""
    if not isinstance(source, datetime):
        try:
            source = dotnet_datetime.parse_exact(text(source), text(call.value("inputFormat")) or "")
        except dotnet_datetime.DateError as exc:
            raise EvaluationError("FormatDateTime: %s" % exc) from None
    return dotnet_datetime.format_custom(source, output_format)


def date_add(call):
    interval = text(call.value("interval"))
    try:
        return dotnet_datetime.add_interval(date(call.value("dateTime"), "DateAdd's dateTime"), interval,
                                            number(call.value("value"), "DateAdd's value"))
    except dotnet_datetime.DateError as exc:
        raise EvaluationError("DateAdd: %s" % exc) from None


def date_diff(call):
    try:
        return str(dotnet_datetime.difference(text(call.value("interval")), date(call.value("date1"), "DateDiff's date1"),
                                              date(call.value("date2"), "DateDiff's date2")))
    except dotnet_datetime.DateError as exc:
        raise EvaluationError("DateDiff: %s" % exc) from None


def random_string(call):
    """RandomString: at least the minimum of each class, the rest lower-case letters and digits,
    without CharactersToAvoid, shuffled with the context's random generator."""
    rng = call.context.random
    avoid = set(text(call.value("CharactersToAvoid")) or "") if call.given("CharactersToAvoid") else set()
    length = number(call.value("Length"), "RandomString's Length")
    classes = [(string.digits, "MinimumNumbers"), ("!@#$%^&*()-_=+[]{};:,.<>/?", "MinimumSpecialCharacters"),
               (string.ascii_uppercase, "MinimumCapital"), (string.ascii_lowercase, "MinimumLowerCase")]
    chars = []
    for alphabet, key in classes:
        allowed = [char for char in alphabet if char not in avoid]
        chars.extend(rng.choice(allowed) for _index in range(number(call.value(key), "RandomString's " + key)))
    if length > 256 or len(chars) > length:
        raise EvaluationError("RandomString's Length must be at most 256 and at least the sum of the minimums.")
    filler = [char for char in string.ascii_lowercase + string.digits if char not in avoid]
    chars.extend(rng.choice(filler) for _index in range(length - len(chars)))
    rng.shuffle(chars)
    return "".join(chars)


def select_unique_value(call):
    """SelectUniqueValue: the first rule whose value the target does not hold yet; when all are
    taken "the entry is escrowed" (an evaluation error here). parseExpression has no target: the
    context's is_unique answers True unless a caller (a provisioning cycle) passes its own."""
    for node in call.nodes("uniqueValueRule"):
        value = text(call.evaluate(node))
        if value is not None and call.context.is_unique(value):
            return value
    raise EvaluationError("SelectUniqueValue: every generated value already exists in the target; the entry is escrowed.")


def single_app_role_assignment(call):
    """SingleAppRoleAssignment: "isn't supported in scenarios where users have multiple app role
    assignments"; docs are silent on what it then returns: we chose the first."""
    values = items(call.value("source"))
    return values[0] if values else None


def _string_function(transform):
    def function(call):
        value = text(call.value("source"))
        return None if value is None else transform(value)
    return function


def _predicate(test, key="Expression"):
    def function(call):
        return boolean(test(call.value(key)))
    return function


def _empty(value):
    return value is None or value is IGNORE_FLOW or value == "" or value == []


def _ignore_flow(call):
    value = call.value("Expression")
    return IGNORE_FLOW if _empty(value) else value


def _default_domain(call):
    if not call.context.default_domain:
        raise EvaluationError("DefaultDomain: the tenant's default domain is not known here.")
    return call.context.default_domain


def _now(call):
    return dotnet_datetime.to_utc(call.context.now())


FUNCTIONS = {
    "Append": lambda call: (text(call.value("source")) or "") + (text(call.value("suffix")) or ""),
    "Prepend": lambda call: (text(call.value("prefix")) or "") + (text(call.value("source")) or ""),
    "AppRoleAssignments": lambda call: items(call.value("source")),
    "AppRoleAssignmentsComplex": lambda call: items(call.value("source")),
    "BitAnd": lambda call: str(number(call.value("value1"), "BitAnd's value1") & number(call.value("value2"), "BitAnd's value2")),
    "CBool": lambda call: boolean(is_true(call.value("Expression"), "CBool's expression")),
    "CDate": lambda call: date(call.value("Expression"), "CDate's expression"),
    "Coalesce": coalesce,
    "ConvertToBase64": _string_function(lambda value: base64.b64encode(value.encode("utf-16-le")).decode("ascii")),
    "ConvertToUTF8Hex": _string_function(lambda value: value.encode("utf-8").hex().upper()),
    "Count": lambda call: str(len(items(call.value("attribute")))),
    "CStr": lambda call: text(call.value("value")),
    "DateAdd": date_add,
    "DateDiff": date_diff,
    "DateFromNum": lambda call: dotnet_datetime.from_filetime(number(call.value("value"), "DateFromNum's value")),
    "DefaultDomain": _default_domain,
    "FormatDateTime": format_date_time,
    "Guid": lambda call: str(call.context.new_guid()),
    "IgnoreFlowIfNullOrEmpty": _ignore_flow,
    "IIF": iif,
    "InStr": instr,
    "IsNothing": _predicate(lambda value: value is None, "source"),
    "IsNull": _predicate(lambda value: value is None),
    "IsNullOrEmpty": _predicate(_empty),
    "IsPresent": _predicate(lambda value: not _empty(value)),
    "IsString": _predicate(lambda value: isinstance(value, str)),
    "Item": item,
    "Join": join,
    "Left": left,
    "Mid": mid,
    "NormalizeDiacritics": normalize_diacritics,
    # Not: "If source value is True, returns False. Otherwise, returns True."
    "Not": lambda call: boolean((text(call.value("source")) or "").strip().lower() != "true"),
    "Now": _now,
    "NumFromDate": lambda call: str(dotnet_datetime.to_filetime(date(call.value("value"), "NumFromDate's value"))),
    "PCase": pcase,
    "RandomString": random_string,
    "Redact": lambda call: call.value("value"),
    "RemoveDuplicates": lambda call: list(dict.fromkeys(items(call.value("attribute")))),
    "Replace": replace,
    "SelectUniqueValue": select_unique_value,
    "SingleAppRoleAssignment": single_app_role_assignment,
    "Split": split,
    "StripSpaces": _string_function(lambda value: value.replace(" ", "")),
    "Switch": switch,
    "ToLower": _string_function(str.lower),
    "ToUpper": _string_function(str.upper),
    "Word": word,
}
