# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._sync_secret import (
    canonical_key,
    desired_secrets,
    notification_settings,
    plan_secret_changes,
    run_synchronization_secret,
    secrets_diff,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import Task, TaskFailure

# What GET .../synchronization/secrets answers for a SCIM app: SecretToken masked, the rest in clear
# (docs/graph-behaviour.md §4.3).
SCIM = [
    {'key': 'BaseAddress', 'value': 'https://scim.contoso.com/v2'},
    {'key': 'SecretToken', 'value': '*'},
    {'key': 'SyncNotificationSettings', 'value': '{"Enabled":false,"DeleteThresholdEnabled":true,"DeleteThresholdValue":500}'},
    {'key': 'SyncAll', 'value': 'false'},
]


def sent(plan):
    return dict((pair['key'], pair['value']) for pair in plan.body['value'])


def params(**overrides):
    base = dict(service_principal_id='5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f', state='present', update_secrets='always',
                notification_email=None, deletion_threshold=None, skip_out_of_scope_deletions=None, secrets=None)
    base.update(overrides)
    return base


# --- planning ---------------------------------------------------------------------------------------------------

def test_first_credentials_on_an_empty_set():
    plan = plan_secret_changes([], {'BaseAddress': 'https://scim.contoso.com/v2', 'SecretToken': 's3cr3t'})

    assert plan.changed
    assert plan.added == ['BaseAddress', 'SecretToken']
    assert sent(plan) == {'BaseAddress': 'https://scim.contoso.com/v2', 'SecretToken': 's3cr3t'}
    assert plan.keys_after == ['BaseAddress', 'SecretToken']


def test_unmasked_keys_are_compared_so_nothing_changes():
    plan = plan_secret_changes(SCIM, {'BaseAddress': 'https://scim.contoso.com/v2', 'SyncAll': 'False'})

    assert not plan.changed
    assert plan.body is None
    assert plan.keys_after == ['BaseAddress', 'SecretToken', 'SyncAll', 'SyncNotificationSettings']


def test_masked_key_named_with_always_is_sent_every_time():
    plan = plan_secret_changes(SCIM, {'BaseAddress': 'https://scim.contoso.com/v2', 'SecretToken': 's3cr3t'}, update_secrets='always')

    assert plan.changed
    assert plan.updated == ['SecretToken']
    assert plan.added == []


def test_masked_key_named_with_on_create_is_left_alone():
    plan = plan_secret_changes(SCIM, {'BaseAddress': 'https://scim.contoso.com/v2', 'SecretToken': 's3cr3t'}, update_secrets='on_create')

    assert not plan.changed


def test_a_change_keeps_every_key_the_task_does_not_name():
    plan = plan_secret_changes(SCIM, {'BaseAddress': 'https://scim2.contoso.com/v2', 'SecretToken': 's3cr3t'},
                               update_secrets='on_create')

    body = sent(plan)
    assert body['BaseAddress'] == 'https://scim2.contoso.com/v2'
    assert body['SyncAll'] == 'false'
    assert json.loads(body['SyncNotificationSettings'])['DeleteThresholdValue'] == 500
    # The PUT replaces the set, so the masked key is sent with the task's value (the only one known) even with on_create.
    assert body['SecretToken'] == 's3cr3t'
    assert plan.updated == ['BaseAddress', 'SecretToken']
    assert '*' not in body.values()


def test_a_change_that_would_drop_a_masked_key_fails_and_names_it():
    with pytest.raises(TaskFailure) as failure:
        plan_secret_changes(SCIM, {'BaseAddress': 'https://scim2.contoso.com/v2'})

    assert 'SecretToken' in failure.value.msg
    assert 'Name SecretToken in secrets too' in failure.value.msg
    assert failure.value.result['masked_keys'] == ['SecretToken']


def test_no_change_with_a_masked_key_not_named_is_fine():
    plan = plan_secret_changes(SCIM, {'SyncAll': 'false'})

    assert not plan.changed


