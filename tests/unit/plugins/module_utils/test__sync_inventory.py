# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure part of the inventory plugin entra.provisioning.synchronization: scan results to hosts, variables and groups."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.entra.provisioning.plugins.module_utils._sync_inventory import host_entries, host_groups, host_variables

SP_A = dict(id='a', app_id='app-a', display_name='A')
SP_B = dict(id='b', app_id='app-b', display_name='B')


def job(sp, job_id, template_id, health, **status):
    return dict(id=job_id, template_id=template_id, schedule=dict(state='Active'), status=status or None,
                service_principal=sp, health=health, health_reason='because %s' % health)


def test_jobs_become_one_host_per_service_principal_in_scan_order():
    jobs = [job(SP_A, 'scim.2', 'scim', 'healthy'), job(SP_A, 'AD2AAD.1', 'AD2AAD', 'quarantined'), job(SP_B, 'scim.3', 'scim', 'failing')]

    hosts = host_entries(jobs)

    assert [(sp['id'], [entry['id'] for entry in entries]) for sp, entries in hosts] == [('a', ['scim.2', 'AD2AAD.1']), ('b', ['scim.3'])]
    assert all('service_principal' not in entry for sp, entries in hosts for entry in entries)


def test_the_first_job_in_job_id_order_gives_the_convenience_variables_and_every_job_a_group():
    sp, jobs = host_entries([job(SP_A, 'scim.2', 'scim', 'healthy', code='Active'),
                             job(SP_A, 'AD2AAD.1', 'AD2AAD', 'quarantined', code='Quarantine', quarantine=dict(reason='x'))])[0]

    variables = host_variables(sp, jobs)

    assert variables['entra_job_id'] == 'AD2AAD.1'
    assert variables['entra_health'] == 'quarantined'
    assert variables['entra_status_code'] == 'Quarantine'
    assert variables['entra_quarantine'] == dict(reason='x')
    assert variables['entra_job_count'] == 2
    assert [entry['id'] for entry in variables['entra_jobs']] == ['AD2AAD.1', 'scim.2']
    assert host_groups(jobs) == ['health_quarantined', 'template_AD2AAD', 'health_healthy', 'template_scim']


def test_an_unreadable_service_principal_is_a_host_without_job_facts():
    unreadable = dict(id=None, template_id=None, schedule=None, status=None, synchronization_job_settings=None,
                      service_principal=SP_B, health='unreadable', health_reason='HTTP 403')
    sp, jobs = host_entries([unreadable])[0]

    variables = host_variables(sp, jobs)

    assert variables['entra_health'] == 'unreadable'
    assert variables['entra_job_count'] == 0
    assert variables['entra_job_id'] is None and variables['entra_last_execution'] is None
    assert host_groups(jobs) == ['health_unreadable']
