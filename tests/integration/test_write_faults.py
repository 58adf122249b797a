# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One fault on a write (issue 9, defects 2 and 4): a 503, a dropped connection or an answer later than the client's
timeout on POST .../jobs, .../start, .../validateCredentials or instantiate. The module re-reads, sends the call again
only when Graph did not process it, and converges in the same run; the emulator's request log shows what was sent."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools

import pytest

from emulator_directory import Directory
from playbook_tasks import NON_GALLERY_TEMPLATE, new_service_principal, playbook, task

SCIM_CREDENTIALS = {'BaseAddress': 'https://scim.contoso.test/v2', 'SecretToken': 'write-faults-token-51c2'}

job_task = functools.partial(task, 'entra.provisioning.synchronization_job')
secret_task = functools.partial(task, 'entra.provisioning.synchronization_secret')
app_task = functools.partial(task, 'entra.provisioning.application_from_template')

JOBS = r'/synchronization/jobs$'
START = r'/synchronization/jobs/[^/]+/start$'
VALIDATE = r'/synchronization/jobs/[^/]+/validateCredentials$'
INSTANTIATE = r'/instantiate$'


def once(action, path, **extra):
    """A fault rule that fires on the first POST matching ``path``."""
    return dict(dict(name='once', action=action, method='POST', path=path, count=1), **extra)


def sent(emulator, ending):
    """The writes of the log whose path ends with ``ending``, as (method, status)."""
    return [(entry['method'], entry['status']) for entry in emulator.writes() if entry['path'].endswith(ending)]


def graph_jobs(emulator, sp_id):
    emulator.set_faults({})
    return Directory(emulator).jobs(sp_id)


def started_job(run, emulator, sp_id):
    entry = run.result('job')
    assert entry['status'] == 'changed', '%s\n%s' % (entry, run.output[-4000:])
    jobs = graph_jobs(emulator, sp_id)
    assert len(jobs) == 1, jobs
    assert jobs[0]['schedule']['state'] == 'Active'
    assert entry['result']['job']['id'] == jobs[0]['id']
    return entry['result']


@pytest.mark.parametrize('action', ['unavailable', 'drop'])
@pytest.mark.parametrize('target, ending', [(JOBS, '/jobs'), (START, '/start'), (VALIDATE, '/validateCredentials')],
                         ids=['create', 'start', 'validateCredentials'])
def test_one_fault_on_a_job_write_is_recovered_in_the_same_run(action, target, ending, run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    emulator.set_faults({'rules': [once(action, target)]})
    emulator.clear_log()

    run = run_playbook(playbook(
        secret_task('credentials', service_principal_id=sp_id, secrets=SCIM_CREDENTIALS),
        job_task('job', service_principal_id=sp_id, template_id='scim', state='started', validate_credentials=True),
    ))

    result = started_job(run, emulator, sp_id)
    assert result['actions'] == ['create', 'validate_credentials', 'start']
    # The faulted call was sent again once (a re-read showed it not processed), every other write once.
    assert sent(emulator, ending) == [('POST', 0 if action == 'drop' else 503), ('POST', 201 if ending == '/jobs' else 204)]
    others = [ending_ for ending_ in ('/jobs', '/start', '/validateCredentials') if ending_ != ending]
    for other in others:
        assert len(sent(emulator, other)) == 1, emulator.writes()


def test_a_start_processed_but_answered_late_is_not_sent_again(run_playbook, emulator):
    # The start is processed, its answer comes after the client's timeout: the job runs, and a second start would
    # reach a running job (docs/graph-behaviour.md §3.3).
    sp_id = new_service_principal(emulator)
    emulator.set_faults({'rules': [once('slow', START, delay_ms=2500)]})
    emulator.clear_log()

    run = run_playbook(playbook(
        job_task('job', service_principal_id=sp_id, template_id='scim', state='started', timeout=1),
    ))

    started_job(run, emulator, sp_id)
    assert sent(emulator, '/start') == [('POST', 204)]
    assert any('had processed it' in warning for warning in run.result('job')['result'].get('warnings', []))


def test_a_job_create_processed_but_answered_late_is_adopted_after_replication(run_playbook, emulator):
    # The job exists but is unlisted for 2 s (replication): the module lists again before concluding, and adopts it.
    sp_id = new_service_principal(emulator)
    emulator.set_faults({'replication_delay_seconds': 2, 'rules': [once('slow', JOBS, delay_ms=2500)]})
    emulator.clear_log()

    run = run_playbook(playbook(
        job_task('job', service_principal_id=sp_id, template_id='scim', state='started', timeout=1),
    ))

    started_job(run, emulator, sp_id)
    assert sent(emulator, '/jobs') == [('POST', 201)]
    assert len(sent(emulator, '/start')) == 1
    # Found after its create's answer was lost, the job cannot be told from another run's: not reported as created.
    assert run.result('job')['result']['created'] is False


def test_an_instantiate_refused_by_a_503_is_sent_again_after_the_replication_window_not_the_whole_wait(run_playbook, emulator):
    name = 'Write faults instantiate 503'
    emulator.set_faults({'replication_delay_seconds': 1, 'rules': [once('unavailable', INSTANTIATE)]})
    emulator.clear_log()

    run = run_playbook(playbook(app_task('app', template_id=NON_GALLERY_TEMPLATE, display_name=name, wait_timeout=300)))

    entry = run.result('app')
    assert entry['status'] == 'changed', '%s\n%s' % (entry, run.output[-4000:])
    log = emulator.graph_requests()
    instantiates = [index for index, item in enumerate(log) if item['path'].endswith('/instantiate')]
    assert [log[index]['status'] for index in instantiates] == [503, 201]
    # Between the two, the application was looked for only as long as replication explains its absence
    # (CONFIRM_WINDOW, 15 s at 0.5-2 s intervals), not for wait_timeout (300 s at up to 10 s: about 33 reads).
    looks = [item for item in log[instantiates[0]:instantiates[1]] if item['method'] == 'GET' and item['path'].endswith('/applications')]
    assert 1 <= len(looks) <= 12, len(looks)
    emulator.set_faults({})
    assert len(Directory(emulator).applications(name)) == 1
