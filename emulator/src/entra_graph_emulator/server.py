"""The emulator's HTTP layer: HTTPS listener, dispatch, authentication, faults and logging.

One ``EmulatorServer`` owns the state store, the clock, the registered client apps, the token
service, the fault injector and the request log. Requests are classified by path:

* ``/v1.0/...`` and ``/beta/...``: Graph (``/$batch``: the batch container); same behaviour for both
  versions [v1.0 and beta];
* ``/msi/token``, ``/metadata/identity/oauth2/token``: managed identity (also on the plain-HTTP port);
* ``/_emulator/...``: the control API (no auth, no faults, not logged);
* anything else: the token service (``/{tenant}/oauth2/v2.0/token``, discovery, keys).

Names in brackets, like [v1.0 and beta], are public pages listed in docs/synchronization.md#sources.
"""

import json
import logging
import os
import secrets
import socket
import ssl
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

from .app_registrations import AppRegistry
from .clock import Clock
from .faults import FaultInjector
from .framework import GraphHttpError
from .framework import Headers
from .framework import Request
from .framework import RequestContext
from .framework import Response
from .framework import coerce_response
from .framework import graph_error_body
from .framework import throttled_body
from .permissions import AllOf
from .request_log import RequestLog
from .request_log import is_write
from .request_log import utc_now_iso
from .router import Router
from .store import Store
from .tls import make_server_context
from .token_service import OAUTH_CONTENT_TYPE
from .token_service import TokenService

LOGGER = logging.getLogger("graph_emulator")

DEFAULT_TENANT_ID = "5f1c2a7e-9b1d-4c3e-8f6a-0d2b4e6c8a10"
DEFAULT_TENANT_DOMAIN = "emulator.onmicrosoft.com"
DEMO_CLIENT_ID = "0c6b3f5e-1d2a-4b7c-9e8f-a1b2c3d4e5f6"
DEMO_CLIENT_SECRET = "emulator-demo-secret~not-for-production"
READ_ONLY_CLIENT_ID = "1d7c4a6f-2e3b-4c8d-8f90-b2c3d4e5f6a7"
READ_ONLY_CLIENT_SECRET = "emulator-read-only-secret"
NO_ROLES_CLIENT_ID = "2e8d5b70-3f4c-4d9e-9a01-c3d4e5f6a7b8"
NO_ROLES_CLIENT_SECRET = "emulator-no-roles-secret"
MANAGED_IDENTITY_CLIENT_ID = "3f9e6c81-4a5d-4eaf-8b12-d4e5f6a7b8c9"
DEMO_ROLES = ["Application.ReadWrite.All", "Synchronization.ReadWrite.All", "AuditLog.Read.All", "Directory.Read.All"]
READ_ONLY_ROLES = ["Synchronization.Read.All", "Application.Read.All", "AuditLog.Read.All", "Directory.Read.All"]


class DropConnection(Exception):
    """Close the client's connection without answering (fault injection)."""


class EmulatorConfig:
    """Start-up settings (the CLI's options)."""

    def __init__(self, **settings):
        self.host = "127.0.0.1"
        self.port = settings.pop("port", 0)
        self.msi_port = settings.pop("msi_port", 0)
        self.state_dir = os.path.abspath(settings.pop("state_dir", ".emulator"))
        self.tenant_id = settings.pop("tenant_id", DEFAULT_TENANT_ID)
        self.tenant_domain = settings.pop("tenant_domain", DEFAULT_TENANT_DOMAIN)
        self.token_lifetime = int(settings.pop("token_lifetime", 3599))
        self.cycle_seconds = float(settings.pop("cycle_seconds", 2400))
        self.clock_acceleration = float(settings.pop("clock_acceleration", 1.0))
        self.faults = settings.pop("faults", None) or {}
        self.seed_service_principals = int(settings.pop("seed_service_principals", 0))
        self.seed_with_jobs = int(settings.pop("seed_with_jobs", 0))
        # The source directory behind provisioning jobs (people.py): docs are silent on a test tenant's
        # contents; we chose ten users in two groups, assigned to nothing (jobs stay synthetic until something is).
        self.seed_users = int(settings.pop("seed_users", 10))
        self.seed_groups = int(settings.pop("seed_groups", 2))
        self.seed = settings.pop("seed", 1)
        self.identity_header = settings.pop("identity_header", None)
        self.extra_apps = settings.pop("apps", None) or []
        if settings:
            raise TypeError("unknown settings: %s" % ", ".join(sorted(settings)))


