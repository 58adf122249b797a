# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._sync_job import (
    DesiredJob,
    _parent_failure,
    find_job,
    is_new,
    is_running,
    await_other_run,
    job_diff,
    keep_one_job,
    plan_job_actions,
    quarantine_message,
    run_synchronization_job,
    settings_drift,
    wait_baseline,
    wait_outcome,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError
from ansible_collections.entra.provisioning.plugins.module_utils._task import Task, TaskFailure

from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.fake_clock import FakeClock

SP_ID = '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f'
NEVER = '0001-01-01T00:00:00Z'


def graph_job(schedule_state='Disabled', code='NotConfigured', template='scim', job_id=None, last_execution=None,
              quarantine=None, steady=NEVER, settings=None):
    """A job as Graph returns it (shapes from the documented examples, docs/graph-behaviour.md §2.8)."""
    return {
        'id': job_id or '%s.e4bbf44533ea4eabb17027f3a92e92aa' % template,
        'templateId': template,
        'schedule': {'expiration': None, 'interval': 'PT40M', 'state': schedule_state},
        'status': {'code': code, 'countSuccessiveCompleteFailures': 0, 'escrowsPruned': False,
                   'lastExecution': last_execution, 'lastSuccessfulExecution': None,
                   'lastSuccessfulExecutionWithExports': None, 'progress': [], 'quarantine': quarantine,
                   'steadyStateFirstAchievedTime': steady, 'steadyStateLastAchievedTime': steady,
                   'synchronizedEntryCountByType': [], 'troubleshootingUrl': None},
        'synchronizationJobSettings': [dict(name=name, value=value) for name, value in (settings or {}).items()],
    }


def execution(state='Succeeded', began='2024-05-24T21:45:53.633Z'):
    return {'activityIdentifier': 'c3173f7b', 'state': state, 'timeBegan': began, 'timeEnded': began,
            'error': None, 'countExported': 1}


# The placeholder Graph shows right after start (the cross-tenant synchronization walkthrough, docs/graph-behaviour.md §2.5).
PLACEHOLDER = {'activityIdentifier': None, 'state': 'Failed', 'timeBegan': NEVER, 'timeEnded': NEVER,
               'error': {'code': 'None', 'message': '', 'tenantActionable': False}}
QUARANTINE = {'currentBegan': '2024-05-24T21:45:54Z', 'nextAttempt': '2024-05-24T21:50:54Z',
              'reason': 'EncounteredQuarantineException', 'seriesBegan': '2024-05-24T21:45:54Z', 'seriesCount': 1,
              'error': {'code': 'SystemForCrossDomainIdentityManagementInvalidCredentials',
                        'message': 'Please provide a valid tenant URL for your application.', 'tenantActionable': True}}


def desired(**params):
    base = dict(service_principal_id=SP_ID, template_id='scim', state='present', wait=False, wait_timeout=900,
                validate_credentials=False)
    base.update(params)
    return DesiredJob(base)


# --- planning ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('state, current, expected', [
    ('present', None, ['create']),
    ('present', graph_job(), []),
    ('present', graph_job('Active', 'Active'), []),
    ('started', None, ['create', 'start']),
    ('started', graph_job(), ['start']),
    ('started', graph_job('Disabled', 'Paused'), ['start']),
    ('started', graph_job('Paused', 'Paused'), ['start']),
    ('started', graph_job('Active', 'NotRun'), []),
    ('started', graph_job('Active', 'Active'), []),
    # A quarantined job is started again: that clears quarantine (docs/graph-behaviour.md §3.3).
    ('started', graph_job('Active', 'Quarantine', quarantine=QUARANTINE), ['start']),
    ('paused', None, ['create']),
    ('paused', graph_job(), []),
    ('paused', graph_job('Paused', 'Paused'), []),
    ('paused', graph_job('Active', 'Active'), ['pause']),
    ('paused', graph_job('Active', 'Quarantine', quarantine=QUARANTINE), ['pause']),
    ('restarted', graph_job('Active', 'Active'), ['restart']),
    ('restarted', graph_job('Paused', 'Paused'), ['restart']),
    ('absent', None, []),
    ('absent', graph_job('Active', 'Active'), ['delete']),
])
def test_plan_job_actions(state, current, expected):
    actions, predicted = plan_job_actions(current, desired(state=state))

    assert actions == expected
    if state == 'absent':
        assert predicted is None


