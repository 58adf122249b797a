"""The emulator's synchronization routes, driven in-process through the real router and permission checks.

Names in brackets, like [restart], are public pages listed in docs/synchronization.md#sources.

Each test builds its own emulator (no network): requests go through ``EmulatorServer.serve_graph``
with the token's claims, control calls through ``EmulatorServer.handle``. The HTTPS path is covered
in test_synchronization_https.py.
"""


import json
import uuid

import pytest


from synchronization_world import (
    AWS,
    AWS_SSO,
    CROSS_TENANT,
    DOC_TIME,
    DYNAMICS,
    EXECUTION_FIELDS,
    GOOD_SCIM,
    HUGE_INTERVAL,
    JOB_ID,
    NEVER,
    NON_GALLERY,
    SALESFORCE,
    STATUS_FIELDS,
    configured_job,
    new_job,
    read_job,
    shared_example,
    sync,
)


# -- templates (hooks) -------------------------------------------------------------------------

def test_non_gallery_application_gets_the_scim_templates(graph):
    sp_id = graph.instantiate(NON_GALLERY)
    reply = graph.get(sync(sp_id, "/templates"))
    assert reply.status == 200
    assert reply.body["@odata.context"].endswith("$metadata#servicePrincipals('%s')/synchronization/templates" % sp_id)
    templates = {template["id"]: template for template in reply.body["value"]}
    assert set(templates) == {"scim", "customappsso", "customappssoOutDelta", "customappssoRoleIn"}
    scim = templates["scim"]
    assert scim["factoryTag"] == "CustomSCIM" and scim["default"] is True
    assert [template["id"] for template in reply.body["value"] if template["default"]] == ["scim"]
    # The list includes each template's schema, with the template schema id form of the [AWS SSO walkthrough].
    assert scim["schema"]["id"] == "scim." + "0" * 32
    rule = scim["schema"]["synchronizationRules"][0]
    assert rule["targetDirectoryName"] == "customappsso"
    users = [mapping for mapping in rule["objectMappings"] if mapping["sourceObjectName"] == "User"][0]
    assert users["targetObjectName"] == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert len(users["attributeMappings"]) == 22
    fields = json.loads([entry["value"] for entry in scim["metadata"] if entry["key"] == "ConfigurationFields"][0])
    assert {"name": "secrettoken", "secret": True} in fields


@pytest.mark.parametrize("application_template_id, expected", [
    (SALESFORCE, ["salesforce"]),
    (AWS_SSO, ["aWSSingleSignon"]),
    (AWS, ["aws"]),
    (DYNAMICS, []),
])
def test_gallery_templates_map_to_their_sync_templates(graph, application_template_id, expected):
    sp_id = graph.instantiate(application_template_id, "App")
    assert [template["id"] for template in graph.get(sync(sp_id, "/templates")).body["value"]] == expected


def test_template_get_and_metadata_casing_per_version(graph):
    sp_id = graph.instantiate(AWS_SSO, "AWS")
    v1 = graph.get(sync(sp_id, "/templates/aWSSingleSignon"))
    assert v1.status == 200 and v1.body["@odata.context"].endswith("/synchronization/templates/$entity")
    assert v1.body["applicationId"] == AWS_SSO
    keys = [entry["key"] for entry in v1.body["metadata"]]
    assert "GalleryApplicationIdentifier" in keys and "ConfigurationFields" in keys and "AzureIngestionAttributeOptimization" in keys
    beta = graph.get(sync(sp_id, "/templates/aWSSingleSignon"), version="beta")
    beta_keys = [entry["key"] for entry in beta.body["metadata"]]
    assert "galleryApplicationIdentifier" in beta_keys and "configurationFields" in beta_keys
    assert graph.get(sync(sp_id, "/templates/nope")).status == 404


def test_generic_gallery_template_for_unknown_sync_application(graph):
    template = {"id": str(uuid.uuid4()), "displayName": "Contoso HR", "supportedProvisioningTypes": ["sync"]}
    graph.store.application_templates[template["id"]] = template
    sp_id = graph.instantiate(template["id"], "HR")
    templates = graph.get(sync(sp_id, "/templates")).body["value"]
    assert [item["id"] for item in templates] == ["contosoHr"]


