"""Actions on synchronization jobs: start, pause, restart, validateCredentials (on a job and on the
jobs collection) and provisionOnDemand.

Names in brackets, like [restart], are public pages listed in docs/synchronization.md#sources.
"""

import json
import uuid

from . import provisioning
from . import simulation
from .. import people
from ..framework import GraphHttpError
from ..framework import Response
from ..framework import json_response
from ..framework import no_content
from ..framework import throttled_body
from .bodies import checked_action
from .bodies import read_body
from .credentials import credential_problem
from .state import advance_job
from .state import cycle_environment
from .state import find_job
from .state import find_root
from .state import service


def _job_action(request, action):
    root = find_root(request)
    store = request.store
    with store.lock:
        job = find_job(root, request)
        now = request.clock.now()
        advance_job(store, root.state, job, now)
        action(job, now, cycle_environment(store, root.state, job))
    return no_content()


def start_job(request):
    read_body(request, required=False)
    return _job_action(request, lambda job, now, environment: job.runtime.start(now, environment))


def pause_job(request):
    read_body(request, required=False)
    return _job_action(request, lambda job, now, environment: job.runtime.pause(now))


def restart_job(request):
    body = checked_action(request, "restart")
    criteria = body.get("criteria") or {}
    try:
        # One comma-separated flags string ([restart]); empty or absent = the portal's Restart.
        scope = simulation.parse_reset_scope(criteria.get("resetScope"))
    except ValueError as exc:
        raise GraphHttpError(400, "BadRequest", "Requested value '%s' was not found. resetScope is a comma-separated combination of %s."
                             % (exc, ", ".join(simulation.RESTART_SCOPE_FLAGS))) from None

    def restart(job, now, environment):
        if scope & simulation.FORCE_DELETES:
            # "ForceDeletes: forces pending deletes when the accidental-deletion threshold was exceeded" [restart].
            job.force_deletes = True
        job.runtime.restart(now, scope, environment)

    return _job_action(request, restart)


# ---------------------------------------------------------------------------------------------
# validateCredentials, on a job or on the jobs collection
# ---------------------------------------------------------------------------------------------

def _credentials_dict(pairs):
    return {pair.get("key"): pair.get("value") for pair in pairs or [] if pair.get("key")}


def _validate(state, entry, body, store):
    if body.get("useSavedCredentials"):
        # "useSavedCredentials: true ignores credentials and validates the saved ones" [validateCredentials].
        secrets = dict(state.secrets)
    else:
        secrets = _credentials_dict(body.get("credentials"))
    problem = credential_problem(entry.credential_kind, secrets, service(store).scim_targets)
    if problem is None:
        return no_content()
    # The failure shape is undocumented [validateCredentials]: we chose 400 CredentialValidationUnavailable with the
    # target-specific code in details ([SCIM onboarding agent] and [Asterius test], [observed errors]).
    raise GraphHttpError(400, "CredentialValidationUnavailable", problem.detail_message,
                         details=[{"code": problem.detail_code, "message": problem.message, "target": problem.target}])


def validate_job_credentials(request):
    root = find_root(request)
    body = checked_action(request, "validateCredentials", required=True, enum_status=500)
    with request.store.lock:
        job = find_job(root, request)
        return _validate(root.state, job.entry, body, request.store)


def validate_credentials(request):
    """The collection-bound form ([validateCredentials, beta], [cross-tenant guide] step 7): needs templateId."""
    root = find_root(request)
    body = checked_action(request, "validateCredentials", required=True, enum_status=500)
    template_id = body.get("templateId")
    if not template_id or (not body.get("useSavedCredentials") and body.get("credentials") is None):
        # [SCIM onboarding agent]: a body without templateId or credentials [observed errors].
        raise GraphHttpError(400, "RequestMissingRequiredParameter", "The request is missing a required parameter: templateId and credentials.")
    with request.store.lock:
        if template_id not in root.state.templates:
            raise GraphHttpError(400, "invalidRequest", "The templateId '%s' does not match any synchronization template of this application."
                                 % template_id)
        return _validate(root.state, root.state.templates[template_id], body, request.store)


# ---------------------------------------------------------------------------------------------
# provisionOnDemand [provisionOnDemand]
# ---------------------------------------------------------------------------------------------

