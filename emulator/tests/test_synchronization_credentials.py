"""The emulator's synchronization routes (continued): secrets, validateCredentials, provisionOnDemand, application
templates, permissions, hooks and seeding. The fixtures and helpers are in synchronization_world.py and conftest.py."""

import json
import time
import uuid

import pytest

from entra_graph_emulator import seeding
from entra_graph_emulator import synchronization

from synchronization_world import (
    CROSS_TENANT,
    EXECUTION_FIELDS,
    GOOD_SCIM,
    JOB_ID,
    NEVER,
    OWNED_BY,
    READER,
    SALESFORCE,
    STATUS_FIELDS,
    configured_job,
    new_job,
    read_job,
    shared_example,
    sync,
)


# -- secrets (secrets PUT and secret pair in docs/synchronization.md#sources) -------------------------------------------------------------

def test_put_secrets_replaces_the_whole_set(graph):
    sp_id = graph.instantiate()
    example = shared_example("secrets-put.request.json")
    assert graph.put(sync(sp_id, "/secrets"), example).status == 204
    keys = [pair["key"] for pair in graph.get(sync(sp_id, "/secrets")).body["value"]]
    assert keys == ["BaseAddress", "SecretToken", "SyncNotificationSettings", "SyncAll"]
    reply = graph.put(sync(sp_id, "/secrets"), {"value": [{"key": "SyncAll", "value": "true"}]})
    assert reply.status == 204 and reply.raw == b""
    assert graph.get(sync(sp_id, "/secrets")).body["value"] == [{"key": "SyncAll", "value": "true"}]


def test_empty_value_removes_a_key(graph):
    sp_id = graph.instantiate()
    graph.put(sync(sp_id, "/secrets"), {"value": GOOD_SCIM})
    graph.put(sync(sp_id, "/secrets"), {"value": GOOD_SCIM[:1] + [{"key": "SecretToken", "value": ""}]})
    assert [pair["key"] for pair in graph.get(sync(sp_id, "/secrets")).body["value"]] == ["BaseAddress"]


def test_secrets_read_back_masked(graph):
    sp_id = graph.instantiate()
    graph.put(sync(sp_id, "/secrets"), {"value": GOOD_SCIM + [{"key": "Password", "value": "p"}, {"key": "UserName", "value": "admin"},
                                                              {"key": "ClientSecret", "value": "c"}]})
    reply = graph.get(sync(sp_id, "/secrets"))
    assert reply.status == 200
    assert reply.body["@odata.context"].endswith("$metadata#servicePrincipals('%s')/synchronization/secrets" % sp_id)
    values = {pair["key"]: pair["value"] for pair in reply.body["value"]}
    assert values == {"BaseAddress": "https://scim.contoso.test/scim/v2", "SecretToken": "*", "Password": "*", "UserName": "admin",
                      "ClientSecret": "*"}


def test_configuration_fields_flagged_secret_are_masked(graph):
    sp_id, app_id = graph.instantiate_pair()
    metadata = [{"key": "ConfigurationFields", "value": '[{"name":"appkey","secret":true}]'}]
    reply = graph.post("/applications/%s/synchronization/templates" % app_id, {"id": "withAppKey", "factoryTag": "CustomSCIM", "metadata": metadata})
    assert reply.status == 201
    graph.put(sync(sp_id, "/secrets"), {"value": [{"key": "AppKey", "value": "k"}, {"key": "Domain", "value": "contoso.com"}]})
    assert {pair["key"]: pair["value"] for pair in graph.get(sync(sp_id, "/secrets")).body["value"]} == {"AppKey": "*", "Domain": "contoso.com"}


@pytest.mark.parametrize("body, needle", [
    ({"value": [{"key": "baseAddress", "value": "https://x"}]}, "baseAddress"),
    ({"value": [{"key": "CredentialLocationInRequest", "value": "Header"}]}, "CredentialLocationInRequest"),
    ({"credentials": GOOD_SCIM}, "credentials"),
    ({"value": {"key": "SyncAll", "value": "true"}}, "value"),
    ({"value": [{"key": "SyncAll", "value": True}]}, "value[0].value"),
    ({"value": [{"value": "x"}]}, "key"),
    ({}, "value"),
])
def test_put_secrets_rejects_bad_bodies(graph, body, needle):
    sp_id = graph.instantiate()
    graph.put(sync(sp_id, "/secrets"), {"value": GOOD_SCIM})
    reply = graph.put(sync(sp_id, "/secrets"), body)
    assert reply.status == 400 and needle in reply.message
    assert "token-1" not in json.dumps(reply.body)
    # Nothing was replaced.
    assert len(graph.get(sync(sp_id, "/secrets")).body["value"]) == 2