def test_service_principal_without_the_hook_is_seeded_lazily(graph):
    sp_id = graph.instantiate(SALESFORCE, "SF")
    del graph.store.synchronization[sp_id]
    assert [item["id"] for item in graph.get(sync(sp_id, "/templates")).body["value"]] == ["salesforce"]


# -- create / list / get / delete ------------------------------------------------------------

def test_create_job_answers_201_with_a_disabled_never_run_job(graph):
    sp_id = graph.instantiate()
    reply = graph.post(sync(sp_id, "/jobs"), dict(shared_example("job-post.request.json"), templateId="scim"))
    assert reply.status == 201
    job = reply.body
    assert job["@odata.context"].endswith("$metadata#servicePrincipals('%s')/synchronization/jobs/$entity" % sp_id)
    assert JOB_ID.match(job["id"]).group("template") == "scim"
    assert job["templateId"] == "scim"
    assert job["schedule"] == {"expiration": None, "interval": HUGE_INTERVAL, "state": "Disabled"}
    status = job["status"]
    assert set(status) == STATUS_FIELDS
    assert status["code"] == "NotConfigured"
    assert status["countSuccessiveCompleteFailures"] == 0 and status["escrowsPruned"] is False
    assert status["steadyStateFirstAchievedTime"] == NEVER and status["steadyStateLastAchievedTime"] == NEVER
    assert status["lastExecution"] is None and status["quarantine"] is None
    assert status["progress"] == [] and status["synchronizedEntryCountByType"] == []
    assert job["synchronizationJobSettings"] == [{"name": "QuarantineTooManyDeletesThreshold", "value": "500"}]
    # Several jobs per SP, each with a fresh id.
    assert new_job(graph, sp_id)["id"] != job["id"]


def test_create_job_with_saved_credentials_is_paused(graph):
    sp_id, job_id = configured_job(graph)
    job = read_job(graph, sp_id, job_id)
    assert job["schedule"]["state"] == "Disabled" and job["status"]["code"] == "Paused"


def test_azure2azure_job_is_paused_with_its_interval_and_settings(graph):
    sp_id = graph.instantiate(CROSS_TENANT, "Fabrikam")
    job = graph.post(sync(sp_id, "/jobs"), shared_example("job-post.request.azure2azure.json")).body
    expected = shared_example("job-post.response.azure2azure.json")
    assert job["schedule"] == expected["schedule"]
    assert job["status"]["code"] == "Paused"
    assert job["synchronizationJobSettings"] == expected["synchronizationJobSettings"]


def test_customappsso_creates_a_customappsso_out_delta_job(graph):
    sp_id = graph.instantiate()
    job = new_job(graph, sp_id, "customappsso")
    assert job["templateId"] == "customappssoOutDelta"
    assert job["id"].startswith("customappssoOutDelta.")


@pytest.mark.parametrize("body, code, needle", [
    ({}, "BadRequest", "templateId"),
    ({"templateId": "nope"}, "invalidRequest", "nope"),
    ({"templateId": "scim", "color": "red"}, "BadRequest", "'color'"),
    ({"templateId": 5}, "BadRequest", "templateId"),
    ({"templateId": "scim", "synchronizationJobSettings": {"name": "x"}}, "BadRequest", "synchronizationJobSettings"),
    ({"templateId": "scim", "schedule": {"interval": "forty minutes"}}, "BadRequest", "schedule.interval"),
])
def test_create_job_checks_the_body(graph, body, code, needle):
    sp_id = graph.instantiate()
    graph.put(sync(sp_id, "/secrets"), {"value": [{"key": "SecretToken", "value": "very-secret-value"}]})
    reply = graph.post(sync(sp_id, "/jobs"), body)
    assert reply.status == 400, reply
    assert reply.error_code == code and needle in reply.message
    assert "very-secret-value" not in json.dumps(reply.body)


