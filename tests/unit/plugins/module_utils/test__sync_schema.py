# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of synchronization_schema: expressions, normalisation, the planner (merge, purge, absent, scoping),
the managed view used to detect another writer, and the expression-test helpers."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._sync_schema import (
    DesiredSchema,
    canonical_expression,
    check_max_leaving,
    expected_values,
    graph_properties,
    managed_view,
    parse_failure,
    plan_schema,
    put_body,
    render_source,
    schema_diff,
    scoping_changes,
    select_rule,
    source_from_expression,
    source_to_graph,
    source_to_option,
    source_view,
    syntax_position,
    test_input_object as make_test_input,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure

SCIM_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'


def attr(name):
    return dict(expression='[%s]' % name, name=name, parameters=[], type='Attribute')


def mapping(target, source=None, priority=0, **extra):
    item = dict(defaultValue=None, exportMissingReferences=False, flowBehavior='FlowWhenChanged', flowType='Always',
                matchingPriority=priority, source=source, targetAttributeName=target)
    item.update(extra)
    return item


# A small schema in the shape of the SCIM app's (graph-api schema-get.response.json, Salesforce's published schema).
SWITCH = dict(expression='Switch([IsSoftDeleted], , "False", "True", "True", "False")', name='Switch', type='Function',
              parameters=[dict(key='source', value=attr('IsSoftDeleted'))])
USER_ATTRIBUTES = ('userPrincipalName', 'IsSoftDeleted', 'employeeId', 'mail', 'department', 'jobTitle', 'mailNickname')
SCIM_USER_ATTRIBUTES = ('userName', 'active', 'title', 'externalId', SCIM_USER + ':employeeNumber')
SCHEMA = {
    '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#schema',
    'id': 'scim.1', 'version': 'v1',
    'directories': [
        {'name': 'Microsoft Entra ID', 'objects': [
            {'name': 'User', 'attributes': [{'name': n} for n in USER_ATTRIBUTES]},
            {'name': 'Group', 'attributes': [{'name': n} for n in ('displayName', 'objectId', 'members')]}]},
        {'name': 'customappsso', 'objects': [
            {'name': SCIM_USER, 'attributes': [{'name': n} for n in SCIM_USER_ATTRIBUTES]},
            {'name': GROUP, 'attributes': [{'name': n} for n in ('displayName', 'externalId', 'members')]}]},
    ],
    'synchronizationRules': [
        {'id': 'r1', 'name': 'USERGROUP_OUTBOUND_USERGROUP', 'editable': True, 'sourceDirectoryName': 'Microsoft Entra ID',
         'targetDirectoryName': 'customappsso', 'metadata': [{'key': 'k', 'value': 'v'}],
         'objectMappings': [
             {'name': 'Groups', 'enabled': True, 'flowTypes': 'Add,Update,Delete', 'sourceObjectName': 'Group',
              'targetObjectName': GROUP, 'scope': None, 'metadata': [],
              'attributeMappings': [mapping('displayName', attr('displayName'), 1), mapping('externalId', attr('objectId')),
                                    mapping('members', attr('members'))]},
             {'name': 'Users', 'enabled': True, 'flowTypes': 'Add, Update, Delete', 'sourceObjectName': 'User',
              'targetObjectName': SCIM_USER, 'scope': None, 'metadata': [{'key': 'IsCustomerDefined', 'value': 'false'}],
              'attributeMappings': [mapping('userName', attr('userPrincipalName'), 1), mapping('active', SWITCH),
                                    mapping('title', attr('jobTitle'))]},
         ]},
        {'id': 'r2', 'name': 'READ_ONLY', 'editable': False, 'objectMappings': []},
    ],
}


def desired(*object_mappings, **options):
    params = dict(state='present', rule=None, include_schema=False, backup=False, backup_options=None, restore_from=None,
                  object_mappings=[_object_mapping(item) for item in object_mappings])
    params.update(options)
    return DesiredSchema(params)


