# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""What the provisioning service did, object by object: the logic of ``provisioning_log_info``.

``GET /auditLogs/provisioning`` lists provisioningObjectSummary entries (docs/graph-behaviour.md §9.1). The task's
options become one OData ``$filter`` (``build_filter``, pure); the pages are followed through ``GraphClient`` (paging
and 429 as every read) until the end or ``max_entries``; each entry is converted to one fixed snake_case shape
(``entry_to_result``) whichever of Graph's two spellings it came in (§9.2); ``summarize`` counts them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError, required_permission
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job_info import parse_timestamp, utc_now
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure, module_spec
from ansible_collections.entra.provisioning.plugins.module_utils._validate import GUID, id_segment, object_id

LOGS_PATH = '/auditLogs/provisioning'

# provisioningResult and provisioningAction, as Graph spells their members (docs/graph-behaviour.md §9.2); the
# documented $filter is case sensitive (§9.1), so these exact spellings are sent.
STATUSES = ('success', 'failure', 'skipped', 'warning')
ACTIONS = ('create', 'update', 'delete', 'disable', 'stagedDelete', 'other')

# Objects listed in summary.most_failed, at most.
MOST_FAILED_LIMIT = 10
DEFAULT_MAX_ENTRIES = 1000

_RELATIVE = re.compile(r'^\s*(\d+)\s*([smhdw])\s*$', re.I)
_UNIT_SECONDS = dict(s=1, m=60, h=3600, d=86400, w=7 * 86400)
_DATE = re.compile(r'^(\d{4})-(\d\d)-(\d\d)$')
_ZONE = re.compile(r'(Z|[+-]\d\d:\d\d)$')

ARGUMENT_SPEC = dict(
    service_principal_id=dict(type='str'),
    job_id=dict(type='str'),
    object=dict(type='str'),
    status=dict(type='str', choices=list(STATUSES)),
    action=dict(type='str', choices=list(ACTIONS)),
    cycle_id=dict(type='str'),
    since=dict(type='str'),
    until=dict(type='str'),
    max_entries=dict(type='int', default=DEFAULT_MAX_ENTRIES),
)

MODULE_SPEC = module_spec(ARGUMENT_SPEC)


# --- input (pure) ----------------------------------------------------------------------------------------------------

def parse_moment(option, value, now):
    """``value`` (a timestamp, a date, or a span back from ``now`` such as ``24h`` or ``7d``) as an aware UTC datetime."""
    if value is None:
        return None
    text = str(value).strip()
    relative = _RELATIVE.match(text)
    if relative:
        return now - datetime.timedelta(seconds=int(relative.group(1)) * _UNIT_SECONDS[relative.group(2).lower()])
    date = _DATE.match(text)
    if date:
        try:
            return datetime.datetime(int(date.group(1)), int(date.group(2)), int(date.group(3)), tzinfo=datetime.timezone.utc)
        except ValueError:
            pass
    else:
        moment = parse_timestamp(text if _ZONE.search(text) else text + 'Z')
        if moment is not None:
            return moment
    raise TaskFailure('%s: %r is neither a time nor a span back from now; give a UTC timestamp such as '
                      '2024-05-25T08:00:00Z, a date such as 2024-05-25, or a span such as 30m, 24h, 7d or 2w.' % (option, value))


def odata_time(moment):
    """A DateTimeOffset literal of the $filter (unquoted, UTC, whole seconds)."""
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def odata_string(value):
    """An OData string literal: single quotes doubled (https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html)."""
    return "'%s'" % value.replace("'", "''")


def is_user_principal_name(value):
    return '@' in value and not GUID.match(value)


