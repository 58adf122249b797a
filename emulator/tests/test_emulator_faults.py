"""Fault injection: latency, rules (throttle, unavailable, drop, error), rate limit, new-object windows."""

import concurrent.futures
import json
import os
import time

import pytest
import requests

from conftest import VerifyingSession
from entra_graph_emulator.objects import DATA_DIR
from entra_graph_emulator.testing import EmulatorProcess

SALESFORCE = "cd3ed3de-93ee-400b-8b19-b61ef44a0f29"


def set_faults(emulator, session, config):
    response = session.put(emulator.url + "/_emulator/faults", json=config)
    assert response.status_code == 200, response.text
    return response.json()


def instantiate(client, name="Fault test app"):
    return client.post("/applicationTemplates/%s/instantiate" % SALESFORCE, json={"displayName": name})


def structure(value):
    """The key skeleton of a JSON value (to compare with a documented example)."""
    if isinstance(value, dict):
        return {key: structure(item) for key, item in value.items()}
    return type(value).__name__


def test_latency_applies_and_requests_overlap(emulator, session, demo_client):
    set_faults(emulator, session, {"latency_ms": 300})
    started = time.monotonic()
    assert demo_client.get("/applicationTemplates").status_code == 200
    assert time.monotonic() - started >= 0.3
    clients = [VerifyingSession(emulator.ca_path) for index in range(6)]
    headers = {"Authorization": "Bearer " + demo_client.token}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda client: client.get(demo_client.base + "/applicationTemplates", headers=headers).status_code, clients))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 6
    # Served one after another they would take at least 6 x 300 ms: anything below that shows they overlapped.
    assert elapsed < 1.8, "6 requests x 300 ms took %.2f s: not concurrent" % elapsed
    started = time.monotonic()
    session.get(emulator.url + "/_emulator/info")
    assert time.monotonic() - started < 0.3, "the control API must not be delayed by the 300 ms latency fault"


def test_throttle_rule_with_fractional_retry_after(emulator, session, demo_client):
    set_faults(emulator, session, {"rules": [{"name": "t", "action": "throttle", "path": "/applicationTemplates$", "retry_after": 2.128,
                                              "count": 2}]})
    first = demo_client.get("/applicationTemplates", headers={"client-request-id": "throttled-1"})
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "2.128"
    with open(os.path.join(DATA_DIR, "error-throttled.response.json"), encoding="utf-8") as handle:
        documented = json.load(handle)
    body = first.json()
    assert body["error"]["code"] == "TooManyRequests"
    assert body["error"]["message"] == documented["error"]["message"]
    assert set(documented["error"]["innerError"]) <= set(body["error"]["innerError"])
    assert body["error"]["innerError"]["request-id"] == first.headers["request-id"]
    assert demo_client.get("/applicationTemplates").status_code == 429
    assert demo_client.get("/applicationTemplates").status_code == 200
    assert demo_client.get("/applicationTemplates/" + SALESFORCE).status_code == 200
    state = session.get(emulator.url + "/_emulator/faults").json()
    assert state["rules"][0]["fired"] == 2
    entries = [entry for entry in emulator.log.since(0) if entry["status"] == 429]
    assert entries[0]["fault"] == "t"


def test_unavailable_and_error_rules(emulator, session, demo_client):
    set_faults(emulator, session, {"rules": [
        {"action": "unavailable", "method": "GET", "path": "/servicePrincipals", "retry_after": 1, "count": 1},
        {"action": "error", "status": 504, "code": "GatewayTimeout", "message": "slow", "method": "POST", "count": 1},
    ]})
    response = demo_client.get("/servicePrincipals")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["innerError"]["request-id"]
    response = instantiate(demo_client)
    assert response.status_code == 504
    assert response.json()["error"] == {"code": "GatewayTimeout", "message": "slow", "innerError": response.json()["error"]["innerError"]}
    assert len(emulator.store.service_principals) == 0, "a fault answers instead of the route: nothing is created"
    assert instantiate(demo_client).status_code == 201


def test_drop_connection(emulator, session, demo_client):
    set_faults(emulator, session, {"rules": [{"action": "drop", "path": "/applicationTemplates$", "count": 1}]})
    with pytest.raises(requests.exceptions.ConnectionError):
        demo_client.get("/applicationTemplates")
    assert demo_client.get("/applicationTemplates").status_code == 200
    assert [entry["status"] for entry in emulator.log.since(0) if entry["fault"]] == [0]


