"""EmulatorProcess's helpers for the directory behind provisioning jobs, against a real emulator process over HTTPS."""

import json

import pytest
import requests

from entra_graph_emulator.testing import EmulatorProcess


@pytest.fixture(scope="module")
def process(tmp_path_factory):
    with EmulatorProcess(str(tmp_path_factory.mktemp("helpers")), extra_args=("--seed-users", "3", "--seed-groups", "1")) as running:
        yield running


def _token(process):
    info = process.info
    reply = requests.post(info["token_endpoint"], data={"grant_type": "client_credentials", "client_id": info["client_id"],
                                                        "client_secret": info["client_secret"], "scope": "https://graph.microsoft.com/.default"},
                          verify=process.ca_path, timeout=30)
    reply.raise_for_status()
    return reply.json()["access_token"]


def test_helpers_drive_a_directory_backed_job(process):
    directory = process.directory()
    assert len(directory["users"]) == 3 and len(directory["groups"]) == 1 and directory["assignments"] == {}
    sp_id = process.seed(1, with_jobs=0, return_ids=True, application_template_id="8adf8e6e-67b2-4cf2-a259-e3dc5476c621")["ids"][0]
    user = process.add_user("Grace Hopper", userPrincipalName="grace@contoso.test")
    group = process.add_group("Pilot", members=[user["id"]])
    process.assign(sp_id, group["id"])
    assert process.change_user("grace@contoso.test", department="Navy")["department"] == "Navy"
    process.set_target(objects={"grace@contoso.test": "conflict"})
    process.sync_settings(provisioning_log_delay_seconds=0)
    headers = {"Authorization": "Bearer " + _token(process)}
    base = process.info["graph_endpoint"] + "/v1.0"
    assigned = requests.get("%s/servicePrincipals/%s/appRoleAssignedTo" % (base, sp_id), headers=headers, verify=process.ca_path, timeout=30)
    assert [item["principalId"] for item in assigned.json()["value"]] == [group["id"]]
    job = requests.post("%s/servicePrincipals/%s/synchronization/jobs" % (base, sp_id), json={"templateId": "scim"}, headers=headers,
                        verify=process.ca_path, timeout=30).json()
    secrets = {"value": [{"key": "BaseAddress", "value": "https://scim.contoso.test/scim/v2"}, {"key": "SecretToken", "value": "t"}]}
    requests.put("%s/servicePrincipals/%s/synchronization/secrets" % (base, sp_id), json=secrets, headers=headers, verify=process.ca_path,
                 timeout=30).raise_for_status()
    requests.post("%s/servicePrincipals/%s/synchronization/jobs/%s/start" % (base, sp_id, job["id"]), headers=headers, verify=process.ca_path,
                  timeout=30).raise_for_status()
    process.advance_clock(2401)
    logs = requests.get(base + "/auditLogs/provisioning", params={"$filter": "jobId eq '%s'" % job["id"]}, headers=headers,
                        verify=process.ca_path, timeout=30).json()["value"]
    outcomes = {entry["sourceIdentity"]["id"]: (entry["provisioningStatusInfo"]["errorInformation"] or {}).get("errorCode") for entry in logs}
    # The assigned group is provisioned; its member's export meets the conflict.
    assert outcomes == {group["id"]: None, user["id"]: "EntryConflict"}
    assert [record["source_id"] for record in process.target_objects(sp_id, job["id"])] == [group["id"]]
    process.set_target()
    process.advance_clock(2400)
    target = {record["source_id"]: record for record in process.target_objects(sp_id, job["id"])}
    assert sorted(target) == sorted([group["id"], user["id"]])
    # The group is updated once its member exists in the target.
    assert target[group["id"]]["attributes"]["members"] == [target[user["id"]]["id"]]
    process.remove_member(group["id"], user["id"])
    process.unassign(sp_id, group["id"])
    process.delete_group(group["id"])
    process.delete_user(user["id"])
    assert json.dumps(process.directory()["assignments"]) == json.dumps({sp_id: []})
