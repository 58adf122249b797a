"""The synchronization routes over real HTTPS: tokens, routing, $batch, the control API, the clock."""

import pytest

from entra_graph_emulator import synchronization

NON_GALLERY = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
SCIM_SECRETS = {"value": [{"key": "BaseAddress", "value": "https://scim.fabrikam.test/scim"}, {"key": "SecretToken", "value": "s3cret"}]}


@pytest.fixture(autouse=True)
def _fresh_synchronization_settings(emulator):
    """The shared emulator's reset clears the directory; this module's own settings are reset here."""
    synchronization.on_reset(emulator.store)
    yield
    synchronization.on_reset(emulator.store)


def instantiate(client, template_id=NON_GALLERY, name="Fabrikam SCIM"):
    response = client.post("/applicationTemplates/%s/instantiate" % template_id, json={"displayName": name})
    assert response.status_code == 201, response.text
    return response.json()["servicePrincipal"]["id"]


def control(session, emulator, method, path, body=None):
    response = session.request(method, "%s/_emulator%s" % (emulator.url, path), json=body)
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else None


def assert_empty_204(response):
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "Content-Type" not in response.headers


def test_job_lifecycle_over_https(emulator, demo_client, session):
    sp_id = instantiate(demo_client)
    base = "/servicePrincipals/%s/synchronization" % sp_id
    templates = demo_client.get(base + "/templates")
    assert templates.status_code == 200 and "scim" in [item["id"] for item in templates.json()["value"]]

    created = demo_client.post(base + "/jobs", json={"templateId": "scim"})
    assert created.status_code == 201
    assert created.headers["Content-Type"].startswith("application/json")
    job = created.json()
    assert job["status"]["code"] == "NotConfigured" and job["schedule"]["state"] == "Disabled"
    job_path = base + "/jobs/" + job["id"]

    assert_empty_204(demo_client.call("PUT", base + "/secrets", json=SCIM_SECRETS))
    assert [pair["value"] for pair in demo_client.get(base + "/secrets").json()["value"]] == ["https://scim.fabrikam.test/scim", "*"]
    assert demo_client.get(job_path).json()["status"]["code"] == "Paused"

    assert_empty_204(demo_client.post(job_path + "/validateCredentials", json={"useSavedCredentials": True}))
    assert_empty_204(demo_client.post(job_path + "/start"))
    assert demo_client.get(job_path).json()["status"]["code"] == "NotRun"

    control(session, emulator, "POST", "/clock", {"advance_seconds": emulator.store.settings.cycle_seconds})
    running = demo_client.get(job_path).json()
    assert running["status"]["code"] == "Active" and running["schedule"]["interval"] == "PT40M"
    assert running["status"]["lastExecution"]["state"] == "Succeeded"

    assert_empty_204(demo_client.post(job_path + "/restart", json={"criteria": {"resetScope": "Watermark, Escrows, QuarantineState"}}))
    assert_empty_204(demo_client.post(job_path + "/pause"))
    assert demo_client.get(job_path).json()["status"]["code"] == "Paused"
    assert_empty_204(demo_client.delete(job_path))
    gone = demo_client.get(job_path)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "Request_ResourceNotFound"


def test_errors_carry_the_graph_envelope(demo_client):
    sp_id = instantiate(demo_client)
    response = demo_client.post("/servicePrincipals/%s/synchronization/jobs" % sp_id, json={"templateId": "nope"},
                                headers={"client-request-id": "abc-123"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalidRequest"
    assert error["innerError"]["client-request-id"] == "abc-123" and error["innerError"]["request-id"]


def test_permissions_over_https(demo_client, read_only_client, no_roles_client):
    sp_id = instantiate(demo_client)
    jobs = "/servicePrincipals/%s/synchronization/jobs" % sp_id
    assert read_only_client.get(jobs).status_code == 200
    denied = read_only_client.post(jobs, json={"templateId": "scim"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
    assert no_roles_client.get(jobs).status_code == 403


def test_beta_serves_the_same_routes(emulator, demo_client):
    sp_id = instantiate(demo_client)
    url = "%s/beta/servicePrincipals/%s/synchronization/jobs" % (emulator.url, sp_id)
    created = demo_client.post(url, json={"templateId": "scim"})
    assert created.status_code == 201 and "/beta/$metadata#" in created.json()["@odata.context"]


def test_batch_reads_many_job_lists(emulator, demo_client, session):
    result = control(session, emulator, "POST", "/seed", {"service_principals": 20, "with_jobs": 20, "seed": 3,
                                                          "application_template_id": NON_GALLERY, "return_ids": True})
    requests_ = [{"id": str(index), "method": "GET", "url": "/servicePrincipals/%s/synchronization/jobs" % sp_id}
                 for index, sp_id in enumerate(result["ids"])]
    response = demo_client.post("/$batch", json={"requests": requests_})
    assert response.status_code == 200
    items = response.json()["responses"]
    assert len(items) == 20 and all(item["status"] == 200 for item in items)
    codes = {item["body"]["value"][0]["status"]["code"] for item in items}
    assert codes == {"NotConfigured", "Paused", "NotRun", "Active", "Quarantine"}


def test_control_api_over_https(emulator, demo_client, session):
    assert control(session, emulator, "GET", "/synchronization/settings")["page_size"] is None
    assert control(session, emulator, "PATCH", "/synchronization/settings", {"pageSize": 1})["page_size"] == 1
    sp_id = instantiate(demo_client)
    jobs = "/servicePrincipals/%s/synchronization/jobs" % sp_id
    for _index in range(2):
        demo_client.post(jobs, json={"templateId": "scim"})
    page = demo_client.get(jobs).json()
    assert len(page["value"]) == 1 and page["@odata.nextLink"].startswith(emulator.url + "/v1.0/")
    assert len(demo_client.get(page["@odata.nextLink"]).json()["value"]) == 1

    control(session, emulator, "POST", "/synchronization/scimTargets", {"base_address": "https://scim.fabrikam.test", "secret_tokens": ["good"]})
    job = demo_client.post(jobs, json={"templateId": "scim"}).json()
    demo_client.call("PUT", "/servicePrincipals/%s/synchronization/secrets" % sp_id, json=SCIM_SECRETS)
    rejected = demo_client.post(jobs + "/%s/validateCredentials" % job["id"], json={"useSavedCredentials": True})
    assert rejected.status_code == 400 and rejected.json()["error"]["code"] == "CredentialValidationUnavailable"
    seeded = control(session, emulator, "POST", "/synchronization/servicePrincipals/%s/jobs" % sp_id, {"state": "failing"})
    assert seeded["status"]["lastExecution"]["state"] == "EntryLevelErrors"