def test_acquire_access_token_answers_204(graph):
    sp_id = graph.instantiate()
    reply = graph.post(sync(sp_id, "/acquireAccessToken"), shared_example("synchronization-acquireaccesstoken.request.json"))
    assert reply.status == 204 and reply.raw == b""
    assert graph.post(sync(sp_id, "/acquireAccessToken"), {"tokens": []}).status == 400


# -- validateCredentials ------------------------------------------------------------------------

def test_validate_credentials_success_is_204(graph):
    sp_id, job_id = configured_job(graph)
    reply = graph.post(sync(sp_id, "/jobs/%s/validateCredentials" % job_id), {"credentials": GOOD_SCIM})
    assert reply.status == 204 and reply.raw == b""
    assert graph.post(sync(sp_id, "/jobs/%s/validateCredentials" % job_id), {"useSavedCredentials": True}).status == 204


def test_validate_credentials_failure_shape(graph):
    sp_id, job_id = configured_job(graph)
    reply = graph.post(sync(sp_id, "/jobs/%s/validateCredentials" % job_id), shared_example("job-validatecredentials.request.json"))
    assert reply.status == 400
    assert reply.error_code == "CredentialValidationUnavailable"
    detail = reply.body["error"]["details"][0]
    assert detail["code"] == "SystemForCrossDomainIdentityManagementInvalidCredentials" and detail["target"] == "BaseAddress"
    assert "password-value" not in json.dumps(reply.body)


def test_use_saved_credentials_validates_the_saved_ones(graph):
    sp_id, job_id = configured_job(graph, secrets=[{"key": "BaseAddress", "value": "https://scim.contoso.test"}])
    reply = graph.post(sync(sp_id, "/jobs/%s/validateCredentials" % job_id), {"useSavedCredentials": True, "credentials": GOOD_SCIM})
    assert reply.status == 400 and reply.body["error"]["details"][0]["target"] == "SecretToken"


def test_registered_scim_target_checks_the_token(graph):
    reply = graph.control("POST", "/synchronization/scimTargets", {"base_address": "https://scim.contoso.test/", "secret_token": "right"})
    assert reply.status == 201
    sp_id, job_id = configured_job(graph)
    path = sync(sp_id, "/jobs/%s" % job_id)
    wrong = graph.post(path + "/validateCredentials", {"credentials": GOOD_SCIM})
    assert wrong.status == 400
    assert wrong.body["error"]["details"][0]["code"] == "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"
    assert "Unauthorized (401)" in wrong.message
    right = [GOOD_SCIM[0], {"key": "SecretToken", "value": "right"}]
    assert graph.post(path + "/validateCredentials", {"credentials": right}).status == 204
    # The job's cycles use the same target: the saved "token-1" is rejected.
    graph.post(path + "/start")
    graph.advance(graph.cycle)
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "Quarantine"
    graph.put(sync(sp_id, "/secrets"), {"value": right})
    graph.advance(graph.cycle)
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "Active"
    assert graph.control("GET", "/synchronization/scimTargets").body["value"][0]["base_address"] == "https://scim.contoso.test"
    assert graph.control("DELETE", "/synchronization/scimTargets").status == 204
    assert graph.control("POST", "/synchronization/scimTargets", {"baseAddress": "http://plain"}).status == 400


def test_unknown_credential_key_is_an_internal_error(graph):
    sp_id, job_id = configured_job(graph)
    reply = graph.post(sync(sp_id, "/jobs/%s/validateCredentials" % job_id), {"credentials": [{"key": "CredentialLocationInRequest", "value": "x"}]})
    assert reply.status == 500 and reply.error_code == "InternalError"
    assert reply.message == "Requested value 'CredentialLocationInRequest' was not found."


def test_collection_bound_validate_credentials(graph):
    sp_id = graph.instantiate(CROSS_TENANT, "Fabrikam")
    body = shared_example("jobs-validatecredentials.request.json")
    body["credentials"][0]["value"] = str(uuid.uuid4())
    reply = graph.post(sync(sp_id, "/jobs/validateCredentials"), body)
    assert reply.status == 204 and reply.raw == b""
    body["credentials"][0]["value"] = "{targetTenantId}"
    assert graph.post(sync(sp_id, "/jobs/validateCredentials"), body).error_code == "CredentialValidationUnavailable"
    missing = graph.post(sync(sp_id, "/jobs/validateCredentials"), {"credentials": body["credentials"]})
    assert missing.status == 400 and missing.error_code == "RequestMissingRequiredParameter"
    assert graph.post(sync(sp_id, "/jobs/validateCredentials"), dict(body, templateId="scim")).error_code == "invalidRequest"


# -- provisionOnDemand -------------------------------------------------------------------------