def test_slow_serves_the_request_then_holds_the_answer(emulator, session, demo_client):
    set_faults(emulator, session, {"rules": [{"action": "slow", "delay_ms": 1500, "method": "POST", "path": "/instantiate$", "count": 1}]})
    with pytest.raises(requests.exceptions.Timeout):
        demo_client.post("/applicationTemplates/%s/instantiate" % SALESFORCE, json={"displayName": "Slow app"}, timeout=0.5)
    found = demo_client.get("/applications", params={"$filter": "displayName eq 'Slow app'"}).json()["value"]
    assert len(found) == 1, "a slow call is processed: only its answer is late"
    assert [(entry["method"], entry["status"]) for entry in emulator.log.since(0) if entry["fault"]] == [("POST", 201)]
    response = session.put(emulator.url + "/_emulator/faults", json={"rules": [{"action": "slow"}]})
    assert response.status_code == 400 and "delay_ms" in response.text


def test_every_and_after(emulator, session, demo_client):
    set_faults(emulator, session, {"rules": [{"action": "error", "status": 500, "path": "/applicationTemplates$", "every": 3, "after": 1}]})
    statuses = [demo_client.get("/applicationTemplates").status_code for attempt in range(8)]
    assert statuses == [200, 200, 200, 500, 200, 200, 500, 200]


def test_probability_is_deterministic_with_seed(emulator, session, demo_client):
    config = {"seed": 7, "rules": [{"action": "error", "status": 500, "path": "/applicationTemplates$", "probability": 0.5}]}
    runs = []
    for dummy in range(2):
        set_faults(emulator, session, config)
        runs.append([demo_client.get("/applicationTemplates").status_code for attempt in range(16)])
    assert runs[0] == runs[1]
    assert 500 in runs[0] and 200 in runs[0]


