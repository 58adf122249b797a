"""Provisioning a directory: one cycle (or one provisionOnDemand subject) through scoping, attribute mappings,
export to the simulated target, and one provisioning log entry per object.

A job provisions the simulated directory (``..people``) once anything was assigned to its service principal;
before that its cycles stay synthetic (simulation.py). Per object, the same path as the service
([how provisioning works]):

1. entitlement: assigned to the application (directly, or as a member of an assigned group), or every
   object when the ``SyncAll`` secret is true ([how provisioning works] "Sync all users and groups");
2. scoping: the object mapping's ``scope`` filter: the object is in scope when any filter group
   passes, a group passes when all its clauses do ([scoping filters]);
3. attribute mappings: each mapping's source evaluated by the expression evaluator (``..expressions``);
4. export: create, update, disable (a user leaving scope: SCIM ``active`` false) or delete (the object was
   deleted in the source, or a group leaving scope) ([how provisioning works] "deprovisioning"), answered by the
   simulated target (``TargetBehaviour``);
5. one provisioningObjectSummary per object processed ([provisioning logs]).

Accidental-deletion prevention ([accidental deletions]): when a cycle would disable or delete more objects
than the threshold, the deletes are staged (logged with provisioningAction ``stagedDelete``) and the job is
quarantined with reason ``TooManyDeletes``; restart with ``ForceDeletes`` performs them.

lastExecution counters of a cycle are the sums of its log entries: countExported = entries with status
success and action create/update/disable/delete, countEscrowed(Raw) = entries with status failure,
countExports = both (export attempts), countImported = objects read from the source, countEntitled = the
processed objects that are entitled, countEntitledForProvisioning = those also in scope (docs are silent
on these definitions: [task execution] names the counters only; we chose these).

Names in brackets, like [scoping filters], are public pages listed in docs/synchronization.md#sources.
"""

import datetime
import json
import re
import uuid

from . import simulation
from .. import expressions
from .. import people
from .credentials import SCIM_INVALID_CREDENTIALS

DEPROVISIONING_ACTIONS = ("disable", "delete")
EXPORT_ACTIONS = ("create", "update") + DEPROVISIONING_ACTIONS
# What the simulated target may answer, per object or for all of them.
BEHAVIOURS = ("accept", "conflict", "invalid_value", "unauthorized", "unreachable")

# Documented error codes of the provisioning logs ("Error codes" in [analyze provisioning logs]); docs are silent
# on an unreachable target's per-object code: we chose "TargetUnreachable".
_ERRORS = {
    "conflict": ("EntryConflict", "The target answered 409 Conflict: an object with the same %s already exists.",
                 "Correct the conflicting attribute values in either Microsoft Entra ID or the application, or review your matching "
                 "attribute configuration if the conflicting account was supposed to be matched and taken over."),
    "invalid_value": ("UnprocessableEntity", "The target answered 422 Unprocessable Entity: it rejected the value of %s.",
                      "The configuration of the target application might not be correct: check the attribute mappings and the values "
                      "the application accepts."),
    "unauthorized": ("Unauthorized", "The target answered 401 Unauthorized while exporting %s.",
                     "Microsoft Entra ID authenticated with the target application, but was not authorized to perform the update. "
                     "Review the credentials and the permissions of the account used by the application."),
    "unreachable": ("TargetUnreachable", "The target did not answer while exporting %s; the export is retried in the next cycle.",
                    "Check that the application's tenant URL is reachable from the provisioning service."),
}
SOURCE_SYSTEM = "Azure Active Directory"


class TargetBehaviour:
    """How the simulated target answers exports: ``mode`` for every object, ``objects`` per source object id or userPrincipalName."""

    def __init__(self):
        self.mode = "accept"
        self.objects = {}

    def for_object(self, obj):
        for key in (obj.get("id"), str(obj.get("userPrincipalName") or "").casefold()):
            if key and key in self.objects:
                return self.objects[key]
        return self.mode

    def to_dict(self):
        return {"mode": self.mode, "objects": dict(self.objects)}


class CycleOutcome:
    __slots__ = ("counts", "failure", "escrowed", "users", "groups")

    def __init__(self, counts, failure, escrowed, users, groups):
        self.counts = counts
        self.failure = failure
        self.escrowed = escrowed
        self.users = users
        self.groups = groups


