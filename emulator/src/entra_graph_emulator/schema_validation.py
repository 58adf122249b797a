"""What a synchronizationSchema PUT must hold beyond its documented shape (pure; the schema routes call it).

The shape itself (unknown properties, types, enums) is checked against the documented types first
(synchronization's body checks). This module checks the schema's meaning, each problem naming the
rule, object mapping and attribute:

* every rule names directories the schema holds, every enabled object mapping names objects of those
  directories;
* every attribute mapping of an enabled object mapping targets an attribute of the target object,
  once ("duplicate targets"), and has a source or a defaultValue ("a mapping without a source");
  every [attribute] its source refers to is an attribute of the source object, and the source's
  expression parses (expressions.py);
* every scoping-filter clause names a source attribute and an operator the service knows.

Docs are silent on all of these: Graph's schema reference
(https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationschema) says only
that the schema "defines what objects will be synchronized and how", and the update page
(https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-update) that it
"fully replaces the current schema". We chose these rules because the published Salesforce schema
(the same page's sample) satisfies them while the admin center refuses such mappings. Two
readings of that sample shape the rules: its constant mappings have no source but a defaultValue,
and its disabled object mappings are placeholders with an empty sourceObjectName, so disabled object
mappings are only checked for their shape. Names compare case-insensitively (the schema's own
names mix cases: "User" and "user" directories objects are the same in the admin center); docs are
silent: we chose case-insensitive.
"""

import json
import os

from . import expressions

_OPERATORS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "schema-filteroperators.json")
# Scoping-filter operators: those schema/filterOperators lists plus those the scoping-filter page
# documents (https://learn.microsoft.com/entra/identity/app-provisioning/define-conditional-rules-for-provisioning-user-accounts).
_DOCUMENTED_OPERATORS = ("GREATER_THAN", "GREATER_THAN_OR_EQUALS", "INCLUDES")


def _known_operators():
    with open(_OPERATORS_FILE, encoding="utf-8") as handle:
        listed = [operator["name"] for operator in json.load(handle)["value"]]
    return frozenset(name.upper() for name in list(listed) + list(_DOCUMENTED_OPERATORS))


FILTER_OPERATORS = _known_operators()


class SchemaProblem:
    """One problem: a publicErrorDetail-like code, message and target (rule / object mapping / attribute)."""

    def __init__(self, code, message, target):
        self.code = code
        self.message = message
        self.target = target

    def to_detail(self):
        return {"code": self.code, "message": self.message, "target": self.target}


def _by_name(items):
    return {str(item.get("name") or "").lower(): item for item in items or [] if isinstance(item, dict)}


def _attribute_names(definition):
    return {str(attribute.get("name") or "").lower() for attribute in (definition or {}).get("attributes") or [] if isinstance(attribute, dict)}


def schema_problems(schema, signatures=None):
    """Every problem of ``schema`` (a synchronizationSchema body), in document order."""
    problems = []
    directories = _by_name(schema.get("directories"))
    for rule_index, rule in enumerate(schema.get("synchronizationRules") or []):
        if not isinstance(rule, dict):
            continue
        rule_name = rule.get("name") or rule.get("id") or "synchronizationRules[%d]" % rule_index
        mappings = [mapping for mapping in rule.get("objectMappings") or [] if isinstance(mapping, dict)]
        if not mappings:
            continue
        ends = {}
        for end in ("source", "target"):
            directory_name = rule.get(end + "DirectoryName")
            ends[end] = directories.get(str(directory_name or "").lower())
            if ends[end] is None:
                problems.append(SchemaProblem(
                    "UnknownDirectory", "The synchronization rule '%s' names the %s directory '%s', which is not one of the schema's directories (%s)."
                    % (rule_name, end, directory_name, ", ".join(item.get("name") or "" for item in schema.get("directories") or [])), rule_name))
        if None in ends.values():
            continue
        for mapping_index, mapping in enumerate(mappings):
            problems.extend(_mapping_problems(rule_name, mapping_index, mapping, ends, signatures))
    return problems


