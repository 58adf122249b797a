# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin entra.provisioning.synchronization against the Graph emulator: the real ansible-inventory
(--list, --graph) and ansible-playbook, with the emulator's request log as the witness of what was sent."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import pytest

from entra_graph_emulator.seeding import JOB_STATES
from playbook_tasks import last_seq

# The health each seeded job state gets (as in test_synchronization_job_info.EXPECTED_HEALTH).
EXPECTED_HEALTH = {
    'not_configured': 'not_configured',
    'paused_with_credentials': 'disabled',
    'not_run': 'not_run',
    'active': 'healthy',
    'paused': 'paused',
    'quarantine': 'quarantined',
    'failing': 'degraded',
}
# The emulator's read-only app: Application.Read.All and Synchronization.Read.All are all the plugin needs.
READ_ONLY = 'read_only'
BIN = os.path.dirname(sys.executable)


@pytest.fixture(autouse=True)
def slow_cycles(fresh_emulator):
    """Provisioning cycles of 40 minutes (the emulator's default), so that seeded jobs keep their seeded state."""
    fresh_emulator.control('PUT', '/settings', {'cycle_seconds': 2400})


class Inventory:
    """Writes inventory files and runs the real ansible-inventory / ansible-playbook on them, as the read-only app."""

    def __init__(self, run_playbook, emulator):
        self.runner = run_playbook
        self.emulator = emulator
        self.scratch = run_playbook.scratch
        app = emulator.info['apps'][READ_ONLY]
        self.env = dict(AZURE_CLIENT_ID=app['client_id'], AZURE_CLIENT_SECRET=app['client_secret'],
                        ANSIBLE_INVENTORY_ENABLED='entra.provisioning.synchronization',
                        ANSIBLE_INVENTORY_UNPARSED_FAILED='True', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='True')

    def write(self, text, name='tenant.entra_synchronization.yml'):
        path = os.path.join(self.scratch, name)
        with open(path, 'w') as handle:
            handle.write(text)
        return path

    def run(self, path, *arguments, **kwargs):
        environment = self.runner.environment(dict(self.env, **kwargs.get('env', {})))
        completed = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', path] + list(arguments), env=environment,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                                   check=False)
        return completed

    def playbook(self, playbook, path, *arguments):
        environment = self.runner.environment(self.env)
        environment.pop('ANSIBLE_CALLBACKS_ENABLED')
        environment.update(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default', ANSIBLE_DISPLAY_OK_HOSTS='True')
        return subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', path, playbook] + list(arguments), env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300, check=False)

    def list(self, path, *arguments, **kwargs):
        completed = self.run(path, '--list', *arguments, **kwargs)
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout, object_hook=trusted)


@pytest.fixture
def inventory(run_playbook, fresh_emulator):
    return Inventory(run_playbook, fresh_emulator)


def trusted(value):
    """A JSON object of ansible-inventory's output without its unsafe marker.

    The values come from Graph, so Ansible keeps them unsafe (never templated) and marks them so in its output.
    """
    return value['__ansible_unsafe'] if set(value) == {'__ansible_unsafe'} else value


def hosts_of(listing, group):
    return sorted(listing.get(group, {}).get('hosts', []))


def all_hosts(listing):
    return sorted(listing['_meta']['hostvars'])


def test_hosts_are_the_service_principals_with_jobs_grouped_by_health_and_template(inventory, emulator):
    ids = emulator.seed(2 * len(JOB_STATES) + 6, 2 * len(JOB_STATES), return_ids=True)['ids']
    with_jobs = ids[:2 * len(JOB_STATES)]
    since = last_seq(emulator)

    listing = inventory.list(inventory.write('plugin: entra.provisioning.synchronization\n'))

    assert all_hosts(listing) == sorted(with_jobs)
    hostvars = listing['_meta']['hostvars']
    for index, sp_id in enumerate(with_jobs):
        expected = EXPECTED_HEALTH[JOB_STATES[index % len(JOB_STATES)]]
        host = hostvars[sp_id]
        assert host['entra_health'] == expected, (sp_id, host)
        assert sp_id in hosts_of(listing, 'health_' + expected)
        assert host['entra_service_principal']['id'] == sp_id
        assert host['entra_job_count'] == len(host['entra_jobs']) == 1
        assert host['entra_job_id'] == host['entra_jobs'][0]['id']
        assert host['entra_template_id'] == host['entra_jobs'][0]['template_id']
        assert sp_id in hosts_of(listing, 'template_' + host['entra_template_id'])
        assert host['entra_health_reason'] == host['entra_jobs'][0]['health_reason']
        assert host['ansible_connection'] == 'local'
    quarantined = [sp_id for sp_id in with_jobs if hostvars[sp_id]['entra_health'] == 'quarantined']
    assert len(quarantined) == 2
    for sp_id in quarantined:
        assert hostvars[sp_id]['entra_quarantine']['reason'] == 'EncounteredQuarantineException'
        assert hostvars[sp_id]['entra_status_code'] == 'Quarantine'
    healthy = [sp_id for sp_id in with_jobs if hostvars[sp_id]['entra_health'] == 'healthy']
    assert all(hostvars[sp_id]['entra_last_execution']['state'] == 'Succeeded' for sp_id in healthy)
    assert all(hostvars[sp_id]['entra_quarantine'] is None for sp_id in healthy)
    # The same scan as synchronization_job_info: one listing page and one $batch, and nothing written.
    assert [entry['path'] for entry in emulator.graph_requests(since)] == ['/v1.0/servicePrincipals', '/v1.0/$batch']
    assert emulator.writes(since) == []


