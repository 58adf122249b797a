# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra.provisioning.provision_on_demand against the Graph emulator's directory and simulated target, through real
ansible-playbook runs; the emulator's request log and target are the witnesses."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import os

import pytest

from collection_under_test import EXAMPLES
from playbook_tasks import playbook, task
from playbook_tasks import failed, ok
from provisioning_world import World, module_args

UNKNOWN_USER = '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9'

pod_task = functools.partial(task, 'entra.provisioning.provision_on_demand')
log_task = functools.partial(task, 'entra.provisioning.provisioning_log_info')


@pytest.fixture
def world(fresh_emulator):
    return World(fresh_emulator)


def on_demand_posts(emulator, since):
    return [entry for entry in emulator.requests_log(since) if entry['kind'] == 'graph' and entry['method'] == 'POST'
            and entry['path'].endswith('/provisionOnDemand')]


def target_ids(world):
    return {record['source_id'] for record in world.target()}


def test_a_user_who_failed_export_is_fixed_and_retried_with_the_example_playbook(run_playbook, world, fresh_emulator):
    ann, bob = world.start_job(['Ann One', 'Bob Two'])
    fresh_emulator.set_target('accept', {bob: 'invalid_value'})
    world.run_cycle()
    assert target_ids(world) == {ann}

    # The logs show why.
    run = run_playbook(playbook(log_task('bob', object='bob.two@contoso.test', status='failure', **module_args(world))))
    entry = ok(run, 'bob')['entries'][0]
    assert entry['error_code'] == 'UnprocessableEntity' and 'rejected the value of active' in entry['reason']

    # The target is fixed; the example retries the last cycle's failures now, without waiting for the next cycle.
    fresh_emulator.set_target('accept')
    seq = world.last_seq()
    run = run_playbook(os.path.join(EXAMPLES, 'retry_failed_users.yml'),
                       extra_vars=dict(service_principal_id=world.sp_id, job_id=world.job_id))

    assert run.rc == 0, run
    result = ok(run, 'Provision them on demand')
    assert [(subject['object_id'], subject['status'], subject['action'], subject['changed']) for subject in result['subjects']] == [
        (bob, 'success', 'create', True)]
    assert result['changed'] is True
    assert target_ids(world) == {ann, bob}
    assert len(on_demand_posts(fresh_emulator, seq)) == 1
    assert "Still failing: []" in run.output


def test_a_group_with_members_an_unknown_user_and_one_out_of_scope(run_playbook, world, fresh_emulator):
    world.start_job([])
    members = [world.add_user('Member %d' % number, assign=False) for number in range(2)]
    group = fresh_emulator.add_group('Pilot', members=members)['id']
    fresh_emulator.assign(world.sp_id, group)
    outsider = world.add_user('Out Sider', assign=False)
    seq = world.last_seq()

    run = run_playbook(playbook(pod_task('on demand', ignore_errors=True, subjects=[
        {'object_id': group, 'type': 'group', 'members': members},
        {'object_id': UNKNOWN_USER},
        {'user_principal_name': 'out.sider@contoso.test'},
    ], **module_args(world))))

    result = failed(run, 'on demand')
    group_result, unknown, out = result['subjects']
    assert (group_result['status'], group_result['changed'], group_result['type']) == ('success', True, 'group')
    assert group_result['request']['parameters'][0]['subjects'][0]['links'] == {
        'members': [{'objectId': member, 'objectTypeName': 'User'} for member in members]}
    assert target_ids(world) >= {group} | set(members)
    assert unknown['status'] == 'failure' and unknown['error']['status'] == 404
    assert out['object_id'] == outsider and out['status'] == 'skipped' and out['changed'] is False
    assert out['error']['reason']
    assert outsider not in target_ids(world)
    # Every subject was tried; the failure is named after all of them.
    assert len(on_demand_posts(fresh_emulator, seq)) == 3
    assert result['msg'].startswith('1 of 3 subjects failed to provision on demand: user %s: Request_ResourceNotFound' % UNKNOWN_USER)
    assert result['changed'] is True
    assert result['summary'] == dict(success=1, failure=1, skipped=1, warning=0, changed=1)

    run = run_playbook(playbook(pod_task('reported only', fail_on_error=False, subjects=[{'object_id': UNKNOWN_USER}],
                                         **module_args(world))))
    assert ok(run, 'reported only')['subjects'][0]['status'] == 'failure'


