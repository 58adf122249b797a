"""Token service: certificate assertions (RS256/x5t and PS256/x5t#S256), federated tokens, managed identity."""

import datetime
import hashlib
import time
import uuid

import jwt
import msal
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conftest import VerifyingSession

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]
ISSUER = "https://token.actions.example.test"
SUBJECT = "repo:contoso/provisioning:environment:ci"


class KeyAndCertificate:  # pylint: disable=too-few-public-methods
    def __init__(self, key, key_pem, cert_pem, thumbprint):
        self.key = key
        self.key_pem = key_pem
        self.cert_pem = cert_pem
        self.thumbprint = thumbprint


def make_key_and_cert(name="client"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()  # nosec - certificate thumbprint
    return KeyAndCertificate(key, key_pem, cert_pem, thumbprint)


@pytest.fixture(scope="module")
def client_certificate():
    return make_key_and_cert()


@pytest.fixture(scope="module")
def issuer_key():
    return make_key_and_cert("issuer")


def confidential_app(emulator, client_id, credential):
    return msal.ConfidentialClientApplication(client_id, client_credential=credential, authority="%s/%s" % (emulator.url, emulator.tenant_id),
                                              instance_discovery=False, http_client=VerifyingSession(emulator.ca_path))


def register(emulator, session, **spec):
    spec.setdefault("client_id", str(uuid.uuid4()))
    spec.setdefault("roles", ["Synchronization.ReadWrite.All"])
    response = session.post(emulator.url + "/_emulator/apps", json=spec)
    assert response.status_code == 201, response.text
    return response.json()


def graph_works(emulator, session, token):
    response = session.get(emulator.url + "/v1.0/applicationTemplates?$top=1", headers={"Authorization": "Bearer " + token})
    return response.status_code == 200


# -- certificates ---------------------------------------------------------------------

def test_certificate_thumbprint_rs256(emulator, session, client_certificate):
    key_pem, cert_pem, thumbprint = client_certificate.key_pem, client_certificate.cert_pem, client_certificate.thumbprint
    app = register(emulator, session, certificate_pem=cert_pem)
    application = confidential_app(emulator, app["client_id"], {"private_key": key_pem, "thumbprint": thumbprint})
    result = application.acquire_token_for_client(GRAPH_SCOPE)
    assert "access_token" in result, result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["appid"] == app["client_id"]
    assert claims["appidacr"] == "2"
    assert graph_works(emulator, session, result["access_token"])


def test_certificate_public_certificate_ps256(emulator, session, client_certificate):
    key_pem, cert_pem = client_certificate.key_pem, client_certificate.cert_pem
    app = register(emulator, session, certificate_pem=cert_pem)
    seen_headers = []

    class RecordingSession(VerifyingSession):
        def request(self, method, url, *args, **kwargs):
            data = kwargs.get("data") or {}
            if isinstance(data, dict) and "client_assertion" in data:
                seen_headers.append(jwt.get_unverified_header(data["client_assertion"]))
            return super().request(method, url, *args, **kwargs)

    application = msal.ConfidentialClientApplication(
        app["client_id"], client_credential={"private_key": key_pem, "public_certificate": cert_pem},
        authority="%s/%s" % (emulator.url, emulator.tenant_id), instance_discovery=False, http_client=RecordingSession(emulator.ca_path))
    result = application.acquire_token_for_client(GRAPH_SCOPE)
    assert "access_token" in result, result
    assert seen_headers and seen_headers[0]["alg"] == "PS256"
    assert "x5t#S256" in seen_headers[0] and "x5c" in seen_headers[0]


def test_unregistered_certificate_is_refused(emulator, session, client_certificate):
    cert_pem = client_certificate.cert_pem
    other = make_key_and_cert("other")
    other_key_pem, other_thumbprint = other.key_pem, other.thumbprint
    app = register(emulator, session, certificate_pem=cert_pem)
    result = confidential_app(emulator, app["client_id"], {"private_key": other_key_pem, "thumbprint": other_thumbprint}).acquire_token_for_client(GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def test_assertion_signed_by_wrong_key_with_right_thumbprint(emulator, session, client_certificate):
    cert_pem, thumbprint = client_certificate.cert_pem, client_certificate.thumbprint
    other_key_pem = make_key_and_cert("forger").key_pem
    app = register(emulator, session, certificate_pem=cert_pem)
    result = confidential_app(emulator, app["client_id"], {"private_key": other_key_pem, "thumbprint": thumbprint}).acquire_token_for_client(GRAPH_SCOPE)
    assert result["error_codes"] == [700027]
    assert "signature" in result["error_description"]


def test_assertion_with_wrong_audience_or_expired(emulator, session, client_certificate):
    key, cert_pem, thumbprint = client_certificate.key, client_certificate.cert_pem, client_certificate.thumbprint
    app = register(emulator, session, certificate_pem=cert_pem)
    token_url = "%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id)
    x5t = jwt.utils.base64url_encode(bytes.fromhex(thumbprint)).decode() + "="

    def assertion(**claims):
        now = int(time.time())
        base = {"aud": token_url, "iss": app["client_id"], "sub": app["client_id"], "exp": now + 600, "nbf": now, "jti": str(uuid.uuid4())}
        base.update(claims)
        return jwt.encode(base, key, algorithm="RS256", headers={"x5t": x5t})

    def post(client_assertion):
        return session.post(token_url, data={"grant_type": "client_credentials", "client_id": app["client_id"], "scope": GRAPH_SCOPE[0],
                                             "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                                             "client_assertion": client_assertion})

    assert post(assertion()).status_code == 200
    assert post(assertion(aud="https://elsewhere.example/token")).json()["error_codes"] == [50012]
    assert post(assertion(exp=int(time.time()) - 3600)).json()["error_codes"] == [700024]
    assert post(assertion(sub="someone-else", iss="someone-else")).json()["error_codes"] == [70021]


# -- federated credentials -----------------------------------------------------------

def federated_assertion(private_key, subject=SUBJECT, issuer=ISSUER, audience="api://AzureADTokenExchange"):
    now = int(time.time())
    return jwt.encode({"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now, "exp": now + 300}, private_key,
                      algorithm="RS256", headers={"kid": "issuer-key-1"})


def test_federated_token(emulator, session, issuer_key):
    key, cert_pem = issuer_key.key, issuer_key.cert_pem
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    app = register(emulator, session, federated_credentials=[{"issuer": ISSUER, "subject": SUBJECT, "issuer_public_key_pem": public_pem}])
    result = confidential_app(emulator, app["client_id"], {"client_assertion": lambda: federated_assertion(key)}).acquire_token_for_client(GRAPH_SCOPE)
    assert "access_token" in result, result
    assert graph_works(emulator, session, result["access_token"])
    # The credential may also name the issuer by its certificate.
    app2 = register(emulator, session, federated_credentials=[{"issuer": ISSUER, "subject": SUBJECT, "issuer_public_key_pem": cert_pem}])
    application = confidential_app(emulator, app2["client_id"], {"client_assertion": lambda: federated_assertion(key)})
    assert "access_token" in application.acquire_token_for_client(GRAPH_SCOPE)


def test_federated_token_without_matching_credential(emulator, session, issuer_key):
    key, cert_pem = issuer_key.key, issuer_key.cert_pem
    app = register(emulator, session, federated_credentials=[{"issuer": ISSUER, "subject": SUBJECT, "issuer_public_key_pem": cert_pem}])
    for assertion in (federated_assertion(key, subject="repo:contoso/other:ref:refs/heads/main"),
                      federated_assertion(key, audience="api://SomethingElse"),
                      federated_assertion(key, issuer="https://other-issuer.example")):
        result = confidential_app(emulator, app["client_id"], {"client_assertion": lambda value=assertion: value}).acquire_token_for_client(GRAPH_SCOPE)
        assert result["error_codes"] == [70021], result
        assert "No matching federated identity record found for presented assertion" in result["error_description"]


def test_federated_token_with_bad_signature(emulator, session, issuer_key):
    cert_pem = issuer_key.cert_pem
    forger = make_key_and_cert("forger").key
    app = register(emulator, session, federated_credentials=[{"issuer": ISSUER, "subject": SUBJECT, "issuer_public_key_pem": cert_pem}])
    result = confidential_app(emulator, app["client_id"], {"client_assertion": lambda: federated_assertion(forger)}).acquire_token_for_client(GRAPH_SCOPE)
    assert result["error_codes"] == [700027]


# -- managed identity -----------------------------------------------------------------

@pytest.fixture()
def managed_identity_env(emulator, monkeypatch):
    for name in ("MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", emulator.info["managed_identity"]["endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", emulator.info["managed_identity"]["header"])
    assert emulator.info["managed_identity"]["endpoint"].startswith("http://127.0.0.1:")
    return emulator.info["managed_identity"]


def test_system_assigned_managed_identity_app_service(emulator, session, managed_identity_env):
    client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=VerifyingSession(emulator.ca_path))
    result = client.acquire_token_for_client(resource="https://graph.microsoft.com")
    assert "access_token" in result, result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["appid"] == managed_identity_env["client_id"]
    assert graph_works(emulator, session, result["access_token"])
    assert client.acquire_token_for_client(resource="https://graph.microsoft.com")["token_source"] == "cache"
    kinds = [entry["kind"] for entry in emulator.log.since(0)]
    assert "msi" in kinds


def test_user_assigned_managed_identity(emulator, session, managed_identity_env):
    del managed_identity_env
    app = register(emulator, session, managed_identity="user", roles=["Synchronization.Read.All"])
    client = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id=app["client_id"]), http_client=VerifyingSession(emulator.ca_path))
    result = client.acquire_token_for_client(resource="https://graph.microsoft.com")
    assert jwt.decode(result["access_token"], options={"verify_signature": False})["roles"] == ["Synchronization.Read.All"]
    unknown = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id=str(uuid.uuid4())), http_client=VerifyingSession(emulator.ca_path))
    assert "access_token" not in unknown.acquire_token_for_client(resource="https://graph.microsoft.com")


def test_managed_identity_header_is_checked(emulator, session):
    endpoint = emulator.info["managed_identity"]["endpoint"]
    params = {"api-version": "2019-08-01", "resource": "https://graph.microsoft.com"}
    assert session.get(endpoint, params=params, headers={"X-IDENTITY-HEADER": "wrong"}).status_code == 401
    response = session.get(endpoint, params=params, headers={"X-IDENTITY-HEADER": emulator.info["managed_identity"]["header"]})
    assert response.status_code == 200
    assert set(response.json()) >= {"access_token", "expires_on", "resource", "token_type"}
    https_endpoint = emulator.info["managed_identity"]["endpoint_https"]
    assert session.get(https_endpoint, params=params, headers={"X-IDENTITY-HEADER": emulator.info["managed_identity"]["header"]}).status_code == 200


def test_imds_style_managed_identity(emulator, monkeypatch):
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    # Never let MSAL reach 169.254.169.254: point the IMDS host at the emulator's plain-HTTP port.
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emulator.info["managed_identity"]["imds_host"])
    client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=VerifyingSession(emulator.ca_path))
    result = client.acquire_token_for_client(resource="https://graph.microsoft.com")
    assert "access_token" in result, result
