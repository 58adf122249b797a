"""The synchronization part of the control API (``/_emulator/synchronization/...``): settings,
simulated SCIM targets, seeding jobs, injecting quarantine and escrows.

Names in brackets, like [our choice], are public pages listed in docs/synchronization.md#sources.
"""

import re

from . import provisioning
from . import simulation
from ..framework import GraphHttpError
from ..framework import json_response
from ..framework import no_content
from .bodies import ENUMS
from .credentials import normalise_base_address
from .hooks import seed_job
from .jobs import render_job
from .state import advance_job
from .state import advance_jobs
from .state import cycle_environment
from .state import not_found
from .state import service
from .state import state_for


def _control_body(request):
    """The body as a dict with snake_case keys, like the core's control API (camelCase is accepted too)."""
    body = request.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise GraphHttpError(400, "BadRequest", "The body must be a JSON object.")
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in body.items()}


def control_get_settings(request):
    return json_response(service(request.store).settings.to_dict())


def control_patch_settings(request):
    body = _control_body(request)
    settings = service(request.store).settings
    if "page_size" in body:
        size = body["page_size"]
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise GraphHttpError(400, "BadRequest", "page_size must be a positive integer or null.")
        settings.page_size = size
    if "schema_patch" in body:
        if body["schema_patch"] not in ("accept", "reject"):
            raise GraphHttpError(400, "BadRequest", "schema_patch must be 'accept' or 'reject'.")
        settings.schema_patch = body["schema_patch"]
    if "premium_license" in body:
        if not isinstance(body["premium_license"], bool):
            raise GraphHttpError(400, "BadRequest", "premium_license must be true or false.")
        settings.premium_license = body["premium_license"]
    for name in ("provision_on_demand_limit", "provision_on_demand_window_seconds", "provisioning_log_delay_seconds"):
        if name in body:
            try:
                setattr(settings, name, type(getattr(settings, name))(body[name]))
            except (TypeError, ValueError):
                raise GraphHttpError(400, "BadRequest", "%s must be a number." % name) from None
    return json_response(settings.to_dict())


def _advance_store(store, now):
    for state in store.synchronization.values():
        advance_jobs(store, state, now)


def control_list_scim_targets(request):
    targets = service(request.store).scim_targets
    return json_response({"value": [{"base_address": address, "secret_token_count": len(tokens)} for address, tokens in sorted(targets.items())]})


def control_add_scim_target(request):
    """Register a simulated SCIM endpoint: ``{"base_address": ..., "secret_token": ...}`` (or ``secret_tokens: [...]``;
    an empty list rejects every token)."""
    body = _control_body(request)
    address = normalise_base_address(body.get("base_address"))
    if not address.startswith("https://"):
        raise GraphHttpError(400, "BadRequest", "base_address must be an https URL.")
    tokens = body.get("secret_tokens")
    if tokens is None:
        tokens = [body["secret_token"]] if body.get("secret_token") else []
    if not isinstance(tokens, list) or not all(isinstance(token, str) and token for token in tokens):
        raise GraphHttpError(400, "BadRequest", "secret_tokens must be a list of non-empty strings.")
    store = request.store
    with store.lock:
        # Jobs already due run their cycles against the targets as they were.
        _advance_store(store, request.clock.now())
        service(store).scim_targets[address] = frozenset(tokens)
    return json_response({"base_address": address, "secret_token_count": len(tokens)}, status=201)


def control_clear_scim_targets(request):
    store = request.store
    with store.lock:
        _advance_store(store, request.clock.now())
        service(store).scim_targets.clear()
    return no_content()


def _control_job(request):
    store = request.store
    service_principal = store.service_principals.get(request.params["sp_id"])
    if service_principal is None:
        raise not_found(request.params["sp_id"])
    state = state_for(store, service_principal)
    job = state.jobs.get(request.params["job_id"])
    if job is None:
        raise not_found(request.params["job_id"])
    return state, job


def control_quarantine_job(request):
    """Quarantine a job now ([our choice] "Quarantine injectable for tests"); body ``{reason?, code?, message?, tenant_actionable?}``.
    It keeps failing until start, or restart with QuarantineState, lifts it."""
    body = _control_body(request)
    reason = body.get("reason", "QuarantinedOnDemand")
    if reason not in ENUMS["quarantineReason"]:
        raise GraphHttpError(400, "BadRequest", "reason must be one of %s." % ", ".join(sorted(ENUMS["quarantineReason"])))
    failure = simulation.CycleFailure(reason, body.get("code", "QuarantinedOnDemand"),
                                      body.get("message", "We've detected an issue with your application and have manually set it to quarantine."),
                                      bool(body.get("tenant_actionable", True)))
    store = request.store
    with store.lock:
        state, job = _control_job(request)
        now = request.clock.now()
        advance_job(store, state, job, now)
        job.runtime.force_quarantine(now, failure, cycle_environment(store, state, job))
    return no_content()


def control_set_escrows(request):
    """Make ``{"count": N}`` entries fail in every later cycle (EntryLevelErrors) until restart with Escrows."""
    body = _control_body(request)
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise GraphHttpError(400, "BadRequest", "count must be a non-negative integer.")
    store = request.store
    with store.lock:
        state, job = _control_job(request)
        advance_job(store, state, job, request.clock.now())
        job.runtime.escrowed = count
    return no_content()


def control_get_target(request):
    return json_response(service(request.store).target_behaviour.to_dict())


def control_put_target(request):
    """How the simulated target answers exports: ``{"mode": behaviour, "objects": {id or userPrincipalName: behaviour}}``,
    behaviours ``accept``, ``conflict``, ``invalid_value``, ``unauthorized``, ``unreachable`` (provisioning.py). A global
    ``unauthorized`` or ``unreachable`` fails whole cycles (quarantine); per object, the object's export fails."""
    body = _control_body(request)
    mode = body.get("mode", "accept")
    objects = body.get("objects") or {}
    if mode not in provisioning.BEHAVIOURS or not isinstance(objects, dict) or any(value not in provisioning.BEHAVIOURS for value in objects.values()):
        raise GraphHttpError(400, "BadRequest", "mode and objects' values must be one of %s." % ", ".join(provisioning.BEHAVIOURS))
    store = request.store
    with store.lock:
        # Cycles already due ran against the target as it was.
        _advance_store(store, request.clock.now())
        behaviour = service(store).target_behaviour
        behaviour.mode = mode
        behaviour.objects = {(key if "@" not in key else key.casefold()): value for key, value in objects.items()}
    return json_response(behaviour.to_dict())


def control_target_objects(request):
    """What the simulated target holds for a job: ``{"value": [{source_id, id, object_type, attributes, disabled}]}``."""
    store = request.store
    with store.lock:
        state, job = _control_job(request)
        advance_job(store, state, job, request.clock.now())
        return json_response({"value": [dict(record, source_id=source_id) for source_id, record in job.target.items()]})


def control_seed_job(request):
    """``{"template_id"?: ..., "state": ...}`` -> 201 with the job as Graph shows it."""
    body = _control_body(request)
    store = request.store
    try:
        job_id = seed_job(store, request.params["sp_id"], body.get("template_id"), body.get("state", "active"))
    except ValueError as exc:
        raise GraphHttpError(400, "BadRequest", str(exc)) from None
    with store.lock:
        state = store.synchronization[request.params["sp_id"]]
        return json_response(render_job(store, state, state.jobs[job_id], request.clock.now()), status=201)