def test_six_subjects_are_paced_to_five_per_ten_seconds(run_playbook, world, fresh_emulator):
    users = world.start_job(['Paced %d' % number for number in range(6)])
    seq = world.last_seq()

    run = run_playbook(playbook(pod_task('six', subjects=[{'object_id': user} for user in users], **module_args(world))))

    result = ok(run, 'six')
    assert result['pauses'] >= 1
    posts = on_demand_posts(fresh_emulator, seq)
    assert len(posts) == 6 and [post['status'] for post in posts] == [200] * 6
    assert target_ids(world) == set(users)


def test_a_throttled_request_is_retried_after_retry_after(run_playbook, world, fresh_emulator):
    users = world.start_job(['Throttled %d' % number for number in range(3)])
    # A stricter limit than Graph's documented one: the module's pacing lets the third request through, Graph answers 429.
    fresh_emulator.sync_settings(provision_on_demand_limit=2, provision_on_demand_window_seconds=3)
    seq = world.last_seq()

    run = run_playbook(playbook(pod_task('three', subjects=[{'object_id': user} for user in users], **module_args(world))))

    result = ok(run, 'three')
    assert [subject['status'] for subject in result['subjects']] == ['success'] * 3
    statuses = [post['status'] for post in on_demand_posts(fresh_emulator, seq)]
    assert 429 in statuses and statuses.count(200) == 3


def test_check_mode_sends_nothing_and_shows_the_request(run_playbook, world, fresh_emulator):
    (ann,) = world.start_job(['Ann One'])
    seq = world.last_seq()

    run = run_playbook(playbook(pod_task('preview', subjects=[{'user_principal_name': 'ann.one@contoso.test'}], **module_args(world))),
                       check=True)

    result = ok(run, 'preview')
    subject = result['subjects'][0]
    assert subject['object_id'] == ann and subject['status'] is None
    assert result['changed'] is True and subject['changed'] is False
    rule_id = subject['rule_id']
    assert subject['request'] == {'parameters': [{'ruleId': rule_id, 'subjects': [{'objectId': ann, 'objectTypeName': 'User'}]}]}
    assert fresh_emulator.writes(seq) == []
    assert target_ids(world) == set()


def test_the_rule_comes_from_the_schema_and_rule_id_overrides(run_playbook, world, fresh_emulator):
    (ann,) = world.start_job(['Ann One'])
    rules = world._call('GET', world.job_path('/schema'))['synchronizationRules']

    run = run_playbook(playbook(
        pod_task('found', subjects=[{'object_id': ann}], **module_args(world)),
        pod_task('given', ignore_errors=True, rule_id='not-a-rule', subjects=[{'object_id': ann}], **module_args(world)),
    ))

    assert ok(run, 'found')['subjects'][0]['rule_id'] == rules[0]['id']
    given = run.result('given')['result']
    assert given['subjects'][0]['rule_id'] == 'not-a-rule'
    assert given['subjects'][0]['request']['parameters'][0]['ruleId'] == 'not-a-rule'
    assert any('rule_id not-a-rule is not a rule of the schema' in warning for warning in given.get('warnings', []))


def test_bad_input_fails_before_any_write(run_playbook, world, fresh_emulator):
    world.start_job([])
    seq = world.last_seq()

    run = run_playbook(playbook(
        pod_task('upn and id', ignore_errors=True, subjects=[{'object_id': UNKNOWN_USER, 'user_principal_name': 'a@contoso.test'}],
                 **module_args(world)),
        pod_task('six members', ignore_errors=True, subjects=[{'object_id': UNKNOWN_USER, 'type': 'group', 'members': [UNKNOWN_USER] * 6}],
                 **module_args(world)),
        pod_task('unknown upn', ignore_errors=True, subjects=[{'object_id': UNKNOWN_USER}, {'user_principal_name': 'nobody@contoso.test'}],
                 **module_args(world)),
        pod_task('no job', ignore_errors=True, service_principal_id=world.sp_id, template_id='customappsso',
                 subjects=[{'object_id': UNKNOWN_USER}]),
        pod_task('other template', ignore_errors=True, template_id='customappsso', subjects=[{'object_id': UNKNOWN_USER}],
                 **module_args(world)),
    ))

    assert 'mutually exclusive' in failed(run, 'upn and id')['msg']
    assert 'members lists 6 users' in failed(run, 'six members')['msg']
    assert failed(run, 'unknown upn')['msg'].startswith('subjects[1].user_principal_name: no user has the user principal name')
    assert 'has no job of template customappsso' in failed(run, 'no job')['msg']
    assert 'has template scim, not template_id customappsso' in failed(run, 'other template')['msg']
    assert fresh_emulator.writes(seq) == []
