# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""synchronization_schema's main(): the argument spec and the checks that fail before any request (the connection
options point at a closed port, so a request would fail with another message)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.entra.provisioning.plugins.modules import synchronization_schema

# The module whose main() the conftest.py fixture ``run`` runs.
MODULE = synchronization_schema

SP_ID = '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f'
SCIM_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'


def mappings(**attribute_mapping):
    return [dict(source_object='User', target_object=SCIM_USER, attribute_mappings=[dict(dict(target='title'), **attribute_mapping)])]


@pytest.mark.parametrize('args, message', [
    (dict(service_principal_id=SP_ID), 'one of the following is required: template_id, job_id'),
    (dict(service_principal_id='appid-not-guid', template_id='scim', object_mappings=mappings(source='mail')), 'is not a GUID'),
    (dict(service_principal_id=SP_ID, template_id='scim'), 'nothing to do'),
    (dict(service_principal_id=SP_ID, template_id='scim', object_mappings=mappings(source='mail', expression='[mail]')),
     'parameters are mutually exclusive: source|expression|constant'),
    (dict(service_principal_id=SP_ID, template_id='scim', object_mappings=mappings(flow_type='Sometimes', source='mail')),
     'flow_type must be one of'),
    (dict(service_principal_id=SP_ID, template_id='scim', object_mappings=mappings(expression='ToLower([mail])', tests=[dict(expect='x')])),
     'missing required arguments: input'),
    (dict(service_principal_id=SP_ID, template_id='scim', state='reset', object_mappings=mappings(source='mail')),
     'state=reset deletes the customised schema'),
    (dict(service_principal_id=SP_ID, template_id='scim', object_mappings=[dict(
        source_object='User', target_object=SCIM_USER, scoping_filter=[[dict(attribute='department', operator='CONTAINS', values=['x'])]])]),
     "operator 'CONTAINS' is not a scoping-filter operator"),
])
def test_bad_input_fails_before_any_request(run, args, message):
    result = run(**args)
    assert result['failed'] is True and result.get('changed', False) is False
    assert message in result['msg']


def test_check_mode_for_a_service_principal_not_created_yet_checks_the_options_only(run_main):
    result = run_main(synchronization_schema, service_principal_id=None, _ansible_check_mode=True,
                      object_mappings=mappings(source='mail'))
    assert result.get('failed') is not True, result
    assert result['changed'] is False and result['changes'] == []
    bad = run_main(synchronization_schema, service_principal_id=None, _ansible_check_mode=True,
                   object_mappings=mappings(source='mail', state='absent'))
    assert bad['failed'] is True and 'state=absent removes the mapping' in bad['msg']