def test_login_kind_faults_only_hit_the_token_service(emulator, session, demo_client):
    set_faults(emulator, session, {"rules": [{"action": "throttle", "kind": "login", "retry_after": 1.5, "count": 1}]})
    assert demo_client.get("/applicationTemplates").status_code == 200
    info = emulator.info
    response = session.post("%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id),
                            data={"grant_type": "client_credentials", "client_id": info["client_id"], "client_secret": info["client_secret"],
                                  "scope": "https://graph.microsoft.com/.default"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1.5"
    assert response.json()["error"] == "temporarily_unavailable"


def test_batch_item_gets_its_own_429(emulator, session, demo_client):
    set_faults(emulator, session, {"rules": [{"action": "throttle", "kind": "batch_item", "path": "/v1.0/applicationTemplates/", "retry_after": 3}]})
    response = demo_client.post("/$batch", json={"requests": [
        {"id": "1", "method": "GET", "url": "/applicationTemplates/" + SALESFORCE},
        {"id": "2", "method": "GET", "url": "/applicationTemplates"},
        {"id": "3", "method": "GET", "url": "/applicationTemplates", "dependsOn": ["1"]},
    ]})
    assert response.status_code == 200
    items = {item["id"]: item for item in response.json()["responses"]}
    assert items["1"]["status"] == 429
    assert items["1"]["headers"]["Retry-After"] == "3"
    assert items["1"]["body"]["error"]["code"] == "TooManyRequests"
    assert items["2"]["status"] == 200
    assert items["3"]["status"] == 424


def test_batch_item_latency_runs_items_concurrently_and_shuffle(emulator, session, demo_client):
    set_faults(emulator, session, {"batch_item_latency_ms": 200, "batch_shuffle_responses": True, "seed": 3})
    items = [{"id": str(index), "method": "GET", "url": "/applicationTemplates?$top=1"} for index in range(10)]
    started = time.monotonic()
    response = demo_client.post("/$batch", json={"requests": items})
    # One after another, 10 items x 200 ms would take at least 2 s.
    assert time.monotonic() - started < 2.0
    ids = [item["id"] for item in response.json()["responses"]]
    assert sorted(ids, key=int) == [str(index) for index in range(10)]
    assert ids != [str(index) for index in range(10)]


def test_rate_limit_token_bucket(emulator, session, demo_client):
    set_faults(emulator, session, {"rate_limit": {"requests_per_second": 2, "burst": 3}})
    statuses = [demo_client.get("/applicationTemplates") for attempt in range(5)]
    assert [response.status_code for response in statuses][:3] == [200, 200, 200]
    throttled = [response for response in statuses if response.status_code == 429]
    assert throttled
    assert 0 < float(throttled[0].headers["Retry-After"]) <= 0.5
    time.sleep(float(throttled[-1].headers["Retry-After"]) + 0.05)
    assert demo_client.get("/applicationTemplates").status_code == 200


def test_replication_delay_then_transient_403_then_409(emulator, session, demo_client):
    set_faults(emulator, session, {"replication_delay_seconds": 30, "transient_403_seconds": 30, "transient_409_seconds": 30})
    created = instantiate(demo_client).json()
    sp_id, app_id = created["servicePrincipal"]["id"], created["application"]["id"]
    app_app_id = created["application"]["appId"]
    assert demo_client.get("/servicePrincipals/" + sp_id).status_code == 404
    assert demo_client.get("/applications/" + app_id).status_code == 404
    assert demo_client.get("/servicePrincipals(appId='%s')" % app_app_id).status_code == 404
    assert demo_client.get("/servicePrincipals", params={"$filter": "appId eq '%s'" % app_app_id}).json()["value"] == []
    assert emulator.store.is_replicating(sp_id)
    session.post(emulator.url + "/_emulator/clock", json={"advance_seconds": 31})
    assert not emulator.store.is_replicating(sp_id)
    response = demo_client.get("/servicePrincipals/" + sp_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"
    session.post(emulator.url + "/_emulator/clock", json={"advance_seconds": 30})
    assert demo_client.get("/servicePrincipals/" + sp_id).status_code == 200
    response = demo_client.delete("/servicePrincipals/" + sp_id)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "Directory_ConcurrencyViolation"
    session.post(emulator.url + "/_emulator/clock", json={"advance_seconds": 30})
    assert demo_client.delete("/servicePrincipals/" + sp_id).status_code == 204


def test_replication_applies_to_any_marked_object(emulator, session):
    set_faults(emulator, session, {"replication_delay_seconds": 10})
    emulator.store.mark_created("BoxOutDelta.0123456789abcdef0123456789abcdef")
    assert emulator.store.is_replicating("BoxOutDelta.0123456789abcdef0123456789abcdef")
    emulator.clock.advance(11)
    assert not emulator.store.is_replicating("BoxOutDelta.0123456789abcdef0123456789abcdef")


def test_instantiate_error_after_create(emulator, session, demo_client):
    set_faults(emulator, session, {"instantiate_error_after_create": 1, "instantiate_error_status": 504})
    response = instantiate(demo_client, "Timed out app")
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "GatewayTimeout"
    found = demo_client.get("/servicePrincipals", params={"$filter": "displayName eq 'Timed out app'"}).json()["value"]
    assert len(found) == 1, "the app was created although the call failed"
    assert instantiate(demo_client, "Second").status_code == 201


def test_invalid_fault_config_is_rejected(emulator, session):
    for config in ({"rules": [{"action": "explode"}]}, {"latency": 5}, {"rules": [{"path": "("}]}, {"rules": [{"probability": 2}]},
                   {"rate_limit": {"requests_per_second": 0}}):
        response = session.put(emulator.url + "/_emulator/faults", json=config)
        assert response.status_code == 400, config


def test_faults_file_at_start(tmp_path):
    faults = {"rules": [{"action": "throttle", "kind": "login", "count": 1, "retry_after": 0.5}]}
    with EmulatorProcess(tmp_path / "emu", faults=faults) as process:
        env = process.connection_env()
        data = {"grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"], "client_secret": env["AZURE_CLIENT_SECRET"],
                "scope": "https://graph.microsoft.com/.default"}
        url = "%s/%s/oauth2/v2.0/token" % (env["AZURE_AUTHORITY_HOST"], env["AZURE_TENANT_ID"])
        assert requests.post(url, data=data, verify=process.ca_path, timeout=30).status_code == 429
        assert requests.post(url, data=data, verify=process.ca_path, timeout=30).status_code == 200
        assert process.faults_state()["rules"][0]["fired"] == 1
        process.set_faults({})
        assert process.faults_state()["rules"] == []
