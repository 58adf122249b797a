# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: writes every task result as one JSON line to $RESULT_RECORDER_FILE, for assertions in pytest."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: result_recorder
type: aggregate
short_description: Record task results as JSON lines for the integration tests
description:
  - Writes one JSON object per task result to the file named by E(RESULT_RECORDER_FILE).
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'result_recorder'
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get('RESULT_RECORDER_FILE')
        if not path:
            return
        payload = dict(result._result)
        if status == 'ok' and payload.get('changed'):
            status = 'changed'
        if status == 'failed':
            payload['failed'] = True  # ansible-core 2.19 keeps the failure flag out of _result
        line = dict(task=result._task.get_name(), host=result._host.get_name(), status=status, result=payload)
        with open(path, 'a') as handle:
            handle.write(json.dumps(line, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')