def _truthy(value):
    return str(value).strip().lower() == "true"


def delete_threshold(state, job):
    """The accidental-deletion threshold, or None. The portal saves it in the SyncNotificationSettings secret
    (``DeleteThresholdEnabled`` / ``DeleteThresholdValue``, [accidental deletions]); jobs also inherit the
    ``QuarantineTooManyDeletesThreshold`` setting ([job resource]). Docs are silent on how the two relate: we chose
    the secret when it enables a threshold, else the job setting."""
    try:
        notification = json.loads(state.secrets.get("SyncNotificationSettings") or "{}")
    except ValueError:
        notification = {}
    if isinstance(notification, dict) and notification.get("DeleteThresholdEnabled") is True:
        try:
            return int(notification.get("DeleteThresholdValue"))
        except (TypeError, ValueError):
            return None
    for setting in job.settings:
        if setting.get("name") == "QuarantineTooManyDeletesThreshold":
            try:
                return int(setting.get("value"))
            except (TypeError, ValueError):
                return None
    return None


def object_mappings(job):
    """(rule, [(object type "user"/"group", mapping)]) of the job's first rule's enabled user and group mappings."""
    rules = job.current_schema().get("synchronizationRules") or []
    rule = rules[0] if rules else {}
    found = []
    for mapping in rule.get("objectMappings") or []:
        source = str(mapping.get("sourceObjectName") or "").lower()
        if mapping.get("enabled") and source in ("user", "group") and source not in [kind for kind, _mapping in found]:
            found.append((source, mapping))
    return rule, found


# ---------------------------------------------------------------------------------------------
# Scoping ([scoping filters]; operators of filterOperators)
# ---------------------------------------------------------------------------------------------