def test_started_job_is_never_started_again():
    # Microsoft: "Don't create scripts to call the start job continuously while it's running" (docs/graph-behaviour.md §3.3).
    for code in ('NotRun', 'Active'):
        actions, dummy = plan_job_actions(graph_job('Active', code), desired(state='started'))
        assert 'start' not in actions


def test_predicted_job_after_create_and_start():
    actions, predicted = plan_job_actions(None, desired(state='started', settings={'QuarantineTooManyDeletesThreshold': 100}))

    assert actions == ['create', 'start']
    assert predicted['id'] is None  # Graph assigns it
    assert predicted['templateId'] == 'scim'
    assert predicted['schedule']['state'] == 'Active'
    assert predicted['status']['code'] == 'NotRun'
    assert predicted['synchronizationJobSettings'] == [{'name': 'QuarantineTooManyDeletesThreshold', 'value': '100'}]


def test_predicted_job_after_start_clears_quarantine_and_resumes():
    current = graph_job('Active', 'Quarantine', quarantine=QUARANTINE, last_execution=execution('Failed'),
                        steady='2024-05-20T10:00:00Z')

    dummy, predicted = plan_job_actions(current, desired(state='started'))

    assert predicted['status']['quarantine'] is None
    assert predicted['status']['code'] == 'Active'  # it completed cycles before, so it resumes
    assert current['status']['quarantine'] == QUARANTINE  # the input is not modified


def test_predicted_job_after_start_of_a_job_that_never_completed_a_cycle():
    current = graph_job('Active', 'Quarantine', quarantine=QUARANTINE, last_execution=execution('Failed'))

    dummy, predicted = plan_job_actions(current, desired(state='started'))

    assert predicted['status']['code'] == 'NotRun'


@pytest.mark.parametrize('scope, code, quarantined', [
    (None, 'NotRun', False),                     # the portal's restart: Watermark, Escrows, QuarantineState
    (['Escrows'], 'Quarantine', True),           # quarantine kept
    (['QuarantineState'], 'Active', False),      # lifted, watermark kept: incremental cycles go on
    (['Full'], 'NotRun', False),
    (['ForceDeletes'], 'Quarantine', True),      # only lifts a TooManyDeletes quarantine
])
def test_predicted_job_after_restart_follows_the_reset_scope(scope, code, quarantined):
    current = graph_job('Active', 'Quarantine', quarantine=QUARANTINE, last_execution=execution('Failed'),
                        steady='2024-05-20T10:00:00Z')

    dummy, predicted = plan_job_actions(current, desired(state='restarted', restart_scope=scope))

    assert predicted['status']['code'] == code
    assert bool(predicted['status']['quarantine']) is quarantined


def test_force_deletes_lifts_a_too_many_deletes_quarantine():
    quarantine = dict(QUARANTINE, reason='TooManyDeletes')
    current = graph_job('Active', 'Quarantine', quarantine=quarantine, steady='2024-05-20T10:00:00Z')

    dummy, predicted = plan_job_actions(current, desired(state='restarted', restart_scope=['ForceDeletes']))

    assert (predicted['status']['code'], predicted['status']['quarantine']) == ('Active', None)


def test_predicted_job_after_pause():
    dummy, predicted = plan_job_actions(graph_job('Active', 'Active'), desired(state='paused'))

    assert (predicted['schedule']['state'], predicted['status']['code']) == ('Paused', 'Paused')


