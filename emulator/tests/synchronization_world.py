"""What the synchronization route tests share: an in-process emulator driven through the real router and permission
checks (``Graph``), the ids of the templates it serves, and helpers that create and read jobs.

Names in brackets, like [restart], are public pages listed in docs/synchronization.md#sources.
"""

import json
import os
import re
import urllib.parse
import uuid


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
