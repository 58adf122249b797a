"""``GET /auditLogs/provisioning``: the tenant's provisioning log ([list provisioning logs], [provisioning logs]).

- Permission: application "AuditLog.Read.All and Directory.Read.All" ([list provisioning logs] permissions):
  both roles, else 403 (permissions.PROVISIONING_LOGS_READ). A tenant without a Microsoft Entra ID P1/P2
  licence answers 403 ``Authentication_RequestFromNonPremiumTenantOrB2CTenant`` ([analyze provisioning logs]
  prerequisites; the control setting ``premium_license`` turns the licence off).
- ``$filter``: clauses joined by ``and``; ``eq`` on the properties the resource page marks filterable (``id``,
  ``jobId``, ``cycleId``, ``changeId``, ``tenantId``, ``provisioningAction``, ``provisioningStatusInfo/status``,
  ``servicePrincipal/id``, ``servicePrincipal/displayName``, ``sourceIdentity/id``, ``sourceIdentity/displayName``,
  ``sourceIdentity/identityType``, ``targetIdentity/id``, ``targetIdentity/displayName``, ``targetIdentity/identityType``,
  ``initiatedBy/displayName``, ``sourceSystem/displayName``, ``targetSystem/displayName``), ``contains(...)`` and
  ``startswith(...)`` on the same strings, and ``activityDateTime`` with ``eq``, ``gt``, ``lt``, ``ge``, ``le``
  (an unquoted ISO 8601 time, as the list page's examples write it). Anything else answers 400 BadRequest.
  Enum values (action, status) compare case-insensitively (the resource page lists ``stageddelete``, JSON prints
  ``stagedDelete``).
- ``$orderby=activityDateTime [asc|desc]``; docs are silent on the default order: we chose newest first, as the
  portal lists them. ``$top`` (1-999) and paging with ``@odata.nextLink`` (snapshot per scan, odata.py);
  ``$select`` of top-level properties.
- Eventual consistency: an entry appears ``provisioning_log_delay_seconds`` (emulated clock) after its
  activityDateTime; docs are silent on the delay: we chose 1 second by default (control setting).
- 429 and other transient answers come from the fault injector (``PUT /_emulator/faults``), like any route.

Names in brackets, like [provisioning logs], are public pages listed in docs/synchronization.md#sources.
"""

import datetime
import re

from ..framework import GraphHttpError
from ..framework import json_response
from ..odata import paged_collection
from ..odata import parse_select
from .state import advance_jobs
from .state import service

ENTRY_PROPERTIES = ("id", "activityDateTime", "tenantId", "jobId", "cycleId", "changeId", "durationInMilliseconds", "initiatedBy",
                    "provisioningAction", "provisioningStatusInfo", "provisioningSteps", "modifiedProperties", "servicePrincipal",
                    "sourceIdentity", "sourceSystem", "targetIdentity", "targetSystem")
STRING_PROPERTIES = {name.lower(): name for name in (
    "id", "jobId", "cycleId", "changeId", "tenantId", "provisioningAction", "provisioningStatusInfo/status", "servicePrincipal/id",
    "servicePrincipal/displayName", "sourceIdentity/id", "sourceIdentity/displayName", "sourceIdentity/identityType", "targetIdentity/id",
    "targetIdentity/displayName", "targetIdentity/identityType", "initiatedBy/displayName", "sourceSystem/displayName",
    "targetSystem/displayName")}
ENUM_PROPERTIES = ("provisioningAction", "provisioningStatusInfo/status")

