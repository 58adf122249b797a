# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: a provisioning job with a directory behind it, in the emulator.

The job is set up through Graph (as a script of the admin would) and the emulator's control API (the directory's
users, assignments and the simulated target); cycles run by advancing the emulator's clock, one cycle per call.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from emulator_directory import Directory
from playbook_tasks import new_service_principal

# Long enough that no cycle runs by itself while a test runs; ``run_cycle`` advances the clock past one.
CYCLE_SECONDS = 1200
SCIM_SECRETS = [{'key': 'BaseAddress', 'value': 'https://scim.contoso.test/scim/v2'}, {'key': 'SecretToken', 'value': 'world-token-1'}]


class World:
    def __init__(self, emulator):
        self.emulator = emulator
        emulator.control('PUT', '/settings', {'cycle_seconds': CYCLE_SECONDS})
        # Log entries are visible at once (the eventual-consistency delay is the emulator's own test).
        emulator.sync_settings(provisioning_log_delay_seconds=0)
        self.graph = Directory(emulator)
        self.sp_id = None
        self.job_id = None

    def _call(self, method, path, body=None):
        response = self.graph.session.request(method, self.graph.base + path, json=body, verify=self.graph.verify, timeout=60)
        assert response.status_code < 300, '%s %s: %s %s' % (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def job_path(self, suffix=''):
        return '/servicePrincipals/%s/synchronization/jobs/%s%s' % (self.sp_id, self.job_id, suffix)

    def start_job(self, users=(), delete_threshold=None):
        """A scim job of a new service principal, with ``users`` (display names) created and assigned, started."""
        self.sp_id = new_service_principal(self.emulator)
        self._call('PUT', '/servicePrincipals/%s/synchronization/secrets' % self.sp_id, {'value': SCIM_SECRETS})
        body = {'templateId': 'scim'}
        if delete_threshold is not None:
            body['synchronizationJobSettings'] = [{'name': 'QuarantineTooManyDeletesThreshold', 'value': str(delete_threshold)}]
        self.job_id = self._call('POST', '/servicePrincipals/%s/synchronization/jobs' % self.sp_id, body)['id']
        ids = [self.add_user(name) for name in users]
        self._call('POST', self.job_path('/start'))
        return ids

    def add_user(self, name, assign=True):
        user = self.emulator.add_user(name, userPrincipalName='%s@contoso.test' % name.lower().replace(' ', '.'))
        if assign:
            self.emulator.assign(self.sp_id, user['id'])
        return user['id']

    def run_cycle(self):
        """Advance the clock past one cycle; returns the job as Graph shows it afterwards."""
        self.emulator.advance_clock(CYCLE_SECONDS + 1)
        return self.job()

    def job(self):
        return self._call('GET', self.job_path())

    def logs(self, odata_filter=None):
        params = {'$filter': odata_filter} if odata_filter else None
        return self.graph.get('/auditLogs/provisioning', params)['value']

    def target(self):
        return self.emulator.target_objects(self.sp_id, self.job_id)

    def last_seq(self):
        log = self.emulator.requests_log()
        return log[-1]['seq'] if log else 0


def module_args(world, **options):
    return dict(options, service_principal_id=world.sp_id, job_id=world.job_id)
