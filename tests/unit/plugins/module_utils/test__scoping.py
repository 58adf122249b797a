# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scoping-filter evaluator (every operator of the scoping-filter guide, OR between groups, AND within) and the
impact of a scoping change."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._scoping import (
    clause_matches,
    filter_attributes,
    in_scope,
    scope_impact,
)


def clause(operator, attribute='department', *values):
    return dict(attribute=attribute, operator=operator, values=list(values))


@pytest.mark.parametrize('operator, values, attributes, expected', [
    ('EQUALS', ['Sales'], {'department': 'Sales'}, True),
    ('EQUALS', ['Sales'], {'department': 'sales'}, False),  # case-sensitive
    ('EQUALS', ['Sales'], {'department': None}, False),
    ('EQUALS', ['Sales'], {'department': ['HR', 'Sales']}, True),  # multi-valued: any value
    ('NOT EQUALS', ['Sales'], {'department': 'sales'}, True),
    ('NOT EQUALS', ['Sales'], {'department': 'Sales'}, False),
    ('NOT EQUALS', ['Sales'], {}, True),
    ('IS TRUE', [], {'department': True}, True),
    ('IS TRUE', [], {'department': 'true'}, True),
    ('IS TRUE', [], {'department': 'False'}, False),
    ('IS TRUE', [], {}, False),
    ('IS FALSE', [], {'department': False}, True),
    ('IS FALSE', [], {'department': 'FALSE'}, True),
    ('IS FALSE', [], {'department': True}, False),
    ('IS FALSE', [], {}, False),  # empty is neither true nor false
    ('IS NULL', [], {}, True),
    ('IS NULL', [], {'department': ''}, True),
    ('IS NULL', [], {'department': []}, True),
    ('IS NULL', [], {'department': 'x'}, False),
    ('IS NOT NULL', [], {'department': 'x'}, True),
    ('IS NOT NULL', [], {'department': None}, False),
    ('REGEX MATCH', ['^Sal'], {'department': 'Sales'}, True),
    ('REGEX MATCH', ['^sal'], {'department': 'Sales'}, False),
    ('REGEX MATCH', ['les$'], {'department': 'Sales'}, True),
    ('REGEX MATCH', ['.*'], {}, False),
    ('NOT REGEX MATCH', ['^Sal'], {'department': 'Sales'}, False),
    ('NOT REGEX MATCH', ['^Eng'], {'department': 'Sales'}, True),
    ('NOT REGEX MATCH', ['^Eng'], {}, True),
    ('Greater_Than', ['10'], {'department': '11'}, True),
    ('Greater_Than', ['10'], {'department': '10'}, False),
    ('Greater_Than', ['10'], {'department': '9'}, False),
    ('Greater_Than', ['10'], {'department': 'eleven'}, False),  # integers only
    ('Greater_Than', ['x'], {'department': '11'}, False),
    ('Greater_Than', ['9'], {'department': '10'}, True),  # compared as integers, not as strings
    ('Greater_Than_OR_EQUALS', ['10'], {'department': '10'}, True),
    ('Greater_Than_OR_EQUALS', ['10'], {'department': '9'}, False),
    ('Includes', ['ale'], {'department': 'Sales'}, True),
    ('Includes', ['ALE'], {'department': 'Sales'}, False),  # case-sensitive
    ('Includes', ['ale'], {}, False),
])
def test_each_operator(operator, values, attributes, expected):
    assert clause_matches(clause(operator, 'department', *values), attributes) is expected


def test_attribute_names_are_not_case_sensitive_and_operators_any_case():
    assert clause_matches(dict(attribute='Department', operator='equals', values=['Sales']), {'department': 'Sales'})
    assert clause_matches(dict(attribute='x', operator='GREATER_THAN', values=['1']), {'X': 2})


def test_bad_regex_and_unknown_operator_raise():
    with pytest.raises(ValueError, match='does not compile'):
        clause_matches(clause('REGEX MATCH', 'department', '('), {'department': 'x'})
    with pytest.raises(ValueError, match='not a scoping-filter operator'):
        clause_matches(clause('LIKE', 'department', 'x'), {'department': 'x'})


def test_or_between_groups_and_within_a_group():
    sales_with_mail = [clause('EQUALS', 'department', 'Sales'), clause('IS NOT NULL', 'mail')]
    engineers = [clause('REGEX MATCH', 'jobTitle', '^Eng')]
    groups = [sales_with_mail, engineers]
    assert in_scope(groups, {'department': 'Sales', 'mail': 'a@b'})
    assert not in_scope(groups, {'department': 'Sales'})  # AND within the group
    assert in_scope(groups, {'jobTitle': 'Engineer'})  # OR between groups
    assert not in_scope(groups, {'jobTitle': 'Manager', 'department': 'HR'})
    assert in_scope([], {})  # no filter: everything entitled is in scope


def test_filter_attributes_lists_each_name_once():
    before = [[clause('EQUALS', 'department', 'Sales')]]
    after = [[clause('EQUALS', 'Department', 'HR'), clause('IS TRUE', 'accountEnabled')]]
    assert filter_attributes(before, after) == ['accountEnabled', 'department']
    assert filter_attributes([], None) == []


def test_scope_impact_counts_and_samples():
    objects = [('u%d' % number, {'department': 'Sales' if number < 4 else 'HR'}) for number in range(6)]
    before = [[clause('EQUALS', 'department', 'Sales')]]
    after = [[clause('EQUALS', 'department', 'HR')]]
    impact = scope_impact(before, after, objects, sample_size=1)
    assert impact == dict(entitled=6, in_scope_before=4, in_scope_after=2, entering=2, leaving=4,
                          entering_sample=['u4'], leaving_sample=['u0'])
    assert scope_impact([], after, objects)['leaving_sample'] == ['u0', 'u1', 'u2', 'u3']
    assert scope_impact(after, after, objects)['entering'] == 0
