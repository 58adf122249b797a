# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, table-driven: every case fails with a message that names the option and the fix, and nothing is written.

One playbook runs every case (module cases with ignore_errors, role cases in a block whose rescue records the failure),
so the whole table costs one ansible-playbook run. The emulator's request log is the witness: 0 writes. A case that
fails with the wrong message, passes, or writes is reported together with every other such case.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from emulator_directory import Directory, graph_requests, graph_writes
from playbook_tasks import NON_GALLERY_TEMPLATE

JOB = 'entra.provisioning.synchronization_job'
SECRET = 'entra.provisioning.synchronization_secret'
APP = 'entra.provisioning.application_from_template'
INFO = 'entra.provisioning.synchronization_job_info'
ROLE = 'entra.provisioning.application_provisioning'

# Values that must never appear in the output, even when refused.
SECRET_IN_A_LIST = 'tok-in-a-list-9d2e'
SECRET_IN_A_DICT = 'tok-in-a-dict-41c7'
FRESH_APP = 'Bad Input Fresh App'  # never created: a role case that instantiates it has written
EXISTING_APP = 'Bad Input Existing App'

PLAIN_GUID = '0f5cf3a5-1b3e-4e8e-9c4b-7d6a1e2f3a4b'
OBJECT_ID_FIX = 'give the object id of the service principal (Enterprise applications > Object ID), not its application (client) id'
JOB_ID_FIX = 'or leave job_id out and give template_id'


