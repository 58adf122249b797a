# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""One synchronization job: find it, plan the transitions to the desired state, act, wait, report.

The quirks handled here are those of docs/graph-behaviour.md §2 and §3: a job is found by (parent, templateId)
because Graph has no idempotency key (§3.5); it is created Disabled (§3.1); start is sent only to a job that is not
running (§3.3); restart criteria are one comma-separated string and two scopes must not be used (§2.7); nothing
documents an in-place update of a job (§3.4); new objects answer 404/403 for a while (§3.6).

``plan_job_actions`` is pure (current + desired -> actions + predicted job), so check mode returns exactly what a real
run would do, and it is unit-tested without any I/O.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import time

from ansible_collections.entra.provisioning.plugins.module_utils._converge import RESOLVE_SECONDS, Copies, Kept, keep_one, resolved, smallest_id
from ansible_collections.entra.provisioning.plugins.module_utils._convert import NEVER, job_to_result
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError, GraphNotFound
from ansible_collections.entra.provisioning.plugins.module_utils._polling import CONFIRM_WINDOW, STATE_PACE, look_for, poll
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure, module_spec
from ansible_collections.entra.provisioning.plugins.module_utils._validate import (
    check_identity,
    graph_path,
    id_segment,
    object_id,
    same_id,
    type_name,
)

STATES = ('present', 'started', 'paused', 'restarted', 'absent')
WAIT_FOR = ('started', 'first_cycle', 'steady_state')

# synchronizationJobRestartScope (docs/graph-behaviour.md §2.7), in Graph's spelling.
RESTART_SCOPES = ('Escrows', 'Watermark', 'QuarantineState', 'Full', 'ForceDeletes')
# The two members Microsoft's restart criteria page marks "DO NOT USE", and what to do instead.
FORBIDDEN_RESTART_SCOPES = {
    'none': 'None must not be used (Microsoft: "DO NOT USE. Use Start instead"); use state=started to resume a paused '
            'or quarantined job',
    'connectordatastore': 'ConnectorDataStore must not be used (Microsoft: "DO NOT USE. Contact Support"); it clears the '
                          'connector cache for all users',
}

# Seconds to keep retrying a new object's 404/403 (replication delay, docs/graph-behaviour.md §3.6).
REPLICATION_TIMEOUT = 60.0
# Seconds a run gives the run that created a job moments ago to start it, before it starts the job itself (is_new).
CREATOR_GRACE = 15.0

# What to give instead of a job_id or template_id that cannot be an id (_validate.id_segment); job and template ids contain dots
# (docs/graph-behaviour.md §1.2).
_JOB_ID_FIX = ('give the id of a job of this service principal (synchronization_job_info lists them), or leave job_id out '
               'and give template_id')
_TEMPLATE_ID_FIX = 'give the id of a synchronization template of the service principal, for example scim'

# The options that address one job: the same in every module that works on a job (see JobAddress).
JOB_ADDRESS_OPTIONS = dict(
    service_principal_id=dict(type='str'),
    application_id=dict(type='str'),
    template_id=dict(type='str'),
    job_id=dict(type='str'),
)

MODULE_SPEC = module_spec(
    dict(
        JOB_ADDRESS_OPTIONS,
        state=dict(type='str', default='present', choices=list(STATES)),
        restart_scope=dict(type='list', elements='str'),
        settings=dict(type='dict'),
        validate_credentials=dict(type='bool', default=False),
        wait=dict(type='bool', default=False),
        wait_for=dict(type='str', choices=list(WAIT_FOR)),
        wait_timeout=dict(type='int', default=900),
    ),
    mutually_exclusive=[('service_principal_id', 'application_id')],
    # template_id or job_id is required too, except in check mode for a service principal not created yet (DesiredJob).
    required_one_of=[('service_principal_id', 'application_id')],
)


# --- input --------------------------------------------------------------------------------------------------------

