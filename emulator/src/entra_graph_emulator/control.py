"""The control API under ``/_emulator/`` (no auth, no faults, not logged).

Routes are relative to ``/_emulator``. Route modules may add their own through an optional
``CONTROL_ROUTES = [(method, pattern, handler), ...]`` list.
"""

from .app_registrations import AppRegistrationError
from .faults import FaultConfigError
from .framework import GraphHttpError
from .framework import json_response
from .framework import no_content


def _body(request, default=None):
    body = request.json()
    if body is None:
        return {} if default is None else default
    if not isinstance(body, dict):
        raise GraphHttpError(400, "BadRequest", "The body must be a JSON object.")
    return body


def get_info(request):
    return json_response(request.emulator.info)


def get_requests(request):
    try:
        since = int(request.query.get("since", "0") or 0)
    except ValueError:
        raise GraphHttpError(400, "BadRequest", "since must be an integer") from None
    log = request.emulator.log
    entries = log.since(since)
    return json_response({"requests": entries, "last_seq": log.last_seq})


def delete_requests(request):
    request.emulator.log.clear()
    return no_content()


def get_faults(request):
    return json_response(request.emulator.faults.state())


def put_faults(request):
    try:
        request.emulator.set_faults(_body(request))
    except FaultConfigError as exc:
        raise GraphHttpError(400, "BadRequest", "Invalid fault configuration: %s" % exc) from None
    return json_response(request.emulator.faults.state())


def post_reset(request):
    body = _body(request)
    request.emulator.reset(keep_faults=bool(body.get("keep_faults")), keep_apps=bool(body.get("keep_apps")),
                           keep_log=bool(body.get("keep_log")))
    return json_response({"reset": True, "service_principals": len(request.store.service_principals)})


def get_apps(request):
    return json_response({"apps": [app.to_dict() for app in request.emulator.apps.all()]})


def post_apps(request):
    try:
        registration = request.emulator.apps.register(_body(request))
    except AppRegistrationError as exc:
        raise GraphHttpError(400, "BadRequest", str(exc)) from None
    return json_response(registration.to_dict(), status=201)


def delete_app(request):
    if request.emulator.apps.remove(request.params["client_id"]) is None:
        raise GraphHttpError(404, "Request_ResourceNotFound", "No registered app '%s'." % request.params["client_id"])
    return no_content()


def post_seed(request):
    from . import seeding  # pylint: disable=import-outside-toplevel
    body = _body(request)
    try:
        result = seeding.seed_service_principals(
            request.emulator,
            int(body.get("service_principals", 0)),
            int(body.get("with_jobs", 0)),
            seed=body.get("seed"),
            job_template_id=body.get("job_template_id"),
            display_name_prefix=body.get("display_name_prefix"),
            application_template_id=body.get("application_template_id"),
            return_ids=bool(body.get("return_ids", False)),
        )
    except (TypeError, ValueError) as exc:
        raise GraphHttpError(400, "BadRequest", str(exc)) from None
    return json_response(result, status=201)


def _clock_state(request):
    clock = request.clock
    return {"now": clock.now().isoformat().replace("+00:00", "Z"), "acceleration": clock.acceleration}


def get_clock(request):
    return json_response(_clock_state(request))


def post_clock(request):
    body = _body(request)
    try:
        if "acceleration" in body:
            request.clock.set_acceleration(float(body["acceleration"]))
        if "advance_seconds" in body:
            request.clock.advance(float(body["advance_seconds"]))
    except (TypeError, ValueError) as exc:
        raise GraphHttpError(400, "BadRequest", str(exc)) from None
    advanced = request.emulator.hook("on_clock_advanced")
    if advanced is not None:
        advanced(request.store)
    return json_response(_clock_state(request))


def put_settings(request):
    """Change run-time settings: ``cycle_seconds``, ``token_lifetime``."""
    body = _body(request)
    if "cycle_seconds" in body:
        request.store.settings.cycle_seconds = float(body["cycle_seconds"])
    if "token_lifetime" in body:
        request.emulator.tokens.token_lifetime = int(body["token_lifetime"])
    return json_response({"cycle_seconds": request.store.settings.cycle_seconds, "token_lifetime": request.emulator.tokens.token_lifetime})


CONTROL_ROUTES = [
    ("GET", "/info", get_info, None),
    ("GET", "/requests", get_requests, None),
    ("DELETE", "/requests", delete_requests, None),
    ("GET", "/faults", get_faults, None),
    ("PUT", "/faults", put_faults, None),
    ("POST", "/reset", post_reset, None),
    ("GET", "/apps", get_apps, None),
    ("POST", "/apps", post_apps, None),
    ("DELETE", "/apps/{client_id}", delete_app, None),
    ("POST", "/seed", post_seed, None),
    ("GET", "/clock", get_clock, None),
    ("POST", "/clock", post_clock, None),
    ("PUT", "/settings", put_settings, None),
]
