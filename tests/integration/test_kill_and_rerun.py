# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kill and rerun (issue 9): the role's first run is SIGKILLed, the playbook and all its workers, after its Nth Graph
request (watched in the emulator's request log), for points spread over the whole run; the rerun, started at once
while the killed run's objects still replicate, must leave exactly one application, service principal and job, the job
running, with its secrets.

CI runs 5 points; ``ENTRA_KILL_POINTS=20`` runs 20 (on demand: about 20 s each).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
import sys
import time

import test_role_application_provisioning as role_tests
from emulator_directory import Directory
# The role tests' fixtures, used here by name.
from test_role_application_provisioning import provision, tenant  # noqa: F401 pylint: disable=unused-import

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'campaign'))

from fault_campaign import check_tenant  # noqa: E402 pylint: disable=wrong-import-position

POINTS = int(os.environ.get('ENTRA_KILL_POINTS', '5'))
REPLICATION = 2


def graph_request_count(emulator):
    return len(emulator.graph_requests())


def run_until_request_then_kill(run_playbook, emulator, count, timeout=120):
    """Start the role's playbook; SIGKILL it with all its workers once the emulator logged ``count`` Graph requests.
    Returns the requests logged when the kill was done, or None when the run ended first."""
    emulator.clear_log()
    path = run_playbook.write_playbook(role_tests.ROLE_PLAYBOOK)
    environment = run_playbook.environment(dict(SCIM_TOKEN=role_tests.SCIM_TOKEN))
    # pylint: disable-next=consider-using-with
    process = subprocess.Popen(run_playbook.command(path), env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            seen = graph_request_count(emulator)
            if seen >= count:
                role_tests.kill_tree(process)
                return seen
            if process.poll() is not None:
                return None
            time.sleep(0.02)
        return None
    finally:
        if process.poll() is None:
            role_tests.kill_tree(process)


def spread(total, points):
    """``points`` request counts from 1 to ``total`` - 1, evenly spread."""
    if points >= total - 1:
        return list(range(1, total))
    return sorted(set(1 + round(index * (total - 2) / float(points - 1)) for index in range(points)))


def test_a_first_run_killed_anywhere_converges_on_rerun(provision, run_playbook, fresh_emulator, tenant):
    fresh_emulator.set_faults({'replication_delay_seconds': REPLICATION})
    reference = provision()
    assert reference.rc == 0, reference
    total = graph_request_count(fresh_emulator)
    points = spread(total, POINTS)
    directory = Directory(fresh_emulator)

    outcomes = []
    for count in points:
        # Back to an empty tenant, with new objects replicating for REPLICATION s.
        fresh_emulator.reset()
        fresh_emulator.control('PUT', '/settings', {'cycle_seconds': role_tests.CYCLE_SECONDS})
        fresh_emulator.set_faults({'replication_delay_seconds': REPLICATION})
        killed_at = run_until_request_then_kill(run_playbook, fresh_emulator, count)
        writes_before = [entry['method'] + ' ' + entry['path'].rsplit('/', 1)[-1] for entry in fresh_emulator.writes()]
        rerun = provision()
        fresh_emulator.set_faults({})
        state = check_tenant(directory, role_tests.NAME)
        outcomes.append((count, killed_at, writes_before, rerun.rc, state))
        print('kill after request %2d of %d (at %s; writes before the kill: %s): rerun rc %d, %s'
              % (count, total, killed_at, ', '.join(writes_before) or 'none', rerun.rc, state))

    converged = [outcome for outcome in outcomes if outcome[3] == 0 and outcome[4] == 'ok']
    print('%d/%d kill points converged on rerun' % (len(converged), len(outcomes)))
    assert len(outcomes) == len(points) >= min(POINTS, total - 1)
    assert all(outcome[1] is not None for outcome in outcomes), 'a run ended before its kill point'
    assert converged == outcomes
