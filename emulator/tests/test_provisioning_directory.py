"""The simulated directory behind provisioning jobs: users, groups, assignments, cycles that provision them,
provisioning logs, accidental-deletion prevention and provisionOnDemand through the same path.

Sources: provisioningObjectSummary (https://learn.microsoft.com/graph/api/resources/provisioningobjectsummary),
List provisioningObjectSummary (https://learn.microsoft.com/graph/api/provisioningobjectsummary-list), accidental
deletions (https://learn.microsoft.com/entra/identity/app-provisioning/accidental-deletions), and the pages listed in
docs/synchronization.md#sources.
"""

import json

import pytest

from synchronization_world import Graph, configured_job, read_job, shared_example, sync

LOGS = "/auditLogs/provisioning"
ALL_ROLES = ("Synchronization.ReadWrite.All", "AuditLog.Read.All", "Directory.Read.All", "Application.Read.All")


@pytest.fixture()
def graph(tmp_path):
    world = Graph(str(tmp_path))
    # Entries show at once (the eventual-consistency delay has its own test).
    assert world.control("PATCH", "/synchronization/settings", {"provisioning_log_delay_seconds": 0}).status == 200
    return world


def add_user(graph, name, **properties):
    reply = graph.control("POST", "/directory/users", dict({"displayName": name}, **properties))
    assert reply.status == 201, reply
    return reply.body["id"]


def assign(graph, sp_id, principal_id):
    reply = graph.control("POST", "/directory/servicePrincipals/%s/assignments" % sp_id, {"principal_id": principal_id})
    assert reply.status == 201, reply
    return reply.body


def started_job(graph, users=3):
    sp_id, job_id = configured_job(graph)
    ids = [add_user(graph, "Person %d" % index) for index in range(users)]
    for user_id in ids:
        assign(graph, sp_id, user_id)
    assert graph.post(sync(sp_id, "/jobs/%s/start" % job_id)).status == 204
    return sp_id, job_id, ids


def run_cycle(graph, sp_id, job_id):
    graph.advance(graph.cycle + 1)
    return read_job(graph, sp_id, job_id)


def logs(graph, query="", roles=ALL_ROLES):
    reply = graph.get(LOGS + query, roles=roles)
    assert reply.status == 200, reply
    return reply.body


def cycle_entries(graph, job):
    cycle_id = job["status"]["lastExecution"]["activityIdentifier"]
    return logs(graph, "?$filter=cycleId eq '%s'" % cycle_id)["value"]


def assert_counters_match(job, entries):
    execution = job["status"]["lastExecution"]
    exported = sum(1 for entry in entries if entry["provisioningStatusInfo"]["status"] == "success"
                   and entry["provisioningAction"] in ("create", "update", "disable", "delete"))
    failed = sum(1 for entry in entries if entry["provisioningStatusInfo"]["status"] == "failure")
    assert execution["countExported"] == exported
    assert execution["countEscrowed"] == failed
    assert execution["countExports"] == exported + failed


# -- the directory -------------------------------------------------------------------------------

def test_users_groups_and_assignments_read_like_graph(graph):
    sp_id, _job_id = configured_job(graph)
    user_id = add_user(graph, "Ada Lovelace", userPrincipalName="ada@contoso.test", department="R&D")
    listed = graph.get("/users?$filter=userPrincipalName eq 'ada@contoso.test'", roles=("User.Read.All",))
    assert [user["id"] for user in listed.body["value"]] == [user_id]
    # Without $select, Graph's default properties only.
    assert "department" not in listed.body["value"][0] and listed.body["value"][0]["displayName"] == "Ada Lovelace"
    assert graph.get("/users/ADA@contoso.test", roles=("User.Read.All",)).body["id"] == user_id
    assert graph.get("/users?$orderby=displayName", roles=("User.Read.All",)).status == 400
    selected = graph.get("/users/%s?$select=id,department" % user_id, roles=("User.Read.All",))
    assert selected.body["department"] == "R&D" and set(selected.body) == {"@odata.context", "id", "department"}
    assert graph.get("/users?$filter=jobTitle eq 'x'", roles=("User.Read.All",)).status == 400
    assert graph.get("/users", roles=("Synchronization.Read.All",)).status == 403
    first = graph.get("/users?$top=4", roles=("User.Read.All",))
    assert len(first.body["value"]) == 4 and "@odata.nextLink" in first.body
    group = graph.control("POST", "/directory/groups", {"displayName": "Pilot", "members": [user_id]}).body
    assert graph.get("/groups/%s/members" % group["id"], roles=("GroupMember.Read.All",)).body["value"][0]["@odata.type"] == "#microsoft.graph.user"
    # $select keeps the derived type's annotation, so that a client can tell users from groups.
    selected = graph.get("/groups/%s/members?$select=id" % group["id"], roles=("GroupMember.Read.All",)).body["value"][0]
    assert selected == {"@odata.type": "#microsoft.graph.user", "id": user_id}
    assignment = assign(graph, sp_id, group["id"])
    listed = graph.get("/servicePrincipals/%s/appRoleAssignedTo" % sp_id, roles=("Application.Read.All",)).body["value"]
    assert listed == [assignment]
    assert set(assignment) == {"id", "deletedDateTime", "appRoleId", "createdDateTime", "principalDisplayName", "principalId",
                               "principalType", "resourceDisplayName", "resourceId"}
    assert assignment["principalType"] == "Group" and assignment["resourceId"] == sp_id