def _integer(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _clause_passes(clause, attributes):
    operator = str(clause.get("operatorName") or "").upper()
    name = str(clause.get("sourceOperandName") or "")
    value = attributes.get(name, next((found for key, found in attributes.items() if key.lower() == name.lower()), None))
    values = value if isinstance(value, list) else [value]
    texts = ["" if item is None else expressions.text(item) if not isinstance(item, bool) else str(item) for item in values]
    wanted = ((clause.get("targetOperand") or {}).get("values") or [""])[0]
    empty = all(item == "" for item in texts)
    # Comparisons are case-sensitive, GREATER_THAN compares integers [scoping filters].
    checks = {
        "GREATER_THAN": lambda: _integer(texts[0]) is not None and _integer(wanted) is not None and _integer(texts[0]) > _integer(wanted),
        "GREATER_THAN_OR_EQUALS": lambda: _integer(texts[0]) is not None and _integer(wanted) is not None and _integer(texts[0]) >= _integer(wanted),
        "INCLUDES": lambda: any(wanted in item for item in texts),
        "EQUALS": lambda: wanted in texts,
        "NOT EQUALS": lambda: wanted not in texts,
        "IS TRUE": lambda: any(item.lower() == "true" for item in texts),
        # "IS FALSE: the clause returns true if the attribute holds the Boolean value false" [scoping filters]:
        # an empty attribute is neither true nor false.
        "IS FALSE": lambda: any(item.lower() == "false" for item in texts),
        "IS NULL": lambda: empty,
        "IS NOT NULL": lambda: not empty,
        "REGEX MATCH": lambda: any(re.search(wanted, item) for item in texts if item),
        "NOT REGEX MATCH": lambda: not any(re.search(wanted, item) for item in texts if item),
    }
    check = checks.get(operator)
    return bool(check and check())


def scope_result(scope, attributes):
    """(in scope, the name of a failing filter group or None)."""
    groups = list((scope or {}).get("groups") or []) + list((scope or {}).get("inputFilterGroups") or [])
    if not groups:
        return True, None
    for group in groups:
        if all(_clause_passes(clause, attributes) for clause in group.get("clauses") or []):
            return True, None
    return False, groups[0].get("name") or "scoping filter"


# ---------------------------------------------------------------------------------------------
# Attribute mappings
# ---------------------------------------------------------------------------------------------

def compile_mapping(mapping):
    """[(target attribute, parsed source or the name of a reference attribute)] of an object mapping, parsed once per cycle.
    Raises ExpressionError for a source that does not parse."""
    compiled = []
    for attribute_mapping in mapping.get("attributeMappings") or []:
        source = attribute_mapping.get("source") or {}
        if str(source.get("type") or "").lower() == "attribute" and source.get("name") in ("members", "manager"):
            compiled.append((attribute_mapping["targetAttributeName"], source["name"]))
        else:
            compiled.append((attribute_mapping["targetAttributeName"], expressions.from_source(source)))
    return compiled


def desired_attributes(compiled, attributes, now, member_ids=None):
    """target attribute name -> value (str or list). Of the reference attributes, a group's ``members`` become the
    members' target ids; ``manager`` is not exported (the emulator's users have no manager: our choice)."""
    context = expressions.EvaluationContext(now=lambda: now)
    result = {}
    for target, node in compiled:
        if isinstance(node, str):
            if node == "members" and member_ids is not None:
                result[target] = sorted(member_ids)
            continue
        value = expressions.evaluate(node, attributes, context)
        if value is None or value is expressions.IGNORE_FLOW or value == "" or value == []:
            continue
        if isinstance(value, datetime.datetime):
            value = expressions.evaluation_result(value)[0]
        result[target] = value
    return result


def _shown(value):
    if value is None:
        return None
    return ",".join(value) if isinstance(value, list) else str(value)


# ---------------------------------------------------------------------------------------------
# One object
# ---------------------------------------------------------------------------------------------

class ObjectRun:
    """What happened to one object: the log entry's content."""

    def __init__(self, object_type, source_id, display):
        self.object_type = object_type
        self.source_id = source_id
        self.display = display
        self.action = "other"
        self.status = "skipped"
        self.error = None
        self.steps = []
        self.modified = []
        self.target_id = None
        self.target_type = None
        self.entitled = False
        self.in_scope = False
        self.imported = False
        # ("write", attributes) or ("deprovision", action): the export this object needs, None when none.
        self.planned = None

    def step(self, name, kind, status, description, details=None):
        self.steps.append({"name": name, "provisioningStepType": kind, "status": status, "description": description, "details": details or {}})

    def fail(self, code, reason, recommended, category="nonServiceFailure"):
        self.status = "failure"
        self.error = {"errorCode": code, "reason": reason, "additionalDetails": None, "errorCategory": category, "recommendedAction": recommended}

    def skip(self, code, reason):
        self.status = "skipped"
        self.error = {"errorCode": code, "reason": reason, "additionalDetails": None, "errorCategory": "nonServiceFailure", "recommendedAction": None}


class CycleContext:
    """Everything one cycle (or one on-demand subject) reads: the directory, the job, its target, its settings."""

    def __init__(self, store, state, job, sync_service, now):
        self.store = store
        self.state = state
        self.job = job
        self.behaviour = sync_service.target_behaviour
        self.now = now
        self.sync_all = _truthy(state.secrets.get("SyncAll"))
        self.skip_out_of_scope = _truthy(state.secrets.get("SkipOutOfScopeDeletions"))
        self.rule, self.mappings = object_mappings(job)
        self.target_system = self.rule.get("targetDirectoryName") or job.template_id
        sp_id = state.service_principal_id
        users = people.assigned_user_ids(store, sp_id) if not self.sync_all else list(store.users)
        groups = people.assigned_group_ids(store, sp_id) if not self.sync_all else list(store.groups)
        self.entitled = {"user": dict.fromkeys(users), "group": dict.fromkeys(groups)}
        self._compiled = {}

    def compiled(self, object_type):
        if object_type not in self._compiled:
            self._compiled[object_type] = compile_mapping(self.mapping(object_type))
        return self._compiled[object_type]

    def mapping(self, object_type):
        for kind, mapping in self.mappings:
            if kind == object_type:
                return mapping
        return None

    def source(self, object_type, object_id):
        return (self.store.users if object_type == "user" else self.store.groups).get(object_id)

    def evaluate(self, object_type, object_id, planned_deletes):
        """Import, match, scope, map: an ObjectRun with its planned export (not yet sent), or None when there is nothing to log."""
        obj = self.source(object_type, object_id)
        record = self.job.target.get(object_id)
        mapping = self.mapping(object_type)
        label = object_type.capitalize()
        display = (obj or {}).get("userPrincipalName") or (obj or {}).get("displayName") or (record or {}).get("display") or object_id
        run = ObjectRun(object_type, object_id, display)
        run.target_type = (mapping or {}).get("targetObjectName") or label
        run.target_id = (record or {}).get("id")
        if obj is not None:
            run.imported = True
            run.step("EntryImport", "import", "success", "Retrieved %s '%s' from %s" % (label, display, SOURCE_SYSTEM), {"objectId": object_id})
        run.entitled = obj is not None and object_id in self.entitled[object_type]
        failed_group = None
        attributes = people.source_attributes(self.store, object_type, obj) if obj is not None else {}
        if run.entitled and mapping is not None:
            run.in_scope, failed_group = scope_result(mapping.get("scope"), attributes)
            run.step("EntrySynchronizationScoping", "scoping", "success", "Determine if %s in scope by evaluating against each scoping filter" % label,
                     {"Assigned": "True", "IsActive": str(obj.get("accountEnabled", True)), "IsInProvisioningScope": str(run.in_scope),
                      "ScopeEvaluationResult": "{}" if run.in_scope else json.dumps({failed_group: "False"})})
        if run.in_scope:
            members = None
            if object_type == "group":
                members = [self.job.target[member]["id"] for member in self.store.group_members.get(object_id, []) if member in self.job.target]
            try:
                wanted = desired_attributes(self.compiled(object_type), attributes, self.now, members)
            except (expressions.EvaluationError, expressions.ExpressionError) as exc:
                # Docs are silent on the code for a mapping that fails to evaluate: we chose this one.
                run.fail("AttributeMappingEvaluationFailed", "An attribute mapping of %s '%s' failed: %s" % (label, display, exc),
                         "Correct the attribute mapping's expression.")
                return run
            old = (record or {}).get("attributes") or {}
            if record is None:
                run.action = "create"
                run.target_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s" % (self.job.id, object_id)))
                run.step("EntrySynchronizationAdd", "matching", "success", "%s '%s' will be created in %s (%s is active and assigned in %s, but no "
                         "matching %s was found in %s)" % (label, display, self.target_system, label, SOURCE_SYSTEM, label, self.target_system))
            elif wanted != old:
                run.action = "disable" if old.get("active") == "True" and wanted.get("active") == "False" else "update"
                if run.action == "disable":
                    # Disables count towards the deletion threshold ("users aren't disabled or deleted ... unexpectedly",
                    # [accidental deletions]).
                    planned_deletes.append(run)
                run.step("EntrySynchronizationUpdate", "matching", "success", "%s '%s' will be updated in %s" % (label, display, self.target_system))
            else:
                return None
            names = sorted(set(wanted) | set(old))
            run.modified = [{"displayName": name, "oldValue": _shown(old.get(name)), "newValue": _shown(wanted.get(name))}
                            for name in names if old.get(name) != wanted.get(name)]
            run.planned = ("write", wanted)
            return run
        if record is not None and (obj is None or not record.get("disabled")):
            if object_type == "user" and obj is not None and self.skip_out_of_scope:
                run.skip("EntrySynchronizationSkipped", "%s '%s' left the scope; SkipOutOfScopeDeletions keeps it unchanged in %s." % (
                    label, display, self.target_system))
                return run
            # A user leaving scope is disabled (soft delete); one deleted in the source, or a group, is deleted [how provisioning works].
            run.action = "delete" if obj is None or object_type == "group" else "disable"
            run.modified = [{"displayName": "active", "oldValue": "True", "newValue": "False"}] if run.action == "disable" else []
            run.planned = ("deprovision", run.action)
            planned_deletes.append(run)
            return run
        if obj is not None and run.entitled:
            run.skip("EntrySynchronizationSkipped", "%s '%s' is not in scope: it does not satisfy the scoping filter '%s'." % (
                label, display, failed_group))
            run.step("EntrySynchronizationSkip", "export", "skipped", "%s '%s' was skipped: it is out of scope." % (label, display),
                     {"SkipReason": "NotInScope"})
            return run
        if obj is not None and object_id in self.forced:
            run.skip("NotEffectivelyEntitled", "%s '%s' is not assigned to the application." % (label, display))
            run.step("EntrySynchronizationSkip", "export", "skipped", "%s '%s' was skipped: it is not assigned." % (label, display),
                     {"SkipReason": "NotEffectivelyEntitled"})
            return run
        return None

    forced = ()

    def export(self, run):
        """Send the planned change to the simulated target; applies it when accepted."""
        kind, payload = run.planned
        obj = self.source(run.object_type, run.source_id) or {"id": run.source_id}
        answer = self.behaviour.for_object(obj)
        step_name = {"create": "EntryExportAdd", "update": "EntryExportUpdate", "disable": "EntryExportUpdateSoftDelete",
                     "delete": "EntryExportDelete"}[run.action]
        label = run.object_type.capitalize()
        if answer != "accept":
            code, reason, recommended = _ERRORS[answer]
            subject = next((item["displayName"] for item in run.modified), "the object") if answer != "conflict" else "matching attribute"
            run.fail(code, reason % subject, recommended)
            run.step(step_name, "export", "failure", "Failed to %s %s '%s' in %s" % (run.action, label, run.display, self.target_system),
                     {"ReportableIdentifier": run.display})
            return False
        if kind == "write":
            self.job.target[run.source_id] = {"id": run.target_id, "object_type": run.object_type, "attributes": payload, "display": run.display,
                                              "disabled": payload.get("active") == "False"}
        elif run.action == "delete":
            self.job.target.pop(run.source_id, None)
        else:
            record = self.job.target[run.source_id]
            record["disabled"] = True
            record["attributes"] = dict(record["attributes"], active="False")
        run.status = "success"
        verb = {"create": "created", "update": "updated", "disable": "disabled", "delete": "deleted"}[run.action]
        run.step(step_name, "export", "success", "%s '%s' was %s in %s" % (label, run.display, verb, self.target_system),
                 {"ReportableIdentifier": run.display})
        return True


def log_entry(context, run, cycle_id, at):
    """A provisioningObjectSummary ([provisioning logs] resource; provisioning-logs example for the values)."""
    sp = context.store.service_principals.get(context.state.service_principal_id) or {}
    return {
        "id": str(uuid.uuid4()),
        "activityDateTime": at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "tenantId": context.store.tenant_id,
        "jobId": context.job.id,
        "cycleId": cycle_id,
        "changeId": str(uuid.uuid4()),
        "durationInMilliseconds": 40 + len(run.steps) * 15,
        "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"},
        "provisioningAction": run.action,
        "provisioningStatusInfo": {"status": run.status, "errorInformation": run.error},
        "provisioningSteps": run.steps,
        "modifiedProperties": run.modified,
        "servicePrincipal": {"id": sp.get("id"), "displayName": sp.get("displayName")},
        "sourceIdentity": {"id": run.source_id, "displayName": run.display, "identityType": run.object_type.capitalize(), "details": {}},
        "sourceSystem": {"id": None, "displayName": SOURCE_SYSTEM, "details": {}},
        "targetIdentity": {"id": run.target_id or "", "displayName": run.display if run.target_id else "", "identityType": run.target_type,
                           "details": {}},
        "targetSystem": {"id": None, "displayName": context.target_system,
                         "details": {"ApplicationId": sp.get("appId"), "ServicePrincipalId": sp.get("id"),
                                     "ServicePrincipalDisplayName": sp.get("displayName")}},
    }