def test_absent_removes_named_keys_and_keeps_the_rest():
    current = [pair for pair in SCIM if pair['key'] != 'SecretToken']

    plan = plan_secret_changes(current, {'SyncAll': ''}, state='absent')

    assert plan.removed == ['SyncAll']
    assert 'SyncAll' not in sent(plan)
    assert sorted(sent(plan)) == ['BaseAddress', 'SyncNotificationSettings']


def test_absent_of_a_key_that_is_not_set_changes_nothing():
    assert not plan_secret_changes(SCIM, {'Password': ''}, state='absent').changed


def test_absent_with_a_masked_key_left_fails_and_says_how_to_proceed():
    with pytest.raises(TaskFailure) as failure:
        plan_secret_changes(SCIM, {'SyncAll': ''}, state='absent')

    assert 'removing SyncAll' in failure.value.msg
    assert 'SecretToken' in failure.value.msg
    assert 'state=absent' in failure.value.msg


def test_absent_of_the_masked_key_itself():
    plan = plan_secret_changes(SCIM, {'SecretToken': ''}, state='absent')

    assert plan.removed == ['SecretToken']
    assert 'SecretToken' not in sent(plan)


def test_typed_notification_options_merge_into_the_current_document():
    plan = plan_secret_changes(SCIM, {'SecretToken': 's3cr3t'}, update_secrets='on_create',
                               typed=('alerts@contoso.com', 100))

    document = json.loads(sent(plan)['SyncNotificationSettings'])
    assert document == {'Enabled': True, 'Recipients': 'alerts@contoso.com', 'DeleteThresholdEnabled': True,
                        'DeleteThresholdValue': 100}
    assert plan.updated == ['SecretToken', 'SyncNotificationSettings']


def test_typed_options_that_match_change_nothing():
    plan = plan_secret_changes(SCIM, {}, typed=(None, 500))

    assert not plan.changed


def test_unmasked_json_values_compare_by_meaning_not_key_order():
    reordered = '{"DeleteThresholdValue":500,"Enabled":false,"DeleteThresholdEnabled":true}'

    assert not plan_secret_changes(SCIM, {'SyncNotificationSettings': reordered}).changed


def test_diff_names_keys_only():
    plan = plan_secret_changes(SCIM, {'SecretToken': 'new-token', 'SkipOutOfScopeDeletions': 'True'})

    diff = secrets_diff([pair['key'] for pair in SCIM], plan)

    assert diff['before'] == dict((pair['key'], '(set)') for pair in SCIM)
    assert diff['after']['SecretToken'] == '(new value)'
    assert diff['after']['SkipOutOfScopeDeletions'] == '(set)'
    assert 'new-token' not in json.dumps(diff)


# --- notification settings ------------------------------------------------------------------------------------------

def test_notification_settings_from_nothing_use_the_portal_defaults():
    value, same = notification_settings(None, 'alerts@contoso.com', None)

    assert json.loads(value) == {'Enabled': True, 'Recipients': 'alerts@contoso.com', 'DeleteThresholdEnabled': True,
                                 'DeleteThresholdValue': 500}
    assert not same


def test_notification_settings_off_and_threshold_off():
    value, dummy = notification_settings('{"Enabled":true,"Recipients":"a@b.c","DeleteThresholdEnabled":true,'
                                         '"DeleteThresholdValue":50,"HumanResourcesLookaheadQueryEnabled":false}', '', 0)

    assert json.loads(value) == {'Enabled': False, 'Recipients': '', 'DeleteThresholdEnabled': False,
                                 'DeleteThresholdValue': 50, 'HumanResourcesLookaheadQueryEnabled': False}


# --- input validation ---------------------------------------------------------------------------------------------

def test_keys_are_normalised_to_graphs_spelling():
    assert canonical_key('secrettoken') == 'SecretToken'
    assert desired_secrets(params(secrets={'baseaddress': 'https://x', 'SyncAll': False})) == {'BaseAddress': 'https://x',
                                                                                               'SyncAll': 'false'}


