# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""Provision users and groups now, one by one: the logic of ``provision_on_demand``.

The job is addressed as ``synchronization_job`` addresses it (``_sync_job.DesiredJob`` and ``read_job``). The rule
id comes from the job's schema (``find_rule``, pure). Each subject is one ``POST .../provisionOnDemand``, paced to
Graph's documented limit of five requests per ten seconds per job (``Pacer``) while the client honours any 429; its
answer, JSON documents inside string values, becomes one result (``parse_response``, pure) (docs/graph-behaviour.md
§9.3).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import json
import time

from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError, GraphPermissionError
from ansible_collections.entra.provisioning.plugins.module_utils._provisioning_logs import (
    enum_value,
    identity_to_result,
    modified_property_to_result,
    resolve_user,
    step_to_result,
)
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job import MODULE_SPEC as JOB_SPEC
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job import DesiredJob, job_path, read_job, template_matches
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure, module_spec
from ansible_collections.entra.provisioning.plugins.module_utils._validate import object_id, type_name

# "The rate limit for this API is 5 requests per 10 seconds" (docs/graph-behaviour.md §9.3).
RATE_LIMIT_REQUESTS = 5
RATE_LIMIT_SECONDS = 10.0
# A group is provisioned with at most five of its members (docs/graph-behaviour.md §9.3).
MAX_MEMBERS = 5
SUBJECT_TYPES = ('user', 'group')
_GRAPH_TYPE = dict(user='User', group='Group')
# Actions that write to the target system; "other" (nothing to do) and "stagedDelete" (held back) do not.
_WRITING_ACTIONS = ('create', 'update', 'delete', 'disable')

# The job is addressed with synchronization_job's own options, under its rules.
_JOB_OPTIONS = ('service_principal_id', 'application_id', 'template_id', 'job_id')

MODULE_SPEC = module_spec(
    dict(
        [(name, JOB_SPEC['argument_spec'][name]) for name in _JOB_OPTIONS],
        subjects=dict(type='list', elements='dict', required=True, options=dict(
            object_id=dict(type='str'),
            user_principal_name=dict(type='str'),
            type=dict(type='str', default='user', choices=list(SUBJECT_TYPES)),
            members=dict(type='list', elements='str'),
        ), mutually_exclusive=[('object_id', 'user_principal_name')], required_one_of=[('object_id', 'user_principal_name')]),
        rule_id=dict(type='str'),
        fail_on_error=dict(type='bool', default=True),
    ),
    mutually_exclusive=JOB_SPEC['mutually_exclusive'],
    required_one_of=JOB_SPEC['required_one_of'] + [('template_id', 'job_id')],
)


# --- input (pure) ----------------------------------------------------------------------------------------------------

class Subject:
    """One subject of the task, checked; ``object_id`` is None until a user principal name is resolved."""

    def __init__(self, index, spec):
        where = 'subjects[%d]' % index
        if not isinstance(spec, dict):
            raise TaskFailure('%s must be a dict with object_id or user_principal_name, got %s.' % (where, type_name(spec)))
        self.type = spec.get('type') or 'user'
        if self.type not in SUBJECT_TYPES:
            raise TaskFailure('%s.type: %r is not user or group.' % (where, self.type))
        self.user_principal_name = (spec.get('user_principal_name') or '').strip() or None
        self.object_id = None
        if spec.get('object_id') is not None:
            self.object_id = object_id('%s.object_id' % where, spec['object_id'], self.type)
        if self.user_principal_name and self.type != 'user':
            raise TaskFailure('%s.user_principal_name applies to users only; give the object_id of the group.' % where)
        if self.user_principal_name is None and self.object_id is None:
            raise TaskFailure('%s needs object_id (or user_principal_name for a user).' % where)
        members = spec.get('members') or []
        if members and self.type != 'group':
            raise TaskFailure('%s.members applies to groups only: remove members, or set type: group.' % where)
        if len(members) > MAX_MEMBERS:
            raise TaskFailure('%s.members lists %d users; Graph provisions a group on demand with at most %d of its members: '
                              'split them over several subjects of the same group.' % (where, len(members), MAX_MEMBERS))
        self.members = [object_id('%s.members[%d]' % (where, number), member, 'user') for number, member in enumerate(members)]
        self.label = self.user_principal_name or self.object_id

    def request(self, rule_id):
        """The body of ``provisionOnDemand`` for this subject (docs/graph-behaviour.md §9.3)."""
        subject = dict(objectId=self.object_id, objectTypeName=_GRAPH_TYPE[self.type])
        if self.members:
            subject['links'] = dict(members=[dict(objectId=member, objectTypeName='User') for member in self.members])
        return dict(parameters=[dict(ruleId=rule_id, subjects=[subject])])

    def result(self):
        return dict(object_id=self.object_id, user_principal_name=self.user_principal_name, type=self.type,
                    members=list(self.members))


def check_subjects(specs):
    if not specs:
        raise TaskFailure('subjects is empty: list at least one user or group, for example '
                          '[{object_id: <user object id>}] or [{user_principal_name: alice@contoso.com}].')
    return [Subject(index, spec) for index, spec in enumerate(specs)]


