# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra.provisioning.synchronization_job against the Graph emulator: real ansible-playbook runs, with the emulator's
request log as the witness of what was (not) sent."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import os
import sys

from playbook_tasks import NON_GALLERY_TEMPLATE, failed, last_seq, new_service_principal, ok, playbook, task

BENCHMARKS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'benchmarks')

SCIM_CREDENTIALS = {'BaseAddress': 'https://scim.contoso.test/v2', 'SecretToken': 'integration-token-7f3a9c'}
FAST_CYCLE_SECONDS = 2

job_task = functools.partial(task, 'entra.provisioning.synchronization_job')
secret_task = functools.partial(task, 'entra.provisioning.synchronization_secret')


# --- helpers ----------------------------------------------------------------------------------------------------------


def token_requests(emulator, since=0):
    return [entry for entry in emulator.requests_log(since) if entry['kind'] == 'login' and entry['method'] == 'POST']


def fast_cycles(emulator):
    emulator.control('PUT', '/settings', {'cycle_seconds': FAST_CYCLE_SECONDS})


# --- bad input --------------------------------------------------------------------------------------------------------

def test_bad_input_fails_before_any_write(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    emulator.clear_log()

    run = run_playbook(playbook(
        job_task('appId instead of object id', ignore_errors=True, service_principal_id='not-a-guid', template_id='scim'),
        job_task('job id with a slash', ignore_errors=True, service_principal_id=sp_id, job_id='scim/abc'),
        job_task('unknown template', ignore_errors=True, service_principal_id=sp_id, template_id='scimm', state='started'),
        job_task('forbidden scope', ignore_errors=True, service_principal_id=sp_id, template_id='scim', state='restarted',
                 restart_scope=['Watermark', 'ConnectorDataStore']),
        job_task('restart without a job', ignore_errors=True, service_principal_id=sp_id, template_id='scim', state='restarted'),
        job_task('wait_for without wait', ignore_errors=True, service_principal_id=sp_id, template_id='scim', state='started',
                 wait_for='first_cycle'),
        job_task('both parents', ignore_errors=True, service_principal_id=sp_id, application_id=sp_id, template_id='scim'),
    ))

    assert "service_principal_id: 'not-a-guid' is not a GUID" in failed(run, 'appId instead of object id')['msg']
    assert 'job_id' in failed(run, 'job id with a slash')['msg']
    unknown = failed(run, 'unknown template')
    assert 'template_id: scimm is not a synchronization template' in unknown['msg']
    assert 'scim' in unknown['available_templates'] and 'customappsso' in unknown['available_templates']
    assert 'ConnectorDataStore must not be used' in failed(run, 'forbidden scope')['msg']
    assert 'state=restarted needs an existing job' in failed(run, 'restart without a job')['msg']
    assert 'wait_for=first_cycle takes effect only with wait=true' in failed(run, 'wait_for without wait')['msg']
    assert 'mutually exclusive' in failed(run, 'both parents')['msg']
    assert emulator.writes() == []


# --- the lifecycle ----------------------------------------------------------------------------------------------------

def test_lifecycle_check_create_repeat_start_pause_restart_delete(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    job = dict(service_principal_id=sp_id, template_id='scim')

    # Check mode: the plan, the predicted job, and nothing sent.
    seq = last_seq(emulator)
    run = run_playbook(playbook(job_task('preview', state='started', **job)), check=True, diff=True)
    preview = ok(run, 'preview')
    assert preview['changed'] is True
    assert preview['actions'] == ['create', 'start'] and preview['created'] is True
    assert preview['job']['id'] is None and preview['job']['template_id'] == 'scim'
    assert preview['job']['schedule']['state'] == 'Active' and preview['job']['status']['code'] == 'NotRun'
    assert emulator.writes(seq) == []
    assert 'schedule_state' in run.output and 'NotRun' in run.output  # the diff is shown

    # Create: disabled, as Graph creates it.
    run = run_playbook(playbook(job_task('create', **job)))
    created = ok(run, 'create')
    assert created['changed'] is True and created['actions'] == ['create'] and created['created'] is True
    assert created['job']['id'].startswith('scim.')
    assert created['job']['schedule']['state'] == 'Disabled'
    assert created['job']['status']['code'] == 'NotConfigured'
    assert set(created['job']['status']) >= {'code', 'quarantine', 'last_execution', 'last_successful_execution',
                                             'last_successful_execution_with_exports', 'progress',
                                             'steady_state_first_achieved_time', 'steady_state_last_achieved_time',
                                             'synchronized_entry_count_by_type', 'troubleshooting_url'}
    job_id = created['job']['id']

    # Repeat: no change, one Graph request (the list of jobs), no write, no token request (warm cache).
    seq = last_seq(emulator)
    repeat = ok(run_playbook(playbook(job_task('repeat', **job))), 'repeat')
    assert repeat['changed'] is False and repeat['actions'] == [] and repeat['created'] is False
    assert repeat['job']['id'] == job_id
    requests = emulator.graph_requests(seq)
    assert [(entry['method'], entry['path']) for entry in requests] == \
        [('GET', '/v1.0/servicePrincipals/%s/synchronization/jobs' % sp_id)]
    assert token_requests(emulator, seq) == []

    # Start, then start again: the second run must not call start on a running job.
    started = ok(run_playbook(playbook(job_task('start', state='started', **job))), 'start')
    assert started['actions'] == ['start'] and started['job']['schedule']['state'] == 'Active' and started['created'] is False
    seq = last_seq(emulator)
    again = ok(run_playbook(playbook(job_task('start again', state='started', **job))), 'start again')
    assert again['changed'] is False
    assert emulator.writes(seq) == []

    # Pause (check mode first, then for real), then pause again.
    seq = last_seq(emulator)
    paused_preview = ok(run_playbook(playbook(job_task('pause preview', state='paused', **job)), check=True), 'pause preview')
    assert paused_preview['actions'] == ['pause'] and paused_preview['job']['schedule']['state'] == 'Paused'
    assert emulator.writes(seq) == []
    paused = ok(run_playbook(playbook(job_task('pause', state='paused', **job))), 'pause')
    assert paused['actions'] == ['pause']
    assert (paused['job']['schedule']['state'], paused['job']['status']['code']) == ('Paused', 'Paused')
    assert ok(run_playbook(playbook(job_task('pause again', state='paused', **job))), 'pause again')['changed'] is False

    # Restart is a command: it acts every time. By job_id, with named scopes.
    run = run_playbook(playbook(
        job_task('restart', state='restarted', service_principal_id=sp_id, job_id=job_id, restart_scope=['Watermark', 'Escrows']),
        job_task('restart again', state='restarted', service_principal_id=sp_id, job_id=job_id, restart_scope=['Watermark', 'Escrows']),
    ))
    for name in ('restart', 'restart again'):
        restarted = ok(run, name)
        assert restarted['changed'] is True and restarted['actions'] == ['restart']
        assert restarted['job']['schedule']['state'] == 'Active'
    restarts = [entry for entry in emulator.writes() if entry['path'].endswith('/restart')]
    assert len(restarts) == 2 and all(entry['status'] == 204 for entry in restarts)

    # Delete in check mode, delete, delete again.
    seq = last_seq(emulator)
    preview = ok(run_playbook(playbook(job_task('delete preview', state='absent', **job)), check=True), 'delete preview')
    assert preview['actions'] == ['delete'] and preview['job'] is None
    assert emulator.writes(seq) == []
    deleted = ok(run_playbook(playbook(job_task('delete', state='absent', wait=True, **job))), 'delete')
    assert deleted['changed'] is True and deleted['actions'] == ['delete'] and deleted['job'] is None
    seq = last_seq(emulator)
    gone = ok(run_playbook(playbook(job_task('delete again', state='absent', **job))), 'delete again')
    assert gone['changed'] is False
    assert emulator.writes(seq) == []


def test_diff_shows_the_template_schedule_state_and_status_code(run_playbook, emulator):
    sp_id = new_service_principal(emulator)

    run = run_playbook(playbook(job_task('start', service_principal_id=sp_id, template_id='scim', state='started')), diff=True)

    ok(run, 'start')
    diff = run.result('start')['result'].get('diff')
    assert diff['before'] == {'state': 'absent'}
    assert diff['after']['state'] == 'present' and diff['after']['template_id'] == 'scim'
    assert diff['after']['schedule_state'] == 'Active' and diff['after']['status_code'] == 'NotRun'


# --- running: credentials, cycles, quarantine -------------------------------------------------------------------------

def test_wait_for_first_cycle_with_working_credentials(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    fast_cycles(emulator)

    run = run_playbook(playbook(
        secret_task('credentials', service_principal_id=sp_id, secrets=SCIM_CREDENTIALS),
        job_task('start and wait', service_principal_id=sp_id, template_id='scim', state='started', validate_credentials=True,
                 wait=True, wait_for='first_cycle', wait_timeout=60),
    ))

    result = ok(run, 'start and wait')
    assert result['actions'] == ['create', 'validate_credentials', 'start']
    status = result['job']['status']
    assert status['code'] == 'Active'
    execution = status['last_execution']
    assert execution['state'] in ('Succeeded', 'EntryLevelErrors')
    assert execution['time_began'] is not None and execution['count_exported'] >= 0
    assert set(execution) == {'activity_identifier', 'count_entitled', 'count_entitled_for_provisioning', 'count_escrowed',
                              'count_escrowed_raw', 'count_exported', 'count_exports', 'count_imported',
                              'count_imported_deltas', 'count_imported_reference_deltas', 'error', 'state',
                              'time_began', 'time_ended'}


def test_quarantine_while_waiting_fails_at_once_with_its_reason(run_playbook, emulator):
    sp_id = new_service_principal(emulator)  # no credentials saved: the first cycle fails
    fast_cycles(emulator)

    run = run_playbook(playbook(
        job_task('start and wait', ignore_errors=True, service_principal_id=sp_id, template_id='scim', state='started',
                 wait=True, wait_for='first_cycle', wait_timeout=120),
    ))

    result = failed(run, 'start and wait')
    assert 'quarantine' in result['msg']
    assert 'EncounteredQuarantineException' in result['msg']
    assert 'SystemForCrossDomainIdentityManagementInvalidCredentials' in result['msg']
    assert result['changed'] is True and result['actions'] == ['create', 'start']
    assert result['job']['status']['code'] == 'Quarantine'
    assert result['job']['status']['quarantine']['reason'] == 'EncounteredQuarantineException'


def test_a_quarantined_job_is_started_again(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    fast_cycles(emulator)
    run = run_playbook(playbook(job_task('start', service_principal_id=sp_id, template_id='scim', state='started')))
    job_id = ok(run, 'start')['job']['id']
    emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs/%s/quarantine' % (sp_id, job_id),
                     {'reason': 'EncounteredEscrowProportionThreshold'})

    task = job_task('start', service_principal_id=sp_id, template_id='scim', state='started')
    preview = ok(run_playbook(playbook(task), check=True), 'start')
    assert preview['actions'] == ['start'] and preview['job']['status']['quarantine'] is None
    result = ok(run_playbook(playbook(task)), 'start')
    assert result['actions'] == ['start']
    assert result['job']['status']['code'] != 'Quarantine' and result['job']['status']['quarantine'] is None


def test_validate_credentials_failure_does_not_start(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    seq = last_seq(emulator)

    run = run_playbook(playbook(
        job_task('start', ignore_errors=True, service_principal_id=sp_id, template_id='scim', state='started',
                 validate_credentials=True),
    ))

    result = failed(run, 'start')
    assert 'validate_credentials' in result['msg'] and 'CredentialValidationUnavailable' in result['msg']
    assert 'not started' in result['msg']
    assert 'Please provide a valid tenant URL' in result['msg']  # Graph's reason, from the error details
    assert result['error']['status'] == 400
    # The job was created before the validation failed: the result says so.
    assert result['changed'] is True and result['actions'] == ['create'] and result['created'] is True
    sent = [(entry['method'], entry['path'].rsplit('/', 1)[-1]) for entry in emulator.writes(seq)]
    assert ('POST', 'start') not in sent
    assert ('POST', 'validateCredentials') in sent

    # The job was created; once credentials work, the same task converges.
    run = run_playbook(playbook(
        secret_task('credentials', service_principal_id=sp_id, secrets=SCIM_CREDENTIALS),
        job_task('start', service_principal_id=sp_id, template_id='scim', state='started', validate_credentials=True),
    ))
    assert ok(run, 'start')['actions'] == ['validate_credentials', 'start']


# --- identity, settings and replication ---------------------------------------------------------------------------------

def test_several_jobs_of_one_template_fail_and_list_their_ids(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    ids = [emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs' % sp_id,
                            {'template_id': 'scim', 'state': 'active'})['id'] for dummy in range(2)]
    seq = last_seq(emulator)

    run = run_playbook(playbook(
        job_task('ambiguous', ignore_errors=True, service_principal_id=sp_id, template_id='scim', state='started'),
        job_task('by id', service_principal_id=sp_id, job_id=ids[1], state='paused'),
    ))

    result = failed(run, 'ambiguous')
    assert sorted(result['job_ids']) == sorted(ids)
    assert all(job_id in result['msg'] for job_id in ids) and 'set job_id' in result['msg']
    assert ok(run, 'by id')['actions'] == ['pause']
    assert [entry['path'].split('/jobs/')[1] for entry in emulator.writes(seq)] == ['%s/pause' % ids[1]]


def test_settings_are_sent_at_creation_and_drift_is_reported_not_hidden(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    job = dict(service_principal_id=sp_id, template_id='scim')

    run = run_playbook(playbook(job_task('create', settings={'QuarantineTooManyDeletesThreshold': 100}, **job)))
    assert ok(run, 'create')['job']['synchronization_job_settings']['QuarantineTooManyDeletesThreshold'] == '100'

    seq = last_seq(emulator)
    run = run_playbook(playbook(job_task('different', settings={'QuarantineTooManyDeletesThreshold': 250}, **job)))
    result = ok(run, 'different')
    assert result['changed'] is False
    assert any('QuarantineTooManyDeletesThreshold' in warning and 'no way to change' in warning
               for warning in result.get('warnings', []))
    assert emulator.writes(seq) == []


def test_a_job_created_under_a_derived_template_is_not_duplicated(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    job = dict(service_principal_id=sp_id, template_id='customappsso')

    first = ok(run_playbook(playbook(job_task('create', **job))), 'create')
    assert first['job']['template_id'] == 'customappssoOutDelta'
    assert any('customappssoOutDelta' in warning for warning in first.get('warnings', []))
    seq = last_seq(emulator)
    second = ok(run_playbook(playbook(job_task('again', **job))), 'again')
    assert second['changed'] is False and second['job']['id'] == first['job']['id']
    assert emulator.writes(seq) == []


def test_replication_delay_of_a_new_job_is_waited_for(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    emulator.set_faults({'replication_delay_seconds': 3})

    run = run_playbook(playbook(job_task('create and start', service_principal_id=sp_id, template_id='scim', state='started')))

    result = ok(run, 'create and start')
    assert result['actions'] == ['create', 'start']
    log = emulator.graph_requests()
    job_reads = [entry for entry in log if entry['method'] == 'GET' and '/jobs/' in entry['path']]
    assert any(entry['status'] == 404 for entry in job_reads), 'the job never answered 404: the test proves nothing'
    start = [entry for entry in log if entry['path'].endswith('/start')]
    assert [entry['status'] for entry in start] == [204]


def test_a_new_application_is_waited_for_and_its_job_managed_by_application_id(run_playbook, emulator):
    """application_from_template, then the job through /applications/{id}: the new objects answer 404 for a while."""
    emulator.set_faults({'replication_delay_seconds': 3})

    application = {'template_id': NON_GALLERY_TEMPLATE, 'display_name': 'Job test app'}
    run = run_playbook(playbook(
        {'name': 'app', 'entra.provisioning.application_from_template': application, 'register': 'app'},
        job_task('job', application_id='{{ app.application.id }}', template_id='scim', state='started'),
        job_task('again', application_id='{{ app.application.id }}', template_id='scim', state='started'),
    ))

    assert ok(run, 'job')['actions'] == ['create', 'start']
    assert ok(run, 'again')['changed'] is False
    job_writes = [entry['path'] for entry in emulator.writes() if '/synchronization/' in entry['path']]
    assert job_writes and all(path.startswith('/v1.0/applications/') for path in job_writes)
    job_reads = [entry for entry in emulator.graph_requests() if entry['method'] == 'GET' and '/synchronization/jobs' in entry['path']]
    assert any(entry['status'] == 404 for entry in job_reads), 'nothing answered 404: the replication wait was not exercised'


def test_an_unknown_service_principal_is_named(run_playbook, emulator):
    emulator.set_faults({})
    run = run_playbook(playbook(job_task('absent', service_principal_id='00000000-0000-0000-0000-00000000dead',
                                         template_id='scim', state='absent')))
    result = ok(run, 'absent')
    assert result['changed'] is False
    assert any('does not exist' in warning for warning in result.get('warnings', []))


# --- speed (the benchmark's smoke run) -----------------------------------------------------------------------------------

def test_benchmark_smoke():
    """The benchmark in tests/benchmarks, with a few tasks: one Graph request per no-change task, one token request."""
    sys.path.insert(0, BENCHMARKS_DIR)
    try:
        import bench_synchronization_job as bench  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.remove(BENCHMARKS_DIR)
    figures = bench.run(tasks=3)
    module = figures['module']
    assert module['failed'] == 0
    assert module['graph_requests'] == 3
    assert module['writes'] == 0
    assert module['token_requests'] <= 1
    assert figures['uri']['graph_requests'] >= 3
