"""HTTPS, routing, the error envelope, the token service (client secret) and the control API."""

import json
import os
import signal
import subprocess
import sys
import time

import jwt
import msal
import pytest
import requests

from conftest import VerifyingSession
from entra_graph_emulator import permissions
from entra_graph_emulator.framework import GraphHttpError
from entra_graph_emulator.framework import RouteTable
from entra_graph_emulator.framework import json_response
from entra_graph_emulator.framework import no_content
from entra_graph_emulator.testing import EmulatorProcess

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]

TEST_ROUTES = RouteTable()


@TEST_ROUTES.route("GET", "/testOnly/{item_id}/child/{child_id}", permission=permissions.SYNC_READ)
def _echo(request):
    return json_response({"params": request.params, "query": request.query, "version": request.api_version, "path": request.path,
                          "base_url": request.base_url, "roles": request.claims.get("roles")})


@TEST_ROUTES.route("POST", "/testOnly/{item_id}/child/{child_id}", permission=permissions.SYNC_WRITE)
def _post(request):
    body = request.json()
    if body == {"fail": True}:
        raise GraphHttpError(409, "Request_MultipleObjectsWithSameKeyValue", "conflict", details=[{"code": "ConflictingObjects", "message": "x"}])
    return no_content()


@TEST_ROUTES.route("POST", "/testOnly/{item_id}/child/special", permission=None)
def _special(request):
    return json_response({"special": request.params["item_id"]}, status=201)


@pytest.fixture()
def test_routes(emulator):
    if not any(route.pattern.startswith("/testOnly") for route in emulator.router.routes):
        emulator.router.add_all(TEST_ROUTES)
    return emulator


def msal_app(emulator, client_id, credential, http_client=None):
    return msal.ConfidentialClientApplication(
        client_id, client_credential=credential, authority="%s/%s" % (emulator.url, emulator.tenant_id),
        instance_discovery=False, http_client=http_client or VerifyingSession(emulator.ca_path))


# -- HTTPS and keep-alive ----------------------------------------------------------------

def test_https_with_generated_ca_and_info(emulator, session):
    info = session.get(emulator.url + "/_emulator/info").json()
    assert info["tenant_id"] == emulator.tenant_id
    assert info["ca_path"].endswith("ca.pem")
    assert info["graph_endpoint"].startswith("https://127.0.0.1:")
    assert info["managed_identity"]["header"]
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emulator.url + "/_emulator/info", verify=True, timeout=10)


def test_keep_alive_reuses_one_connection(emulator, session):
    for dummy in range(5):
        response = session.get(emulator.url + "/_emulator/info")
        assert response.headers["Content-Length"] == str(len(response.content))
    pool = session.get_adapter(emulator.url).poolmanager
    pools = list(pool.pools._container.values())  # pylint: disable=protected-access
    assert len(pools) == 1
    assert pools[0].num_connections == 1


# -- token service: client secret -----------------------------------------------------

def test_msal_client_secret(emulator):
    info = emulator.info
    app = msal_app(emulator, info["client_id"], info["client_secret"])
    result = app.acquire_token_for_client(GRAPH_SCOPE)
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["tid"] == emulator.tenant_id
    assert claims["appid"] == info["client_id"]
    assert set(claims["roles"]) == {"Application.ReadWrite.All", "Synchronization.ReadWrite.All", "AuditLog.Read.All", "Directory.Read.All"}
    assert claims["exp"] - claims["iat"] == 3599
    again = app.acquire_token_for_client(GRAPH_SCOPE)
    assert again["token_source"] == "cache"


