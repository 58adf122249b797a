# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Staged deletes (accidental-deletion prevention, docs/graph-behaviour.md §9.4) against the Graph emulator: the health
reason, the staged deletes listed, and the AWX approval workflow's playbook approving and rejecting them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import os

import pytest

from collection_under_test import EXAMPLES
from playbook_tasks import playbook, task
from playbook_tasks import ok
from provisioning_world import World, module_args

WORKFLOW = os.path.join(EXAMPLES, 'staged_deletes_workflow.yml')

log_task = functools.partial(task, 'entra.provisioning.provisioning_log_info')
info_task = functools.partial(task, 'entra.provisioning.synchronization_job_info')


@pytest.fixture
def quarantined(fresh_emulator):
    """A job with a deletion threshold of 2 whose cycle would delete 3 of its 4 users: quarantined, deletes staged."""
    world = World(fresh_emulator)
    users = world.start_job(['Keep One', 'Gone Two', 'Gone Three', 'Gone Four'], delete_threshold=2)
    world.run_cycle()
    assert len(world.target()) == 4
    for user in users[1:]:
        fresh_emulator.unassign(world.sp_id, user)
    job = world.run_cycle()
    assert job['status']['code'] == 'Quarantine' and job['status']['quarantine']['reason'] == 'TooManyDeletes'
    world.users = users
    return world


def active_target(world):
    """The source ids of the target's accounts that are neither deleted nor disabled."""
    return {record['source_id'] for record in world.target() if not record.get('disabled')}


def workflow(run_playbook, world, step, **extra):
    return run_playbook(WORKFLOW, extra_vars=dict(extra, service_principal_id=world.sp_id, job_id=world.job_id, staged_deletes_step=step))


def test_the_health_reason_says_so_and_the_logs_list_what_would_be_deleted(run_playbook, quarantined):
    world = quarantined

    run = run_playbook(playbook(
        info_task('health', service_principal_id=world.sp_id, job_id=world.job_id),
        log_task('staged', action='stagedDelete', **module_args(world)),
    ))

    job = ok(run, 'health')['jobs'][0]
    assert job['health'] == 'quarantined'
    assert '(TooManyDeletes)' in job['health_reason'] and 'action: stagedDelete' in job['health_reason']
    assert 'restart_scope: [ForceDeletes]' in job['health_reason']
    staged = ok(run, 'staged')
    assert sorted(entry['source_identity']['id'] for entry in staged['entries']) == sorted(world.users[1:])
    assert {entry['action'] for entry in staged['entries']} == {'stagedDelete'}
    assert staged['summary']['by_action']['stagedDelete'] == 3


def test_review_then_approve_lets_the_deletes_happen(run_playbook, quarantined, fresh_emulator):
    world = quarantined
    review = workflow(run_playbook, world, 'review')
    assert review.rc == 0, review
    assert '3 staged delete(s) on job %s' % world.job_id in review.output
    reviewed = sorted(world.users[1:])
    seq = world.last_seq()

    approve = workflow(run_playbook, world, 'approve', staged_delete_ids=reviewed)

    assert approve.rc == 0, approve
    restarts = [entry for entry in fresh_emulator.writes(seq) if entry['path'].endswith('/restart')]
    assert len(restarts) == 1 and len(fresh_emulator.writes(seq)) == 1
    assert ok(approve, 'Let the deletes happen (restart with ForceDeletes)')['changed'] is True
    job = world.run_cycle()
    assert job['status']['quarantine'] is None and job['status']['code'] == 'Active'
    assert active_target(world) == {world.users[0]}


def test_approval_of_a_list_that_changed_since_the_review_is_refused(run_playbook, quarantined, fresh_emulator):
    world = quarantined
    seq = world.last_seq()

    approve = workflow(run_playbook, world, 'approve', staged_delete_ids=world.users[1:3])

    assert approve.rc != 0
    assert 'changed since the review' in approve.output
    assert fresh_emulator.writes(seq) == []


def test_reject_leaves_the_job_quarantined_and_sends_nothing(run_playbook, quarantined, fresh_emulator):
    world = quarantined
    seq = world.last_seq()

    reject = workflow(run_playbook, world, 'reject')

    assert reject.rc == 0, reject
    assert 'Rejected: 3 staged delete(s) stay held back' in reject.output
    assert fresh_emulator.writes(seq) == []
    job = world.job()
    assert job['status']['code'] == 'Quarantine' and job['status']['quarantine']['reason'] == 'TooManyDeletes'
    assert len(active_target(world)) == 4


def test_the_workflow_on_a_healthy_job_stops_without_writing(run_playbook, fresh_emulator):
    world = World(fresh_emulator)
    world.start_job(['Only One'])
    world.run_cycle()
    seq = world.last_seq()

    run = workflow(run_playbook, world, 'approve')

    assert run.rc == 0, run
    assert 'is not quarantined for too many deletes' in run.output
    assert fresh_emulator.writes(seq) == []