# ---------------------------------------------------------------------------------------------
# A cycle
# ---------------------------------------------------------------------------------------------

def _processed(context, full):
    """(object type, id) pairs a cycle looks at: everything entitled and everything in the target for an
    initial cycle; what changed since the last cycle, plus escrowed retries, for an incremental one."""
    store, job = context.store, context.job
    selected = {}
    for object_type in ("user", "group"):
        if context.mapping(object_type) is None:
            continue
        if full:
            ids = list(context.entitled[object_type])
        else:
            source = store.users if object_type == "user" else store.groups
            ids = [object_id for object_id, serial in store.directory_changes.items() if serial > job.seen_serial and (
                object_id in source or job.target.get(object_id, {}).get("object_type") == object_type)]
        ids += [object_id for object_id, record in job.target.items() if record["object_type"] == object_type and (full or object_id in job.escrow)]
        ids += [object_id for object_id in job.escrow if job.escrow[object_id] == object_type]
        for object_id in ids:
            selected[(object_type, object_id)] = True
    return list(selected)


def _export_or_stage(context, run, staged, deletes, threshold):
    if run.planned is None:
        return
    if staged and run.action in DEPROVISIONING_ACTIONS:
        run.skip("TooManyDeletes", "The %s was not %s: this cycle would delete %d objects, more than the accidental-deletion threshold of %d." % (
            run.object_type, "deleted" if run.action == "delete" else "disabled", deletes, threshold))
        run.action = "stagedDelete"
        run.step("EntryExportStagedDelete", "export", "skipped", "The deletion of %s '%s' was staged" % (run.object_type.capitalize(), run.display),
                 {"SkipReason": "TooManyDeletes"})
        return
    context.export(run)