def test_create_job_rejects_bodies_that_are_not_json_objects(graph):
    sp_id = graph.instantiate()
    assert graph.post(sync(sp_id, "/jobs"), data=b"{not json").status == 400
    assert graph.post(sync(sp_id, "/jobs"), ["scim"]).status == 400
    assert graph.post(sync(sp_id, "/jobs")).status == 400
    assert graph.post(sync(sp_id, "/jobs"), data=b'{"templateId": "scim"}', content_type="text/plain").status == 400


def test_unknown_template_message_lists_templates(graph):
    sp_id = graph.instantiate()
    reply = graph.post(sync(sp_id, "/jobs"), {"templateId": "BoxOutDelta"})
    assert "scim" in reply.message and "customappsso" in reply.message


def test_list_and_get_jobs(graph):
    sp_id = graph.instantiate()
    first = new_job(graph, sp_id)["id"]
    second = new_job(graph, sp_id, "customappssoOutDelta")["id"]
    reply = graph.get(sync(sp_id, "/jobs"))
    assert reply.status == 200
    assert reply.body["@odata.context"].endswith("$metadata#servicePrincipals('%s')/synchronization/jobs" % sp_id)
    assert [job["id"] for job in reply.body["value"]] == [first, second]
    assert "@odata.nextLink" not in reply.body
    assert read_job(graph, sp_id, first)["id"] == first
    count = graph.get(sync(sp_id, "/jobs/$count"))
    assert count.status == 200 and count.raw == b"2"


def test_jobs_page_when_a_page_size_is_set(graph):
    sp_id = graph.instantiate()
    ids = [new_job(graph, sp_id)["id"] for _index in range(5)]
    assert graph.control("PATCH", "/synchronization/settings", {"page_size": 2}).status == 200
    seen = []
    url = sync(sp_id, "/jobs")
    pages = 0
    while url:
        reply = graph.get(url)
        assert reply.status == 200
        seen += [job["id"] for job in reply.body["value"]]
        url = reply.body.get("@odata.nextLink")
        if url:
            assert url.startswith("https://graph.emulator.test/v1.0/servicePrincipals/")
            url = url[len("https://graph.emulator.test/v1.0"):]
        pages += 1
    assert seen == ids and pages == 3
    top = graph.get(sync(sp_id, "/jobs?$top=1"))
    assert len(top.body["value"]) == 1 and "$top=1" in top.body["@odata.nextLink"]
    assert graph.get(sync(sp_id, "/jobs?$skiptoken=garbage")).status == 400


def test_delete_job_answers_204_then_404_and_keeps_secrets(graph):
    sp_id, job_id = configured_job(graph)
    reply = graph.delete(sync(sp_id, "/jobs/%s" % job_id))
    assert reply.status == 204 and reply.raw == b"" and reply.content_type is None
    assert graph.get(sync(sp_id, "/jobs/%s" % job_id)).status == 404
    assert graph.delete(sync(sp_id, "/jobs/%s" % job_id)).status == 404
    assert graph.get(sync(sp_id, "/jobs")).body["value"] == []
    # Deleting the job does not remove the SP's secrets.
    assert [pair["key"] for pair in graph.get(sync(sp_id, "/secrets")).body["value"]] == ["BaseAddress", "SecretToken"]


def test_unknown_service_principal_and_job_are_404(graph):
    sp_id = graph.instantiate()
    reply = graph.get(sync(str(uuid.uuid4()), "/jobs"))
    assert reply.status == 404 and reply.error_code == "Request_ResourceNotFound"
    assert graph.post(sync(sp_id, "/jobs/scim.%s/start" % ("0" * 32))).status == 404


def test_new_jobs_replicate_before_they_can_be_read(graph):
    sp_id = graph.instantiate()
    graph.advance(60)
    graph.store.settings.replication_delay_seconds = 10
    job_id = new_job(graph, sp_id)["id"]
    assert graph.get(sync(sp_id, "/jobs/%s" % job_id)).status == 404
    assert graph.get(sync(sp_id, "/jobs")).body["value"] == []
    graph.advance(11)
    assert graph.get(sync(sp_id, "/jobs/%s" % job_id)).status == 200
    assert len(graph.get(sync(sp_id, "/jobs")).body["value"]) == 1


