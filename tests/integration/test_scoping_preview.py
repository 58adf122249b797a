# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""synchronization_schema's scoping impact preview against the emulator's directory: the preview's counts match what the
next provisioning cycle does (its provisioning log entries), max_leaving refuses a change before any write, check mode
only reads, and nothing is read when no scoping filter changes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools

from emulator_directory import Directory
from playbook_tasks import failed, last_seq, new_service_principal, ok, playbook, task

SCIM_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
USER_MAPPING = '%s -> %s' % ('User', SCIM_USER)
CYCLE = 2401  # the emulator's cycle interval (40 minutes) and a second

job_task = functools.partial(task, 'entra.provisioning.synchronization_job')
schema_task = functools.partial(task, 'entra.provisioning.synchronization_schema')


def scoped(sp_id, department, **options):
    return dict(dict(service_principal_id=sp_id, template_id='scim', object_mappings=[dict(
        source_object='User', target_object=SCIM_USER,
        scoping_filter=[[dict(attribute='department', operator='EQUALS', values=[department])]])]), **options)


def schema_writes(emulator, seq):
    return ['%s %s' % (entry['method'], entry['path']) for entry in emulator.writes(seq)]


def directory_reads(emulator, seq):
    """Reads of the directory (assignments, users, groups), direct or inside $batch."""
    return [entry['path'] for entry in emulator.graph_requests(seq)
            if entry['method'] == 'GET' and any(part in entry['path'] for part in ('/appRoleAssignedTo', '/users', '/groups'))]


class Tenant:
    """A started SCIM job whose service principal has users assigned directly and through a group."""

    def __init__(self, run_playbook, emulator):
        self.emulator = emulator
        emulator.sync_settings(provisioning_log_delay_seconds=0)
        self.sp_id = new_service_principal(emulator)
        ok(run_playbook(playbook(job_task('job', service_principal_id=self.sp_id, template_id='scim'))), 'job')
        self.graph = Directory(emulator)
        self.job_id = self.graph.jobs(self.sp_id)[0]['id']
        people = [('sales%d' % n, 'Sales') for n in range(3)] + [('hr%d' % n, 'HR') for n in range(2)]
        self.users = {}
        for name, department in people + [('pilot-sales', 'Sales'), ('pilot-support', 'Support'), ('nested', 'HR'),
                                          ('unassigned', 'HR')]:
            self.users[name] = emulator.add_user(name, userPrincipalName='%s@contoso.test' % name, department=department)
        for name, dummy in people:
            emulator.assign(self.sp_id, self.users[name]['id'])
        inner = emulator.add_group('Inner', members=[self.users['nested']['id']])
        pilot = emulator.add_group('Pilot', members=[self.users['pilot-sales']['id'], self.users['pilot-support']['id'], inner['id']])
        emulator.assign(self.sp_id, pilot['id'])
        base = '%s/servicePrincipals/%s/synchronization' % (self.graph.base, self.sp_id)
        secrets = {'value': [{'key': 'BaseAddress', 'value': 'https://scim.contoso.test/scim/v2'}, {'key': 'SecretToken', 'value': 't'}]}
        self.graph.session.put(base + '/secrets', json=secrets, verify=self.graph.verify, timeout=30).raise_for_status()
        self.graph.session.post('%s/jobs/%s/start' % (base, self.job_id), verify=self.graph.verify, timeout=30).raise_for_status()

    def log_entries(self):
        return self.graph.get('/auditLogs/provisioning', {'$filter': "jobId eq '%s'" % self.job_id, '$top': '999'})['value']

    def next_cycle(self):
        """The log entries of users written by the cycles of the next interval: ``{userPrincipalName: action}``."""
        seen = set(entry['id'] for entry in self.log_entries())
        self.emulator.advance_clock(CYCLE)
        names = dict((user['id'], '%s@contoso.test' % name) for name, user in self.users.items())
        return dict((names[entry['sourceIdentity']['id']], entry['provisioningAction']) for entry in self.log_entries()
                    if entry['id'] not in seen and entry['sourceIdentity']['id'] in names
                    and entry['provisioningStatusInfo']['status'] == 'success')