def run_cycle(store, state, job, sync_service, at, full, serial):
    """Run one cycle ending at ``at``; append its log entries; returns a CycleOutcome."""
    context = CycleContext(store, state, job, sync_service, at)
    if context.behaviour.mode in ("unauthorized", "unreachable"):
        # The whole target refuses: the cycle fails and the job is quarantined ([quarantine guide]).
        code = SCIM_INVALID_CREDENTIALS if context.behaviour.mode == "unauthorized" else "TargetUnreachable"
        message = ("The SCIM endpoint rejected the secret token: Unauthorized (401)." if context.behaviour.mode == "unauthorized"
                   else "The target application could not be reached.")
        return CycleOutcome(None, simulation.CycleFailure("EncounteredQuarantineException", code, message, True), 0, None, None)
    cycle_id = simulation.cycle_id(job.id, serial)
    pairs = _processed(context, full)
    planned_deletes = []
    runs = [run for run in (context.evaluate(kind, object_id, planned_deletes) for kind, object_id in pairs if kind == "user") if run]
    group_ids = [object_id for kind, object_id in pairs if kind == "group"]
    for object_id in group_ids:
        # A first look at the groups only counts their deletes (the threshold covers the whole cycle).
        context.evaluate("group", object_id, planned_deletes)
    threshold = delete_threshold(state, job)
    staged = threshold is not None and len(planned_deletes) > threshold and not job.force_deletes
    for run in runs:
        _export_or_stage(context, run, staged, len(planned_deletes), threshold)
    # Groups are evaluated after their members were exported, so "members" names the members' target ids; a
    # group whose provisioned member was created or deleted in this cycle is updated too.
    touched = {run.source_id for run in runs if run.status == "success" and run.action in ("create", "delete")}
    group_ids += [object_id for object_id, record in job.target.items() if record["object_type"] == "group" and object_id not in group_ids
                  and touched & set(store.group_members.get(object_id, []))]
    group_runs = [run for run in (context.evaluate("group", object_id, []) for object_id in group_ids) if run]
    for run in group_runs:
        _export_or_stage(context, run, staged, len(planned_deletes), threshold)
    runs += group_runs
    job.escrow = {run.source_id: run.object_type for run in runs if run.status == "failure"}
    if not staged:
        # A staged cycle keeps its watermark: quarantine retries see the same deletes again until ForceDeletes.
        job.seen_serial = store.directory_serial
        job.force_deletes = False
    entries = [log_entry(context, run, cycle_id, at - datetime.timedelta(microseconds=len(runs) - index)) for index, run in enumerate(runs)]
    sync_service.add_log_entries(entries)
    failures = sum(1 for run in runs if run.status == "failure")
    exported = sum(1 for run in runs if run.status == "success" and run.action in EXPORT_ACTIONS)
    imported = sum(1 for run in runs if run.imported)
    counts = {
        "countEntitled": sum(1 for run in runs if run.entitled),
        "countEntitledForProvisioning": sum(1 for run in runs if run.in_scope),
        "countEscrowed": failures, "countEscrowedRaw": failures,
        "countExported": exported, "countExports": exported + failures,
        "countImported": imported, "countImportedDeltas": 0 if full else imported, "countImportedReferenceDeltas": 0,
    }
    users = sum(1 for record in job.target.values() if record["object_type"] == "user")
    groups = sum(1 for record in job.target.values() if record["object_type"] == "group")
    failure = None
    if staged:
        # Docs are silent on the quarantine error's code and message: we chose these ([accidental deletions] for the reason).
        failure = simulation.CycleFailure("TooManyDeletes", "TooManyDeletes",
                                          "The job would delete %d objects, more than the accidental-deletion threshold of %d. Review the staged "
                                          "deletes in the provisioning logs, then restart the job with ForceDeletes to allow them."
                                          % (len(planned_deletes), threshold), True)
    return CycleOutcome(counts, failure, failures, users, groups)


