# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json


from ansible_collections.entra.provisioning.plugins.modules import synchronization_job

# The module whose main() the conftest.py fixture ``run`` runs.
MODULE = synchronization_job

SP_ID = '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f'


def test_an_app_id_instead_of_an_object_id_fails_naming_the_option(run):
    result = run(service_principal_id='Contoso HR SCIM', template_id='scim')

    assert result['failed'] is True and result['changed'] is False
    assert result['msg'].startswith("service_principal_id: 'Contoso HR SCIM' is not a GUID")


def test_a_scope_microsoft_says_not_to_use_is_refused(run):
    result = run(service_principal_id=SP_ID, template_id='scim', state='restarted', restart_scope=['None'])

    assert result['failed'] is True
    assert 'restart_scope: None must not be used' in result['msg']


def test_parent_and_job_identity_rules(run):
    assert 'one of the following is required: service_principal_id, application_id' in \
        run(template_id='scim')['msg']
    assert 'one of the following is required: template_id, job_id' in run(service_principal_id=SP_ID)['msg']
    assert 'mutually exclusive' in run(service_principal_id=SP_ID, application_id=SP_ID, template_id='scim')['msg']


def test_the_client_secret_never_reaches_the_result(run):
    result = run(service_principal_id=SP_ID, template_id='scim', state='sideways')

    assert result['failed'] is True and 'state' in result['msg']
    assert 'not-a-real-secret' not in json.dumps(result)