def _object_mapping(item):
    full = dict(source_object='User', target_object=SCIM_USER, enabled=None, flow_types=None, attribute_mappings=None,
                scoping_filter=None, purge_attribute_mappings=False)
    full.update(item)
    if full['attribute_mappings'] is not None:
        full['attribute_mappings'] = [dict(dict(source=None, expression=None, constant=None, flow_type=None, flow_behavior=None,
                                                matching_priority=None, default_value=None, export_missing_references=None,
                                                state='present', tests=None), **entry) for entry in full['attribute_mappings']]
    return full


def users(schema):
    return [m for m in schema['synchronizationRules'][0]['objectMappings'] if m['sourceObjectName'] == 'User'][0]


def targets(schema, source='User'):
    found = [m for m in schema['synchronizationRules'][0]['objectMappings'] if m['sourceObjectName'] == source][0]
    return [item['targetAttributeName'] for item in found['attributeMappings']]


# --- expressions ------------------------------------------------------------------------------------------------------

def test_canonical_expression_ignores_whitespace_outside_strings_and_brackets():
    assert canonical_expression('Join( " ", [given Name] ,[surname] )') == canonical_expression('Join(" ",[given Name],[surname])')
    assert canonical_expression('Join(" ", [a])') != canonical_expression('Join("  ", [a])')
    assert canonical_expression('Replace([x], "\\"", , , "_", , )') == 'Replace([x],"\\"",,,"_",,)'
    assert canonical_expression('IIF([a] = "1", "x", "y")') == canonical_expression('IIF([a]="1","x","y")')


@pytest.mark.parametrize('expression, position', [
    ('ToUpper([employeeId]', 'position 8: "(" is not closed'),
    ('ToUpper([employeeId]))', 'position 22: ")" closes nothing'),
    ('Join(" , [a])', 'position 6: the string is not closed'),
    ('ToUpper([emp', 'position 9: the attribute reference is not closed'),
    ('IIF([a]="(", "x", "y")', None),
    ('Replace([x], "\\"", , , "_", , )', None),
])
def test_syntax_position_locates_unbalanced_quotes_brackets_and_parentheses(expression, position):
    assert syntax_position(expression) == position


def test_bare_attribute_and_string_expressions_are_sources_and_constants():
    assert source_from_expression(' [mail] ') == ('source', 'mail')
    assert source_from_expression('"a \\"b\\""') == ('constant', 'a "b"')
    assert source_from_expression('ToLower([mail])') == ('expression', 'ToLower([mail])')
    assert source_from_expression('ToLower([mail]') == ('expression', 'ToLower([mail]')


def test_sources_convert_to_and_from_graphs_tree():
    assert source_to_graph('source', 'mail') == attr('mail')
    constant = source_to_graph('constant', 'say "hi"')
    assert constant == dict(expression='"say \\"hi\\""', name='say "hi"', parameters=[], type='Constant')
    assert source_to_option(constant) == ('constant', 'say "hi"')
    assert source_to_option(attr('mail')) == ('source', 'mail')
    assert source_to_option(SWITCH) == ('expression', SWITCH['expression'])
    assert source_to_option(None) == (None, None)
    # A parsed tree is used as parseExpression returned it; before parsing a placeholder stands in.
    tree = dict(SWITCH)
    assert source_to_graph('expression', 'Switch([IsSoftDeleted],,"False","True","True","False")',
                           {canonical_expression(SWITCH['expression']): tree}) == tree
    assert source_to_graph('expression', 'ToLower([mail])')['type'] == 'Function'


def test_render_source_rebuilds_an_expression_without_its_text():
    tree = dict(name='Join', type='Function', parameters=[
        dict(key='separator', value=dict(name=' ', type='Constant', parameters=[])),
        dict(key='source', value=dict(name='givenName', type='Attribute', parameters=[]))])
    assert render_source(tree) == 'Join(" ", [givenName])'


# --- planning -----------------------------------------------------------------------------------------------------------