class JobAddress:
    """Which job a task means: its parent (``service_principal_id`` or ``application_id``) and ``template_id`` or
    ``job_id``, validated; every error names the option and the fix. Shared by every module that addresses a job."""

    def __init__(self, params, check_mode=False):
        # In check mode a null (or empty) service_principal_id stands for the one an earlier task would create (check
        # mode of application_from_template returns it with id null): the job is planned for a parent without jobs.
        # Empty as well as null: ansible-core before 2.19 refuses null for a string option.
        self.planned_parent = (check_mode and params.get('service_principal_id') in (None, '')
                               and params.get('application_id') is None)
        if self.planned_parent:
            self.parent_option, self.parent_id, self.parent_path = 'service_principal_id', None, None
        elif params.get('application_id') is not None and params.get('service_principal_id') is None:
            self.parent_option = 'application_id'
            self.parent_id = object_id('application_id', params['application_id'], 'application')
            self.parent_path = graph_path('/applications/%s', self.parent_id)
        else:
            self.parent_option = 'service_principal_id'
            self.parent_id = object_id('service_principal_id', params.get('service_principal_id'), 'service_principal')
            self.parent_path = graph_path('/servicePrincipals/%s', self.parent_id)
        self.template_id = id_segment('template_id', params.get('template_id'), _TEMPLATE_ID_FIX)
        self.job_id = id_segment('job_id', params.get('job_id'), _JOB_ID_FIX)
        if self.template_id is None and self.job_id is None and not self.planned_parent:
            raise TaskFailure('one of the following is required: template_id, job_id. Give template_id (the job is found or '
                              'created by its template) or job_id (an existing job).')
        self.jobs_path = None if self.parent_path is None else self.parent_path + '/synchronization/jobs'


class DesiredJob(JobAddress):
    """The task's options, validated and normalised; every error names the option and the fix."""

    def __init__(self, params, check_mode=False):
        super(DesiredJob, self).__init__(params, check_mode=check_mode)
        self.state = params.get('state') or 'present'
        self.restart_scope = normalise_restart_scope(params.get('restart_scope'), self.state)
        self.settings = normalise_settings(params.get('settings'))
        self.validate_credentials = bool(params.get('validate_credentials'))
        self.wait = bool(params.get('wait'))
        self.wait_for = params.get('wait_for')
        self.wait_timeout = params.get('wait_timeout')
        if self.wait_timeout is None:
            self.wait_timeout = 900
        self._check_wait()

    def _check_wait(self):
        if self.wait_timeout <= 0:
            raise TaskFailure('wait_timeout must be a positive number of seconds, got %s.' % self.wait_timeout)
        if self.wait_for and not self.wait:
            raise TaskFailure('wait_for=%s takes effect only with wait=true: add wait: true, or remove wait_for.'
                              % self.wait_for)
        if not self.wait:
            return
        if self.state in ('present', 'paused'):
            raise TaskFailure('wait=true has nothing to wait for with state=%s: use it with state=started or '
                              'restarted (to wait for the job to run) or state=absent (to wait until the job is gone).'
                              % self.state)
        if self.state == 'absent' and self.wait_for:
            raise TaskFailure('wait_for=%s does not apply to state=absent, which waits until the job is gone: remove '
                              'wait_for.' % self.wait_for)
        if self.state != 'absent' and not self.wait_for:
            self.wait_for = 'started'


def normalise_restart_scope(scopes, state):
    """The list of scopes as Graph's one comma-separated string (docs/graph-behaviour.md §2.7), or None for the default."""
    if scopes is None:
        return None
    if state != 'restarted':
        raise TaskFailure('restart_scope applies only to state=restarted: set state=restarted, or remove restart_scope.')
    canonical = dict((scope.lower(), scope) for scope in RESTART_SCOPES)
    result = []
    for scope in scopes:
        key = (scope or '').strip().lower()
        if key in FORBIDDEN_RESTART_SCOPES:
            raise TaskFailure('restart_scope: %s.' % FORBIDDEN_RESTART_SCOPES[key])
        if key not in canonical:
            raise TaskFailure('restart_scope: %r is not a reset scope; use any of %s.' % (scope, ', '.join(RESTART_SCOPES)))
        if canonical[key] not in result:
            result.append(canonical[key])
    if not result:
        raise TaskFailure('restart_scope is empty: list at least one of %s, or remove restart_scope for the portal\'s '
                          '"Restart provisioning" (Watermark, Escrows and QuarantineState).' % ', '.join(RESTART_SCOPES))
    return ', '.join(result)


def normalise_settings(settings):
    """Job settings as Graph stores them: name -> string (``True``/``False`` for booleans, as Graph prints them)."""
    if settings is None:
        return None
    result = {}
    for name, value in settings.items():
        if value is None:
            raise TaskFailure('settings: %s has no value; give a value or remove the setting.' % name)
        if isinstance(value, bool):
            value = 'True' if value else 'False'
        elif isinstance(value, (dict, list)):
            raise TaskFailure('settings: %s must be a string, number or boolean, got %s; give the value itself.'
                              % (name, type_name(value)))
        result[str(name)] = str(value)
    return result


# --- reading the current job ----------------------------------------------------------------------------------------

def template_matches(job_template_id, template_id):
    """Whether a job's templateId is the template the task names.

    Graph may create a job under a derived template: ``POST {"templateId": "customappsso"}`` creates a job whose
    templateId is ``customappssoOutDelta`` (docs/graph-behaviour.md §1.3). Such a job is found by the
    name the task used, so the next run does not create a second one.
    """
    job_template_id = (job_template_id or '').lower()
    template_id = template_id.lower()
    return job_template_id in (template_id, template_id + 'outdelta')