class LogQuery:
    """The task's options, validated and normalised; every error names the option and the fix."""

    def __init__(self, params, now):
        sp = params.get('service_principal_id')
        self.service_principal_id = object_id('service_principal_id', sp, 'service_principal') if sp is not None else None
        self.job_id = id_segment('job_id', params.get('job_id'), 'give the id of a provisioning job (synchronization_job_info '
                                 'lists them), or leave job_id out')
        self.cycle_id = id_segment('cycle_id', params.get('cycle_id'), 'give the cycle id of a log entry (entries[].cycle_id), '
                                   'or leave cycle_id out')
        obj = params.get('object')
        self.object = obj.strip() if isinstance(obj, str) else obj
        if self.object is not None and not self.object:
            raise TaskFailure('object: %r is not an object id or a user principal name; give the object id of a user or '
                              'group (or its id in the target system), or a user principal name such as alice@contoso.com.'
                              % obj)
        self.status = params.get('status')
        self.action = params.get('action')
        self.since = parse_moment('since', params.get('since'), now)
        self.until = parse_moment('until', params.get('until'), now)
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise TaskFailure('since (%s) is not before until (%s): give an earlier since or a later until.'
                              % (odata_time(self.since), odata_time(self.until)))
        self.max_entries = params.get('max_entries')
        if self.max_entries is None:
            self.max_entries = DEFAULT_MAX_ENTRIES
        if self.max_entries < 0:
            raise TaskFailure('max_entries must be 0 (every entry that matches) or a positive number; got %s.' % self.max_entries)


def build_filters(query, object_ids=None):
    """The OData $filter expressions of ``query``: one, or None when nothing filters.

    Only the properties and operators Graph documents for this list are used (docs/graph-behaviour.md §9.1): ``eq``
    joined by ``and`` and, for times, ``gt``/``lt``. ``object_ids`` (the ids the ``object`` option stands for) are
    matched on the source or the target identity; ``or`` is not among the documented operators, so each id and side
    is one expression of its own, and their results are merged (``read_entries``).
    """
    clauses = []
    if query.service_principal_id:
        clauses.append('servicePrincipal/id eq %s' % odata_string(query.service_principal_id))
    if query.job_id:
        clauses.append('jobId eq %s' % odata_string(query.job_id))
    if query.status:
        clauses.append('provisioningStatusInfo/status eq %s' % odata_string(query.status))
    if query.action:
        clauses.append('provisioningAction eq %s' % odata_string(query.action))
    if query.cycle_id:
        clauses.append('cycleId eq %s' % odata_string(query.cycle_id))
    if query.since is not None:
        clauses.append('activityDateTime gt %s' % odata_time(query.since))
    if query.until is not None:
        clauses.append('activityDateTime lt %s' % odata_time(query.until))
    if not object_ids:
        return [' and '.join(clauses) if clauses else None]
    return [' and '.join(['%s/id eq %s' % (side, odata_string(value))] + clauses)
            for value in object_ids for side in ('sourceIdentity', 'targetIdentity')]


# --- results (pure) ----------------------------------------------------------------------------------------------------

def enum_value(value):
    """An enum member as Graph's v1.0 spells it: ``Create`` -> ``create``, ``StagedDelete`` -> ``stagedDelete``.

    The beta examples and provisionOnDemand's trace capitalise the first letter (docs/graph-behaviour.md §9.2).
    """
    if not isinstance(value, str) or not value:
        return None
    return value[0].lower() + value[1:]


def identity_to_result(identity):
    identity = identity if isinstance(identity, dict) else {}
    return dict(id=identity.get('id') or None, display_name=identity.get('displayName') or None,
                type=identity.get('identityType') or identity.get('type') or None,
                details=identity.get('details') or {})


def step_to_result(step):
    step = step if isinstance(step, dict) else {}
    return dict(name=step.get('name'), type=enum_value(step.get('provisioningStepType') or step.get('type')),
                status=enum_value(step.get('status')), description=step.get('description'),
                details=step.get('details') or {}, timestamp=step.get('timestamp'))


def modified_property_to_result(prop):
    prop = prop if isinstance(prop, dict) else {}
    return dict(display_name=prop.get('displayName'), old_value=prop.get('oldValue'), new_value=prop.get('newValue'))


