# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several runs of the role application_provisioning on the same application at once (issue 9, defect 1).

Two settings of concurrency, each with two and four runs:

- ``playbooks``: separate ``ansible-playbook`` processes, released together by a barrier (a first task that waits
  for a file the test creates once every run has reached it), so that their first lookups all find nothing;
- ``hosts``: one play over an inventory of several hosts with ``ansible_connection: local``, the way AWX users run a
  play for many hosts against one tenant; Ansible runs each task for all hosts at once.

Each with Graph latency (``latency_ms``) and with a replication delay (``replication_delay_seconds``: new objects are
neither readable nor listed for that long). After each trial the tenant must hold exactly one application, one service
principal and one job, running; every run must succeed and report those objects; and the request log must show
exactly one ``start``, sent to a job that was not running (the job's state at each start is followed through the log
in order: a successful start or restart makes it running, a pause stops it).

Trials per setting: ``ENTRA_CONCURRENCY_TRIALS`` (default 1, for CI); the issue's proof is
``ENTRA_CONCURRENCY_TRIALS=20 pytest tests/integration/test_concurrency.py -s``, which prints a line per setting.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess
import sys
import time

import pytest

from emulator_directory import Directory, strip_version

NAME = 'Contoso Concurrent SCIM'
SCIM_TOKEN = 'scim-bearer-concurrency-do-not-print'
TRIALS = int(os.environ.get('ENTRA_CONCURRENCY_TRIALS', '1'))
FAULTS = {
    'latency': {'latency_ms': 150},
    # Short enough for CI, long enough that every run creates its own copy before any copy is listed.
    'replication': {'replication_delay_seconds': 2, 'latency_ms': 20},
}
# Released together, the runs must all pass the barrier within this time, else the trial is not concurrent.
BARRIER_TIMEOUT = 120
KEEP = 'Keep the result'
# Role variables of a run that also changes the job's attribute mappings before its first start.
MAPPINGS = {'application_provisioning_object_mappings': [{
    'source_object': 'User', 'target_object': 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    'attribute_mappings': [{'target': 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
                            'expression': 'ToUpper([employeeId])'}]}]}

# The first task of each separate playbook: announce readiness, then wait for the test's go file (5 ms polling).
BARRIER_SCRIPT = '''
import os, sys, time
folder, name = sys.argv[1], sys.argv[2]
open(os.path.join(folder, name + '.ready'), 'w').close()
deadline = time.time() + %d
while not os.path.exists(os.path.join(folder, 'go')):
    if time.time() > deadline:
        sys.exit('barrier: no go file')
    time.sleep(0.005)
''' % BARRIER_TIMEOUT


def role_play(hosts, barrier, role_vars=None):
    """The role with the options of a user who provisions a SCIM application; waits until the job is started."""
    pre_tasks = []
    if barrier:
        pre_tasks.append({'name': 'Barrier', 'changed_when': False, 'ansible.builtin.command': {
            'argv': [sys.executable, '-c', BARRIER_SCRIPT, '{{ barrier_folder }}', '{{ run_name }}']}})
    return json.dumps([{
        'hosts': hosts,
        'gather_facts': False,
        'pre_tasks': pre_tasks,
        'roles': [{
            'role': 'entra.provisioning.application_provisioning',
            'application_provisioning_display_name': NAME,
            'application_provisioning_secrets': {'BaseAddress': 'https://scim.contoso.example/scim/v2',
                                                 'SecretToken': "{{ lookup('ansible.builtin.env', 'SCIM_TOKEN') }}"},
            'application_provisioning_wait_for': 'started',
            'application_provisioning_wait_timeout': 120,
            'application_provisioning_replication_timeout': 60,
            **(role_vars or {}),
        }],
        'post_tasks': [{'name': KEEP, 'ansible.builtin.debug': {'var': 'application_provisioning_result'}}],
    }])