def find_job(jobs, template_id, job_id=None):
    """The one job of ``jobs`` matching ``job_id`` or ``template_id``, None when there is none; fails on ambiguity.

    A job of exactly ``template_id`` wins over one of its derived template (see ``template_matches``).
    """
    if job_id is not None:
        matches = [job for job in jobs if job.get('id') == job_id]
    else:
        matches = [job for job in jobs if (job.get('templateId') or '').lower() == template_id.lower()]
        if not matches:
            matches = [job for job in jobs if template_matches(job.get('templateId'), template_id)]
    if len(matches) > 1:
        raise TaskFailure('%d jobs of template %s exist on this object (%s): set job_id to the one this task manages.'
                          % (len(matches), template_id, ', '.join(sorted(job.get('id') or '?' for job in matches))),
                          job_ids=sorted(job.get('id') for job in matches))
    return matches[0] if matches else None


def is_new(job):
    """Whether the job was created and never started: Graph creates jobs with schedule state Disabled
    (docs/graph-behaviour.md §2.2, §3.2); start makes it Active and pause Paused. Another run may have created it
    moments ago and be about to start it. (The service also disables a job quarantined for four weeks, §2.6: such a job
    is only started a little later.)"""
    return (job.get('schedule') or {}).get('state') == 'Disabled'


def is_running(job):
    """Whether the job's schedule runs it: ``start`` must not be sent to such a job (docs/graph-behaviour.md §3.3)."""
    status = job.get('status') or {}
    return (job.get('schedule') or {}).get('state') == 'Active' and status.get('code') not in ('Paused', 'Quarantine')


# --- planning (pure) --------------------------------------------------------------------------------------------------

def plan_job_actions(current, desired):
    """The ordered actions that take ``current`` (a Graph job or None) to ``desired``, and the predicted job.

    Actions: ``create``, ``validate_credentials``, ``start``, ``pause``, ``restart``, ``delete``. ``restart`` is a
    command and is always planned for state=restarted. ``validate_credentials`` precedes each start or restart when
    asked for; it changes nothing by itself.
    """
    state = desired.state
    if state == 'absent':
        if current is None:
            return [], None
        return ['delete'], None

    actions = []
    job = current
    if job is None:
        if desired.job_id:
            # A job's id is chosen by Graph: creating "this" job is impossible, and creating another one would create
            # a new job on every run.
            raise TaskFailure('job_id: job %s does not exist on %s %s. Remove job_id and give template_id to find or create '
                              'the job by its template.' % (desired.job_id, desired.parent_option, desired.parent_id or
                                                            '(not created yet)'))
        if state == 'restarted':
            raise TaskFailure('state=restarted needs an existing job, and %s has no job of template %s: create and start it '
                              'with state=started instead.' % (desired.parent_id or 'the service principal (not created yet)',
                                                               desired.template_id))
        actions.append('create')
        job = new_job(desired.template_id, desired.settings)

    if state == 'started' and not is_running(job):
        actions.extend(_start(desired, 'start'))
    elif state == 'paused' and (job.get('schedule') or {}).get('state') == 'Active':
        actions.append('pause')
    elif state == 'restarted':
        actions.extend(_start(desired, 'restart'))

    return actions, predict_job(job, actions, desired.restart_scope)


def _start(desired, action):
    return ['validate_credentials', action] if desired.validate_credentials else [action]


def new_job(template_id, settings):
    """The job Graph creates: Disabled and never run (docs/graph-behaviour.md §3.1, §3.2); its id and interval are not known
    before it exists."""
    return {
        'id': None,
        'templateId': template_id,
        'schedule': {'expiration': None, 'interval': None, 'state': 'Disabled'},
        'status': {'code': 'NotConfigured', 'countSuccessiveCompleteFailures': 0, 'escrowsPruned': False,
                   'lastExecution': None, 'lastSuccessfulExecution': None, 'lastSuccessfulExecutionWithExports': None,
                   'progress': [], 'quarantine': None, 'steadyStateFirstAchievedTime': NEVER,
                   'steadyStateLastAchievedTime': NEVER, 'synchronizedEntryCountByType': [], 'troubleshootingUrl': None},
        'synchronizationJobSettings': [dict(name=name, value=value) for name, value in sorted((settings or {}).items())],
    }