def status_info(entry):
    """``(status, error dict)`` of either spelling: v1.0 ``provisioningStatusInfo.errorInformation`` or beta's flat
    ``statusInfo`` (docs/graph-behaviour.md §9.2). The error is None when Graph gives no code nor reason."""
    info = entry.get('provisioningStatusInfo') or entry.get('statusInfo') or {}
    details = info.get('errorInformation') if isinstance(info.get('errorInformation'), dict) else info
    error = dict(code=details.get('errorCode') or None, reason=details.get('reason') or None,
                 recommended_action=details.get('recommendedAction') or None,
                 category=enum_value(details.get('errorCategory')), additional_details=details.get('additionalDetails') or None)
    if not (error['code'] or error['reason']):
        error = None
    return enum_value(info.get('status')), error


def entry_to_result(entry):
    """One item of ``entries``: a provisioningObjectSummary in a fixed, documented snake_case shape."""
    status, error = status_info(entry)
    service_principal = entry.get('servicePrincipal')
    if isinstance(service_principal, list):
        service_principal = service_principal[0] if service_principal else None
    service_principal = service_principal if isinstance(service_principal, dict) else {}
    if not service_principal.get('id'):
        details = (entry.get('targetSystem') or {}).get('details') or {}
        service_principal = dict(id=details.get('ServicePrincipalId'), displayName=details.get('ServicePrincipalDisplayName'))
    return dict(
        id=entry.get('id'),
        time=entry.get('activityDateTime'),
        job_id=entry.get('jobId'),
        cycle_id=entry.get('cycleId'),
        change_id=entry.get('changeId'),
        action=enum_value(entry.get('provisioningAction') or entry.get('action')),
        status=status,
        error_code=(error or {}).get('code'),
        reason=(error or {}).get('reason'),
        recommended_action=(error or {}).get('recommended_action'),
        error_category=(error or {}).get('category'),
        duration_ms=entry.get('durationInMilliseconds'),
        service_principal=dict(id=service_principal.get('id') or None, display_name=service_principal.get('displayName') or None),
        source_system=(entry.get('sourceSystem') or {}).get('displayName'),
        target_system=(entry.get('targetSystem') or {}).get('displayName'),
        source_identity=identity_to_result(entry.get('sourceIdentity')),
        target_identity=identity_to_result(entry.get('targetIdentity')),
        initiated_by=(entry.get('initiatedBy') or {}).get('displayName'),
        steps=[step_to_result(step) for step in entry.get('provisioningSteps') or []],
        modified_properties=[modified_property_to_result(prop) for prop in entry.get('modifiedProperties') or []],
    )


def _object_key(entry):
    source = entry['source_identity']
    return source.get('id') or entry['target_identity'].get('id') or source.get('display_name')


def summarize(entries, limit=MOST_FAILED_LIMIT):
    """``summary``: counts by status, by action and by error code, and the objects that failed most.

    ``most_failed`` is sorted by failures (most first), then by the time of the last failure (latest first); each
    object carries its last error. ``entries`` may come in any order.
    """
    by_status = dict((status, 0) for status in STATUSES)
    by_action = dict((action, 0) for action in ACTIONS)
    by_error_code = {}
    failed = {}
    for entry in entries:
        if entry['status']:
            by_status[entry['status']] = by_status.get(entry['status'], 0) + 1
        if entry['action']:
            by_action[entry['action']] = by_action.get(entry['action'], 0) + 1
        if entry['error_code']:
            by_error_code[entry['error_code']] = by_error_code.get(entry['error_code'], 0) + 1
        if entry['status'] != 'failure':
            continue
        key = _object_key(entry)
        item = failed.setdefault(key, dict(object_id=entry['source_identity'].get('id'),
                                           display_name=entry['source_identity'].get('display_name'),
                                           type=entry['source_identity'].get('type'), failures=0, last_error=None))
        item['failures'] += 1
        last = item['last_error']
        if last is None or (parse_timestamp(entry['time']) or _EPOCH) >= (parse_timestamp(last['time']) or _EPOCH):
            item['last_error'] = dict(time=entry['time'], cycle_id=entry['cycle_id'], action=entry['action'],
                                      code=entry['error_code'], reason=entry['reason'],
                                      recommended_action=entry['recommended_action'])
            item['display_name'] = entry['source_identity'].get('display_name') or item['display_name']
    most_failed = sorted(failed.values(), key=lambda item: (-item['failures'], _negated_time(item['last_error']['time']),
                                                            item['object_id'] or ''))
    return dict(entries=len(entries), by_status=by_status, by_action=by_action, by_error_code=by_error_code,
                failed_objects=len(failed), most_failed=most_failed[:limit])


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _negated_time(value):
    return -((parse_timestamp(value) or _EPOCH) - _EPOCH).total_seconds()


