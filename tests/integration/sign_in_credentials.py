# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The credentials of the tests that sign in with a certificate or a federated token, each registered in the emulator.

Entra accepts a self-signed certificate as an application's certificate credential
(https://learn.microsoft.com/entra/identity-platform/howto-create-self-signed-certificate); the emulator's
``register_app(certificate_pem=...)`` takes the certificate, and the collection's ``client_certificate_path`` (or the
AWX credential's ``client_certificate``) the key and the certificate in one PEM. A federated credential trusts the
tokens of an outside issuer for one subject, with the audience ``api://AzureADTokenExchange``
(https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


class ClientCertificate:
    def __init__(self, common_name):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                            .not_valid_after(now + datetime.timedelta(days=1)).sign(self.key, hashes.SHA256()))
        self.certificate_pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, password=None):
        """The private key in PKCS#8 PEM, encrypted with ``password`` when one is given (a new salt on every call)."""
        encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    def bundle(self, password=None):
        """The key (encrypted with ``password`` when one is given) and the certificate, in one PEM."""
        return self.key_pem(password) + self.certificate_pem


class FederatedIssuer:
    """An outside token issuer (a CI system, a Kubernetes cluster) with its own RSA signing key."""

    def __init__(self, issuer, subject):
        self.issuer = issuer
        self.subject = subject
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def register(self, emulator, roles):
        """A new app registration with ``roles`` that trusts this issuer's tokens for ``subject``; returns its client id."""
        client_id = str(uuid.uuid4())
        public_pem = self.key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        emulator.register_app(client_id=client_id, roles=roles, federated_credentials=[
            dict(issuer=self.issuer, subject=self.subject, issuer_public_key_pem=public_pem.decode())])
        return client_id

    def token(self, subject=None):
        """A token of this issuer for ``subject`` (the registered one by default), valid for ten minutes."""
        now = datetime.datetime.now(datetime.timezone.utc)
        return jwt.encode(dict(iss=self.issuer, sub=subject or self.subject, aud='api://AzureADTokenExchange', iat=now,
                               exp=now + datetime.timedelta(minutes=10)), self.key, algorithm='RS256')