def test_graph_shows_the_health_groups(inventory, emulator):
    ids = emulator.seed(len(JOB_STATES), len(JOB_STATES), return_ids=True)['ids']
    quarantined = ids[JOB_STATES.index('quarantine')]

    completed = inventory.run(inventory.write('plugin: entra.provisioning.synchronization\n'), '--graph', 'health_quarantined')

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ['@health_quarantined:', '|--' + quarantined]


def test_compose_groups_keyed_groups_and_filter(inventory, emulator):
    ids = emulator.seed(len(JOB_STATES), len(JOB_STATES), return_ids=True)['ids']
    path = inventory.write('''
plugin: entra.provisioning.synchronization
filter: entra_health != 'not_configured'
strict: true
compose:
  display_name: entra_service_principal.display_name
  exported: (entra_last_execution or {}).count_exported | default(none)
groups:
  needs_attention: entra_health in ['quarantined', 'failing', 'stale', 'degraded']
keyed_groups:
  - key: entra_status_code
    prefix: status
''')

    listing = inventory.list(path)

    not_configured = ids[JOB_STATES.index('not_configured')]
    assert all_hosts(listing) == sorted(set(ids) - {not_configured})
    assert hosts_of(listing, 'needs_attention') == sorted([ids[JOB_STATES.index('quarantine')], ids[JOB_STATES.index('failing')]])
    assert hosts_of(listing, 'status_Quarantine') == [ids[JOB_STATES.index('quarantine')]]
    assert 'health_not_configured' not in listing
    host = listing['_meta']['hostvars'][ids[JOB_STATES.index('active')]]
    assert host['display_name'] == host['entra_service_principal']['display_name']
    assert host['entra_last_execution']['count_exported'] is not None
    assert host['exported'] == host['entra_last_execution']['count_exported']


def test_a_filter_that_cannot_be_evaluated_fails_only_when_strict(inventory, emulator):
    emulator.seed(3, 3)
    text = 'plugin: entra.provisioning.synchronization\nfilter: no_such_variable == 1\nstrict: %s\n'

    lenient = inventory.list(inventory.write(text % 'false'))
    strict = inventory.run(inventory.write(text % 'true'), '--list')

    assert all_hosts(lenient) == []
    assert strict.returncode != 0
    assert 'could not evaluate filter' in strict.stderr and 'no_such_variable' in strict.stderr


def test_template_id_and_service_principal_filter_narrow_the_scan(inventory, emulator):
    aws = emulator.seed(4, 4, display_name_prefix='AWS', return_ids=True)['ids']
    emulator.seed(4, 4, display_name_prefix='Other')

    listing = inventory.list(inventory.write('''
plugin: entra.provisioning.synchronization
service_principal_filter: "startswith(displayName, 'AWS')"
'''))

    assert all_hosts(listing) == sorted(aws)


