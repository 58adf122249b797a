# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least privilege: which application permissions each module needs, proven against the emulator.

1. The emulator grants each Graph call the collection makes to exactly the application permissions of that call's
   permission table in the Microsoft Graph documentation (the URLs below).
2. Each module works with the permissions README.md's table calls least privileged (NEEDED below), and fails without
   any one of them, naming the permission it lacks; writes without permission fail naming it, and nothing changes.
3. README.md's table "Permissions each module needs" says what NEEDED says.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import uuid

import pytest

from entra_graph_emulator import application_templates, batch, directory, people, synchronization
from entra_graph_emulator.permissions import AllOf
from entra_graph_emulator.router import Router

from collection_under_test import COLLECTION_ROOT
from playbook_tasks import NON_GALLERY_TEMPLATE, new_service_principal, playbook, task
from provisioning_world import World, module_args

# The Application row of each call's permission table (least and higher privileged together), as documented.
SYNC_WRITE_DOCS = {'Application.ReadWrite.OwnedBy', 'Synchronization.ReadWrite.All'}
SYNC_READ_DOCS = {'Application.ReadWrite.OwnedBy', 'Synchronization.Read.All', 'Synchronization.ReadWrite.All'}
DIRECTORY_READ_DOCS = {'Application.Read.All', 'Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All', 'Directory.Read.All'}
SCHEMA_WRITE_DOCS = SYNC_WRITE_DOCS | {'CustomSecAttributeProvisioning.ReadWrite.All'}
USERS_READ_DOCS = {'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'}


def all_of(*permissions):
    """A call whose permission table asks for several permissions together ("AuditLog.Read.All and Directory.Read.All")."""
    return ('all of', frozenset(permissions))