def test_provision_on_demand_answers_200_with_json_strings(graph):
    sp_id, job_id = configured_job(graph)
    body = shared_example("job-provisionondemand.request.json")
    reply = graph.post(sync(sp_id, "/jobs/%s/provisionOnDemand" % job_id), body)
    assert reply.status == 200
    assert reply.body["@odata.context"].endswith("$metadata#microsoft.graph.stringKeyStringValuePair")
    assert json.loads(reply.body["key"]) == {"result": "Success", "details": {}}
    value = json.loads(reply.body["value"])
    assert value["targetSystem"]["name"] == "customappsso"
    assert value["targetIdentity"]["type"] == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert [step["type"] for step in value["provisioningSteps"]] == ["Import", "Matching", "Scoping", "Export"]
    again = graph.post(sync(sp_id, "/jobs/%s/provisionOnDemand" % job_id), body)
    assert json.loads(again.body["key"])["details"]["errorCode"] == "RedundantExport"
    assert json.loads(again.body["value"])["provisioningSteps"][-1]["details"] == {"SkipReason": "RedundantExport"}


def test_provision_on_demand_is_rate_limited(graph):
    sp_id, job_id = configured_job(graph)
    body = shared_example("job-provisionondemand.request.json")
    statuses = [graph.post(sync(sp_id, "/jobs/%s/provisionOnDemand" % job_id), body).status for _index in range(5)]
    assert statuses == [200] * 5
    throttled = graph.post(sync(sp_id, "/jobs/%s/provisionOnDemand" % job_id), body)
    assert throttled.status == 429 and throttled.error_code == "TooManyRequests"
    # The documented throttling body (error-throttled.response.json).
    assert throttled.message == "Please retry again later." and throttled.body["error"]["innerError"]["status"] == "429"
    assert 0 < float(throttled.headers["Retry-After"]) <= 10
    # Another calling app has its own budget.
    assert graph.post(sync(sp_id, "/jobs/%s/provisionOnDemand" % job_id), body, appid="other-app").status == 200
    service = synchronization.service(graph.store)
    service.monotonic = lambda: time.monotonic() + 11
    assert graph.post(sync(sp_id, "/jobs/%s/provisionOnDemand" % job_id), body).status == 200


def test_provision_on_demand_checks_rule_and_credentials(graph):
    sp_id, job_id = configured_job(graph, secrets=[{"key": "BaseAddress", "value": "ftp://nowhere"}])
    path = sync(sp_id, "/jobs/%s/provisionOnDemand" % job_id)
    body = shared_example("job-provisionondemand.request.json")
    failure = graph.post(path, body)
    assert failure.status == 200 and json.loads(failure.body["key"])["result"] == "Failure"
    unknown_rule = json.loads(json.dumps(body))
    unknown_rule["parameters"][0]["ruleId"] = "nope"
    assert graph.post(path, unknown_rule).status == 400
    assert graph.post(path, {"parameters": []}).status == 400
    assert graph.post(path, {"parameters": [{"ruleId": "x", "subjects": [{"objectId": "1", "kind": "User"}]}]}).status == 400


# -- application templates: update and create (documented, not used by the collection) ---------------------------------------

def test_template_update_erases_missing_properties(graph):
    sp_id, app_id = graph.instantiate_pair()
    body = shared_example("template-update.request.json")
    body.update({"id": "scim", "applicationId": str(uuid.uuid4())})
    path = "/applications/%s/synchronization/templates/scim" % app_id
    assert graph.put(path, body).status == 204
    template = graph.get(sync(sp_id, "/templates/scim")).body
    assert template["factoryTag"] == "CustomSCIM" and template["metadata"] == [] and template["default"] is False
    assert template["schema"]["synchronizationRules"]
    assert graph.call("PATCH", path, {"id": "scim", "factoryTag": "Other"}).status == 204
    assert graph.put(path, {"bogus": 1}).status == 400


def test_create_template_on_the_application(graph):
    sp_id, app_id = graph.instantiate_pair()
    reply = graph.post("/applications/%s/synchronization/templates" % app_id, {"id": "SCIM-Test1", "factoryTag": "CustomSCIM"})
    assert reply.status == 201 and reply.body["id"] == "SCIM-Test1"
    assert reply.body["schema"]["synchronizationRules"]
    assert new_job(graph, sp_id, "SCIM-Test1")["id"].startswith("SCIM-Test1.")
    assert graph.post("/applications/%s/synchronization/templates" % app_id, {"id": "SCIM-Test1"}).status == 409


# -- permissions ---------------------------------------------------------------------------------

