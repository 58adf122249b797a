# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra.provisioning.synchronization_secret against the Graph emulator, whose secrets PUT replaces the whole set and
whose GET masks sensitive values as "*" (docs/graph-behaviour.md §4.2, §4.3); and a -vvvv run of the whole job and secret
scenario that must never print a secret."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools

from emulator_directory import Directory
from playbook_tasks import failed, last_seq, new_service_principal, ok, playbook, task

TOKEN = 'scim-bearer-4b1d9e2f7a'
ROTATED_TOKEN = 'scim-bearer-rotated-88c0aa51'
BASE_ADDRESS = 'https://scim.contoso.test/v2'

job_task = functools.partial(task, 'entra.provisioning.synchronization_job')
secret_task = functools.partial(task, 'entra.provisioning.synchronization_secret')


def test_bad_input_fails_before_any_write(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    emulator.clear_log()

    run = run_playbook(playbook(
        secret_task('typo in a key', ignore_errors=True, service_principal_id=sp_id, secrets={'BaseAdress': BASE_ADDRESS}),
        secret_task('bad address', ignore_errors=True, service_principal_id=sp_id, notification_email='alerts at contoso'),
        secret_task('negative threshold', ignore_errors=True, service_principal_id=sp_id, deletion_threshold=-5),
        secret_task('empty value', ignore_errors=True, service_principal_id=sp_id, secrets={'SecretToken': ''}),
        secret_task('not a guid', ignore_errors=True, service_principal_id='contoso-scim', secrets={'SyncAll': False}),
    ))

    assert 'Did you mean BaseAddress?' in failed(run, 'typo in a key')['msg']
    assert 'notification_email' in failed(run, 'bad address')['msg']
    assert 'deletion_threshold' in failed(run, 'negative threshold')['msg']
    assert 'use state=absent' in failed(run, 'empty value')['msg']
    assert 'service_principal_id' in failed(run, 'not a guid')['msg']
    assert emulator.writes() == []


def test_set_repeat_keep_unnamed_keys_and_masked_values(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    credentials = dict(service_principal_id=sp_id, secrets={'BaseAddress': BASE_ADDRESS, 'SecretToken': TOKEN},
                       update_secrets='on_create')

    # Check mode: the keys that would be added, nothing sent.
    seq = last_seq(emulator)
    preview = ok(run_playbook(playbook(secret_task('preview', **credentials)), check=True), 'preview')
    assert preview['changed'] is True and preview['added_keys'] == ['BaseAddress', 'SecretToken']
    assert emulator.writes(seq) == []

    # Set, then repeat: nothing changes and nothing is sent, although SecretToken reads back as "*".
    created = ok(run_playbook(playbook(secret_task('set', **credentials))), 'set')
    assert created['changed'] is True and created['secret_keys'] == ['BaseAddress', 'SecretToken']
    seq = last_seq(emulator)
    repeat = ok(run_playbook(playbook(secret_task('repeat', **credentials))), 'repeat')
    assert repeat['changed'] is False
    assert emulator.writes(seq) == []
    assert [entry['method'] for entry in emulator.graph_requests(seq)] == ['GET']

    # update_secrets=always writes the masked key every time (its value cannot be compared).
    always = ok(run_playbook(playbook(secret_task('always', service_principal_id=sp_id, secrets={'SecretToken': ROTATED_TOKEN}))),
                'always')
    assert always['changed'] is True and always['updated_keys'] == ['SecretToken']

    # Another key, named alone: BaseAddress (in clear) is sent back as it is, so it is kept.
    secrets = {'SecretToken': ROTATED_TOKEN, 'SyncAll': False}
    run = run_playbook(playbook(secret_task('add a key', service_principal_id=sp_id, secrets=secrets)))
    added = ok(run, 'add a key')
    assert added['added_keys'] == ['SyncAll']
    assert added['secret_keys'] == ['BaseAddress', 'SecretToken', 'SyncAll']

    # A change that would drop the masked SecretToken fails, names it, and sends nothing.
    seq = last_seq(emulator)
    run = run_playbook(playbook(secret_task('drop the token', ignore_errors=True, service_principal_id=sp_id,
                                            secrets={'BaseAddress': 'https://scim2.contoso.test/v2'})))
    result = failed(run, 'drop the token')
    assert 'SecretToken' in result['msg'] and result['masked_keys'] == ['SecretToken']
    assert emulator.writes(seq) == []

    # The saved credentials are the ones given: validateCredentials with the saved ones succeeds.
    run = run_playbook(playbook(job_task('validate by starting', service_principal_id=sp_id, template_id='scim',
                                         state='started', validate_credentials=True)))
    assert ok(run, 'validate by starting')['actions'] == ['create', 'validate_credentials', 'start']


def test_typed_notification_settings(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    typed = dict(service_principal_id=sp_id, notification_email='identity-team@contoso.test', deletion_threshold=50)

    first = ok(run_playbook(playbook(secret_task('notifications', **typed))), 'notifications')
    assert first['changed'] is True and first['added_keys'] == ['SyncNotificationSettings']
    seq = last_seq(emulator)
    again = ok(run_playbook(playbook(secret_task('again', **typed))), 'again')
    assert again['changed'] is False
    assert emulator.writes(seq) == []
    lower = ok(run_playbook(playbook(secret_task('lower threshold', service_principal_id=sp_id, deletion_threshold=25))),
               'lower threshold')
    assert lower['updated_keys'] == ['SyncNotificationSettings']


def test_typed_skip_out_of_scope_deletions(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    keep = dict(service_principal_id=sp_id, skip_out_of_scope_deletions=True, deletion_threshold=50)
    first = ok(run_playbook(playbook(secret_task('keep out-of-scope accounts', **keep))), 'keep out-of-scope accounts')
    assert first['added_keys'] == ['SkipOutOfScopeDeletions', 'SyncNotificationSettings']
    pairs = dict((pair['key'], pair['value']) for pair in emulator_secrets(emulator, sp_id))
    assert pairs['SkipOutOfScopeDeletions'] == 'True'
    seq = last_seq(emulator)
    assert ok(run_playbook(playbook(secret_task('again', **keep))), 'again')['changed'] is False
    assert emulator.writes(seq) == []
    off = ok(run_playbook(playbook(secret_task('off', service_principal_id=sp_id, skip_out_of_scope_deletions=False))), 'off')
    assert off['updated_keys'] == ['SkipOutOfScopeDeletions']


def emulator_secrets(emulator, sp_id):
    return Directory(emulator).get('/servicePrincipals/%s/synchronization/secrets' % sp_id)['value']


def test_remove_keys(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    ok(run_playbook(playbook(secret_task('set', service_principal_id=sp_id,
                                         secrets={'BaseAddress': BASE_ADDRESS, 'SecretToken': TOKEN,
                                                  'SkipOutOfScopeDeletions': True}))), 'set')

    run = run_playbook(playbook(
        secret_task('remove with the token kept', ignore_errors=True, service_principal_id=sp_id,
                    secrets={'SkipOutOfScopeDeletions': ''}, state='absent'),
        secret_task('remove both', service_principal_id=sp_id, secrets={'SkipOutOfScopeDeletions': '', 'SecretToken': ''},
                    state='absent'),
        secret_task('set the token again', service_principal_id=sp_id, secrets={'SecretToken': TOKEN}),
        secret_task('remove again', service_principal_id=sp_id, secrets={'SkipOutOfScopeDeletions': ''}, state='absent'),
    ))

    kept = failed(run, 'remove with the token kept')
    assert 'SecretToken' in kept['msg'] and 'state=absent' in kept['msg']
    both = ok(run, 'remove both')
    assert both['removed_keys'] == ['SecretToken', 'SkipOutOfScopeDeletions'] and both['secret_keys'] == ['BaseAddress']
    assert ok(run, 'set the token again')['secret_keys'] == ['BaseAddress', 'SecretToken']
    assert ok(run, 'remove again')['changed'] is False


def test_diff_names_keys_only(run_playbook, emulator):
    sp_id = new_service_principal(emulator)

    run = run_playbook(playbook(secret_task('set', service_principal_id=sp_id,
                                            secrets={'BaseAddress': BASE_ADDRESS, 'SecretToken': TOKEN})), diff=True)

    ok(run, 'set')
    assert 'SecretToken' in run.output and 'BaseAddress' in run.output
    assert TOKEN not in run.output and BASE_ADDRESS not in run.output


def test_no_secret_is_ever_printed_at_maximum_verbosity(run_playbook, emulator):
    """The whole scenario at -vvvv, check mode and diff included: the output never holds a secret value."""
    sp_id = new_service_principal(emulator)
    emulator.control('PUT', '/settings', {'cycle_seconds': 2})
    client_secret = emulator.connection_env()['AZURE_CLIENT_SECRET']
    scenario = [
        secret_task('preview credentials', service_principal_id=sp_id, secrets={'BaseAddress': BASE_ADDRESS, 'SecretToken': TOKEN}),
        secret_task('credentials', service_principal_id=sp_id, secrets={'BaseAddress': BASE_ADDRESS, 'SecretToken': TOKEN},
                    notification_email='identity-team@contoso.test', deletion_threshold=50),
        secret_task('rotate', service_principal_id=sp_id, secrets={'SecretToken': ROTATED_TOKEN}),
        secret_task('refused change', ignore_errors=True, service_principal_id=sp_id, secrets={'BaseAddress': 'https://x.test/scim'}),
        job_task('start', service_principal_id=sp_id, template_id='scim', state='started', validate_credentials=True,
                 wait=True, wait_for='first_cycle', wait_timeout=60),
        # In check mode there is no job to restart: the failure's message is printed too, and must hold no secret.
        dict(job_task('restart', service_principal_id=sp_id, template_id='scim', state='restarted', restart_scope=['Watermark']),
             ignore_errors=True),
        job_task('delete', service_principal_id=sp_id, template_id='scim', state='absent'),
        secret_task('remove the token', service_principal_id=sp_id, secrets={'SecretToken': ''}, state='absent'),
    ]

    outputs = []
    for check in (True, False):
        run = run_playbook(playbook(*scenario), check=check, diff=True, verbosity=4)
        outputs.append(run.output)
        assert run.rc == 0, run.output[-5000:]
    output = '\n'.join(outputs)

    assert 'TASK [rotate]' in output and '"updated_keys"' in output and 'SecretToken' in output  # it ran, verbosely
    for secret in (TOKEN, ROTATED_TOKEN, client_secret):
        assert secret not in output, 'a secret value appears in the -vvvv output'