def test_msal_bad_secret_gets_aadsts7000215(emulator):
    result = msal_app(emulator, emulator.info["client_id"], "wrong").acquire_token_for_client(GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert result["error_codes"] == [7000215]


def test_unknown_client_and_unknown_tenant(emulator, session):
    token_url = "%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id)
    response = session.post(token_url, data={"grant_type": "client_credentials", "client_id": "11111111-2222-3333-4444-555555555555",
                                             "client_secret": "x", "scope": "https://graph.microsoft.com/.default"},
                            headers={"client-request-id": "abc-123"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unauthorized_client"
    assert body["error_codes"] == [700016]
    assert body["correlation_id"] == "abc-123"
    assert {"timestamp", "trace_id", "error_description"} <= set(body)
    response = session.get(emulator.url + "/no-such-tenant/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_token_request_validation(emulator, session):
    token_url = "%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id)
    info = emulator.info
    base = {"grant_type": "client_credentials", "client_id": info["client_id"], "client_secret": info["client_secret"]}
    response = session.post(token_url, data=base)
    assert response.json()["error_codes"] == [900144]
    response = session.post(token_url, data=dict(base, scope="https://graph.microsoft.com/User.Read"))
    assert response.json()["error"] == "invalid_scope"
    response = session.post(token_url, data=dict(base, scope="https://unknown.example/.default"))
    assert response.json()["error_codes"] == [500011]
    response = session.post(token_url, data=dict(base, scope="https://graph.microsoft.com/.default", grant_type="password"))
    assert response.json()["error"] == "unsupported_grant_type"
    response = session.post(token_url, data=dict(base, scope=emulator.url + "/.default"))
    assert response.status_code == 200
    assert jwt.decode(response.json()["access_token"], options={"verify_signature": False})["aud"] == emulator.url


def test_discovery_document(emulator, session):
    document = session.get("%s/%s/v2.0/.well-known/openid-configuration" % (emulator.url, emulator.tenant_id)).json()
    assert document["token_endpoint"] == "%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id)
    assert document["authorization_endpoint"].startswith("https://")
    keys = session.get(document["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA"


# -- Graph: auth, permissions, routing, envelope --------------------------------------

def test_route_contract_params_with_dots_and_versions(test_routes, demo_client):
    response = demo_client.get("/testOnly/abc/child/BoxOutDelta.e4bbf44533ea4eabb17027f3a92e92aa?$top=5")
    assert response.status_code == 200
    body = response.json()
    assert body["params"] == {"item_id": "abc", "child_id": "BoxOutDelta.e4bbf44533ea4eabb17027f3a92e92aa"}
    assert body["query"] == {"$top": "5"}
    assert body["path"] == "/testOnly/abc/child/BoxOutDelta.e4bbf44533ea4eabb17027f3a92e92aa"
    assert body["version"] == "v1.0"
    assert body["base_url"] == test_routes.url + "/v1.0"
    beta = demo_client.get(test_routes.url + "/beta/testOnly/abc/child/x").json()
    assert beta["version"] == "beta"
    assert beta["base_url"] == test_routes.url + "/beta"


def test_literal_route_beats_placeholder(test_routes, anonymous_client, demo_client):
    response = demo_client.post("/testOnly/abc/child/special")
    assert response.status_code == 201
    assert response.json() == {"special": "abc"}
    assert anonymous_client.post("/testOnly/abc/child/special").status_code == 401


def test_missing_and_invalid_tokens_get_401(test_routes, anonymous_client):
    response = anonymous_client.get("/testOnly/a/child/b")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "WWW-Authenticate" in response.headers
    response = anonymous_client.get("/testOnly/a/child/b", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    forged = jwt.encode({"aud": "https://graph.microsoft.com", "tid": test_routes.tenant_id, "appid": "x", "exp": time.time() + 60,
                         "roles": ["Synchronization.ReadWrite.All"]}, "a-forged-key-that-is-long-enough-for-hs256", algorithm="HS256")
    assert anonymous_client.get("/testOnly/a/child/b", headers={"Authorization": "Bearer " + forged}).status_code == 401


def test_expired_token_gets_401(tmp_path_factory):
    from conftest import GraphClient  # pylint: disable=import-outside-toplevel
    from conftest import start_emulator  # pylint: disable=import-outside-toplevel
    server = start_emulator(tmp_path_factory, token_lifetime=3)
    try:
        server.router.add_all(TEST_ROUTES)
        client = GraphClient(server, server.info["client_id"], server.info["client_secret"])
        assert client.get("/testOnly/a/child/b").status_code == 200
        time.sleep(4.1)
        response = client.get("/testOnly/a/child/b")
        assert response.status_code == 401
        assert "expired" in response.json()["error"]["message"]
    finally:
        server.stop()


def test_permissions_403(test_routes, read_only_client, no_roles_client, demo_client):
    assert read_only_client.get("/testOnly/a/child/b").status_code == 200
    response = read_only_client.post("/testOnly/a/child/b", json={})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert error["message"] == "Insufficient privileges to complete the operation."
    assert no_roles_client.get("/testOnly/a/child/b").status_code == 403
    assert demo_client.post("/testOnly/a/child/b", json={}).status_code == 204


def test_error_envelope_and_request_ids(test_routes, demo_client):
    response = demo_client.post("/testOnly/a/child/b", json={"fail": True}, headers={"client-request-id": "my-id-1"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "Request_MultipleObjectsWithSameKeyValue"
    assert error["details"] == [{"code": "ConflictingObjects", "message": "x"}]
    assert error["innerError"]["client-request-id"] == "my-id-1"
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert "date" in error["innerError"]
    assert response.headers["client-request-id"] == "my-id-1"


def test_204_has_no_body_and_no_content_type(test_routes, demo_client):
    response = demo_client.post("/testOnly/a/child/b", json={})
    assert response.status_code == 204
    assert response.content == b""
    assert "Content-Type" not in response.headers


def test_json_body_validation(test_routes, demo_client):
    response = demo_client.post("/testOnly/a/child/b", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    response = demo_client.post("/testOnly/a/child/b", data='{"a": 1}', headers={"Content-Type": "text/plain"})
    assert response.status_code == 400


def test_unknown_routes_and_methods(test_routes, demo_client):
    response = demo_client.get("/noSuchThing")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    response = demo_client.get("/testOnly/a/child/b/deeper")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"
    response = demo_client.delete("/testOnly/a/child/b")
    assert response.status_code == 405


# -- request log and control API ---------------------------------------------------------

def test_request_log_records_kinds_and_writes(test_routes, demo_client, session):
    start = session.get(test_routes.url + "/_emulator/requests").json()["last_seq"]
    demo_client.get("/testOnly/a/child/b?$select=id", headers={"client-request-id": "log-1"})
    demo_client.post("/testOnly/a/child/b", json={})
    entries = session.get(test_routes.url + "/_emulator/requests", params={"since": start}).json()["requests"]
    assert [(entry["method"], entry["kind"], entry["write"], entry["status"]) for entry in entries] == [
        ("GET", "graph", False, 200), ("POST", "graph", True, 204)]
    assert entries[0]["path"] == "/v1.0/testOnly/a/child/b"
    assert entries[0]["query"] == {"$select": "id"}
    assert entries[0]["client_request_id"] == "log-1"
    assert entries[0]["seq"] < entries[1]["seq"]
    token_entries = [entry for entry in session.get(test_routes.url + "/_emulator/requests").json()["requests"] if entry["kind"] == "login"]
    assert token_entries and not any(entry["write"] for entry in token_entries)
    assert session.delete(test_routes.url + "/_emulator/requests").status_code == 204
    after = session.get(test_routes.url + "/_emulator/requests").json()
    assert after["requests"] == []
    assert after["last_seq"] >= entries[1]["seq"]


def test_control_register_app_and_clock(emulator, session):
    spec = {"client_id": "aaaaaaaa-0000-0000-0000-000000000001", "client_secret": "s3cret", "roles": ["Synchronization.Read.All"]}
    response = session.post(emulator.url + "/_emulator/apps", json=spec)
    assert response.status_code == 201
    result = msal_app(emulator, "aaaaaaaa-0000-0000-0000-000000000001", "s3cret").acquire_token_for_client(GRAPH_SCOPE)
    assert jwt.decode(result["access_token"], options={"verify_signature": False})["roles"] == ["Synchronization.Read.All"]
    assert session.post(emulator.url + "/_emulator/apps", json={"managed_identity": "sometimes"}).status_code == 400
    before = emulator.clock.now()
    state = session.post(emulator.url + "/_emulator/clock", json={"advance_seconds": 3600}).json()
    assert (emulator.clock.now() - before).total_seconds() >= 3600
    assert state["acceleration"] == 1.0


def test_reset_restores_the_start_up_settings(tmp_path_factory):
    """Run-time changes through the control API do not survive POST /_emulator/reset: tests stay isolated."""
    from conftest import start_emulator  # pylint: disable=import-outside-toplevel
    server = start_emulator(tmp_path_factory, cycle_seconds=600, token_lifetime=1200, clock_acceleration=2)
    try:
        with VerifyingSession(server.ca_path) as control:
            control_url = server.url + "/_emulator"
            changed = control.put(control_url + "/settings", json={"cycle_seconds": 3, "token_lifetime": 60}).json()
            assert changed == {"cycle_seconds": 3, "token_lifetime": 60}
            assert control.post(control_url + "/clock", json={"acceleration": 10}).json()["acceleration"] == 10
            assert control.patch(control_url + "/synchronization/settings", json={"page_size": 1}).json()["page_size"] == 1

            assert control.post(control_url + "/reset", json={}).status_code == 200

            info = control.get(control_url + "/info").json()
            assert (info["cycle_seconds"], info["token_lifetime"]) == (600, 1200)
            assert control.put(control_url + "/settings", json={}).json() == {"cycle_seconds": 600, "token_lifetime": 1200}
            assert control.get(control_url + "/clock").json()["acceleration"] == 2
            assert control.get(control_url + "/synchronization/settings").json()["page_size"] is None
    finally:
        server.stop()


# -- the CLI and testing.py ----------------------------------------------------------------

def test_emulator_process_starts_serves_and_stops(tmp_path):
    with EmulatorProcess(tmp_path / "emu") as process:
        env = process.connection_env()
        assert set(env) == {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST",
                            "ENTRA_GRAPH_ENDPOINT", "ENTRA_CA_PATH"}
        response = requests.post("%s/%s/oauth2/v2.0/token" % (env["AZURE_AUTHORITY_HOST"], env["AZURE_TENANT_ID"]),
                                 data={"grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"],
                                       "client_secret": env["AZURE_CLIENT_SECRET"], "scope": "https://graph.microsoft.com/.default"},
                                 verify=env["ENTRA_CA_PATH"], timeout=30)
        assert response.status_code == 200
        assert [entry["kind"] for entry in process.requests_log()] == ["login"]
        process.clear_log()
        assert process.requests_log() == []
        pid = process.process.pid
    assert process.process.poll() is not None
    assert pid


CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "entra-graph-emulator")


@pytest.mark.parametrize("launcher", [[sys.executable, "-m", "entra_graph_emulator"], [CONSOLE_SCRIPT]], ids=["module", "console-script"])
def test_cli_stops_on_sigterm(tmp_path, launcher):
    info_file = tmp_path / "info.json"
    command = launcher + ["--state-dir", str(tmp_path), "--info-file", str(info_file)]
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        deadline = time.monotonic() + 15
        while not info_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert info_file.exists(), process.stderr.read1() if process.poll() is not None else "no info file"
        info = json.loads(info_file.read_text())
        process.send_signal(signal.SIGTERM)
        stdout = process.communicate(timeout=15)[0]
    assert process.returncode == 0
    text = stdout.decode()
    assert "export AZURE_AUTHORITY_HOST=%s" % info["authority_host"] in text
    assert "export ENTRA_CA_PATH=%s" % info["ca_path"] in text


def test_emulator_process_reports_startup_failure(tmp_path):
    process = EmulatorProcess(tmp_path / "bad", extra_args=["--no-such-option"])
    with pytest.raises(RuntimeError, match="no-such-option"):
        process.start()


def test_client_secret_basic_and_v1_endpoint(emulator, session):
    info = emulator.info
    response = session.post("%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id), auth=(info["client_id"], info["client_secret"]),
                            data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    assert response.status_code == 200, response.text
    response = session.post("%s/%s/oauth2/token" % (emulator.url, emulator.tenant_id),
                            data={"grant_type": "client_credentials", "client_id": info["client_id"], "client_secret": info["client_secret"],
                                  "resource": "https://graph.microsoft.com"})
    assert response.status_code == 200
    assert response.json()["resource"] == "https://graph.microsoft.com"


def test_handler_bug_answers_500_and_keeps_serving(test_routes, demo_client):
    def broken(request):
        raise RuntimeError("bug in %s" % request.path)

    if not any(route.pattern == "/testOnly/broken" for route in test_routes.router.routes):
        test_routes.router.add("GET", "/testOnly/broken", broken, None)
    response = demo_client.get("/testOnly/broken")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "InternalServerError"
    assert demo_client.get("/testOnly/a/child/b").status_code == 200
