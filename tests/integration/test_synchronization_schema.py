# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra.provisioning.synchronization_schema against the Graph emulator: the SCIM job's schema (the documented default
mappings of the non-gallery app) read, changed and PUT whole, expressions parsed and tested by parseExpression, and
never a write when nothing changes or the task is refused."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import json
import os

from ansible_collections.entra.provisioning.plugins.module_utils._sync_schema import run_synchronization_schema
from ansible_collections.entra.provisioning.plugins.module_utils._task import Task, execute

from emulator_directory import Directory
from playbook_tasks import failed, last_seq, new_service_principal, ok, playbook, task
from test_graph_client import base_params

USER = 'User'
SCIM_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
EMPLOYEE_NUMBER = SCIM_USER + ':employeeNumber'
EMPLOYEE_EXPRESSION = 'ToUpper(Coalesce([employeeId], [mailNickname]))'
EMPLOYEE_TESTS = [{'input': {'employeeId': 'e-1042', 'mailNickname': 'jdoe'}, 'expect': 'E-1042'},
                  {'input': {'mailNickname': 'jdoe'}, 'expect': 'JDOE'}]
SALES = [[{'attribute': 'department', 'operator': 'EQUALS', 'values': ['Sales']}]]

job_task = functools.partial(task, 'entra.provisioning.synchronization_job')
schema_task = functools.partial(task, 'entra.provisioning.synchronization_schema')


def schema_writes(emulator, seq):
    """Writes to the schema (PUT, PATCH, DELETE). parseExpression is a POST that changes nothing."""
    return ['%s %s' % (entry['method'], entry['path']) for entry in emulator.writes(seq)
            if not entry['path'].endswith('/parseExpression')]


def new_job(run_playbook, emulator):
    sp_id = new_service_principal(emulator)
    ok(run_playbook(playbook(job_task('job', service_principal_id=sp_id, template_id='scim'))), 'job')
    return sp_id


def user_mapping(**options):
    return dict(dict(source_object=USER, target_object=SCIM_USER), **options)


def read_schema(emulator, sp_id):
    directory = Directory(emulator)
    job = directory.jobs(sp_id)[0]
    return directory.get('/servicePrincipals/%s/synchronization/jobs/%s/schema' % (sp_id, job['id']))


def attribute(result, target, source_object=USER):
    mapping = [item for item in result['object_mappings'] if item['source_object'] == source_object][0]
    matches = [item for item in mapping['attribute_mappings'] if item['target'].lower() == target.lower()]
    return matches[0] if matches else None