def predict_job(job, actions, restart_scope=None):
    """The job as Graph will show it right after ``actions`` (docs/graph-behaviour.md §2.7, §3.2)."""
    predicted = copy.deepcopy(job)
    schedule = predicted.setdefault('schedule', {})
    status = predicted.setdefault('status', {})
    for action in actions:
        if action == 'start':
            schedule['state'] = 'Active'
            status['quarantine'] = None  # start clears quarantine (docs/graph-behaviour.md §3.3)
            status['code'] = 'Active' if _completed_a_cycle(predicted) else 'NotRun'
        elif action == 'restart':
            scopes = set((restart_scope or 'Watermark, Escrows, QuarantineState').split(', '))
            schedule['state'] = 'Active'
            if scopes & set(('QuarantineState', 'Full')) or ('ForceDeletes' in scopes and _quarantine_reason(predicted) == 'TooManyDeletes'):
                status['quarantine'] = None
            if status.get('quarantine'):
                status['code'] = 'Quarantine'
            elif scopes & set(('Watermark', 'Full')) or not _completed_a_cycle(predicted):
                # The next cycle evaluates every object again: an initial cycle, NotRun until it ends.
                status['code'] = 'NotRun'
            else:
                status['code'] = 'Active'
        elif action == 'pause':
            schedule['state'] = 'Paused'
            status['code'] = 'Paused'
    return predicted


def _completed_a_cycle(job):
    status = job.get('status') or {}
    return status.get('steadyStateFirstAchievedTime') not in (None, '', NEVER) or bool(status.get('lastSuccessfulExecution'))


def _quarantine_reason(job):
    return ((job.get('status') or {}).get('quarantine') or {}).get('reason')


def settings_drift(current, desired_settings):
    """``[(name, current value, desired value)]`` for the settings the task names that the job holds differently."""
    if current is None or not desired_settings:
        return []
    actual = dict((pair.get('name'), pair.get('value')) for pair in current.get('synchronizationJobSettings') or [])
    drift = []
    for name, value in sorted(desired_settings.items()):
        if not _same_setting(actual.get(name), value):
            drift.append((name, actual.get(name), value))
    return drift


def _same_setting(actual, desired):
    if actual is None:
        return False
    if actual.lower() in ('true', 'false') and desired.lower() in ('true', 'false'):
        return actual.lower() == desired.lower()
    return actual == desired


def job_diff(before, after):
    """Before/after of what a job task changes: existence, template, schedule state and status code."""
    return dict(before=_diff_view(before), after=_diff_view(after))


def _diff_view(job):
    if job is None:
        return dict(state='absent')
    return dict(state='present', id=job.get('id'), template_id=job.get('templateId'),
                schedule_state=(job.get('schedule') or {}).get('state'), status_code=(job.get('status') or {}).get('code'))


def wait_outcome(job, wait_for, baseline=None):
    """``(reached, failure)`` for one read of the job: reached is a bool; failure a message when waiting must stop.

    ``baseline`` is the last execution's timeBegan and steady-state time before this task started or restarted the
    job, so that only a cycle that began after it counts. A placeholder execution with state Failed while the job
    shows NotRun is not a failure (docs/graph-behaviour.md §2.5).
    """
    status = job.get('status') or {}
    code = status.get('code')
    if code == 'Quarantine':
        return False, quarantine_message(job)
    if (job.get('schedule') or {}).get('state') != 'Active' or code == 'Paused':
        return False, 'the job is no longer running (schedule %s, status %s): something paused or disabled it.' % (
            (job.get('schedule') or {}).get('state'), code)
    if wait_for == 'started':
        return True, None
    baseline = baseline or {}
    execution = status.get('lastExecution') or {}
    began = execution.get('timeBegan')
    new_cycle = code == 'Active' and began not in (None, '', NEVER) and began != baseline.get('time_began')
    if wait_for == 'first_cycle':
        return new_cycle, None
    steady = status.get('steadyStateLastAchievedTime')
    return (new_cycle and steady not in (None, '', NEVER) and steady != baseline.get('steady_state')), None


def wait_baseline(job):
    status = (job or {}).get('status') or {}
    return dict(time_began=(status.get('lastExecution') or {}).get('timeBegan'),
                steady_state=status.get('steadyStateLastAchievedTime'))


def quarantine_message(job):
    quarantine = (job.get('status') or {}).get('quarantine') or {}
    error = quarantine.get('error') or {}
    text = 'the job %s is in quarantine' % job.get('id')
    if quarantine.get('reason'):
        text += ' (reason %s)' % quarantine['reason']
    if error.get('code') or error.get('message'):
        text += ': %s %s' % (error.get('code') or '', (error.get('message') or '').strip())
        text = text.rstrip()
    if quarantine.get('reason') == 'TooManyDeletes':
        return text.rstrip('.') + STAGED_DELETES_ADVICE + '.'
    return text.rstrip('.') + '. Fix the cause (often the credentials: entra.provisioning.synchronization_secret), then ' \
        'run state=started again, which clears the quarantine.'