# -- cycles and logs ---------------------------------------------------------------------------

def test_a_cycle_creates_assigned_users_and_logs_one_entry_each(graph):
    sp_id, job_id, ids = started_job(graph)
    job = run_cycle(graph, sp_id, job_id)
    entries = cycle_entries(graph, job)
    assert sorted(entry["sourceIdentity"]["id"] for entry in entries) == sorted(ids)
    entry = entries[0]
    assert entry["provisioningAction"] == "create" and entry["provisioningStatusInfo"] == {"status": "success", "errorInformation": None}
    assert entry["jobId"] == job_id and entry["servicePrincipal"]["id"] == sp_id
    assert [step["provisioningStepType"] for step in entry["provisioningSteps"]] == ["import", "scoping", "matching", "export"]
    assert {"displayName": "userName", "oldValue": None, "newValue": entry["sourceIdentity"]["displayName"]} in entry["modifiedProperties"]
    assert job["status"]["code"] == "Active"
    assert_counters_match(job, entries)
    assert job["status"]["lastExecution"]["countExported"] == 3
    target = graph.control("GET", "/synchronization/servicePrincipals/%s/jobs/%s/target" % (sp_id, job_id)).body["value"]
    assert len(target) == 3
    # Nothing changed: the next cycle exports nothing and logs nothing.
    quiet = run_cycle(graph, sp_id, job_id)
    assert quiet["status"]["lastExecution"]["countExported"] == 0 and cycle_entries(graph, quiet) == []


def test_a_rejected_export_is_logged_escrowed_then_fixed(graph):
    sp_id, job_id, ids = started_job(graph)
    graph.control("PUT", "/synchronization/target", {"objects": {ids[0]: "conflict", ids[1]: "invalid_value"}})
    job = run_cycle(graph, sp_id, job_id)
    entries = cycle_entries(graph, job)
    failed = {entry["sourceIdentity"]["id"]: entry["provisioningStatusInfo"]["errorInformation"]["errorCode"]
              for entry in entries if entry["provisioningStatusInfo"]["status"] == "failure"}
    assert failed == {ids[0]: "EntryConflict", ids[1]: "UnprocessableEntity"}
    assert job["status"]["lastExecution"]["state"] == "EntryLevelErrors"
    assert_counters_match(job, entries)
    failures = logs(graph, "?$filter=jobId eq '%s' and provisioningStatusInfo/status eq 'failure'" % job_id)["value"]
    assert len(failures) == 2
    graph.control("PUT", "/synchronization/target", {"mode": "accept"})
    retried = run_cycle(graph, sp_id, job_id)
    entries = cycle_entries(graph, retried)
    assert sorted(entry["sourceIdentity"]["id"] for entry in entries) == sorted(ids[:2])
    assert all(entry["provisioningStatusInfo"]["status"] == "success" for entry in entries)
    assert retried["status"]["lastExecution"]["state"] == "Succeeded"


