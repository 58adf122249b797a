# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source entra.provisioning.provisioning_health and the rulebook remediate_quarantine under the real
ansible-rulebook (drools on Java 17), against the emulator: a job quarantined while the rulebook runs is restarted by
the remediation playbook (the emulator's request log is the witness), another one is only reported."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from playbook_tasks import last_seq

BIN = os.path.dirname(sys.executable)
RULEBOOK = os.path.join(BIN, 'ansible-rulebook')
# Upper bounds for the waits on the rulebook (JVM start, the first scan, the remediation playbook); never assertions
# on how long something took.
START_TIMEOUT = 60
ACTION_TIMEOUT = 60


@pytest.fixture(autouse=True)
def rulebook_tools():
    # Missing tools fail the test, never skip it: a suite that skips what it cannot run proves nothing.
    if not os.path.exists(RULEBOOK) or not shutil.which('java'):
        pytest.fail('this test needs ansible-rulebook (pip install ansible-rulebook, in requirements-dev.txt) and a Java 17 '
                    'runtime (apt-get install openjdk-17-jre-headless)')


class Rulebook:
    """ansible-rulebook in its own process group, its output in a file; stopped by the test."""

    def __init__(self, run_playbook, arguments):
        scratch = run_playbook.scratch
        self.output_path = os.path.join(scratch, 'ansible-rulebook.log')
        inventory = os.path.join(scratch, 'localhost.ini')
        with open(inventory, 'w') as handle:
            handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
        environment = run_playbook.environment()
        environment.pop('ANSIBLE_CALLBACKS_ENABLED', None)
        environment['PATH'] = BIN + os.pathsep + environment.get('PATH', '')
        self.output = open(self.output_path, 'w')
        self.process = subprocess.Popen([RULEBOOK, '-i', inventory] + list(arguments), cwd=scratch, env=environment,
                                        stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self):
        with open(self.output_path) as handle:
            return handle.read()

    def wait_for(self, condition, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            assert self.process.poll() is None, 'ansible-rulebook ended (rc %s) before %s:\n%s' % (
                self.process.returncode, what, self.text()[-6000:])
            time.sleep(0.5)
        raise AssertionError('no %s within %s s; ansible-rulebook said:\n%s' % (what, timeout, self.text()[-6000:]))

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.output.close()


@pytest.fixture
def rulebook_runs(run_playbook):
    started = []

    def start(*arguments):
        started.append(Rulebook(run_playbook, arguments))
        return started[-1]

    yield start
    for rulebook in started:
        rulebook.stop()


def restarts(emulator, since):
    return [entry['path'] for entry in emulator.writes(since) if entry['path'].endswith('/restart')]


def test_a_fixable_quarantine_is_restarted_and_another_is_reported(emulator, run_playbook, rulebook_runs):
    # 40-minute cycles: the seeded jobs stay as seeded while the rulebook runs.
    emulator.control('PUT', '/settings', {'cycle_seconds': 2400})
    fixable, other = emulator.seed(2, 0, display_name_prefix='EDA', return_ids=True)['ids']
    jobs = {}
    for sp_id in (fixable, other):
        jobs[sp_id] = emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs' % sp_id, {'state': 'active'})['id']
    since = last_seq(emulator)

    variables = os.path.join(run_playbook.scratch, 'vars.yml')
    with open(variables, 'w') as handle:
        handle.write('entra_poll_interval: 1\n')

    rulebook = rulebook_runs('-r', 'entra.provisioning.remediate_quarantine', '--vars', variables)
    # The first poll: healthy jobs give no event (and nothing is written).
    rulebook.wait_for(lambda: any(entry['path'] == '/v1.0/$batch' for entry in emulator.graph_requests(since)),
                      START_TIMEOUT, 'first scan of the tenant')
    emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs/%s/quarantine' % (fixable, jobs[fixable]), {
        'reason': 'EncounteredQuarantineException', 'code': 'SystemForCrossDomainIdentityManagementInvalidCredentials',
        'message': 'Please provide a valid tenant URL for your application.', 'tenant_actionable': True})
    emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs/%s/quarantine' % (other, jobs[other]),
                     {'reason': 'TooManyDeletes', 'code': 'TooManyDeletes', 'message': 'Too many deletes.'})

    restart = '/v1.0/servicePrincipals/%s/synchronization/jobs/%s/restart' % (fixable, jobs[fixable])
    rulebook.wait_for(lambda: restarts(emulator, since), ACTION_TIMEOUT, 'restart by the remediation playbook')
    reported = 'Not remediated: EDA'
    rulebook.wait_for(lambda: reported in rulebook.text() and other in rulebook.text(), ACTION_TIMEOUT,
                      'report of the other quarantine')
    rulebook.wait_for(lambda: 'PLAY RECAP' in rulebook.text(), ACTION_TIMEOUT, 'end of the remediation playbook')
    # The next polls see the quarantine lifted: an event from the verdict quarantined to another one.
    rulebook.wait_for(lambda: "'previous_health': 'quarantined'" in rulebook.text(), ACTION_TIMEOUT,
                      'event of the lifted quarantine')
    rulebook.stop()

    # Only the fixable quarantine was restarted, once, and nothing else was written.
    assert restarts(emulator, since) == [restart]
    assert [entry['path'] for entry in emulator.writes(since)] == [restart]
    output = rulebook.text()
    assert 'changed=1' in output and 'failed=0' in output
    report = output.split(reported, 1)[1].split('\n', 1)[0]
    assert jobs[other] in report and '(TooManyDeletes)' in report
    assert reported not in output.split(reported, 1)[1]
