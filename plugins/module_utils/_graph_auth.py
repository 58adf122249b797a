# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""Access tokens for Microsoft Graph: every credential kind through MSAL, and a token cache shared across processes.

Every task of a playbook runs in its own forked worker, so an in-memory cache would die with each task. The cache
is a JSON file (mode 0600, directory 0700) guarded by an exclusive lock held for the whole acquisition: of 20
processes starting together, one asks the token service and the others find its token. MSAL's discovery response
(public, no secret) is cached there too, so a warm cache sends nothing to the login host at all.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import tempfile

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - Windows is not a supported controller
    HAS_FCNTL = False

from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphAuthError
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import OptionError

_PEM_BLOCK = re.compile(r'-----BEGIN ([A-Z ]+)-----\s.*?-----END \1-----', re.DOTALL)
_CACHE_VERSION = 1


def _import_msal():
    try:
        import msal
    except ImportError:
        raise OptionError('The Python library msal is required on the Ansible controller: pip install msal (see the '
                          'collection requirements.txt).')
    return msal


def read_certificate_credential(path, password=None):
    """The MSAL client credential for a PEM file holding a private key and its certificate."""
    try:
        with open(path, 'r') as handle:
            text = handle.read()
    except (IOError, OSError) as error:
        raise OptionError('client_certificate_path: cannot read %s (%s).' % (path, error.strerror))
    blocks = [(match.group(1), match.group(0)) for match in _PEM_BLOCK.finditer(text)]
    keys = [block for kind, block in blocks if kind.endswith('PRIVATE KEY')]
    certificates = [block for kind, block in blocks if kind == 'CERTIFICATE']
    if not keys or not certificates:
        raise OptionError('client_certificate_path: %s must hold both the private key and the certificate in PEM form '
                          '(found %d private key(s) and %d certificate(s)); for a PFX file, convert it with '
                          '"openssl pkcs12 -in cert.pfx -out cert.pem -nodes".' % (path, len(keys), len(certificates)))
    credential = {'private_key': keys[0], 'public_certificate': certificates[0]}
    if password:
        credential['passphrase'] = password
    return credential


def federated_assertion_reader(path):
    """A callable MSAL calls at each token request: platforms rotate the federated token file."""
    def read_assertion():
        try:
            with open(path, 'r') as handle:
                return handle.read().strip()
        except (IOError, OSError) as error:
            raise OptionError('federated_token_file: cannot read %s (%s).' % (path, error.strerror))
    return read_assertion


class TokenCacheFile:
    """The on-disk cache: MSAL's serialized token cache plus its public HTTP cache, under an exclusive lock."""

    def __init__(self, path):
        self.path = path
        self._lock_handle = None
        self.token_cache_state = None
        self.http_cache = {}

    def __enter__(self):
        directory = os.path.dirname(self.path) or '.'
        # exist_ok: parallel tasks (forks, AWX slices) create the cache directory at the same moment.
        os.makedirs(directory, mode=0o700, exist_ok=True)
        lock_path = self.path + '.lock'
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._lock_handle = os.fdopen(fd, 'r+')
        if HAS_FCNTL:
            fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_EX)
        self._load()
        return self

    def __exit__(self, *exc_info):
        try:
            if HAS_FCNTL:
                fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_UN)
        finally:
            self._lock_handle.close()
        return False

    def _load(self):
        try:
            with open(self.path, 'r') as handle:
                data = json.load(handle)
        except (IOError, OSError, ValueError):
            return  # no cache yet, or an unreadable one: start afresh, it is only a cache
        if not isinstance(data, dict) or data.get('version') != _CACHE_VERSION:
            return
        self.token_cache_state = data.get('token_cache')
        self.http_cache = _http_cache_from_json(data.get('http_cache') or {})

    def save(self, token_cache_state):
        data = dict(version=_CACHE_VERSION, token_cache=token_cache_state, http_cache=_http_cache_to_json(self.http_cache))
        directory = os.path.dirname(self.path) or '.'
        fd, temporary = tempfile.mkstemp(prefix='.token_cache.', dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, 'w') as handle:
                json.dump(data, handle)
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise


class _CachedResponse:
    """What MSAL reads from a cached HTTP response."""

    def __init__(self, status_code, text, headers):
        self.status_code = status_code
        self.text = text
        self.headers = headers

    def raise_for_status(self):
        if self.status_code >= 400:
            raise ValueError('HTTP Error: %s' % self.status_code)


