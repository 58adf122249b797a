# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra.provisioning.synchronization_job_info against the Graph emulator: real ansible-playbook runs on a seeded
tenant, with the emulator's request log as the witness of what was sent (and that nothing was written)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import os
import sys

import pytest

from emulator_directory import Directory
from entra_graph_emulator.seeding import JOB_STATES
import playbook_tasks
from playbook_tasks import NON_GALLERY_TEMPLATE, last_seq, playbook

BENCHMARKS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'benchmarks')
MODULE = 'entra.provisioning.synchronization_job_info'

# What each job state the emulator seeds (entra_graph_emulator.simulation.SEED_STATES, emulator/docs/synchronization.md) must be called.
EXPECTED_HEALTH = {
    'not_configured': 'not_configured',       # Disabled / NotConfigured
    'paused_with_credentials': 'disabled',    # Disabled / Paused: credentials saved, never started
    'not_run': 'not_run',                     # Active / NotRun, with the placeholder "Failed" lastExecution
    'active': 'healthy',                      # Active / Active, last cycle Succeeded
    'paused': 'paused',                       # Paused / Paused
    'quarantine': 'quarantined',              # Active / Quarantine
    'failing': 'degraded',                    # Active / Active, last cycle EntryLevelErrors (escrowed objects)
}


# --- helpers ----------------------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def slow_cycles(request):
    """Provisioning cycles of 40 minutes, the emulator's default, so that seeded jobs keep the state they were seeded in.

    The emulator is shared by the session, and tests that do not reset it speed cycles up (PUT /settings cycle_seconds),
    which would let a NotRun job finish its first cycle during the test.
    """
    if 'emulator' in request.fixturenames:
        request.getfixturevalue('emulator').control('PUT', '/settings', {'cycle_seconds': 2400})


def info_task(name='Scan', ignore_errors=False, **options):
    task = {'name': name, MODULE: options}
    if ignore_errors:
        task['ignore_errors'] = True
    return task


def ok(run, name='Scan'):
    """The result of the read-only task ``name``: it succeeded and changed nothing."""
    result = playbook_tasks.ok(run, name)
    assert result['changed'] is False
    return result


def failed(run, name='Scan'):
    return playbook_tasks.failed(run, name)


def seed(emulator, count, with_jobs, **options):
    return emulator.seed(count, with_jobs, return_ids=True, **options)['ids']


def jobs_path_rule(name, sp_id, status, code, message):
    """A fault on the $batch item that reads the jobs of one service principal."""
    return dict(name=name, kind='batch_item', path='/servicePrincipals/%s/synchronization/jobs$' % sp_id, action='error',
                status=status, code=code, message=message)


def job_keys(result):
    return sorted((job['service_principal']['id'], job['id']) for job in result['jobs'] if job['health'] != 'unreadable')


# --- health of every job state ----------------------------------------------------------------------------------------

def test_every_job_state_gets_its_health_and_nothing_is_written(run_playbook, emulator):
    ids = seed(emulator, 2 * len(JOB_STATES) + 6, 2 * len(JOB_STATES))  # seeding cycles the states in JOB_STATES order
    expected = dict((ids[index], EXPECTED_HEALTH[JOB_STATES[index % len(JOB_STATES)]]) for index in range(2 * len(JOB_STATES)))
    since = last_seq(emulator)

    run = run_playbook(playbook(info_task()))
    checked = run_playbook(playbook(info_task()), check=True)

    result = ok(run)
    assert dict((job['service_principal']['id'], job['health']) for job in result['jobs']) == expected
    assert ok(checked)['summary']['by_health'] == result['summary']['by_health']
    assert result['summary']['by_health'] == dict(
        unreadable=0, quarantined=2, not_configured=2, disabled=2, paused=2, not_run=2, failing=0, stale=0, degraded=2,
        healthy=2, unknown=0)
    assert result['summary']['service_principals_scanned'] == 2 * len(JOB_STATES) + 6
    assert result['summary']['service_principals_with_jobs'] == 2 * len(JOB_STATES)
    assert sum(result['summary']['by_template'].values()) == 2 * len(JOB_STATES)
    assert emulator.writes(since) == []
    # One listing page and one $batch per run: 14 + 6 service principals fit in both.
    assert [entry['path'] for entry in emulator.graph_requests(since)] == ['/v1.0/servicePrincipals', '/v1.0/$batch'] * 2