def test_add_change_and_identical_run():
    wanted = desired(dict(attribute_mappings=[
        dict(target=SCIM_USER.upper() + ':EMPLOYEENUMBER', source='EmployeeID'),
        dict(target='title', source='department', flow_type='ObjectAddOnly')]))
    plan = plan_schema(SCHEMA, wanted)
    assert [(c['kind'], c['target'], c['action']) for c in plan.changes] == [
        ('attribute', SCIM_USER + ':employeeNumber', 'added'), ('attribute', 'title', 'changed')]
    added = users(plan.schema)['attributeMappings'][-1]
    assert added['source'] == attr('employeeId')  # the schema's spelling
    assert added['targetAttributeName'] == SCIM_USER + ':employeeNumber'
    assert plan.changes[1]['before']['source'] == 'jobTitle' and plan.changes[1]['after']['flow_type'] == 'ObjectAddOnly'
    # Idempotent: planning again on the result changes nothing.
    assert plan_schema(plan.schema, wanted).changes == []
    # The input is never modified.
    assert targets(SCHEMA) == ['userName', 'active', 'title']


def test_everything_not_named_goes_back_as_read():
    plan = plan_schema(SCHEMA, desired(dict(attribute_mappings=[dict(target='title', source='mail')])))
    before, after = copy.deepcopy(SCHEMA), copy.deepcopy(plan.schema)
    users(before)['attributeMappings'][2]['source'] = None
    users(after)['attributeMappings'][2]['source'] = None
    assert before == after
    body = put_body(plan.schema)
    assert '@odata.context' not in body and body['version'] == 'v1' and body['id'] == 'scim.1'


def test_comparison_is_order_and_whitespace_insensitive():
    same = desired(dict(flow_types=['Delete', 'Add', 'Update'], enabled=True, attribute_mappings=[
        dict(target='ACTIVE', expression='Switch( [IsSoftDeleted], , "False", "True", "True", "False" )'),
        dict(target='title', expression='[jobtitle]'),
        dict(target='userName', source='userPrincipalName', matching_priority=1, flow_behavior='FlowWhenChanged')]))
    assert plan_schema(SCHEMA, same).changes == []
    assert plan_schema(SCHEMA, same).expressions == []


def test_absent_and_purge():
    plan = plan_schema(SCHEMA, desired(dict(attribute_mappings=[dict(target='TITLE', state='absent'),
                                                                dict(target='externalId', state='absent')])))
    assert [(c['target'], c['action']) for c in plan.changes] == [('title', 'removed')]
    assert targets(plan.schema) == ['userName', 'active']
    assert plan_schema(plan.schema, desired(dict(attribute_mappings=[dict(target='title', state='absent')]))).changes == []

    purge = desired(dict(source_object='group', target_object=GROUP.upper(), purge_attribute_mappings=True,
                         attribute_mappings=[dict(target='displayName', source='displayName'),
                                             dict(target='externalId', source='objectId')]))
    plan = plan_schema(SCHEMA, purge)
    assert [(c['target'], c['action']) for c in plan.changes] == [('members', 'removed')]
    assert targets(plan.schema, 'Group') == ['displayName', 'externalId']
    assert plan_schema(plan.schema, purge).changes == []
    # Without purge, unnamed mappings stay.
    assert plan_schema(SCHEMA, desired(dict(source_object='Group', target_object=GROUP,
                                            attribute_mappings=[dict(target='displayName', source='displayName')]))).changes == []


def test_new_and_changed_expressions_are_listed_for_parsing_and_tests_always():
    tests = [dict(input={'employeeId': 'e1'}, expect='E1')]
    wanted = desired(dict(attribute_mappings=[dict(target='title', expression='ToUpper([employeeId])', tests=tests),
                                              dict(target='userName', source='userPrincipalName', tests=tests)]))
    plan = plan_schema(SCHEMA, wanted)
    assert plan.expressions == [('User -> ' + SCIM_USER, 'title', 'ToUpper([employeeId])')]
    assert [(target, expression) for dummy, target, expression, dummy2 in plan.tests] == [
        ('title', 'ToUpper([employeeId])'), ('userName', '[userPrincipalName]')]
    tree = dict(expression='ToUpper([employeeId])', name='ToUpper', type='Function',
                parameters=[dict(key='source', value=attr('employeeId'))])
    parsed = plan_schema(SCHEMA, wanted, {canonical_expression('ToUpper([employeeId])'): tree})
    assert users(parsed.schema)['attributeMappings'][2]['source'] == tree
    assert plan_schema(parsed.schema, wanted).expressions == []