def test_validate_credentials_precedes_start_and_restart_only():
    assert plan_job_actions(None, desired(state='started', validate_credentials=True))[0] == ['create', 'validate_credentials', 'start']
    assert plan_job_actions(graph_job('Active', 'Active'), desired(state='restarted', validate_credentials=True))[0] == \
        ['validate_credentials', 'restart']
    assert plan_job_actions(graph_job('Active', 'Active'), desired(state='started', validate_credentials=True))[0] == []
    assert plan_job_actions(None, desired(state='present', validate_credentials=True))[0] == ['create']


def test_restart_without_a_job_fails():
    with pytest.raises(TaskFailure, match='state=restarted needs an existing job'):
        plan_job_actions(None, desired(state='restarted'))


def test_missing_job_id_is_never_created():
    # Creating another job would create a new one on every run: job ids are chosen by Graph.
    with pytest.raises(TaskFailure, match='job_id: job scim.x does not exist'):
        plan_job_actions(None, desired(state='started', job_id='scim.x', template_id='scim'))


def test_missing_job_id_is_absent():
    assert plan_job_actions(None, desired(state='absent', job_id='scim.x', template_id=None)) == ([], None)


# --- finding the job ------------------------------------------------------------------------------------------------

def test_find_job_by_template_ignores_case_and_other_templates():
    jobs = [graph_job(template='Azure2Azure'), graph_job(template='scim')]

    assert find_job(jobs, 'SCIM')['templateId'] == 'scim'
    assert find_job(jobs, 'aws') is None
    assert find_job([], 'scim') is None


def test_find_job_fails_on_ambiguity_and_lists_the_ids():
    jobs = [graph_job(job_id='scim.bbb'), graph_job(job_id='scim.aaa')]

    with pytest.raises(TaskFailure) as failure:
        find_job(jobs, 'scim')

    assert 'scim.aaa, scim.bbb' in failure.value.msg
    assert 'set job_id' in failure.value.msg
    assert failure.value.result['job_ids'] == ['scim.aaa', 'scim.bbb']


# --- one job after a create (runs at the same moment; a re-run inside the replication window of a killed run's job) ---

OURS = 'scim.0000000000000000000000000000000b'
EARLIER = 'scim.0000000000000000000000000000000a'
LATER = 'scim.0000000000000000000000000000000c'


class FakeJobsClient:
    """Lists scripted pages of jobs one read at a time (the last one repeats); records writes; ``get`` reads the
    scripted states of a job one at a time."""

    def __init__(self, listings, delete_error=None, states=None):
        self.listings = list(listings)
        self.writes = []
        self.delete_error = delete_error
        self.states = list(states or [])
        self.gets = 0

    def list_all(self, path):
        assert path == JOBS_PATH
        return self.listings.pop(0) if len(self.listings) > 1 else self.listings[0]

    def write(self, method, path, body=None):
        self.writes.append((method, path, body))
        if self.delete_error is not None:
            raise self.delete_error

    def get(self, path):
        self.gets += 1
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


JOBS_PATH = '/servicePrincipals/%s/synchronization/jobs' % SP_ID


def keep_one(client, warnings, created=OURS):
    clock = FakeClock()
    kept = keep_one_job(client, desired(), JOBS_PATH, graph_job(job_id=created), warnings.append, 0.0, sleep=clock.sleep,
                        monotonic=clock.monotonic)
    return kept, clock.sleeps


def test_keep_one_job_deletes_the_job_it_created_and_adopts_the_one_with_the_smallest_id():
    # Another run's job (or a killed run's) shows up once ours is listed too.
    client = FakeJobsClient([[], [graph_job(job_id=EARLIER)], [graph_job(job_id=EARLIER), graph_job(job_id=OURS)]])
    warnings = []

    kept, dummy = keep_one(client, warnings)

    assert kept.kept['id'] == EARLIER and kept.adopted
    assert client.writes == [('DELETE', '%s/%s' % (JOBS_PATH, OURS), None)]
    assert len(warnings) == 1 and EARLIER in warnings[0] and OURS in warnings[0] and 'interrupted' in warnings[0]