def _throttled(request):
    """None, or the 429 for the sixth call in 10 s [provisionOnDemand], with the documented throttling
    body [throttling]; counted per calling app and tenant (docs are silent on the scope)."""
    sync_service = service(request.store)
    settings = sync_service.settings
    claims = request.claims or {}
    key = (claims.get("tid"), claims.get("appid") or claims.get("azp"))
    now = sync_service.monotonic()
    calls = [moment for moment in sync_service.provision_on_demand_calls.get(key, []) if now - moment < settings.provision_on_demand_window_seconds]
    if len(calls) >= settings.provision_on_demand_limit:
        retry_after = max(settings.provision_on_demand_window_seconds - (now - calls[0]), 0.001)
        sync_service.provision_on_demand_calls[key] = calls
        # Fractional seconds are allowed ([throttling]: "Retry-After: 2.128").
        return Response(429, throttled_body(request.context), {"Retry-After": ("%.3f" % retry_after).rstrip("0").rstrip(".")})
    calls.append(now)
    sync_service.provision_on_demand_calls[key] = calls
    return None


def provision_on_demand(request):
    root = find_root(request)
    body = checked_action(request, "provisionOnDemand", required=True)
    parameters = body.get("parameters") or []
    if not parameters or not (parameters[0].get("subjects") or []):
        raise GraphHttpError(400, "BadRequest", "parameters must hold one rule with at least one subject.")
    store = request.store
    with store.lock:
        job = find_job(root, request)
        throttled = _throttled(request)
        if throttled is not None:
            return throttled
        now = request.clock.now()
        advance_job(store, root.state, job, now)
        rule = _find_rule(job.current_schema(), parameters[0].get("ruleId"))
        subject = parameters[0]["subjects"][0]
        if not subject.get("objectId"):
            raise GraphHttpError(400, "BadRequest", "parameters[0].subjects[0].objectId is required.")
        problem = credential_problem(job.entry.credential_kind, root.state.secrets, service(store).scim_targets)
        if problem is None and people.is_directory_backed(store, root.state.service_principal_id):
            key, value = _provision_directory_object(store, root.state, job, subject, now)
        else:
            key, value = _provisioning_result(job, rule, subject, problem, now)
    return json_response({"@odata.context": "%s/$metadata#microsoft.graph.stringKeyStringValuePair" % request.base_url,
                          "key": json.dumps(key, separators=(",", ":")), "value": json.dumps(value, separators=(",", ":"))})


def _provision_directory_object(store, state, job, subject, now):
    """One subject of a directory-backed job through the cycle's path (provisioning.py): a user, or a group with
    up to five members ("links": {"members": [...]}, [provisionOnDemand] synchronizationLinkedObjects)."""
    type_name = str(subject.get("objectTypeName") or "User")
    object_type = type_name.lower()
    if object_type not in ("user", "group"):
        raise GraphHttpError(400, "BadRequest", "objectTypeName must be User or Group.")
    found = (people.find_user(store, subject["objectId"]) if object_type == "user" else store.groups.get(subject["objectId"]))
    if found is None:
        # Docs are silent on an unknown subject: we chose Graph's usual not-found error.
        raise GraphHttpError(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present."
                             % subject["objectId"])
    members = [member.get("objectId") for member in ((subject.get("links") or {}).get("members") or [])]
    if object_type == "user" and members:
        raise GraphHttpError(400, "BadRequest", "links.members applies to groups only.")
    if len(members) > 5:
        # "you can provision a group with up to five members on demand" [provision on demand guide].
        raise GraphHttpError(400, "BadRequest", "A group can be provisioned on demand with up to 5 members; %d were given." % len(members))
    for member in members:
        if member not in store.group_members.get(found["id"], []):
            raise GraphHttpError(400, "BadRequest", "'%s' is not a member of the group '%s'." % (member, found["id"]))
    entries = provisioning.run_on_demand(store, state, job, service(store), object_type, [found["id"]] + members, now)
    return provisioning.on_demand_answer(entries[-1])