# ---------------------------------------------------------------------------------------------
# provisionOnDemand
# ---------------------------------------------------------------------------------------------

def run_on_demand(store, state, job, sync_service, object_type, object_ids, now):
    """Run ``object_ids`` (a user, or a group then its members) through the cycle's path; returns their log entries."""
    context = CycleContext(store, state, job, sync_service, now)
    context.forced = set(object_ids)
    cycle_id = str(uuid.uuid4())
    entries = []
    order = [("user", member) for member in object_ids[1:]] + [(object_type, object_ids[0])] if object_type == "group" else [(object_type, object_ids[0])]
    for index, (kind, object_id) in enumerate(order):
        run = context.evaluate(kind, object_id, [])
        if run is None:
            # The documented answer for an object already up to date [provisionOnDemand].
            obj = context.source(kind, object_id)
            run = ObjectRun(kind, object_id, obj.get("userPrincipalName") or obj.get("displayName"))
            run.target_id = job.target[object_id]["id"]
            run.target_type = (context.mapping(kind) or {}).get("targetObjectName") or kind.capitalize()
            run.skip("RedundantExport", "The state of the %s in both the source and target systems already match." % kind)
            run.step("EntrySynchronizationSkip", "export", "skipped", "The state of the %s in both the source and target systems already match. No "
                     "change to the %s '%s' currently needs to be made." % (kind, kind.capitalize(), run.display), {"SkipReason": "RedundantExport"})
        elif run.planned is not None and run.status != "failure":
            context.export(run)
        if run.status == "failure":
            job.escrow[object_id] = kind
        else:
            job.escrow.pop(object_id, None)
        entries.append(log_entry(context, run, cycle_id, now + datetime.timedelta(microseconds=index)))
    sync_service.add_log_entries(entries)
    return entries


