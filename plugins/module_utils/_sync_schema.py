# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The synchronization schema of one job: attribute mappings and scoping filters as code, changed safely.

Facts that shape this code:

- ``PUT .../jobs/{id}/schema`` replaces the whole schema
  (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-update), and every schema change
  restarts the provisioning service. So the module reads the schema, changes only what the task names, sends the rest
  back exactly as read, and sends nothing when the normalised comparison finds no difference. It never sends PATCH,
  which Graph answers with 404 on a schema (https://github.com/microsoftgraph/msgraph-sdk-powershell/issues/1134,
  https://github.com/microsoftgraph/msgraph-sdk-python/issues/820).
- ``DELETE .../schema`` resets the schema to the template's default
  (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-delete).
- ``POST .../schema/parseExpression`` parses an expression into Graph's ``attributeMappingSource`` tree and evaluates it
  against a ``testInputObject``; it changes nothing
  (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-parseexpression).
- Scoping filters: groups are ORed, the clauses of a group ANDed
  (https://learn.microsoft.com/graph/api/resources/synchronization-filter); the operators are those of
  ``schema/filterOperators`` (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-filteroperators)
  and those the scoping-filter guide adds
  (https://learn.microsoft.com/entra/identity/app-provisioning/define-conditional-rules-for-provisioning-user-accounts).

Everything from ``DesiredSchema`` to ``plan_schema`` is pure (options and a schema in, a new schema and the list of
changes out) and unit-tested without I/O; ``run_synchronization_schema`` does the reading and writing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import json
import os

from ansible_collections.entra.provisioning.plugins.module_utils._convert import to_snake
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError, GraphNotFound
from ansible_collections.entra.provisioning.plugins.module_utils._scoping import filter_attributes, scope_impact
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job import (
    JOB_ADDRESS_OPTIONS,
    JobAddress,
    check_job_template,
    job_path,
    read_job,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure, module_spec
from ansible_collections.entra.provisioning.plugins.module_utils._validate import graph_path

# objectMapping.flowTypes (objectFlowTypes flags, https://learn.microsoft.com/graph/api/resources/synchronization-objectmapping).
OBJECT_FLOW_TYPES = ('Add', 'Update', 'Delete')
# attributeMapping.flowType and flowBehavior (https://learn.microsoft.com/graph/api/resources/synchronization-attributemapping).
ATTRIBUTE_FLOW_TYPES = ('Always', 'ObjectAddOnly', 'MultiValueAddOnly', 'ValueAddOnly', 'AttributeAddOnly')
FLOW_BEHAVIORS = ('FlowWhenChanged', 'FlowAlways')
# Scoping-clause operators and their arity: filterOperators' list, then the guide's additions (see the module doc).
OPERATORS = (
    ('EQUALS', 'Binary'), ('NOT EQUALS', 'Binary'), ('IS TRUE', 'Unary'), ('IS FALSE', 'Unary'), ('IS NULL', 'Unary'),
    ('IS NOT NULL', 'Unary'), ('REGEX MATCH', 'Binary'), ('NOT REGEX MATCH', 'Binary'), ('Greater_Than', 'Binary'),
    ('Greater_Than_OR_EQUALS', 'Binary'), ('Includes', 'Binary'),
)
_OPERATORS = dict((name.upper(), (name, arity)) for name, arity in OPERATORS)
# Graph's defaults for the attributeMapping properties a task leaves out of a new mapping.
MAPPING_DEFAULTS = dict(flow_type='Always', flow_behavior='FlowWhenChanged', matching_priority=0, default_value=None,
                        export_missing_references=False)
_FIELDS = (('flow_type', 'flowType'), ('flow_behavior', 'flowBehavior'), ('matching_priority', 'matchingPriority'),
           ('default_value', 'defaultValue'), ('export_missing_references', 'exportMissingReferences'))
SOURCE_KINDS = ('source', 'expression', 'constant')

_TEST_OPTIONS = dict(input=dict(type='dict', required=True), expect=dict(type='raw', required=True))
_ATTRIBUTE_OPTIONS = dict(
    target=dict(type='str', required=True),
    source=dict(type='str'),
    expression=dict(type='str'),
    constant=dict(type='str'),
    flow_type=dict(type='str', choices=list(ATTRIBUTE_FLOW_TYPES)),
    flow_behavior=dict(type='str', choices=list(FLOW_BEHAVIORS)),
    matching_priority=dict(type='int'),
    default_value=dict(type='str'),
    export_missing_references=dict(type='bool'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    tests=dict(type='list', elements='dict', options=_TEST_OPTIONS),
)
_OBJECT_MAPPING_OPTIONS = dict(
    source_object=dict(type='str', required=True),
    target_object=dict(type='str', required=True),
    enabled=dict(type='bool'),
    flow_types=dict(type='list', elements='str', choices=list(OBJECT_FLOW_TYPES)),
    attribute_mappings=dict(type='list', elements='dict', options=_ATTRIBUTE_OPTIONS,
                            mutually_exclusive=[('source', 'expression', 'constant')]),
    scoping_filter=dict(type='list', elements='list'),
    purge_attribute_mappings=dict(type='bool', default=False),
)

MODULE_SPEC = module_spec(
    dict(
        JOB_ADDRESS_OPTIONS,
        rule=dict(type='str'),
        object_mappings=dict(type='list', elements='dict', options=_OBJECT_MAPPING_OPTIONS),
        backup=dict(type='bool', default=False),
        backup_options=dict(type='dict', options=dict(dir_path=dict(type='path'), filename=dict(type='str'))),
        restore_from=dict(type='path'),
        state=dict(type='str', default='present', choices=['present', 'reset']),
        include_schema=dict(type='bool', default=False),
        max_leaving=dict(type='int', default=0),
    ),
    mutually_exclusive=[('service_principal_id', 'application_id')],
    # template_id or job_id is required too, except in check mode for a service principal not created yet (JobAddress).
    required_one_of=[('service_principal_id', 'application_id')],
)


# --- expressions --------------------------------------------------------------------------------------------------

class ExpressionSyntax(ValueError):
    """Text this module cannot even split into tokens (an open string or attribute reference); ``position`` is 0-based."""

    def __init__(self, what, position):
        super(ExpressionSyntax, self).__init__('%s that starts at position %d is not closed' % (what, position))
        self.what = what
        self.position = position


def expression_tokens(text):
    """Split an attribute-mapping expression into ``(kind, text)`` tokens: ``string`` (the raw text between the quotes,
    escapes kept), ``attribute`` (the name between brackets), ``punct`` and ``word``. Whitespace outside strings and
    brackets separates tokens and carries no meaning
    (https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data)."""
    tokens = []
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        if char.isspace():
            index += 1
        elif char == '"':
            end = index + 1
            while end < size and text[end] != '"':
                end += 2 if text[end] == '\\' else 1
            if end >= size:
                raise ExpressionSyntax('the string', index)
            tokens.append(('string', text[index + 1:end]))
            index = end + 1
        elif char == '[':
            end = text.find(']', index)
            if end < 0:
                raise ExpressionSyntax('the attribute reference', index)
            tokens.append(('attribute', text[index + 1:end]))
            index = end + 1
        elif char in '(),':
            tokens.append(('punct', char))
            index += 1
        else:
            end = index
            while end < size and not text[end].isspace() and text[end] not in '()[],"':
                end += 1
            tokens.append(('word', text[index:end]))
            index = end
    return tokens


def canonical_expression(text):
    """The expression without meaningless whitespace, so that two spellings of one expression compare equal."""
    try:
        tokens = expression_tokens(text or '')
    except ExpressionSyntax:
        return (text or '').strip()
    parts = []
    previous = None
    for kind, value in tokens:
        if kind == 'word' and previous == 'word':
            parts.append(' ')
        parts.append('"%s"' % value if kind == 'string' else '[%s]' % value if kind == 'attribute' else value)
        previous = kind
    return ''.join(parts)


def syntax_position(text):
    """Where the expression's brackets, quotes or parentheses fail to balance, as ``position N (1-based): reason``;
    None when they balance. Graph's parseExpression documents no position in its answer
    (https://learn.microsoft.com/graph/api/resources/synchronization-parseexpressionresponse), so this locates the
    commonest syntax errors for the message."""
    try:
        tokens = expression_tokens(text)
    except ExpressionSyntax as error:
        return 'position %d: %s is not closed' % (error.position + 1, error.what)
    index, opened = 0, []
    for kind, value in tokens:
        index = text.find(value if kind in ('punct', 'word') else ('"' if kind == 'string' else '['), index)
        if kind == 'punct' and value == '(':
            opened.append(index)
        elif kind == 'punct' and value == ')':
            if not opened:
                return 'position %d: ")" closes nothing' % (index + 1)
            opened.pop()
        index += len(value) if kind in ('punct', 'word') else len(value) + 2
    if opened:
        return 'position %d: "(" is not closed' % (opened[-1] + 1)
    return None


def _unescape(raw):
    out, index = [], 0
    while index < len(raw):
        if raw[index] == '\\' and index + 1 < len(raw):
            out.append(raw[index + 1])
            index += 2
        else:
            out.append(raw[index])
            index += 1
    return ''.join(out)


def quote_constant(value):
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def source_from_expression(text):
    """``(kind, value)`` for an expression the task gives: a bare ``[attribute]`` is a ``source`` and a bare string a
    ``constant`` (Graph stores them as such, not as functions); anything else stays an ``expression``."""
    try:
        tokens = expression_tokens(text or '')
    except ExpressionSyntax:
        return 'expression', text
    if len(tokens) == 1 and tokens[0][0] == 'attribute':
        return 'source', tokens[0][1]
    if len(tokens) == 1 and tokens[0][0] == 'string':
        return 'constant', _unescape(tokens[0][1])
    return 'expression', text


def render_source(source):
    """The expression text of an ``attributeMappingSource``: Graph's own ``expression`` when present, else rebuilt from
    the tree (parameters in the order Graph lists them)."""
    if not source:
        return None
    if source.get('expression'):
        return source['expression']
    kind = source.get('type')
    if kind == 'Attribute':
        return '[%s]' % source.get('name')
    if kind == 'Constant':
        return quote_constant(source.get('name') or '')
    arguments = [render_source(pair.get('value')) or '' for pair in source.get('parameters') or []]
    return '%s(%s)' % (source.get('name'), ', '.join(arguments))


def source_to_option(source):
    """``(kind, value)`` of a Graph ``attributeMappingSource`` in the option format; ``(None, None)`` when Graph maps no
    source (the target gets its default value)."""
    if not source:
        return None, None
    kind = source.get('type')
    if kind == 'Attribute':
        return 'source', source.get('name')
    if kind == 'Constant':
        return 'constant', source.get('name')
    return 'expression', render_source(source)


def normalise_source(tree):
    """Graph's ``attributeMappingSource`` tree (from parseExpression's ``parsedExpression``), with annotations removed."""
    if not isinstance(tree, dict):
        return None
    return dict(expression=tree.get('expression'), name=tree.get('name'), type=tree.get('type'),
                parameters=[dict(key=pair.get('key'), value=normalise_source(pair.get('value')))
                            for pair in tree.get('parameters') or [] if isinstance(pair, dict)])


def source_to_graph(kind, value, trees=None):
    """The ``attributeMappingSource`` for an option: attributes and constants are built here, in the shape Graph
    returns them; an expression's tree is the one parseExpression returned (``trees``, by canonical text). Before the
    expression is parsed, a one-node placeholder stands in (the planner uses it only to see that something changes)."""
    if kind == 'source':
        return dict(expression='[%s]' % value, name=value, parameters=[], type='Attribute')
    if kind == 'constant':
        return dict(expression=quote_constant(value), name=value, parameters=[], type='Constant')
    tree = (trees or {}).get(canonical_expression(value))
    if tree is not None:
        return copy.deepcopy(tree)
    name = value.split('(', 1)[0].strip()
    return dict(expression=value, name=name, parameters=[], type='Function')


def _source_key(kind, value):
    if kind is None:
        return None
    if kind == 'source':
        return kind, value.lower()
    if kind == 'constant':
        return kind, value
    return kind, canonical_expression(value)


# --- input ----------------------------------------------------------------------------------------------------------

class DesiredAttribute:
    def __init__(self, label, item, index):
        self.target = (item.get('target') or '').strip()
        where = '%s attribute_mappings[%d]' % (label, index)
        if not self.target:
            raise TaskFailure('%s: target is empty; give the name of the target attribute.' % where)
        where = '%s attribute_mappings[%d] (target %s)' % (label, index, self.target)
        self.where = where
        self.state = item.get('state') or 'present'
        given = [kind for kind in SOURCE_KINDS if item.get(kind) is not None]
        if len(given) > 1:
            raise TaskFailure('%s: give exactly one of source, expression and constant, not %s.' % (where, ' and '.join(given)))
        self.kind = given[0] if given else None
        self.value = item.get(self.kind) if self.kind else None
        if self.kind == 'expression':
            if not self.value.strip():
                raise TaskFailure('%s: expression is empty.' % where)
            self.kind, self.value = source_from_expression(self.value.strip())
        elif self.kind == 'source':
            self.value = self.value.strip()
            if not self.value:
                raise TaskFailure('%s: source is empty; give a source attribute name.' % where)
        self.fields = dict((option, item.get(option)) for option, dummy in _FIELDS if item.get(option) is not None)
        self.tests = item.get('tests') or []
        if self.state == 'present' and self.kind is None and 'default_value' not in self.fields:
            raise TaskFailure('%s: give exactly one of source (a source attribute), expression or constant (or only '
                              'default_value, for a target that always gets its default).' % where)
        if self.state == 'absent' and (self.kind or self.fields or self.tests):
            raise TaskFailure('%s: state=absent removes the mapping; remove the other options of this item.' % where)
        if self.tests and self.kind is None:
            raise TaskFailure('%s: tests need a source, expression or constant to evaluate.' % where)
        if self.fields.get('matching_priority') is not None and self.fields['matching_priority'] < 0:
            raise TaskFailure('%s: matching_priority must be 0 (not a matching attribute) or a positive number.' % where)

    def expression_text(self):
        """What parseExpression is asked to evaluate for this mapping's tests."""
        if self.kind == 'source':
            return '[%s]' % self.value
        if self.kind == 'constant':
            return quote_constant(self.value)
        return self.value


class DesiredObjectMapping:
    def __init__(self, item, index):
        self.source_object = (item.get('source_object') or '').strip()
        self.target_object = (item.get('target_object') or '').strip()
        self.label = '%s -> %s' % (self.source_object, self.target_object)
        if not self.target_object:
            raise TaskFailure('object_mappings[%d]: target_object is empty.' % index)
        self.enabled = item.get('enabled')
        flow_types = item.get('flow_types')
        self.flow_types = None if flow_types is None else frozenset(flow_types)
        if flow_types is not None and not flow_types:
            raise TaskFailure('object_mappings[%d] (%s): flow_types is empty; list at least one of %s.'
                              % (index, self.label, ', '.join(OBJECT_FLOW_TYPES)))
        self.purge = bool(item.get('purge_attribute_mappings'))
        self.attributes = [DesiredAttribute('object_mappings[%d] (%s)' % (index, self.label), attribute, position)
                           for position, attribute in enumerate(item.get('attribute_mappings') or [])]
        seen = set()
        for attribute in self.attributes:
            if attribute.target.lower() in seen:
                raise TaskFailure('object_mappings[%d] (%s): target %s is named twice in attribute_mappings; keep one.'
                                  % (index, self.label, attribute.target))
            seen.add(attribute.target.lower())
        if self.purge and item.get('attribute_mappings') is None:
            raise TaskFailure('object_mappings[%d] (%s): purge_attribute_mappings removes the mappings that '
                              'attribute_mappings does not name; give attribute_mappings.' % (index, self.label))
        self.scoping = None if item.get('scoping_filter') is None else \
            _desired_scoping(item['scoping_filter'], 'object_mappings[%d] (%s) scoping_filter' % (index, self.label))

    def key(self):
        return self.source_object.lower(), self.target_object.lower()


def _desired_scoping(groups, where):
    result = []
    for group_index, group in enumerate(groups):
        if not isinstance(group, list) or not group:
            raise TaskFailure('%s[%d]: each group is a non-empty list of clauses (attribute, operator, values); clauses '
                              'of a group must all match, and an object is in scope when any group matches.' % (where, group_index))
        clauses = []
        for clause_index, clause in enumerate(group):
            at = '%s[%d][%d]' % (where, group_index, clause_index)
            if not isinstance(clause, dict):
                raise TaskFailure('%s: a clause is a dictionary with attribute, operator and values.' % at)
            unknown = sorted(set(clause) - set(('attribute', 'operator', 'values')))
            if unknown:
                raise TaskFailure('%s: unknown keys %s; a clause has attribute, operator and values.' % (at, ', '.join(unknown)))
            attribute = str(clause.get('attribute') or '').strip()
            if not attribute:
                raise TaskFailure('%s: attribute is missing; give the source attribute the clause tests.' % at)
            operator = _OPERATORS.get(str(clause.get('operator') or '').strip().upper())
            if operator is None:
                raise TaskFailure('%s: operator %r is not a scoping-filter operator; use one of %s.'
                                  % (at, clause.get('operator'), ', '.join(name for name, dummy in OPERATORS)))
            values = clause.get('values')
            if values is None:
                values = []
            elif not isinstance(values, list):
                values = [values]
            values = [_text(value) for value in values]
            if operator[1] == 'Unary' and values:
                raise TaskFailure('%s: %s takes no values; remove values.' % (at, operator[0]))
            if operator[1] == 'Binary' and not values:
                raise TaskFailure('%s: %s compares with values; give values.' % (at, operator[0]))
            clauses.append(dict(attribute=attribute, operator=operator[0], values=values))
        result.append(clauses)
    return result


def _text(value):
    if isinstance(value, bool):
        return 'True' if value else 'False'
    return str(value)


class DesiredSchema:
    """The task's options, validated and normalised before any request; every error names the option and the fix."""

    def __init__(self, params):
        self.state = params.get('state') or 'present'
        self.rule = (params.get('rule') or '').strip() or None
        self.include_schema = bool(params.get('include_schema'))
        self.backup = bool(params.get('backup'))
        self.backup_options = params.get('backup_options') or {}
        self.restore_from = params.get('restore_from')
        self.max_leaving = params.get('max_leaving')
        if self.max_leaving is None:
            self.max_leaving = 0
        if self.max_leaving < 0:
            raise TaskFailure('max_leaving: %d is negative; give how many objects a scoping change may take out of scope '
                              '(0, the default, allows none).' % self.max_leaving)
        items = params.get('object_mappings')
        if self.state == 'reset' and (items is not None or self.restore_from):
            raise TaskFailure('state=reset deletes the customised schema so that the job returns to its template\'s default; '
                              'remove %s.' % ('object_mappings' if items is not None else 'restore_from'))
        if items is not None and self.restore_from:
            raise TaskFailure('restore_from puts a whole saved schema back; object_mappings cannot be applied in the same '
                              'task. Remove one of them (restore first, then change in a second task).')
        if self.state == 'present' and items is None and not self.restore_from:
            raise TaskFailure('nothing to do: give object_mappings (the mappings to manage), restore_from (a backup to put '
                              'back) or state=reset.')
        if self.backup_options and not self.backup:
            raise TaskFailure('backup_options applies with backup=true: add backup: true, or remove backup_options.')
        self.object_mappings = [DesiredObjectMapping(item, index) for index, item in enumerate(items or [])]
        seen = set()
        for mapping in self.object_mappings:
            if mapping.key() in seen:
                raise TaskFailure('object_mappings: %s is named twice (names are not case-sensitive); merge the two items.'
                                  % mapping.label)
            seen.add(mapping.key())


# --- reading a schema (pure) ---------------------------------------------------------------------------------------------

def select_rule(schema, rule=None):
    """The index of the synchronization rule the task means: by id or name, else the only editable one."""
    rules = schema.get('synchronizationRules') or []
    described = ', '.join('%s (id %s%s)' % (item.get('name'), item.get('id'), '' if item.get('editable', True) else ', not editable')
                          for item in rules) or 'none'
    if rule is not None:
        matches = [index for index, item in enumerate(rules)
                   if rule in (item.get('id'),) or (item.get('name') or '').lower() == rule.lower()]
        if not matches:
            raise TaskFailure('rule: %s is neither the id nor the name of a synchronization rule of this job; its rules: %s.'
                              % (rule, described))
        if len(matches) > 1:
            raise TaskFailure('rule: %s names %d rules; give the id of one of them: %s.' % (rule, len(matches), described))
        if rules[matches[0]].get('editable') is False:
            raise TaskFailure('rule: %s is not editable (Graph marks it editable: false).' % rule)
        return matches[0]
    editable = [index for index, item in enumerate(rules) if item.get('editable', True) is not False]
    if len(editable) == 1:
        return editable[0]
    if not editable:
        raise TaskFailure('the schema of this job has no editable synchronization rule (rules: %s).' % described)
    raise TaskFailure('the schema has %d editable synchronization rules; set rule to the id or name of one: %s.'
                      % (len(editable), described))


def object_attributes(schema, directory_name, object_name):
    """``{lower name: name}`` of an object's attributes in the schema's directories; None when the schema does not
    define that object."""
    for directory in schema.get('directories') or []:
        if (directory.get('name') or '').lower() != (directory_name or '').lower():
            continue
        for definition in directory.get('objects') or []:
            if (definition.get('name') or '').lower() == (object_name or '').lower():
                return dict(((attribute.get('name') or '').lower(), attribute.get('name'))
                            for attribute in definition.get('attributes') or [] if attribute.get('name'))
    return None


def find_object_mapping(rule, source_object, target_object):
    for index, mapping in enumerate(rule.get('objectMappings') or []):
        if ((mapping.get('sourceObjectName') or '').lower() == source_object.lower()
                and (mapping.get('targetObjectName') or '').lower() == target_object.lower()):
            return index
    return None


def parse_flow_types(value):
    """``Add, Update, Delete`` (Graph's flags, with or without spaces) as a frozenset."""
    return frozenset(part.strip() for part in (value or '').split(',') if part.strip())


def format_flow_types(flow_types):
    return ', '.join(name for name in OBJECT_FLOW_TYPES if name in flow_types)


def mapping_to_option(mapping):
    """A Graph ``attributeMapping`` in the option format (pasteable into a task)."""
    option = dict(target=mapping.get('targetAttributeName'))
    kind, value = source_to_option(mapping.get('source'))
    if kind:
        option[kind] = value
    option['flow_type'] = mapping.get('flowType') or MAPPING_DEFAULTS['flow_type']
    option['flow_behavior'] = mapping.get('flowBehavior') or MAPPING_DEFAULTS['flow_behavior']
    option['matching_priority'] = int(mapping.get('matchingPriority') or 0)
    option['default_value'] = mapping.get('defaultValue')
    option['export_missing_references'] = bool(mapping.get('exportMissingReferences'))
    return option


def _mapping_key(option):
    kind = next((name for name in SOURCE_KINDS if option.get(name) is not None), None)
    return (_source_key(kind, option.get(kind)) if kind else None, option['flow_type'], option['flow_behavior'],
            option['matching_priority'], option['default_value'], option['export_missing_references'])


def scope_to_option(scope):
    """The ``groups`` of a Graph scoping filter in the option format: a list of groups, each a list of clauses."""
    groups = []
    for group in (scope or {}).get('groups') or []:
        groups.append([dict(attribute=clause.get('sourceOperandName'), operator=clause.get('operatorName'),
                            values=list((clause.get('targetOperand') or {}).get('values') or []))
                       for clause in group.get('clauses') or []])
    return groups


def _scope_key(groups):
    """Order-insensitive form: OR between groups and AND within one do not depend on order; nor do a clause's values."""
    return frozenset(frozenset(((clause['operator'] or '').upper(), (clause['attribute'] or '').lower(),
                                tuple(sorted(clause['values']))) for clause in group) for group in groups)


def object_mapping_to_option(mapping):
    """A Graph ``objectMapping`` in the option format."""
    return dict(source_object=mapping.get('sourceObjectName'), target_object=mapping.get('targetObjectName'),
                enabled=bool(mapping.get('enabled')),
                flow_types=[name for name in OBJECT_FLOW_TYPES if name in parse_flow_types(mapping.get('flowTypes'))],
                attribute_mappings=[mapping_to_option(item) for item in mapping.get('attributeMappings') or []],
                scoping_filter=scope_to_option(mapping.get('scope')))


def comparable(schema):
    """A schema without what Graph changes by itself (``version``) and OData annotations, to see whether another writer
    changed it."""
    return dict((key, value) for key, value in (schema or {}).items() if key != 'version' and not key.startswith('@'))


def put_body(schema):
    """The schema as it is sent back: everything as read, without OData annotations."""
    return dict((key, value) for key, value in schema.items() if not key.startswith('@'))


# --- planning (pure) ------------------------------------------------------------------------------------------------

class SchemaPlan:
    """The schema after the task's changes, the changes, and what must be checked with Graph before writing."""

    def __init__(self, schema, rule_index):
        self.schema = schema
        self.rule_index = rule_index
        self.changes = []
        self.expressions = []  # (object mapping label, target, expression) new or changed, to parse
        self.tests = []  # (object mapping label, target, expression, tests)
        self.warnings = []
        self.scoping_changed = False

    @property
    def changed(self):
        return bool(self.changes)

    def managed(self, desired):
        """The managed object mappings of the planned schema, in the option format."""
        return managed_object_mappings(self.schema, desired, self.rule_index)


def managed_object_mappings(schema, desired, rule_index=None):
    if rule_index is None:
        rule_index = select_rule(schema, desired.rule)
    rule = (schema.get('synchronizationRules') or [])[rule_index]
    result = []
    for wanted in desired.object_mappings:
        index = find_object_mapping(rule, wanted.source_object, wanted.target_object)
        if index is not None:
            result.append(object_mapping_to_option(rule['objectMappings'][index]))
    return result


def managed_view(schema, desired):
    """What the task manages in ``schema``, compared to detect another writer's change to the same parts."""
    rule_index = select_rule(schema, desired.rule)
    rule = schema['synchronizationRules'][rule_index]
    view = {}
    for wanted in desired.object_mappings:
        index = find_object_mapping(rule, wanted.source_object, wanted.target_object)
        if index is None:
            view[wanted.label] = None
            continue
        current = object_mapping_to_option(rule['objectMappings'][index])
        named = set(attribute.target.lower() for attribute in wanted.attributes)
        entry = {}
        if wanted.enabled is not None:
            entry['enabled'] = current['enabled']
        if wanted.flow_types is not None:
            entry['flow_types'] = current['flow_types']
        if wanted.scoping is not None:
            entry['scoping_filter'] = _scope_key(current['scoping_filter'])
        for option in current['attribute_mappings']:
            if wanted.purge or (option['target'] or '').lower() in named:
                entry['attribute %s' % option['target'].lower()] = _mapping_key(option)
        view[wanted.label] = entry
    return view


def plan_schema(schema, desired, trees=None):
    """Apply the task's object mappings to ``schema`` (as read); returns a ``SchemaPlan``. Validates every named
    attribute and operator against the schema first; nothing here does I/O."""
    rule_index = select_rule(schema, desired.rule)
    planned = copy.deepcopy(schema)
    rule = planned['synchronizationRules'][rule_index]
    plan = SchemaPlan(planned, rule_index)
    for wanted in desired.object_mappings:
        index = find_object_mapping(rule, wanted.source_object, wanted.target_object)
        if index is None:
            available = ', '.join('%s -> %s' % (item.get('sourceObjectName'), item.get('targetObjectName'))
                                  for item in rule.get('objectMappings') or []) or 'none'
            raise TaskFailure('object_mappings: rule %s has no object mapping %s; its object mappings: %s.'
                              % (rule.get('name'), wanted.label, available))
        _plan_object_mapping(plan, rule, rule['objectMappings'][index], wanted, schema, trees)
    return plan


def _plan_object_mapping(plan, rule, mapping, wanted, schema, trees):
    label = '%s -> %s' % (mapping.get('sourceObjectName'), mapping.get('targetObjectName'))
    source_attributes = object_attributes(schema, rule.get('sourceDirectoryName'), mapping.get('sourceObjectName'))
    target_attributes = object_attributes(schema, rule.get('targetDirectoryName'), mapping.get('targetObjectName'))
    changes_before = len(plan.changes)

    if wanted.enabled is not None and bool(mapping.get('enabled')) != wanted.enabled:
        plan.changes.append(_change(label, 'object', 'enabled', 'changed', bool(mapping.get('enabled')), wanted.enabled))
        mapping['enabled'] = wanted.enabled
    if wanted.flow_types is not None and parse_flow_types(mapping.get('flowTypes')) != wanted.flow_types:
        before = [name for name in OBJECT_FLOW_TYPES if name in parse_flow_types(mapping.get('flowTypes'))]
        plan.changes.append(_change(label, 'object', 'flow_types', 'changed', before,
                                    [name for name in OBJECT_FLOW_TYPES if name in wanted.flow_types]))
        mapping['flowTypes'] = format_flow_types(wanted.flow_types)

    if wanted.attributes or wanted.purge:
        _plan_attributes(plan, label, mapping, wanted, source_attributes, target_attributes, trees)

    if wanted.scoping is not None:
        _plan_scoping(plan, label, mapping, wanted.scoping, source_attributes)

    enabled = bool(mapping.get('enabled'))
    if len(plan.changes) > changes_before and enabled and not any(
            int(item.get('matchingPriority') or 0) > 0 for item in mapping.get('attributeMappings') or []):
        raise TaskFailure('object mapping %s: after these changes it has no matching attribute (matching_priority 1 or '
                          'more), which an enabled object mapping needs to find objects in the target. Keep one, or set '
                          'matching_priority on one of attribute_mappings.' % label)
    if not enabled:
        plan.warnings.append('object mapping %s is disabled: objects of type %s are not provisioned by it, and its attribute '
                             'mappings and scoping filter have no effect until it is enabled.'
                             % (label, mapping.get('sourceObjectName')))


def _canonical_attribute(attributes, name, where, side, object_name):
    if attributes is None:
        raise TaskFailure('%s: the schema defines no %s object %s in its directories, so %s cannot be checked; check '
                          'source_object and target_object.' % (where, side, object_name, name))
    canonical = attributes.get(name.lower())
    if canonical is None:
        raise TaskFailure('%s: %s is not an attribute of the %s object %s. Its attributes include: %s.'
                          % (where, name, side, object_name, ', '.join(sorted(attributes.values())[:40])))
    return canonical


def _plan_attributes(plan, label, mapping, wanted, source_attributes, target_attributes, trees):
    mappings = mapping.setdefault('attributeMappings', [])
    by_target = dict(((item.get('targetAttributeName') or '').lower(), index) for index, item in enumerate(mappings))
    removed = set()
    for attribute in wanted.attributes:
        index = by_target.get(attribute.target.lower())
        current = mappings[index] if index is not None else None
        if attribute.state == 'absent':
            if current is not None:
                plan.changes.append(_change(label, 'attribute', current.get('targetAttributeName'), 'removed',
                                            mapping_to_option(current), None))
                removed.add(index)
            continue
        target = current.get('targetAttributeName') if current is not None else _canonical_attribute(
            target_attributes, attribute.target, attribute.where, 'target', mapping.get('targetObjectName'))
        value = attribute.value
        if attribute.kind == 'source':
            value = _canonical_attribute(source_attributes, value, attribute.where, 'source', mapping.get('sourceObjectName'))
        updated = copy.deepcopy(current) if current is not None else dict(
            defaultValue=None, exportMissingReferences=False, flowBehavior='FlowWhenChanged', flowType='Always',
            matchingPriority=0, source=None, targetAttributeName=target)
        for option, graph_name in _FIELDS:
            if option in attribute.fields:
                updated[graph_name] = attribute.fields[option]
        before_kind, before_value = source_to_option(current.get('source')) if current is not None else (None, None)
        source_changed = attribute.kind is not None and _source_key(before_kind, before_value) != _source_key(attribute.kind, value)
        if source_changed:
            updated['source'] = source_to_graph(attribute.kind, value, trees)
        elif current is None:
            updated['source'] = None
        before = mapping_to_option(current) if current is not None else None
        after = mapping_to_option(updated)
        if attribute.kind == 'expression' and (source_changed or current is None):
            plan.expressions.append((label, target, value))
        if attribute.tests:
            plan.tests.append((label, target, attribute.expression_text(), attribute.tests))
        if before is None:
            plan.changes.append(_change(label, 'attribute', target, 'added', None, after))
            mappings.append(updated)
        elif source_changed or _mapping_key(before) != _mapping_key(after):
            plan.changes.append(_change(label, 'attribute', target, 'changed', before, after))
            mappings[index] = updated
    if wanted.purge:
        named = set(attribute.target.lower() for attribute in wanted.attributes if attribute.state == 'present')
        for index, item in enumerate(mappings[:len(by_target)]):
            if index not in removed and (item.get('targetAttributeName') or '').lower() not in named:
                plan.changes.append(_change(label, 'attribute', item.get('targetAttributeName'), 'removed',
                                            mapping_to_option(item), None))
                removed.add(index)
    if removed:
        mapping['attributeMappings'] = [item for index, item in enumerate(mappings) if index not in removed]


def _plan_scoping(plan, label, mapping, groups, source_attributes):
    where = 'object mapping %s scoping_filter' % label
    resolved = []
    source_object = mapping.get('sourceObjectName')
    for group in groups:
        resolved.append([dict(clause, attribute=_canonical_attribute(source_attributes, clause['attribute'], where, 'source', source_object))
                         for clause in group])
    before = scope_to_option(mapping.get('scope'))
    if _scope_key(before) == _scope_key(resolved):
        return
    names = dict((_scope_key([group]), (item or {}).get('name'))
                 for group, item in zip(before, (mapping.get('scope') or {}).get('groups') or []))
    scope = copy.deepcopy(mapping.get('scope')) or dict(categoryFilterGroups=[], groups=[], inputFilterGroups=[])
    scope['groups'] = [dict(name=names.get(_scope_key([group])) or 'Scoping filter %d' % (number + 1),
                            clauses=[dict(operatorName=clause['operator'], sourceOperandName=clause['attribute'],
                                          targetOperand=dict(values=list(clause['values']))) for clause in group])
                       for number, group in enumerate(resolved)]
    if not scope['groups'] and not scope.get('categoryFilterGroups') and not scope.get('inputFilterGroups'):
        scope = None
    mapping['scope'] = scope
    action = 'added' if not before else 'removed' if not resolved else 'changed'
    plan.changes.append(_change(label, 'scoping', None, action, before or None, resolved or None))
    plan.scoping_changed = True


def _change(object_mapping, kind, target, action, before, after):
    return dict(object_mapping=object_mapping, kind=kind, target=target, action=action, before=before, after=after)


def schema_diff(changes):
    """Before/after of the managed parts only: per object mapping, the attributes, scoping filter and fields that
    changed; never the whole schema."""
    def view(side):
        result = {}
        for change in changes:
            entry = result.setdefault(change['object_mapping'], {})
            value = change[side]
            if change['kind'] == 'attribute':
                if value is not None:
                    entry.setdefault('attribute_mappings', {})[change['target']] = value
            elif change['kind'] == 'scoping':
                entry['scoping_filter'] = value or []
            else:
                entry[change['target']] = value
        return result
    return dict(before=view('before'), after=view('after'))


# --- expression tests (pure parts) ------------------------------------------------------------------------------------

def test_input_object(values):
    """An ``expressionInputObject`` for parseExpression from ``{attribute: value}``; lists are multi-valued
    (https://learn.microsoft.com/graph/api/resources/synchronization-expressioninputobject)."""
    properties = []
    for key, value in sorted((values or {}).items()):
        if isinstance(value, list):
            properties.append({'key': str(key), 'value@odata.type': '#Collection(String)', 'value': [_input_text(item) for item in value]})
        else:
            properties.append({'key': str(key), 'value': _input_text(value)})
    return dict(definition=None, properties=properties)


def _input_text(value):
    # Graph's example testInputObject writes booleans as "true"/"false".
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return None if value is None else str(value)


def expected_values(expect):
    """``expect`` as the list of strings parseExpression's ``evaluationResult`` holds."""
    if expect is None:
        return []
    if isinstance(expect, list):
        return [_text(item) for item in expect]
    return [_text(expect)]


def parse_failure(response):
    """Graph's reason for a failed parse or evaluation: code, message, and the position Graph gives (``target`` and
    ``details``), or None."""
    error = (response or {}).get('error')
    if not isinstance(error, dict):
        return None
    parts = [error.get('code'), (error.get('message') or '').strip().rstrip('.') or None]
    if error.get('target'):
        parts.append('at %s' % error['target'])
    for detail in error.get('details') or []:
        if not isinstance(detail, dict):
            continue
        message = (detail.get('message') or '').strip().rstrip('.')
        if message == parts[1]:
            message = ''  # Graph repeats the message in its details; keep only what they add
        if detail.get('target') and detail.get('target') != error.get('target'):
            message = ('%s (at %s)' % (message, detail['target'])).strip()
        if message:
            parts.append(message)
    text = ': '.join(part for part in parts[:2] if part)
    if parts[2:]:
        text += ' (%s)' % '; '.join(parts[2:])
    return text or None


# --- scoping impact ---------------------------------------------------------------------------------------------------
#
# A scoping change triggers a full synchronization and deprovisions what falls out of scope
# (https://learn.microsoft.com/entra/identity/app-provisioning/how-provisioning-works#incremental-cycles). Before such a
# write the module reads the population the job provisions and evaluates the old and the new filter locally (_scoping).
# The population, as the provisioning service sees it:
# - "Sync only assigned users and groups" (the default): users and groups assigned to the application
#   (https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignedto), and the direct members of assigned
#   groups; nested groups are not expanded ("Group-based assignment doesn't support nested groups",
#   https://learn.microsoft.com/entra/identity/app-provisioning/how-provisioning-works#assignment-based-scoping);
# - "Sync all users and groups": every user and group of the tenant; the portal stores the choice as the SyncAll
#   secret (https://learn.microsoft.com/graph/api/resources/synchronization-secretkeystringvaluepair).

# Source attributes of the schema whose Graph property has another name or shape.
_USER_ATTRIBUTE_PROPERTIES = dict([('objectid', 'id'), ('issoftdeleted', 'accountEnabled')] + [
    ('extensionattribute%d' % number, 'onPremisesExtensionAttributes') for number in range(1, 16)])
_POPULATIONS = dict(user=('/users', ('id', 'displayName', 'userPrincipalName')), group=('/groups', ('id', 'displayName')))


def scoping_changes(plan):
    """``[(object mapping label, source object, before groups, after groups)]`` of the plan's scoping changes."""
    rule = plan.schema['synchronizationRules'][plan.rule_index]
    sources = dict(('%s -> %s' % (item.get('sourceObjectName'), item.get('targetObjectName')), item.get('sourceObjectName'))
                   for item in rule.get('objectMappings') or [])
    return [(change['object_mapping'], sources.get(change['object_mapping']), change['before'] or [], change['after'] or [])
            for change in plan.changes if change['kind'] == 'scoping']


def graph_properties(object_type, attributes):
    """The ``$select`` for an object type and the schema attributes the clauses test."""
    properties = list(_POPULATIONS[object_type][1])
    for name in attributes:
        prop = _USER_ATTRIBUTE_PROPERTIES.get(name.lower(), name) if object_type == 'user' else \
            ('id' if name.lower() == 'objectid' else name)
        if prop.lower() not in [item.lower() for item in properties]:
            properties.append(prop)
    return properties


def source_view(object_type, graph_object, attributes):
    """``(name, {schema attribute: value})`` of a Graph user or group, for the scoping evaluator."""
    lowered = dict((key.lower(), value) for key, value in graph_object.items() if not key.startswith('@'))
    values = {}
    for name in attributes:
        key = name.lower()
        if key == 'objectid':
            values[name] = graph_object.get('id')
        elif object_type == 'user' and key == 'issoftdeleted':
            enabled = lowered.get('accountenabled')
            values[name] = None if enabled is None else ('False' if enabled else 'True')
        elif object_type == 'user' and key.startswith('extensionattribute') and key in _USER_ATTRIBUTE_PROPERTIES:
            values[name] = dict((k.lower(), v) for k, v in (lowered.get('onpremisesextensionattributes') or {}).items()).get(key)
        else:
            values[name] = lowered.get(key)
    label = graph_object.get('userPrincipalName') or graph_object.get('displayName') or graph_object.get('id')
    return label, values


def check_max_leaving(result, max_leaving):
    """Fail, before any write, when the change takes more objects out of scope than ``max_leaving``."""
    leaving = sum(entry['leaving'] for entry in result['impact'] if entry.get('leaving'))
    if leaving <= max_leaving:
        return
    parts = ['%s: %d of %d (%s%s)' % (entry['object_mapping'], entry['leaving'], entry['in_scope_before'],
                                      ', '.join(entry['leaving_sample']), ', ...' if entry['leaving'] > len(entry['leaving_sample']) else '')
             for entry in result['impact'] if entry.get('leaving')]
    raise TaskFailure('the scoping change takes %d objects out of scope, more than max_leaving (%d): %s. They would be '
                      'deprovisioned in the target by the full synchronization that follows. Nothing was written. If '
                      'this is intended, set max_leaving to %d or more.' % (leaving, max_leaving, '; '.join(parts), leaving),
                      changed=False, changes=result['changes'], impact=result['impact'])


def preview_scoping(task, client, address, path, plan):
    """``impact``: per object mapping whose scoping filter changes, the objects in scope before and after, entering and
    leaving. Reads only."""
    changes = scoping_changes(plan)
    sp_path = service_principal_path(client, address)
    secrets = dict((pair.get('key'), pair.get('value')) for pair in (client.get(sp_path + '/synchronization/secrets') or {}).get('value') or []
                   if isinstance(pair, dict))
    sync_all = str(secrets.get('SyncAll') or '').strip().lower() == 'true'
    skip_deletions = str(secrets.get('SkipOutOfScopeDeletions') or '').strip().lower() == 'true'
    wanted = {}
    for label, source_object, before, after in changes:
        object_type = (source_object or '').lower()
        if object_type in _POPULATIONS:
            wanted.setdefault(object_type, []).extend([before, after])
    populations = read_population(client, sp_path, sync_all,
                                  dict((kind, filter_attributes(*filters)) for kind, filters in wanted.items()))
    impact = []
    for label, source_object, before, after in changes:
        object_type = (source_object or '').lower()
        entry = dict(object_mapping=label, source_object=source_object, population='all' if sync_all else 'assigned',
                     skip_out_of_scope_deletions=skip_deletions)
        if object_type not in populations:
            task.warn('object mapping %s: the scoping impact of objects of type %s is not previewed (only User and Group '
                      'of Microsoft Entra ID are); max_leaving does not apply to it.' % (label, source_object))
            entry.update(entitled=None, in_scope_before=None, in_scope_after=None, entering=None, leaving=None,
                         entering_sample=[], leaving_sample=[])
        else:
            names = filter_attributes(before, after)
            objects = [source_view(object_type, item, names) for item in populations[object_type]]
            try:
                entry.update(scope_impact(before, after, objects))
            except ValueError as error:
                raise TaskFailure('object mapping %s scoping_filter: %s; fix the clause (a regular expression in the syntax '
                                  'of .NET, which the provisioning service runs).' % (label, error))
        impact.append(entry)
    return impact


def service_principal_path(client, address):
    """The service principal of the job: assignments and secrets hang off it, also when the task names the application."""
    if address.parent_option == 'service_principal_id':
        return address.parent_path
    app_id = (client.get(address.parent_path, params={'$select': 'appId'}) or {}).get('appId')
    found = client.get(graph_path("/servicePrincipals(appId='%s')", app_id), params={'$select': 'id'})
    return graph_path('/servicePrincipals/%s', found['id'])


def read_population(client, sp_path, sync_all, attributes):
    """``{'user': [Graph user], 'group': [Graph group]}`` entitled to provisioning, for the object types of
    ``attributes`` (``{object type: [schema attribute names]}``), each with the properties those attributes need."""
    selects = dict((kind, ','.join(graph_properties(kind, names))) for kind, names in attributes.items())
    if sync_all:
        return dict((kind, client.list_all(_POPULATIONS[kind][0], params={'$select': select})) for kind, select in selects.items())
    assigned = client.list_all(sp_path + '/appRoleAssignedTo', params={'$select': 'principalId,principalType'})
    user_ids = set(item['principalId'] for item in assigned if item.get('principalType') == 'User')
    group_ids = sorted(set(item['principalId'] for item in assigned if item.get('principalType') == 'Group'))
    result = {}
    if 'user' in selects:
        for group_id in group_ids:
            for member in client.list_all(graph_path('/groups/%s/members', group_id), params={'$select': 'id'}):
                if (member.get('@odata.type') or '#microsoft.graph.user') == '#microsoft.graph.user':
                    user_ids.add(member['id'])
        result['user'] = _batch_read(client, '/users/%s', sorted(user_ids), selects['user'])
    if 'group' in selects:
        result['group'] = _batch_read(client, '/groups/%s', group_ids, selects['group'])
    return result


def _batch_read(client, template, ids, select):
    """Each object by id through $batch (20 per request); objects deleted since they were listed are left out."""
    found = []
    for dummy, answer in client.iter_batch_get('%s?$select=%s' % (graph_path(template, object_id), select) for object_id in ids):
        if answer.ok:
            found.append(answer.body)
        elif answer.status != 404:
            raise answer.error
    return sorted(found, key=lambda item: item.get('id') or '')


# --- acting ---------------------------------------------------------------------------------------------------------

def run_synchronization_schema(task):
    address = JobAddress(task.params, check_mode=task.check_mode)
    desired = DesiredSchema(task.params)
    restore = load_backup(desired.restore_from) if desired.restore_from else None
    if address.planned_parent:
        # Check mode for a service principal not created yet (service_principal_id null, as synchronization_job
        # accepts it): the options are checked as a real run would, and nothing is read.
        return dict(changed=False, changes=[], object_mappings=[], backup_file=None, impact=[])
    client = task.client()

    job = read_job(client, address, address.jobs_path, task.warn)
    if job is None:
        if address.job_id:
            raise TaskFailure('job_id: job %s does not exist on %s %s.' % (address.job_id, address.parent_option, address.parent_id))
        raise TaskFailure('%s %s has no job of template %s: create the job first with entra.provisioning.synchronization_job.'
                          % (address.parent_option, address.parent_id, address.template_id))
    check_job_template(job, address)
    path = job_path(address.jobs_path, job['id']) + '/schema'
    current = client.get(path)

    if desired.state == 'reset':
        result = reset_schema(task, client, address, job, path, current, desired)
    elif restore is not None:
        result = restore_schema(task, client, path, current, restore, desired)
    else:
        result = apply_object_mappings(task, client, address, path, current, desired)
    if desired.include_schema:
        result['schema'] = to_snake(result.pop('_schema'))
    else:
        result.pop('_schema', None)
    return result


def apply_object_mappings(task, client, address, path, current, desired):
    plan = plan_schema(current, desired)
    # A test's answer carries the parsed tree too: an expression with tests is not parsed a second time.
    trees = run_expression_tests(client, path, plan.tests)
    trees.update(parse_expressions(client, path, [item for item in plan.expressions if canonical_expression(item[2]) not in trees]))
    plan = plan_schema(current, desired, trees)
    result = dict(changed=plan.changed, changes=plan.changes, backup_file=None,
                  diff=schema_diff(plan.changes), impact=[])
    for warning in plan.warnings:
        task.warn(warning)
    if plan.changed and task.check_mode:
        _warn_about_write(task, plan)
    if plan.scoping_changed:
        result['impact'] = preview_scoping(task, client, address, path, plan)
        check_max_leaving(result, desired.max_leaving)
    if not plan.changed or task.check_mode:
        result.update(object_mappings=plan.managed(desired), _schema=plan.schema)
        return result

    if desired.backup:
        result['backup_file'] = write_backup(task, desired, current)
    fresh = client.get(path)
    if comparable(fresh) != comparable(current):
        if managed_view(fresh, desired) == managed_view(current, desired):
            task.warn('another writer changed other parts of the schema after this task read it; the task\'s changes were '
                      'applied to the current schema, keeping that change.')
        elif not _already_as_desired(fresh, desired, trees):
            raise TaskFailure('another writer changed the parts of the schema this task manages after this task read it (%s); '
                              'nothing was written, so as not to revert that change silently. Run the task again to apply '
                              'it to the current schema, after checking that change.'
                              % describe_conflict(managed_view(current, desired), managed_view(fresh, desired)),
                              backup_file=result['backup_file'])
        # else another writer (another run of this task: one play over several hosts) made exactly this change: the plan
        # from the fresh schema has nothing left to write.
        unparsed = [item for item in plan_schema(fresh, desired, trees).expressions if canonical_expression(item[2]) not in trees]
        trees.update(parse_expressions(client, path, unparsed))
        plan = plan_schema(fresh, desired, trees)
        result.update(changed=plan.changed, changes=plan.changes, diff=schema_diff(plan.changes))
    if plan.changed:
        # Said once the write is certain: after the re-read, another run may have left nothing to write.
        _warn_about_write(task, plan)
        client.write('PUT', path, body=put_body(plan.schema))
    after = client.get(path)
    try:
        left = plan_schema(after, desired, trees)
    except TaskFailure as failure:
        # The write happened: report it as done, and what the read-back shows.
        task.warn('the schema was written, but reading it back fails the task\'s checks: %s' % failure.msg)
        left = None
    if left is not None and left.changed:
        task.warn('after the write, Graph still shows differences from the task for %s; Graph may have changed what was '
                  'sent. Check the mappings in the Entra portal.' % ', '.join(sorted(set(
                      '%s %s' % (change['object_mapping'], change['target'] or change['kind']) for change in left.changes))))
    result.update(object_mappings=managed_object_mappings(after, desired), _schema=after)
    return result


def _already_as_desired(fresh, desired, trees):
    """Whether another writer's change to the managed parts made them what the task wants (another run of the same
    task, for example one play over several hosts): nothing is left to write, and nothing of theirs is reverted."""
    try:
        return not plan_schema(fresh, desired, trees).changed
    except TaskFailure:
        return False


def _warn_about_write(task, plan):
    verb = 'would restart' if task.check_mode else 'restarts'
    task.warn('writing the schema %s the provisioning service: the next cycle is an initial cycle, which evaluates every '
              'object in scope again.' % verb)
    if plan.scoping_changed:
        task.warn('the scoping filter changes: a full synchronization follows, and objects now out of scope are '
                  'deprovisioned in the target (disabled or deleted) unless the service principal\'s secret '
                  'SkipOutOfScopeDeletions is true (entra.provisioning.synchronization_secret '
                  'skip_out_of_scope_deletions: true).')


def describe_conflict(before, after):
    parts = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label) or {}, after.get(label) or {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                parts.append('%s %s' % (label, key))
    return 'changed: %s' % ', '.join(parts)


def parse_expressions(client, path, expressions):
    """parseExpression for each new or changed expression; fails naming the mapping with Graph's message and position.
    Returns ``{canonical text: attributeMappingSource}``."""
    trees = {}
    for label, target, expression in expressions:
        key = canonical_expression(expression)
        if key in trees:
            continue
        response = _parse(client, path, expression, None, label, target)
        tree = normalise_source(response.get('parsedExpression'))
        if tree is None:
            raise TaskFailure('object mapping %s, target %s: Graph parsed the expression %s but returned no parsedExpression '
                              'to store; nothing was written.' % (label, target, expression))
        trees[key] = tree
    return trees


def _parse(client, path, expression, test_input, label, target):
    body = dict(expression=expression, targetAttributeDefinition=None)
    if test_input is not None:
        body['testInputObject'] = test_input
    try:
        response = client.read_post(path + '/parseExpression', body=body) or {}
    except GraphError as error:
        if error.status != 400:
            raise
        raise TaskFailure('object mapping %s, target %s: Graph refused the expression %s: %s. Nothing was written.'
                          % (label, target, expression, error.message or error.code), error=error.to_result())
    if not response.get('parsingSucceeded'):
        reason = parse_failure(response) or 'Graph gave no reason'
        position = None if ' (at ' in reason else syntax_position(expression)
        raise TaskFailure('object mapping %s, target %s: the expression %s does not parse: %s%s. Nothing was written.'
                          % (label, target, expression, reason, ' (%s)' % position if position else ''),
                          parse_error=response.get('error'))
    return response


def run_expression_tests(client, path, tests):
    """Evaluate each test with parseExpression; fails, before any write, naming the mapping, input, expected and actual.
    Returns the parsed trees Graph sent along, as ``parse_expressions`` does."""
    trees = {}
    for label, target, expression, cases in tests:
        for number, case in enumerate(cases):
            response = _parse(client, path, expression, test_input_object(case.get('input')), label, target)
            tree = normalise_source(response.get('parsedExpression'))
            if tree is not None:
                trees.setdefault(canonical_expression(expression), tree)
            expected = expected_values(case.get('expect'))
            where = 'object mapping %s, target %s: tests[%d] (input %s)' % (label, target, number, json.dumps(case.get('input'), sort_keys=True))
            if not response.get('evaluationSucceeded'):
                raise TaskFailure('%s: Graph could not evaluate %s: %s. Nothing was written.'
                                  % (where, expression, parse_failure(response) or 'Graph gave no reason'))
            actual = [_text(value) for value in response.get('evaluationResult') or []]
            if actual != expected:
                raise TaskFailure('%s: %s evaluates to %s, expected %s. Nothing was written.'
                                  % (where, expression, _show(actual), _show(expected)),
                                  test=dict(object_mapping=label, target=target, input=case.get('input'), expected=expected, actual=actual))
    return trees


def _show(values):
    if len(values) == 1:
        return json.dumps(values[0])
    return json.dumps(values)


# --- backup, restore, reset -----------------------------------------------------------------------------------------

def backup_path(task, desired, schema, now=None):
    options = desired.backup_options
    directory = options.get('dir_path') or os.path.join(task.basedir or os.getcwd(), 'backup')
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime('%Y%m%dT%H%M%S.%fZ')
    filename = options.get('filename') or '%s_schema_%s.json' % (schema.get('id') or 'job', stamp)
    return os.path.join(directory, filename)


def write_backup(task, desired, schema):
    path = backup_path(task, desired, schema)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            json.dump(schema, handle, indent=2, sort_keys=True)
            handle.write('\n')
    except (IOError, OSError) as error:
        raise TaskFailure('backup: could not write %s (%s); nothing was written to Graph. Set backup_options.dir_path to a '
                          'writable directory.' % (path, error.strerror or error))
    return path


def load_backup(path):
    try:
        with open(path) as handle:
            schema = json.load(handle)
    except (IOError, OSError) as error:
        raise TaskFailure('restore_from: cannot read %s (%s).' % (path, error.strerror or error))
    except ValueError as error:
        raise TaskFailure('restore_from: %s is not JSON (%s); give a file written by backup: true.' % (path, error))
    if not isinstance(schema, dict) or not isinstance(schema.get('synchronizationRules'), list) \
            or not isinstance(schema.get('directories'), list):
        raise TaskFailure('restore_from: %s is not a synchronization schema (it needs synchronizationRules and directories); '
                          'give a file written by backup: true.' % path)
    return schema


def restore_schema(task, client, path, current, saved, desired):
    """PUT a saved schema back, unless the job's schema already equals it."""
    body = put_body(saved)
    if current.get('id') is not None:
        body['id'] = current['id']
    same = _without_id(comparable(body)) == _without_id(comparable(current))
    diff = dict(before=dict(version=current.get('version')), after=dict(restored_from=desired.restore_from))
    return _replace_whole(task, client, path, current, desired, same, body, diff, lambda: client.write('PUT', path, body=body),
                          'restoring the schema %s the provisioning service: the next cycle is an initial cycle, and objects '
                          'that the restored scoping filters leave out are deprovisioned unless SkipOutOfScopeDeletions is true.')


def reset_schema(task, client, address, job, path, current, desired):
    """DELETE the schema unless it already equals the template's default (then nothing is sent)."""
    default = None
    template_path = '%s/synchronization/templates/%s/schema' % (address.parent_path, job.get('templateId'))
    try:
        default = client.get(template_path)
    except GraphNotFound:
        task.warn('the default schema of template %s could not be read, so the reset could not check whether the schema '
                  'is customised; it was reset anyway.' % job.get('templateId'))
    same = default is not None and _without_id(comparable(default)) == _without_id(comparable(current))
    diff = dict(before=dict(customised=not same), after=dict(customised=False))
    return _replace_whole(task, client, path, current, desired, same, default if default is not None else current, diff,
                          lambda: client.write('DELETE', path),
                          'resetting the schema %s the provisioning service with the template\'s default mappings and scoping; '
                          'objects out of the default scope are deprovisioned unless SkipOutOfScopeDeletions is true.')


def _replace_whole(task, client, path, current, desired, same, predicted, diff, write, warning):
    """Restore and reset replace the whole schema: nothing when it is the same already; else warn, back up, check that
    nobody changed it since it was read (any change would be lost), write, read back."""
    result = dict(changed=not same, changes=[], backup_file=None, object_mappings=[], diff=diff, impact=[])
    if same:
        result['_schema'] = current
        return result
    task.warn(warning % ('would restart' if task.check_mode else 'restarts'))
    if task.check_mode:
        result['_schema'] = predicted
        return result
    if desired.backup:
        result['backup_file'] = write_backup(task, desired, current)
    fresh = client.get(path)
    if comparable(fresh) != comparable(current):
        result['changed'] = False
        raise TaskFailure('another writer changed the schema after this task read it; nothing was written, so as not to '
                          'replace that change silently. Run the task again.', **result)
    write()
    result['_schema'] = client.get(path)
    return result


def _without_id(schema):
    return dict((key, value) for key, value in schema.items() if key != 'id')