def test_add_change_repeat_and_check_mode(run_playbook, emulator):
    sp_id = new_job(run_playbook, emulator)
    remove = dict(service_principal_id=sp_id, template_id='scim',
                  object_mappings=[user_mapping(attribute_mappings=[{'target': 'title', 'state': 'absent'}])])
    add = dict(service_principal_id=sp_id, template_id='scim',
               object_mappings=[user_mapping(attribute_mappings=[{'target': 'TITLE', 'source': 'jobtitle'}])])
    change = dict(service_principal_id=sp_id, template_id='scim', object_mappings=[user_mapping(attribute_mappings=[
        {'target': EMPLOYEE_NUMBER, 'expression': EMPLOYEE_EXPRESSION, 'tests': EMPLOYEE_TESTS}])])

    # Check mode: the change is planned, the expression parsed and tested, nothing written.
    seq = last_seq(emulator)
    preview = ok(run_playbook(playbook(schema_task('preview', **change)), check=True, diff=True), 'preview')
    assert preview['changed'] is True
    assert [(c['kind'], c['target'], c['action']) for c in preview['changes']] == [('attribute', EMPLOYEE_NUMBER, 'changed')]
    assert preview['changes'][0]['before']['source'] == 'employeeId'
    assert preview['changes'][0]['after']['expression'] == EMPLOYEE_EXPRESSION
    assert schema_writes(emulator, seq) == []
    # One parseExpression per test; the tests' answers carry the parsed tree, so the expression is not parsed again.
    assert [entry['method'] for entry in emulator.graph_requests(seq) if entry['path'].endswith('/parseExpression')] == \
        ['POST'] * len(EMPLOYEE_TESTS)

    seq = last_seq(emulator)
    run = run_playbook(playbook(schema_task('remove', **remove), schema_task('add', **add), schema_task('change', **change)))
    removed, added, changed = ok(run, 'remove'), ok(run, 'add'), ok(run, 'change')
    assert [(c['action'], c['target']) for c in removed['changes']] == [('removed', 'title')]
    assert attribute(removed, 'title') is None
    assert [(c['action'], c['target']) for c in added['changes']] == [('added', 'title')]
    assert attribute(added, 'title')['source'] == 'jobTitle'  # the schema's spelling
    assert attribute(changed, EMPLOYEE_NUMBER)['expression'].replace(' ', '') == EMPLOYEE_EXPRESSION.replace(' ', '')
    assert len(schema_writes(emulator, seq)) == 3
    assert all(write.startswith('PUT ') for write in schema_writes(emulator, seq))

    stored = read_schema(emulator, sp_id)
    users = [m for m in stored['synchronizationRules'][0]['objectMappings'] if m['sourceObjectName'] == USER][0]
    employee = [m for m in users['attributeMappings'] if m['targetAttributeName'] == EMPLOYEE_NUMBER][0]
    assert employee['source']['type'] == 'Function' and employee['source']['name'] == 'ToUpper'
    # Everything the task did not name went back as it was: the group mapping, the directories.
    assert len(stored['directories']) == 2
    assert len(stored['synchronizationRules'][0]['objectMappings']) == 2

    # The identical run: no change, no PUT (every PUT restarts the provisioning service).
    seq = last_seq(emulator)
    respelt = dict(change)
    respelt['object_mappings'] = [user_mapping(attribute_mappings=[
        {'target': EMPLOYEE_NUMBER.upper(), 'expression': EMPLOYEE_EXPRESSION.replace(', ', ',  '), 'tests': EMPLOYEE_TESTS}])]
    run = run_playbook(playbook(schema_task('again', **respelt), schema_task('add again', **add)))
    assert ok(run, 'again')['changed'] is False and ok(run, 'again')['changes'] == []
    assert ok(run, 'add again')['changed'] is False
    assert schema_writes(emulator, seq) == []


def test_invalid_expression_failing_test_and_unknown_attributes_are_refused_without_a_write(run_playbook, emulator):
    sp_id = new_job(run_playbook, emulator)
    seq = last_seq(emulator)

    def mapping(**attribute_mapping):
        return dict(service_principal_id=sp_id, template_id='scim',
                    object_mappings=[user_mapping(attribute_mappings=[dict(dict(target=EMPLOYEE_NUMBER), **attribute_mapping)])])

    run = run_playbook(playbook(
        schema_task('syntax', ignore_errors=True, **mapping(expression='ToUpper([employeeId]')),
        schema_task('unknown function', ignore_errors=True, **mapping(expression='Frobnicate([employeeId])')),
        schema_task('failing test', ignore_errors=True, **mapping(
            expression=EMPLOYEE_EXPRESSION, tests=[{'input': {'employeeId': 'e-1042'}, 'expect': 'e-1042'}])),
        schema_task('unknown target', ignore_errors=True, service_principal_id=sp_id, template_id='scim', object_mappings=[
            user_mapping(attribute_mappings=[{'target': SCIM_USER + ':costCenterX', 'source': 'employeeId'}])]),
        schema_task('unknown source', ignore_errors=True, **mapping(source='employeeNumberX')),
        schema_task('unknown object mapping', ignore_errors=True, service_principal_id=sp_id, template_id='scim',
                    object_mappings=[dict(source_object='Device', target_object=SCIM_USER, enabled=True)]),
        schema_task('bad operator', ignore_errors=True, service_principal_id=sp_id, template_id='scim',
                    object_mappings=[user_mapping(scoping_filter=[[{'attribute': 'department', 'operator': 'LIKE', 'values': ['x']}]])]),
        schema_task('two sources', ignore_errors=True, **mapping(source='employeeId', constant='x')),
    ))

    syntax = failed(run, 'syntax')['msg']
    assert 'User -> %s' % SCIM_USER in syntax and EMPLOYEE_NUMBER in syntax and 'does not parse' in syntax
    # Graph's position when its answer has one, else where the parentheses fail to balance.
    assert ' (at ' in syntax or '(position 8: "(" is not closed)' in syntax
    assert 'does not parse' in failed(run, 'unknown function')['msg']
    test = failed(run, 'failing test')
    assert "expected \"e-1042\"" in test['msg'] and '"E-1042"' in test['msg'] and 'employeeId' in test['msg']
    assert test['test']['actual'] == ['E-1042']
    assert 'costCenterX is not an attribute of the target object' in failed(run, 'unknown target')['msg']
    assert 'employeeNumberX is not an attribute of the source object User' in failed(run, 'unknown source')['msg']
    assert 'has no object mapping Device' in failed(run, 'unknown object mapping')['msg']
    assert "operator 'LIKE'" in failed(run, 'bad operator')['msg']
    assert 'mutually exclusive' in failed(run, 'two sources')['msg']
    assert schema_writes(emulator, seq) == []


