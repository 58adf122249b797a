"""What a schema PUT must hold beyond its shape (schema_validation.py), on the SCIM template's default schema."""

import copy

import pytest

from entra_graph_emulator import expressions, schema_validation
from entra_graph_emulator.synchronization.template_catalog import catalog


def scim_schema():
    return copy.deepcopy(catalog().schemas["scim"])


def users(schema):
    rule = schema["synchronizationRules"][0]
    return [mapping for mapping in rule["objectMappings"] if mapping["sourceObjectName"] == "User"][0]


TELEPORT = {"expression": "Teleport([mail])", "name": "Teleport", "parameters": [], "type": "Function"}


def problems(schema):
    return [(problem.code, problem.message) for problem in schema_validation.schema_problems(schema)]


def test_every_default_schema_is_valid():
    for name, schema in catalog().schemas.items():
        assert problems(schema) == [], name


def add_mapping(schema, target, expression=None, **extra):
    mapping = {"targetAttributeName": target, "source": expressions.to_source(expressions.parse(expression)) if expression else None,
               "defaultValue": None, "flowType": "Always", "matchingPriority": 0}
    mapping.update(extra)
    users(schema)["attributeMappings"].append(mapping)
    return schema


@pytest.mark.parametrize("change, code, fragment", [
    (lambda schema: add_mapping(schema, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", "[department]"),
     "UnknownAttribute", "targets 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter'"),
    (lambda schema: add_mapping(schema, "title", "[department]"), "DuplicateTarget", "'title' more than once"),
    (lambda schema: add_mapping(schema, "TITLE", "[department]"), "DuplicateTarget", "more than once"),
    (lambda schema: users(schema)["attributeMappings"][2].update(source=None), "MissingSource", "no source and no defaultValue"),
    (lambda schema: users(schema)["attributeMappings"][2].update(source=expressions.to_source(expressions.parse("ToLower([costCenter])"))),
     "UnknownAttribute", "refers to [costCenter]"),
    (lambda schema: users(schema)["attributeMappings"][2].update(source=TELEPORT), "InvalidExpression", "not a known function"),
    (lambda schema: users(schema).update(targetObjectName="urn:example:Nobody"), "UnknownObject", "target object 'urn:example:Nobody'"),
    (lambda schema: schema["synchronizationRules"][0].update(targetDirectoryName="Nowhere"), "UnknownDirectory", "target directory 'Nowhere'"),
    (lambda schema: users(schema).update(scope={"groups": [{"name": "Sales", "clauses": [
        {"operatorName": "EQUALS", "sourceOperandName": "costCenter", "targetOperand": {"values": ["1"]}}]}]}), "UnknownAttribute", "tests 'costCenter'"),
    (lambda schema: users(schema).update(scope={"groups": [{"name": "Sales", "clauses": [
        {"operatorName": "LIKE", "sourceOperandName": "department", "targetOperand": {"values": ["Sales"]}}]}]}), "UnknownFilterOperator", "'LIKE'"),
])
def test_problems_are_named(change, code, fragment):
    schema = scim_schema()
    change(schema)
    found = problems(schema)
    assert [item[0] for item in found] == [code], found
    assert fragment in found[0][1]


def test_valid_changes_pass():
    schema = add_mapping(scim_schema(), "nickName", None)
    schema["directories"][1]["objects"][0]["attributes"].append({"name": "nickName", "type": "String"})
    users(schema)["attributeMappings"][-1].update(defaultValue="none")
    users(schema)["attributeMappings"][2].update(source=expressions.to_source(expressions.parse('Join(" ", [givenName], [surname])')))
    users(schema).update(scope={"groups": [{"name": "Sales", "clauses": [
        {"operatorName": "equals", "sourceOperandName": "Department", "targetOperand": {"values": ["Sales"]}},
        {"operatorName": "Greater_Than", "sourceOperandName": "employeeId", "targetOperand": {"values": ["1000"]}}]}]})
    assert problems(schema) == []


def test_disabled_object_mappings_are_not_checked():
    # The published Salesforce schema carries disabled placeholders with an empty sourceObjectName.
    schema = scim_schema()
    mapping = users(schema)
    mapping.update(enabled=False, sourceObjectName="")
    mapping["attributeMappings"][2].update(source=None)
    assert problems(schema) == []
