# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the controller-side action plugins owe users: everything AnsibleModule gives, for real playbook runs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from playbook_tasks import new_service_principal

PLAY = '''
- name: Action plugin behaviour
  hosts: localhost
  gather_facts: false
  tasks:
%s
'''


def play(tasks):
    return PLAY % '\n'.join('    ' + line for line in tasks.strip('\n').split('\n'))


def test_argument_errors_match_ansible_module_wording(run_playbook):
    run = run_playbook(play('''
- name: Unknown option
  entra.provisioning.synchronization_job_info:
    no_such_option: 1
  ignore_errors: true
- name: Wrong type
  entra.provisioning.synchronization_job_info:
    include_schema: maybe
  ignore_errors: true
'''))
    unknown = run.result('Unknown option')['result']
    assert unknown['failed']
    assert unknown['msg'].startswith('Unsupported parameters for (entra.provisioning.synchronization_job_info) module: no_such_option.')
    wrong = run.result('Wrong type')['result']
    assert wrong['failed'] and 'include_schema' in wrong['msg'] and 'bool' in wrong['msg']


def test_module_defaults_group_and_task_environment_reach_the_module(run_playbook, fresh_emulator):
    env = fresh_emulator.connection_env()
    run = run_playbook('''
- name: Group defaults
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/entra.provisioning.graph:
      tenant_id: "%(tenant)s"
      client_id: "%(client)s"
  tasks:
    - name: Scan with the secret from the task environment
      entra.provisioning.synchronization_job_info:
      environment:
        AZURE_CLIENT_SECRET: "%(secret)s"
''' % dict(tenant=env['AZURE_TENANT_ID'], client=env['AZURE_CLIENT_ID'], secret=env['AZURE_CLIENT_SECRET']),
        env=dict(AZURE_TENANT_ID='wrong-tenant', AZURE_CLIENT_ID='wrong-client', AZURE_CLIENT_SECRET='wrong-secret'))
    result = run.result('Scan with the secret from the task environment')
    assert result['status'] == 'ok', run
    assert result['result']['invocation']['module_args']['tenant_id'] == env['AZURE_TENANT_ID']
    assert result['result']['invocation']['module_args']['client_secret'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert env['AZURE_CLIENT_SECRET'] not in run.output


def test_conflicting_credentials_fail_before_any_request(run_playbook, fresh_emulator):
    run = run_playbook(play('''
- name: Two credentials
  entra.provisioning.synchronization_job_info:
    federated_token_file: /var/run/secrets/azure/tokens/azure-identity-token
  ignore_errors: true
'''))
    result = run.result('Two credentials')['result']
    assert result['failed']
    assert 'More than one credential given (client_secret, federated_token_file)' in result['msg']
    assert fresh_emulator.requests_log() == []


def test_check_mode_is_taken_from_the_task(run_playbook, fresh_emulator):
    # A task that would write (create and start a job): in check mode it predicts the change and sends no write.
    # The task keyword, not --check: the action plugin must read the mode from the task it runs.
    sp_id = new_service_principal(fresh_emulator)
    run = run_playbook(play('''
- name: Preview a new job
  entra.provisioning.synchronization_job:
    service_principal_id: "%s"
    template_id: scim
    state: started
  check_mode: true
''' % sp_id))
    result = run.result('Preview a new job')
    assert result['status'] == 'changed', run
    assert result['result']['actions'] == ['create', 'start']
    assert result['result']['job']['id'] is None
    assert fresh_emulator.writes() == []
    assert fresh_emulator.graph_requests(), 'the preview reads the current jobs'


def test_no_secret_or_token_in_a_vvvv_run(run_playbook, fresh_emulator, token_cache_path):
    # Secrets come from variables, as in real playbooks (a literal in the playbook would be shown by Ansible's own
    # error context around a failed task).
    env = fresh_emulator.connection_env()
    run = run_playbook(play('''
- name: Scan with the secret as an option
  entra.provisioning.synchronization_job_info:
    client_secret: "{{ lookup('ansible.builtin.env', 'TEST_GOOD_SECRET') }}"
- name: Fail with a wrong secret
  entra.provisioning.synchronization_job_info:
    client_secret: "{{ lookup('ansible.builtin.env', 'TEST_WRONG_SECRET') }}"
    token_cache: false
  ignore_errors: true
'''), verbosity=4, env=dict(TEST_GOOD_SECRET=env['AZURE_CLIENT_SECRET'], TEST_WRONG_SECRET='wrong-secret-value-0042'))
    assert run.result('Scan with the secret as an option')['status'] == 'ok', run
    failed = run.result('Fail with a wrong secret')['result']
    assert 'AADSTS7000215' in failed['msg']
    with open(token_cache_path) as handle:
        cache = json.load(handle)
    tokens = [entry['secret'] for msal_cache in cache['token_caches'].values() for entry in msal_cache['AccessToken'].values()]
    assert tokens
    for secret in [env['AZURE_CLIENT_SECRET'], 'wrong-secret-value-0042'] + tokens:
        assert secret not in run.output