def _find_rule(schema, rule_id):
    rules = schema.get("synchronizationRules") or []
    for rule in rules:
        if rule.get("id") == rule_id:
            return rule
    if rules:
        raise GraphHttpError(400, "BadRequest", "The ruleId '%s' does not match any synchronization rule of the job's schema." % rule_id)
    # Docs are silent; templates printed with an empty schema accept any ruleId (our choice).
    return {}


def _provisioning_result(job, rule, subject, problem, now):
    """The key/value documents of [provisionOnDemand] (job-provisionondemand.response.decoded.json shapes)."""
    object_id = subject["objectId"]
    type_name = subject.get("objectTypeName") or "User"
    source_system = rule.get("sourceDirectoryName") or "Azure Active Directory"
    target_system = rule.get("targetDirectoryName") or job.template_id
    target_type = type_name
    for mapping in rule.get("objectMappings") or []:
        if str(mapping.get("sourceObjectName") or "").lower() == type_name.lower() and mapping.get("enabled"):
            target_type = mapping.get("targetObjectName") or type_name
            break
    stamp = simulation.format_time(now)
    steps = [{"name": "EntryImport", "type": "Import", "status": "Success", "timestamp": stamp,
              "description": "Retrieved %s '%s' from %s" % (type_name, object_id, source_system), "details": {"objectId": object_id}}]
    subject_key = (type_name.lower(), object_id)
    if problem is not None:
        result = {"result": "Failure", "details": {"errorCode": problem.code, "errorMessage": problem.message}}
        steps.append({"name": "EntryExportAdd", "type": "Export", "status": "Failure", "timestamp": stamp, "description": problem.message,
                      "details": {"ErrorCode": problem.code}})
        action, status, target_id = "Other", "Failure", None
    elif subject_key in job.provisioned_subjects:
        # The documented Skipped/RedundantExport answer for a subject already in the target.
        message = "The state of the user in both the source and target systems already match."
        result = {"result": "Skipped", "details": {"errorCode": "RedundantExport", "errorMessage": message}}
        steps.append({"name": "EntrySynchronizationSkip", "type": "Export", "status": "Skipped", "timestamp": stamp,
                      "description": "%s No change to the %s '%s' currently needs to be made." % (message, type_name, object_id),
                      "details": {"SkipReason": "RedundantExport"}})
        action, status, target_id = "Other", "Skipped", str(uuid.uuid5(uuid.NAMESPACE_URL, job.id + "/" + object_id))
    else:
        result = {"result": "Success", "details": {}}
        steps.append({"name": "EntryImportAdd", "type": "Matching", "status": "Success", "timestamp": stamp,
                      "description": "%s '%s' will be created in %s (%s is not present in %s)" % (type_name, object_id, target_system,
                                                                                                  type_name, target_system), "details": {}})
        steps.append({"name": "EntrySynchronizationScoping", "type": "Scoping", "status": "Success", "timestamp": stamp,
                      "description": "Determine if %s in scope by evaluating against each scoping filter" % type_name,
                      "details": {"Assigned": "True", "IsActive": "True", "ScopeEvaluationResult": "{}"}})
        steps.append({"name": "EntryExportAdd", "type": "Export", "status": "Success", "timestamp": stamp,
                      "description": "%s '%s' was created in %s" % (type_name, object_id, target_system), "details": {}})
        job.provisioned_subjects.add(subject_key)
        action, status, target_id = "Create", "Success", str(uuid.uuid5(uuid.NAMESPACE_URL, job.id + "/" + object_id))
    value = {
        "action": action,
        "changeId": str(uuid.uuid4()),
        "endTime": stamp,
        "modifiedProperties": [{"displayName": "objectId", "oldValue": None, "newValue": object_id}],
        "provisioningSteps": steps,
        "reportableIdentifier": object_id,
        "startTime": stamp,
        "statusInfo": {"status": status, "errorCode": problem.code if problem else None, "reason": problem.message if problem else None,
                       "additionalDetails": None, "errorCategory": "NonServiceFailure" if problem else None, "recommendedAction": None},
        "sourceIdentity": {"id": object_id, "type": type_name, "displayName": None, "details": None},
        "sourceSystem": {"id": None, "name": source_system, "details": None},
        "targetIdentity": {"id": target_id, "type": target_type, "displayName": None, "details": None},
        "targetSystem": {"id": None, "name": target_system, "details": None},
    }
    return result, value
