# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.entra.provisioning.plugins.modules import synchronization_job_info

# Connection options that pass validation; nothing is sent, because every case below fails before the first request.
CONNECTION = dict(tenant_id='00000000-0000-0000-0000-000000000000', client_id='11111111-1111-1111-1111-111111111111',
                  client_secret='not-a-real-secret', graph_endpoint='https://127.0.0.1:9', authority_host='https://127.0.0.1:9')


def run_main(capsys, **args):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            synchronization_job_info.main()
    return json.loads(capsys.readouterr().out)


def test_an_app_id_given_as_service_principal_id_fails_before_any_request(capsys):
    result = run_main(capsys, service_principal_id='Contoso HR SCIM')

    assert result['failed'] is True
    assert result['msg'].startswith('service_principal_id must be the object ID of a service principal')
    assert result['changed'] is False


def test_scope_options_are_mutually_exclusive(capsys):
    result = run_main(capsys, service_principal_id='5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f', service_principal_filter="startswith(displayName,'A')")

    assert result['failed'] is True
    assert 'mutually exclusive' in result['msg']
    assert 'service_principal_filter' in result['msg']


def test_the_client_secret_never_reaches_the_result(capsys):
    result = run_main(capsys, batch_concurrency=99)

    assert result['failed'] is True
    assert 'batch_concurrency' in result['msg']
    assert 'not-a-real-secret' not in json.dumps(result)