# --- the rule (pure) ---------------------------------------------------------------------------------------------------

def rule_summary(rule):
    mappings = [mapping for mapping in rule.get('objectMappings') or [] if mapping.get('enabled', True)]
    return dict(id=rule.get('id'), name=rule.get('name'), source_directory=rule.get('sourceDirectoryName'),
                target_directory=rule.get('targetDirectoryName'),
                object_mappings=['%s -> %s' % (mapping.get('sourceObjectName'), mapping.get('targetObjectName')) for mapping in mappings])


def find_rule(schema, subject_type):
    """The id of the one rule of ``schema`` with an enabled object mapping from ``subject_type`` (user or group).

    The rule id is "defined in the schema for a given synchronization job" (docs/graph-behaviour.md §9.3); the rule
    that provisions an object type is the one that maps it. None or several such rules fail, listing the rules.
    """
    rules = (schema or {}).get('synchronizationRules') or []
    matches = []
    for rule in rules:
        for mapping in rule.get('objectMappings') or []:
            if mapping.get('enabled', True) and (mapping.get('sourceObjectName') or '').lower() == subject_type:
                matches.append(rule)
                break
    if len(matches) == 1:
        return matches[0]['id']
    listed = [rule_summary(rule) for rule in rules]
    described = '; '.join('%s (%s: %s)' % (rule['id'], rule['name'] or 'unnamed', ', '.join(rule['object_mappings']) or 'no enabled mapping')
                          for rule in listed) or 'none'
    if not matches:
        raise TaskFailure('rule_id: no synchronization rule of the job\'s schema provisions %ss (no enabled object mapping '
                          'from %s); the rules are: %s. Give rule_id, or enable the mapping in the schema.'
                          % (subject_type, _GRAPH_TYPE[subject_type], described), rules=listed)
    raise TaskFailure('rule_id: %d synchronization rules of the job\'s schema provision %ss: %s. Give rule_id to choose one.'
                      % (len(matches), subject_type, described), rules=listed)


def rule_exists(schema, rule_id):
    return any((rule.get('id') or '') == rule_id for rule in (schema or {}).get('synchronizationRules') or [])


# --- the response (pure) -------------------------------------------------------------------------------------------------