def test_a_job_carries_the_documented_shape_and_a_reason(run_playbook, emulator):
    ids = seed(emulator, len(JOB_STATES), len(JOB_STATES))
    quarantined_sp = ids[JOB_STATES.index('quarantine')]
    healthy_sp = ids[JOB_STATES.index('active')]

    result = ok(run_playbook(playbook(info_task())))

    jobs = dict((job['service_principal']['id'], job) for job in result['jobs'])
    healthy = jobs[healthy_sp]
    assert set(healthy) == {'id', 'template_id', 'schedule', 'status', 'synchronization_job_settings', 'service_principal',
                            'health', 'health_reason', 'health_advice'}
    assert healthy['id'].startswith(healthy['template_id'] + '.')
    assert set(healthy['service_principal']) == {'id', 'app_id', 'display_name'}
    for record in ('last_execution', 'last_successful_execution', 'last_successful_execution_with_exports'):
        assert set(healthy['status'][record]) == {
            'activity_identifier', 'count_entitled', 'count_entitled_for_provisioning', 'count_escrowed', 'count_escrowed_raw',
            'count_exported', 'count_exports', 'count_imported', 'count_imported_deltas', 'count_imported_reference_deltas',
            'error', 'state', 'time_began', 'time_ended'}
    assert healthy['health_reason'].startswith('Running; the last cycle succeeded at ')
    quarantined = jobs[quarantined_sp]
    assert quarantined['status']['quarantine']['reason'] == 'EncounteredQuarantineException'
    assert quarantined['health_reason'].startswith('Quarantined since ')
    assert quarantined['status']['quarantine']['error']['code'] in quarantined['health_reason']


# --- scale: paging, 404 and 403 inside the scan, throttling --------------------------------------------------------------

def test_a_scan_pages_through_several_listing_pages_and_finds_every_job(run_playbook, emulator):
    # 2,020 service principals: three listing pages of up to 999, with jobs on each page.
    expected = set()
    for count, with_jobs in ((10, 3), (1000, 0), (10, 3), (990, 0), (10, 3)):
        expected.update(seed(emulator, count, with_jobs)[:with_jobs])
    since = last_seq(emulator)

    result = ok(run_playbook(playbook(info_task())))

    assert set(job['service_principal']['id'] for job in result['jobs']) == expected
    assert result['summary']['service_principals_scanned'] == 2020
    requests = emulator.graph_requests(since)
    listing = [entry for entry in requests if entry['path'] == '/v1.0/servicePrincipals']
    assert len(listing) == 3
    assert all('$skiptoken' in entry['query'] for entry in listing[1:])
    assert sum(1 for entry in requests if entry['kind'] == 'batch') == math.ceil(2020 / 20.0)
    assert result['summary']['graph_requests'] == len(requests)


def test_a_service_principal_deleted_during_the_scan_is_skipped_with_a_warning(run_playbook, emulator):
    ids = seed(emulator, 30, 6)
    deleted = ids[2]
    emulator.set_faults({'rules': [jobs_path_rule('deleted', deleted, 404, 'Request_ResourceNotFound',
                                                  "Resource '%s' does not exist or one of its queried reference-property objects are not "
                                                  "present." % deleted)]})

    run = run_playbook(playbook(info_task()))

    result = ok(run)
    assert deleted not in [job['service_principal']['id'] for job in result['jobs']]
    assert len(result['jobs']) == 5
    assert result['summary']['service_principals_skipped'] == 1
    assert any(deleted in warning and 'deleted while the scan ran' in warning for warning in result['warnings'])


def test_a_forbidden_service_principal_is_reported_in_jobs_not_fatal(run_playbook, emulator):
    ids = seed(emulator, 30, 6)
    forbidden = ids[25]  # one without jobs: it must still appear, as unreadable
    emulator.set_faults({'rules': [jobs_path_rule('forbidden', forbidden, 403, 'Authorization_RequestDenied',
                                                  'Insufficient privileges to complete the operation.')]})

    result = ok(run_playbook(playbook(info_task())))

    unreadable = [job for job in result['jobs'] if job['health'] == 'unreadable']
    assert len(unreadable) == 1 and unreadable[0]['service_principal']['id'] == forbidden
    assert unreadable[0]['error']['status'] == 403
    assert unreadable[0]['error']['code'] == 'Authorization_RequestDenied'
    assert 'Synchronization.Read.All' in unreadable[0]['health_reason']
    assert result['summary']['jobs'] == 6
    assert result['summary']['service_principals_unreadable'] == 1
    assert any(forbidden in warning for warning in result['warnings'])


