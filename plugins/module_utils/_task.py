# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""What resource logic sees of Ansible: one ``Task`` object in, one result dict out.

The action plugins (controller side) and the modules' ``main()`` (direct execution) are both thin glue around
``execute(run, task)``; failures of every kind become a result here, in one place.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import (
    ConnectionSettings,
    OptionError,
    GRAPH_ARGUMENT_SPEC,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError


class TaskFailure(Exception):
    """Fail the task with ``msg`` (which names the option and the fix) and any extra result keys."""

    def __init__(self, msg, **result):
        super(TaskFailure, self).__init__(msg)
        self.msg = msg
        self.result = result


class Task:
    """One task's parameters and mode, and the Graph client built from its connection options."""

    def __init__(self, params, check_mode=False, diff_mode=False, warn=None, client_factory=None):
        self.params = params
        self.check_mode = bool(check_mode)
        self.diff_mode = bool(diff_mode)
        self.warnings = []
        self.secrets = set()
        self._warn = warn
        self._client = None
        self._client_factory = client_factory
        # The directory relative paths of files the task writes start from (the playbook's directory under the action
        # plugin); None: the current directory.
        self.basedir = None

    def warn(self, msg):
        if self._warn is not None:
            self._warn(msg)
        else:
            self.warnings.append(msg)

    def add_secret(self, value):
        """A value learnt at run time that must never appear in the result."""
        if value:
            self.secrets.add(value)

    def client(self):
        if self._client is None:
            if self._client_factory is not None:
                self._client = self._client_factory(self)
            else:
                # Imported here so that argument validation and pure logic never import requests or msal.
                from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import GraphClient
                settings = ConnectionSettings(self.params)
                self._client = GraphClient(settings, check_mode=self.check_mode, warn=self.warn)
        return self._client


def module_spec(argument_spec, **rules):
    """The full spec of a module: its own options plus the shared connection options, and the cross-option rules.

    The same dict feeds ``AnsibleModule(**spec)`` and ``ArgumentSpecValidator(**spec)``.
    """
    spec = dict(GRAPH_ARGUMENT_SPEC)
    spec.update(argument_spec)
    result = dict(argument_spec=spec)
    result.update(rules)
    return result


def execute(run, task):
    """Run resource logic and turn every failure into a failed result, never leaking a traceback of secrets."""
    try:
        result = run(task)
    except TaskFailure as failure:
        result = dict(failure.result, failed=True, msg=failure.msg)
    except OptionError as error:
        result = dict(failed=True, msg=str(error))
    except GraphError as error:
        result = dict(failed=True, msg=str(error), error=error.to_result())
    result.setdefault('changed', False)
    return result


def run_as_module(spec, run):
    """``main()`` of every module: the same logic as the action plugin, under ``AnsibleModule``."""
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(supports_check_mode=True, **spec)
    task = Task(module.params, check_mode=module.check_mode, diff_mode=module._diff, warn=module.warn)
    result = execute(run, task)
    module.no_log_values.update(task.secrets)
    if not task.diff_mode:
        result.pop('diff', None)
    if result.pop('failed', False):
        module.fail_json(**result)
    module.exit_json(**result)