def test_scoping_filter_added_and_removed_purge_and_disabled_warning(run_playbook, emulator):
    sp_id = new_job(run_playbook, emulator)
    job = dict(service_principal_id=sp_id, template_id='scim')

    seq = last_seq(emulator)
    run = run_playbook(playbook(
        schema_task('scope', **dict(job, object_mappings=[user_mapping(scoping_filter=SALES)])),
        schema_task('scope again', include_schema=True, **dict(job, object_mappings=[user_mapping(scoping_filter=[
            [{'attribute': 'DEPARTMENT', 'operator': 'equals', 'values': 'Sales'}]])])),
    ))
    scoped = ok(run, 'scope')
    assert [(c['kind'], c['action']) for c in scoped['changes']] == [('scoping', 'added')]
    assert any('SkipOutOfScopeDeletions' in warning for warning in run.result('scope')['result'].get('warnings', []))
    assert scoped['object_mappings'][0]['scoping_filter'] == [[{'attribute': 'department', 'operator': 'EQUALS', 'values': ['Sales']}]]
    assert ok(run, 'scope again')['changed'] is False
    whole = ok(run, 'scope again')['schema']
    assert len(whole['directories']) == 2 and whole['synchronization_rules'][0]['object_mappings']
    assert len(schema_writes(emulator, seq)) == 1
    stored = read_schema(emulator, sp_id)
    users = [m for m in stored['synchronizationRules'][0]['objectMappings'] if m['sourceObjectName'] == USER][0]
    assert users['scope']['groups'][0]['clauses'] == [
        {'operatorName': 'EQUALS', 'sourceOperandName': 'department', 'targetOperand': {'values': ['Sales']}}]

    seq = last_seq(emulator)
    run = run_playbook(playbook(
        schema_task('unscope', **dict(job, object_mappings=[user_mapping(scoping_filter=[])])),
        schema_task('purge', **dict(job, object_mappings=[dict(
            source_object='group', target_object='urn:ietf:params:scim:schemas:core:2.0:group', purge_attribute_mappings=True,
            attribute_mappings=[{'target': 'displayName', 'source': 'displayName', 'matching_priority': 1}])])),
        schema_task('disable', **dict(job, object_mappings=[dict(
            source_object='Group', target_object='urn:ietf:params:scim:schemas:core:2.0:Group', enabled=False)])),
    ))
    unscoped = ok(run, 'unscope')
    assert [(c['kind'], c['action']) for c in unscoped['changes']] == [('scoping', 'removed')]
    assert unscoped['object_mappings'][0]['scoping_filter'] == []
    purged = ok(run, 'purge')
    assert sorted(c['target'] for c in purged['changes'] if c['action'] == 'removed') == ['externalId', 'members']
    assert [item['target'] for item in purged['object_mappings'][0]['attribute_mappings']] == ['displayName']
    assert any('is disabled' in warning for warning in run.result('disable')['result'].get('warnings', []))
    assert len(schema_writes(emulator, seq)) == 3


def test_matching_attribute_is_kept(run_playbook, emulator):
    sp_id = new_job(run_playbook, emulator)
    seq = last_seq(emulator)
    run = run_playbook(playbook(schema_task('no matching', ignore_errors=True, service_principal_id=sp_id, template_id='scim',
                                            object_mappings=[user_mapping(attribute_mappings=[
                                                {'target': 'userName', 'source': 'userPrincipalName', 'matching_priority': 0}])])))
    assert 'no matching attribute' in failed(run, 'no matching')['msg']
    assert schema_writes(emulator, seq) == []


