# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The one converter from Graph's camelCase resources to the snake_case results every module returns.

``to_snake(obj)`` is the generic walk. ``job_to_result(job)`` gives a ``synchronizationJob`` its fixed, documented
shape: every property of the resource is present (None when Graph left it out), so playbooks and reports can read
``job.status.last_execution.count_exported`` without guarding each level. Graph's own names appear here and in the
client only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

_WORD_BOUNDARY_AFTER_ACRONYM = re.compile(r'([A-Z]+)([A-Z][a-z])')
_WORD_BOUNDARY = re.compile(r'([a-z0-9])([A-Z])')

# .NET DateTimeOffset.MinValue: what Graph sends for "never" in non-nullable timestamps (docs/graph-behaviour.md §2.4).
NEVER = '0001-01-01T00:00:00Z'

# synchronizationTaskExecution (docs/graph-behaviour.md §2.5): the record behind last_execution,
# last_successful_execution and last_successful_execution_with_exports.
TASK_EXECUTION_FIELDS = (
    'activityIdentifier', 'countEntitled', 'countEntitledForProvisioning', 'countEscrowed', 'countEscrowedRaw',
    'countExported', 'countExports', 'countImported', 'countImportedDeltas', 'countImportedReferenceDeltas',
    'error', 'state', 'timeBegan', 'timeEnded',
)
_EXECUTION_RECORDS = ('lastExecution', 'lastSuccessfulExecution', 'lastSuccessfulExecutionWithExports')
_TIMESTAMPS = frozenset(('timeBegan', 'timeEnded', 'steadyStateFirstAchievedTime', 'steadyStateLastAchievedTime',
                         'currentBegan', 'nextAttempt', 'seriesBegan', 'progressObservationDateTime', 'expiration'))
_STATUS_FIELDS = (
    'code', 'countSuccessiveCompleteFailures', 'escrowsPruned', 'quarantine', 'progress',
    'steadyStateFirstAchievedTime', 'steadyStateLastAchievedTime', 'synchronizedEntryCountByType', 'troubleshootingUrl',
) + _EXECUTION_RECORDS
_QUARANTINE_FIELDS = ('currentBegan', 'nextAttempt', 'reason', 'seriesBegan', 'seriesCount', 'error')
_ERROR_FIELDS = ('code', 'message', 'tenantActionable')
_PROGRESS_FIELDS = ('completedUnits', 'totalUnits', 'progressObservationDateTime', 'units')
_SCHEDULE_FIELDS = ('state', 'interval', 'expiration')


def snake_name(name):
    """``lastSuccessfulExecutionWithExports`` -> ``last_successful_execution_with_exports``; ``SAMLToken`` -> ``saml_token``."""
    name = _WORD_BOUNDARY_AFTER_ACRONYM.sub(r'\1_\2', name)
    name = _WORD_BOUNDARY.sub(r'\1_\2', name)
    return name.lower()


def to_snake(obj):
    """Walk dicts and lists, renaming every key to snake_case and dropping OData annotations (``@odata.*``)."""
    if isinstance(obj, dict):
        return dict((snake_name(key), to_snake(value)) for key, value in obj.items() if not key.startswith('@'))
    if isinstance(obj, list):
        return [to_snake(item) for item in obj]
    return obj


def _timestamp(value):
    """A Graph timestamp, or None for "never" (the .NET minimum value) and for the empty strings some examples carry."""
    if value in (None, '', NEVER):
        return None
    return value


def _fields(obj, names):
    """The named properties of a Graph object, all present, snake_cased; timestamps normalised."""
    obj = obj if isinstance(obj, dict) else {}
    result = {}
    for name in names:
        value = obj.get(name)
        if name in _TIMESTAMPS:
            value = _timestamp(value)
        result[snake_name(name)] = value
    return result


def _error(error):
    if not isinstance(error, dict):
        return None
    return _fields(error, _ERROR_FIELDS)


def execution_to_result(execution):
    """A ``synchronizationTaskExecution`` with all its fields (None where Graph left one out), or None."""
    if not isinstance(execution, dict):
        return None
    result = _fields(execution, TASK_EXECUTION_FIELDS)
    result['error'] = _error(execution.get('error'))
    return result


def quarantine_to_result(quarantine):
    if not isinstance(quarantine, dict):
        return None
    result = _fields(quarantine, _QUARANTINE_FIELDS)
    # The job-get doc example prints "" for the reason; an empty reason is no reason.
    result['reason'] = quarantine.get('reason') or None
    result['error'] = _error(quarantine.get('error'))
    return result


def pairs_to_dict(pairs, key='key', value='value'):
    """Graph's lists of ``{key, value}`` (or ``{name, value}``) pairs as one dict; later duplicates win."""
    result = {}
    for pair in pairs or []:
        if isinstance(pair, dict) and pair.get(key) is not None:
            result[pair[key]] = pair.get(value)
    return result


def status_to_result(status):
    status = status if isinstance(status, dict) else {}
    result = _fields(status, _STATUS_FIELDS)
    for name in _EXECUTION_RECORDS:
        result[snake_name(name)] = execution_to_result(status.get(name))
    result['quarantine'] = quarantine_to_result(status.get('quarantine'))
    result['progress'] = [_fields(item, _PROGRESS_FIELDS) for item in status.get('progress') or []]
    result['synchronized_entry_count_by_type'] = pairs_to_dict(status.get('synchronizedEntryCountByType'))
    return result


def job_to_result(job):
    """A Graph ``synchronizationJob`` as the ``job`` the job modules return (documented in their RETURN)."""
    if job is None:
        return None
    return dict(
        id=job.get('id'),
        template_id=job.get('templateId'),
        schedule=_fields(job.get('schedule'), _SCHEDULE_FIELDS),
        status=status_to_result(job.get('status')),
        # Setting names are data (e.g. QuarantineTooManyDeletesThreshold), kept exactly as Graph spells them.
        synchronization_job_settings=pairs_to_dict(job.get('synchronizationJobSettings'), key='name'),
    )
