"""Directory, application templates, instantiate, $batch and seeding."""

import json
import os

import pytest

from entra_graph_emulator.objects import DATA_DIR
from entra_graph_emulator.objects import NON_GALLERY_TEMPLATE_ID
from entra_graph_emulator.seeding import seed_service_principals

SALESFORCE = "cd3ed3de-93ee-400b-8b19-b61ef44a0f29"
AWS_SSO = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"


def instantiate(client, template_id=SALESFORCE, name="Contoso Salesforce", **extra):
    response = client.post("/applicationTemplates/%s/instantiate" % template_id, json=dict({"displayName": name}, **extra))
    assert response.status_code == 201, response.text
    return response.json()


def scan(client, url):
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["value"])
        url = body.get("@odata.nextLink")
    return pages


# -- application templates -------------------------------------------------------------

def test_template_catalog_from_docs_plus_non_gallery(demo_client, no_roles_client):
    body = no_roles_client.get("/applicationTemplates").json()
    ids = {item["id"] for item in body["value"]}
    assert {SALESFORCE, AWS_SSO, "8b1025e4-1dd2-430b-a150-2ef79cd700f5", "00000007-0000-0000-c000-000000000000", NON_GALLERY_TEMPLATE_ID} <= ids
    assert body["@odata.context"].endswith("/v1.0/$metadata#applicationTemplates")
    with open(os.path.join(DATA_DIR, "applicationtemplates-list.response.salesforce.json"), encoding="utf-8") as handle:
        documented = json.load(handle)["value"][0]
    assert demo_client.get("/applicationTemplates/" + SALESFORCE).json()["displayName"] == documented["displayName"]


@pytest.mark.parametrize("expression, expected", [
    ("displayName eq 'AWS Single-Account Access'", ["AWS Single-Account Access"]),
    ("startswith(displayName,'aws')", ["AWS Single Sign-on", "AWS Single-Account Access"]),
    ("contains(displayName,'salesf')", ["Salesforce"]),
    ("categories/any(c:c eq 'crm')", ["Dynamics CRM Online", "Salesforce"]),
])
def test_template_filters(demo_client, expression, expected):
    body = demo_client.get("/applicationTemplates", params={"$filter": expression, "$orderby": "displayName"}).json()
    assert [item["displayName"] for item in body["value"]] == expected


