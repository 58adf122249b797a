# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: what the emulated tenant holds, read (and, to set up a test, written) through Graph itself.

Tests assert what a user would see in the portal: how many applications, service principals and jobs exist. The
calls go through Graph with the emulator's demo client, so they appear in the request log: take log snapshots around
the playbook runs, not around these calls.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import requests

NON_GALLERY_TEMPLATE_ID = '8adf8e6e-67b2-4cf2-a259-e3dc5476c621'


def odata_string(value):
    return "'%s'" % value.replace("'", "''")


class Directory:
    def __init__(self, emulator):
        self.emulator = emulator
        info = emulator.info
        self.base = '%s/v1.0' % info['graph_endpoint']
        self.verify = info['ca_path']
        self.session = requests.Session()
        token = self.session.post(info['token_endpoint'], verify=self.verify, timeout=30, data=dict(
            grant_type='client_credentials', client_id=info['client_id'], client_secret=info['client_secret'],
            scope='%s/.default' % info['graph_endpoint'])).json()['access_token']
        self.session.headers['Authorization'] = 'Bearer %s' % token

    def get(self, path, params=None):
        response = self.session.get(self.base + path, params=params, verify=self.verify, timeout=30)
        response.raise_for_status()
        return response.json()

    def applications(self, display_name):
        return self.get('/applications', {'$filter': 'displayName eq %s' % odata_string(display_name)})['value']

    def service_principals(self, display_name):
        return self.get('/servicePrincipals', {'$filter': 'displayName eq %s' % odata_string(display_name)})['value']

    def jobs(self, service_principal_id):
        return self.get('/servicePrincipals/%s/synchronization/jobs' % service_principal_id)['value']

    def instantiate(self, display_name, template_id=NON_GALLERY_TEMPLATE_ID):
        response = self.session.post('%s/applicationTemplates/%s/instantiate' % (self.base, template_id),
                                     json=dict(displayName=display_name), verify=self.verify, timeout=30)
        response.raise_for_status()
        return response.json()

    def delete_job(self, service_principal_id, job_id):
        response = self.session.delete('%s/servicePrincipals/%s/synchronization/jobs/%s' % (self.base, service_principal_id, job_id),
                                       verify=self.verify, timeout=30)
        response.raise_for_status()

    def census(self, display_name):
        """``(applications, service principals, jobs)`` named ``display_name``: what the portal would list.

        Turns the emulator's faults off first: a replication delay would hide new objects from this count too.
        """
        self.emulator.set_faults({})
        applications = self.applications(display_name)
        service_principals = self.service_principals(display_name)
        jobs = [job for sp in service_principals for job in self.jobs(sp['id'])]
        return applications, service_principals, jobs


def graph_writes(log):
    """The writes of a request log, as ``METHOD /path`` without the version segment."""
    return ['%s %s' % (entry['method'], strip_version(entry['path'])) for entry in log
            if entry.get('write') and entry.get('kind') in ('graph', 'batch')]


def graph_requests(log):
    return ['%s %s -> %s' % (entry['method'], strip_version(entry['path']), entry['status']) for entry in log
            if entry.get('kind') in ('graph', 'batch')]


def strip_version(path):
    for prefix in ('/v1.0', '/beta'):
        if path.startswith(prefix + '/'):
            return path[len(prefix):]
    return path
