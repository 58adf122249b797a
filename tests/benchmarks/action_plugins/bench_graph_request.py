# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's baseline task: an action plugin that sends one Graph GET, and nothing else.

It costs what any controller-side task with one HTTPS request costs (a forked worker, a new TLS connection, one
request), which is the floor of a no-change synchronization_job task. requests is imported when Ansible loads the
plugin in the controller process, as the collection's action plugins import the Graph client.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import requests

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _requires_connection = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        with requests.Session() as session:
            response = session.get(args['url'], headers={'Authorization': 'Bearer ' + args['token'], 'Accept': 'application/json'},
                                   verify=args['ca_path'], timeout=30)
        result.update(changed=False, status=response.status_code, jobs=len(response.json().get('value', [])))
        if response.status_code != 200:
            result.update(failed=True, msg='Graph answered HTTP %s' % response.status_code)
        return result