def test_keep_one_job_keeps_its_job_when_it_has_the_smallest_id_and_deletes_the_other():
    client = FakeJobsClient([[graph_job(job_id=LATER), graph_job(job_id=OURS)]])
    warnings = []

    kept, dummy = keep_one(client, warnings)

    assert kept.kept['id'] == OURS and not kept.adopted
    assert client.writes == [('DELETE', '%s/%s' % (JOBS_PATH, LATER), None)]
    assert len(warnings) == 1 and 'kept %s, deleted %s.' % (OURS, LATER) in warnings[0]


def test_keep_one_job_counts_only_jobs_of_its_template():
    # A job created under the derived template is of the template the task names (template_matches).
    client = FakeJobsClient([[graph_job(template='Azure2Azure', job_id='Azure2Azure.0'), graph_job(job_id=OURS),
                              graph_job(template='scimOutDelta', job_id='scimOutDelta.f')]])

    kept, dummy = keep_one(client, [])

    assert kept.kept['id'] == OURS and client.writes == [('DELETE', '%s/scimOutDelta.f' % JOBS_PATH, None)]


def test_keep_one_job_keeps_the_job_it_created_when_it_is_alone():
    client = FakeJobsClient([[graph_job(job_id=OURS)]])
    warnings = []

    kept, dummy = keep_one(client, warnings)

    assert kept.kept['id'] == OURS and client.writes == [] and warnings == []


def test_keep_one_job_gives_up_waiting_for_the_listing_with_a_warning():
    client = FakeJobsClient([[]])
    warnings = []

    kept, sleeps = keep_one(client, warnings)

    assert kept.kept['id'] == OURS and client.writes == []
    assert sum(sleeps) == pytest.approx(60.0)
    assert len(warnings) == 1 and OURS in warnings[0] and 'could not check' in warnings[0]


def test_keep_one_job_reports_the_created_job_and_what_was_left_when_its_delete_fails():
    error = GraphError(500, 'InternalServerError', 'boom', method='DELETE', path='%s/%s' % (JOBS_PATH, OURS))
    client = FakeJobsClient([[graph_job(job_id=EARLIER), graph_job(job_id=OURS)]], delete_error=error)

    with pytest.raises(TaskFailure) as failure:
        keep_one(client, [])

    assert OURS in failure.value.msg and 'job_id: %s and state: absent' % OURS in failure.value.msg
    assert failure.value.result['changed'] is True and failure.value.result['left'] == [OURS]
    assert failure.value.result['actions'] == ['create'] and failure.value.result['job']['id'] == OURS
    assert failure.value.result['kept'] == EARLIER


def await_other(client, job, state='started', until=30.0):
    clock = FakeClock()
    job = await_other_run(client, desired(state=state), JOBS_PATH, job, until, clock.sleep, clock.monotonic)
    return job, clock


def test_an_adopted_job_started_by_its_run_is_not_started_again():
    client = FakeJobsClient([[graph_job(job_id=EARLIER)], [graph_job('Active', 'NotRun', job_id=EARLIER)]])

    job, dummy = await_other(client, graph_job(job_id=EARLIER))

    assert is_running(job) and job['id'] == EARLIER
    assert plan_job_actions(job, desired(state='started'))[0] == []


def test_it_waits_until_the_other_copies_are_gone_and_the_job_runs():
    client = FakeJobsClient([[graph_job(job_id=EARLIER), graph_job(job_id=OURS)],
                             [graph_job('Active', 'NotRun', job_id=EARLIER), graph_job(job_id=OURS)],
                             [graph_job('Active', 'NotRun', job_id=EARLIER)]])

    job, clock = await_other(client, graph_job(job_id=EARLIER))

    assert is_running(job) and len(clock.sleeps) == 2


def test_a_job_nobody_starts_is_started_once_its_run_had_the_time():
    client = FakeJobsClient([[graph_job(job_id=EARLIER)]])

    job, clock = await_other(client, graph_job(job_id=EARLIER), until=12.0)

    assert clock.now == pytest.approx(12.0)
    assert plan_job_actions(job, desired(state='started', validate_credentials=True))[0] == ['validate_credentials', 'start']


