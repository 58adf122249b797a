# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action base on the running ansible-core: validation findings, no_log masking, check and diff mode.

tests/run.sh runs the unit tests on every ansible-core the collection supports, so these pin the private
``ValidationResult`` attributes the action base reads (see ``validation_findings``) on each of them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
from types import SimpleNamespace

import pytest

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.entra.provisioning.plugins.plugin_utils._graph_action import GraphActionBase, validation_findings

SPEC = dict(argument_spec=dict(
    secret=dict(type='str', no_log=True, fallback=(env_fallback, ['ENTRA_UNIT_TEST_SECRET'])),
    token=dict(type='str', no_log=True),
    name=dict(type='str', aliases=['display_name'],
              deprecated_aliases=[dict(name='display_name', version='9.0.0', collection_name='entra.provisioning')]),
))


def test_validation_findings_of_this_core(monkeypatch):
    monkeypatch.setenv('ENTRA_UNIT_TEST_SECRET', 'from-the-environment')
    validation = ArgumentSpecValidator(**SPEC).validate(dict(token='given-token', name='a', display_name='b'))

    no_log_values, warnings, deprecations = validation_findings(validation)

    assert no_log_values == {'from-the-environment', 'given-token'}
    assert warnings == [dict(option='name', alias='display_name')]
    assert [(entry['version'], entry['collection_name']) for entry in deprecations] == [('9.0.0', 'entra.provisioning')]
    assert 'display_name' in deprecations[0]['msg']


def test_validation_findings_fail_clearly_when_a_core_drops_them():
    with pytest.raises(Exception, match='cannot read the argument validation of this ansible-core'):
        validation_findings(SimpleNamespace(validated_parameters={}))


class EchoAction(GraphActionBase):
    """Echoes what the resource logic received, a secret included, to show what the base masks and strips."""

    module_spec = SPEC

    @staticmethod
    def module_logic(task):
        task.add_secret('learnt-at-run-time')
        return dict(changed=True, check_mode=task.check_mode, seen=[task.params['secret'], task.params['token'], 'learnt-at-run-time'],
                    diff=dict(before='a', after='b'))


def run_action(args, check_mode=False, diff=False, environment=None):
    task = SimpleNamespace(args=args, action='entra.provisioning.echo', async_val=0, check_mode=check_mode, diff=diff,
                           environment=environment or [])
    templar = SimpleNamespace(template=lambda value: value)
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir='/nonexistent'))
    loader = SimpleNamespace(get_basedir=lambda: '/playbooks')
    action = EchoAction(task, connection, None, loader, templar, None)
    return action.run(task_vars={})


def test_the_action_masks_every_secret_and_takes_check_and_diff_mode_from_the_task():
    result = run_action(dict(token='given-token', name='x'), check_mode=True, diff=False,
                        environment=[dict(ENTRA_UNIT_TEST_SECRET='from-the-task-environment')])

    assert result['changed'] is True and result['check_mode'] is True
    assert result['seen'] == ['VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'] * 3
    assert result['invocation']['module_args']['secret'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert 'diff' not in result
    assert 'ENTRA_UNIT_TEST_SECRET' not in os.environ  # the task environment is undone after the task
    assert run_action(dict(name='x'), diff=True)['diff'] == dict(before='a', after='b')
    assert run_action(dict(name='x'))['check_mode'] is False


def test_the_action_reports_alias_warnings_deprecations_and_unsupported_options():
    result = run_action(dict(name='a', display_name='b'))
    assert result['warnings'] == ['Both option name and its alias display_name are set.']
    assert result['deprecations'][0]['version'] == '9.0.0'

    failed = run_action(dict(name='a', colour='blue'))
    assert failed['failed'] is True
    assert failed['msg'].startswith('Unsupported parameters for (entra.provisioning.echo) module: colour.')
