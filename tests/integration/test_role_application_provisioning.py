# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role entra.provisioning.application_provisioning and examples/provision_scim_app.yml against the Graph emulator.

The scenario of issue 5: fresh provisioning; a second run sends no write; check mode on an empty tenant sends no
write; a run killed (SIGKILL, the whole process group) right after each of its writes converges when run again to
exactly one application, one service principal and one job; replication-delay and instantiate-error faults; teardown
in order. The closing note of the issue quotes the requests these tests print with -s.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import subprocess
import time

import pytest

from emulator_directory import graph_requests, graph_writes, strip_version
from role_scenario import EXAMPLE, KEEP, NAME, ROLE_PLAYBOOK, SCIM_TOKEN, kill_tree


def role_result(run):
    return run.result(KEEP)['result']['application_provisioning_result']


def changed_tasks(run):
    return [entry['task'] for entry in run.results if entry['status'] == 'changed']


def assert_one_of_each(tenant):
    applications, sps, jobs = tenant.census(NAME)
    assert len(applications) == 1, applications
    assert len(sps) == 1, sps
    assert len(jobs) == 1, jobs
    assert sps[0]['appId'] == applications[0]['appId']
    return applications[0], sps[0], jobs[0]


def test_fresh_provisioning_then_a_second_run_sends_no_write(provision, fresh_emulator, tenant):
    first = provision()
    assert first.rc == 0, first
    first_log = fresh_emulator.requests_log()
    result = role_result(first)
    assert result['changed'] is True
    assert result['actions']['application'] == ['instantiate']
    assert result['actions']['credentials'] == ['add BaseAddress', 'add SecretToken', 'add SyncNotificationSettings']
    assert result['actions']['job'] == ['create', 'validate_credentials', 'start']
    job = result['job']
    assert result['health'] == 'healthy'
    assert job['schedule']['state'] == 'Active' and job['status']['code'] == 'Active'
    first_cycle = job['status']['last_execution']
    assert first_cycle['state'] == 'Succeeded' and first_cycle['count_exported'] > 0
    application, sp, graph_job = assert_one_of_each(tenant)
    assert result['application']['id'] == application['id'] and result['service_principal']['id'] == sp['id']
    assert job['id'] == graph_job['id']

    first_writes = graph_writes(first_log)
    sp_path = '/servicePrincipals/%s/synchronization' % sp['id']
    assert first_writes == [
        'POST /applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/instantiate',
        'PUT %s/secrets' % sp_path,
        'POST %s/jobs' % sp_path,
        'POST %s/jobs/%s/validateCredentials' % (sp_path, job['id']),
        'POST %s/jobs/%s/start' % (sp_path, job['id']),
    ]
    print('\nRequests of the first run:\n  ' + '\n  '.join(graph_requests(first_log)))

    fresh_emulator.clear_log()
    second = provision()
    assert second.rc == 0, second
    assert changed_tasks(second) == []
    again = role_result(second)
    assert again['changed'] is False
    assert again['actions'] == dict(application=[], credentials=[], job=[], schema=[])
    assert again['job']['id'] == job['id'] and again['application'] == result['application']
    log = fresh_emulator.requests_log()
    assert graph_writes(log) == []
    print('Requests of the second run:\n  ' + '\n  '.join(graph_requests(log)))
    assert_one_of_each(tenant)


def test_check_mode_on_an_empty_tenant_reports_the_plan_and_sends_no_write(provision, fresh_emulator, tenant):
    run = provision(check=True, diff=True)
    assert run.rc == 0, run
    result = role_result(run)
    assert result['changed'] is True
    # The modules plan for the service principal not created yet: the keys to add, the job to create and start.
    assert result['actions'] == dict(application=['instantiate'],
                                     credentials=['add BaseAddress', 'add SecretToken', 'add SyncNotificationSettings'],
                                     job=['create', 'validate_credentials', 'start'], schema=[])
    assert result['application']['id'] is None
    assert result['job']['id'] is None and result['job']['schedule']['state'] == 'Active'
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert tenant.census(NAME) == ([], [], [])


def test_check_mode_after_provisioning_changes_nothing(provision, fresh_emulator, tenant):
    assert provision().rc == 0
    fresh_emulator.clear_log()
    run = provision(check=True)
    assert run.rc == 0, run
    assert changed_tasks(run) == []
    assert graph_writes(fresh_emulator.requests_log()) == []


# The writes of a first run, in order; the run is killed as soon as the emulator has answered the named one.
# New objects answer 404 (and are not listed) for REPLICATION seconds. The re-run starts at once, while the killed
# run's new application is still replicating: application_from_template must then keep one application. After a kill
# at job creation the re-run waits for the job to replicate: re-running at once during that window is the case of
# test_rerun_while_the_killed_runs_job_replicates (synchronization_job must then keep one job).
REPLICATION = 2
KILL_POINTS = [
    ('instantiate', re.compile(r'^POST /applicationTemplates/[^/]+/instantiate$'), 0),
    ('secrets', re.compile(r'^PUT /servicePrincipals/[^/]+/synchronization/secrets$'), 0),
    ('job_create', re.compile(r'^POST /servicePrincipals/[^/]+/synchronization/jobs$'), REPLICATION + 0.5),
    ('validate', re.compile(r'^POST /servicePrincipals/[^/]+/synchronization/jobs/[^/]+/validateCredentials$'), 0),
    ('start', re.compile(r'^POST /servicePrincipals/[^/]+/synchronization/jobs/[^/]+/start$'), 0),
]