def test_application_routes_share_the_service_principal_state(graph):
    sp_id, app_id = graph.instantiate_pair()
    job_id = new_job(graph, sp_id)["id"]
    reply = graph.get("/applications/%s/synchronization/jobs" % app_id)
    assert reply.status == 200 and [job["id"] for job in reply.body["value"]] == [job_id]
    assert reply.body["@odata.context"].endswith("$metadata#applications('%s')/synchronization/jobs" % app_id)
    assert graph.post("/applications/%s/synchronization/jobs/%s/start" % (app_id, job_id)).status == 204
    assert read_job(graph, sp_id, job_id)["schedule"]["state"] == "Active"


# -- start / pause / restart and the simulated cycles --------------------------------------

def test_start_and_pause_answer_204_with_an_empty_body(graph):
    sp_id, job_id = configured_job(graph)
    for action in ("start", "pause"):
        reply = graph.post(sync(sp_id, "/jobs/%s/%s" % (job_id, action)))
        assert reply.status == 204 and reply.raw == b"" and reply.content_type is None


def test_start_runs_not_run_then_active_with_every_counter(graph):
    sp_id, job_id = configured_job(graph)
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    job = read_job(graph, sp_id, job_id)
    assert job["schedule"]["state"] == "Active" and job["status"]["code"] == "NotRun"
    placeholder = job["status"]["lastExecution"]
    # The placeholder lastExecution of a job just started.
    assert placeholder["state"] == "Failed" and placeholder["timeBegan"] == NEVER and placeholder["timeEnded"] == NEVER
    assert placeholder["error"] == {"code": "None", "message": "", "tenantActionable": False}
    assert job["status"]["lastSuccessfulExecution"] is None

    graph.advance(graph.cycle)
    job = read_job(graph, sp_id, job_id)
    status = job["status"]
    assert status["code"] == "Active" and job["schedule"] == {"expiration": None, "interval": "PT40M", "state": "Active"}
    for name in ("lastExecution", "lastSuccessfulExecution", "lastSuccessfulExecutionWithExports"):
        execution = status[name]
        assert set(execution) == EXECUTION_FIELDS, name
        assert execution["state"] == "Succeeded" and execution["error"] is None
        assert DOC_TIME.match(execution["timeBegan"]) and DOC_TIME.match(execution["timeEnded"])
        assert execution["timeBegan"] < execution["timeEnded"]
        assert all(isinstance(execution[field], int) for field in EXECUTION_FIELDS if field.startswith("count"))
    first = status["lastExecution"]
    assert first["countImported"] == first["countEntitled"] > 0 and first["countExported"] > 0
    assert uuid.UUID(first["activityIdentifier"])
    assert status["steadyStateFirstAchievedTime"] == status["steadyStateLastAchievedTime"] == first["timeEnded"]
    assert status["progress"][0]["completedUnits"] == status["progress"][0]["totalUnits"] == first["countImported"]
    counts = {pair["key"]: pair["value"] for pair in status["synchronizedEntryCountByType"]}
    assert sum(counts.values()) == first["countEntitled"]

    graph.advance(graph.cycle * 5)
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["lastExecution"]["activityIdentifier"] != first["activityIdentifier"]
    assert status["lastExecution"]["countImportedDeltas"] == status["lastExecution"]["countImported"]
    assert status["steadyStateFirstAchievedTime"] == first["timeEnded"]
    assert status["steadyStateLastAchievedTime"] > first["timeEnded"]
    assert status["lastSuccessfulExecutionWithExports"]["countExports"] > 0


def test_pause_and_resume(graph):
    sp_id, job_id = configured_job(graph)
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    graph.advance(graph.cycle)
    graph.post(sync(sp_id, "/jobs/%s/pause" % job_id))
    job = read_job(graph, sp_id, job_id)
    assert job["schedule"]["state"] == "Paused" and job["status"]["code"] == "Paused"
    before = job["status"]["lastExecution"]
    graph.advance(graph.cycle * 3)
    assert read_job(graph, sp_id, job_id)["status"]["lastExecution"] == before
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    job = read_job(graph, sp_id, job_id)
    # Progress is kept: a resumed job that completed a cycle is Active at once ([start, pause, restart] in docs/synchronization.md#sources).
    assert job["schedule"]["state"] == "Active" and job["status"]["code"] == "Active"