# A job quarantined for too many deletes (accidental-deletion prevention, docs/graph-behaviour.md §9.4): what it means and
# what to do, for synchronization_job's wait and synchronization_job_info's health_reason.
STAGED_DELETES_ADVICE = ('. Accidental-deletion prevention: the cycle would have deleted more objects than the job\'s '
                         'deletion threshold allows, so it staged the deletes and stopped. List them with '
                         'entra.provisioning.provisioning_log_info (action: stagedDelete); to approve them, restart the job '
                         'with entra.provisioning.synchronization_job (state: restarted, restart_scope: [ForceDeletes]); to '
                         'reject them, fix the source of the deletes and leave the job as it is')


def cycle_warning(job):
    """A warning when the cycle that was waited for ended badly without quarantining the job."""
    execution = (job.get('status') or {}).get('lastExecution') or {}
    if execution.get('state') not in ('Failed', 'EntryLevelErrors'):
        return None
    error = execution.get('error') or {}
    detail = ': %s %s' % (error.get('code') or '', error.get('message') or '') if error.get('code') not in (None, 'None') else ''
    return 'the last provisioning cycle of job %s ended with state %s%s' % (job.get('id'), execution.get('state'), detail.rstrip())


# --- acting ---------------------------------------------------------------------------------------------------------

def run_synchronization_job(task):
    desired = DesiredJob(task.params, check_mode=task.check_mode)
    if desired.planned_parent:
        # Nothing to read: the service principal does not exist yet, so it has no job (and its templates are unknown).
        actions, predicted = plan_job_actions(None, desired)
        return dict(changed=any(action != 'validate_credentials' for action in actions), actions=actions,
                    created='create' in actions, job=job_to_result(predicted), diff=job_diff(None, predicted))
    client = task.client()
    jobs_path = desired.jobs_path

    current = read_job(client, desired, jobs_path, task.warn, patient=desired.state != 'absent')
    if current is None and desired.state != 'absent' and desired.template_id and not desired.job_id:
        desired.template_id = resolve_template(client, desired)
    check_job_template(current, desired)
    if current is not None and desired.state == 'started' and not desired.job_id and is_new(current) and not task.check_mode:
        current = await_other_run(client, desired, jobs_path, current, time.monotonic() + CREATOR_GRACE)
    actions, predicted = plan_job_actions(current, desired)

    for name, actual, wanted in settings_drift(current, desired.settings if desired.state != 'absent' else None):
        task.warn('settings: %s is %s on job %s, not %s. Graph documents no way to change the settings of an existing '
                  'job, so it was left as it is; settings apply when a job is created (delete the job and create it '
                  'again to apply them).' % (name, 'not set' if actual is None else repr(actual), current.get('id'), repr(wanted)))

    if task.check_mode or not actions:
        final = predicted if actions else current
        created = 'create' in actions
    else:
        # After adopting another run's job, the actions done are planned again from it (see act).
        final, actions, created = act(client, desired, jobs_path, current, actions, task.warn)
    # created: the job returned is the one this task created, not one that existed or another run's copy it adopted.
    # That run alone may start the job at once (the role gives its job_id to its start task, see await_other_run).
    result = dict(changed=any(action != 'validate_credentials' for action in actions), actions=actions, created=created)

    if desired.wait and not task.check_mode:
        final = wait(client, desired, jobs_path, final, current, actions, task)

    result['job'] = job_to_result(final)
    result['diff'] = job_diff(current, final)
    return result


def read_job(client, desired, jobs_path, warn, patient=True):
    """The job ``desired`` (a ``JobAddress``) names, or None: one GET. When the job must exist (``patient``), 404/403
    are retried for a bounded time (a service principal or job created moments ago is still replicating,
    docs/graph-behaviour.md §3.6)."""
    if desired.job_id:
        return read_job_by_id(client, desired, jobs_path, patient)
    try:
        found = client.get_eventually(jobs_path, within=REPLICATION_TIMEOUT) if patient else client.get(jobs_path)
    except GraphNotFound as error:
        if not patient:
            warn('%s %s does not exist, so it has no job to delete.' % (desired.parent_option, desired.parent_id))
            return None
        raise _parent_failure(error, desired)
    jobs = found.get('value') or []
    if found.get('@odata.nextLink'):
        jobs = client.list_all(jobs_path)
    try:
        return find_job(jobs, desired.template_id)
    except TaskFailure:
        copies = jobs_of_template(jobs, desired.template_id)
        if not any(is_new(job) for job in copies):
            raise
    # New jobs of the template: runs that created them at the same moment are deleting all but one (_converge).
    return find_job(resolved(lambda: jobs_of_template(client.list_all(jobs_path), desired.template_id), copies,
                             RESOLVE_SECONDS), desired.template_id)