def module_cases(ids):
    """``(name, module, options, fragments)``: the task fails and its message holds every fragment (the option, the fix)."""
    sp, other_job = ids['sp'], ids['other_job']
    return [
        # synchronization_job
        ('job: appId-like name as service_principal_id', JOB, dict(service_principal_id='Contoso HR', template_id='scim'),
         ["service_principal_id: 'Contoso HR' is not a GUID", OBJECT_ID_FIX]),
        ('job: application_id not a GUID', JOB, dict(application_id='app-1', template_id='scim'),
         ["application_id: 'app-1' is not a GUID", 'object id of the application registration']),
        ('job: job_id "."', JOB, dict(service_principal_id=sp, job_id='.'), ["job_id: '.' is not an id", JOB_ID_FIX]),
        ('job: job_id ".." with state absent', JOB, dict(service_principal_id=sp, job_id='..', state='absent'),
         ["job_id: '..' is not an id", JOB_ID_FIX]),
        ('job: job_id ".." with state started', JOB, dict(service_principal_id=sp, job_id='..', state='started'),
         ["job_id: '..' is not an id", JOB_ID_FIX]),
        ('job: job_id with a slash', JOB, dict(service_principal_id=sp, job_id='scim/abc'), ["job_id: 'scim/abc' is not an id", JOB_ID_FIX]),
        ('job: template_id with a space', JOB, dict(service_principal_id=sp, template_id='sc im'),
         ["template_id: 'sc im' is not an id", 'give the id of a synchronization template']),
        ('job: unknown template', JOB, dict(service_principal_id=sp, template_id='scimm', state='started'),
         ['template_id: scimm is not a synchronization template', 'available: ']),
        ('job: job of another service principal', JOB, dict(service_principal_id=sp, job_id=other_job, state='started'),
         ['job_id: service_principal_id %s has no job %s' % (sp, other_job), 'give one of these, or leave job_id out']),
        ('job: restart a job of another service principal', JOB, dict(service_principal_id=sp, job_id=other_job, state='restarted'),
         ['job_id: service_principal_id %s has no job %s' % (sp, other_job), 'give one of these, or leave job_id out']),
        ('job: template_id of another template than the job', JOB,
         dict(service_principal_id=sp, job_id=ids['job'], template_id='customappsso'),
         ['not template_id customappsso', 'remove template_id']),
        ('job: restart without a job', JOB, dict(service_principal_id=sp, template_id='customappsso', state='restarted'),
         ['state=restarted needs an existing job', 'with state=started instead']),
        ('job: neither template_id nor job_id', JOB, dict(service_principal_id=sp),
         ['one of the following is required: template_id, job_id']),
        ('job: both parents', JOB, dict(service_principal_id=sp, application_id=sp, template_id='scim'),
         ['mutually exclusive', 'service_principal_id|application_id']),
        ('job: forbidden restart scope', JOB,
         dict(service_principal_id=sp, template_id='scim', state='restarted', restart_scope=['Watermark', 'ConnectorDataStore']),
         ['restart_scope: ConnectorDataStore must not be used', 'Contact Support']),
        ('job: unknown restart scope', JOB, dict(service_principal_id=sp, template_id='scim', state='restarted', restart_scope=['Watermarks']),
         ["restart_scope: 'Watermarks' is not a reset scope", 'use any of Escrows']),
        ('job: restart scope without state restarted', JOB, dict(service_principal_id=sp, template_id='scim', restart_scope=['Full']),
         ['restart_scope applies only to state=restarted', 'set state=restarted']),
        ('job: wait_for without wait', JOB, dict(service_principal_id=sp, template_id='scim', state='started', wait_for='first_cycle'),
         ['wait_for=first_cycle takes effect only with wait=true', 'add wait: true']),
        ('job: wait with state present', JOB, dict(service_principal_id=sp, template_id='scim', wait=True),
         ['wait=true has nothing to wait for with state=present', 'use it with state=started']),
        ('job: negative wait_timeout', JOB, dict(service_principal_id=sp, template_id='scim', state='started', wait=True, wait_timeout=-5),
         ['wait_timeout must be a positive number of seconds', '-5']),
        ('job: list-valued setting', JOB, dict(service_principal_id=sp, template_id='scim', settings={'Threshold': [1]}),
         ['settings: Threshold must be a string, number or boolean, got a list', 'give the value itself']),
        ('job: dict-valued setting', JOB, dict(service_principal_id=sp, template_id='scim', settings={'Threshold': {'a': 1}}),
         ['settings: Threshold must be a string, number or boolean, got a dict', 'give the value itself']),
        ('job: setting without a value', JOB, dict(service_principal_id=sp, template_id='scim', settings={'Threshold': None}),
         ['settings: Threshold has no value', 'give a value or remove the setting']),
        # synchronization_secret
        ('secret: service_principal_id not a GUID', SECRET, dict(service_principal_id='contoso-scim', secrets={'SyncAll': False}),
         ["service_principal_id: 'contoso-scim' is not a GUID", OBJECT_ID_FIX]),
        ('secret: unknown key', SECRET, dict(service_principal_id=sp, secrets={'Secrett': 'secrett-value-1f'}),
         ['secrets: Secrett is not a synchronization secret key', 'Did you mean SecretToken?']),
        ('secret: empty SecretToken', SECRET, dict(service_principal_id=sp, secrets={'SecretToken': ''}),
         ['secrets: SecretToken has an empty value', 'to remove the key use state=absent']),
        ('secret: list value', SECRET, dict(service_principal_id=sp, secrets={'SecretToken': [SECRET_IN_A_LIST]}),
         ['secrets: SecretToken must be a string (or a number or boolean), got a list', 'give the value itself, not a list']),
        ('secret: dict value for a key that holds no JSON', SECRET, dict(service_principal_id=sp, secrets={'SecretToken': {'v': SECRET_IN_A_DICT}}),
         ['secrets: SecretToken must be a string (or a number or boolean), got a dict', 'a dict is taken only for']),
        ('secret: a key given twice', SECRET, dict(service_principal_id=sp, secrets={'SecretToken': 'token-one-7c', 'secrettoken': 'token-two-7c'}),
         ['secrets: SecretToken is given twice', 'keep one']),
        ('secret: bad notification e-mail', SECRET, dict(service_principal_id=sp, notification_email='alerts at contoso'),
         ["notification_email: 'alerts at contoso' is not an e-mail address", 'give one address']),
        ('secret: negative deletion threshold', SECRET, dict(service_principal_id=sp, deletion_threshold=-1),
         ['deletion_threshold must be 0', 'got -1']),
        ('secret: typed option and raw key together', SECRET,
         dict(service_principal_id=sp, notification_email='a@contoso.com', secrets={'SyncNotificationSettings': '{}'}),
         ['notification_email and secrets.SyncNotificationSettings set the same key', 'use the typed options, or the raw key']),
        ('secret: typed option with state absent', SECRET, dict(service_principal_id=sp, state='absent', deletion_threshold=5, secrets={'SyncAll': ''}),
         ['deletion_threshold applies to state=present only', 'name SyncNotificationSettings in secrets']),
        ('secret: state absent without a key', SECRET, dict(service_principal_id=sp, state='absent', secrets={}, deletion_threshold=None,
                                                            notification_email=None),
         ['state=absent removes the keys named in secrets', 'name at least one key']),
        # application_from_template
        ('app: synchronization template id as template_id', APP, dict(template_id='scim', display_name=FRESH_APP),
         ["template_id: 'scim' is not a GUID", 'or use template_name']),
        ('app: empty display_name', APP, dict(template_id=NON_GALLERY_TEMPLATE, display_name=' '),
         ['display_name must not be empty', 'give the name the application shows']),
        ('app: display_name with trailing space', APP, dict(template_id=NON_GALLERY_TEMPLATE, display_name=FRESH_APP + ' '),
         ['has leading or trailing spaces', 'remove them']),
        ('app: empty template_name', APP, dict(template_name=' ', display_name=FRESH_APP),
         ['template_name must not be empty', 'or use template_id']),
        ('app: wait_timeout 0', APP, dict(template_id=NON_GALLERY_TEMPLATE, display_name=FRESH_APP, wait_timeout=0),
         ['wait_timeout must be at least 1 second', 'default 300']),
        ('app: unknown template name', APP, dict(template_name='No Such Gallery App Zzz', display_name=FRESH_APP),
         ["No application template is named 'No Such Gallery App Zzz'", 'give the id as template_id']),
        # synchronization_job_info
        ('info: service_principal_id not a GUID', INFO, dict(service_principal_id='Contoso HR'),
         ["service_principal_id: 'Contoso HR' is not a GUID", OBJECT_ID_FIX]),
        ('info: application_id not a GUID', INFO, dict(application_id='app-1'),
         ["application_id: 'app-1' is not a GUID", 'object id of the application registration']),
        ('info: job_id ".."', INFO, dict(service_principal_id=sp, job_id='..'), ["job_id: '..' is not an id", 'or leave job_id out']),
        ('info: batch_concurrency 0', INFO, dict(batch_concurrency=0), ['batch_concurrency must be between 1 and 20', 'got 0']),
        ('info: negative stale_after_hours', INFO, dict(stale_after_hours=-1.0),
         ['stale_after_hours must be 0 (no staleness rule) or a positive number of hours', 'got -1']),
        ('info: empty filter', INFO, dict(service_principal_filter=' '),
         ['service_principal_filter is empty', 'give an OData filter']),
        # the connection options every module shares
        ('connection: http graph_endpoint', INFO, dict(service_principal_id=sp, graph_endpoint='http://graph.contoso.test'),
         ['graph_endpoint must be an https:// URL', 'http://graph.contoso.test']),
    ]


