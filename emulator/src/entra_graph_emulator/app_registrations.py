"""Client applications that may ask the token service for tokens (app registrations).

They are kept apart from the directory (``/applications``): the demo clients do not show up
in Graph lists, so a seeded tenant holds exactly the objects a test created (docs are
silent: we chose this to keep counts predictable).
"""

import base64
import hashlib
import threading
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
MANAGED_IDENTITY_KINDS = (None, "system", "user")


class AppRegistrationError(ValueError):
    """An invalid registration request (answered 400 by the control API)."""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class RegisteredCertificate:
    """A client certificate, indexed the ways a client assertion can name it."""

    def __init__(self, pem):
        if isinstance(pem, str):
            pem = pem.encode("ascii")
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise AppRegistrationError("certificate is not a PEM X.509 certificate: %s" % exc) from None
        self.der = certificate.public_bytes(serialization.Encoding.DER)
        self.public_key = certificate.public_key()
        self.x5t = b64url(hashlib.sha1(self.der).digest())  # nosec - x5t is defined as SHA-1 (RFC 7515 §4.1.7)
        self.x5t_s256 = b64url(hashlib.sha256(self.der).digest())
        self.thumbprint_hex = hashlib.sha1(self.der).hexdigest().upper()  # nosec - the portal's thumbprint form


class FederatedCredential:
    """A federated identity credential: issuer, subject, audiences and the issuer's key(s)."""

    def __init__(self, spec):
        if not isinstance(spec, dict) or not spec.get("issuer") or not spec.get("subject"):
            raise AppRegistrationError("a federated credential needs 'issuer' and 'subject'")
        self.issuer = spec["issuer"]
        self.subject = spec["subject"]
        self.audiences = list(spec.get("audiences") or [TOKEN_EXCHANGE_AUDIENCE])
        self.name = spec.get("name") or "credential-%s" % uuid.uuid4().hex[:8]
        pems = spec.get("issuer_public_key_pem") or spec.get("public_key_pem") or []
        if isinstance(pems, str):
            pems = [pems]
        self.public_keys = [_load_public_key(pem) for pem in pems]
        if not self.public_keys:
            raise AppRegistrationError("federated credential %r needs issuer_public_key_pem to check signatures" % self.name)

    def to_dict(self):
        return {"name": self.name, "issuer": self.issuer, "subject": self.subject, "audiences": self.audiences}


def _load_public_key(pem):
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    try:
        return serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise AppRegistrationError("not a PEM public key or certificate: %s" % exc) from None


class AppRegistration:
    """One client: credentials, application permissions (roles) and optional managed identity."""

    def __init__(self, spec, default_tenant_id):
        if not isinstance(spec, dict):
            raise AppRegistrationError("an app registration is a JSON object")
        self.client_id = str(spec.get("client_id") or uuid.uuid4())
        self.display_name = spec.get("display_name") or "emulator client %s" % self.client_id[:8]
        self.tenant_id = spec.get("tenant_id") or default_tenant_id
        self.object_id = str(spec.get("object_id") or uuid.uuid5(uuid.NAMESPACE_URL, "sp:" + self.client_id))
        secrets = spec.get("client_secrets") or []
        if spec.get("client_secret") or spec.get("secret"):
            secrets = [spec.get("client_secret") or spec.get("secret")] + list(secrets)
        self.client_secrets = [str(secret) for secret in secrets]
        certificates = spec.get("certificates") or []
        if spec.get("certificate_pem"):
            certificates = [spec["certificate_pem"]] + list(certificates)
        self.certificates = [RegisteredCertificate(pem) for pem in certificates]
        self.federated_credentials = [FederatedCredential(item) for item in spec.get("federated_credentials") or []]
        roles = spec.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise AppRegistrationError("'roles' must be a list of application permission names")
        self.roles = list(roles)
        self.managed_identity = spec.get("managed_identity")
        if self.managed_identity not in MANAGED_IDENTITY_KINDS:
            raise AppRegistrationError("'managed_identity' must be 'system', 'user' or null")

    def to_dict(self, include_secrets=True):
        result = {
            "client_id": self.client_id,
            "display_name": self.display_name,
            "tenant_id": self.tenant_id,
            "object_id": self.object_id,
            "roles": self.roles,
            "certificate_thumbprints": [certificate.thumbprint_hex for certificate in self.certificates],
            "federated_credentials": [credential.to_dict() for credential in self.federated_credentials],
            "managed_identity": self.managed_identity,
        }
        if include_secrets:
            result["client_secrets"] = self.client_secrets
        return result


class AppRegistry:
    """Registered clients by client id; thread-safe."""

    def __init__(self, default_tenant_id):
        self.default_tenant_id = default_tenant_id
        self._lock = threading.Lock()
        self._apps = {}

    def register(self, spec):
        registration = AppRegistration(spec, self.default_tenant_id)
        with self._lock:
            if registration.managed_identity == "system":
                # One system-assigned identity per "host": the newest registration wins.
                for other in self._apps.values():
                    if other.managed_identity == "system":
                        other.managed_identity = None
            self._apps[registration.client_id.lower()] = registration
        return registration

    def get(self, client_id):
        with self._lock:
            return self._apps.get((client_id or "").lower())

    def remove(self, client_id):
        with self._lock:
            return self._apps.pop((client_id or "").lower(), None)

    def all(self):
        with self._lock:
            return list(self._apps.values())

    def system_assigned_identity(self):
        with self._lock:
            for registration in self._apps.values():
                if registration.managed_identity == "system":
                    return registration
        return None

    def tenants(self):
        with self._lock:
            return {registration.tenant_id.lower() for registration in self._apps.values()} | {self.default_tenant_id.lower()}

    def clear(self):
        with self._lock:
            self._apps.clear()