class EmulatorServer:
    """Everything the emulator is; ``start()`` listens, ``stop()`` stops."""

    def __init__(self, config=None, **settings):
        self.config = config or EmulatorConfig(**settings)
        self.tenant_id = self.config.tenant_id
        self.tenant_domain = self.config.tenant_domain
        self.clock = Clock(self.config.clock_acceleration)
        self.store = Store(self.clock, self.tenant_id, self.config.cycle_seconds)
        self.apps = AppRegistry(self.tenant_id)
        self.faults = FaultInjector()
        self.log = RequestLog()
        self.identity_header = self.config.identity_header or secrets.token_hex(16)
        self.url = None
        self.msi_url = None
        self.ca_path = None
        self.tokens = TokenService(self, self.config.token_lifetime)
        self.router = Router()
        self.control_router = Router()
        self.sync_module = None
        self._servers = []
        self._threads = []
        self._load_route_modules()
        self.set_faults(self.config.faults)
        self.register_default_apps()

    # -- modules and hooks ------------------------------------------------------------

    def _load_route_modules(self):
        # Imported explicitly: a broken route module must fail start-up loudly, never yield an
        # emulator that answers 404 to everything.
        from . import application_templates  # pylint: disable=import-outside-toplevel
        from . import batch  # pylint: disable=import-outside-toplevel
        from . import control  # pylint: disable=import-outside-toplevel
        from . import directory  # pylint: disable=import-outside-toplevel
        from . import people  # pylint: disable=import-outside-toplevel
        from . import synchronization  # pylint: disable=import-outside-toplevel
        self.control_router.add_all(control.CONTROL_ROUTES)
        for module in (directory, people, application_templates, batch, synchronization):
            self.router.add_all(getattr(module, "ROUTES", []))
            self.control_router.add_all([(method, pattern, handler, None) for method, pattern, handler in getattr(module, "CONTROL_ROUTES", [])])
        self.sync_module = synchronization

    def hook(self, name):
        """The synchronization module's hook ``name``, or None when it does not define it."""
        return getattr(self.sync_module, name, None) if self.sync_module else None

    # -- configuration shared with the control API --------------------------------------

    def set_faults(self, config):
        self.faults.configure(config or {})
        self.store.settings.replication_delay_seconds = self.faults.replication_delay_seconds

    def register_default_apps(self):
        """The demo app, a read-only app, an app with no roles and a managed identity."""
        self.apps.register({"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "roles": DEMO_ROLES,
                            "display_name": "emulator demo app"})
        self.apps.register({"client_id": READ_ONLY_CLIENT_ID, "client_secret": READ_ONLY_CLIENT_SECRET, "roles": READ_ONLY_ROLES,
                            "display_name": "emulator read-only app"})
        self.apps.register({"client_id": NO_ROLES_CLIENT_ID, "client_secret": NO_ROLES_CLIENT_SECRET, "roles": [],
                            "display_name": "emulator app without roles"})
        self.apps.register({"client_id": MANAGED_IDENTITY_CLIENT_ID, "roles": DEMO_ROLES, "managed_identity": "system",
                            "display_name": "emulator managed identity"})
        for spec in self.config.extra_apps:
            self.apps.register(spec)

    def seed_directory(self):
        """Application templates plus the configured seed service principals."""
        from . import seeding  # pylint: disable=import-outside-toplevel
        seeding.load_application_templates(self.store)
        from . import people  # pylint: disable=import-outside-toplevel
        people.seed_people(self.store, self.tenant_domain, self.config.seed_users, self.config.seed_groups)
        if self.config.seed_service_principals:
            seeding.seed_service_principals(self, self.config.seed_service_principals, self.config.seed_with_jobs, seed=self.config.seed)

    def reset(self, keep_faults=False, keep_apps=False, keep_log=False):
        """Back to the start-up state (directory, synchronization, settings, apps, faults, log)."""
        on_reset = self.hook("on_reset")
        with self.store.lock:
            self.restore_settings()
            self.store.clear_directory()
            self.store.application_templates.clear()
            if on_reset is not None:
                # the synchronization package forgets its store-wide state (settings, SCIM targets).
                on_reset(self.store)
            self.seed_directory()
        if not keep_apps:
            self.apps.clear()
            self.register_default_apps()
        if not keep_faults:
            self.set_faults(self.config.faults)
        if not keep_log:
            self.log.clear()

    def restore_settings(self):
        """The run-time settings (``PUT /_emulator/settings``, the clock's acceleration) back to their start-up values.

        The clock's time is not rewound: it only moves forward.
        """
        self.store.settings.cycle_seconds = self.config.cycle_seconds
        self.tokens.token_lifetime = self.config.token_lifetime
        if self.clock.acceleration != self.config.clock_acceleration:
            self.clock.set_acceleration(self.config.clock_acceleration)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self):
        """Generate certificates, seed, listen; returns the info dict."""
        ssl_context, self.ca_path = make_server_context(self.config.state_dir)
        self.seed_directory()
        https_server = _HTTPServer((self.config.host, self.config.port), self, ssl_context, "https")
        self.url = "https://%s:%d" % (self.config.host, https_server.server_address[1])
        msi_server = _HTTPServer((self.config.host, self.config.msi_port), self, None, "http")
        self.msi_url = "http://%s:%d" % (self.config.host, msi_server.server_address[1])
        self._servers = [https_server, msi_server]
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                                      name="graph-emulator-%s" % server.listener_kind)
            thread.start()
            self._threads.append(thread)
        return self.info

    def stop(self):
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers = []
        self._threads = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def info(self):
        demo = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "roles": DEMO_ROLES}
        return {
            "url": self.url,
            "authority_host": self.url,
            "authority": "%s/%s" % (self.url, self.tenant_id),
            "token_endpoint": "%s/%s/oauth2/v2.0/token" % (self.url, self.tenant_id),
            "graph_endpoint": self.url,
            "graph_base_url": "%s/v1.0" % self.url,
            "control_url": "%s/_emulator" % self.url,
            "tenant_id": self.tenant_id,
            "tenant_domain": self.tenant_domain,
            "ca_path": self.ca_path,
            "state_dir": self.config.state_dir,
            "pid": os.getpid(),
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "apps": {
                "demo": demo,
                "read_only": {"client_id": READ_ONLY_CLIENT_ID, "client_secret": READ_ONLY_CLIENT_SECRET, "roles": READ_ONLY_ROLES},
                "no_roles": {"client_id": NO_ROLES_CLIENT_ID, "client_secret": NO_ROLES_CLIENT_SECRET, "roles": []},
            },
            "managed_identity": {
                "endpoint": "%s/msi/token" % self.msi_url,
                "endpoint_https": "%s/msi/token" % self.url,
                "header": self.identity_header,
                "imds_host": self.msi_url,
                "client_id": MANAGED_IDENTITY_CLIENT_ID,
            },
            "token_lifetime": self.tokens.token_lifetime,
            "cycle_seconds": self.store.settings.cycle_seconds,
        }

    def connection_env(self):
        """Environment variables our modules (and users) need to reach this emulator."""
        return {
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": DEMO_CLIENT_ID,
            "AZURE_CLIENT_SECRET": DEMO_CLIENT_SECRET,
            "AZURE_AUTHORITY_HOST": self.url,
            "ENTRA_GRAPH_ENDPOINT": self.url,
            "ENTRA_CA_PATH": self.ca_path,
        }

    # -- dispatch -----------------------------------------------------------------------

    @staticmethod
    def classify(path, listener_kind):
        """graph, batch, login, msi, control or unknown."""
        lowered = path.lower()
        if lowered == "/_emulator" or lowered.startswith("/_emulator/"):
            return "control"
        if lowered.startswith("/msi/") or lowered.startswith("/metadata/identity/"):
            return "msi"
        if listener_kind != "https":
            return "unknown"
        for prefix in ("/v1.0", "/beta"):
            if lowered == prefix or lowered.startswith(prefix + "/"):
                return "batch" if lowered.rstrip("/") == prefix + "/$batch" else "graph"
        return "login"

    def handle(self, method, target, headers, body, listener_kind="https"):
        """Serve one HTTP request; returns a Response or raises DropConnection."""
        started = time.monotonic()
        split = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(split.path) or "/"
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        context = RequestContext(self, self.url, str(uuid.uuid4()), headers.get("client-request-id"))
        kind = self.classify(path, listener_kind)
        if kind == "control":
            return self._finish(context, self._serve_control(context, method, path, query, headers, body), kind)
        fault_name = None
        slow = None
        if kind != "unknown":
            if self.faults.latency_seconds:
                time.sleep(self.faults.latency_seconds)
            decision = self.faults.decide(kind, method, path)
            if decision is not None and decision.action == "slow":
                # Served as usual, the answer held back: a client that gives up first does not know that the call
                # was processed (the case a POST's caller must re-read for).
                slow, decision = decision, None
            if decision is not None:
                fault_name = decision.name
                if decision.action == "drop":
                    self._log(context, kind, method, path, query, 0, started, fault_name)
                    raise DropConnection(decision.name)
                response = self.fault_response(context, kind, decision)
        if fault_name is None:
            if kind in ("graph", "batch"):
                version, _separator, rest = path.lstrip("/").partition("/")
                response = self.serve_graph(context, method, version.lower(), "/" + rest, query, headers, body, kind)
            elif kind == "login":
                response = self.tokens.handle_login(Request(method, path, None, query, headers, body, context, kind="login"))
            elif kind == "msi":
                response = self.tokens.handle_managed_identity(Request(method, path, None, query, headers, body, context, kind="msi"))
            else:
                response = Response(404, {"error": "not_found", "error_description": "Nothing is served at '%s' on this port." % path},
                                    {"Content-Type": OAUTH_CONTENT_TYPE})
        if slow is not None:
            fault_name = slow.name
        self._log(context, kind, method, path, query, response.status, started, fault_name,
                  batch_item_methods=getattr(context, "batch_item_methods", None))
        if slow is not None:
            time.sleep(slow.delay)  # logged when served: the log shows what Graph did, whether or not the client heard it
        return self._finish(context, response, kind)

    def _finish(self, context, response, kind):
        response.headers["request-id"] = context.request_id
        if context.client_request_id:
            response.headers["client-request-id"] = context.client_request_id
        if kind in ("login", "msi"):
            response.headers["x-ms-request-id"] = context.request_id
        elif kind in ("graph", "batch") and response.body is not None:
            response.headers.setdefault("OData-Version", "4.0")
        return response

    def _log(self, context, kind, method, path, query, status, started, fault_name, batch_item_methods=None, parent_request_id=None):
        if kind == "control":
            return
        self.log.add({
            "time": utc_now_iso(),
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "write": is_write(kind, method, batch_item_methods),
            "kind": kind,
            "client_request_id": context.client_request_id,
            "request_id": context.request_id,
            "parent_request_id": parent_request_id,
            "fault": fault_name,
            "duration_ms": round((time.monotonic() - started) * 1000, 2),
        })

    def graph_error(self, context, exc):
        """The Graph error envelope for ``exc`` [errors]."""
        body = graph_error_body(exc.code, exc.message, context.request_id, context.client_request_id,
                                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), exc.details)
        headers = dict(exc.headers)
        if exc.status == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="", authorization_uri="%s/%s/oauth2/authorize", client_id="%s"'
                               % (self.url, self.tenant_id, "00000003-0000-0000-c000-000000000000"))
        return Response(exc.status, body, headers)

    def fault_response(self, context, kind, decision):
        """The response a fired fault rule answers with."""
        headers = {}
        if decision.retry_after is not None:
            headers["Retry-After"] = _format_seconds(decision.retry_after)
        if kind in ("login", "msi"):
            error = decision.code or ("temporarily_unavailable" if decision.status in (429, 503) else "server_error")
            message = decision.message or "Injected fault '%s'." % decision.name
            headers["Content-Type"] = OAUTH_CONTENT_TYPE
            return Response(decision.status, {"error": error, "error_description": message, "error_codes": [],
                                              "trace_id": context.request_id, "correlation_id": context.client_request_id}, headers)
        if decision.action == "throttle":
            return Response(decision.status, throttled_body(context), headers)
        if decision.action == "unavailable":
            code = decision.code or "serviceNotAvailable"
            message = decision.message or "The service is temporarily unavailable. Please retry later."
        else:
            code = decision.code or _default_error_code(decision.status)
            message = decision.message or "Injected fault '%s'." % decision.name
        return self.graph_error(context, GraphHttpError(decision.status, code, message, headers=headers))

    def serve_graph(self, context, method, api_version, path, query, headers, body, kind, claims=None):
        """Route a Graph request (or a $batch item, with the container's claims)."""
        try:
            if api_version not in ("v1.0", "beta"):
                raise GraphHttpError(400, "BadRequest", "Invalid version: %s" % api_version)
            if claims is None:
                claims = self.tokens.validate_authorization(headers.get("Authorization"))
            route, params = self.router.match(method, path)
            _check_permission(route.permission, claims)
            self._check_new_object_windows(method, params)
            request = Request(method.upper(), path, api_version, query, headers, body, context, params, claims, kind)
            return coerce_response(route.handler(request))
        except GraphHttpError as exc:
            return self.graph_error(context, exc)
        except DropConnection:
            raise
        except Exception:  # pylint: disable=broad-exception-caught
            LOGGER.error("handler failed for %s %s:\n%s", method, path, traceback.format_exc())
            return self.graph_error(context, GraphHttpError(500, "InternalServerError", "The emulator failed: see its log."))

    def _check_new_object_windows(self, method, params):
        """Replication delay, then transient 403, then transient 409 on writes [instantiate guide]."""
        faults = self.faults
        replication = faults.replication_delay_seconds
        forbidden_until = replication + faults.transient_403_seconds
        conflict_until = forbidden_until + faults.transient_409_seconds
        if conflict_until <= 0:
            return
        for value in params.values():
            age = self.store.seconds_since_created(value)
            if age is None or age >= conflict_until:
                continue
            if age < replication:
                raise GraphHttpError(404, "Request_ResourceNotFound",
                                     "Resource '%s' does not exist or one of its queried reference-property objects are not present." % value)
            if age < forbidden_until:
                raise GraphHttpError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                # docs are silent on the message: we chose this text (code from [errors], [instantiate guide]).
                raise GraphHttpError(409, "Directory_ConcurrencyViolation",
                                     "Another operation is in progress on the object '%s'. Please retry." % value)

    def serve_batch_item(self, context, method, url, headers, body, claims):
        """Run one $batch item through faults, routing, auth and permission checks.

        ``url`` is relative to the batch's version (``/servicePrincipals?$top=1``);
        returns a Response. Logged with kind ``batch_item``.
        """
        started = time.monotonic()
        api_version = getattr(context, "api_version", "v1.0")
        split = urllib.parse.urlsplit(url)
        path = "/" + urllib.parse.unquote(split.path).lstrip("/")
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        item_context = RequestContext(self, self.url, str(uuid.uuid4()), context.client_request_id)
        full_path = "/%s%s" % (api_version, path)
        if self.faults.batch_item_latency_seconds:
            time.sleep(self.faults.batch_item_latency_seconds)
        decision = self.faults.decide("batch_item", method, full_path)
        fault_name = None
        if decision is not None and decision.action == "slow":
            time.sleep(decision.delay)  # items run before the container answers: holding one holds the container
            fault_name, decision = decision.name, None
        if decision is not None and decision.action == "drop":
            self._log(item_context, "batch_item", method, full_path, query, 0, started, decision.name, parent_request_id=context.request_id)
            raise DropConnection(decision.name)
        if decision is not None:
            fault_name = decision.name
            response = self.fault_response(item_context, "batch_item", decision)
        elif path.rstrip("/").lower() == "/$batch":
            response = self.graph_error(item_context, GraphHttpError(400, "BadRequest", "A $batch request cannot contain another $batch."))
        else:
            response = self.serve_graph(item_context, method, api_version, path, query, headers, body, "batch_item", claims=claims)
        self._log(item_context, "batch_item", method, full_path, query, response.status, started, fault_name,
                  parent_request_id=context.request_id)
        return response

    def _serve_control(self, context, method, path, query, headers, body):
        sub_path = path[len("/_emulator"):] or "/"
        try:
            route, params = self.control_router.match(method, sub_path)
            request = Request(method.upper(), sub_path, None, query, headers, body, context, params, None, "control")
            return coerce_response(route.handler(request))
        except GraphHttpError as exc:
            return self.graph_error(context, exc)
        except Exception:  # pylint: disable=broad-exception-caught
            LOGGER.error("control handler failed for %s %s:\n%s", method, path, traceback.format_exc())
            return self.graph_error(context, GraphHttpError(500, "InternalServerError", traceback.format_exc(limit=3)))