def on_demand_answer(entry):
    """The stringKeyStringValuePair documents of [provisionOnDemand] (its example's key/value shapes) for one log entry."""
    status = entry["provisioningStatusInfo"]["status"]
    error = entry["provisioningStatusInfo"]["errorInformation"] or {}
    key = {"result": status.capitalize(), "details": {} if status == "success" else {"errorCode": error.get("errorCode"),
                                                                                     "errorMessage": error.get("reason")}}
    action = entry["provisioningAction"]
    value = {
        "action": action[:1].upper() + action[1:],
        "changeId": entry["changeId"],
        "endTime": entry["activityDateTime"],
        "modifiedProperties": entry["modifiedProperties"],
        "provisioningSteps": [{"name": step["name"], "type": step["provisioningStepType"].capitalize(), "status": step["status"].capitalize(),
                               "description": step["description"], "timestamp": entry["activityDateTime"], "details": step["details"]}
                              for step in entry["provisioningSteps"]],
        "reportableIdentifier": entry["sourceIdentity"]["displayName"],
        "startTime": entry["activityDateTime"],
        "statusInfo": {"status": status.capitalize(), "errorCode": error.get("errorCode"), "reason": error.get("reason"),
                       "additionalDetails": None, "errorCategory": error.get("errorCategory"), "recommendedAction": error.get("recommendedAction")},
        "sourceIdentity": {"id": entry["sourceIdentity"]["id"], "type": entry["sourceIdentity"]["identityType"], "displayName": None, "details": None},
        "sourceSystem": {"id": None, "name": SOURCE_SYSTEM, "details": None},
        "targetIdentity": {"id": entry["targetIdentity"]["id"] or None, "type": entry["targetIdentity"]["identityType"], "displayName": None,
                           "details": None},
        "targetSystem": {"id": None, "name": entry["targetSystem"]["displayName"], "details": None},
    }
    return key, value