def test_start_on_a_running_job_changes_nothing(graph):
    sp_id, job_id = configured_job(graph)
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    graph.advance(graph.cycle)
    before = read_job(graph, sp_id, job_id)
    assert graph.post(sync(sp_id, "/jobs/%s/start" % job_id)).status == 204
    assert read_job(graph, sp_id, job_id)["status"] == before["status"]


def quarantined_job(graph, secrets=None):
    sp_id, job_id = configured_job(graph, secrets=secrets or [{"key": "BaseAddress", "value": "http://scim.contoso.test"},
                                                              {"key": "SecretToken", "value": "t"}])
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    graph.advance(graph.cycle)
    return sp_id, job_id


def test_bad_credentials_quarantine_the_job(graph):
    sp_id, job_id = quarantined_job(graph)
    job = read_job(graph, sp_id, job_id)
    status = job["status"]
    assert status["code"] == "Quarantine" and job["schedule"]["state"] == "Active"
    quarantine = status["quarantine"]
    assert quarantine["reason"] == "EncounteredQuarantineException"
    assert quarantine["error"] == {"code": "SystemForCrossDomainIdentityManagementInvalidCredentials",
                                   "message": "Please provide a valid tenant URL for your application.", "tenantActionable": True}
    assert quarantine["seriesCount"] == 1 and quarantine["seriesBegan"] == quarantine["currentBegan"]
    assert all(DOC_TIME.match(quarantine[name]) for name in ("currentBegan", "nextAttempt", "seriesBegan"))
    assert status["countSuccessiveCompleteFailures"] == 1
    assert status["lastExecution"]["state"] == "Failed" and status["lastExecution"]["error"] == quarantine["error"]
    assert set(status["lastExecution"]) == EXECUTION_FIELDS
    assert status["lastSuccessfulExecution"] is None
    # Retries keep failing, less often (quarantine in docs/synchronization.md#sources).
    graph.advance(graph.cycle)
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["quarantine"]["seriesCount"] > 1
    assert status["countSuccessiveCompleteFailures"] == status["quarantine"]["seriesCount"]
    assert status["quarantine"]["seriesBegan"] == quarantine["seriesBegan"]


def test_fixing_credentials_lets_the_next_attempt_leave_quarantine(graph):
    sp_id, job_id = quarantined_job(graph)
    assert graph.put(sync(sp_id, "/secrets"), {"value": GOOD_SCIM}).status == 204
    graph.advance(graph.cycle)
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["code"] == "Active" and status["quarantine"] is None and status["countSuccessiveCompleteFailures"] == 0


def test_start_clears_quarantine(graph):
    sp_id, job_id = quarantined_job(graph)
    assert graph.post(sync(sp_id, "/jobs/%s/start" % job_id)).status == 204
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["quarantine"] is None and status["code"] == "NotRun"
    # The credentials are still wrong: the next cycle quarantines it again.
    graph.advance(graph.cycle)
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "Quarantine"


def test_quarantine_over_four_weeks_disables_the_job(graph):
    sp_id, job_id = quarantined_job(graph)
    graph.advance(29 * 86400)
    job = read_job(graph, sp_id, job_id)
    assert job["schedule"]["state"] == "Disabled" and job["status"]["code"] == "Quarantine"
    assert job["status"]["quarantine"]["nextAttempt"] == NEVER


def test_restart_with_the_documented_body(graph):
    sp_id, job_id = quarantined_job(graph)
    body = shared_example("job-restart.request.json")
    reply = graph.post(sync(sp_id, "/jobs/%s/restart" % job_id), body)
    assert reply.status == 204 and reply.raw == b""
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["quarantine"] is None and status["code"] == "NotRun"


