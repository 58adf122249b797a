"""OData query options for directory collections: $top, $select, $filter, $count and paging.

Paging follows [paging]: ``@odata.nextLink`` is an absolute URL on the
emulator's host that carries an opaque ``$skiptoken``; clients must follow it verbatim. The
first page takes a snapshot of the matching ids, later pages slice it, so a scan of 20,000
objects costs O(n) once and O(page) per page (no O(n²)).

Names in brackets, like [paging], are public pages listed in docs/synchronization.md#sources.
"""

import base64
import collections
import re
import threading
import urllib.parse
import uuid

from .framework import GraphHttpError

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 999
_SNAPSHOT_LIMIT = 512

_QUOTED = r"'((?:[^']|'')*)'"
_EQ = re.compile(r"^\s*([A-Za-z]+)\s+eq\s+(?:" + _QUOTED + r"|(true|false|null))\s*$", re.IGNORECASE)
_STARTSWITH = re.compile(r"^\s*startswith\(\s*([A-Za-z]+)\s*,\s*" + _QUOTED + r"\s*\)\s*$", re.IGNORECASE)
_CONTAINS = re.compile(r"^\s*contains\(\s*([A-Za-z]+)\s*,\s*" + _QUOTED + r"\s*\)\s*$", re.IGNORECASE)
_IN = re.compile(r"^\s*([A-Za-z]+)\s+in\s+\(\s*(" + _QUOTED + r"(?:\s*,\s*" + _QUOTED + r")*)\s*\)\s*$", re.IGNORECASE)
_ANY = re.compile(r"^\s*([A-Za-z]+)/any\(\s*([A-Za-z]+)\s*:\s*\2\s+eq\s+" + _QUOTED + r"\s*\)\s*$", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def _unquote(value):
    return value.replace("''", "'")


def split_and(expression):
    """Split on ``and`` outside quotes and parentheses."""
    parts = []
    depth = 0
    in_quote = False
    start = 0
    index = 0
    while index < len(expression):
        char = expression[index]
        if char == "'":
            in_quote = not in_quote
        elif not in_quote and char == "(":
            depth += 1
        elif not in_quote and char == ")":
            depth -= 1
        elif not in_quote and depth == 0:
            match = _AND.match(expression, index)
            if match and match.start() == index:
                parts.append(expression[start:index])
                start = index = match.end()
                continue
        index += 1
    parts.append(expression[start:])
    return [part.strip() for part in parts if part.strip()]


class FilterSpec:
    """Which filter forms a collection supports: property name -> allowed operators."""

    def __init__(self, type_name, operators):
        self.type_name = type_name
        # {"displayName": {"eq", "startswith"}, "id": {"eq", "in"}, "tags": {"any"}, ...}
        self.operators = {name.lower(): (name, set(ops)) for name, ops in operators.items()}

    def unsupported(self, clause, property_name=None):
        target = property_name or clause
        return GraphHttpError(400, "Request_UnsupportedQuery",
                              "Unsupported or invalid query filter clause specified for property '%s' of resource '%s'." % (target, self.type_name))

    def _property(self, name, operator, clause):
        found = self.operators.get(name.lower())
        if not found or operator not in found[1]:
            raise self.unsupported(clause, name)
        return found[0]

    def parse(self, expression):
        """Return a list of (property, operator, value) clauses joined by ``and``."""
        clauses = []
        for clause in split_and(expression):
            match = _EQ.match(clause)
            if match:
                literal = match.group(3)
                value = _unquote(match.group(2)) if literal is None else {"true": True, "false": False, "null": None}[literal.lower()]
                clauses.append((self._property(match.group(1), "eq", clause), "eq", value))
                continue
            match = _STARTSWITH.match(clause)
            if match:
                clauses.append((self._property(match.group(1), "startswith", clause), "startswith", _unquote(match.group(2))))
                continue
            match = _CONTAINS.match(clause)
            if match:
                clauses.append((self._property(match.group(1), "contains", clause), "contains", _unquote(match.group(2))))
                continue
            match = _IN.match(clause)
            if match:
                values = [_unquote(item) for item in re.findall(_QUOTED, match.group(2))]
                clauses.append((self._property(match.group(1), "in", clause), "in", values))
                continue
            match = _ANY.match(clause)
            if match:
                clauses.append((self._property(match.group(1), "any", clause), "any", _unquote(match.group(3))))
                continue
            raise self.unsupported(clause)
        return clauses


def _fold(value):
    return value.casefold() if isinstance(value, str) else value


def matches(obj, clauses):
    """Directory string comparisons are case-insensitive (docs are silent: we chose Entra's behaviour)."""
    for name, operator, value in clauses:
        actual = obj.get(name)
        if operator == "eq":
            if _fold(actual) != _fold(value):
                return False
        elif operator == "startswith":
            if not isinstance(actual, str) or not actual.casefold().startswith(value.casefold()):
                return False
        elif operator == "contains":
            if not isinstance(actual, str) or value.casefold() not in actual.casefold():
                return False
        elif operator == "in":
            if _fold(actual) not in {_fold(item) for item in value}:
                return False
        elif operator == "any":
            if not any(_fold(item) == _fold(value) for item in (actual or [])):
                return False
    return True


def parse_top(query, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE):
    raw = query.get("$top")
    if raw is None or raw == "":
        return default
    try:
        top = int(raw)
    except ValueError:
        raise GraphHttpError(400, "Request_BadRequest", "Invalid page size specified: '%s'. Must be between 1 and %d inclusive." % (raw, maximum)) from None
    if not 1 <= top <= maximum:
        # Graph answers this for directory collections beyond 999 (docs are silent on the text: we chose Graph's).
        raise GraphHttpError(400, "Request_BadRequest", "Invalid page size specified: '%s'. Must be between 1 and %d inclusive." % (raw, maximum))
    return top


def parse_select(query, known_properties, type_name):
    """Return the selected property names (canonical case) or None."""
    raw = query.get("$select")
    if not raw:
        return None
    canonical = {name.lower(): name for name in known_properties}
    selected = []
    for item in raw.split(","):
        name = item.strip()
        if not name:
            continue
        if name.lower() not in canonical:
            raise GraphHttpError(400, "Request_BadRequest", "Could not find a property named '%s' on type '%s'." % (name, type_name))
        if canonical[name.lower()] not in selected:
            selected.append(canonical[name.lower()])
    return selected or None


def project(obj, selected):
    if selected is None:
        return obj
    projected = {name: obj.get(name) for name in selected}
    if "@odata.type" in obj:
        # A collection of a base type (directoryObject) annotates each derived member with its type also under
        # $select, so that clients can tell users from groups (https://learn.microsoft.com/graph/api/group-list-members).
        projected = dict({"@odata.type": obj["@odata.type"]}, **projected)
    return projected


def check_count(request):
    """$count on directory objects needs ConsistencyLevel: eventual [advanced queries]."""
    if request.query.get("$count", "").lower() != "true":
        return False
    if (request.headers.get("ConsistencyLevel") or "").lower() != "eventual":
        raise GraphHttpError(400, "Request_BadRequest", "$count is not currently supported without the ConsistencyLevel: eventual header.")
    return True


class PageSnapshots:
    """Id lists of running scans, keyed by an opaque token (bounded, least recently used out)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._snapshots = collections.OrderedDict()

    def put(self, ids):
        key = uuid.uuid4().hex
        with self._lock:
            self._snapshots[key] = ids
            while len(self._snapshots) > _SNAPSHOT_LIMIT:
                self._snapshots.popitem(last=False)
        return key

    def get(self, key):
        with self._lock:
            ids = self._snapshots.get(key)
            if ids is not None:
                self._snapshots.move_to_end(key)
            return ids


def encode_skiptoken(snapshot_key, offset):
    return base64.urlsafe_b64encode(("%s:%d" % (snapshot_key, offset)).encode("ascii")).decode("ascii").rstrip("=")


def decode_skiptoken(token):
    try:
        padded = token + "=" * (-len(token) % 4)
        key, _separator, offset = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii").partition(":")
        return key, int(offset)
    except (ValueError, UnicodeError):
        raise GraphHttpError(400, "Request_BadRequest", "Invalid $skiptoken value.") from None


def next_link(request, collection_path, skiptoken):
    """An absolute URL on the emulator's host keeping every query option but the skiptoken."""
    params = [(key, value) for key, value in request.query.items() if key.lower() != "$skiptoken"]
    params.append(("$skiptoken", skiptoken))
    return "%s%s?%s" % (request.base_url, collection_path, urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="$,'()"))


