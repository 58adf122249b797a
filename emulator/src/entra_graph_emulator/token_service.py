"""An Entra-like token service: OpenID discovery, client credentials, managed identity.

Good enough for real msal 1.39 (https://github.com/AzureAD/microsoft-authentication-library-for-python): discovery answers
``authorization_endpoint``/``token_endpoint``; the token endpoint takes
``grant_type=client_credentials`` with a client secret, a certificate client assertion
(RS256 + ``x5t``, or PS256 + ``x5t#S256``/``x5c``, as msal/oauth2cli/assertion.py builds it) or a federated
assertion (issuer/subject/audience matched against the app's federated credentials).
Managed identity speaks the App Service (2019-08-01) and IMDS (2018-02-01) protocols
(https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference,
https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token).
Errors are shaped like Entra's (AADSTS codes).

Access tokens are RS256 JWTs signed with a key generated at start (published at
``/{tenant}/discovery/v2.0/keys``). Their lifetime runs on wall time, not the emulated clock:
MSAL caches tokens by ``expires_in`` on wall time.
"""

import base64
import hashlib
import re
import time
import urllib.parse
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .app_registrations import b64url
from .framework import GraphHttpError
from .framework import Response

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OAUTH_CONTENT_TYPE = "application/json; charset=utf-8"
# Clock skew tolerated on client assertions (Entra allows about 5 minutes).
ASSERTION_LEEWAY_SECONDS = 300
_VALIDATED_CACHE_SIZE = 4096

