# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""Scoping filters evaluated locally, and the impact of changing one. Pure: no I/O.

The rules follow the public guide "Scoping users or groups to be provisioned with scoping filters"
(https://learn.microsoft.com/entra/identity/app-provisioning/define-conditional-rules-for-provisioning-user-accounts):

- an object is in scope when any filter group matches (OR between groups), a group matches when all its clauses do
  (AND within a group); no group at all means every entitled object is in scope;
- EQUALS, NOT EQUALS and Includes compare strings case-sensitively ("case sensitive" in the guide's table);
- IS TRUE / IS FALSE test a Boolean value; IS NULL / IS NOT NULL test for an empty attribute;
- REGEX MATCH / NOT REGEX MATCH test a regular expression (the service runs .NET regular expressions; Python's ``re``
  agrees on the common syntax: classes, anchors, alternation, quantifiers);
- Greater_Than / Greater_Than_OR_EQUALS: "The value specified on the filter must be an integer and the attribute on the
  user must be an integer".

Where the guide is silent, this module's choice is stated at the operator. Clauses use the option format of
``synchronization_schema`` (``attribute``, ``operator``, ``values``); a multi-valued attribute is a list.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

SAMPLE_SIZE = 10


def _values(attributes, name):
    """The attribute's values as a list of strings (None and empty strings dropped); names compare case-insensitively,
    as the schema's attribute names do."""
    value = attributes.get(name)
    if value is None:
        lowered = name.lower()
        value = next((found for key, found in attributes.items() if key.lower() == lowered), None)
    values = value if isinstance(value, (list, tuple)) else [value]
    texts = []
    for item in values:
        if item is None:
            continue
        text = ('True' if item else 'False') if isinstance(item, bool) else str(item)
        if text != '':
            texts.append(text)
    return texts


def _integer(text):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def _greater(texts, wanted, or_equal):
    # The guide requires integers on both sides; anything else does not match (our choice: the guide is silent).
    limit = _integer(wanted)
    if limit is None:
        return False
    for text in texts:
        number = _integer(text)
        if number is not None and (number > limit or (or_equal and number == limit)):
            return True
    return False


def _regex(pattern, texts):
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None
    return any(compiled.search(text) for text in texts)


def clause_matches(clause, attributes):
    """Whether one clause (``attribute``, ``operator``, ``values``) holds for an object's ``attributes`` (a dict).

    A multi-valued attribute matches EQUALS, Includes, REGEX MATCH, IS TRUE and the comparisons when any of its values
    does, and NOT EQUALS / NOT REGEX MATCH when none does (our choice: the guide does not discuss multi-valued
    attributes). A regular expression Python cannot compile raises ``ValueError``.
    """
    operator = (clause.get('operator') or '').upper()
    texts = _values(attributes, clause.get('attribute') or '')
    # The portal gives a clause one value; Graph's filterOperand holds a list and does not say what several mean
    # (https://learn.microsoft.com/graph/api/resources/synchronization-filteroperand): the first value is compared.
    wanted = (clause.get('values') or [''])[0]
    wanted = '' if wanted is None else str(wanted)
    if operator == 'EQUALS':
        return wanted in texts
    if operator == 'NOT EQUALS':
        return wanted not in texts
    if operator == 'INCLUDES':
        return any(wanted in text for text in texts)
    if operator == 'IS TRUE':
        return any(text.lower() == 'true' for text in texts)
    if operator == 'IS FALSE':
        # A Boolean value of false; an empty attribute is neither true nor false (our choice: the guide is silent).
        return any(text.lower() == 'false' for text in texts)
    if operator == 'IS NULL':
        return not texts
    if operator == 'IS NOT NULL':
        return bool(texts)
    if operator in ('REGEX MATCH', 'NOT REGEX MATCH'):
        found = _regex(wanted, texts)
        if found is None:
            raise ValueError('the regular expression %r of the clause on %s does not compile' % (wanted, clause.get('attribute')))
        return found if operator == 'REGEX MATCH' else not found
    if operator == 'GREATER_THAN':
        return _greater(texts, wanted, False)
    if operator == 'GREATER_THAN_OR_EQUALS':
        return _greater(texts, wanted, True)
    raise ValueError('%s is not a scoping-filter operator' % clause.get('operator'))


def in_scope(groups, attributes):
    """Whether an object is in scope of a scoping filter: ``groups`` is a list of groups, each a list of clauses."""
    if not groups:
        return True
    return any(all(clause_matches(clause, attributes) for clause in group) for group in groups)


def filter_attributes(*filters):
    """The attribute names the clauses of ``filters`` (each a list of groups) test, sorted, without duplicates
    (case-insensitively: the first spelling is kept)."""
    seen = {}
    for groups in filters:
        for group in groups or []:
            for clause in group:
                name = clause.get('attribute')
                if name and name.lower() not in seen:
                    seen[name.lower()] = name
    return sorted(seen.values(), key=str.lower)


def scope_impact(before, after, objects, sample_size=SAMPLE_SIZE):
    """How a scoping change moves ``objects`` (a list of ``(name, attributes)`` of the entitled population):
    ``in_scope_before``, ``in_scope_after``, ``entering``, ``leaving`` (counts) and samples of names entering and
    leaving (sorted, at most ``sample_size`` each)."""
    entering, leaving = [], []
    count_before = count_after = 0
    for name, attributes in objects:
        was, now = in_scope(before, attributes), in_scope(after, attributes)
        count_before += was
        count_after += now
        if now and not was:
            entering.append(name)
        elif was and not now:
            leaving.append(name)
    return dict(entitled=len(objects), in_scope_before=count_before, in_scope_after=count_after,
                entering=len(entering), leaving=len(leaving),
                entering_sample=sorted(entering, key=str.lower)[:sample_size],
                leaving_sample=sorted(leaving, key=str.lower)[:sample_size])