ROLE_BASE = dict(application_provisioning_display_name=FRESH_APP,
                 application_provisioning_secrets={'BaseAddress': 'https://scim.contoso.test/v2', 'SecretToken': 'role-token-5e1a'},
                 application_provisioning_wait_timeout=60)


def role_cases():
    """``(name, role variables, fragments)``; the role's message names the role variable and the fix."""
    existing = dict(application_provisioning_display_name=EXISTING_APP)
    return [
        ('role: unknown secret key', dict(application_provisioning_secrets={'BaseAddress': 'https://x.test', 'Secrett': 'secrett-value-2f'}),
         ['application_provisioning_secrets', 'secrets: Secrett is not a synchronization secret key', 'Did you mean SecretToken?']),
        ('role: empty SecretToken', dict(application_provisioning_secrets={'BaseAddress': 'https://x.test', 'SecretToken': ''}),
         ['application_provisioning_secrets', 'secrets: SecretToken has an empty value']),
        ('role: list-valued secret', dict(application_provisioning_secrets={'SecretToken': [SECRET_IN_A_LIST]}),
         ['application_provisioning_secrets', 'got a list', 'give the value itself']),
        ('role: bad notification e-mail', dict(application_provisioning_notification_email='alerts at contoso'),
         ['application_provisioning_notification_email', 'give one address']),
        ('role: negative deletion threshold', dict(application_provisioning_deletion_threshold=-3),
         ['application_provisioning_deletion_threshold', 'deletion_threshold must be 0']),
        ('role: negative wait_timeout', dict(application_provisioning_wait_timeout=-5),
         ['application_provisioning_wait_timeout', 'wait_timeout must be a positive number of seconds']),
        ('role: list-valued job setting', dict(application_provisioning_job_settings={'Threshold': [1]}),
         ['application_provisioning_job_settings', 'got a list', 'give the value itself']),
        ('role: list-valued job setting, existing application', dict(existing, application_provisioning_job_settings={'Threshold': [1]}),
         ['application_provisioning_job_settings', 'got a list', 'give the value itself']),
        ('role: unknown synchronization template, existing application', dict(existing, application_provisioning_synchronization_template_id='scimm'),
         ['application_provisioning_synchronization_template_id', 'template_id: scimm is not a synchronization template', 'available: ']),
        ('role: unknown update_secrets', dict(application_provisioning_update_secrets='sometimes'),
         ['application_provisioning_update_secrets', 'on_create']),
        ('role: synchronization template id as application template id', dict(application_provisioning_template_id='scim'),
         ["template_id: 'scim' is not a GUID", 'or use template_name']),
    ]


