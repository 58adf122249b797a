"""The service principal's saved secrets (PUT replaces the set, GET masks) and acquireAccessToken.

Names in brackets, like [secrets PUT], are public pages listed in docs/synchronization.md#sources.
"""

from ..framework import GraphHttpError
from ..framework import json_response
from ..framework import no_content
from .bodies import BodyError
from .bodies import check_value
from .bodies import checked_action
from .bodies import read_body
from .credentials import MASK
from .state import advance_jobs
from .state import find_root
from .state import odata_context


def put_secrets(request):
    """PUT replaces the whole set; "" removes a key; keys are the synchronizationSecret enum ([secrets PUT], [Terraform])."""
    root = find_root(request)
    body = read_body(request)
    try:
        for name, value in body.items():
            if "@" in name:
                continue
            if name != "value":
                # Catches the docs' "credentials" parameter-table pitfall [secrets PUT].
                raise BodyError("The property '%s' does not exist on the secrets collection. The body is {\"value\": [{\"key\": ..., "
                                "\"value\": ...}]}." % name)
            check_value(value, ["synchronizationSecretKeyStringValuePair"], "value")
    except BodyError as exc:
        raise GraphHttpError(400, "BadRequest", exc.message) from None
    if not isinstance(body.get("value"), list):
        raise GraphHttpError(400, "BadRequest", "The value property is required: {\"value\": [{\"key\": ..., \"value\": ...}]}.")
    for index, pair in enumerate(body["value"]):
        if not pair.get("key"):
            raise GraphHttpError(400, "BadRequest", "value[%d].key is required." % index)
    secrets = {}
    for pair in body["value"]:
        if pair.get("value") in (None, ""):
            secrets.pop(pair["key"], None)
        else:
            secrets[pair["key"]] = pair["value"]
    store = request.store
    with store.lock:
        advance_jobs(store, root.state, request.clock.now())
        root.state.secrets = secrets
    return no_content()


def get_secrets(request):
    root = find_root(request)
    with request.store.lock:
        masked = root.state.masked_keys()
        value = [{"key": key, "value": MASK if key in masked else secret} for key, secret in root.state.secrets.items()]
    return json_response({"@odata.context": odata_context(request, root, "secrets"), "value": value})


def acquire_access_token(request):
    """204 [acquireAccessToken]. Docs are silent on its effect: we chose to check the body and change nothing."""
    find_root(request)
    checked_action(request, "acquireAccessToken")
    return no_content()
