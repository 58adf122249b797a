"""The schema routes (schema resource, schema update and parseExpression in docs/synchronization.md#sources): GET,
PUT with its checks, PATCH as the service answers it, DELETE, the schema change restarting the job's service, and
parseExpression, driven in-process like test_synchronization.py (whose helpers this module reuses)."""

import copy
import json
import os

import pytest

from entra_graph_emulator import expressions
from synchronization_world import DOC_TIME, SYNC_DATA, Graph, configured_job, new_job, read_job, shared_example, sync


@pytest.fixture(name="graph")
def graph_fixture(tmp_path):
    return Graph(str(tmp_path))


def scim_users(schema):
    return [mapping for mapping in schema["synchronizationRules"][0]["objectMappings"] if mapping["sourceObjectName"] == "User"][0]


def changed_schema(schema):
    """The schema with one more valid mapping: employeeId -> the enterprise extension's employeeNumber, by expression."""
    schema = copy.deepcopy(schema)
    schema.pop("@odata.context", None)
    users = scim_users(schema)
    users["attributeMappings"] = [item for item in users["attributeMappings"] if not item["targetAttributeName"].endswith(":employeeNumber")]
    users["attributeMappings"].append({
        "defaultValue": None, "exportMissingReferences": False, "flowBehavior": "FlowWhenChanged", "flowType": "Always", "matchingPriority": 0,
        "targetAttributeName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "source": expressions.to_source(expressions.parse('Join("-", "E", [employeeId])'))})
    return schema


def test_job_schema_get_put_delete(graph):
    sp_id, job_id = configured_job(graph)
    path = sync(sp_id, "/jobs/%s/schema" % job_id)
    original = graph.get(path).body
    assert original["id"] == job_id
    assert original["@odata.context"].endswith("/synchronization/jobs('%s')/schema/$entity" % job_id)
    template_rules = graph.get(sync(sp_id, "/templates/scim")).body["schema"]["synchronizationRules"]
    assert original["synchronizationRules"] == template_rules
    # GET then PUT back unchanged is accepted (every default schema is valid).
    assert graph.put(path, original).status == 204

    changed = changed_schema(original)
    reply = graph.put(path, changed)
    assert reply.status == 204 and reply.raw == b""
    replaced = graph.get(path).body
    assert replaced["synchronizationRules"] == changed["synchronizationRules"] and replaced["directories"] == changed["directories"]
    assert replaced["version"] != original["version"]

    # PUT replaces the whole schema: what is not sent is erased.
    assert graph.put(path, {"synchronizationRules": []}).status == 204
    assert graph.get(path).body["directories"] == []

    graph.put(path, changed)
    assert graph.delete(path).status == 204
    reset = graph.get(path).body
    assert reset["synchronizationRules"] == template_rules and reset["id"] == job_id
    # Other jobs on the same template keep the template's schema.
    other = new_job(graph, sp_id)["id"]
    assert graph.get(sync(sp_id, "/jobs/%s/schema" % other)).body["synchronizationRules"] == template_rules


def test_patch_answers_as_the_service_does(graph):
    sp_id, job_id = configured_job(graph)
    path = sync(sp_id, "/jobs/%s/schema" % job_id)
    original = graph.get(path).body
    reply = graph.call("PATCH", path, changed_schema(original))
    assert reply.status == 404 and reply.error_code == "UnknownError"
    assert json.loads(reply.message)["Message"].startswith("No HTTP resource was found that matches the request URI 'https://syncfabric.windowsazure.com/api")
    assert graph.get(path).body["version"] == original["version"]
    # The control API can make PATCH act as PUT, for code that cannot avoid the SDKs' generated PATCH.
    graph.control("PATCH", "/synchronization/settings", {"schema_patch": "accept"})
    assert graph.call("PATCH", path, changed_schema(original)).status == 204


@pytest.mark.parametrize("body, needle", [
    ({"synchronizationRules": [{"name": "R", "priority": "high"}]}, "synchronizationRules[0].priority"),
    ({"synchronizationRules": [{"objectMappings": [{"flowTypes": "Add, Teleport"}]}]}, "Teleport"),
    ({"rules": []}, "'rules'"),
    ({"directories": [{"objects": [{"attributes": [{"type": "Colour"}]}]}]}, "Colour"),
    ({"synchronizationRules": {}}, "synchronizationRules"),
])
def test_put_checks_the_shape(graph, body, needle):
    sp_id, job_id = configured_job(graph)
    reply = graph.put(sync(sp_id, "/jobs/%s/schema" % job_id), body)
    assert reply.status == 400 and needle in reply.message


def _edit_target(schema):
    scim_users(schema)["attributeMappings"][-1]["targetAttributeName"] = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"


def _edit_source(schema):
    scim_users(schema)["attributeMappings"][-1]["source"] = expressions.to_source(expressions.parse("ToUpper([costCenter])"))


def _duplicate(schema):
    scim_users(schema)["attributeMappings"].append(dict(scim_users(schema)["attributeMappings"][-1]))


def _no_source(schema):
    scim_users(schema)["attributeMappings"][-1]["source"] = None


@pytest.mark.parametrize("edit, code, needle", [
    (_edit_target, "UnknownAttribute", "costCenter', which is not an attribute of the target object"),
    (_edit_source, "UnknownAttribute", "[costCenter], which is not an attribute of the source object 'User'"),
    (_duplicate, "DuplicateTarget", "more than once"),
    (_no_source, "MissingSource", "no source and no defaultValue"),
])
def test_put_refuses_what_the_schema_cannot_mean_and_changes_nothing(graph, edit, code, needle):
    sp_id, job_id = configured_job(graph)
    path = sync(sp_id, "/jobs/%s/schema" % job_id)
    original = graph.get(path).body
    body = changed_schema(original)
    edit(body)
    reply = graph.put(path, body)
    assert reply.status == 400 and reply.error_code == "BadRequest" and needle in reply.message
    assert [detail["code"] for detail in reply.body["error"]["details"]] == [code]
    assert "Provision Microsoft Entra ID Users" in reply.body["error"]["details"][0]["target"]
    assert graph.get(path).body["version"] == original["version"]


def test_documented_schemas(graph):
    sp_id, job_id = configured_job(graph)
    with open(os.path.join(SYNC_DATA, "schema-full.salesforce.json"), encoding="utf-8") as handle:
        salesforce = json.load(handle)
    assert graph.put(sync(sp_id, "/jobs/%s/schema" % job_id), salesforce).status == 204
    # The docs' update and get examples are "shortened for readability": their Salesforce directory defines no objects.
    for name in ("schema-update.request.json", "schema-get.response.json"):
        reply = graph.put(sync(sp_id, "/jobs/%s/schema" % job_id), shared_example(name))
        assert reply.status == 400 and "UnknownObject" in [detail["code"] for detail in reply.body["error"]["details"]], name


def test_every_template_schema_can_be_put_back(graph):
    for application_template in ("8adf8e6e-67b2-4cf2-a259-e3dc5476c621", "21ed01d2-ec13-4e9e-86c1-cd546719ebc4", "cd3ed3de-93ee-400b-8b19-b61ef44a0f29"):
        sp_id = graph.instantiate(application_template)
        for template in graph.get(sync(sp_id, "/templates")).body["value"]:
            job_id = new_job(graph, sp_id, template["id"])["id"]
            schema = graph.get(sync(sp_id, "/jobs/%s/schema" % job_id)).body
            reply = graph.put(sync(sp_id, "/jobs/%s/schema" % job_id), schema)
            assert reply.status == 204, (template["id"], reply)


def test_a_schema_change_restarts_a_running_job_with_an_initial_cycle(graph):
    sp_id, job_id = configured_job(graph)
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    graph.advance(graph.cycle * 3)
    before = read_job(graph, sp_id, job_id)["status"]
    assert before["code"] == "Active"
    path = sync(sp_id, "/jobs/%s/schema" % job_id)
    assert graph.put(path, changed_schema(graph.get(path).body)).status == 204
    status = read_job(graph, sp_id, job_id)["status"]
    # "A new initial cycle is triggered because of a change in attribute mappings or scoping filters."
    assert status["code"] == "NotRun"
    graph.advance(graph.cycle)
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["code"] == "Active" and status["lastExecution"]["activityIdentifier"] != before["lastExecution"]["activityIdentifier"]
    # The cycle after the change is a full import: every entitled object imported again.
    assert status["lastExecution"]["countImported"] == status["lastExecution"]["countEntitled"] > 0
    # DELETE is a schema change too.
    assert graph.delete(path).status == 204
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "NotRun"


def test_a_schema_change_leaves_a_paused_job_paused(graph):
    sp_id, job_id = configured_job(graph)
    path = sync(sp_id, "/jobs/%s/schema" % job_id)
    assert graph.put(path, changed_schema(graph.get(path).body)).status == 204
    job = read_job(graph, sp_id, job_id)
    assert job["schedule"]["state"] == "Disabled" and job["status"]["code"] == "Paused"


def test_template_schema_is_updated_on_the_application_only(graph):
    sp_id, app_id = graph.instantiate_pair()
    template_schema = graph.get(sync(sp_id, "/templates/scim/schema")).body
    changed = changed_schema(template_schema)
    assert graph.put(sync(sp_id, "/templates/scim/schema"), changed).status == 405
    app_path = "/applications/%s/synchronization/templates/scim/schema" % app_id
    assert graph.put(app_path, changed).status == 204
    assert graph.get(sync(sp_id, "/templates/scim/schema")).body["synchronizationRules"] == changed["synchronizationRules"]
    # New jobs start from the updated template schema.
    job_id = new_job(graph, sp_id)["id"]
    assert graph.get(sync(sp_id, "/jobs/%s/schema" % job_id)).body["synchronizationRules"] == changed["synchronizationRules"]
    assert graph.call("PATCH", app_path, changed).status == 404
    assert graph.delete(app_path).status == 204
    assert graph.get(sync(sp_id, "/templates/scim/schema")).body["synchronizationRules"] == template_schema["synchronizationRules"]


def test_schema_helpers(graph):
    sp_id, job_id = configured_job(graph)
    schema = sync(sp_id, "/jobs/%s/schema" % job_id)
    functions = graph.get(schema + "/functions()").body["value"]
    assert len(functions) == 14 and functions[0]["name"] == "Append"
    assert [operator["name"] for operator in graph.get(schema + "/filterOperators()").body["value"]][:2] == ["EQUALS", "IS FALSE"]
    directories = graph.get(schema + "/directories").body["value"]
    assert [directory["name"] for directory in directories] == ["Microsoft Entra ID", "customappsso"]
    discovered = graph.post(schema + "/directories/%s/discover" % directories[1]["id"])
    assert discovered.status == 200 and DOC_TIME.match(discovered.body["discoveryDateTime"])
    assert graph.get(schema + "/directories/nope").status == 404


def test_parse_expression(graph):
    sp_id, job_id = configured_job(graph)
    path = sync(sp_id, "/jobs/%s/schema/parseExpression" % job_id)
    reply = graph.post(path, shared_example("schema-parseexpression.request.json"))
    assert reply.status == 200 and reply.body == shared_example("schema-parseexpression.response.json")
    broken = graph.post(path, {"expression": "Mid([x], 1)"}).body
    assert broken["parsingSucceeded"] is False and broken["parsedExpression"] is None
    assert broken["error"]["details"][0]["code"] == "ArgumentCountMismatch" and "position 1" in broken["error"]["message"]
    unknown = graph.post(path, {"expression": "Teleport([x])"}).body
    assert unknown["parsingSucceeded"] is False and unknown["error"]["details"][0] == {
        "code": "UnknownFunction", "message": unknown["error"]["message"], "target": "Teleport"}
    tested = graph.post(path, {"expression": 'Join("-", "E", [employeeId])', "testInputObject": {
        "definition": None, "properties": [{"key": "employeeId", "value": "1042"}]}}).body
    assert tested["evaluationSucceeded"] is True and tested["evaluationResult"] == ["E-1042"]
    # Now() reads the emulator's clock.
    graph.advance(86400 * 365)
    now = graph.post(path, {"expression": 'FormatDateTime(Now(), , "M/d/yyyy h:mm:ss tt", "yyyy")', "testInputObject": {"properties": []}}).body
    assert now["evaluationResult"] == [str(graph.store.clock.now().year)]
    assert graph.post(path, {"testInputObject": {"properties": []}}).status == 400