def test_scoping_filter_skips_and_mapping_changes_update(graph):
    sp_id, job_id, ids = started_job(graph)
    schema = graph.get(sync(sp_id, "/jobs/%s/schema" % job_id)).body
    schema.pop("@odata.context", None)
    mapping = [item for item in schema["synchronizationRules"][0]["objectMappings"] if item["sourceObjectName"] == "User"][0]
    mapping["scope"] = {"groups": [{"name": "Sales only", "clauses": [
        {"operatorName": "EQUALS", "sourceOperandName": "department", "targetOperand": {"values": ["Sales"]}}]}]}
    graph.control("PATCH", "/directory/users/%s" % ids[0], {"department": "Sales"})
    assert graph.put(sync(sp_id, "/jobs/%s/schema" % job_id), schema).status == 204
    job = run_cycle(graph, sp_id, job_id)
    entries = {entry["sourceIdentity"]["id"]: entry for entry in cycle_entries(graph, job)}
    assert entries[ids[0]]["provisioningAction"] == "create"
    skipped = entries[ids[1]]["provisioningStatusInfo"]
    assert skipped["status"] == "skipped" and "Sales only" in skipped["errorInformation"]["reason"]
    graph.control("PATCH", "/directory/users/%s" % ids[0], {"jobTitle": "Manager"})
    updated = cycle_entries(graph, run_cycle(graph, sp_id, job_id))
    assert [entry["provisioningAction"] for entry in updated] == ["update"]
    assert updated[0]["modifiedProperties"] == [{"displayName": "title", "oldValue": None, "newValue": "Manager"}]


def test_log_filters_paging_and_errors(graph):
    sp_id, job_id, ids = started_job(graph, users=5)
    job = run_cycle(graph, sp_id, job_id)
    first = logs(graph, "?$top=2&$filter=servicePrincipal/id eq '%s'" % sp_id)
    seen = [entry["id"] for entry in first["value"]]
    link = first["@odata.nextLink"]
    while link:
        page = logs(graph, link[len("https://graph.emulator.test/v1.0" + LOGS):])
        seen += [entry["id"] for entry in page["value"]]
        link = page.get("@odata.nextLink")
    assert len(seen) == len(set(seen)) == 5
    one = logs(graph, "?$filter=sourceIdentity/id eq '%s'" % ids[2])["value"]
    assert [entry["sourceIdentity"]["id"] for entry in one] == [ids[2]]
    ended = job["status"]["lastExecution"]["timeEnded"]
    assert len(logs(graph, "?$filter=activityDateTime le %s and provisioningAction eq 'create'" % ended)["value"]) == 5
    assert logs(graph, "?$filter=activityDateTime gt %s" % ended)["value"] == []
    unsupported = graph.get(LOGS + "?$filter=durationInMilliseconds eq 5", roles=ALL_ROLES)
    assert unsupported.status == 400 and unsupported.error_code == "BadRequest"
    assert graph.get(LOGS, roles=("AuditLog.Read.All",)).status == 403
    graph.control("PATCH", "/synchronization/settings", {"premium_license": False})
    unlicensed = graph.get(LOGS, roles=ALL_ROLES)
    assert unlicensed.status == 403 and unlicensed.error_code == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def test_logs_appear_after_the_configured_delay(graph):
    graph.control("PATCH", "/synchronization/settings", {"provisioning_log_delay_seconds": 30})
    sp_id, job_id, _ids = started_job(graph)
    graph.advance(graph.cycle + 1)
    assert logs(graph)["value"] == []
    graph.advance(30)
    assert len(logs(graph)["value"]) == 3
    del sp_id, job_id


def test_whole_target_unreachable_quarantines(graph):
    sp_id, job_id, _ids = started_job(graph)
    graph.control("PUT", "/synchronization/target", {"mode": "unreachable"})
    job = run_cycle(graph, sp_id, job_id)
    assert job["status"]["code"] == "Quarantine" and job["status"]["lastExecution"]["error"]["code"] == "TargetUnreachable"


def test_group_members_follow_their_users(graph):
    sp_id, job_id = configured_job(graph)
    members = [add_user(graph, "Member %d" % index) for index in range(2)]
    group = graph.control("POST", "/directory/groups", {"displayName": "Pilot", "members": members}).body
    assign(graph, sp_id, group["id"])
    assert graph.post(sync(sp_id, "/jobs/%s/start" % job_id)).status == 204
    job = run_cycle(graph, sp_id, job_id)
    assert_counters_match(job, cycle_entries(graph, job))
    target_path = "/synchronization/servicePrincipals/%s/jobs/%s/target" % (sp_id, job_id)
    target = {record["source_id"]: record for record in graph.control("GET", target_path).body["value"]}
    assert sorted(target[group["id"]]["attributes"]["members"]) == sorted(target[member]["id"] for member in members)
    graph.control("DELETE", "/directory/users/%s" % members[0])
    entries = {entry["sourceIdentity"]["id"]: entry for entry in cycle_entries(graph, run_cycle(graph, sp_id, job_id))}
    assert entries[members[0]]["provisioningAction"] == "delete" and entries[group["id"]]["provisioningAction"] == "update"
    target = {record["source_id"]: record for record in graph.control("GET", target_path).body["value"]}
    assert target[group["id"]]["attributes"]["members"] == [target[members[1]]["id"]]