def test_preview_matches_the_next_cycle_and_max_leaving_refuses_before_writing(run_playbook, fresh_emulator):
    emulator = fresh_emulator
    tenant = Tenant(run_playbook, emulator)
    sp_id = tenant.sp_id
    first = tenant.next_cycle()
    # Entitled: five assigned users and the two direct members of the assigned group; not the nested group's member,
    # not the unassigned user.
    assert sorted(first) == sorted('%s@contoso.test' % name for name in ('sales0', 'sales1', 'sales2', 'hr0', 'hr1', 'pilot-sales',
                                                                         'pilot-support'))
    assert set(first.values()) == {'create'}

    # The default max_leaving (0) refuses a change that takes objects out of scope: nothing written, the preview returned.
    seq = last_seq(emulator)
    refused = failed(run_playbook(playbook(schema_task('sales only', ignore_errors=True, **scoped(sp_id, 'Sales')))), 'sales only')
    assert schema_writes(emulator, seq) == []
    assert 'max_leaving' in refused['msg'] and 'hr0@contoso.test' in refused['msg']
    impact = refused['impact']
    assert [(entry['object_mapping'], entry['population'], entry['entitled'], entry['in_scope_before'], entry['in_scope_after'],
             entry['entering'], entry['leaving']) for entry in impact] == [(USER_MAPPING, 'assigned', 7, 7, 4, 0, 3)]
    assert impact[0]['leaving_sample'] == ['hr0@contoso.test', 'hr1@contoso.test', 'pilot-support@contoso.test']
    # Assignments and the assigned group's members were read, then the seven users in one $batch.
    reads = directory_reads(emulator, seq)
    assert any(path.endswith('/servicePrincipals/%s/appRoleAssignedTo' % sp_id) for path in reads)
    assert any(path.endswith('/members') for path in reads)
    assert [entry['path'] for entry in emulator.graph_requests(seq) if entry['kind'] == 'batch'] == ['/v1.0/$batch']
    batched = [entry['path'] for entry in emulator.requests_log(seq) if entry['kind'] == 'batch_item']
    assert len(batched) == 7 and all('/users/' in path for path in batched), batched

    # Check mode shows the same preview and sends nothing but reads.
    seq = last_seq(emulator)
    preview = ok(run_playbook(playbook(schema_task('preview', **scoped(sp_id, 'Sales', max_leaving=3))), check=True), 'preview')
    assert preview['changed'] is True and preview['impact'] == impact
    assert schema_writes(emulator, seq) == []
    assert directory_reads(emulator, seq)

    # Raised, the change is written, and the next cycle deprovisions exactly the objects the preview named.
    seq = last_seq(emulator)
    applied = ok(run_playbook(playbook(schema_task('apply', **scoped(sp_id, 'Sales', max_leaving=3)))), 'apply')
    assert applied['impact'] == impact
    assert [write.split(' ')[0] for write in schema_writes(emulator, seq)] == ['PUT']
    cycle = tenant.next_cycle()
    assert sorted(name for name, action in cycle.items() if action == 'disable') == impact[0]['leaving_sample']
    assert [name for name, action in cycle.items() if action != 'disable'] == []

    # Sales -> HR: two users enter, four leave; the cycle exports the two and disables the four.
    hr = ok(run_playbook(playbook(schema_task('hr', **scoped(sp_id, 'HR', max_leaving=4)))), 'hr')['impact'][0]
    assert (hr['in_scope_before'], hr['in_scope_after'], hr['entering'], hr['leaving']) == (4, 2, 2, 4)
    cycle = tenant.next_cycle()
    assert sorted(name for name, action in cycle.items() if action == 'disable') == hr['leaving_sample']
    assert sorted(name for name, action in cycle.items() if action != 'disable') == hr['entering_sample'] == \
        ['hr0@contoso.test', 'hr1@contoso.test']

    # No scoping change (the same filter, or only an attribute mapping): nothing of the directory is read.
    seq = last_seq(emulator)
    same = ok(run_playbook(playbook(schema_task('same', **scoped(sp_id, 'hr'.upper())))), 'same')
    title = dict(service_principal_id=sp_id, template_id='scim', object_mappings=[dict(
        source_object='User', target_object=SCIM_USER, attribute_mappings=[dict(target='title', state='absent')])])
    ok(run_playbook(playbook(schema_task('title', **title))), 'title')
    assert same['changed'] is False and same['impact'] == []
    assert directory_reads(emulator, seq) == []


def test_sync_all_previews_every_user(run_playbook, fresh_emulator):
    emulator = fresh_emulator
    tenant = Tenant(run_playbook, emulator)
    graph = tenant.graph
    base = '%s/servicePrincipals/%s/synchronization' % (graph.base, tenant.sp_id)
    secrets = {'value': [{'key': 'BaseAddress', 'value': 'https://scim.contoso.test/scim/v2'}, {'key': 'SecretToken', 'value': 't'},
                         {'key': 'SyncAll', 'value': 'true'}]}
    graph.session.put(base + '/secrets', json=secrets, verify=graph.verify, timeout=30).raise_for_status()
    everyone = graph.get('/users', {'$select': 'id,department'})['value']
    run = run_playbook(playbook(schema_task('all', **scoped(tenant.sp_id, 'HR', max_leaving=len(everyone)))), check=True)
    impact = ok(run, 'all')['impact'][0]
    assert impact['population'] == 'all'
    assert impact['entitled'] == len(everyone)
    assert impact['in_scope_after'] == len([user for user in everyone if user.get('department') == 'HR'])
