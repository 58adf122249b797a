# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json


from ansible_collections.entra.provisioning.plugins.modules import synchronization_secret

# The module whose main() the conftest.py fixture ``run`` runs.
MODULE = synchronization_secret

SP_ID = '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f'
TOKEN = 'scim-token-do-not-print-6f1e'


def test_an_unknown_key_fails_before_any_request_and_never_shows_a_value(run):
    result = run(service_principal_id=SP_ID, secrets={'SecretTokn': TOKEN, 'BaseAddress': 'https://scim.test'})

    assert result['failed'] is True and result['changed'] is False
    assert 'SecretTokn is not a synchronization secret key. Did you mean SecretToken?' in result['msg']
    assert TOKEN not in json.dumps(result)
    assert 'not-a-real-secret' not in json.dumps(result)


def test_something_to_set_is_required(run):
    result = run(service_principal_id=SP_ID)

    assert result['failed'] is True
    assert 'one of the following is required: secrets, notification_email, deletion_threshold' in result['msg']


def test_typed_options_are_validated(run):
    result = run(service_principal_id=SP_ID, notification_email='two@a.test, three@a.test')

    assert result['failed'] is True and result['msg'].startswith('notification_email:')