_LOGIN_ROUTES = (
    ("GET", re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$"), "openid_configuration"),
    ("GET", re.compile(r"^/(?P<tenant>[^/]+)/\.well-known/openid-configuration$"), "openid_configuration_v1"),
    ("POST", re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$"), "token_v2"),
    ("POST", re.compile(r"^/(?P<tenant>[^/]+)/oauth2/token$"), "token_v1"),
    ("GET", re.compile(r"^/(?P<tenant>[^/]+)/discovery/v2\.0/keys$"), "keys"),
    ("GET", re.compile(r"^/(?P<tenant>[^/]+)/discovery/keys$"), "keys"),
)


class OAuthError(Exception):
    """An Entra token-service error: HTTP status, OAuth ``error`` and an AADSTS code."""

    def __init__(self, status, error, aadsts_code, description):
        super().__init__("AADSTS%s: %s" % (aadsts_code, description))
        self.status = status
        self.error = error
        self.aadsts_code = aadsts_code
        self.description = description


def _utc_stamp():
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())


def oauth_error_response(exc, context):
    """Entra's error body: error, error_description (with trace/correlation/timestamp), error_codes, ..."""
    stamp = _utc_stamp()
    trace_id = context.request_id
    correlation_id = context.client_request_id or str(uuid.uuid4())
    body = {
        "error": exc.error,
        "error_description": "AADSTS%s: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (
            exc.aadsts_code, exc.description, trace_id, correlation_id, stamp),
        "error_codes": [exc.aadsts_code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": "%s/error?code=%s" % (context.url, exc.aadsts_code),
    }
    return Response(exc.status, body, {"Content-Type": OAUTH_CONTENT_TYPE, "Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})


def _missing(name):
    return OAuthError(400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'." % name)


class TokenService:
    """Issues and validates access tokens for the registered apps."""

    def __init__(self, emulator, token_lifetime=3599):
        self.emulator = emulator
        self.apps = emulator.apps
        self.token_lifetime = int(token_lifetime)
        self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public_key = self._signing_key.public_key()
        public_der = self._public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_id = b64url(hashlib.sha256(public_der).digest())[:27]
        # token -> claims of tokens already verified (signature checks dominate a 20,000-object scan).
        self._validated = {}

    # -- configuration --------------------------------------------------------------

    def _known_tenant(self, tenant):
        tenant = tenant.lower()
        if tenant in self.apps.tenants():
            return tenant
        if tenant == self.emulator.tenant_domain.lower():
            return self.emulator.tenant_id.lower()
        return None

    def _require_tenant(self, tenant):
        known = self._known_tenant(tenant)
        if known is None:
            raise OAuthError(400, "invalid_request", 90002,
                             "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "
                             "Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant." % tenant)
        return known

    def accepted_audiences(self):
        """Audiences Graph accepts: Graph's URI and app id, and the emulator's own URL."""
        url = self.emulator.url
        return [GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID, url, url + "/"]

    # -- token issuing and validation -------------------------------------------------

    def issue(self, registration, audience, credential_kind):
        """Return (access_token, expires_in) for ``registration``."""
        now = int(time.time())
        claims = {
            "aud": audience,
            "iss": "https://sts.windows.net/%s/" % registration.tenant_id,
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "app_displayname": registration.display_name,
            "appid": registration.client_id,
            # appidacr: 1 = client secret, 2 = certificate or assertion (Entra access token claims reference).
            "appidacr": "1" if credential_kind == "secret" else "2",
            "idp": "https://sts.windows.net/%s/" % registration.tenant_id,
            "idtyp": "app",
            "oid": registration.object_id,
            "sub": registration.object_id,
            "tid": registration.tenant_id,
            "uti": b64url(uuid.uuid4().bytes),
            "ver": "1.0",
        }
        if registration.roles:
            claims["roles"] = list(registration.roles)
        token = jwt.encode(claims, self._signing_key, algorithm="RS256", headers={"kid": self.key_id, "x5t": self.key_id})
        return token, self.token_lifetime

    def validate_authorization(self, header_value):
        """Claims of a valid ``Authorization: Bearer`` token, or GraphHttpError 401."""
        if not header_value or not header_value.strip():
            raise _unauthenticated("Access token is empty.")
        scheme, _separator, token = header_value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthenticated("Access token is empty.")
        cached = self._validated.get(token)
        if cached is not None and cached["exp"] > time.time():
            return cached
        try:
            claims = jwt.decode(token, self._public_key, algorithms=["RS256"], audience=self.accepted_audiences(),
                                options={"require": ["exp", "aud", "tid", "appid"]})
        except jwt.ExpiredSignatureError:
            raise _unauthenticated("Lifetime validation failed, the token is expired.") from None
        except jwt.InvalidAudienceError:
            raise _unauthenticated("Access token validation failure. Invalid audience.") from None
        except jwt.InvalidTokenError:
            raise _unauthenticated("Access token validation failure.") from None
        if self._known_tenant(str(claims.get("tid"))) is None:
            raise _unauthenticated("Access token validation failure. Invalid tenant.")
        if len(self._validated) >= _VALIDATED_CACHE_SIZE:
            self._validated.clear()
        self._validated[token] = claims
        return claims

    def jwks(self):
        numbers = self._public_key.public_numbers()

        def encode_int(value):
            return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))
        return {"keys": [{"kty": "RSA", "use": "sig", "kid": self.key_id, "x5t": self.key_id, "n": encode_int(numbers.n),
                          "e": encode_int(numbers.e), "alg": "RS256"}]}

    # -- login.microsoftonline.com-like routes -----------------------------------------

    def handle_login(self, request):
        """Dispatch a request for the authority host; returns a Response."""
        for method, regex, name in _LOGIN_ROUTES:
            found = regex.match(request.path)
            if not found:
                continue
            if request.method != method:
                return Response(405, {"error": "invalid_request", "error_description": "Method not allowed."},
                                {"Content-Type": OAUTH_CONTENT_TYPE})
            try:
                return getattr(self, "_" + name)(request, found.group("tenant"))
            except OAuthError as exc:
                return oauth_error_response(exc, request.context)
        return Response(404, {"error": "not_found", "error_description": "The emulator's authority has no endpoint '%s'." % request.path},
                        {"Content-Type": OAUTH_CONTENT_TYPE})

    def _endpoints(self, tenant):
        base = "%s/%s" % (self.emulator.url, tenant)
        return {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": base + "/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "end_session_endpoint": base + "/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "emulator.local",
            "msgraph_host": self.emulator.url.split("://", 1)[1],
        }

    def _openid_configuration(self, request, tenant):
        self._require_tenant(tenant)
        return Response(200, self._endpoints(tenant), {"Content-Type": OAUTH_CONTENT_TYPE})

    def _openid_configuration_v1(self, request, tenant):
        self._require_tenant(tenant)
        document = self._endpoints(tenant)
        base = "%s/%s" % (self.emulator.url, tenant)
        document.update({"token_endpoint": base + "/oauth2/token", "authorization_endpoint": base + "/oauth2/authorize",
                         "issuer": "https://sts.windows.net/%s/" % tenant, "jwks_uri": base + "/discovery/keys"})
        return Response(200, document, {"Content-Type": OAUTH_CONTENT_TYPE})

    def _keys(self, request, tenant):
        self._require_tenant(tenant)
        return Response(200, self.jwks(), {"Content-Type": OAUTH_CONTENT_TYPE})

    def _token_v2(self, request, tenant):
        form = _read_form(request)
        scope = form.get("scope")
        grant_type = self._check_grant(form)
        if not scope:
            raise _missing("scope")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise OAuthError(400, "invalid_scope", 1002012,
                             "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default "
                             "suffixed to the resource identifier (application ID URI)." % scope)
        resource = scopes[0][:-len("/.default")]
        return self._client_credentials(request, tenant, form, resource, grant_type, token_endpoint_path="/oauth2/v2.0/token")

    def _token_v1(self, request, tenant):
        form = _read_form(request)
        grant_type = self._check_grant(form)
        resource = form.get("resource")
        if not resource:
            raise _missing("resource")
        return self._client_credentials(request, tenant, form, resource, grant_type, token_endpoint_path="/oauth2/token")

    @staticmethod
    def _check_grant(form):
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _missing("grant_type")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'." % grant_type)
        return grant_type

    def _resource_audience(self, resource, tenant):
        accepted = {audience.rstrip("/").lower(): audience.rstrip("/") for audience in self.accepted_audiences()}
        audience = accepted.get(resource.rstrip("/").lower())
        if audience is None:
            raise OAuthError(400, "invalid_resource", 500011,
                             "The resource principal named %s was not found in the tenant named %s. This can happen if the application "
                             "has not been installed by the administrator of the tenant or consented to by any user in the tenant. You "
                             "might have sent your authentication request to the wrong tenant." % (resource, tenant))
        return audience

    def _client_credentials(self, request, tenant, form, resource, grant_type, token_endpoint_path):
        del grant_type
        tenant_id = self._require_tenant(tenant)
        client_id = form.get("client_id")
        assertion = form.get("client_assertion")
        if not client_id and assertion:
            client_id = _unverified_claims(assertion).get("sub")
        if not client_id:
            raise _missing("client_id")
        registration = self.apps.get(client_id)
        if registration is None or registration.tenant_id.lower() != tenant_id:
            raise OAuthError(400, "unauthorized_client", 700016,
                             "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application "
                             "has not been installed by the administrator of the tenant or consented to by any user in the tenant. You "
                             "may have sent your authentication request to the wrong tenant." % (client_id, tenant))
        audience = self._resource_audience(resource, tenant)
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise OAuthError(400, "invalid_request", 50027 if form.get("client_assertion_type") else 900144,
                                 "The request body must contain the following parameter: 'client_assertion_type'."
                                 if not form.get("client_assertion_type") else
                                 "Invalid client_assertion_type: expected '%s'." % JWT_BEARER)
            token_endpoint = "%s/%s%s" % (self.emulator.url, tenant, token_endpoint_path)
            credential_kind = self._verify_assertion(registration, assertion, token_endpoint, tenant)
        elif "client_secret" in form:
            secret = form.get("client_secret")
            if secret not in registration.client_secrets:
                raise OAuthError(401, "invalid_client", 7000215,
                                 "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
                                 "not the client secret ID, for a secret added to app '%s'." % registration.client_id)
            credential_kind = "secret"
        else:
            raise OAuthError(401, "invalid_client", 7000218,
                             "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        token, expires_in = self.issue(registration, audience, credential_kind)
        body = {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": token}
        if token_endpoint_path == "/oauth2/token":
            now = int(time.time())
            body.update({"expires_in": str(expires_in), "ext_expires_in": str(expires_in), "expires_on": str(now + expires_in),
                         "not_before": str(now), "resource": resource})
        return Response(200, body, {"Content-Type": OAUTH_CONTENT_TYPE, "Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    # -- client assertions ------------------------------------------------------------

    def _verify_assertion(self, registration, assertion, token_endpoint, tenant):
        """Check a certificate or federated client assertion; return the credential kind."""
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            raise OAuthError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        claims = _unverified_claims(assertion)
        issuer = claims.get("iss")
        if issuer and issuer != registration.client_id:
            self._verify_federated(registration, assertion, header, claims)
            return "federated"
        self._verify_certificate_assertion(registration, assertion, header, claims, token_endpoint, tenant)
        return "certificate"

    def _verify_certificate_assertion(self, registration, assertion, header, claims, token_endpoint, tenant):
        if claims.get("sub") != registration.client_id or claims.get("iss") != registration.client_id:
            raise OAuthError(401, "invalid_client", 700021,
                             "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at "
                             "https://learn.microsoft.com/entra/identity-platform/certificate-credentials .")
        certificate = _find_certificate(registration, header)
        if certificate is None:
            raise OAuthError(401, "invalid_client", 700027,
                             "The certificate with identifier used to sign the client assertion is not registered on application. "
                             "[Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, "
                             "Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]"
                             % (_header_thumbprint(header), registration.client_id))
        algorithm = header.get("alg")
        if algorithm not in ("RS256", "PS256"):
            raise OAuthError(401, "invalid_client", 700027, "Client assertion failed signature validation. Unsupported algorithm '%s'." % algorithm)
        audiences = [token_endpoint, "%s/%s/v2.0" % (self.emulator.url, tenant), "%s/%s/" % (self.emulator.url, tenant)]
        try:
            jwt.decode(assertion, certificate.public_key, algorithms=[algorithm], audience=audiences, leeway=ASSERTION_LEEWAY_SECONDS,
                       options={"require": ["exp", "aud", "iss", "sub"]})
        except jwt.InvalidSignatureError:
            raise OAuthError(401, "invalid_client", 700027, "Client assertion failed signature validation.") from None
        except jwt.ExpiredSignatureError:
            raise OAuthError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.") from None
        except jwt.InvalidAudienceError:
            raise OAuthError(401, "invalid_client", 50012, "Client assertion audience claim does not match Realm issuer.") from None
        except jwt.InvalidTokenError as exc:
            raise OAuthError(400, "invalid_request", 50027, "JWT token is invalid or malformed. (%s)" % exc) from None

    def _verify_federated(self, registration, assertion, header, claims):
        del header
        issuer, subject = claims.get("iss"), claims.get("sub")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        matching = [credential for credential in registration.federated_credentials
                    if credential.issuer == issuer and credential.subject == subject
                    and any(item in credential.audiences for item in audiences)]
        if not matching:
            raise OAuthError(400, "invalid_request", 70021,
                             "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion "
                             "Subject: '%s'. Assertion Audience: '%s'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
                             % (issuer, subject, ",".join(str(item) for item in audiences)))
        last_error = None
        for credential in matching:
            for public_key in credential.public_keys:
                try:
                    jwt.decode(assertion, public_key, algorithms=["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"],
                               audience=credential.audiences, issuer=credential.issuer, leeway=ASSERTION_LEEWAY_SECONDS,
                               options={"require": ["exp", "aud", "iss", "sub"]})
                    return
                except jwt.InvalidTokenError as exc:
                    last_error = exc
        if isinstance(last_error, jwt.ExpiredSignatureError):
            raise OAuthError(400, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        raise OAuthError(401, "invalid_client", 700027, "Client assertion failed signature validation. (%s)" % last_error)

    # -- managed identity -------------------------------------------------------------

    def handle_managed_identity(self, request):
        """App Service (``/msi/token``, 2019-08-01) and IMDS (``/metadata/identity/oauth2/token``)."""
        path = request.path.rstrip("/")
        if path == "/msi/token":
            return self._app_service_token(request)
        if path == "/metadata/identity/oauth2/token":
            return self._imds_token(request)
        return Response(404, {"error": "not_found", "error_description": "No managed identity endpoint at '%s'." % request.path},
                        {"Content-Type": OAUTH_CONTENT_TYPE})

    def _managed_identity_registration(self, query):
        for unsupported in ("mi_res_id", "msi_res_id", "object_id", "principal_id"):
            if query.get(unsupported):
                return None, _mi_error(400, "invalid_request", "The emulator selects user-assigned identities by client_id only (%s given)." % unsupported)
        client_id = query.get("client_id")
        if client_id:
            registration = self.apps.get(client_id)
            if registration is None or registration.managed_identity != "user":
                return None, _mi_error(400, "invalid_request",
                                       "No user-assigned managed identity with client_id '%s' is assigned to this resource." % client_id)
            return registration, None
        registration = self.apps.system_assigned_identity()
        if registration is None:
            return None, _mi_error(400, "invalid_request", "No system-assigned managed identity is enabled for this resource.")
        return registration, None

    def _mi_resource(self, query):
        resource = query.get("resource")
        if not resource:
            return None, _mi_error(400, "invalid_request", "Required query variable 'resource' is missing.")
        try:
            return self._resource_audience(resource, self.emulator.tenant_id), None
        except OAuthError as exc:
            return None, _mi_error(400, "invalid_resource", "AADSTS%s: %s" % (exc.aadsts_code, exc.description))

    def _issue_managed_identity_token(self, query):
        """The token both managed-identity endpoints issue once their own checks pass: ``((registration, token,
        expires_in), None)``, or ``(None, error response)`` for a bad resource or an unknown identity."""
        audience, error = self._mi_resource(query)
        if error:
            return None, error
        registration, error = self._managed_identity_registration(query)
        if error:
            return None, error
        token, expires_in = self.issue(registration, audience, "managed_identity")
        return (registration, token, expires_in), None

    def _app_service_token(self, request):
        if request.method != "GET":
            return _mi_error(405, "invalid_request", "Method not allowed.")
        if request.headers.get("X-IDENTITY-HEADER") != self.emulator.identity_header:
            # docs are silent on the exact body: we chose 401 with an OAuth-style error.
            return _mi_error(401, "unauthorized_client", "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.")
        if request.query.get("api-version") != "2019-08-01":
            return _mi_error(400, "invalid_request", "api-version must be 2019-08-01.")
        issued, error = self._issue_managed_identity_token(request.query)
        if error:
            return error
        registration, token, expires_in = issued
        body = {"access_token": token, "expires_on": str(int(time.time()) + expires_in), "resource": request.query["resource"],
                "token_type": "Bearer", "client_id": registration.client_id}
        return Response(200, body, {"Content-Type": OAUTH_CONTENT_TYPE})

    def _imds_token(self, request):
        if request.method != "GET":
            return _mi_error(405, "invalid_request", "Method not allowed.")
        if (request.headers.get("Metadata") or "").lower() != "true":
            return _mi_error(400, "invalid_request", "Required metadata header not specified")
        issued, error = self._issue_managed_identity_token(request.query)
        if error:
            return error
        registration, token, expires_in = issued
        now = int(time.time())
        body = {"access_token": token, "client_id": registration.client_id, "expires_in": str(expires_in), "expires_on": str(now + expires_in),
                "ext_expires_in": str(expires_in), "not_before": str(now), "resource": request.query["resource"], "token_type": "Bearer"}
        return Response(200, body, {"Content-Type": OAUTH_CONTENT_TYPE})


def _mi_error(status, error, description):
    return Response(status, {"error": error, "error_description": description}, {"Content-Type": OAUTH_CONTENT_TYPE})


def _unauthenticated(message):
    return GraphHttpError(401, "InvalidAuthenticationToken", message)


def _read_form(request):
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
    form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    authorization = request.headers.get("Authorization") or ""
    if authorization.lower().startswith("basic "):
        # client_secret_basic (RFC 6749 §2.3.1), advertised in the discovery document.
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError(401, "invalid_client", 7000215, "Invalid client secret provided.") from None
        client_id, _separator, secret = decoded.partition(":")
        form.setdefault("client_id", urllib.parse.unquote_plus(client_id))
        form.setdefault("client_secret", urllib.parse.unquote_plus(secret))
    return form


def _unverified_claims(assertion):
    try:
        return jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise OAuthError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None


def _header_thumbprint(header):
    return header.get("x5t#S256") or header.get("x5t") or "(none)"


def _find_certificate(registration, header):
    """Match the assertion's header to a registered certificate (x5t, x5t#S256 or x5c)."""
    # MSAL pads x5t with '=' (msal/oauth2cli/assertion.py in https://github.com/AzureAD/microsoft-authentication-library-for-python): strip before comparing.
    x5t = (header.get("x5t") or "").rstrip("=")
    x5t_s256 = (header.get("x5t#S256") or "").rstrip("=")
    chain = header.get("x5c") or []
    leaf_der = None
    if chain:
        try:
            leaf_der = base64.b64decode(chain[0])
        except (ValueError, TypeError):
            leaf_der = None
    for certificate in registration.certificates:
        if x5t and x5t == certificate.x5t:
            return certificate
        if x5t_s256 and x5t_s256 == certificate.x5t_s256:
            return certificate
        if leaf_der and leaf_der == certificate.der:
            return certificate
    return None