def test_slices_are_disjoint_and_cover_the_inventory(inventory, emulator):
    """AWX job slicing: slice i (1-based) of N runs on the hosts [i-1::N] of the inventory, in AWX's host order.

    https://github.com/ansible/awx/blob/devel/docs/job_slicing.md; the inventory script API documents the same subset
    as ``?subset=slice{i}of{N}`` (awx/api/templates/api/inventory_script_view.md). Each slice is run here with
    ansible-playbook --limit, the cache letting the N slices share one scan as AWX's slices share one inventory sync.
    """
    emulator.seed(40, 17)
    path = inventory.write('''
plugin: entra.provisioning.synchronization
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: %s
''' % os.path.join(inventory.scratch, 'inventory-cache'))
    hosts = all_hosts(inventory.list(path))  # AWX orders the hosts of an inventory by name
    assert len(hosts) == 17
    slice_count = 3
    since = last_seq(emulator)

    slices = []
    for number in range(1, slice_count + 1):
        playbook = inventory.runner.write_playbook('''
- hosts: all
  gather_facts: false
  tasks:
    - name: Report
      ansible.builtin.debug:
        msg: "SLICE|{{ inventory_hostname }}|{{ entra_health }}"
''')
        run = inventory.playbook(playbook, path, '--limit', ','.join(hosts[number - 1::slice_count]))
        assert run.returncode == 0, run.stdout + run.stderr
        slices.append(sorted(re.findall(r'SLICE\|([^|]+)\|', run.stdout)))

    assert [len(ran) for ran in slices] == [6, 6, 5]
    for first in range(slice_count):
        for second in range(first + 1, slice_count):
            assert not set(slices[first]) & set(slices[second])
    assert sorted(sum(slices, [])) == hosts
    assert emulator.graph_requests(since) == []  # the slices read the inventory from the cache


def test_a_second_run_with_the_cache_sends_no_graph_request(inventory, emulator):
    emulator.seed(10, 5)
    path = inventory.write('''
plugin: entra.provisioning.synchronization
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: %s
cache_timeout: 600
''' % os.path.join(inventory.scratch, 'inventory-cache'))
    since = last_seq(emulator)

    first = inventory.list(path)
    scanned = last_seq(emulator)
    second = inventory.list(path)
    after_second = emulator.graph_requests(scanned)
    flushed = inventory.list(path, '--flush-cache')

    assert len(all_hosts(first)) == 5
    assert [entry['path'] for entry in emulator.graph_requests(since)][:2] == ['/v1.0/servicePrincipals', '/v1.0/$batch']
    assert after_second == []
    assert second == first
    assert [entry['path'] for entry in emulator.graph_requests(scanned)] == ['/v1.0/servicePrincipals', '/v1.0/$batch']
    assert all_hosts(flushed) == all_hosts(first)


def test_bad_options_and_missing_permissions_fail_with_a_clear_message(inventory, emulator):
    emulator.seed(3, 3)

    bad = inventory.run(inventory.write('plugin: entra.provisioning.synchronization\nbatch_concurrency: 50\n'), '--list')
    emulator.register_app(client_id='6f1d1b3e-0000-4000-8000-00000000cccc', client_secret='directory-only-secret',
                          roles=['Application.Read.All'])
    forbidden = inventory.run(inventory.write('plugin: entra.provisioning.synchronization\n'), '--list',
                              env=dict(AZURE_CLIENT_ID='6f1d1b3e-0000-4000-8000-00000000cccc',
                                       AZURE_CLIENT_SECRET='directory-only-secret'))

    assert bad.returncode != 0 and 'batch_concurrency must be between 1 and 20' in bad.stderr
    assert forbidden.returncode != 0 and 'Synchronization.Read.All' in forbidden.stderr
    assert 'directory-only-secret' not in forbidden.stderr + forbidden.stdout


def test_empty_variables_count_as_not_set_for_the_inventory_and_its_tasks(inventory, emulator):
    """An AWX credential renders its unused fields as empty variables, and a shell user unsets with ``export VAR=``:
    neither the inventory nor the modules its play runs may take an empty variable as a value (an empty ENTRA_CLOUD is
    not one of its choices; an empty certificate path would select a certificate)."""
    emulator.seed(4, 2)
    inventory.env.update(ENTRA_CLOUD='', AZURE_CLIENT_CERTIFICATE_PATH='', AZURE_CLIENT_CERTIFICATE_PASSWORD='',
                         AZURE_FEDERATED_TOKEN_FILE='', ENTRA_ACCESS_TOKEN='')
    path = inventory.write('plugin: entra.provisioning.synchronization\n')

    listing = inventory.list(path)
    assert len(all_hosts(listing)) == 2

    playbook = inventory.write('''
- hosts: all
  gather_facts: false
  tasks:
    - name: Read the host's job
      entra.provisioning.synchronization_job_info:
        service_principal_id: "{{ inventory_hostname }}"
''', name='read_jobs.yml')
    completed = inventory.playbook(playbook, path)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert re.search(r'ok=1 .*failed=0', completed.stdout), completed.stdout[-3000:]