def test_without_the_permission_to_read_jobs_the_task_fails_and_names_it(run_playbook, emulator):
    seed(emulator, 5, 2)
    emulator.register_app(client_id='6f1d1b3e-0000-4000-8000-00000000aaaa', client_secret='directory-reader-secret',
                          roles=['Application.Read.All'])

    run = run_playbook(playbook(info_task(ignore_errors=True)), env={'AZURE_CLIENT_ID': '6f1d1b3e-0000-4000-8000-00000000aaaa',
                                                                     'AZURE_CLIENT_SECRET': 'directory-reader-secret'})

    result = failed(run)
    assert 'HTTP 403' in result['msg']
    assert 'Synchronization.Read.All' in result['msg']


def test_read_only_permissions_are_enough(run_playbook, emulator):
    seed(emulator, 12, 4)
    emulator.register_app(client_id='6f1d1b3e-0000-4000-8000-00000000bbbb', client_secret='report-reader-secret',
                          roles=['Application.Read.All', 'Synchronization.Read.All'])

    run = run_playbook(playbook(info_task(include_templates=True, include_schema=True)),
                       env={'AZURE_CLIENT_ID': '6f1d1b3e-0000-4000-8000-00000000bbbb', 'AZURE_CLIENT_SECRET': 'report-reader-secret'})

    result = ok(run)
    assert result['summary']['jobs'] == 4
    assert all(job['schema'] for job in result['jobs'])


def test_results_are_complete_under_throttling(run_playbook, emulator):
    seed(emulator, 300, 40)
    reference = ok(run_playbook(playbook(info_task())))
    emulator.set_faults({'seed': 3, 'rules': [dict(action='throttle', probability=0.2, retry_after=0.2)]})
    since = last_seq(emulator)

    result = ok(run_playbook(playbook(info_task(batch_concurrency=8))))

    throttled = [entry for entry in emulator.requests_log(since) if entry['status'] == 429]
    assert throttled, 'the fault did not fire'
    assert job_keys(result) == job_keys(reference) and len(job_keys(result)) == 40
    scan_warnings = [warning for warning in result.get('warnings', []) if 'reads of this $batch scan' in warning]
    assert len(scan_warnings) == 1, result.get('warnings')


# --- scopes and extras ------------------------------------------------------------------------------------------------

def test_one_service_principal_with_its_templates_and_job_schemas(run_playbook, emulator):
    with_job, without_job = seed(emulator, 2, 1, application_template_id=NON_GALLERY_TEMPLATE)
    since = last_seq(emulator)

    run = run_playbook(playbook(
        info_task('With a job', service_principal_id=with_job, include_templates=True, include_schema=True),
        info_task('Without a job', service_principal_id=without_job, include_templates=True),
    ))

    result = ok(run, 'With a job')
    assert [job['service_principal']['id'] for job in result['jobs']] == [with_job]
    assert result['jobs'][0]['schema']['synchronization_rules']
    assert result['jobs'][0]['schema']['directories']
    templates = result['service_principals'][0]['synchronization_templates']
    assert [template['id'] for template in templates if template['default']] == ['scim']
    assert all('schema' not in template for template in templates)
    empty = ok(run, 'Without a job')
    assert empty['jobs'] == []
    assert [item['id'] for item in empty['service_principals']] == [without_job]
    assert 'scim' in [template['id'] for template in empty['service_principals'][0]['synchronization_templates']]
    assert emulator.writes(since) == []


def test_a_service_principal_is_found_from_its_application(run_playbook, emulator):
    sp_id = seed(emulator, 3, 3)[1]
    directory = Directory(emulator)
    app_id = directory.get('/servicePrincipals/%s' % sp_id)['appId']
    application_id = directory.get('/applications', {'$filter': "appId eq '%s'" % app_id})['value'][0]['id']

    result = ok(run_playbook(playbook(info_task(application_id=application_id))))

    assert [job['service_principal']['id'] for job in result['jobs']] == [sp_id]
    assert result['jobs'][0]['service_principal']['app_id'] == app_id


