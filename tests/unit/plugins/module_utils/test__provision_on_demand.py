# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._provision_on_demand import (
    Pacer,
    check_subjects,
    find_rule,
    parse_response,
    summarize,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure

from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.fake_clock import FakeClock

USER = '9bb0f679-a883-4a6f-8260-35b491b8b8c8'
GROUP = '8213fd4e-4ec7-4d5a-a7b1-b4ba0f1fb9c2'
MEMBERS = ['cbc86211-6ada-4803-b73f-8039cf56d8a2', '2b57ee05-4a0f-4a1d-a3d1-e4f5c6b7a8d9']

# The answer of Example 1 of https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-provisionondemand
# (docs/graph-behaviour.md §9.3): a user skipped because source and target already match, as Graph sends it (JSON
# documents inside the string values), abridged to the parts read here.
SKIPPED_KEY = {'result': 'Skipped', 'details': {'errorCode': 'RedundantExport',
                                                'errorMessage': 'The state of the user in both the source and target systems already match.'}}
SKIPPED_TRACE = {
    'action': 'Other', 'changeId': 'g8ba3be8-1d7f-4a60-ae31-a8980da0a389', 'endTime': '2020-06-26T13:58:24.7682084Z',
    'modifiedProperties': [{'displayName': 'objectId', 'oldValue': None, 'newValue': '52cf7b7a-52be-4a9b-9c69-e4d4a4a14f76'},
                           {'displayName': 'displayName', 'oldValue': None, 'newValue': 'Bill Bob'}],
    'provisioningSteps': [
        {'name': 'EntryImport', 'type': 'Import', 'status': 'Success',
         'description': "Retrieved User 'BillBob@contoso.com' from Azure Active Directory",
         'timestamp': '2020-06-26T13:58:24.5494971Z', 'details': {'objectId': '52cf7b7a-52be-4a9b-9c69-e4d4a4a14f76'}},
        {'name': 'EntrySynchronizationScoping', 'type': 'Scoping', 'status': 'Success',
         'description': 'Determine if User in scope by evaluating against each scoping filter',
         'timestamp': '2020-06-26T13:58:24.7526181Z', 'details': {'IsActive': 'True'}},
        {'name': 'EntrySynchronizationSkip', 'type': 'Export', 'status': 'Skipped',
         'description': "The state of the user in both the source and target systems already match. No change to the User "
                        "'BillBob@contoso.com' currently needs to be made.",
         'timestamp': '2020-06-26T13:58:24.7682084Z', 'details': {'SkipReason': 'RedundantExport'}},
    ],
    'reportableIdentifier': 'BillBob@contoso.com', 'startTime': '2020-06-26T13:58:24.5494971Z',
    'statusInfo': {'status': 'Skipped', 'errorCode': None, 'reason': None, 'additionalDetails': None, 'errorCategory': None,
                   'recommendedAction': None},
    'sourceIdentity': {'id': '62cf7b7a-52be-4a9b-9c69-e5d4a4a14f67', 'type': 'User', 'displayName': None, 'details': None},
    'targetIdentity': {'id': '52507a19-96ec-4e73-9250-3e65ffd2d926',
                       'type': 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', 'displayName': None, 'details': None},
}

# Example 2 of the same page: Success with empty details, and a trace whose export step succeeded.
CREATED_TRACE = {
    'provisioningSteps': [
        {'name': 'EntryImportAdd', 'type': 'Import', 'status': 'Success', 'description': "Received user 'adelev@chicago.com'",
         'timestamp': '2022-04-21T18:40:07.8465145Z', 'details': {}},
        {'name': 'EntryExportAdd', 'type': 'Export', 'status': 'Success', 'description': "User 'adelev@chicago.com' was created",
         'timestamp': '2022-04-21T18:40:08.2000000Z', 'details': {}},
    ],
    'action': 'Create', 'statusInfo': {'status': 'Success'},
    'sourceIdentity': {'id': 'CN=AdeleV,CN=Users,DC=corp,DC=chicago,DC=com', 'type': 'user'},
    'targetIdentity': {'id': 'bd9a4d4e-4a52-4c1b-a5bd-c8c6c4a0e1f2', 'type': 'User'},
}


def answer(key, value):
    return {'@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.stringKeyStringValuePair',
            'key': json.dumps(key) if not isinstance(key, str) else key, 'value': json.dumps(value)}


# --- the response ---------------------------------------------------------------------------------------------------------

def test_the_documented_skip_is_parsed_from_the_strings():
    result = parse_response(answer(SKIPPED_KEY, SKIPPED_TRACE))

    assert result['status'] == 'skipped'
    assert result['action'] == 'other'
    assert result['changed'] is False
    assert result['error'] == dict(code='RedundantExport', reason='The state of the user in both the source and target systems already match.',
                                   recommended_action=None)
    assert [(step['name'], step['type'], step['status']) for step in result['steps']] == [
        ('EntryImport', 'import', 'success'), ('EntrySynchronizationScoping', 'scoping', 'success'),
        ('EntrySynchronizationSkip', 'export', 'skipped')]
    assert result['steps'][2]['details'] == {'SkipReason': 'RedundantExport'}
    assert result['modified_properties'][1] == dict(display_name='displayName', old_value=None, new_value='Bill Bob')
    assert result['target_identity']['id'] == '52507a19-96ec-4e73-9250-3e65ffd2d926'
    assert result['change_id'] == 'g8ba3be8-1d7f-4a60-ae31-a8980da0a389'


def test_a_success_that_exported_is_changed():
    result = parse_response(answer({'result': 'Success', 'details': {}}, CREATED_TRACE))

    assert (result['status'], result['action'], result['changed'], result['error']) == ('success', 'create', True, None)


def test_a_failure_carries_the_error_from_the_trace():
    trace = dict(CREATED_TRACE, action='Create', statusInfo={
        'status': 'Failure', 'errorCode': 'SystemForCrossDomainIdentityManagementBadRequest',
        'reason': 'The SCIM endpoint answered 400.', 'recommendedAction': 'Check the attribute mappings.'})
    trace['provisioningSteps'] = [dict(CREATED_TRACE['provisioningSteps'][1], status='Failure')]

    result = parse_response(answer({'result': 'Failure', 'details': {}}, trace))

    assert result['status'] == 'failure'
    assert result['changed'] is False
    assert result['error'] == dict(code='SystemForCrossDomainIdentityManagementBadRequest', reason='The SCIM endpoint answered 400.',
                                   recommended_action='Check the attribute mappings.')


def test_the_other_documented_form_a_type_name_key_and_an_array_value():
    response = {'key': 'Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo',
                'value': json.dumps([dict(SKIPPED_TRACE)])}

    result = parse_response(response)

    assert result['status'] == 'skipped'
    assert result['action'] == 'other'
    # No key document: the reason comes from the skipped step.
    assert result['error']['reason'].startswith('The state of the user in both the source and target systems already match.')


def test_a_success_without_steps_is_changed_by_its_action():
    assert parse_response(answer({'result': 'Success'}, {'action': 'Update'}))['changed'] is True
    assert parse_response(answer({'result': 'Success'}, {'action': 'Other'}))['changed'] is False


# --- subjects ------------------------------------------------------------------------------------------------------------

def test_a_group_with_members_becomes_the_documented_request():
    subject = check_subjects([{'object_id': GROUP, 'type': 'group', 'members': MEMBERS}])[0]

    assert subject.request('rule-1') == {'parameters': [{'ruleId': 'rule-1', 'subjects': [{
        'objectId': GROUP, 'objectTypeName': 'Group',
        'links': {'members': [{'objectId': MEMBERS[0], 'objectTypeName': 'User'}, {'objectId': MEMBERS[1], 'objectTypeName': 'User'}]}}]}]}


def test_a_user_request():
    subject = check_subjects([{'object_id': ' %s ' % USER}])[0]

    assert subject.request('r') == {'parameters': [{'ruleId': 'r', 'subjects': [{'objectId': USER, 'objectTypeName': 'User'}]}]}


@pytest.mark.parametrize('subjects, message', [
    ([], '^subjects is empty'),
    ([{'object_id': 'alice@contoso.com'}], r'^subjects\[0\]\.object_id: .* is not a GUID; give the object id of the user'),
    ([{'object_id': USER}, {'object_id': 'x', 'type': 'group'}], r'^subjects\[1\]\.object_id: .*object id of the group'),
    ([{'object_id': GROUP, 'type': 'group', 'members': MEMBERS * 3}], r'^subjects\[0\]\.members lists 6 users; .* at most 5'),
    ([{'object_id': USER, 'members': MEMBERS}], r'^subjects\[0\]\.members applies to groups only'),
    ([{'user_principal_name': 'g@contoso.com', 'type': 'group'}], r'^subjects\[0\]\.user_principal_name applies to users only'),
    ([{'object_id': GROUP, 'type': 'group', 'members': ['bob']}], r'^subjects\[0\]\.members\[0\]: .* is not a GUID'),
    ([{}], r'^subjects\[0\] needs object_id'),
])
def test_bad_subjects_fail_naming_the_option(subjects, message):
    with pytest.raises(TaskFailure, match=message):
        check_subjects(subjects)


# --- the rule ---------------------------------------------------------------------------------------------------------------

def _rule(rule_id, *mappings, **extra):
    rule = dict(id=rule_id, name=extra.get('name', rule_id), sourceDirectoryName='Azure Active Directory', targetDirectoryName='SCIM',
                objectMappings=[dict(sourceObjectName=source, targetObjectName='urn:%s' % source, enabled=enabled)
                                for source, enabled in mappings])
    return rule


def test_the_rule_that_maps_the_object_type():
    schema = {'synchronizationRules': [_rule('users-and-groups', ('User', True), ('Group', True)), _rule('other', ('Contact', True))]}

    assert find_rule(schema, 'user') == 'users-and-groups'
    assert find_rule(schema, 'group') == 'users-and-groups'


def test_a_disabled_mapping_does_not_count():
    schema = {'synchronizationRules': [_rule('a', ('User', False), ('Group', True)), _rule('b', ('user', True))]}

    assert find_rule(schema, 'user') == 'b'


def test_two_rules_for_the_type_fail_listing_the_rules():
    schema = {'synchronizationRules': [_rule('a', ('User', True)), _rule('b', ('User', True), name='Inbound')]}

    with pytest.raises(TaskFailure) as failure:
        find_rule(schema, 'user')

    assert failure.value.msg.startswith('rule_id: 2 synchronization rules of the job\'s schema provision users: a (a: User -> urn:User); '
                                        'b (Inbound: User -> urn:User). Give rule_id')
    assert [rule['id'] for rule in failure.value.result['rules']] == ['a', 'b']


def test_no_rule_for_the_type_fails_listing_the_rules():
    with pytest.raises(TaskFailure, match="no synchronization rule of the job's schema provisions groups .* a \\(a: User -> urn:User\\)"):
        find_rule({'synchronizationRules': [_rule('a', ('User', True))]}, 'group')


# --- pacing ------------------------------------------------------------------------------------------------------------------

def send(pacer, clock, latency=0.0):
    """One paced request that takes ``latency`` seconds to be answered."""
    pacer.wait_turn()
    clock.now += latency
    pacer.answered()


def test_five_requests_go_at_once_the_sixth_waits_for_the_window():
    clock = FakeClock(100.0)
    pacer = Pacer(sleep=clock.sleep, monotonic=clock.monotonic)

    for dummy in range(5):
        send(pacer, clock)
        clock.now += 0.5
    assert clock.sleeps == []
    send(pacer, clock)

    assert clock.sleeps == [7.5]  # the first was answered at 100.0; now is 102.5; the sixth may go at 110.0
    assert pacer.pauses == 1


def test_the_window_counts_from_the_answer_not_from_the_send():
    clock = FakeClock(100.0)
    pacer = Pacer(sleep=clock.sleep, monotonic=clock.monotonic)

    send(pacer, clock, latency=3.0)  # the first request is slow (connection, token): answered at 103.0
    for dummy in range(4):
        send(pacer, clock, latency=0.1)
    send(pacer, clock)

    # The sixth waits until 113.0, ten seconds after the first answer, not 110.0.
    assert clock.sleeps == [pytest.approx(13.0 - 3.4)]


def test_requests_spread_over_the_window_never_wait():
    clock = FakeClock(100.0)
    pacer = Pacer(sleep=clock.sleep, monotonic=clock.monotonic)

    for dummy in range(12):
        send(pacer, clock)
        clock.now += 2.0

    assert clock.sleeps == [] and pacer.pauses == 0


def test_eleven_at_once_pause_twice():
    clock = FakeClock(100.0)
    pacer = Pacer(sleep=clock.sleep, monotonic=clock.monotonic)

    for dummy in range(11):
        send(pacer, clock)

    assert pacer.pauses == 2 and clock.sleeps == [10.0, 10.0]


def test_summary_counts():
    results = [dict(status='success', changed=True), dict(status='failure', changed=False), dict(status='skipped', changed=False),
               dict(status=None, changed=False)]

    assert summarize(results) == dict(success=1, failure=1, skipped=1, warning=0, changed=1)