def _mapping_problems(rule_name, index, mapping, ends, signatures):
    if mapping.get("enabled") is False:
        return []
    label = "%s/%s" % (rule_name, mapping.get("name") or "%s -> %s" % (mapping.get("sourceObjectName"), mapping.get("targetObjectName"))
                       if mapping.get("sourceObjectName") or mapping.get("targetObjectName") else "objectMappings[%d]" % index)
    objects, problems = {}, []
    for end in ("source", "target"):
        object_name = mapping.get(end + "ObjectName")
        objects[end] = _by_name(ends[end].get("objects")).get(str(object_name or "").lower())
        if objects[end] is None:
            problems.append(SchemaProblem("UnknownObject", "The object mapping '%s' names the %s object '%s', which the directory '%s' does not define."
                                          % (label, end, object_name, ends[end].get("name")), label))
    if problems:
        return problems
    source_attributes, target_attributes = _attribute_names(objects["source"]), _attribute_names(objects["target"])
    seen = set()
    for attribute_mapping in mapping.get("attributeMappings") or []:
        if not isinstance(attribute_mapping, dict):
            continue
        target = attribute_mapping.get("targetAttributeName")
        where = "%s/%s" % (label, target)
        if not target or str(target).lower() not in target_attributes:
            problems.append(SchemaProblem("UnknownAttribute", "The attribute mapping '%s' targets '%s', which is not an attribute of the target object '%s'."
                                          % (where, target, objects["target"].get("name")), where))
        elif str(target).lower() in seen:
            problems.append(SchemaProblem("DuplicateTarget", "The object mapping '%s' maps the target attribute '%s' more than once." % (label, target), where))
        seen.add(str(target or "").lower())
        problems.extend(_source_problems(where, attribute_mapping, objects["source"], source_attributes, signatures))
    problems.extend(_scope_problems(label, mapping.get("scope"), objects["source"], source_attributes))
    return problems


def _source_problems(where, attribute_mapping, source_object, source_attributes, signatures):
    source = attribute_mapping.get("source")
    if not source:
        if attribute_mapping.get("defaultValue") in (None, ""):
            return [SchemaProblem("MissingSource", "The attribute mapping '%s' has no source and no defaultValue." % where, where)]
        return []
    try:
        node = expressions.from_source(source, signatures)
    except expressions.ExpressionError as exc:
        return [SchemaProblem("InvalidExpression", "The source of the attribute mapping '%s' is not a valid expression: %s" % (where, exc), where)]
    return [SchemaProblem("UnknownAttribute", "The source of the attribute mapping '%s' refers to [%s], which is not an attribute of the source object '%s'."
                          % (where, name, source_object.get("name")), where)
            for name in expressions.attribute_names(node) if name.lower() not in source_attributes]


def _scope_problems(label, scope, source_object, source_attributes):
    problems = []
    for group_set in ("groups", "inputFilterGroups", "categoryFilterGroups"):
        for group in (scope or {}).get(group_set) or []:
            for clause in (group or {}).get("clauses") or []:
                where = "%s/scope/%s" % (label, (group or {}).get("name") or group_set)
                operand = (clause or {}).get("sourceOperandName")
                operator = (clause or {}).get("operatorName")
                if str(operand or "").lower() not in source_attributes:
                    problems.append(SchemaProblem("UnknownAttribute", "The scoping filter '%s' tests '%s', which is not an attribute of the source object '%s'."
                                                  % (where, operand, source_object.get("name")), where))
                if str(operator or "").upper() not in FILTER_OPERATORS:
                    problems.append(SchemaProblem("UnknownFilterOperator", "The scoping filter '%s' uses the operator '%s'; known operators: %s."
                                                  % (where, operator, ", ".join(sorted(FILTER_OPERATORS))), where))
    return problems
