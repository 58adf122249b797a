# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.entra.provisioning.plugins.modules import provision_on_demand

# The module whose main() the conftest.py fixture ``run`` runs.
MODULE = provision_on_demand

SP = '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f'


def test_the_job_is_addressed_as_synchronization_job_addresses_it(run):
    result = run(service_principal_id=SP, subjects=[{'object_id': SP}])

    assert result['failed'] is True
    assert 'one of the following is required: template_id, job_id' in result['msg']


def test_a_user_principal_name_given_as_object_id_fails_before_any_request(run):
    result = run(service_principal_id=SP, template_id='scim', subjects=[{'object_id': 'alice@contoso.com'}])

    assert result['failed'] is True
    assert result['msg'].startswith("subjects[0].object_id: 'alice@contoso.com' is not a GUID; give the object id of the user")


def test_a_subject_needs_an_id_or_a_name(run):
    result = run(service_principal_id=SP, template_id='scim', subjects=[{'type': 'user'}])

    assert result['failed'] is True
    assert 'object_id' in result['msg'] and 'user_principal_name' in result['msg']