# --- reading ---------------------------------------------------------------------------------------------------------

def resolve_user(client, option, user_principal_name):
    """The object id of the user with this user principal name; fails naming ``option`` when there is none.

    ``GET /users?$filter=userPrincipalName eq '...'`` (https://learn.microsoft.com/graph/api/user-list).
    """
    params = {'$filter': 'userPrincipalName eq %s' % odata_string(user_principal_name), '$select': 'id,userPrincipalName'}
    found = client.list_all('/users', params=params)
    if not found:
        raise TaskFailure('%s: no user has the user principal name %s in this tenant; give the user principal name '
                          'exactly as Entra ID shows it, or the user\'s object id.' % (option, user_principal_name))
    return found[0]['id']


def logs_failure(error):
    """The failure to raise for a read of the logs Graph refused with 403: the permission and the licence."""
    return TaskFailure('Graph refused to list the provisioning logs (HTTP 403 %s: %s). Reading them needs the '
                       'application permissions %s (or, delegated, AuditLog.Read.All and a role such as Reports Reader), '
                       'and the tenant needs a Microsoft Entra ID P1 or P2 licence (docs/graph-behaviour.md §9.1).'
                       % (error.code or '', (error.message or '').strip().rstrip('.'), required_permission('GET', LOGS_PATH)),
                       error=error.to_result())


def read_entries(client, filters, max_entries):
    """``(entries as Graph sent them, newest first, truncated)``: for each of ``filters``, the pages followed to the end
    or until ``max_entries`` (0: no limit); the results merged without duplicates."""
    found = {}
    truncated = False
    for odata_filter in filters:
        params = {'$orderby': 'activityDateTime desc'}
        if odata_filter:
            params['$filter'] = odata_filter
        count = 0
        try:
            pages = client.iter_pages(LOGS_PATH, params=params)
            for page in pages:
                for entry in page:
                    found.setdefault(entry.get('id'), entry)
                count += len(page)
                if max_entries and count >= max_entries:
                    # Enough: the rest is not read. Exactly max_entries so far: one more page tells whether more match.
                    truncated = truncated or count > max_entries or bool(next(pages, None))
                    break
        except GraphError as error:
            if error.status == 403:
                raise logs_failure(error)
            raise
    entries = list(found.values())
    if len(filters) > 1:
        entries.sort(key=lambda entry: _negated_time(entry.get('activityDateTime')))
    if max_entries and len(entries) > max_entries:
        truncated = True
        entries = entries[:max_entries]
    return entries, truncated


def run_provisioning_log_info(task):
    query = LogQuery(task.params, utc_now())
    client = task.client()
    object_ids = None
    if query.object is not None:
        object_ids = [resolve_user(client, 'object', query.object) if is_user_principal_name(query.object) else query.object]
    filters = build_filters(query, object_ids)
    raw, truncated = read_entries(client, filters, query.max_entries)
    entries = [entry_to_result(entry) for entry in raw]
    if truncated:
        task.warn('More than max_entries=%d provisioning log entries match; the newest %d are returned. Narrow the query '
                  '(since, status, action, object) or raise max_entries.' % (query.max_entries, query.max_entries))
    return dict(changed=False, entries=entries, summary=summarize(entries), truncated=truncated, filters=filters)