# -- accidental deletions ------------------------------------------------------------------------

def threshold_job(graph, how="delete"):
    sp_id, job_id, ids = started_job(graph, users=4)
    secrets = [{"key": "BaseAddress", "value": "https://scim.contoso.test/scim/v2"}, {"key": "SecretToken", "value": "token-1"},
               {"key": "SyncNotificationSettings", "value": json.dumps({"Enabled": False, "DeleteThresholdEnabled": True, "DeleteThresholdValue": 2})}]
    assert graph.put(sync(sp_id, "/secrets"), {"value": secrets}).status == 204
    run_cycle(graph, sp_id, job_id)
    for user_id in ids[:3]:
        if how == "delete":
            assert graph.control("DELETE", "/directory/users/%s" % user_id).status == 204
        elif how == "disable":
            assert graph.control("PATCH", "/directory/users/%s" % user_id, {"accountEnabled": False}).status == 200
        else:
            assert graph.control("DELETE", "/directory/servicePrincipals/%s/assignments/%s" % (sp_id, user_id)).status == 204
    return sp_id, job_id, ids


@pytest.mark.parametrize("how", ["delete", "disable", "unassign"])
def test_too_many_deletes_stages_them_and_quarantines(graph, how):
    # Deleted in the source, disabled, or out of scope: all count ([accidental deletions]).
    sp_id, job_id, ids = threshold_job(graph, how)
    job = run_cycle(graph, sp_id, job_id)
    assert job["status"]["code"] == "Quarantine" and job["status"]["quarantine"]["reason"] == "TooManyDeletes"
    staged = logs(graph, "?$filter=provisioningAction eq 'stagedDelete'")["value"]
    assert sorted(entry["sourceIdentity"]["id"] for entry in staged) == sorted(ids[:3])
    target = graph.control("GET", "/synchronization/servicePrincipals/%s/jobs/%s/target" % (sp_id, job_id)).body["value"]
    assert len(target) == 4
    # Rejecting = leaving it: later attempts stay quarantined and delete nothing.
    graph.advance(graph.cycle * 10)
    assert read_job(graph, sp_id, job_id)["status"]["code"] == "Quarantine"
    assert len(graph.control("GET", "/synchronization/servicePrincipals/%s/jobs/%s/target" % (sp_id, job_id)).body["value"]) == 4


def test_restart_with_force_deletes_performs_them(graph):
    sp_id, job_id, ids = threshold_job(graph)
    run_cycle(graph, sp_id, job_id)
    assert graph.post(sync(sp_id, "/jobs/%s/restart" % job_id), {"criteria": {"resetScope": "ForceDeletes"}}).status == 204
    job = run_cycle(graph, sp_id, job_id)
    assert job["status"]["code"] == "Active"
    deleted = [entry for entry in cycle_entries(graph, job) if entry["provisioningAction"] == "delete"]
    assert sorted(entry["sourceIdentity"]["id"] for entry in deleted) == sorted(ids[:3])
    assert_counters_match(job, cycle_entries(graph, job))
    target = graph.control("GET", "/synchronization/servicePrincipals/%s/jobs/%s/target" % (sp_id, job_id)).body["value"]
    assert [record["source_id"] for record in target] == [ids[3]]


def test_a_user_deleted_after_being_disabled_in_the_target_is_deleted(graph):
    sp_id, job_id, ids = started_job(graph)
    run_cycle(graph, sp_id, job_id)
    graph.control("DELETE", "/directory/servicePrincipals/%s/assignments/%s" % (sp_id, ids[0]))
    assert [entry["provisioningAction"] for entry in cycle_entries(graph, run_cycle(graph, sp_id, job_id))] == ["disable"]
    graph.control("DELETE", "/directory/users/%s" % ids[0])
    assert [entry["provisioningAction"] for entry in cycle_entries(graph, run_cycle(graph, sp_id, job_id))] == ["delete"]


