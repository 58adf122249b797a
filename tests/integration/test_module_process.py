# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' own ``main()`` (``_task.run_as_module``) run as a real module process against the emulator.

Playbooks run the action plugins; a module file still runs by itself when the action plugin is bypassed (an
execution environment that calls the module, ``ansible-doc``-driven tools, a developer's ``python module.py args.json``).
AnsibleModule reads the arguments from the JSON file named on the command line:
https://docs.ansible.com/ansible/latest/dev_guide/debugging.html
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

from collection_under_test import COLLECTION_ROOT
from playbook_tasks import new_service_principal

MODULES_DIR = os.path.join(COLLECTION_ROOT, 'plugins', 'modules')


def run_module(tmp_path, runner, name, args):
    """Run plugins/modules/<name>.py as a process, the collection importable from ``runner.collections``; returns its
    JSON result and its raw output."""
    emulator = runner.emulator
    args_path = tmp_path / 'args.json'
    args_path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=runner.collections, **emulator.connection_env())
    env.pop('ENTRA_TOKEN_CACHE_PATH', None)
    completed = subprocess.run([sys.executable, os.path.join(MODULES_DIR, name + '.py'), str(args_path)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, check=False,
                               universal_newlines=True)
    assert completed.stdout.strip(), completed.stderr
    return json.loads(completed.stdout), completed.stdout + completed.stderr


def test_info_module_process_reads_jobs_with_connection_options_from_the_environment(tmp_path, run_playbook, fresh_emulator):
    sp_id = fresh_emulator.seed(1, 1, return_ids=True)['ids'][0]

    result, output = run_module(tmp_path, run_playbook, 'synchronization_job_info', dict(service_principal_id=sp_id))

    assert not result.get('failed'), result
    assert result['changed'] is False
    assert [job['service_principal']['id'] for job in result['jobs']] == [sp_id]
    assert result['jobs'][0]['id'] and result['jobs'][0]['health']
    # ansible-core 2.21 no longer echoes the module's arguments (invocation); where a core does, the secret is masked.
    assert result.get('invocation', {}).get('module_args', {}).get('client_secret') in (None, 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER')
    assert fresh_emulator.connection_env()['AZURE_CLIENT_SECRET'] not in output
    assert fresh_emulator.writes() == []
    assert fresh_emulator.graph_requests()


def test_job_module_process_in_check_mode_predicts_and_writes_nothing_then_creates(tmp_path, run_playbook, fresh_emulator):
    sp_id = new_service_principal(fresh_emulator)
    args = dict(service_principal_id=sp_id, template_id='scim', state='present')

    preview, dummy = run_module(tmp_path, run_playbook, 'synchronization_job', dict(args, _ansible_check_mode=True))
    assert not preview.get('failed'), preview
    assert preview['changed'] is True and preview['actions'] == ['create'] and preview['job']['id'] is None
    assert fresh_emulator.writes() == []

    created, dummy = run_module(tmp_path, run_playbook, 'synchronization_job', args)
    assert not created.get('failed'), created
    assert created['changed'] is True and created['job']['id'] and created['job']['template_id'] == 'scim'
    assert [(entry['method'], entry['path']) for entry in fresh_emulator.writes()] == [
        ('POST', '/v1.0/servicePrincipals/%s/synchronization/jobs' % sp_id)]