def test_scoping_filter_added_compared_unordered_and_removed():
    groups = [[dict(attribute='Department', operator='equals', values=['Sales', 'Support']),
               dict(attribute='mail', operator='is not null')],
              [dict(attribute='jobTitle', operator='REGEX MATCH', values='^Eng')]]
    plan = plan_schema(SCHEMA, desired(dict(scoping_filter=groups)))
    assert [(c['kind'], c['action']) for c in plan.changes] == [('scoping', 'added')]
    assert plan.scoping_changed
    scope = users(plan.schema)['scope']
    assert scope['groups'][0]['clauses'][0] == dict(operatorName='EQUALS', sourceOperandName='department',
                                                    targetOperand=dict(values=['Sales', 'Support']))
    assert scope['groups'][0]['clauses'][1]['targetOperand'] == dict(values=[])
    reordered = [[dict(attribute='jobtitle', operator='regex match', values=['^Eng'])],
                 [dict(attribute='mail', operator='IS NOT NULL'), dict(attribute='department', operator='EQUALS', values=['Support', 'Sales'])]]
    assert plan_schema(plan.schema, desired(dict(scoping_filter=reordered))).changes == []
    removed = plan_schema(plan.schema, desired(dict(scoping_filter=[])))
    assert [(c['kind'], c['action']) for c in removed.changes] == [('scoping', 'removed')]
    assert users(removed.schema)['scope'] is None
    assert plan_schema(SCHEMA, desired(dict(scoping_filter=[]))).changes == []


@pytest.mark.parametrize('clause, message', [
    (dict(attribute='department', operator='LIKE', values=['x']), "operator 'LIKE'"),
    (dict(attribute='department', operator='IS NULL', values=['x']), 'takes no values'),
    (dict(attribute='department', operator='EQUALS'), 'give values'),
    (dict(attribute='costCenter', operator='EQUALS', values=['x']), 'costCenter is not an attribute of the source object User'),
    (dict(attribute='department', operator='EQUALS', values=['x'], value='y'), 'unknown keys value'),
])
def test_scoping_clauses_are_checked(clause, message):
    with pytest.raises(TaskFailure) as failure:
        plan_schema(SCHEMA, desired(dict(scoping_filter=[[clause]])))
    assert message in failure.value.msg


@pytest.mark.parametrize('attribute_mapping, message', [
    (dict(target='costCenter', source='mail'), 'costCenter is not an attribute of the target object'),
    (dict(target='title', source='costCenter'), 'costCenter is not an attribute of the source object User'),
    (dict(target='title'), 'give exactly one of source'),
    (dict(target='title', state='absent', source='mail'), 'state=absent removes the mapping'),
    (dict(target='title', source='mail', matching_priority=-1), 'matching_priority must be 0'),
])
def test_attributes_are_checked_against_the_directories(attribute_mapping, message):
    with pytest.raises(TaskFailure) as failure:
        plan_schema(SCHEMA, desired(dict(attribute_mappings=[attribute_mapping])))
    assert message in failure.value.msg and 'User -> ' + SCIM_USER in failure.value.msg


def test_an_enabled_object_mapping_keeps_a_matching_attribute():
    with pytest.raises(TaskFailure) as failure:
        plan_schema(SCHEMA, desired(dict(attribute_mappings=[dict(target='userName', source='userPrincipalName', matching_priority=0)])))
    assert 'no matching attribute' in failure.value.msg
    # Disabled, it may have none; the plan warns that it is disabled.
    plan = plan_schema(SCHEMA, desired(dict(enabled=False, attribute_mappings=[dict(target='userName', state='absent')])))
    assert any('is disabled' in warning for warning in plan.warnings)