DOCUMENTED = [
    # (method, path as the collection sends it, documentation page, application permissions that allow the call)
    ('GET', '/servicePrincipals', 'https://learn.microsoft.com/graph/api/serviceprincipal-list', DIRECTORY_READ_DOCS),
    ('GET', '/servicePrincipals/{id}', 'https://learn.microsoft.com/graph/api/serviceprincipal-get', DIRECTORY_READ_DOCS),
    ('GET', '/applications', 'https://learn.microsoft.com/graph/api/application-list', DIRECTORY_READ_DOCS),
    ('GET', '/applications/{id}', 'https://learn.microsoft.com/graph/api/application-get', DIRECTORY_READ_DOCS),
    # application-delete also lists AgentIdentityBlueprint.DeleteRestore.All (agent identity blueprints only).
    ('DELETE', '/applications/{id}', 'https://learn.microsoft.com/graph/api/application-delete',
     {'Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All'}),
    ('DELETE', '/servicePrincipals/{id}', 'https://learn.microsoft.com/graph/api/serviceprincipal-delete',
     {'Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All'}),
    # "Not supported" for every permission type: any valid token may read the catalog.
    ('GET', '/applicationTemplates', 'https://learn.microsoft.com/graph/api/applicationtemplate-list', None),
    ('GET', '/applicationTemplates/{id}', 'https://learn.microsoft.com/graph/api/applicationtemplate-get', None),
    ('POST', '/applicationTemplates/{id}/instantiate', 'https://learn.microsoft.com/graph/api/applicationtemplate-instantiate',
     {'Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All', 'Directory.ReadWrite.All'}),
    ('GET', '/servicePrincipals/{id}/synchronization/jobs', 'https://learn.microsoft.com/graph/api/synchronization-synchronization-list-jobs',
     SYNC_READ_DOCS),
    ('GET', '/servicePrincipals/{id}/synchronization/jobs/{job}', 'https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-get',
     SYNC_READ_DOCS),
    # Least privileged: CustomSecAttributeProvisioning.Read.All (it does not let the modules read the job itself).
    ('GET', '/servicePrincipals/{id}/synchronization/jobs/{job}/schema',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-get',
     SYNC_READ_DOCS | {'CustomSecAttributeProvisioning.Read.All', 'CustomSecAttributeProvisioning.ReadWrite.All'}),
    ('PUT', '/servicePrincipals/{id}/synchronization/jobs/{job}/schema',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-update', SCHEMA_WRITE_DOCS),
    ('DELETE', '/servicePrincipals/{id}/synchronization/jobs/{job}/schema',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-delete', SCHEMA_WRITE_DOCS),
    # It changes nothing, yet its table lists write permissions only.
    ('POST', '/servicePrincipals/{id}/synchronization/jobs/{job}/schema/parseExpression',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-parseexpression', SYNC_WRITE_DOCS),
    ('POST', '/servicePrincipals/{id}/synchronization/jobs/{job}/provisionOnDemand',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-provisionondemand', SYNC_WRITE_DOCS),
    ('GET', '/auditLogs/provisioning', 'https://learn.microsoft.com/graph/api/provisioningobjectsummary-list',
     all_of('AuditLog.Read.All', 'Directory.Read.All')),
    ('GET', '/users', 'https://learn.microsoft.com/graph/api/user-list', USERS_READ_DOCS),
    ('GET', '/users/{id}', 'https://learn.microsoft.com/graph/api/user-get', USERS_READ_DOCS),
    # The scoping preview of synchronization_schema: the assignments, the assigned groups and their members.
    ('GET', '/servicePrincipals/{id}/appRoleAssignedTo', 'https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignedto',
     DIRECTORY_READ_DOCS | {'Directory.ReadWrite.All'}),
    ('GET', '/groups/{id}', 'https://learn.microsoft.com/graph/api/group-get',
     {'GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'}),
    ('GET', '/groups/{id}/members', 'https://learn.microsoft.com/graph/api/group-list-members',
     {'GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'GroupMember.ReadWrite.All'}),
    ('GET', '/servicePrincipals/{id}/synchronization/templates',
     'https://learn.microsoft.com/graph/api/synchronization-synchronization-list-templates', SYNC_READ_DOCS),
    ('POST', '/servicePrincipals/{id}/synchronization/jobs', 'https://learn.microsoft.com/graph/api/synchronization-synchronization-post-jobs',
     SYNC_WRITE_DOCS),
    ('DELETE', '/servicePrincipals/{id}/synchronization/jobs/{job}',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-delete', SYNC_WRITE_DOCS),
    ('POST', '/servicePrincipals/{id}/synchronization/jobs/{job}/start',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-start', SYNC_WRITE_DOCS),
    ('POST', '/servicePrincipals/{id}/synchronization/jobs/{job}/pause',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-pause', SYNC_WRITE_DOCS),
    ('POST', '/servicePrincipals/{id}/synchronization/jobs/{job}/restart',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-restart', SYNC_WRITE_DOCS),
    ('POST', '/servicePrincipals/{id}/synchronization/jobs/{job}/validateCredentials',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-validatecredentials', SYNC_WRITE_DOCS),
    ('PUT', '/servicePrincipals/{id}/synchronization/secrets',
     'https://learn.microsoft.com/graph/api/synchronization-serviceprincipal-put-synchronization', SYNC_WRITE_DOCS),
]

# The least privileged permissions each module needs (README.md, "Permissions each module needs").
NEEDED = {
    'synchronization_job_info': {'Synchronization.Read.All', 'Application.Read.All'},
    'synchronization_job': {'Synchronization.ReadWrite.All'},
    'synchronization_secret': {'Synchronization.ReadWrite.All'},
    # It returns the new service principal's synchronization templates, which needs Synchronization.Read.All.
    'application_from_template': {'Application.ReadWrite.All', 'Synchronization.Read.All'},
    # parseExpression (it validates every new expression before the write) needs the write permission too. A scoping
    # change previews its impact first: the assignments, the members of assigned groups, the users.
    'synchronization_schema': {'Synchronization.ReadWrite.All', 'Application.Read.All', 'GroupMember.Read.All', 'User.Read.All'},
    # Both, together, for the logs; Directory.Read.All also finds a user by user principal name.
    'provisioning_log_info': {'AuditLog.Read.All', 'Directory.Read.All'},
    # User.Read.All finds a user by user principal name.
    'provision_on_demand': {'Synchronization.ReadWrite.All', 'User.Read.All'},
}
# The read permission each write permission includes.
INCLUDED = {'Application.ReadWrite.All': {'Application.Read.All'}, 'Synchronization.ReadWrite.All': {'Synchronization.Read.All'}}
READ_ONLY = NEEDED['synchronization_job_info']
SCIM_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'


def emulator_router():
    router = Router()
    for module in (directory, application_templates, batch, people, synchronization):
        router.add_all(getattr(module, 'ROUTES', []))
    return router


@pytest.mark.parametrize('method, path, url, documented', DOCUMENTED, ids=['%s %s' % (entry[0], entry[1]) for entry in DOCUMENTED])
def test_the_emulator_allows_each_call_exactly_the_documented_permissions(method, path, url, documented):
    concrete = path.replace('{id}', str(uuid.uuid4())).replace('{job}', 'scim.' + uuid.uuid4().hex)
    route, dummy = emulator_router().match(method, concrete)
    allowed = route.permission
    if allowed is not None:
        allowed = all_of(*allowed) if isinstance(allowed, AllOf) else set(allowed)
    assert allowed == documented, 'the emulator allows %s %s with %s; %s documents %s' % (method, path, allowed, url, documented)


@pytest.fixture
def app_with(fresh_emulator):
    """Registers an app with exactly these roles; returns the environment that makes the modules use it."""
    def register(roles):
        client_id = str(uuid.uuid4())
        secret = 'least-privilege-%s' % uuid.uuid4().hex
        fresh_emulator.register_app(client_id=client_id, client_secret=secret, roles=sorted(roles))
        return dict(AZURE_CLIENT_ID=client_id, AZURE_CLIENT_SECRET=secret)
    return register


def job_started(sp_id, **extra):
    return task('entra.provisioning.synchronization_job', 'job', ignore_errors=True, service_principal_id=sp_id, template_id='scim',
                state='started', **extra)


def secrets_set(sp_id):
    return task('entra.provisioning.synchronization_secret', 'secrets', ignore_errors=True, service_principal_id=sp_id,
                secrets={'BaseAddress': 'https://scim.contoso.test/v2', 'SecretToken': 'least-privilege-token'})


def application(name, state='present'):
    return task('entra.provisioning.application_from_template', 'application', ignore_errors=True, template_id=NON_GALLERY_TEMPLATE,
                display_name=name, state=state)


def info_scan():
    return task('entra.provisioning.synchronization_job_info', 'info', ignore_errors=True)


def info_one(sp_id):
    return task('entra.provisioning.synchronization_job_info', 'info', ignore_errors=True, service_principal_id=sp_id,
                include_templates=True, include_schema=True)


def mappings_changed(emulator):
    """A job whose application has users assigned directly and through a group; the task maps an expression (validated
    with parseExpression) and narrows the users' scope (previewed: assignments, group members, users)."""
    sp_id = new_service_principal(emulator)
    emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs' % sp_id, {'template_id': 'scim', 'state': 'active'})
    sales, hr, member = [emulator.add_user(name, userPrincipalName='%s@contoso.test' % name, department=department)
                         for name, department in (('sales', 'Sales'), ('hr', 'HR'), ('member', 'Sales'))]
    for user in (sales, hr):
        emulator.assign(sp_id, user['id'])
    emulator.assign(sp_id, emulator.add_group('Pilot', members=[member['id']])['id'])
    return task('entra.provisioning.synchronization_schema', 'schema', ignore_errors=True, service_principal_id=sp_id, template_id='scim',
                max_leaving=1, object_mappings=[dict(
                    source_object='User', target_object=SCIM_USER,
                    attribute_mappings=[dict(target=SCIM_USER + ':employeeNumber', expression='ToUpper(Coalesce([employeeId], [mailNickname]))')],
                    scoping_filter=[[dict(attribute='department', operator='EQUALS', values=['Sales'])]])])


def scenario(module, emulator):
    """The tasks that exercise ``module`` on a fresh service principal (a job seeded where the module reads one)."""
    if module == 'synchronization_schema':
        return [mappings_changed(emulator)]
    if module in ('provisioning_log_info', 'provision_on_demand'):
        world = World(emulator)
        world.start_job(['Ann One'])
        if module == 'provision_on_demand':
            return [task('entra.provisioning.provision_on_demand', 'on demand', ignore_errors=True,
                         subjects=[dict(user_principal_name='ann.one@contoso.test')], **module_args(world))]
        world.run_cycle()
        return [task('entra.provisioning.provisioning_log_info', 'logs', ignore_errors=True, object='ann.one@contoso.test',
                     **module_args(world))]
    sp_id = new_service_principal(emulator)
    if module == 'synchronization_job_info':
        emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs' % sp_id, {'template_id': 'scim', 'state': 'active'})
        return [info_scan(), info_one(sp_id)]
    if module == 'synchronization_job':
        return [job_started(sp_id)]
    if module == 'synchronization_secret':
        return [secrets_set(sp_id)]
    return [application('Least privilege %s' % uuid.uuid4().hex[:8])]


def outcomes(run):
    return [(entry['status'], entry['result'].get('msg', '')) for entry in run.results]


@pytest.mark.parametrize('module', sorted(NEEDED))
def test_each_module_works_with_its_least_privileged_permissions(run_playbook, fresh_emulator, app_with, module):
    run = run_playbook(playbook(*scenario(module, fresh_emulator)), env=app_with(NEEDED[module]))
    assert run.results and all(status in ('ok', 'changed') for status, dummy in outcomes(run)), (outcomes(run), run)


@pytest.mark.parametrize('module, missing', [(module, permission) for module in sorted(NEEDED) for permission in sorted(NEEDED[module])])
def test_each_needed_permission_is_needed_and_named(run_playbook, fresh_emulator, app_with, module, missing):
    # Without a write permission the app keeps the read permission it includes, so the write itself is refused: the read
    # permission is not enough, and no read's 403 is waited out as replication (docs/graph-behaviour.md §3.6).
    run = run_playbook(playbook(*scenario(module, fresh_emulator)), env=app_with(NEEDED[module] - {missing} | INCLUDED.get(missing, set())))
    failures = [msg for status, msg in outcomes(run) if status == 'failed']
    assert failures, outcomes(run)
    assert all('HTTP 403' in msg and missing in msg for msg in failures), failures


def test_writes_with_read_only_permissions_fail_naming_the_permission_and_change_nothing(run_playbook, fresh_emulator, app_with):
    sp_id = new_service_principal(fresh_emulator)
    paused_sp = new_service_principal(fresh_emulator)
    fresh_emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs' % paused_sp, {'template_id': 'scim', 'state': 'paused'})
    existing = new_service_principal(fresh_emulator)
    fresh_emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs' % existing, {'template_id': 'scim', 'state': 'active'})
    fresh_emulator.clear_log()
    run = run_playbook(playbook(
        dict(job_started(sp_id), name='create a job'),
        dict(job_started(paused_sp), name='start a paused job'),
        dict(task('entra.provisioning.synchronization_job', 'delete a job', ignore_errors=True, service_principal_id=existing,
                  template_id='scim', state='absent')),
        dict(secrets_set(sp_id), name='set secrets'),
        dict(application('Least privilege read-only'), name='instantiate'),
        # parseExpression refuses before the PUT: checking an expression already needs the write permission.
        task('entra.provisioning.synchronization_schema', 'map an expression', ignore_errors=True, service_principal_id=existing,
             template_id='scim', object_mappings=[dict(source_object='User', target_object=SCIM_USER, attribute_mappings=[
                 dict(target=SCIM_USER + ':employeeNumber', expression='ToUpper([mailNickname])')])]),
        task('entra.provisioning.provision_on_demand', 'provision on demand', ignore_errors=True, service_principal_id=existing,
             template_id='scim', subjects=[dict(object_id=str(uuid.uuid4()))]),
    ), env=app_with(READ_ONLY))
    expected = {
        'create a job': 'Synchronization.ReadWrite.All',
        'start a paused job': 'Synchronization.ReadWrite.All',
        'delete a job': 'Synchronization.ReadWrite.All',
        'set secrets': 'Synchronization.ReadWrite.All',
        'instantiate': 'Application.ReadWrite.All',
        'map an expression': 'Synchronization.ReadWrite.All',
        'provision on demand': 'Synchronization.ReadWrite.All',
    }
    for name, permission in expected.items():
        entry = run.result(name)
        assert entry['status'] == 'failed', (name, entry)
        assert 'HTTP 403' in entry['result']['msg'] and permission in entry['result']['msg'], (name, entry['result']['msg'])
    assert '/schema/parseExpression failed' in run.result('map an expression')['result']['msg']
    writes = fresh_emulator.writes()
    assert writes and all(entry['status'] == 403 for entry in writes), writes


def readme_permission_table():
    """README.md's table "Permissions each module needs": {module: set of least privileged permissions}."""
    with open(os.path.join(COLLECTION_ROOT, 'README.md')) as handle:
        text = handle.read()
    section = text.split('## Permissions each module needs', 1)[1].split('\n## ', 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if len(cells) < 2 or not cells[0].startswith('`'):
            continue
        module = cells[0].strip('`')
        # The least privileged column names permissions in backquotes; any words after them only explain.
        table[module] = set(re.findall(r'`([A-Za-z]+\.[A-Za-z.]+)`', cells[1]))
    return table


def test_the_readme_permission_table_says_what_the_tests_needed():
    assert readme_permission_table() == NEEDED