def test_skip_out_of_scope_deletions_is_typed():
    assert desired_secrets(params(skip_out_of_scope_deletions=True)) == {'SkipOutOfScopeDeletions': 'True'}
    assert desired_secrets(params(skip_out_of_scope_deletions=False, secrets={'SyncAll': False})) == {
        'SkipOutOfScopeDeletions': 'False', 'SyncAll': 'false'}
    # Graph's "true" (set earlier through secrets) means the same: nothing to send.
    current = [{'key': 'SkipOutOfScopeDeletions', 'value': 'true'}]
    assert not plan_secret_changes(current, desired_secrets(params(skip_out_of_scope_deletions=True))).changed
    assert plan_secret_changes(current, desired_secrets(params(skip_out_of_scope_deletions=False))).updated == ['SkipOutOfScopeDeletions']


def test_unknown_key_fails_with_the_closest_one():
    with pytest.raises(TaskFailure, match=r'secrets: BaseAdress is not a synchronization secret key. Did you mean BaseAddress\?'):
        canonical_key('BaseAdress')


@pytest.mark.parametrize('overrides, message', [
    (dict(secrets={'SecretToken': ''}), r'secrets: SecretToken has an empty value; to remove the key use state=absent'),
    (dict(secrets={'SecretToken': 'a', 'secrettoken': 'b'}), r'SecretToken is given twice'),
    (dict(notification_email='not-an-address'), r"notification_email: 'not-an-address' is not an e-mail address"),
    (dict(deletion_threshold=-1), r'deletion_threshold must be 0'),
    (dict(notification_email='a@b.co', secrets={'SyncNotificationSettings': '{}'}), r'set the same key'),
    (dict(state='absent', deletion_threshold=10, secrets={'SyncAll': ''}), r'deletion_threshold applies to state=present only'),
    (dict(state='absent', secrets={}), r'state=absent removes the keys named in secrets'),
    (dict(skip_out_of_scope_deletions=True, secrets={'skipoutofscopedeletions': 'true'}), r'set the same key'),
    (dict(state='absent', skip_out_of_scope_deletions=False, secrets={'SyncAll': ''}),
     r'skip_out_of_scope_deletions applies to state=present only; to remove the key, name SkipOutOfScopeDeletions'),
])
def test_bad_input_fails_naming_the_option(overrides, message):
    with pytest.raises(TaskFailure, match=message):
        desired_secrets(params(**overrides))


@pytest.mark.parametrize('overrides, message', [
    (dict(secrets={'SecretToken': ['tok-3c1f']}), r'secrets: SecretToken must be a string \(or a number or boolean\), got a list'),
    (dict(secrets={'SecretToken': {'value': 'tok-3c1f'}}), r'secrets: SecretToken must be a string .*got a dict.*'
                                                           r'only for AppKey and SyncNotificationSettings'),
])
def test_wrong_typed_values_are_refused_naming_the_key_never_the_value(overrides, message):
    # A list used to be sent as its Python text (["tok"]), which Graph then stored as the credential.
    with pytest.raises(TaskFailure, match=message) as raised:
        desired_secrets(params(**overrides))
    assert 'tok-3c1f' not in raised.value.msg


def test_a_dict_is_a_json_document_for_the_keys_that_hold_one():
    assert desired_secrets(params(secrets={'SyncNotificationSettings': {'Enabled': False}})) == {
        'SyncNotificationSettings': '{"Enabled":false}'}


def test_check_mode_plans_for_a_service_principal_not_created_yet_without_any_request():
    def no_client(task):
        raise AssertionError('no request may be sent for a service principal that does not exist yet')

    task = Task(params(service_principal_id=None, secrets={'BaseAddress': 'https://x', 'SecretToken': 'tok-3c1f'},
                       notification_email='a@b.co'), check_mode=True, client_factory=no_client)
    result = run_synchronization_secret(task)
    assert result['changed'] is True and result['added_keys'] == ['BaseAddress', 'SecretToken', 'SyncNotificationSettings']
    assert 'tok-3c1f' in task.secrets  # masked in the result by the caller
    with pytest.raises(TaskFailure, match=r'^service_principal_id: null is not a GUID'):
        run_synchronization_secret(Task(params(service_principal_id=None, secrets={'SyncAll': True}),
                                        check_mode=False, client_factory=no_client))
