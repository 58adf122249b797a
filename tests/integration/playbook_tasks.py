# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building the playbooks of the integration tests, and the service principals they work on."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

# The non-gallery application: its service principals offer the scim, customappsso, ... templates.
NON_GALLERY_TEMPLATE = '8adf8e6e-67b2-4cf2-a259-e3dc5476c621'


def playbook(*tasks):
    """A one-play playbook; JSON is YAML, and it spares the tests YAML quoting."""
    return json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': list(tasks)}])


def task(module, name, ignore_errors=False, **options):
    entry = {'name': name, module: options}
    if ignore_errors:
        entry['ignore_errors'] = True
    return entry


def new_service_principal(emulator, application_template_id=NON_GALLERY_TEMPLATE):
    return emulator.seed(1, 0, application_template_id=application_template_id, return_ids=True)['ids'][0]


def last_seq(emulator):
    """The sequence number of the emulator's last logged request: ``emulator.writes(seq)`` then lists what came after."""
    log = emulator.requests_log()
    return log[-1]['seq'] if log else 0


def ok(run, name):
    """The result of task ``name``, which must have succeeded."""
    entry = run.result(name)
    assert entry['status'] in ('ok', 'changed'), '%s: %s\n%s' % (name, entry, run.output[-4000:])
    return entry['result']


def failed(run, name):
    """The result of task ``name``, which must have failed."""
    entry = run.result(name)
    assert entry['status'] == 'failed', '%s did not fail: %s' % (name, entry)
    return entry['result']