def test_permissions(graph):
    sp_id, job_id = configured_job(graph)
    job = sync(sp_id, "/jobs/%s" % job_id)
    assert graph.get(job, roles=READER).status == 200
    assert graph.get(sync(sp_id, "/secrets"), roles=READER).status == 200
    assert graph.get(job + "/schema", roles=READER).status == 200
    # Getting a schema also takes CustomSecAttributeProvisioning.Read.All; getting the job does not.
    assert graph.get(job + "/schema", roles=("CustomSecAttributeProvisioning.Read.All",)).status == 200
    assert graph.get(job, roles=("CustomSecAttributeProvisioning.Read.All",)).status == 403
    for method, path, body in (("POST", sync(sp_id, "/jobs"), {"templateId": "scim"}), ("POST", job + "/start", None),
                               ("DELETE", job, None), ("PUT", sync(sp_id, "/secrets"), {"value": []}),
                               ("PUT", job + "/schema", {"synchronizationRules": []}),
                               ("POST", job + "/validateCredentials", {"useSavedCredentials": True}),
                               # parseExpression's permission table lists write permissions only.
                               ("POST", job + "/schema/parseExpression", {"expression": "[mail]"})):
        reply = graph.call(method, path, body, roles=READER)
        assert reply.status == 403 and reply.error_code == "Authorization_RequestDenied", (method, path)
    assert graph.get(job, roles=()).status == 403
    assert graph.post(job + "/pause", roles=OWNED_BY).status == 204
    assert graph.put(job + "/schema", {"synchronizationRules": []}, roles=("CustomSecAttributeProvisioning.ReadWrite.All",)).status == 204
    pod = shared_example("job-provisionondemand.request.json")
    assert graph.post(job + "/provisionOnDemand", pod, roles=READER).status == 403
    assert graph.post(job + "/provisionOnDemand", pod, roles=OWNED_BY).status == 200


# -- hooks and seeding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("state, schedule, code", [
    ("not_configured", "Disabled", "NotConfigured"),
    ("paused_with_credentials", "Disabled", "Paused"),
    ("not_run", "Active", "NotRun"),
    ("active", "Active", "Active"),
    ("paused", "Paused", "Paused"),
    ("quarantine", "Active", "Quarantine"),
    ("failing", "Active", "Active"),
])
def test_seed_job_states(graph, state, schedule, code):
    sp_id = graph.instantiate()
    job_id = synchronization.seed_job(graph.store, sp_id, None, state)
    assert JOB_ID.match(job_id).group("template") == "scim"
    job = read_job(graph, sp_id, job_id)
    status = job["status"]
    assert (job["schedule"]["state"], status["code"]) == (schedule, code)
    assert set(status) == STATUS_FIELDS
    if state in ("active", "paused", "failing"):
        assert set(status["lastSuccessfulExecution"]) == EXECUTION_FIELDS
        assert status["steadyStateFirstAchievedTime"] < status["steadyStateLastAchievedTime"]
    if state == "failing":
        assert status["lastExecution"]["state"] == "EntryLevelErrors" and status["lastExecution"]["countEscrowed"] > 0
    if state == "quarantine":
        assert status["quarantine"]["reason"] == "EncounteredQuarantineException"
        assert status["quarantine"]["error"]["code"] == "SystemForCrossDomainIdentityManagementInvalidCredentials"
        graph.advance(graph.cycle * 3)
        assert read_job(graph, sp_id, job_id)["status"]["code"] == "Quarantine"
    if state == "not_run":
        assert status["lastExecution"]["timeBegan"] == NEVER and status["progress"]
    if state == "not_configured":
        assert graph.get(sync(sp_id, "/secrets")).body["value"] == []


def test_seed_job_through_the_control_api(graph):
    sp_id = graph.instantiate(SALESFORCE, "SF")
    reply = graph.control("POST", "/synchronization/servicePrincipals/%s/jobs" % sp_id, {"state": "quarantine"})
    assert reply.status == 201 and reply.body["templateId"] == "salesforce"
    assert reply.body["status"]["quarantine"]["error"]["code"] == "SalesforceInvalidCredentials"
    assert graph.control("POST", "/synchronization/servicePrincipals/%s/jobs" % sp_id, {"state": "sleeping"}).status == 400


def test_seed_and_read_two_thousand_jobs(graph):
    result = seeding.seed_service_principals(graph.emulator, 2000, 2000, seed=7, return_ids=True)
    assert sum(result["jobs_by_state"].values()) == 2000
    for sp_id in result["ids"]:
        reply = graph.get(sync(sp_id, "/jobs"))
        assert reply.status == 200 and len(reply.body["value"]) == 1


def test_service_principal_deletion_hook(graph):
    sp_id, job_id = configured_job(graph)
    synchronization.on_service_principal_deleted(graph.store, sp_id)
    assert sp_id not in graph.store.synchronization and job_id not in graph.store.created_at
