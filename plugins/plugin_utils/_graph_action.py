# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The base of every action plugin of this collection: runs a module's logic in the controller process.

A module task costs about 0.5 s (a new Python, AnsiballZ, importing msal and requests); the same work in the
controller's forked worker costs tens of milliseconds (tests/benchmarks/bench_synchronization_job.py). This class gives the task everything
``AnsibleModule`` gives a module: argument validation with the same messages, environment fallbacks (including the
task's ``environment:`` keyword), ``module_defaults`` (applied by Ansible to the task args), check and diff mode from
the task, and ``no_log`` values masked in results, warnings and errors.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible import __version__ as ansible_version
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.entra.provisioning.plugins.module_utils._task import Task, execute

# Ansible loads action plugins in the controller's main process and forks a worker per task: importing the client
# (and with it requests) here pays its cost once per playbook instead of once per task. msal stays lazy: it is
# imported only when a token has to be requested.
from ansible_collections.entra.provisioning.plugins.module_utils import _graph_client  # noqa: F401 pylint: disable=unused-import


class GraphActionBase(ActionBase):
    """Subclasses set ``module_spec`` (see ``_task.module_spec``) and ``module_logic`` (``run(task) -> dict``)."""

    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    module_spec = None
    module_logic = None

    def run(self, tmp=None, task_vars=None):
        result = super(GraphActionBase, self).run(tmp, task_vars)
        del tmp

        with _environment(self._task_environment()):
            validator = ArgumentSpecValidator(**self.module_spec)
            validation = validator.validate(dict(self._task.args))
        no_log_values, alias_warnings, deprecations = validation_findings(validation)
        # The same wording AnsibleModule uses for an option given together with its alias.
        warnings = ['Both option %(option)s and its alias %(alias)s are set.' % warning for warning in alias_warnings]
        if deprecations:
            result['deprecations'] = deprecations

        if validation.error_messages:
            error = validation.errors[0]
            msg = validation.errors.msg
            if isinstance(error, UnsupportedError):
                msg = 'Unsupported parameters for (%s) module: %s' % (self._task.action, msg)
            result.update(failed=True, msg=msg)
            return self._finish(result, validation.validated_parameters, no_log_values, warnings)

        params = validation.validated_parameters
        task = Task(params, check_mode=self._task.check_mode, diff_mode=self._task.diff)
        task.basedir = self._loader.get_basedir()
        with _environment(self._task_environment()):
            outcome = execute(type(self).module_logic, task)
        no_log_values.update(task.secrets)
        warnings.extend(task.warnings)
        if not task.diff_mode:
            outcome.pop('diff', None)
        result.update(outcome)
        return self._finish(result, params, no_log_values, warnings)

    def _finish(self, result, params, no_log_values, warnings):
        if warnings:
            result['warnings'] = warnings
        result['invocation'] = dict(module_args=params)
        return remove_values(result, no_log_values)

    def _task_environment(self):
        """The task's ``environment:`` keyword, templated, as a module process would receive it."""
        merged = {}
        environments = self._task.environment or []
        if not isinstance(environments, list):
            environments = [environments]
        for environment in environments:
            if not environment:
                continue
            templated = self._templar.template(environment)
            if not isinstance(templated, dict):
                raise AnsibleError('environment must be a dictionary, received %s' % type(templated).__name__)
            merged.update(templated)
        return dict((str(key), str(value)) for key, value in merged.items())


def validation_findings(validation):
    """``(no_log values, alias warnings, deprecations)`` of an ``ArgumentSpecValidator.validate()`` result.

    No ansible-core from 2.17 to 2.21 makes them public: ``ValidationResult`` exposes only ``validated_parameters``,
    ``unsupported_parameters``, ``errors`` and ``error_messages``, and ``ModuleArgumentSpecValidator`` sends the other
    findings to the module-side warning store, not to the caller. ``AnsibleModule`` itself reads ``_no_log_values``
    (https://github.com/ansible/ansible/blob/stable-2.17/lib/ansible/module_utils/common/arg_spec.py,
    https://github.com/ansible/ansible/blob/stable-2.17/lib/ansible/module_utils/basic.py). The unit tests
    (tests/unit/plugins/plugin_utils/test__graph_action.py) pin them on every supported core; should a core drop
    them, the task fails with this message instead of running with secrets unmasked.
    """
    try:
        return set(validation._no_log_values), list(validation._warnings), list(validation._deprecations)
    except AttributeError as error:
        raise AnsibleError('entra.provisioning cannot read the argument validation of this ansible-core (%s): %s'
                           % (ansible_version, error))


class _environment:
    """Apply the task's environment to this worker process for the duration of the block.

    Each task runs in its own forked worker, so the change never leaks into another task.
    """

    def __init__(self, overrides):
        self.overrides = overrides
        self.saved = {}

    def __enter__(self):
        for key, value in self.overrides.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value
        return self

    def __exit__(self, *exc_info):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return False