@pytest.mark.parametrize("body", [None, {}, {"criteria": None}, {"criteria": {}}, {"criteria": {"resetScope": ""}}])
def test_restart_without_criteria_is_the_portal_restart(graph, body):
    sp_id, job_id = quarantined_job(graph)
    assert graph.post(sync(sp_id, "/jobs/%s/restart" % job_id), body).status == 204
    assert read_job(graph, sp_id, job_id)["status"]["quarantine"] is None


@pytest.mark.parametrize("body, needle", [
    ({"criteria": {"resetScope": "Watermark, Bogus"}}, "Bogus"),
    ({"criteria": {"resetScope": "watermark"}}, "watermark"),
    ({"criteria": {"resetScope": ["Watermark"]}}, "resetScope"),
    ({"scope": "Full"}, "'scope'"),
])
def test_restart_rejects_unknown_scopes_and_parameters(graph, body, needle):
    sp_id, job_id = configured_job(graph)
    reply = graph.post(sync(sp_id, "/jobs/%s/restart" % job_id), body)
    assert reply.status == 400 and needle in reply.message


def test_restart_scopes(graph):
    sp_id, job_id = configured_job(graph)
    path = sync(sp_id, "/jobs/%s" % job_id)
    graph.post(path + "/start")
    graph.advance(graph.cycle)
    assert graph.control("POST", "/synchronization/servicePrincipals/%s/jobs/%s/escrows" % (sp_id, job_id), {"count": 3}).status == 204
    graph.advance(graph.cycle)
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["lastExecution"]["state"] == "EntryLevelErrors" and status["lastExecution"]["countEscrowed"] == 3

    # QuarantineState alone keeps the watermark (still Active) and the escrows.
    graph.post(path + "/restart", {"criteria": {"resetScope": "QuarantineState"}})
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "Active"
    graph.advance(graph.cycle)
    assert read_job(graph, sp_id, job_id)["status"]["lastExecution"]["countEscrowed"] == 3

    # Escrows clears them.
    graph.post(path + "/restart", {"criteria": {"resetScope": "Escrows"}})
    graph.advance(graph.cycle)
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["lastExecution"]["state"] == "Succeeded" and status["lastExecution"]["countEscrowed"] == 0
    assert status["escrowsPruned"] is True

    # Watermark re-imports everything: NotRun until the full cycle completes.
    graph.post(path + "/restart", {"criteria": {"resetScope": "Watermark"}})
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "NotRun"
    graph.advance(graph.cycle)
    execution = read_job(graph, sp_id, job_id)["status"]["lastExecution"]
    assert execution["countImported"] == execution["countEntitled"] and execution["countImportedDeltas"] == 0
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "Active"


def test_restart_force_deletes_lifts_a_too_many_deletes_quarantine(graph):
    sp_id, job_id = configured_job(graph)
    path = sync(sp_id, "/jobs/%s" % job_id)
    graph.post(path + "/start")
    graph.control("POST", "/synchronization/servicePrincipals/%s/jobs/%s/quarantine" % (sp_id, job_id), {"reason": "TooManyDeletes"})
    assert read_job(graph, sp_id, job_id)["status"]["quarantine"]["reason"] == "TooManyDeletes"
    graph.post(path + "/restart", {"criteria": {"resetScope": "Watermark"}})
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "Quarantine"
    graph.post(path + "/restart", {"criteria": {"resetScope": "ForceDeletes"}})
    assert read_job(graph, sp_id, job_id)["status"]["quarantine"] is None


def test_control_quarantine_persists_until_start(graph):
    sp_id, job_id = configured_job(graph)
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    graph.advance(graph.cycle)
    assert graph.control("POST", "/synchronization/servicePrincipals/%s/jobs/%s/quarantine" % (sp_id, job_id), {}).status == 204
    graph.advance(graph.cycle * 3)
    status = read_job(graph, sp_id, job_id)["status"]
    assert status["code"] == "Quarantine" and status["quarantine"]["reason"] == "QuarantinedOnDemand"
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    graph.advance(graph.cycle)
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "Active"
    assert graph.control("POST", "/synchronization/servicePrincipals/%s/jobs/%s/quarantine" % (sp_id, job_id),
                         {"reason": "Sleepy"}).status == 400
