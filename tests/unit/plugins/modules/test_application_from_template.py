# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json


from ansible_collections.entra.provisioning.plugins.modules import application_from_template

# The module whose main() the conftest.py fixture ``run`` runs.
MODULE = application_from_template


def test_a_synchronization_template_id_given_as_template_id_fails_pointing_to_template_name(run):
    result = run(template_id='scim', display_name='Contoso HR SCIM')

    assert result['failed'] is True and result['changed'] is False
    assert result['msg'].startswith("template_id: 'scim' is not a GUID; give the id of an application template")
    assert 'template_name' in result['msg']


def test_template_identity_rules(run):
    assert 'one of the following is required: template_id, template_name' in \
        run(display_name='Contoso HR SCIM')['msg']
    assert 'mutually exclusive' in run(display_name='x', template_id='8adf8e6e-67b2-4cf2-a259-e3dc5476c621',
                                       template_name='Salesforce')['msg']
    assert 'display_name' in run(template_name='Salesforce')['msg']


def test_a_blank_display_name_fails_and_the_client_secret_never_reaches_the_result(run):
    result = run(template_name='Salesforce', display_name='  ')

    assert result['failed'] is True
    assert result['msg'].startswith('display_name must not be empty')
    assert 'not-a-real-secret' not in json.dumps(result)