def context_url(request, collection, selected=None):
    suffix = "(%s)" % ",".join(selected) if selected else ""
    return "%s/$metadata#%s%s" % (request.base_url, collection, suffix)


def paged_collection(request, collection, collection_path, compute_ids, fetch, snapshots, selected, count=False):
    """Build one page: ``compute_ids()`` lists matching ids (first page), ``fetch(id)`` returns the object or None."""
    top = parse_top(request.query)
    token = request.query.get("$skiptoken")
    if token:
        key, offset = decode_skiptoken(token)
        ids = snapshots.get(key)
        if ids is None:
            # The snapshot was evicted (or the emulator reset): recompute; insertion order is stable.
            ids = compute_ids()
            key = snapshots.put(ids)
    else:
        offset = 0
        ids = compute_ids()
        key = None
    page = []
    position = offset
    while position < len(ids) and len(page) < top:
        obj = fetch(ids[position])
        position += 1
        if obj is not None:
            page.append(project(obj, selected))
    body = {"@odata.context": context_url(request, collection, selected)}
    if count:
        body["@odata.count"] = len(ids)
    body["value"] = page
    if position < len(ids):
        if key is None:
            key = snapshots.put(ids)
        body["@odata.nextLink"] = next_link(request, collection_path, encode_skiptoken(key, position))
    return body
