"""The emulator's synchronization routes, driven in-process through the real router and permission checks.

Names in brackets, like [restart], are public pages listed in docs/synchronization.md#sources.

Each test builds its own emulator (no network): requests go through ``EmulatorServer.serve_graph``
with the token's claims, control calls through ``EmulatorServer.handle``. The HTTPS path is covered
in test_synchronization_https.py.
"""

import json
import os
import re
import time
import urllib.parse
import uuid

import pytest

from entra_graph_emulator import seeding
from entra_graph_emulator import synchronization
from entra_graph_emulator.framework import Headers
from entra_graph_emulator.framework import RequestContext
from entra_graph_emulator.server import EmulatorServer

SYNC_DATA = synchronization.DATA_DIR

NON_GALLERY = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
SALESFORCE = "cd3ed3de-93ee-400b-8b19-b61ef44a0f29"
AWS_SSO = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
AWS = "8b1025e4-1dd2-430b-a150-2ef79cd700f5"
DYNAMICS = "00000007-0000-0000-c000-000000000000"
CROSS_TENANT = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"

WRITER = ("Synchronization.ReadWrite.All",)
READER = ("Synchronization.Read.All",)
OWNED_BY = ("Application.ReadWrite.OwnedBy",)
HUGE_INTERVAL = "P10675199DT2H48M5.4775807S"
NEVER = "0001-01-01T00:00:00Z"
GOOD_SCIM = [{"key": "BaseAddress", "value": "https://scim.contoso.test/scim/v2"}, {"key": "SecretToken", "value": "token-1"}]
EXECUTION_FIELDS = {
    "activityIdentifier", "countEntitled", "countEntitledForProvisioning", "countEscrowed", "countEscrowedRaw", "countExported",
    "countExports", "countImported", "countImportedDeltas", "countImportedReferenceDeltas", "error", "state", "timeBegan", "timeEnded",
}
STATUS_FIELDS = {
    "code", "countSuccessiveCompleteFailures", "escrowsPruned", "lastExecution", "lastSuccessfulExecution",
    "lastSuccessfulExecutionWithExports", "progress", "quarantine", "steadyStateFirstAchievedTime", "steadyStateLastAchievedTime",
    "synchronizedEntryCountByType", "troubleshootingUrl",
}
JOB_ID = re.compile(r"^(?P<template>[A-Za-z0-9]+)\.[0-9a-f]{32}$")
DOC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def shared_example(name):
    """A documented example body (copied from the reference material into sync_data/examples, see its README)."""
    with open(os.path.join(SYNC_DATA, "examples", name), encoding="utf-8") as handle:
        return json.load(handle)


class Reply:
    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        payload, content_type = response.encode()
        self.raw = payload
        self.content_type = content_type
        self.body = json.loads(payload) if payload and content_type and "json" in content_type else None

    @property
    def error_code(self):
        return self.body["error"]["code"]

    @property
    def message(self):
        return self.body["error"]["message"]

    def __repr__(self):
        return "Reply(%s, %r)" % (self.status, self.body if self.body is not None else self.raw)


class Graph:
    """The emulator in-process: Graph calls with given roles, control calls, the clock."""

    def __init__(self, state_dir):
        self.emulator = EmulatorServer(state_dir=state_dir)
        self.emulator.url = "https://graph.emulator.test"
        self.emulator.seed_directory()
        self.store = self.emulator.store

    def call(self, method, path, body=None, roles=WRITER, version="v1.0", data=None, content_type="application/json", appid="test-app"):
        path, _separator, query = path.partition("?")
        if data is None:
            data = json.dumps(body).encode("utf-8") if body is not None else b""
        headers = Headers({"Content-Type": content_type} if data else {})
        context = RequestContext(self.emulator, self.emulator.url, str(uuid.uuid4()), None)
        claims = {"roles": list(roles), "appid": appid, "tid": self.emulator.tenant_id}
        return Reply(self.emulator.serve_graph(context, method, version, path, dict(urllib.parse.parse_qsl(query)), headers, data, "graph",
                                               claims=claims))

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.call("POST", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.call("PUT", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def control(self, method, path, body=None):
        data = json.dumps(body).encode("utf-8") if body is not None else b""
        headers = Headers({"Content-Type": "application/json"} if data else {})
        return Reply(self.emulator.handle(method, "/_emulator" + path, headers, data))

    def instantiate(self, application_template_id=NON_GALLERY, name="Contoso SCIM"):
        """A service principal (and its application) from an application template; returns the SP id."""
        return self.instantiate_pair(application_template_id, name)[0]

    def instantiate_pair(self, application_template_id=NON_GALLERY, name="Contoso SCIM"):
        """An application + service principal from an application template; returns (sp id, application object id)."""
        # The core's catalog holds the documented list items; cross-tenant synchronization's
        # template is only documented by its id (the cross-tenant synchronization guide), so tests add it.
        template = self.store.application_templates.setdefault(application_template_id, {
            "id": application_template_id, "displayName": "Cross-tenant synchronization", "supportedProvisioningTypes": ["sync"]})
        application, service_principal = seeding.create_application(self.emulator, template, name)
        return service_principal["id"], application["id"]

    def advance(self, seconds):
        self.store.clock.advance(seconds)

    @property
    def cycle(self):
        return self.store.settings.cycle_seconds


@pytest.fixture()
def graph(tmp_path):
    return Graph(str(tmp_path))


def sync(sp_id, suffix=""):
    return "/servicePrincipals/%s/synchronization%s" % (sp_id, suffix)


def new_job(graph, sp_id, template_id="scim"):
    reply = graph.post(sync(sp_id, "/jobs"), {"templateId": template_id})
    assert reply.status == 201, reply
    return reply.body


def configured_job(graph, template_id="scim", secrets=None, application_template_id=NON_GALLERY):
    sp_id = graph.instantiate(application_template_id)
    assert graph.put(sync(sp_id, "/secrets"), {"value": secrets or GOOD_SCIM}).status == 204
    return sp_id, new_job(graph, sp_id, template_id)["id"]


def read_job(graph, sp_id, job_id):
    reply = graph.get(sync(sp_id, "/jobs/%s" % job_id))
    assert reply.status == 200, reply
    return reply.body


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