def test_object_mapping_and_rule_selection():
    with pytest.raises(TaskFailure) as failure:
        plan_schema(SCHEMA, desired(dict(source_object='Device', enabled=True)))
    assert 'has no object mapping Device -> %s' % SCIM_USER in failure.value.msg and 'Group -> ' + GROUP in failure.value.msg
    assert select_rule(SCHEMA) == 0
    assert select_rule(SCHEMA, 'usergroup_outbound_usergroup') == 0 and select_rule(SCHEMA, 'r1') == 0
    with pytest.raises(TaskFailure) as failure:
        select_rule(SCHEMA, 'READ_ONLY')
    assert 'not editable' in failure.value.msg
    two = copy.deepcopy(SCHEMA)
    two['synchronizationRules'][1]['editable'] = True
    with pytest.raises(TaskFailure) as failure:
        select_rule(two)
    assert 'set rule' in failure.value.msg and 'READ_ONLY (id r2)' in failure.value.msg


@pytest.mark.parametrize('params, message', [
    (dict(object_mappings=None), 'nothing to do'),
    (dict(state='reset'), 'remove object_mappings'),
    (dict(restore_from='/tmp/x.json'), 'restore_from puts a whole saved schema back'),
    (dict(backup_options={'dir_path': '/tmp'}), 'backup_options applies with backup=true'),
])
def test_option_combinations_are_refused(params, message):
    base = dict(state='present', rule=None, include_schema=False, backup=False, backup_options=None, restore_from=None,
                object_mappings=[_object_mapping(dict(enabled=True))])
    base.update(params)
    with pytest.raises(TaskFailure) as failure:
        DesiredSchema(base)
    assert message in failure.value.msg


def test_duplicates_in_the_task_are_refused():
    with pytest.raises(TaskFailure) as failure:
        desired(dict(enabled=True), dict(source_object='user', target_object=SCIM_USER.upper()))
    assert 'named twice' in failure.value.msg
    with pytest.raises(TaskFailure) as failure:
        desired(dict(attribute_mappings=[dict(target='title', source='mail'), dict(target='TITLE', source='mail')]))
    assert 'named twice' in failure.value.msg


def test_managed_view_sees_only_the_managed_parts():
    wanted = desired(dict(attribute_mappings=[dict(target='title', source='mail')]))
    other = copy.deepcopy(SCHEMA)
    users(other)['attributeMappings'][0]['source'] = attr('mail')  # userName: not managed
    assert managed_view(other, wanted) == managed_view(SCHEMA, wanted)
    users(other)['attributeMappings'][2]['flowType'] = 'ObjectAddOnly'  # title: managed
    assert managed_view(other, wanted) != managed_view(SCHEMA, wanted)


def test_diff_shows_only_the_managed_parts():
    plan = plan_schema(SCHEMA, desired(dict(attribute_mappings=[dict(target='title', source='mail')],
                                            scoping_filter=[[dict(attribute='department', operator='EQUALS', values=['Sales'])]])))
    diff = schema_diff(plan.changes)
    label = 'User -> ' + SCIM_USER
    assert list(diff['before']) == [label]
    assert diff['before'][label]['attribute_mappings']['title']['source'] == 'jobTitle'
    assert diff['after'][label]['attribute_mappings']['title']['source'] == 'mail'
    assert diff['before'][label]['scoping_filter'] == []
    assert 'userName' not in diff['after'][label]['attribute_mappings']


def test_expression_test_helpers():
    assert make_test_input({'mail': 'a@b', 'roles': ['x', 'y'], 'enabled': True}) == dict(definition=None, properties=[
        {'key': 'enabled', 'value': 'true'}, {'key': 'mail', 'value': 'a@b'},
        {'key': 'roles', 'value@odata.type': '#Collection(String)', 'value': ['x', 'y']}])
    assert expected_values('x') == ['x'] and expected_values(['a', 'b']) == ['a', 'b']
    assert expected_values(True) == ['True'] and expected_values(None) == []
    assert parse_failure({'error': {'code': 'ParseError', 'message': 'Missing ).', 'target': '14'}}) == 'ParseError: Missing ) (at 14)'
    assert parse_failure({'error': {'code': 'ExpressionParsingFailed', 'message': 'Unknown function.', 'target': 'Frob',
                                    'details': [{'code': 'UnknownFunction', 'message': 'Unknown function.', 'target': 'Frob'},
                                                {'message': 'Expected )', 'target': 'position 9'}]}}) == \
        'ExpressionParsingFailed: Unknown function (at Frob; Expected ) (at position 9))'
    assert parse_failure({'error': None}) is None