def jobs_of_template(jobs, template_id):
    return [job for job in jobs if template_matches(job.get('templateId'), template_id)]


def read_job_by_id(client, desired, jobs_path, patient):
    """The job ``job_id``, or None when it does not exist; fails when Graph answers with another object.

    A 404 is waited out (replication) only while the parent's list of jobs can explain it: when the parent is readable
    and lists jobs, none of them this one, the id is simply not a job of this parent (another service principal's
    job, a typo) and there is nothing to wait for. A job this module creates is waited for in ``create_job``.
    """
    path = job_path(jobs_path, desired.job_id)
    try:
        found = client.get(path)
    except GraphError as error:
        if error.status not in (404, 403) or (not patient and error.status == 403):
            raise
        if not patient:
            return None  # Graph's 404 does not say whether the job or its parent is missing: either way, nothing to delete
        jobs = _listed_jobs(client, jobs_path)
        if jobs and not any(same_id(job.get('id'), desired.job_id) for job in jobs):
            raise TaskFailure('job_id: %s %s has no job %s; its jobs are %s. A job id belongs to one service principal: '
                              'give one of these, or leave job_id out and give template_id.'
                              % (desired.parent_option, desired.parent_id, desired.job_id,
                                 ', '.join(sorted(job.get('id') or '?' for job in jobs))),
                              job_ids=sorted(job.get('id') for job in jobs))
        try:
            found = client.get_eventually(path, within=REPLICATION_TIMEOUT)
        except GraphNotFound:
            return None  # the plan reports the missing job_id
    return check_identity('job_id', desired.job_id, found, 'job')


def _listed_jobs(client, jobs_path):
    """The parent's jobs, or None when the parent cannot be read (yet)."""
    try:
        return client.list_all(jobs_path)
    except GraphError as error:
        if error.status in (404, 403):
            return None
        raise


def job_path(jobs_path, job_id):
    return jobs_path + graph_path('/%s', job_id)


def check_job_template(job, address):
    """Fails when the job found by ``job_id`` is not of the ``template_id`` the task also names."""
    if job is not None and address.template_id and not template_matches(job.get('templateId'), address.template_id):
        raise TaskFailure('job %s has template %s, not template_id %s; a job\'s template cannot change: remove '
                          'template_id, or delete this job and create one of template %s.'
                          % (job.get('id'), job.get('templateId'), address.template_id, address.template_id))


def _parent_failure(error, desired):
    """The failure to raise for ``error`` (a read of the parent's jobs that failed after the replication wait)."""
    if error.status != 404:
        return error
    return TaskFailure('%s %s was not found (Graph answered 404 for %s, also after waiting %d s for replication): give the '
                       'object id of an existing %s.' % (desired.parent_option, desired.parent_id, error.path,
                                                         REPLICATION_TIMEOUT,
                                                         'service principal' if desired.parent_option == 'service_principal_id'
                                                         else 'application'), error=error.to_result())


def resolve_template(client, desired):
    """The template id as Graph spells it; fails listing the available templates when it is unknown."""
    templates = client.list_all(desired.parent_path + '/synchronization/templates')
    for template in templates:
        if (template.get('id') or '').lower() == desired.template_id.lower():
            return template['id']
    available = sorted(template.get('id') for template in templates if template.get('id'))
    raise TaskFailure('template_id: %s is not a synchronization template of %s %s; available: %s.'
                      % (desired.template_id, desired.parent_option, desired.parent_id,
                         ', '.join(available) if available else 'none (provisioning is not supported by this application)'),
                      available_templates=available)


def act(client, desired, jobs_path, current, actions, warn):
    """Send the planned writes in order, then read the job back; returns ``(job, actions done, created)``, ``created``
    True when the job is the one this run created (False when it existed, or when another run's copy was adopted).

    When the create ends by adopting a job another run created at the same moment, the rest is planned again from that
    job (after giving its run time to start it): a start is never sent to a job that runs (Microsoft: "Use the start
    job only when the job is currently paused or in quarantine", docs/graph-behaviour.md §3.3).

    A failure leaves a state the next run converges from; the failed result then says what was done before it
    (``changed`` and ``actions``), so that a created job is not reported as "nothing changed".
    """
    done = []
    job = current
    pending = list(actions)
    created = False
    try:
        while pending:
            action = pending.pop(0)
            if action == 'create':
                job, adopted = create_job(client, desired, jobs_path, warn)
                done.append(action)
                created = adopted is None
                if adopted is not None:
                    kept_id = job['id']
                    job = await_other_run(client, desired, jobs_path, job, adopted.others_act_by)
                    if job is None:
                        raise TaskFailure('job %s, which this run kept instead of the one it created, was deleted by someone '
                                          'else meanwhile; run the task again.' % kept_id)
                    pending = plan_job_actions(job, desired)[0]
                continue
            job = _act_once(client, desired, jobs_path, job, action)
            done.append(action)
            if job is None:
                return None, done, False
        return client.get_eventually(job_path(jobs_path, job['id']), within=REPLICATION_TIMEOUT), done, created
    except (TaskFailure, GraphError) as error:
        changes = [action for action in done if action != 'validate_credentials']
        if not changes:
            raise
        extra = dict(getattr(error, 'result', None) or {})
        if isinstance(error, GraphError):
            extra['error'] = error.to_result()
        extra.update(changed=True, actions=done, created=created, job=job_to_result(job))
        raise TaskFailure('%s (done before the failure: %s; run the task again to complete it)'
                          % (getattr(error, 'msg', None) or str(error), ', '.join(changes)), **extra)