def test_a_job_that_disappears_meanwhile_is_created_again():
    client = FakeJobsClient([[]])

    job, dummy = await_other(client, graph_job(job_id=EARLIER), until=3.0)

    assert job is None and plan_job_actions(job, desired(state='started'))[0] == ['create', 'start']


def test_nothing_is_waited_for_when_nothing_would_start_the_job():
    client = FakeJobsClient([[graph_job(job_id=EARLIER)]])

    for state, job in (('present', graph_job(job_id=EARLIER)), ('started', graph_job('Active', 'Active', job_id=EARLIER))):
        dummy, clock = await_other(client, job, state=state)
        assert clock.sleeps == []


def test_is_new():
    assert is_new(graph_job('Disabled', 'NotConfigured')) and is_new(graph_job('Disabled', 'Paused'))
    assert not is_new(graph_job('Paused', 'Paused')) and not is_new(graph_job('Active', 'Quarantine'))


def test_is_running():
    assert is_running(graph_job('Active', 'Active'))
    assert is_running(graph_job('Active', 'NotRun'))
    assert not is_running(graph_job('Active', 'Quarantine'))
    assert not is_running(graph_job('Paused', 'Paused'))
    assert not is_running(graph_job('Disabled', 'NotConfigured'))


# --- input validation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('params, message', [
    (dict(service_principal_id='3c653ec4'), r"service_principal_id: '3c653ec4' is not a GUID"),
    (dict(service_principal_id=None, application_id='app-1'), r"application_id: 'app-1' is not a GUID"),
    (dict(job_id='scim/../x'), r'job_id: .* is not an id .*; give the id of a job of this service principal'),
    (dict(job_id='.'), r"job_id: '\.' is not an id \(an id is not empty, not \"\.\" or \"\.\.\""),
    (dict(job_id='..'), r"job_id: '\.\.' is not an id .*or leave job_id out and give template_id"),
    (dict(template_id='sc im'), r'template_id: .* is not an id .*; give the id of a synchronization template'),
    (dict(template_id=None, job_id=None), r'one of the following is required: template_id, job_id. Give template_id'),
    (dict(state='restarted', restart_scope=['None']), r'restart_scope: None must not be used .*use state=started'),
    (dict(state='restarted', restart_scope=['Watermark', 'ConnectorDataStore']),
     r'restart_scope: ConnectorDataStore must not be used .*Contact Support'),
    (dict(state='restarted', restart_scope=['Watermarks']),
     r"restart_scope: 'Watermarks' is not a reset scope; use any of Escrows, Watermark, QuarantineState, Full, ForceDeletes"),
    (dict(state='restarted', restart_scope=[]), r'restart_scope is empty'),
    (dict(state='started', restart_scope=['Full']), r'restart_scope applies only to state=restarted'),
    (dict(wait_for='first_cycle'), r'wait_for=first_cycle takes effect only with wait=true'),
    (dict(wait=True, state='present'), r'wait=true has nothing to wait for with state=present'),
    (dict(wait=True, state='absent', wait_for='started'), r'wait_for=started does not apply to state=absent'),
    (dict(state='started', wait=True, wait_timeout=0), r'wait_timeout must be a positive number'),
    (dict(settings={'QuarantineTooManyDeletesThreshold': None}), r'settings: QuarantineTooManyDeletesThreshold has no value'),
    (dict(settings={'Nested': {'a': 1}}), r'settings: Nested must be a string, number or boolean, got a dict'),
    (dict(settings={'Listed': ['a']}), r'settings: Listed must be a string, number or boolean, got a list; give the value'),
])
def test_bad_input_fails_naming_the_option(params, message):
    with pytest.raises(TaskFailure, match=message):
        desired(**params)