def _check_permission(rule, claims):
    """403 when the token carries none of the roles in ``rule`` ([permissions], [errors])."""
    if rule is None:
        return
    roles = claims.get("roles") or []
    allowed = all(role in roles for role in rule) if isinstance(rule, AllOf) else any(role in roles for role in rule)
    if not allowed:
        raise GraphHttpError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def _format_seconds(value):
    """Retry-After value: an integer when whole, else up to 3 decimals ([throttling] allows fractions)."""
    if float(value).is_integer():
        return str(int(value))
    return ("%.3f" % value).rstrip("0").rstrip(".")


def _default_error_code(status):
    return {400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "Authorization_RequestDenied", 404: "Request_ResourceNotFound",
            409: "Conflict", 412: "PreconditionFailed", 429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway",
            503: "serviceNotAvailable", 504: "GatewayTimeout"}.get(status, "UnknownError")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GraphEmulator/1.0"
    sys_version = ""
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 300

    def _serve(self):
        body = self._read_body()
        if body is None:
            return
        headers = Headers(self.headers.items())
        try:
            response = self.server.emulator.handle(self.command, self.path, headers, body, self.server.listener_kind)
        except DropConnection:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        except Exception:  # pylint: disable=broad-exception-caught
            # A bug must still answer (and keep the connection usable), not kill the thread.
            LOGGER.error("unexpected failure serving %s %s:\n%s", self.command, self.path, traceback.format_exc())
            response = Response(500, {"error": {"code": "InternalServerError", "message": "The emulator failed: see its log."}})
        payload, content_type = response.encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in ("content-type", "content-length"):
                self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                try:
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    self.send_error(400, "bad chunk size")
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_PATCH = _serve
    do_DELETE = _serve
    do_HEAD = _serve
    do_OPTIONS = _serve

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if LOGGER.isEnabledFor(logging.DEBUG):
            LOGGER.debug("%s - %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, emulator, ssl_context, listener_kind):
        self.emulator = emulator
        self.ssl_context = ssl_context
        self.listener_kind = listener_kind
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        """TLS handshake in the worker thread, so a slow client never blocks accept()."""
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(30)
        # Headers and body leave in two writes; without TCP_NODELAY the body waits for the client's delayed ACK,
        # which added ~44 ms to every request on Linux and distorted latency_ms and every benchmark.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls_socket = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            LOGGER.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            self.RequestHandlerClass(tls_socket, client_address, self)
        except (ConnectionError, ssl.SSLError, socket.timeout) as exc:
            LOGGER.debug("connection with %s ended: %s", client_address, exc)
        finally:
            try:
                tls_socket.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        LOGGER.debug("error serving %s:\n%s", client_address, traceback.format_exc())


def write_info_file(path, info):
    """Write the info JSON atomically (readers poll for the file)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=2, sort_keys=True)
    os.replace(temporary, path)