# --- scoping impact (pure parts) ----------------------------------------------------------------------------------------

def test_scoping_changes_name_the_mapping_its_source_and_both_filters():
    sales = [[dict(attribute='department', operator='EQUALS', values=['Sales'])]]
    plan = plan_schema(SCHEMA, desired(dict(scoping_filter=sales)))
    assert scoping_changes(plan) == [('User -> %s' % SCIM_USER, 'User', [], sales)]
    again = plan_schema(plan.schema, desired(dict(scoping_filter=[])))
    assert scoping_changes(again) == [('User -> %s' % SCIM_USER, 'User', sales, [])]
    attribute_only = plan_schema(SCHEMA, desired(dict(attribute_mappings=[dict(target='title', state='absent')])))
    assert scoping_changes(attribute_only) == [] and not attribute_only.scoping_changed


def test_graph_properties_map_schema_attributes_to_graph():
    assert graph_properties('user', ['department', 'IsSoftDeleted', 'objectId', 'extensionAttribute3', 'Department']) == \
        ['id', 'displayName', 'userPrincipalName', 'department', 'accountEnabled', 'onPremisesExtensionAttributes']
    assert graph_properties('group', ['objectId', 'mailNickname']) == ['id', 'displayName', 'mailNickname']


def test_source_view_reads_graph_objects_as_the_schema_names_attributes():
    user = {'@odata.type': '#microsoft.graph.user', 'id': 'u1', 'userPrincipalName': 'ann@contoso.test', 'displayName': 'Ann',
            'Department': 'Sales', 'accountEnabled': False, 'onPremisesExtensionAttributes': {'extensionAttribute3': 'x'}}
    assert source_view('user', user, ['department', 'IsSoftDeleted', 'objectId', 'extensionAttribute3', 'jobTitle']) == (
        'ann@contoso.test', {'department': 'Sales', 'IsSoftDeleted': 'True', 'objectId': 'u1', 'extensionAttribute3': 'x',
                             'jobTitle': None})
    assert source_view('user', dict(user, accountEnabled=True), ['IsSoftDeleted'])[1] == {'IsSoftDeleted': 'False'}
    assert source_view('group', {'id': 'g1', 'displayName': 'Pilot'}, ['objectId']) == ('Pilot', {'objectId': 'g1'})


def _impact(leaving, before=10):
    return dict(object_mapping='User -> x', leaving=leaving, in_scope_before=before,
                leaving_sample=['u%d' % n for n in range(min(leaving, 10))])


def test_max_leaving_refuses_more_leaving_objects_than_allowed():
    result = dict(changes=['c'], impact=[_impact(2), _impact(1)])
    check_max_leaving(result, 3)
    with pytest.raises(TaskFailure) as refused:
        check_max_leaving(result, 2)
    assert 'takes 3 objects out of scope, more than max_leaving (2)' in refused.value.msg
    assert 'set max_leaving to 3' in refused.value.msg and 'u0, u1' in refused.value.msg
    assert refused.value.result['impact'] == result['impact'] and refused.value.result['changed'] is False
    many = dict(changes=[], impact=[_impact(12, before=20)])
    with pytest.raises(TaskFailure, match=r'12 of 20 \(u0, .*u9, \.\.\.\)'):
        check_max_leaving(many, 0)
    check_max_leaving(dict(changes=[], impact=[dict(object_mapping='x', leaving=None)]), 0)  # not previewed


def test_max_leaving_must_not_be_negative():
    with pytest.raises(TaskFailure, match='max_leaving: -1 is negative'):
        desired(dict(scoping_filter=[]), max_leaving=-1)
    assert desired(dict(scoping_filter=[])).max_leaving == 0