def module_task(name, module, options):
    return {'name': name, module: options, 'ignore_errors': True}


def role_task(name, variables):
    """The role in a block: the rescue records the failure under the case's name; a case that passes says so."""
    return {'name': name, 'block': [
        {'name': 'include ' + name, 'ansible.builtin.include_role': {'name': ROLE}, 'vars': dict(ROLE_BASE, **variables)},
        {'name': name, 'ansible.builtin.debug': {'msg': 'NO FAILURE'}},
    ], 'rescue': [
        {'name': name, 'ansible.builtin.debug': {'msg': '{{ ansible_failed_result.msg }}'}},
    ]}


@pytest.fixture
def tenant(fresh_emulator):
    """Two service principals with a scim job each, and an application the role adopts; then an empty request log."""
    ids = fresh_emulator.seed(2, 2, application_template_id=NON_GALLERY_TEMPLATE, job_template_id='scim', return_ids=True)['ids']
    directory = Directory(fresh_emulator)
    jobs = [directory.jobs(sp_id)[0]['id'] for sp_id in ids]
    directory.instantiate(EXISTING_APP)
    fresh_emulator.clear_log()
    return dict(sp=ids[0], job=jobs[0], other_job=jobs[1])


def test_bad_input_fails_naming_the_option_and_the_fix_with_no_write(run_playbook, fresh_emulator, tenant):
    modules = module_cases(tenant)
    roles = role_cases()
    assert len(modules) + len(roles) >= 40
    tasks = [module_task(*case[:3]) for case in modules] + [role_task(name, variables) for name, variables, dummy in roles]
    run = run_playbook(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]), timeout=900)
    assert run.rc == 0, run

    problems = []
    expected = [(name, fragments, 'failed') for name, dummy, dummy, fragments in modules] + \
        [(name, fragments, 'ok') for name, dummy, fragments in roles]
    for name, fragments, status in expected:
        entry = run.result(name)
        message = str(entry['result'].get('msg'))
        if entry['status'] != status or message == 'NO FAILURE':
            problems.append('%s: did not fail (%s)' % (name, entry['status']))
            continue
        missing = [fragment for fragment in fragments if fragment not in message]
        if missing:
            problems.append('%s: %r lacks %r' % (name, message, missing))
        if '_Ansible' in message or "<class '" in message:
            problems.append('%s: names an internal type: %r' % (name, message))
        if '********' in message:
            problems.append('%s: garbled by masking (a short secret value appears in the text): %r' % (name, message))

    log = fresh_emulator.requests_log()
    writes = graph_writes(log)
    if writes:
        problems.append('writes: %s' % writes)
    for secret in (SECRET_IN_A_LIST, SECRET_IN_A_DICT):
        if secret in run.output:
            problems.append('the refused value %s is in the output' % secret)
    # A job id of another service principal fails at once, after one read of the job and one of the list: it is not
    # waited for as a job still replicating.
    other_job_reads = [request for request in graph_requests(log) if tenant['other_job'] in request]
    if len(other_job_reads) > 2:
        problems.append('the job of another service principal was read %d times (waited for): %s'
                        % (len(other_job_reads), other_job_reads))
    assert not problems, '\n'.join(problems)