def test_backup_then_restore_and_reset(run_playbook, emulator, tmp_path):
    sp_id = new_job(run_playbook, emulator)
    job = dict(service_principal_id=sp_id, template_id='scim')
    original = read_schema(emulator, sp_id)

    run = run_playbook(playbook(
        schema_task('change', **dict(job, backup=True, backup_options={'dir_path': str(tmp_path / 'saved')}, object_mappings=[
            user_mapping(attribute_mappings=[{'target': EMPLOYEE_NUMBER, 'constant': 'n/a'}], scoping_filter=SALES)])),
    ))
    changed = ok(run, 'change')
    backup_file = changed['backup_file']
    assert backup_file and os.path.dirname(backup_file) == str(tmp_path / 'saved')
    with open(backup_file) as handle:
        saved = json.load(handle)
    assert saved['synchronizationRules'] == original['synchronizationRules']

    seq = last_seq(emulator)
    run = run_playbook(playbook(schema_task('restore', **dict(job, restore_from=backup_file)),
                                schema_task('restore again', **dict(job, restore_from=backup_file))))
    assert ok(run, 'restore')['changed'] is True
    assert ok(run, 'restore again')['changed'] is False
    assert [write.split(' ')[0] for write in schema_writes(emulator, seq)] == ['PUT']
    assert read_schema(emulator, sp_id)['synchronizationRules'] == original['synchronizationRules']

    # Reset: customise again, then DELETE returns the template's default; a second reset sends nothing.
    run_playbook(playbook(schema_task('customise', **dict(job, object_mappings=[user_mapping(scoping_filter=SALES)]))))
    seq = last_seq(emulator)
    preview = ok(run_playbook(playbook(schema_task('preview reset', **dict(job, state='reset'))), check=True), 'preview reset')
    assert preview['changed'] is True and schema_writes(emulator, seq) == []
    run = run_playbook(playbook(schema_task('reset', backup=True, **dict(job, state='reset')),
                                schema_task('reset again', backup=True, **dict(job, state='reset'))))
    assert ok(run, 'reset')['changed'] is True
    # By default the backup goes to backup/ next to the playbook; nothing is saved when nothing is written.
    assert os.path.dirname(ok(run, 'reset')['backup_file']) == str(tmp_path / 'backup')
    assert ok(run, 'reset again')['backup_file'] is None
    assert ok(run, 'reset again')['changed'] is False
    assert [write.split(' ')[0] for write in schema_writes(emulator, seq)] == ['DELETE']
    assert read_schema(emulator, sp_id)['synchronizationRules'] == original['synchronizationRules']


class _SecondWriter:
    """A GraphClient wrapper that lets another writer change the schema right after the task's first read of it."""

    def __init__(self, client, change):
        self.client = client
        self.change = change
        self.schema_reads = 0

    def get(self, path, params=None):
        answer = self.client.get(path, params=params)
        if path.endswith('/schema'):
            self.schema_reads += 1
            if self.schema_reads == 1:
                self.change(path)
        return answer

    def __getattr__(self, name):
        return getattr(self.client, name)


def _run_with_second_writer(emulator, token_cache_path, params, change):
    from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import GraphClient
    from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import ConnectionSettings

    directory = Directory(emulator)

    def other_writer(path):
        schema = directory.get(path)
        change(schema)
        schema.pop('@odata.context', None)
        response = directory.session.put(directory.base + path, json=schema, verify=directory.verify, timeout=30)
        response.raise_for_status()

    def client_factory(task):
        return _SecondWriter(GraphClient(ConnectionSettings(task.params), warn=task.warn), other_writer)

    full = dict(base_params(emulator, token_cache_path), **params)
    for name in ('application_id', 'job_id', 'rule', 'backup_options', 'restore_from'):
        full.setdefault(name, None)
    full.setdefault('state', 'present')
    full.setdefault('backup', False)
    full.setdefault('include_schema', False)
    task = Task(full, client_factory=client_factory)
    return execute(run_synchronization_schema, task), task


def _users(schema):
    return [m for m in schema['synchronizationRules'][0]['objectMappings'] if m['sourceObjectName'] == USER][0]


def _set_source(schema, target, attribute_name):
    for mapping in _users(schema)['attributeMappings']:
        if mapping['targetAttributeName'] == target:
            mapping['source'] = dict(expression='[%s]' % attribute_name, name=attribute_name, parameters=[], type='Attribute')