def test_restart_scope_becomes_graphs_comma_separated_string():
    # docs/graph-behaviour.md §2.7: one string, ", " separated, Graph's spelling.
    assert desired(state='restarted', restart_scope=['watermark', 'Escrows', 'QUARANTINESTATE', 'Escrows']).restart_scope == \
        'Watermark, Escrows, QuarantineState'
    assert desired(state='restarted').restart_scope is None


def test_job_ids_with_dots_are_accepted():
    # docs/graph-behaviour.md §1.2: not GUIDs; three-part Cloud Sync ids exist.
    job = desired(job_id='AD2AADProvisioning.fd1c9b9e8077402c8bc03a7186c8f976.2f5e1c1a-1111-2222-3333-444455556666')
    assert job.job_id.startswith('AD2AADProvisioning.')


def test_wait_defaults_to_started():
    assert desired(state='started', wait=True).wait_for == 'started'
    assert desired(state='absent', wait=True).wait_for is None


def test_application_parent_path():
    job = desired(service_principal_id=None, application_id='20845737-a145-446f-aa3c-77d432903957')
    assert job.parent_path == '/applications/20845737-a145-446f-aa3c-77d432903957'


def test_settings_are_strings_as_graph_stores_them():
    assert desired(settings={'A': True, 'B': 500, 'C': 'x'}).settings == {'A': 'True', 'B': '500', 'C': 'x'}


# --- settings drift -------------------------------------------------------------------------------------------------

def test_settings_drift_names_differing_and_missing_settings_only():
    current = graph_job(settings={'QuarantineTooManyDeletesThreshold': '500', 'LookaheadQueryEnabled': 'False'})

    drift = settings_drift(current, {'QuarantineTooManyDeletesThreshold': '100', 'LookaheadQueryEnabled': 'false',
                                     'AzureIngestionAttributeOptimization': 'True'})

    assert drift == [('AzureIngestionAttributeOptimization', None, 'True'), ('QuarantineTooManyDeletesThreshold', '500', '100')]
    assert settings_drift(current, {'QuarantineTooManyDeletesThreshold': '500'}) == []
    assert settings_drift(None, {'A': '1'}) == []


# --- diff -----------------------------------------------------------------------------------------------------------

def test_job_diff_shows_template_schedule_state_and_status_code():
    before = graph_job('Disabled', 'NotConfigured')
    after = graph_job('Active', 'NotRun')

    diff = job_diff(before, after)

    assert diff['before'] == {'state': 'present', 'id': before['id'], 'template_id': 'scim', 'schedule_state': 'Disabled',
                              'status_code': 'NotConfigured'}
    assert diff['after']['schedule_state'] == 'Active' and diff['after']['status_code'] == 'NotRun'
    assert job_diff(None, None) == {'before': {'state': 'absent'}, 'after': {'state': 'absent'}}


# --- waiting ----------------------------------------------------------------------------------------------------------

def test_placeholder_failed_execution_right_after_start_is_not_a_failure():
    job = graph_job('Active', 'NotRun', last_execution=PLACEHOLDER)

    assert wait_outcome(job, 'first_cycle') == (False, None)
    assert wait_outcome(job, 'started') == (True, None)


def test_first_cycle_needs_code_active_and_a_real_execution():
    assert wait_outcome(graph_job('Active', 'Active', last_execution=execution()), 'first_cycle') == (True, None)
    assert wait_outcome(graph_job('Active', 'NotRun', last_execution=execution()), 'first_cycle') == (False, None)


def test_first_cycle_after_a_restart_ignores_the_cycle_before_it():
    before = graph_job('Active', 'Active', last_execution=execution(began='2024-05-24T10:00:00Z'))
    baseline = wait_baseline(before)

    assert wait_outcome(before, 'first_cycle', baseline) == (False, None)
    after = graph_job('Active', 'Active', last_execution=execution(began='2024-05-24T11:00:00Z'))
    assert wait_outcome(after, 'first_cycle', baseline) == (True, None)