def _act_once(client, desired, jobs_path, job, action):
    """One planned call other than create; returns the job it acted on, or None after delete."""
    path = job_path(jobs_path, job['id'])
    if action == 'validate_credentials':
        validate_saved_credentials(client, path, job)
    elif action == 'start':
        # Never sent to a running job (docs/graph-behaviour.md §3.3): after an unknown outcome, sent again only to a
        # job that a re-read shows not running.
        client.write_confirmed('POST', path + '/start', lambda: _job_if(client, path, is_running))
    elif action == 'pause':
        client.write_confirmed('POST', path + '/pause',
                               lambda: _job_if(client, path, lambda job: (job.get('schedule') or {}).get('state') != 'Active'))
    elif action == 'restart':
        criteria = dict(resetScope=desired.restart_scope) if desired.restart_scope else {}
        client.write('POST', path + '/restart', body=dict(criteria=criteria))
    elif action == 'delete':
        try:
            client.write('DELETE', path)
        except GraphNotFound:
            pass  # deleted meanwhile: the goal is reached
        return None
    return job


def _job_if(client, path, condition):
    """The job at ``path`` when ``condition(job)`` holds, else None: how a re-read tells whether a command took effect."""
    job = client.get(path)
    return job if condition(job) else None


def create_job(client, desired, jobs_path, warn):
    """POST the job; returns ``(job, adopted)``: ``adopted`` is None when the job is the one this run created, else the
    ``_converge.Kept`` of the job adopted instead (another run's).

    After a timeout or 5xx, look again before anything else (a POST is never repeated blindly): the jobs are listed for
    ``CONFIRM_WINDOW`` seconds (a new job is unlisted for a while, docs/graph-behaviour.md §3.6); a job of the template
    found then is adopted; none found, the POST is sent again within the client's retry budget. After a successful
    POST, ``keep_one_job`` makes sure that one job of the template remains when other runs created one at the same
    moment, or when the failed POST made one after all that showed up late.
    """
    body = dict(templateId=desired.template_id)
    if desired.settings:
        body['synchronizationJobSettings'] = [dict(name=name, value=value) for name, value in sorted(desired.settings.items())]
    sent_at = time.monotonic()

    def listed():
        return look_for(lambda: find_job(client.list_all(jobs_path), desired.template_id), CONFIRM_WINDOW)

    created, existing = client.write_confirmed('POST', jobs_path, listed, body=body)
    if existing is not None:
        # Whether this job is ours or another run's is unknown: it is adopted, and the rest planned from it.
        existing = client.get_eventually(job_path(jobs_path, existing['id']), within=REPLICATION_TIMEOUT)
        return existing, Kept(existing, True, others_act_by=time.monotonic() + CREATOR_GRACE)
    if created.get('templateId') != desired.template_id:
        warn('Graph created job %s with template %s, not %s: later runs find it under either name; use template_id: %s '
             'to match what Graph shows.' % (created.get('id'), created.get('templateId'), desired.template_id,
                                             created.get('templateId')))
    # The new job can answer 404 for a while (docs/graph-behaviour.md §3.6): wait until it can be addressed.
    created = client.get_eventually(job_path(jobs_path, created['id']), within=REPLICATION_TIMEOUT)
    kept = keep_one_job(client, desired, jobs_path, created, warn, sent_at)
    return kept.kept, kept if kept.adopted else None