def _normalise_params(mappings):
    """Fill the suboptions Ansible's validation would fill (in-process runs skip it)."""
    result = []
    for mapping in mappings:
        item = dict(dict(enabled=None, flow_types=None, attribute_mappings=None, scoping_filter=None, purge_attribute_mappings=False), **mapping)
        item['attribute_mappings'] = [dict(dict(source=None, expression=None, constant=None, flow_type=None, flow_behavior=None,
                                                matching_priority=None, default_value=None, export_missing_references=None,
                                                state='present', tests=None), **attribute_mapping)
                                      for attribute_mapping in item['attribute_mappings'] or []] or item['attribute_mappings']
        result.append(item)
    return result


def test_a_concurrent_writer_is_detected(run_playbook, emulator, token_cache_path):
    sp_id = new_job(run_playbook, emulator)
    params = dict(service_principal_id=sp_id, template_id='scim', object_mappings=_normalise_params([
        user_mapping(attribute_mappings=[{'target': 'title', 'source': 'department'}])]))

    # Another writer changes a mapping this task does not manage: the task's change is applied on top of it.
    seq = last_seq(emulator)
    result, task = _run_with_second_writer(emulator, token_cache_path, params, lambda schema: _set_source(schema, 'displayName', 'mailNickname'))
    assert result['changed'] is True, result
    assert any('another writer changed other parts' in warning for warning in task.warnings)
    assert any('restarts the provisioning service' in warning for warning in task.warnings)
    stored = read_schema(emulator, sp_id)
    sources = dict((m['targetAttributeName'], m['source']['name']) for m in _users(stored)['attributeMappings'] if m['source'])
    assert sources['title'] == 'department' and sources['displayName'] == 'mailNickname'
    assert len(schema_writes(emulator, seq)) == 2  # the other writer's PUT and ours

    # Another writer changes the very mapping this task manages: the task fails naming it and writes nothing.
    params['object_mappings'] = _normalise_params([user_mapping(attribute_mappings=[{'target': 'title', 'source': 'jobTitle'}])])
    seq = last_seq(emulator)
    result, task = _run_with_second_writer(emulator, token_cache_path, params, lambda schema: _set_source(schema, 'title', 'mail'))
    assert result.get('failed') is True, result
    assert 'another writer changed the parts of the schema this task manages' in result['msg']
    assert 'attribute title' in result['msg']
    assert len(schema_writes(emulator, seq)) == 1  # the other writer's only
    sources = dict((m['targetAttributeName'], m['source']['name']) for m in _users(read_schema(emulator, sp_id))['attributeMappings'] if m['source'])
    assert sources['title'] == 'mail'

    # Another writer (another run of the same task: one play over several hosts) makes exactly this task's change: the
    # task converges with nothing left to write, and does not fail.
    params['object_mappings'] = _normalise_params([user_mapping(attribute_mappings=[{'target': 'title', 'source': 'employeeId'}])])
    seq = last_seq(emulator)
    result, task = _run_with_second_writer(emulator, token_cache_path, params, lambda schema: _set_source(schema, 'title', 'employeeId'))
    assert result.get('failed') is not True, result
    assert result['changed'] is False and result['changes'] == [], result
    assert len(schema_writes(emulator, seq)) == 1  # the other writer's only
    assert not any('another writer' in warning or 'restarts' in warning for warning in task.warnings), task.warnings


def test_a_restore_fails_when_another_writer_changed_the_schema_meanwhile(run_playbook, emulator, token_cache_path, tmp_path):
    sp_id = new_job(run_playbook, emulator)
    saved = tmp_path / 'saved.json'
    saved.write_text(json.dumps(read_schema(emulator, sp_id)))
    ok(run_playbook(playbook(schema_task('customise', service_principal_id=sp_id, template_id='scim',
                                         object_mappings=[user_mapping(scoping_filter=SALES)]))), 'customise')

    seq = last_seq(emulator)
    restore = dict(service_principal_id=sp_id, template_id='scim', object_mappings=None, restore_from=str(saved))
    result, dummy = _run_with_second_writer(emulator, token_cache_path, restore, lambda schema: _set_source(schema, 'displayName', 'mailNickname'))
    assert result.get('failed') is True and 'another writer changed the schema' in result['msg'], result
    assert len(schema_writes(emulator, seq)) == 1  # the other writer's only
    assert _users(read_schema(emulator, sp_id))['scope'] is not None