_PROPERTY = r"([A-Za-z]+(?:/[A-Za-z]+)?)"
_STRING_CLAUSE = re.compile(r"^\s*" + _PROPERTY + r"\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_FUNCTION_CLAUSE = re.compile(r"^\s*(contains|startswith)\(\s*" + _PROPERTY + r"\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.IGNORECASE)
_TIME_CLAUSE = re.compile(r"^\s*activityDateTime\s+(eq|gt|lt|ge|le)\s+'?(\d{4}-\d\d-\d\d(?:T[\d:.]+)?(?:Z|[+-]\d\d:\d\d)?)'?\s*$", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMPARE = {"eq": lambda a, b: a == b, "gt": lambda a, b: a > b, "lt": lambda a, b: a < b, "ge": lambda a, b: a >= b, "le": lambda a, b: a <= b}


def parse_time(text):
    """An ISO 8601 time (a date alone means midnight UTC); fractions beyond microseconds are cut (Graph prints 7 digits)."""
    text = text.strip()
    if "T" not in text:
        text += "T00:00:00Z"
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _bad_filter(clause):
    return GraphHttpError(400, "BadRequest", "Invalid filter clause: '%s' is not supported on provisioningObjectSummary." % clause.strip())


def _value(entry, path):
    value = entry
    for part in path.split("/"):
        value = (value or {}).get(part) if isinstance(value, dict) else None
    return value


def parse_filter(expression):
    """A list of predicates (entry -> bool) from ``$filter``; raises 400 for anything unsupported."""
    if re.search(r"\s+or\s+|^\s*not\s", expression, re.IGNORECASE):
        raise _bad_filter(expression)
    predicates = []
    for clause in _AND.split(expression.strip()):
        match = _TIME_CLAUSE.match(clause)
        if match:
            try:
                moment = parse_time(match.group(2))
            except ValueError:
                raise _bad_filter(clause) from None
            operator = _COMPARE[match.group(1).lower()]
            predicates.append(lambda entry, operator=operator, moment=moment: operator(parse_time(entry["activityDateTime"]), moment))
            continue
        match = _STRING_CLAUSE.match(clause)
        function = None
        if match:
            name, literal = match.group(1), match.group(2)
        else:
            match = _FUNCTION_CLAUSE.match(clause)
            if not match:
                raise _bad_filter(clause)
            function, name, literal = match.group(1).lower(), match.group(2), match.group(3)
        canonical = STRING_PROPERTIES.get(name.lower())
        if canonical is None:
            raise _bad_filter(clause)
        literal = literal.replace("''", "'")
        # Docs are silent on case: GUIDs and enums compare case-insensitively, so we chose case-insensitive comparisons throughout.
        wanted = literal.casefold()

        def predicate(entry, canonical=canonical, wanted=wanted, function=function):
            actual = str(_value(entry, canonical) or "").casefold()
            if function == "contains":
                return wanted in actual
            if function == "startswith":
                return actual.startswith(wanted)
            return actual == wanted

        predicates.append(predicate)
    return predicates


def _order(request):
    raw = (request.query.get("$orderby") or "activityDateTime desc").strip()
    match = re.match(r"^activityDateTime(?:\s+(asc|desc))?$", raw, re.IGNORECASE)
    if not match:
        raise GraphHttpError(400, "BadRequest", "$orderby supports activityDateTime only (asc or desc).")
    return (match.group(1) or "asc").lower() == "desc"


def list_provisioning_logs(request):
    store = request.store
    sync_service = service(store)
    if not sync_service.settings.premium_license:
        raise GraphHttpError(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                             "Neither tenant is B2C or tenant doesn't have premium license")
    for option in ("$search", "$skip", "$expand", "$count"):
        if option in request.query:
            raise GraphHttpError(400, "BadRequest", "The query option '%s' is not supported on auditLogs/provisioning." % option)
    raw_filter = request.query.get("$filter")
    predicates = parse_filter(raw_filter) if raw_filter else []
    newest_first = _order(request)
    selected = parse_select(request.query, ENTRY_PROPERTIES, "microsoft.graph.provisioningObjectSummary")

    def compute_ids():
        with store.lock:
            now = request.clock.now()
            for state in store.synchronization.values():
                advance_jobs(store, state, now)
            visible_until = now - datetime.timedelta(seconds=sync_service.settings.provisioning_log_delay_seconds)
            entries = [entry for entry in sync_service.provisioning_logs
                       if parse_time(entry["activityDateTime"]) <= visible_until and all(predicate(entry) for predicate in predicates)]
            entries.sort(key=lambda entry: entry["activityDateTime"], reverse=newest_first)
            return [entry["id"] for entry in entries]

    def fetch(entry_id):
        return sync_service.log_index.get(entry_id)

    body = paged_collection(request, "auditLogs/provisioning", "/auditLogs/provisioning", compute_ids, fetch, store.page_snapshots, selected)
    return json_response(body)