# -- provisionOnDemand ---------------------------------------------------------------------------

def on_demand(graph, sp_id, job_id, subject):
    body = shared_example("job-provisionondemand.request.json")
    body["parameters"][0]["subjects"] = [subject]
    return graph.post(sync(sp_id, "/jobs/%s/provisionOnDemand" % job_id), body)


def test_provision_on_demand_runs_the_cycle_path(graph):
    sp_id, job_id, ids = started_job(graph)
    graph.control("PUT", "/synchronization/target", {"objects": {ids[0]: "unauthorized"}})
    failed = on_demand(graph, sp_id, job_id, {"objectId": ids[0], "objectTypeName": "User"})
    reason = json.loads(failed.body["value"])["statusInfo"]["reason"]
    assert json.loads(failed.body["key"]) == {"result": "Failure", "details": {"errorCode": "Unauthorized", "errorMessage": reason}}
    graph.control("PUT", "/synchronization/target", {"mode": "accept"})
    fixed = on_demand(graph, sp_id, job_id, {"objectId": ids[0], "objectTypeName": "User"})
    assert json.loads(fixed.body["key"]) == {"result": "Success", "details": {}}
    value = json.loads(fixed.body["value"])
    assert value["action"] == "Create" and value["provisioningSteps"][-1]["type"] == "Export"
    again = on_demand(graph, sp_id, job_id, {"objectId": ids[0], "objectTypeName": "User"})
    assert json.loads(again.body["key"])["details"]["errorCode"] == "RedundantExport"
    outsider = add_user(graph, "Not Assigned")
    skipped = on_demand(graph, sp_id, job_id, {"objectId": outsider, "objectTypeName": "User"})
    assert json.loads(skipped.body["key"])["result"] == "Skipped"
    assert json.loads(skipped.body["key"])["details"]["errorCode"] == "NotEffectivelyEntitled"
    unknown = on_demand(graph, sp_id, job_id, {"objectId": "00000000-0000-0000-0000-00000000dead", "objectTypeName": "User"})
    assert unknown.status == 404
    # On-demand runs write provisioning log entries too.
    assert len(logs(graph, "?$filter=sourceIdentity/id eq '%s'" % ids[0])["value"]) == 3


def test_provision_on_demand_a_group_with_members(graph):
    sp_id, job_id = configured_job(graph)
    members = [add_user(graph, "Member %d" % index) for index in range(6)]
    group = graph.control("POST", "/directory/groups", {"displayName": "Pilot", "members": members}).body
    assign(graph, sp_id, group["id"])
    links = {"members": [{"objectId": member, "objectTypeName": "User"} for member in members[:5]]}
    reply = on_demand(graph, sp_id, job_id, {"objectId": group["id"], "objectTypeName": "Group", "links": links})
    value = json.loads(reply.body["value"])
    assert json.loads(reply.body["key"])["result"] == "Success" and value["sourceIdentity"]["type"] == "Group"
    assert len([item for item in value["modifiedProperties"] if item["displayName"] == "members"][0]["newValue"].split(",")) == 5
    too_many = dict(links, members=[{"objectId": member, "objectTypeName": "User"} for member in members])
    assert on_demand(graph, sp_id, job_id, {"objectId": group["id"], "objectTypeName": "Group", "links": too_many}).status == 400


@pytest.mark.parametrize("value, is_true, is_false", [(True, True, False), (False, False, True), ("False", False, True), (None, False, False)])
def test_is_true_and_is_false_clauses_need_that_boolean(value, is_true, is_false):
    # "IS FALSE: the clause returns true if the evaluated attribute contains a Boolean value of false" (scoping
    # filters page): an empty attribute is neither, so a filter on IS FALSE leaves it out of scope.
    from entra_graph_emulator.synchronization.provisioning import scope_result  # pylint: disable=import-outside-toplevel

    def in_scope(operator):
        clause = {"sourceOperandName": "accountEnabled", "operatorName": operator, "targetOperand": {"values": []}}
        return scope_result({"groups": [{"name": "g", "clauses": [clause]}]}, {"accountEnabled": value})[0]

    assert (in_scope("IS TRUE"), in_scope("IS FALSE")) == (is_true, is_false)