def _http_cache_to_json(mapping):
    """Keep only successful GETs (discovery documents): error replays stay in memory, as MSAL intends."""
    kept = {}
    for key, value in mapping.items():
        if key == '_index_' or not str(key).startswith('GET '):
            continue
        status = getattr(value, 'status_code', None)
        if status is not None and 200 <= status < 300:
            kept[key] = dict(status_code=status, text=value.text, headers=dict(value.headers))
    index = mapping.get('_index_')
    if index and kept:
        sequence, timestamps = index
        kept_index = ([entry for entry in sequence if entry[2] in kept],
                      dict((key, stamp) for key, stamp in timestamps.items() if key in kept))
        return dict(entries=kept, index=kept_index)
    return dict(entries={}, index=None)


def _http_cache_from_json(data):
    mapping = {}
    for key, value in (data.get('entries') or {}).items():
        mapping[key] = _CachedResponse(value['status_code'], value['text'], value['headers'])
    index = data.get('index')
    if index and mapping:
        sequence, timestamps = index
        mapping['_index_'] = ([list(entry) for entry in sequence], dict(timestamps))
    return mapping


class TokenProvider:
    """Gives the access token for the connection settings, asking the token service only when the cache has none."""

    def __init__(self, settings, session):
        self.settings = settings
        self.session = session
        self._token = None

    def token(self):
        if self.settings.credential_kind == 'access_token':
            return self.settings.access_token
        if self._token is None:
            self._token = self._acquire()
        return self._token

    def invalidate(self):
        """Forget a token Graph refused (401), so the next call asks the token service for a fresh one."""
        refused, self._token = self._token, None
        if refused is None or not self.settings.token_cache:
            return
        msal = _import_msal()
        with TokenCacheFile(self.settings.token_cache_path) as cache_file:
            cache = msal.SerializableTokenCache()
            if cache_file.token_cache_state:
                cache.deserialize(cache_file.token_cache_state)
            for entry in cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN):
                if entry.get('secret') == refused:
                    cache.remove_at(entry)
            cache_file.save(cache.serialize())

    def _acquire(self):
        msal = _import_msal()
        if not self.settings.token_cache:
            return self._acquire_with(msal, msal.TokenCache(), {})
        with TokenCacheFile(self.settings.token_cache_path) as cache_file:
            cache = msal.SerializableTokenCache()
            if cache_file.token_cache_state:
                try:
                    cache.deserialize(cache_file.token_cache_state)
                except ValueError:
                    cache = msal.SerializableTokenCache()
            http_cache_before = _http_cache_to_json(cache_file.http_cache)
            token = self._acquire_with(msal, cache, cache_file.http_cache)
            if cache.has_state_changed or _http_cache_to_json(cache_file.http_cache) != http_cache_before:
                cache_file.save(cache.serialize())
            return token

    def _acquire_with(self, msal, cache, http_cache):
        settings = self.settings
        kind = settings.credential_kind
        scope = settings.graph_resource + '/.default'
        if kind == 'managed_identity':
            identity = (msal.UserAssignedManagedIdentity(client_id=settings.client_id) if settings.client_id
                        else msal.SystemAssignedManagedIdentity())
            client = msal.ManagedIdentityClient(identity, http_client=self.session, token_cache=cache)
            result = client.acquire_token_for_client(resource=settings.graph_resource)
        else:
            if kind == 'client_secret':
                credential = settings.client_secret
            elif kind == 'certificate':
                credential = read_certificate_credential(settings.client_certificate_path, settings.client_certificate_password)
            else:
                credential = {'client_assertion': federated_assertion_reader(settings.federated_token_file)}
            options = dict(
                client_credential=credential,
                authority='%s/%s' % (settings.authority_host, settings.tenant_id),
                http_client=self.session,
                token_cache=cache,
                http_cache=http_cache,
            )
            if not settings.known_authority:
                # A custom authority (the emulator, a proxy): without this MSAL asks login.microsoftonline.com about it.
                options['instance_discovery'] = False
            try:
                app = msal.ConfidentialClientApplication(settings.client_id, **options)
            except ValueError as error:
                raise GraphAuthError('the authority %s/%s was refused by MSAL: %s' % (settings.authority_host, settings.tenant_id, error))
            result = app.acquire_token_for_client(scopes=[scope])
        if result and 'access_token' in result:
            return result['access_token']
        result = result or {}
        raise GraphAuthError(result.get('error_description') or 'the token service gave no access token',
                             code=result.get('error'), correlation_id=result.get('correlation_id'))
