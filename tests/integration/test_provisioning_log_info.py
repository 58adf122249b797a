# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra.provisioning.provisioning_log_info against the Graph emulator's directory: cycles write the logs, the module
reads them through real ansible-playbook runs; the expected entries are computed from the raw log read through Graph."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import functools

import pytest

from playbook_tasks import playbook, task
from playbook_tasks import failed, ok
from provisioning_world import World

log_task = functools.partial(task, 'entra.provisioning.provisioning_log_info')


@pytest.fixture
def world(fresh_emulator):
    return World(fresh_emulator)


def _ids(entries):
    return sorted(entry['id'] for entry in entries)


def _log_reads(emulator, since):
    return [entry for entry in emulator.requests_log(since)
            if entry['kind'] == 'graph' and entry['method'] == 'GET' and '/auditLogs/provisioning' in entry['path']]


def test_filters_select_what_graph_logged(run_playbook, world, fresh_emulator):
    ann, bob, cid = world.start_job(['Ann One', 'Bob Two', 'Cid Three'])
    fresh_emulator.set_target('accept', {bob: 'invalid_value'})
    first = world.run_cycle()
    fresh_emulator.unassign(world.sp_id, cid)
    second = world.run_cycle()
    raw = world.logs("jobId eq '%s'" % world.job_id)
    first_cycle = first['status']['lastExecution']['activityIdentifier']
    second_cycle = second['status']['lastExecution']['activityIdentifier']
    assert first_cycle != second_cycle
    # A moment between the cycles' entries (20 minutes apart), to the second (Graph's $filter literal).
    last_of_first = max(entry['activityDateTime'] for entry in raw if entry['cycleId'] == first_cycle)[:19]
    boundary = (datetime.datetime.strptime(last_of_first, '%Y-%m-%dT%H:%M:%S') + datetime.timedelta(seconds=1)).strftime('%Y-%m-%dT%H:%M:%SZ')
    job = dict(service_principal_id=world.sp_id, job_id=world.job_id)

    run = run_playbook(playbook(
        log_task('all', **job),
        log_task('bob by upn', object='bob.two@contoso.test', **job),
        log_task('ann by id', object=ann, **job),
        log_task('failures', status='failure', **job),
        log_task('creates', action='create', **job),
        log_task('first cycle', cycle_id=first_cycle, **job),
        log_task('after the first cycle', since=boundary, **job),
        log_task('until the boundary', until=boundary, **job),
        log_task('relative', since='30d', **job),
    ))

    everything = ok(run, 'all')
    assert _ids(everything['entries']) == _ids(raw)
    assert everything['changed'] is False and everything['truncated'] is False
    # Newest first.
    times = [entry['time'] for entry in everything['entries']]
    assert times == sorted(times, reverse=True)

    bob_entries = ok(run, 'bob by upn')['entries']
    assert bob_entries and {entry['source_identity']['id'] for entry in bob_entries} == {bob}
    assert _ids(bob_entries) == _ids([entry for entry in raw if entry['sourceIdentity']['id'] == bob])
    failure = next(entry for entry in bob_entries if entry['status'] == 'failure')
    # The target's error, as the log carries it.
    assert failure['error_code'] == 'UnprocessableEntity' and 'rejected the value' in failure['reason']
    assert failure['recommended_action'] and [step['type'] for step in failure['steps']][-1] == 'export'
    assert ok(run, 'bob by upn')['summary']['most_failed'][0]['object_id'] == bob

    ann_entries = [entry for entry in raw if ann in (entry['sourceIdentity']['id'], entry['targetIdentity']['id'])]
    assert _ids(ok(run, 'ann by id')['entries']) == _ids(ann_entries)
    failures = ok(run, 'failures')
    assert _ids(failures['entries']) == _ids([entry for entry in raw if entry['provisioningStatusInfo']['status'] == 'failure'])
    assert failures['summary']['by_status']['failure'] == len(failures['entries']) > 0
    assert failures['summary']['by_error_code'] == {'UnprocessableEntity': len(failures['entries'])}
    assert _ids(ok(run, 'creates')['entries']) == _ids([entry for entry in raw if entry['provisioningAction'] == 'create'])
    assert _ids(ok(run, 'first cycle')['entries']) == _ids([entry for entry in raw if entry['cycleId'] == first_cycle])
    later = ok(run, 'after the first cycle')['entries']
    assert later and _ids(later) == _ids([entry for entry in raw if entry['cycleId'] == second_cycle])
    assert _ids(ok(run, 'until the boundary')['entries']) == _ids([entry for entry in raw if entry['cycleId'] == first_cycle])
    assert _ids(ok(run, 'relative')['entries']) == _ids(raw)

    summary = everything['summary']
    assert summary['entries'] == len(raw)
    assert sum(summary['by_status'].values()) == len(raw)
    assert summary['by_action']['create'] == len([entry for entry in raw if entry['provisioningAction'] == 'create'])


def test_paging_to_the_end_and_to_max_entries(run_playbook, world, fresh_emulator):
    world.start_job(['User %03d' % number for number in range(105)])
    world.run_cycle()
    job = dict(service_principal_id=world.sp_id, job_id=world.job_id)

    seq = world.last_seq()
    run = run_playbook(playbook(log_task('every entry', max_entries=0, **job)))
    every = ok(run, 'every entry')
    assert len(every['entries']) == 105 and len({entry['id'] for entry in every['entries']}) == 105
    assert every['truncated'] is False
    # Graph's pages of 100: two requests.
    assert len(_log_reads(fresh_emulator, seq)) == 2

    seq = world.last_seq()
    run = run_playbook(playbook(log_task('thirty', max_entries=30, **job)))
    thirty = ok(run, 'thirty')
    assert len(thirty['entries']) == 30 and thirty['truncated'] is True
    assert len(_log_reads(fresh_emulator, seq)) == 1
    assert 'max_entries=30' in ' '.join(run.result('thirty')['result'].get('warnings', []))


def test_no_licence_fails_naming_the_permission_and_the_licence(run_playbook, world, fresh_emulator):
    fresh_emulator.sync_settings(premium_license=False)

    run = run_playbook(playbook(log_task('logs', ignore_errors=True, since='1d')))

    result = failed(run, 'logs')
    assert 'AuditLog.Read.All' in result['msg'] and 'P1 or P2' in result['msg']
    assert result['error']['status'] == 403


def test_bad_input_fails_before_any_request(run_playbook, world, fresh_emulator):
    seq = world.last_seq()

    run = run_playbook(playbook(
        log_task('bad since', ignore_errors=True, since='yesterday'),
        log_task('reversed', ignore_errors=True, since='1d', until='2d'),
        log_task('bad status', ignore_errors=True, status='failed'),
        log_task('unknown upn', ignore_errors=True, object='nobody@contoso.test'),
    ))

    assert failed(run, 'bad since')['msg'].startswith("since: 'yesterday' is neither a time nor a span")
    assert 'is not before until' in failed(run, 'reversed')['msg']
    assert 'status' in failed(run, 'bad status')['msg']
    assert failed(run, 'unknown upn')['msg'].startswith('object: no user has the user principal name nobody@contoso.test')
    assert _log_reads(fresh_emulator, seq) == []
