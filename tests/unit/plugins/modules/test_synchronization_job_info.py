# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json


from ansible_collections.entra.provisioning.plugins.modules import synchronization_job_info

# The module whose main() the conftest.py fixture ``run`` runs.
MODULE = synchronization_job_info


def test_an_app_id_given_as_service_principal_id_fails_before_any_request(run):
    result = run(service_principal_id='Contoso HR SCIM')

    assert result['failed'] is True
    assert result['msg'].startswith("service_principal_id: 'Contoso HR SCIM' is not a GUID; give the object id of the service principal")
    assert result['changed'] is False


def test_scope_options_are_mutually_exclusive(run):
    result = run(service_principal_id='5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f', service_principal_filter="startswith(displayName,'A')")

    assert result['failed'] is True
    assert 'mutually exclusive' in result['msg']
    assert 'service_principal_filter' in result['msg']


def test_the_client_secret_never_reaches_the_result(run):
    result = run(batch_concurrency=99)

    assert result['failed'] is True
    assert 'batch_concurrency' in result['msg']
    assert 'not-a-real-secret' not in json.dumps(result)
