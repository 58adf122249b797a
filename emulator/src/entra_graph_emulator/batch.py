"""JSON batching: ``POST /$batch`` ([batching]).

At most 20 requests (400 beyond); urls relative to the batch's version; ``dependsOn`` orders
requests and a failed dependency fails its dependants with 424; the outer status is 200 when
the batch parses. Every item goes through the same router, authentication (the container's
token), permission checks and fault injection, so an item can get its own 429 with
``Retry-After``. Items whose dependencies are met run concurrently when item latency is
configured, so responses may come back out of order (as the doc warns).

Names in brackets, like [batching], are public pages listed in docs/synchronization.md#sources.
"""

import concurrent.futures
import json

from .framework import GraphHttpError
from .framework import Headers
from .framework import RouteTable
from .framework import json_response
from .permissions import ANY_VALID_TOKEN

ROUTES = RouteTable()

MAX_BATCH_REQUESTS = 20
_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="graph-emulator-batch")


def _bad(message):
    return GraphHttpError(400, "BadRequest", message)


def _validate(payload):
    """Return the list of items, or raise 400 for a malformed batch."""
    if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
        raise _bad("Invalid batch payload format: the body must be {\"requests\": [...]}.")
    items = payload["requests"]
    if not items:
        raise _bad("Invalid batch payload format: the batch has no requests.")
    if len(items) > MAX_BATCH_REQUESTS:
        raise _bad("Number of requests in a batch exceeds the limit of %d (got %d)." % (MAX_BATCH_REQUESTS, len(items)))
    seen = set()
    for item in items:
        if not isinstance(item, dict):
            raise _bad("Invalid batch payload format: every request is an object.")
        for field in ("id", "method", "url"):
            if not isinstance(item.get(field), str) or not item[field]:
                raise _bad("Invalid batch payload format: a request is missing '%s'." % field)
        if item["id"] in seen:
            raise _bad("Duplicate request id '%s' in the batch." % item["id"])
        seen.add(item["id"])
        headers = item.get("headers")
        if headers is not None and not isinstance(headers, dict):
            raise _bad("Request %s: 'headers' must be an object." % item["id"])
        depends_on = item.get("dependsOn")
        if depends_on is not None and (not isinstance(depends_on, list) or not all(isinstance(dep, str) for dep in depends_on)):
            raise _bad("Request %s: 'dependsOn' must be a list of request ids." % item["id"])
        if "://" in item["url"]:
            raise _bad("Request %s: the url must be relative to the batch's version (e.g. /servicePrincipals)." % item["id"])
    ids = {item["id"] for item in items}
    for item in items:
        for dependency in item.get("dependsOn") or []:
            if dependency not in ids:
                raise _bad("Request %s depends on '%s', which is not in the batch." % (item["id"], dependency))
    _check_acyclic(items)
    return items


def _check_acyclic(items):
    remaining = {item["id"]: set(item.get("dependsOn") or []) for item in items}
    done = set()
    while remaining:
        ready = [item_id for item_id, deps in remaining.items() if deps <= done]
        if not ready:
            raise _bad("The dependsOn references in the batch form a cycle.")
        for item_id in ready:
            done.add(item_id)
            del remaining[item_id]


def _item_headers(item):
    return {str(name): str(value) for name, value in (item.get("headers") or {}).items()}


def _run_item(request, item):
    emulator = request.emulator
    headers = _item_headers(item)
    body = item.get("body")
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), None)
    if body is not None and content_type is None:
        # [batching]: "headers with Content-Type is required whenever body is present"
        # (docs are silent on whether the item or the batch fails: we fail the item).
        return emulator.graph_error(request.context, _bad("Request %s has a body but no Content-Type header." % item["id"]))
    raw_body = b"" if body is None else (body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8"))
    # The container's Authorization applies; an item cannot bring its own.
    headers = {name: value for name, value in headers.items() if name.lower() != "authorization"}
    return emulator.serve_batch_item(request.context, item["method"].upper(), item["url"], Headers(headers), raw_body, request.claims)


def _to_item_response(item_id, response):
    payload, content_type = response.encode()
    headers = {name: value for name, value in response.headers.items()
               if name.lower() not in ("request-id", "client-request-id", "content-length", "odata-version")}
    entry = {"id": item_id, "status": response.status}
    if content_type:
        headers["Content-Type"] = content_type
    if headers:
        entry["headers"] = headers
    if payload:
        try:
            entry["body"] = json.loads(payload)
        except ValueError:
            entry["body"] = payload.decode("utf-8", "replace")
    return entry


def _failed_dependency(item_id, dependency):
    return {"id": item_id, "status": 424, "body": {"error": {"code": "FailedDependency",
                                                             "message": "The request failed because request '%s' it depends on failed." % dependency}}}


@ROUTES.route("POST", "/$batch", permission=ANY_VALID_TOKEN)
def run_batch(request):
    items = _validate(request.json())
    request.context.api_version = request.api_version
    request.context.batch_item_methods = [item["method"] for item in items]
    emulator = request.emulator
    statuses = {}
    responses = []
    pending = list(items)
    run_concurrently = emulator.faults.batch_item_latency_seconds > 0
    while pending:
        wave = [item for item in pending if all(dep in statuses for dep in item.get("dependsOn") or [])]
        pending = [item for item in pending if item not in wave]
        runnable = []
        for item in wave:
            failed = next((dep for dep in item.get("dependsOn") or [] if statuses[dep] >= 400), None)
            if failed is not None:
                statuses[item["id"]] = 424
                responses.append(_failed_dependency(item["id"], failed))
            else:
                runnable.append(item)
        if run_concurrently and len(runnable) > 1:
            futures = {_EXECUTOR.submit(_run_item, request, item): item for item in runnable}
            finished = [(futures[future], future.result()) for future in concurrent.futures.as_completed(futures)]
        else:
            finished = [(item, _run_item(request, item)) for item in runnable]
        for item, response in finished:
            statuses[item["id"]] = response.status
            responses.append(_to_item_response(item["id"], response))
    if emulator.faults.batch_shuffle_responses:
        emulator.faults.shuffle(responses)
    return json_response({"responses": responses})
