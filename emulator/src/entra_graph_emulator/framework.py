"""The contract between the emulator's HTTP layer and its route modules.

A route module (directory.py, application_templates.py, the synchronization package, ...) exposes

    ROUTES = [(method, pattern, handler, permission_rule), ...]
    CONTROL_ROUTES = [(method, pattern, handler), ...]        # optional, under /_emulator

``pattern`` is a path without the API version, with ``{name}`` placeholders
(``/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/start``); a placeholder matches
one path segment, dots included. ``handler(request)`` returns a ``Response`` (a dict or list
is sent as 200 JSON, None as 204) or raises ``GraphHttpError``. ``permission_rule`` is a
tuple of application permissions (token ``roles``) any one of which allows the call, or None
for "any valid token"; the constants live in permissions.py.

Names in brackets, like [errors], are public pages listed in docs/synchronization.md#sources.
"""

import json
import time


JSON_CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


class Headers:
    """A case-insensitive, read-mostly view of HTTP headers (last value wins)."""

    def __init__(self, items=None):
        self._values = {}
        for name, value in (items.items() if isinstance(items, dict) else (items or ())):
            self._values[name.lower()] = (name, str(value))

    def get(self, name, default=None):
        found = self._values.get(name.lower())
        return found[1] if found else default

    def __getitem__(self, name):
        return self._values[name.lower()][1]

    def __contains__(self, name):
        return name.lower() in self._values

    def __setitem__(self, name, value):
        self._values[name.lower()] = (name, str(value))

    def items(self):
        return list(self._values.values())

    def to_dict(self):
        return dict(self._values.values())

    def __repr__(self):
        return "Headers(%r)" % (self.to_dict(),)


class GraphHttpError(Exception):
    """Raise from a handler; the framework answers ``status`` with the Graph error envelope.

    ``details`` becomes ``error.details`` ([{code, message, target}], [errors]);
    ``headers`` are extra response headers (e.g. ``{"Retry-After": "2"}``).
    """

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__("%s %s: %s" % (status, code, message))
        self.status = int(status)
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


class Response:
    """What a handler returns. ``body``: dict/list (sent as JSON), str, bytes or None."""

    def __init__(self, status, body=None, headers=None):
        self.status = int(status)
        self.body = body
        self.headers = dict(headers or {})

    def encode(self):
        """Return (payload bytes, content type or None)."""
        if self.body is None:
            return b"", None
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), self.headers.get("Content-Type", "text/plain; charset=utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8"), self.headers.get("Content-Type", JSON_CONTENT_TYPE)

    def __repr__(self):
        return "Response(%r, %r)" % (self.status, self.body)


def json_response(body, status=200, headers=None):
    """A JSON response (Graph's odata content type)."""
    return Response(status, body, headers)


def no_content():
    """204 with an empty body and no Content-Type [job resource]."""
    return Response(204)


def coerce_response(result):
    """Accept what a handler returned: Response, dict/list (200) or None (204)."""
    if isinstance(result, Response):
        return result
    if result is None:
        return no_content()
    return json_response(result)


def graph_error_body(code, message, request_id, client_request_id, date, details=None):
    """The Graph error envelope ([errors]; innerError keys from [CSDL transform])."""
    inner = {"date": date, "request-id": request_id}
    if client_request_id:
        inner["client-request-id"] = client_request_id
    error = {"code": code, "message": message, "innerError": inner}
    if details:
        error["details"] = details
    return {"error": error}


class Request:
    """One Graph request as route handlers see it (also one item of a $batch)."""

    def __init__(self, method, path, api_version, query, headers, body, context, params=None, claims=None, kind="graph"):
        self.method = method
        self.path = path
        self.api_version = api_version
        self.query = query
        self.headers = headers
        self.body = body or b""
        self.params = params or {}
        self.claims = claims
        self.kind = kind
        self.context = context
        self.store = context.store
        self.clock = context.clock
        self.base_url = "%s/%s" % (context.url, api_version) if api_version else context.url
        self.request_id = context.request_id
        self.client_request_id = context.client_request_id
        self._parsed = None
        self._parsed_ready = False

    @property
    def emulator(self):
        """The running EmulatorServer (settings, fault state, hooks)."""
        return self.context.emulator

    def json(self):
        """The parsed JSON body, or None when there is no body.

        Raises GraphHttpError(400, "BadRequest") when a body is present without
        ``Content-Type: application/json`` (the "Request headers" of [create job] and every write) or is not valid JSON.
        """
        if self._parsed_ready:
            return self._parsed
        if not self.body.strip():
            self._parsed, self._parsed_ready = None, True
            return None
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            # The "Request headers" tables ([create job] and every write): Content-Type: application/json is required on bodies
            # (docs are silent on the error text: we chose this one).
            raise GraphHttpError(400, "BadRequest", "The request has a body but its Content-Type is '%s', not application/json." % (content_type or "missing"))
        try:
            self._parsed = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise GraphHttpError(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and "
                                 "payload is of valid JSON format. (%s)" % exc) from None
        self._parsed_ready = True
        return self._parsed

    def __repr__(self):
        return "Request(%s %s)" % (self.method, self.path)


class RequestContext:
    """Per-HTTP-request facts shared by a request and its $batch items."""

    def __init__(self, emulator, url, request_id, client_request_id):
        self.emulator = emulator
        self.store = emulator.store
        self.clock = emulator.clock
        self.url = url
        self.request_id = request_id
        self.client_request_id = client_request_id


class RouteTable(list):
    """A ROUTES list with a decorator: ``@ROUTES.route("GET", "/x/{id}", permission=SYNC_READ)``."""

    def route(self, method, pattern, permission=None):
        def register(handler):
            self.append((method, pattern, handler, permission))
            return handler
        return register


def throttled_body(context):
    """The documented 429 body ([throttling]; data/error-throttled.response.json)."""
    return {"error": {"code": "TooManyRequests",
                      "innerError": {"code": "429", "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                                     "message": "Please retry after", "request-id": context.request_id, "status": "429",
                                     "client-request-id": context.client_request_id},
                      "message": "Please retry again later."}}