def test_template_filter_on_other_property_is_rejected(demo_client):
    response = demo_client.get("/applicationTemplates", params={"$filter": "publisher eq 'Amazon'"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_template_top_pages(demo_client):
    pages = scan(demo_client, demo_client.base + "/applicationTemplates?$top=2")
    assert [len(page) for page in pages] == [2, 2, 1]


# -- instantiate ---------------------------------------------------------------------

def test_instantiate_creates_application_and_service_principal(demo_client, emulator):
    result = instantiate(demo_client, AWS_SSO, "AWS Contoso")
    assert result["@odata.context"].endswith("$metadata#microsoft.graph.applicationServicePrincipal")
    application, service_principal = result["application"], result["servicePrincipal"]
    assert application["applicationTemplateId"] == service_principal["applicationTemplateId"] == AWS_SSO
    assert application["appId"] == service_principal["appId"]
    assert application["displayName"] == service_principal["displayName"] == "AWS Contoso"
    assert service_principal["tags"] == ["WindowsAzureActiveDirectoryIntegratedApp"]
    assert service_principal["appOwnerOrganizationId"] == emulator.tenant_id
    assert "objectId" not in application
    with open(os.path.join(DATA_DIR, "applicationtemplate-instantiate.response.aws-sso.json"), encoding="utf-8") as handle:
        documented = json.load(handle)
    assert set(documented["application"]) <= set(application)
    assert set(documented["servicePrincipal"]) <= set(service_principal)
    assert demo_client.get("/servicePrincipals/" + service_principal["id"]).json()["appId"] == application["appId"]
    assert demo_client.get("/applications/" + application["id"]).json()["id"] == application["id"]
    by_app_id = demo_client.get("/servicePrincipals(appId='%s')" % application["appId"]).json()
    assert by_app_id["id"] == service_principal["id"]
    assert "value" not in by_app_id


def test_instantiate_non_gallery_gets_custom_tag_and_reference(demo_client):
    result = instantiate(demo_client, NON_GALLERY_TEMPLATE_ID, "My SCIM app", serviceManagementReference="svc-42")
    assert result["servicePrincipal"]["tags"] == ["WindowsAzureActiveDirectoryIntegratedApp",
                                                  "WindowsAzureActiveDirectoryCustomSingleSignOnApplication"]
    assert result["application"]["serviceManagementReference"] == "svc-42"


@pytest.mark.parametrize("body", [{}, {"displayName": ""}, {"displayName": 3}, {"displayName": "x", "extra": 1}, ["x"]])
def test_instantiate_body_is_checked(demo_client, body):
    response = demo_client.post("/applicationTemplates/%s/instantiate" % SALESFORCE, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"


def test_instantiate_permissions_and_unknown_template(read_only_client, demo_client):
    assert read_only_client.post("/applicationTemplates/%s/instantiate" % SALESFORCE, json={"displayName": "x"}).status_code == 403
    response = demo_client.post("/applicationTemplates/00000000-0000-0000-0000-000000000000/instantiate", json={"displayName": "x"})
    assert response.status_code == 404


def test_instantiate_calls_the_sync_hook(emulator, demo_client):
    seen = []

    class FakeSync:  # pylint: disable=too-few-public-methods
        @staticmethod
        def on_service_principal_created(store, service_principal, template):
            seen.append((store is emulator.store, service_principal["id"], template["id"]))

    previous = emulator.sync_module
    emulator.sync_module = FakeSync
    try:
        result = instantiate(demo_client)
    finally:
        emulator.sync_module = previous
    assert seen == [(True, result["servicePrincipal"]["id"], SALESFORCE)]


# -- delete --------------------------------------------------------------------------

def test_delete_application_deletes_its_service_principal(emulator, demo_client, read_only_client):
    deleted = []

    class FakeSync:  # pylint: disable=too-few-public-methods
        @staticmethod
        def on_service_principal_deleted(store, sp_id):
            deleted.append((sp_id, sp_id in store.service_principals))

    result = instantiate(demo_client)
    app_id, sp_id = result["application"]["id"], result["servicePrincipal"]["id"]
    emulator.store.synchronization[sp_id] = {"jobs": {}}
    assert read_only_client.delete("/applications/" + app_id).status_code == 403
    previous = emulator.sync_module
    emulator.sync_module = FakeSync
    try:
        assert demo_client.delete("/applications/" + app_id).status_code == 204
    finally:
        emulator.sync_module = previous
    assert deleted == [(sp_id, True)]
    assert sp_id not in emulator.store.synchronization
    assert demo_client.get("/servicePrincipals/" + sp_id).status_code == 404
    assert demo_client.get("/applications/" + app_id).status_code == 404
    assert demo_client.delete("/applications/" + app_id).status_code == 404


def test_delete_service_principal_keeps_application(demo_client):
    result = instantiate(demo_client)
    assert demo_client.delete("/servicePrincipals/" + result["servicePrincipal"]["id"]).status_code == 204
    assert demo_client.get("/servicePrincipals/" + result["servicePrincipal"]["id"]).status_code == 404
    assert demo_client.get("/applications/" + result["application"]["id"]).status_code == 200


# -- lists: paging, $select, $filter ---------------------------------------------------------

def test_paging_default_100_absolute_next_link(emulator, demo_client):
    seed_service_principals(emulator, 250, seed="paging")
    pages = scan(demo_client, demo_client.base + "/servicePrincipals")
    assert [len(page) for page in pages] == [100, 100, 50]
    assert len({item["id"] for page in pages for item in page}) == 250
    body = demo_client.get("/servicePrincipals").json()
    assert body["@odata.nextLink"].startswith(emulator.url + "/v1.0/servicePrincipals?")
    assert "$skiptoken=" in body["@odata.nextLink"]


def test_top_and_select_survive_paging(emulator, demo_client):
    seed_service_principals(emulator, 30, seed="select")
    pages = scan(demo_client, demo_client.base + "/servicePrincipals?$top=7&$select=id,appId")
    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    assert all(set(item) == {"id", "appId"} for page in pages for item in page)
    assert demo_client.get("/servicePrincipals?$top=999").status_code == 200
    response = demo_client.get("/servicePrincipals?$top=1000")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_BadRequest"
    assert demo_client.get("/servicePrincipals?$select=noSuchProperty").status_code == 400


def test_deleted_objects_vanish_from_running_scan(emulator, demo_client):
    seed_service_principals(emulator, 20, seed="vanish")
    first = demo_client.get("/servicePrincipals?$top=10").json()
    remaining = list(emulator.store.service_principals)[10:]
    emulator.store.remove_service_principal(remaining[0])
    second = demo_client.get(first["@odata.nextLink"]).json()
    assert len(second["value"]) == 9
    assert "@odata.nextLink" not in second


def test_filters(emulator, demo_client):
    seed_service_principals(emulator, 12, seed="filters")
    sps = list(emulator.store.service_principals.values())
    target = sps[3]

    def ids(expression, collection="servicePrincipals"):
        response = demo_client.get("/" + collection, params={"$filter": expression})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["value"]]

    assert ids("appId eq '%s'" % target["appId"]) == [target["id"]]
    assert ids("appId eq '%s'" % target["appId"].upper()) == [target["id"]]
    assert ids("displayName eq '%s'" % target["displayName"]) == [target["id"]]
    assert ids("id in ('%s','%s')" % (sps[0]["id"], sps[5]["id"])) == [sps[0]["id"], sps[5]["id"]]
    assert len(ids("startswith(displayName,'salesforce')")) == len([sp for sp in sps if sp["displayName"].startswith("Salesforce")])
    assert len(ids("tags/any(t:t eq 'WindowsAzureActiveDirectoryIntegratedApp')")) == 12
    assert len(ids("servicePrincipalType eq 'Application' and startswith(displayName,'AWS')")) == len(
        [sp for sp in sps if sp["displayName"].startswith("AWS")])
    assert ids("servicePrincipalType eq 'ManagedIdentity'") == []
    assert ids("appId eq '%s'" % target["appId"], "applications") == [emulator.store.application_by_app_id(target["appId"])["id"]]
    for unsupported in ("displayName ne 'x'", "endswith(displayName,'x')", "appId eq 'x' or appId eq 'y'", "homepage eq 'x'"):
        response = demo_client.get("/servicePrincipals", params={"$filter": unsupported})
        assert response.status_code == 400, unsupported
        assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_quote_escaping_in_filters(demo_client):
    result = instantiate(demo_client, name="O'Brien's app")
    body = demo_client.get("/servicePrincipals", params={"$filter": "displayName eq 'O''Brien''s app'"}).json()
    assert [item["id"] for item in body["value"]] == [result["servicePrincipal"]["id"]]


def test_count_needs_consistency_level(emulator, demo_client):
    seed_service_principals(emulator, 5, seed="count")
    assert demo_client.get("/servicePrincipals?$count=true").status_code == 400
    body = demo_client.get("/servicePrincipals?$count=true&$top=2", headers={"ConsistencyLevel": "eventual"}).json()
    assert body["@odata.count"] == 5


def test_directory_permissions(no_roles_client, read_only_client):
    assert read_only_client.get("/servicePrincipals").status_code == 200
    assert no_roles_client.get("/servicePrincipals").status_code == 403
    assert no_roles_client.get("/applicationTemplates").status_code == 200


def test_beta_serves_the_same(demo_client, emulator):
    result = instantiate(demo_client)
    response = demo_client.get(emulator.url + "/beta/servicePrincipals/" + result["servicePrincipal"]["id"])
    assert response.status_code == 200
    assert response.json()["@odata.context"].startswith(emulator.url + "/beta/$metadata#servicePrincipals")


# -- $batch ---------------------------------------------------------------------------

def batch(client, requests_, **kwargs):
    return client.post("/$batch", json={"requests": requests_}, **kwargs)


def test_batch_runs_items_through_the_router(demo_client):
    result = instantiate(demo_client)
    sp_id = result["servicePrincipal"]["id"]
    response = batch(demo_client, [
        {"id": "1", "method": "GET", "url": "/servicePrincipals/%s?$select=id,displayName" % sp_id},
        {"id": "2", "method": "GET", "url": "servicePrincipals?$filter=appId eq '%s'" % result["application"]["appId"]},
        {"id": "3", "method": "GET", "url": "/noSuchSegment"},
    ])
    assert response.status_code == 200
    by_id = {item["id"]: item for item in response.json()["responses"]}
    assert by_id["1"]["status"] == 200
    assert by_id["1"]["body"]["displayName"] == "Contoso Salesforce"
    assert by_id["2"]["body"]["value"][0]["id"] == sp_id
    assert by_id["3"]["status"] == 400


def test_batch_limit_and_malformed(demo_client):
    items = [{"id": str(index), "method": "GET", "url": "/applicationTemplates"} for index in range(21)]
    response = batch(demo_client, items)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert batch(demo_client, items[:20]).status_code == 200
    assert demo_client.post("/$batch", json={"nope": []}).status_code == 400
    assert batch(demo_client, [{"id": "1", "method": "GET", "url": "/x", "dependsOn": ["9"]}]).status_code == 400
    assert batch(demo_client, [{"id": "1", "method": "GET", "url": "/x"}, {"id": "1", "method": "GET", "url": "/y"}]).status_code == 400


def test_batch_depends_on_failure_gives_424(demo_client):
    response = batch(demo_client, [
        {"id": "1", "method": "GET", "url": "/servicePrincipals/00000000-0000-0000-0000-000000000000"},
        {"id": "2", "method": "GET", "url": "/applicationTemplates", "dependsOn": ["1"]},
        {"id": "3", "method": "GET", "url": "/applicationTemplates", "dependsOn": ["2"]},
        {"id": "4", "method": "GET", "url": "/applicationTemplates"},
    ])
    statuses = {item["id"]: item["status"] for item in response.json()["responses"]}
    assert statuses == {"1": 404, "2": 424, "3": 424, "4": 200}


def test_batch_uses_outer_token_and_item_permissions(read_only_client, anonymous_client):
    items = [{"id": "1", "method": "POST", "url": "/applicationTemplates/%s/instantiate" % SALESFORCE,
              "body": {"displayName": "x"}, "headers": {"Content-Type": "application/json"}},
             {"id": "2", "method": "GET", "url": "/servicePrincipals"},
             {"id": "3", "method": "POST", "url": "/applicationTemplates/%s/instantiate" % SALESFORCE, "body": {"displayName": "x"}}]
    statuses = {item["id"]: item["status"] for item in batch(read_only_client, items).json()["responses"]}
    assert statuses == {"1": 403, "2": 200, "3": 400}
    assert batch(anonymous_client, items).status_code == 401


def test_batch_write_items_create_objects_and_are_logged(emulator, demo_client):
    start = emulator.log.last_seq
    response = batch(demo_client, [{"id": "a", "method": "POST", "url": "/applicationTemplates/%s/instantiate" % SALESFORCE,
                                    "body": {"displayName": "from batch"}, "headers": {"Content-Type": "application/json"}}])
    item = response.json()["responses"][0]
    assert item["status"] == 201
    assert item["body"]["servicePrincipal"]["displayName"] == "from batch"
    entries = emulator.log.since(start)
    assert [(entry["kind"], entry["write"]) for entry in entries] == [("batch_item", True), ("batch", True)]
    start = emulator.log.last_seq
    batch(demo_client, [{"id": "a", "method": "GET", "url": "/applicationTemplates"}])
    assert [(entry["kind"], entry["write"]) for entry in emulator.log.since(start)] == [("batch_item", False), ("batch", False)]


# -- seeding --------------------------------------------------------------------------

def test_seed_20000_and_list_them_in_pages_of_999(tmp_path_factory):
    # How fast seeding and listing are is for the tenant-scan benchmark (tests/benchmarks/bench_tenant_scan.py) to
    # print; a test asserts what a user sees: every seeded object, listed in the pages Graph would send.
    from conftest import GraphClient  # pylint: disable=import-outside-toplevel
    from conftest import start_emulator  # pylint: disable=import-outside-toplevel
    server = start_emulator(tmp_path_factory)
    try:
        result = seed_service_principals(server, 20000, seed="bench")
        assert result["total_service_principals"] == 20000
        client = GraphClient(server, server.info["client_id"], server.info["client_secret"])
        pages = scan(client, client.base + "/servicePrincipals?$top=999&$select=id,appId,displayName")
        assert [len(page) for page in pages] == [999] * 20 + [20]
        assert len({entry["id"] for page in pages for entry in page}) == 20000
    finally:
        server.stop()


def test_seed_via_control_api_is_deterministic(emulator, session):
    first = session.post(emulator.url + "/_emulator/seed", json={"service_principals": 3, "seed": "x", "return_ids": True}).json()
    session.post(emulator.url + "/_emulator/reset", json={})
    second = session.post(emulator.url + "/_emulator/seed", json={"service_principals": 3, "seed": "x", "return_ids": True}).json()
    assert first["ids"] == second["ids"]
    assert session.post(emulator.url + "/_emulator/seed", json={"service_principals": 1, "with_jobs": 2}).status_code == 400


def test_seed_jobs_calls_seed_job_in_every_state(emulator):
    calls = []

    class FakeSync:  # pylint: disable=too-few-public-methods
        @staticmethod
        def seed_job(store, sp_id, template_id, state):
            calls.append((sp_id in store.service_principals, template_id, state))

    previous = emulator.sync_module
    emulator.sync_module = FakeSync
    try:
        result = seed_service_principals(emulator, 10, with_jobs=8, seed="jobs")
    finally:
        emulator.sync_module = previous
    expected = ["not_configured", "paused_with_credentials", "active", "not_run", "paused", "quarantine", "failing", "not_configured"]
    assert [call[2] for call in calls] == expected
    assert all(call[0] for call in calls)
    assert result["jobs_by_state"]["not_configured"] == 2


def test_reset_returns_to_seed(emulator, demo_client, session):
    instantiate(demo_client)
    assert len(emulator.store.service_principals) == 1
    session.post(emulator.url + "/_emulator/reset", json={})
    assert len(emulator.store.service_principals) == 0
    assert len(emulator.store.application_templates) == 5


def test_reset_and_clock_call_the_sync_hooks(emulator, session):
    calls = []

    class FakeSync:  # pylint: disable=too-few-public-methods
        @staticmethod
        def on_reset(store):
            calls.append(("reset", store is emulator.store, len(store.service_principals)))

        @staticmethod
        def on_clock_advanced(store):
            calls.append(("clock", store is emulator.store, None))

    seed_service_principals(emulator, 2, seed="hooks")
    previous = emulator.sync_module
    emulator.sync_module = FakeSync
    try:
        session.post(emulator.url + "/_emulator/reset", json={})
        session.post(emulator.url + "/_emulator/clock", json={"advance_seconds": 5})
    finally:
        emulator.sync_module = previous
    assert calls == [("reset", True, 0), ("clock", True, None)]