def run_until_write_then_kill(run_playbook, emulator, pattern, timeout=120):
    """Start the role's playbook and SIGKILL it with its workers once the emulator logged a matching write."""
    emulator.clear_log()
    path = run_playbook.write_playbook(ROLE_PLAYBOOK)
    environment = run_playbook.environment(dict(SCIM_TOKEN=SCIM_TOKEN))
    # pylint: disable-next=consider-using-with
    process = subprocess.Popen(run_playbook.command(path), env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if any(pattern.match(write) for write in graph_writes(emulator.requests_log())):
                kill_tree(process)
                return True
            if process.poll() is not None:
                return False
            time.sleep(0.05)
        return False
    finally:
        if process.poll() is None:
            kill_tree(process)


@pytest.mark.parametrize('point, pattern, rerun_after', KILL_POINTS, ids=[point[0] for point in KILL_POINTS])
def test_a_run_killed_after_a_write_converges_when_run_again(point, pattern, rerun_after, provision, run_playbook,
                                                             fresh_emulator, tenant):
    fresh_emulator.set_faults({'replication_delay_seconds': REPLICATION})
    assert run_until_write_then_kill(run_playbook, fresh_emulator, pattern), 'the run never sent the %s write' % point
    time.sleep(rerun_after)

    rerun = provision()
    assert rerun.rc == 0, rerun
    application, sp, job = assert_one_of_each(tenant)
    result = role_result(rerun)
    assert result['service_principal']['id'] == sp['id'] and result['job']['id'] == job['id']
    assert result['job']['schedule']['state'] == 'Active' and result['health'] == 'healthy'

    fresh_emulator.clear_log()
    settled = provision()
    assert settled.rc == 0 and changed_tasks(settled) == []
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert tenant.census(NAME)[0] == [application]


def test_rerun_while_the_killed_runs_job_replicates(provision, run_playbook, fresh_emulator, tenant):
    # An application and service principal that replicated long ago, without a job; new jobs stay unlisted for 10 s,
    # longer than the re-run needs to reach its job lookup.
    assert provision().rc == 0
    dummy, sp, job = assert_one_of_each(tenant)
    tenant.delete_job(sp['id'], job['id'])
    fresh_emulator.set_faults({'replication_delay_seconds': 10})
    fresh_emulator.advance_clock(60)  # the application and service principal are old: only the new job replicates
    job_create = KILL_POINTS[2][1]
    assert run_until_write_then_kill(run_playbook, fresh_emulator, job_create)
    fresh_emulator.clear_log()

    rerun = provision()

    assert rerun.rc == 0, rerun
    writes = graph_writes(fresh_emulator.requests_log())
    dummy, dummy, kept = assert_one_of_each(tenant)
    jobs_path = '/servicePrincipals/%s/synchronization/jobs' % sp['id']
    assert 'POST %s' % jobs_path in writes, 'the re-run saw the killed run\'s job: the test proves nothing'
    # The re-run deleted the job it created (its only DELETE), kept the killed run's job, and started that one.
    deleted = [write.rsplit('/', 1)[1] for write in writes if write.startswith('DELETE %s/' % jobs_path)]
    assert len(deleted) == 1 and deleted[0] != kept['id'], writes
    assert writes == ['POST %s' % jobs_path, 'DELETE %s/%s' % (jobs_path, deleted[0]),
                      'POST %s/%s/validateCredentials' % (jobs_path, kept['id']), 'POST %s/%s/start' % (jobs_path, kept['id'])]
    assert role_result(rerun)['job']['id'] == kept['id']
    job_task_name = 'Create the provisioning job, validate the credentials, start it and wait'
    job_task = [entry for entry in rerun.results if entry['task'].endswith(job_task_name)][-1]
    warnings = job_task['result'].get('warnings', [])
    assert any(kept['id'] in warning and deleted[0] in warning for warning in warnings), warnings


def test_replication_delay_and_instantiate_error_faults(provision, fresh_emulator, tenant):
    fresh_emulator.set_faults({'replication_delay_seconds': 3, 'instantiate_error_after_create': 1,
                               'instantiate_error_status': 504})
    run = provision()
    assert run.rc == 0, run
    assert_one_of_each(tenant)
    writes = graph_writes(fresh_emulator.requests_log())
    assert sum(1 for write in writes if write.endswith('/instantiate')) == 1
    assert role_result(run)['health'] == 'healthy'


def test_teardown_pauses_deletes_the_job_then_the_application(provision, fresh_emulator, tenant):
    assert provision().rc == 0
    application, sp, job = assert_one_of_each(tenant)

    fresh_emulator.clear_log()
    preview = provision(state='absent', check=True)
    assert preview.rc == 0, preview
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert_one_of_each(tenant)

    removed = provision(state='absent')
    assert removed.rc == 0, removed
    jobs_path = '/servicePrincipals/%s/synchronization/jobs/%s' % (sp['id'], job['id'])
    assert graph_writes(fresh_emulator.requests_log()) == [
        'POST %s/pause' % jobs_path,
        'DELETE %s' % jobs_path,
        'DELETE /applications/%s' % application['id'],
    ]
    result = role_result(removed)
    assert result['state'] == 'absent' and result['changed'] is True
    assert tenant.census(NAME) == ([], [], [])

    fresh_emulator.clear_log()
    again = provision(state='absent')
    assert again.rc == 0 and changed_tasks(again) == []
    assert graph_writes(fresh_emulator.requests_log()) == []


def test_secrets_never_appear_in_the_output_even_at_vvvv(provision, fresh_emulator, tenant):
    client_secret = fresh_emulator.connection_env()['AZURE_CLIENT_SECRET']
    run = provision(verbosity=4, diff=True)
    assert run.rc == 0, run
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in run.output or '********' in run.output
    for secret in (SCIM_TOKEN, client_secret):
        assert secret not in run.output
    # The non-secret key names and the base address are reported; the token is not.
    assert 'SecretToken' in run.output


def test_example_playbook(run_playbook, fresh_emulator, tenant):
    run = run_playbook(EXAMPLE, extra_vars=dict(scim_app_display_name=NAME, scim_wait_timeout=120),
                       env=dict(SCIM_TOKEN=SCIM_TOKEN))
    assert run.rc == 0, run
    shown = run.result("Show the job's first (on later runs, latest) cycle and its counts")['result']['msg']
    assert shown['health'] == 'healthy'
    assert shown['last_cycle']['state'] == 'Succeeded' and shown['last_cycle']['exported'] > 0
    assert shown['synchronized_objects']
    assert_one_of_each(tenant)
    assert SCIM_TOKEN not in run.output


MAPPINGS_PLAYBOOK = ROLE_PLAYBOOK.replace('      application_provisioning_wait_timeout: 120\n', '''      application_provisioning_wait_timeout: 120
      application_provisioning_object_mappings:
        - source_object: User
          target_object: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
          attribute_mappings:
            - target: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber
              expression: ToUpper([employeeId])
              tests:
                - input: {employeeId: e-7}
                  expect: E-7
          scoping_filter:
            - - {attribute: department, operator: EQUALS, values: [Sales]}
''')


def test_object_mappings_are_applied_before_the_job_starts_and_not_again(provision, fresh_emulator, tenant):
    run = provision(playbook=MAPPINGS_PLAYBOOK)
    assert run.rc == 0, run.output[-3000:]
    result = role_result(run)
    assert result['actions']['job'] == ['create', 'validate_credentials', 'start']
    assert sorted(result['actions']['schema']) == [
        'added scoping filter', 'changed urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber']
    dummy, sp, job = assert_one_of_each(tenant)
    writes = [write for write in graph_writes(fresh_emulator.requests_log()) if not write.endswith('/parseExpression')]
    jobs = '/servicePrincipals/%s/synchronization/jobs' % sp['id']
    assert writes[-4:] == ['POST %s' % jobs, 'PUT %s/%s/schema' % (jobs, job['id']),
                           'POST %s/%s/validateCredentials' % (jobs, job['id']), 'POST %s/%s/start' % (jobs, job['id'])]
    # The run created the job, so it starts it by its id at once: it does not list the jobs again and again, leaving
    # time to another run that might have created it (synchronization_job's created).
    log = [(entry['method'], strip_version(entry['path'])) for entry in fresh_emulator.graph_requests()]
    between = log[log.index(('PUT', '%s/%s/schema' % (jobs, job['id']))):log.index(('POST', '%s/%s/start' % (jobs, job['id'])))]
    assert between.count(('GET', jobs)) <= 1, between

    fresh_emulator.clear_log()
    again = provision(playbook=MAPPINGS_PLAYBOOK)
    assert again.rc == 0, again
    assert role_result(again)['changed'] is False and role_result(again)['actions']['schema'] == []
    assert [write for write in graph_writes(fresh_emulator.requests_log()) if not write.endswith('/parseExpression')] == []


def test_bad_object_mappings_fail_the_input_check_before_any_write(provision, fresh_emulator, tenant):
    bad = MAPPINGS_PLAYBOOK.replace('operator: EQUALS', 'operator: LIKE')
    run = provision(playbook=bad)
    assert run.rc != 0
    assert 'Input check failed for application_provisioning_object_mappings' in run.output, run.output[-3000:]
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert tenant.census(NAME) == ([], [], [])