def read_results(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def start_processes(run_playbook, count, folder, role_vars=None):
    """``count`` separate ansible-playbook runs of the role; returns ``[(name, process, results path)]``."""
    playbook = run_playbook.write_playbook(role_play('localhost', barrier=True, role_vars=role_vars))
    started = []
    for index in range(count):
        name = 'run%d' % (index + 1)
        environment = run_playbook.environment(dict(SCIM_TOKEN=SCIM_TOKEN))
        environment['RESULT_RECORDER_FILE'] = os.path.join(folder, name + '.jsonl')
        command = run_playbook.command(playbook, extra_vars=dict(barrier_folder=folder, run_name=name))
        log = open(os.path.join(folder, name + '.log'), 'w')  # pylint: disable=consider-using-with
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
        started.append((name, process, environment['RESULT_RECORDER_FILE'], log))
    deadline = time.monotonic() + BARRIER_TIMEOUT
    while sum(1 for entry in os.listdir(folder) if entry.endswith('.ready')) < count:
        assert time.monotonic() < deadline, 'the runs did not all reach the barrier'
        assert all(process.poll() is None for dummy, process, dummy, dummy in started), 'a run ended before the barrier'
        time.sleep(0.02)
    open(os.path.join(folder, 'go'), 'w').close()
    return started


def run_as_processes(run_playbook, count, folder, role_vars=None):
    """``{run name: (rc, results, output)}`` of ``count`` separate playbooks released together."""
    outcomes = {}
    for name, process, results_path, log in start_processes(run_playbook, count, folder, role_vars):
        process.wait(timeout=600)
        log.close()
        with open(os.path.join(folder, name + '.log')) as handle:
            output = handle.read()
        outcomes[name] = (process.returncode, read_results(results_path), output)
    return outcomes


def run_as_hosts(run_playbook, count, folder, role_vars=None):
    """One play over ``count`` hosts (connection local); ``{host: (rc of the play, its results, output)}``."""
    inventory = os.path.join(folder, 'inventory.ini')
    with open(inventory, 'w') as handle:
        handle.write('[tenants]\n')
        for index in range(count):
            handle.write('run%d ansible_connection=local ansible_python_interpreter=%s\n' % (index + 1, sys.executable))
    playbook = run_playbook.write_playbook(role_play('tenants', barrier=False, role_vars=role_vars))
    environment = run_playbook.environment(dict(SCIM_TOKEN=SCIM_TOKEN, ANSIBLE_FORKS=str(max(5, count))))
    results_path = os.path.join(folder, 'hosts.jsonl')
    environment['RESULT_RECORDER_FILE'] = results_path
    command = run_playbook.command(playbook) + ['-i', inventory]
    completed = subprocess.run(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                               check=False, universal_newlines=True)
    with open(os.path.join(folder, 'hosts.log'), 'w') as handle:
        handle.write(completed.stdout)  # kept for a failed trial's diagnosis, like the logs of separate playbooks
    results = read_results(results_path)
    return dict(('run%d' % (index + 1), (completed.returncode, [entry for entry in results if entry['host'] == 'run%d' % (index + 1)],
                                         completed.stdout)) for index in range(count))


JOB_ACTION = re.compile(r'^/servicePrincipals/[^/]+/synchronization/jobs/([^/]+)/(start|pause|restart)$')
JOB = re.compile(r'^/servicePrincipals/[^/]+/synchronization/jobs/([^/]+)$')


def starts_to_running_jobs(log):
    """The starts (``METHOD /path``) that reached a running job, following each job's state through the log in order.

    A job is created not running (schedule Disabled, docs/graph-behaviour.md §3.2); a successful start or restart makes
    it running, a successful pause stops it, a delete removes it. Microsoft: "Don't create scripts to call the start job
    continuously while it's running because that can cause the service to stop running" (§3.3).
    """
    running = set()
    violations = []
    for entry in sorted(log, key=lambda item: item['seq']):
        if entry.get('kind') != 'graph' or not 200 <= (entry.get('status') or 0) < 300:
            continue
        path = strip_version(entry['path'])
        action = JOB_ACTION.match(path)
        if entry['method'] == 'POST' and action:
            job_id, verb = action.groups()
            if verb == 'start' and job_id in running:
                violations.append('POST %s' % path)
            if verb in ('start', 'restart'):
                running.add(job_id)
            else:
                running.discard(job_id)
        elif entry['method'] == 'DELETE' and JOB.match(path):
            running.discard(JOB.match(path).group(1))
    return violations


def starts(log):
    return [strip_version(entry['path']) for entry in sorted(log, key=lambda item: item['seq'])
            if entry.get('kind') == 'graph' and entry['method'] == 'POST' and strip_version(entry['path']).endswith('/start')]


def check_trial(emulator, outcomes):
    """The problems of one trial (an empty list when it converged as it must); also returns a few figures."""
    problems = []
    log = emulator.requests_log()
    applications, service_principals, jobs = Directory(emulator).census(NAME)
    if len(applications) != 1 or len(service_principals) != 1 or len(jobs) != 1:
        problems.append('%d applications, %d service principals, %d jobs' % (len(applications), len(service_principals), len(jobs)))
    if len(jobs) == 1 and (jobs[0].get('schedule') or {}).get('state') != 'Active':
        problems.append('the job is not running: schedule %s' % (jobs[0].get('schedule') or {}).get('state'))
    for name, (rc, results, output) in sorted(outcomes.items()):
        failed = [entry for entry in results if entry['status'] == 'failed']
        if rc != 0 or failed:
            detail = failed[0]['result'].get('msg') if failed else output[-1500:]
            problems.append('%s failed (rc %s): %s' % (name, rc, detail))
            continue
        kept = [entry['result']['application_provisioning_result'] for entry in results if entry['task'] == KEEP]
        if not kept:
            problems.append('%s reported no result' % name)
            continue
        reported = kept[-1]
        if len(applications) == 1 and (reported['application'] or {}).get('id') != applications[0]['id']:
            problems.append('%s reports application %s, not the one left' % (name, (reported['application'] or {}).get('id')))
        if len(jobs) == 1 and (reported['job'] or {}).get('id') != jobs[0]['id']:
            problems.append('%s reports job %s, not the one left' % (name, (reported['job'] or {}).get('id')))
    violations = starts_to_running_jobs(log)
    if violations:
        problems.append('start sent to a running job: %s' % ', '.join(violations))
    sent = starts(log)
    if len(sent) != 1:
        problems.append('%d starts were sent: %s' % (len(sent), ', '.join(sent)))
    if problems:
        writes = ['%s %s %s' % (entry['method'], strip_version(entry['path']).split('/synchronization/')[-1], entry['status'])
                  for entry in log if entry.get('write')]
        problems.append('writes: ' + ', '.join(writes))
    figures = dict(
        creates=sum(1 for entry in log if entry.get('write') and (entry['path'].endswith('/instantiate') or entry['path'].endswith('/jobs'))),
        deletes=sum(1 for entry in log if entry.get('write') and entry['method'] == 'DELETE'))
    return problems, figures


def run_trials(mode, runs, fault, run_playbook, fresh_emulator, tmp_path, role_vars=None):
    """TRIALS trials of ``runs`` runs at once; fails listing what went wrong in each trial that did not converge."""
    failures = []
    creates = deletes = 0
    began = time.monotonic()
    for trial in range(TRIALS):
        fresh_emulator.reset()
        fresh_emulator.set_faults(FAULTS[fault])
        folder = str(tmp_path / ('trial%02d' % trial))
        os.makedirs(folder)
        if mode == 'playbooks':
            outcomes = run_as_processes(run_playbook, runs, folder, role_vars)
        else:
            outcomes = run_as_hosts(run_playbook, runs, folder, role_vars)
        problems, figures = check_trial(fresh_emulator, outcomes)
        creates += figures['creates']
        deletes += figures['deletes']
        if problems:
            failures.append('trial %d: %s' % (trial + 1, '; '.join(problems)))
    print('\n%s x%d, %s: %d/%d trials converged; %d creates and %d deletes in all; %.1f s per trial'
          % (mode, runs, fault, TRIALS - len(failures), TRIALS, creates, deletes, (time.monotonic() - began) / TRIALS))
    for failure in failures:
        print('  ' + failure[:3000])
    assert not failures, failures


@pytest.mark.parametrize('fault', sorted(FAULTS))
@pytest.mark.parametrize('runs', [2, 4])
@pytest.mark.parametrize('mode', ['playbooks', 'hosts'])
def test_simultaneous_runs_leave_one_application_one_job_started_once(mode, runs, fault, run_playbook, fresh_emulator, tmp_path):
    run_trials(mode, runs, fault, run_playbook, fresh_emulator, tmp_path)


@pytest.mark.parametrize('mode', ['playbooks', 'hosts'])
def test_simultaneous_runs_that_map_attributes_start_the_job_once(mode, run_playbook, fresh_emulator, tmp_path):
    """With object mappings the role creates the job, changes its schema, then starts it in a later task: the run whose
    job was kept starts it by its id at once (synchronization_job's created), the others leave it to that run."""
    run_trials(mode, 4, 'replication', run_playbook, fresh_emulator, tmp_path, role_vars=MAPPINGS)