def keep_one_job(client, desired, jobs_path, created, warn, sent_at, sleep=time.sleep, monotonic=time.monotonic):
    """One job of the template after this run created ``created`` (``_converge.keep_one``); the winner is the job with
    the smallest id, as Graph documents no creation time for jobs."""
    copies = Copies('job', 'of template %s on %s %s' % (desired.template_id, desired.parent_option, desired.parent_id),
                    'the smallest id', 'entra.provisioning.synchronization_job with job_id: %s and state: absent')

    def delete(job_id):
        client.write('DELETE', job_path(jobs_path, job_id))

    try:
        return keep_one(created, lambda: jobs_of_template(client.list_all(jobs_path), desired.template_id), smallest_id, delete,
                        copies, sent_at, REPLICATION_TIMEOUT, warn, sleep, monotonic)
    except TaskFailure as failure:
        raise TaskFailure(failure.msg, **dict(failure.result, changed=True, actions=['create'], job=job_to_result(created)))


def await_other_run(client, desired, jobs_path, job, until, sleep=time.sleep, monotonic=time.monotonic):
    """The job of the template once the run that created it had the time to start it, when this task would start it.

    ``job`` was created by another run moments ago: one that created a copy at the same moment (this run adopted it) or
    that this run found (``is_new``). That run starts it once it has settled (``_converge``); starting it here too
    would send a second start to a running job. So the jobs of the template are listed until one remains and runs, or
    until ``until`` (a monotonic time: that run was interrupted, or does not start jobs); the plan is then made from
    what is listed last (None when the job is gone: then it is created).
    """
    if desired.state != 'started' or is_running(job):
        return job

    def settled(jobs):
        return len(jobs) == 1 and is_running(jobs[0]), None

    jobs = poll(lambda: jobs_of_template(client.list_all(jobs_path), desired.template_id), settled,
                max(0.0, until - monotonic()), sleep, monotonic).last
    return find_job(jobs, desired.template_id)


def validate_saved_credentials(client, path, job):
    try:
        # It changes nothing (docs/graph-behaviour.md §3.7): safe to send again after a lost answer or a 503.
        client.write('POST', path + '/validateCredentials', body=dict(useSavedCredentials=True, credentials=[]), repeatable=True)
    except GraphError as error:
        # 401/403 are about the caller's permissions, 404/429/5xx about the call: only a refusal of the credentials
        # themselves (400 CredentialValidationUnavailable and the like, docs/graph-behaviour.md §3.7) is the answer asked for.
        if error.status is None or error.status in (401, 403, 404, 429) or error.status >= 500:
            raise
        reasons = [error.message] + ['%s: %s' % (detail.get('code'), detail.get('message')) for detail in error.details
                                     if isinstance(detail, dict) and detail.get('code')]
        reason = '; '.join(text.strip().rstrip('.') for text in reasons if text)
        raise TaskFailure('validate_credentials: Graph refused the saved credentials of job %s, so the job was not started: '
                          '%s%s. Set working credentials with entra.provisioning.synchronization_secret and run again.'
                          % (job.get('id'), error.code or 'HTTP %s' % error.status, ' (%s)' % reason if reason else ''),
                          error=error.to_result(), job=job_to_result(job))


def wait(client, desired, jobs_path, job, current, actions, task, sleep=time.sleep, monotonic=time.monotonic):
    """Poll the job until ``wait_for`` is reached (or, for state=absent, until it is gone), with backoff."""
    if desired.state == 'absent':
        if current is None:
            return None
        path = job_path(jobs_path, current['id'])
        gone = poll(lambda: client.get_or_none(path), lambda job: (job is None, None), desired.wait_timeout, sleep, monotonic)
        if not gone.reached:
            raise TaskFailure('wait_timeout: job %s still exists %d s after it was deleted.' % (current['id'], desired.wait_timeout),
                              changed=bool(actions), actions=actions, job=job_to_result(gone.last))
        return None

    acted = any(action in ('start', 'restart', 'create') for action in actions)
    baseline = wait_baseline(current) if acted else None
    path = job_path(jobs_path, job['id'])
    outcome = poll(lambda: client.get(path), lambda job: wait_outcome(job, desired.wait_for, baseline),
                   desired.wait_timeout, sleep, monotonic, first=job, pace=STATE_PACE)
    changed = any(action != 'validate_credentials' for action in actions)
    if outcome.failure:
        raise TaskFailure('wait_for=%s: %s' % (desired.wait_for, outcome.failure), changed=changed, actions=actions,
                          job=job_to_result(outcome.last), diff=job_diff(current, outcome.last))
    if not outcome.reached:
        status = (outcome.last.get('status') or {})
        raise TaskFailure('wait_timeout: job %s did not reach %s within %d s (status %s); raise wait_timeout, or check the '
                          'job in the provisioning logs.' % (job['id'], desired.wait_for, desired.wait_timeout, status.get('code')),
                          changed=changed, actions=actions, job=job_to_result(outcome.last), diff=job_diff(current, outcome.last))
    if desired.wait_for != 'started':
        warning = cycle_warning(outcome.last)
        if warning:
            task.warn(warning)
    return outcome.last