def _json(value):
    """A JSON document inside a string value, parsed; the value itself when it is not one."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse_response(response):
    """One subject's result from the ``stringKeyStringValuePair`` Graph answers (docs/graph-behaviour.md §9.3).

    ``key`` is a JSON document ``{result, details: {errorCode, errorMessage}}`` and ``value`` the provisioning trace;
    another documented form carries a type name in ``key`` and a JSON array of traces in ``value``. Both are read.
    """
    response = response if isinstance(response, dict) else {}
    key = _json(response.get('key'))
    trace = _json(response.get('value'))
    if isinstance(trace, list):
        trace = next((item for item in trace if isinstance(item, dict)), {})
    trace = trace if isinstance(trace, dict) else {}
    outcome = key if isinstance(key, dict) else {}
    info = trace.get('statusInfo') or trace.get('provisioningStatusInfo') or {}
    status = enum_value(outcome.get('result')) or enum_value(info.get('status'))
    details = outcome.get('details') if isinstance(outcome.get('details'), dict) else {}
    information = info.get('errorInformation') if isinstance(info.get('errorInformation'), dict) else info
    code = details.get('errorCode') or information.get('errorCode')
    reason = details.get('errorMessage') or information.get('reason')
    steps = [step_to_result(step) for step in trace.get('provisioningSteps') or []]
    if not reason and status in ('skipped', 'failure'):
        reason = next((step['description'] for step in reversed(steps) if step['status'] == status and step['description']), None)
    error = None
    if status != 'success' and (code or reason):
        error = dict(code=code or None, reason=reason or None, recommended_action=information.get('recommendedAction') or None)
    action = enum_value(trace.get('action') or trace.get('provisioningAction'))
    return dict(
        status=status,
        action=action,
        changed=target_written(status, action, steps),
        change_id=trace.get('changeId'),
        reportable_identifier=trace.get('reportableIdentifier'),
        source_identity=identity_to_result(trace.get('sourceIdentity')),
        target_identity=identity_to_result(trace.get('targetIdentity')),
        steps=steps,
        modified_properties=[modified_property_to_result(prop) for prop in trace.get('modifiedProperties') or []],
        error=error,
    )


def target_written(status, action, steps):
    """Whether the target system was written: an export step succeeded (or, without steps, a writing action succeeded)."""
    exports = [step for step in steps if step['type'] == 'export']
    if exports:
        return any(step['status'] == 'success' for step in exports)
    return status in ('success', 'warning') and action in _WRITING_ACTIONS


def failure_line(result):
    error = result.get('error') or {}
    return '%s %s: %s%s' % (result['type'], result['user_principal_name'] or result['object_id'],
                            error.get('code') or 'failure', ' (%s)' % error['reason'].strip().rstrip('.') if error.get('reason') else '')


def summarize(results):
    counts = collections.OrderedDict((status, 0) for status in ('success', 'failure', 'skipped', 'warning'))
    for result in results:
        if result['status'] is not None:
            counts[result['status']] = counts.get(result['status'], 0) + 1
    counts['changed'] = sum(1 for result in results if result['changed'])
    return dict(counts)


# --- pacing ----------------------------------------------------------------------------------------------------------

class Pacer:
    """At most ``limit`` requests in any ``window`` seconds: waits before a request that would exceed it.

    A request counts from the moment its answer came (``answered``), not from when it was sent: Graph counts it when
    it arrives, which is somewhere in between, and the first request of a run arrives late (connection, token).
    """

    def __init__(self, limit=RATE_LIMIT_REQUESTS, window=RATE_LIMIT_SECONDS, sleep=time.sleep, monotonic=time.monotonic):
        self.limit = limit
        self.window = window
        self.sleep = sleep
        self.monotonic = monotonic
        self.sent = collections.deque()
        self.pauses = 0
        self.waited = 0.0

    def wait_turn(self):
        now = self.monotonic()
        while self.sent and now - self.sent[0] >= self.window:
            self.sent.popleft()
        if len(self.sent) >= self.limit:
            delay = self.sent[0] + self.window - now
            if delay > 0:
                self.pauses += 1
                self.waited += delay
                self.sleep(delay)
            self.sent.popleft()

    def answered(self):
        self.sent.append(self.monotonic())


# --- acting ----------------------------------------------------------------------------------------------------------

def run_provision_on_demand(task, pacer=None):
    params = task.params
    subjects = check_subjects(params.get('subjects'))
    desired = DesiredJob(dict(params, state='present'))
    rule_id = params.get('rule_id')
    if rule_id is not None and not rule_id.strip():
        raise TaskFailure('rule_id is empty: give the id of a rule of the job\'s schema, or leave rule_id out to find it.')
    client = task.client()
    jobs_path = desired.parent_path + '/synchronization/jobs'
    job = read_job(client, desired, jobs_path, task.warn)
    if job is None:
        raise TaskFailure('%s %s has no job of template %s: create it with entra.provisioning.synchronization_job first.'
                          % (desired.parent_option, desired.parent_id, desired.template_id))
    if desired.template_id and not template_matches(job.get('templateId'), desired.template_id):
        raise TaskFailure('job %s has template %s, not template_id %s: remove template_id, or give the job_id of a job of '
                          'template %s.' % (job.get('id'), job.get('templateId'), desired.template_id, desired.template_id))
    path = job_path(jobs_path, job['id'])

    # Everything is read and resolved before the first request is sent: bad input fails with nothing provisioned.
    for index, subject in enumerate(subjects):
        if subject.object_id is None:
            subject.object_id = resolve_user(client, 'subjects[%d].user_principal_name' % index, subject.user_principal_name)
    schema = client.get(path + '/schema')
    rules = {}
    for subject in subjects:
        if rule_id is not None:
            rules[subject.type] = rule_id.strip()
        elif subject.type not in rules:
            rules[subject.type] = find_rule(schema, subject.type)
    if rule_id is not None and not rule_exists(schema, rule_id.strip()):
        task.warn('rule_id %s is not a rule of the schema of job %s; it is sent as given.' % (rule_id, job['id']))

    pacer = pacer or Pacer()
    results = []
    for subject in subjects:
        request = subject.request(rules[subject.type])
        result = subject.result()
        result.update(rule_id=rules[subject.type], request=request)
        if task.check_mode:
            result.update(status=None, action=None, changed=False, steps=[], modified_properties=[], error=None)
        else:
            pacer.wait_turn()
            try:
                answer = client.write('POST', path + '/provisionOnDemand', body=request)
                pacer.answered()
                result.update(parse_response(answer))
            except GraphPermissionError as error:
                # The application lacks the permission, not the subject: every other subject would be refused alike.
                # Fail now with Graph's status and the permission the call needs (docs/graph-behaviour.md §5.2).
                raise TaskFailure('%s No subject was provisioned after this one.' % error, changed=any(item['changed'] for item in results),
                                  job_id=job['id'], subjects=results, error=error.to_result())
            except GraphError as error:
                pacer.answered()
                result.update(status='failure', action=None, changed=False, steps=[], modified_properties=[],
                              error=dict(code=error.code or 'HTTP %s' % error.status, reason=error.message,
                                         recommended_action=error.hint(), status=error.status))
        results.append(result)

    outcome = dict(changed=bool(results) and (task.check_mode or any(result['changed'] for result in results)),
                   job_id=job['id'], subjects=results, summary=summarize(results), pauses=pacer.pauses)
    failures = [result for result in results if result['status'] == 'failure']
    if failures and params.get('fail_on_error', True):
        raise TaskFailure('%d of %d subjects failed to provision on demand: %s.'
                          % (len(failures), len(results), '; '.join(failure_line(result) for result in failures)), **outcome)
    return outcome
