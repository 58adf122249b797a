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

from entra_graph_emulator import application_templates, batch, directory, synchronization
from entra_graph_emulator.router import Router

from conftest import COLLECTION_ROOT
from playbook_tasks import NON_GALLERY_TEMPLATE, new_service_principal, playbook, task

# The Application row of each call's permission table (least and higher privileged together), as documented.
SYNC_WRITE_DOCS = {'Application.ReadWrite.OwnedBy', 'Synchronization.ReadWrite.All'}
SYNC_READ_DOCS = {'Application.ReadWrite.OwnedBy', 'Synchronization.Read.All', 'Synchronization.ReadWrite.All'}
DIRECTORY_READ_DOCS = {'Application.Read.All', 'Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All', 'Directory.Read.All'}
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
    ('GET', '/servicePrincipals/{id}/synchronization/jobs/{job}/schema',
     'https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-get', SYNC_READ_DOCS),
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
}
# A failing read names the read permission, which the write permission includes.
INCLUDED = {'Application.ReadWrite.All': {'Application.Read.All'}, 'Synchronization.ReadWrite.All': {'Synchronization.Read.All'}}
READ_ONLY = NEEDED['synchronization_job_info']


def emulator_router():
    router = Router()
    for module in (directory, application_templates, batch, synchronization):
        router.add_all(getattr(module, 'ROUTES', []))
    return router


@pytest.mark.parametrize('method, path, url, documented', DOCUMENTED, ids=['%s %s' % (entry[0], entry[1]) for entry in DOCUMENTED])
def test_the_emulator_allows_each_call_exactly_the_documented_permissions(method, path, url, documented):
    concrete = path.replace('{id}', str(uuid.uuid4())).replace('{job}', 'scim.' + uuid.uuid4().hex)
    route, dummy = emulator_router().match(method, concrete)
    allowed = None if route.permission is None else set(route.permission)
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


def scenario(module, emulator):
    """The tasks that exercise ``module`` on a fresh service principal (a job seeded where the module reads one)."""
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
    run = run_playbook(playbook(*scenario(module, fresh_emulator)), env=app_with(NEEDED[module] - {missing}))
    failures = [msg for status, msg in outcomes(run) if status == 'failed']
    assert failures, outcomes(run)
    named = {missing} | INCLUDED.get(missing, set())
    assert all('HTTP 403' in msg and any(permission in msg for permission in named) for msg in failures), failures


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
    ), env=app_with(READ_ONLY))
    expected = {
        'create a job': 'Synchronization.ReadWrite.All',
        'start a paused job': 'Synchronization.ReadWrite.All',
        'delete a job': 'Synchronization.ReadWrite.All',
        'set secrets': 'Synchronization.ReadWrite.All',
        'instantiate': 'Application.ReadWrite.All',
    }
    for name, permission in expected.items():
        entry = run.result(name)
        assert entry['status'] == 'failed', (name, entry)
        assert 'HTTP 403' in entry['result']['msg'] and permission in entry['result']['msg'], (name, entry['result']['msg'])
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