def test_filters(run_playbook, emulator):
    ids = seed(emulator, 10, 10)
    directory = Directory(emulator)
    first_job = directory.jobs(ids[0])[0]
    named = directory.get('/servicePrincipals/%s' % ids[4])['displayName']

    run = run_playbook(playbook(
        info_task('By job id', job_id=first_job['id'].upper()),
        info_task('By template', template_id=first_job['templateId'].lower()),
        info_task('By name', service_principal_filter="displayName eq '%s'" % named),
        info_task('Bad filter', ignore_errors=True, service_principal_filter='endswith(displayName, \'x\')'),
    ))

    assert [job['id'] for job in ok(run, 'By job id')['jobs']] == [first_job['id']]
    by_template = ok(run, 'By template')
    assert by_template['jobs'] and all(job['template_id'] == first_job['templateId'] for job in by_template['jobs'])
    assert by_template['summary']['by_template'] == {first_job['templateId']: len(by_template['jobs'])}
    by_name = ok(run, 'By name')
    assert [job['service_principal']['id'] for job in by_name['jobs']] == [ids[4]]
    assert by_name['summary']['service_principals_scanned'] == 1
    assert failed(run, 'Bad filter')['msg'].startswith('service_principal_filter was refused by Graph')


# --- bad input, secrets -----------------------------------------------------------------------------------------------

def test_bad_input_fails_before_any_request(run_playbook, emulator):
    since = last_seq(emulator)

    run = run_playbook(playbook(
        info_task('An app id as a name', ignore_errors=True, service_principal_id='Contoso HR SCIM'),
        info_task('Two scopes', ignore_errors=True, service_principal_id='5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f',
                  application_id='0c6b6d3a-8a1f-4c55-9d0f-2a3b4c5d6e7f'),
        info_task('Too many batches', ignore_errors=True, batch_concurrency=50),
    ))

    assert failed(run, 'An app id as a name')['msg'].startswith("service_principal_id: 'Contoso HR SCIM' is not a GUID")
    assert 'mutually exclusive' in failed(run, 'Two scopes')['msg']
    assert failed(run, 'Too many batches')['msg'].startswith('batch_concurrency must be between 1 and 20')
    assert emulator.requests_log(since) == []


def test_an_unknown_service_principal_fails_with_the_fix(run_playbook, emulator):
    run = run_playbook(playbook(info_task(ignore_errors=True, service_principal_id='5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f')))

    assert 'not its application (client) ID' in failed(run)['msg']


def test_no_secret_or_token_in_verbose_output(run_playbook, emulator):
    seed(emulator, 20, 7)
    info = emulator.info

    run = run_playbook(playbook(info_task(client_secret=info['client_secret'], include_templates=True)), verbosity=4,
                       env={'AZURE_CLIENT_SECRET': ''})

    ok(run)
    assert info['client_secret'] not in run.output
    assert 'seeded-secret-token' not in run.output  # the provisioning credentials the emulator seeded on the jobs
    assert 'eyJ' not in run.output  # no access token (a JWT)
    assert 'Bearer' not in run.output


# --- the benchmark, small ---------------------------------------------------------------------------------------------

def test_benchmark_smoke():
    sys.path.insert(0, BENCHMARKS_DIR)
    try:
        import bench_tenant_scan  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.remove(BENCHMARKS_DIR)

    figures = bench_tenant_scan.run(bench_tenant_scan.SMOKE, progress=lambda text: None)

    report = bench_tenant_scan.report(figures)
    for scenario in figures['scenarios'].values():
        assert scenario['missing_module'] == 0, report
        assert scenario['module']['jobs'] == bench_tenant_scan.SMOKE['with_jobs'], report
        assert scenario['module']['http_requests'] < scenario['baseline']['http_requests'] / 5.0, report
        assert scenario['module']['writes'] == 0, report
    # Durations and memory peaks are figures for the benchmark to print, not assertions: the test counts.
    scan = figures['memory']['scan']['summary']
    assert scan['service_principals_scanned'] == figures['memory']['service_principals'], report
    assert scan['service_principals_with_jobs'] == bench_tenant_scan.SMOKE['memory_with_jobs'], report
    print(report)