def test_steady_state():
    not_yet = graph_job('Active', 'Active', last_execution=execution())
    steady = graph_job('Active', 'Active', last_execution=execution(), steady='2024-05-24T22:00:00Z')

    assert wait_outcome(not_yet, 'steady_state') == (False, None)
    assert wait_outcome(steady, 'steady_state') == (True, None)


def test_quarantine_stops_the_wait_with_reason_and_error():
    job = graph_job('Active', 'Quarantine', quarantine=QUARANTINE)

    reached, failure = wait_outcome(job, 'first_cycle')

    assert reached is False
    assert 'EncounteredQuarantineException' in failure
    assert 'SystemForCrossDomainIdentityManagementInvalidCredentials' in failure
    assert 'Please provide a valid tenant URL' in failure
    assert failure == quarantine_message(job)


def test_a_job_paused_while_waiting_stops_the_wait():
    reached, failure = wait_outcome(graph_job('Paused', 'Paused'), 'first_cycle')

    assert reached is False and 'no longer running' in failure


def test_a_job_created_under_a_derived_template_is_found_by_the_name_used():
    # POST {"templateId": "customappsso"} creates a customappssoOutDelta job (docs/graph-behaviour.md §1.3).
    jobs = [graph_job(template='customappssoRoleIn'), graph_job(template='customappssoOutDelta')]

    assert find_job(jobs, 'customappsso')['templateId'] == 'customappssoOutDelta'
    assert find_job(jobs + [graph_job(template='customappsso')], 'customappsso')['templateId'] == 'customappsso'
    assert find_job(jobs, 'customapp') is None


# --- the parent's failure, and check mode for a service principal not created yet -----------------------------------

def test_parent_failure_is_always_something_to_raise():
    desired_job = desired()
    not_found = _parent_failure(GraphError(404, 'Request_ResourceNotFound', 'gone', method='GET', path='/x'), desired_job)
    assert isinstance(not_found, TaskFailure) and 'service_principal_id %s was not found' % SP_ID in not_found.msg
    # Any other status was returned as None, and the caller raised None (a TypeError, not the error).
    forbidden = GraphError(403, 'Authorization_RequestDenied', 'denied', method='GET', path='/x')
    assert _parent_failure(forbidden, desired_job) is forbidden


def no_client(task):
    raise AssertionError('no request may be sent for a service principal that does not exist yet')


def test_check_mode_plans_for_a_service_principal_not_created_yet_without_any_request():
    params = dict(service_principal_id=None, template_id=None, state='started', validate_credentials=True, wait=False,
                  wait_timeout=900, settings={'QuarantineTooManyDeletesThreshold': 7})
    result = run_synchronization_job(Task(params, check_mode=True, client_factory=no_client))
    assert result['changed'] is True and result['actions'] == ['create', 'validate_credentials', 'start']
    assert result['job']['id'] is None and result['job']['schedule']['state'] == 'Active'
    assert result['job']['synchronization_job_settings'] == {'QuarantineTooManyDeletesThreshold': '7'}
    # The same options are refused as in a real run, and a real run needs the id.
    with pytest.raises(TaskFailure, match=r'settings: X must be a string, number or boolean, got a list'):
        run_synchronization_job(Task(dict(params, settings={'X': [1]}), check_mode=True, client_factory=no_client))
    with pytest.raises(TaskFailure, match=r'^service_principal_id: null is not a GUID; give the object id'):
        run_synchronization_job(Task(dict(params, template_id='scim'), check_mode=False, client_factory=no_client))


def test_waiting_on_a_job_quarantined_for_too_many_deletes_says_how_to_approve_them():
    job = {'id': 'scim.1', 'status': {'code': 'Quarantine', 'quarantine': {'reason': 'TooManyDeletes', 'error': None}},
           'schedule': {'state': 'Active'}}

    message = quarantine_message(job)

    assert message.startswith('the job scim.1 is in quarantine (reason TooManyDeletes). Accidental-deletion prevention: ')
    assert 'restart_scope: [ForceDeletes]' in message and 'credentials' not in message
