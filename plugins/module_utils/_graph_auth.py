# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""Access tokens for Microsoft Graph: every credential kind through MSAL, and a token cache shared across processes.

Every task of a playbook runs in its own forked worker, so an in-memory cache would die with each task. The cache
is a JSON file (mode 0600, directory 0700), replaced atomically and changed only under an exclusive lock held for the
whole acquisition: of 20 processes starting together, one asks the token service and the others find its token.
MSAL's discovery response (public, no secret) is cached there too, so a warm cache sends nothing to the login host.

Cached tokens belong to the credential that obtained them: the cache holds one MSAL token cache per credential,
keyed by a one-way fingerprint of the secret, certificate or assertion (never the credential itself). A rotated,
revoked or wrong secret finds no token and goes to the token service, which refuses it.

A task whose token is in the cache reads it straight from the file, without importing MSAL (about 13 ms per forked
worker, docs/authentication.md); MSAL is imported only when a token must be acquired.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import hmac
import json
import os
import re
import tempfile
import time

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - Windows is not a supported controller
    HAS_FCNTL = False

try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - the Graph client refuses to start without it
    HAS_REQUESTS = False

from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphAuthError
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import OptionError

_PEM_BLOCK = re.compile(r'-----BEGIN ([A-Z ]+)-----\s.*?-----END \1-----', re.DOTALL)
# Version 2: one MSAL token cache per credential fingerprint. A version 1 file (keyed by client id only) is ignored.
_CACHE_VERSION = 2
# MSAL treats an access token as expired 5 minutes before its expiry, and refreshes it once past its refresh_on
# (_acquire_token_silent_from_cache_and_possibly_refresh_it in
# https://github.com/AzureAD/microsoft-authentication-library-for-python/blob/dev/msal/application.py): the fast path
# does the same.
EXPIRY_MARGIN_SECONDS = 300
# The token service answers these when it is throttling or unavailable; a token request changes nothing, so it is
# always safe to send again ("temporarily_unavailable ... Retry the request",
# https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes#handling-error-codes-in-your-application).
TOKEN_SERVICE_RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))


def _import_msal():
    try:
        import msal
    except ImportError:
        raise OptionError('The Python library msal is required on the Ansible controller: pip install msal (see the '
                          'collection requirements.txt).')
    return msal


def read_certificate_credential(path, password=None):
    """The MSAL client credential for a PEM file holding a private key and its certificate."""
    text = _read_text(path, 'client_certificate_path')
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
        return _read_text(path, 'federated_token_file').strip()
    return read_assertion


def _read_text(path, option):
    try:
        with open(path, 'r') as handle:
            return handle.read()
    except (IOError, OSError) as error:
        raise OptionError('%s: cannot read %s (%s).' % (option, path, error.strerror))


def credential_fingerprint(settings):
    """A one-way fingerprint of the credential: the key of its tokens in the cache.

    HMAC-SHA256 of the credential, keyed by who presents it (kind, authority, tenant, client), so that the same
    secret of two clients gives two fingerprints. The cache file holds live access tokens and is private to its
    owner; the fingerprint lets a reader of it check a guess of a secret no better than the token service does.
    A certificate is fingerprinted by its PEM file (key and certificate) and password, a federated token by its
    content: a new certificate or a rotated assertion gets a token of its own.
    """
    kind = settings.credential_kind
    if kind == 'client_secret':
        material = settings.client_secret or ''
    elif kind == 'certificate':
        material = _read_text(settings.client_certificate_path, 'client_certificate_path') + '\0' + (settings.client_certificate_password or '')
    elif kind == 'federated_token':
        material = federated_assertion_reader(settings.federated_token_file)()
    else:
        material = ''  # a managed identity has no credential here: the platform vouches for the host
    who = '\n'.join((kind, settings.authority_host, settings.tenant_id or '', settings.client_id or ''))
    return '%s:%s' % (kind, hmac.new(who.encode('utf-8'), material.encode('utf-8'), hashlib.sha256).hexdigest())


def usable_access_token(msal_state, client_id, tenant_id, scope, now=None):
    """The access token of an MSAL cache state (its JSON form) that MSAL itself would use without a request, or None.

    The same test as MSAL's: same client, tenant and scope, an app token (no account), more than 5 minutes left,
    and not past its ``refresh_on``.
    """
    now = time.time() if now is None else now
    entries = (msal_state or {}).get('AccessToken') or {}
    for entry in entries.values():
        if not isinstance(entry, dict) or entry.get('home_account_id') or entry.get('key_id') or entry.get('ext_cache_key'):
            continue
        if entry.get('client_id') != client_id or (entry.get('realm') or '').lower() != (tenant_id or '').lower():
            continue
        if scope not in (entry.get('target') or '').split():
            continue
        try:
            expires_on = int(entry['expires_on'])
            refresh_on = int(entry['refresh_on']) if 'refresh_on' in entry else None
        except (KeyError, TypeError, ValueError):
            continue
        if expires_on - now < EXPIRY_MARGIN_SECONDS or (refresh_on is not None and refresh_on < now):
            continue
        return entry.get('secret')
    return None


def _has_live_token(msal_state, now):
    for entry in ((msal_state or {}).get('AccessToken') or {}).values():
        try:
            if int(entry['expires_on']) > now:
                return True
        except (KeyError, TypeError, ValueError):
            continue
    return False


def read_cache_file(path):
    """The cache file's content (a dict), or None when it is missing, unreadable or of another version.

    Read without the lock: the file is only ever replaced whole (``os.replace``), so a reader sees the old or the new
    content, never a mix.
    """
    try:
        with open(path, 'r') as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return None  # no cache yet, or an unreadable one: start afresh, it is only a cache
    if not isinstance(data, dict) or data.get('version') != _CACHE_VERSION or not isinstance(data.get('token_caches'), dict):
        return None
    return data


class TokenCacheFile:
    """The on-disk cache, under an exclusive lock: MSAL token caches by credential fingerprint, and MSAL's HTTP cache."""

    def __init__(self, path):
        self.path = path
        self._lock_handle = None
        self.token_caches = {}
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
        data = read_cache_file(self.path)
        if data is not None:
            self.token_caches = dict((key, value) for key, value in data['token_caches'].items() if isinstance(value, dict))
            self.http_cache = _http_cache_from_json(data.get('http_cache') or {})
        return self

    def __exit__(self, *exc_info):
        try:
            if HAS_FCNTL:
                fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_UN)
        finally:
            self._lock_handle.close()
        return False

    def msal_state(self, fingerprint):
        """The MSAL token cache of one credential, in MSAL's serialized form (a JSON text), or None."""
        state = self.token_caches.get(fingerprint)
        return json.dumps(state) if state else None

    def save(self, fingerprint=None, msal_state=None, now=None):
        """Write the file, with ``msal_state`` (MSAL's serialized text) as the cache of ``fingerprint`` when given.

        Caches whose tokens have all expired are dropped: a rotated secret leaves nothing behind for long.
        """
        now = time.time() if now is None else now
        if fingerprint is not None:
            self.token_caches[fingerprint] = json.loads(msal_state) if msal_state else {}
        self.token_caches = dict((key, value) for key, value in self.token_caches.items()
                                 if key == fingerprint or _has_live_token(value, now))
        data = dict(version=_CACHE_VERSION, token_caches=self.token_caches, http_cache=_http_cache_to_json(self.http_cache))
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


class TokenServiceHttp:
    """The HTTP client MSAL is given: the token service retried as Graph is retried, its failures worded.

    429, 5xx and connection failures are retried with the Graph client's RetryPolicy (Retry-After honoured, the same
    attempt and time budget); a token request or a discovery read changes nothing, so repeating it is safe. When the
    budget is spent, or the discovery document is refused, a GraphAuthError says what failed, instead of MSAL's
    ``HTTP Error: 500`` or its advice about the authority's format.
    """

    def __init__(self, session, retry_policy, sleep=time.sleep, monotonic=time.monotonic, warn=None):
        self.session = session
        self.retry_policy = retry_policy
        self._sleep = sleep
        self._monotonic = monotonic
        self._warn = warn or (lambda msg: None)

    def get(self, url, **kwargs):
        return self._send('GET', url, kwargs)

    def post(self, url, **kwargs):
        return self._send('POST', url, kwargs)

    def close(self):
        """MSAL may close its client; the session belongs to the Graph client."""

    def _send(self, method, url, kwargs):
        what = describe_login_url(url)
        attempt = 0
        started = self._monotonic()
        while True:
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.exceptions.SSLError:
                raise  # not transient: the Graph client tells the user about ca_path
            except requests.RequestException as error:
                response, status, retry_after, reason = None, None, None, 'the connection failed (%s)' % type(error).__name__
            else:
                status = response.status_code
                if status not in TOKEN_SERVICE_RETRY_STATUSES:
                    if method == 'GET' and status >= 400 and 'openid-configuration' in url:
                        raise _refused(what, response)
                    return response
                retry_after = _header(response, 'Retry-After')
                reason = 'HTTP %s%s' % (status, _oauth_error_suffix(response))
            attempt += 1
            delay = self.retry_policy.delay(attempt, retry_after)
            elapsed = self._monotonic() - started
            if not self.retry_policy.allows(attempt, elapsed, delay):
                raise _gave_up(what, status, reason, attempt, elapsed, self.retry_policy.max_retries, response)
            self._warn('%s: %s; retrying in %.1f s (retry %d of %d).' % (what, reason, delay, attempt, self.retry_policy.max_retries))
            self._sleep(delay)


def describe_login_url(url):
    """Which endpoint of the token service a URL is, for messages (the query string is left out)."""
    bare = url.split('?', 1)[0]
    if 'openid-configuration' in bare:
        return 'the token service discovery document %s' % bare
    if '/oauth2/' in bare and bare.endswith('/token'):
        return 'the token endpoint %s' % bare
    if 'discovery/instance' in bare:
        return 'the token service instance discovery %s' % bare
    return 'the token service at %s' % bare


def _header(response, name):
    headers = getattr(response, 'headers', None) or {}
    return headers.get(name)


def _oauth_body(response):
    try:
        body = json.loads(response.text) if response is not None and response.text else None
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _oauth_error_suffix(response):
    error = _oauth_body(response).get('error')
    return ' (%s)' % error if isinstance(error, str) else ''


def _gave_up(what, status, reason, attempts, elapsed, max_retries, response):
    """The error once the retry budget is spent, worded for what happened."""
    body = _oauth_body(response)
    correlation_id = body.get('correlation_id') if isinstance(body.get('correlation_id'), str) else None
    if status == 429:
        message = ('%s throttled the request: %s to %d attempts over %.1f s (max_retries=%d). Run fewer tasks against '
                   'the tenant at once (forks), or try again later.' % (what, reason, attempts, elapsed, max_retries))
    elif status is not None:
        message = ('%s was unavailable: %s to %d attempts over %.1f s (max_retries=%d). The token service of Microsoft '
                   'Entra ID may be having an incident; try again later.' % (what, reason, attempts, elapsed, max_retries))
    else:
        message = ('cannot reach %s: %s on %d attempts over %.1f s (max_retries=%d). Check the network, proxy and '
                   'authority_host.' % (what, reason, attempts, elapsed, max_retries))
    return GraphAuthError(message, code=body.get('error') if isinstance(body.get('error'), str) else None,
                          correlation_id=correlation_id, status=status)


def _refused(what, response):
    """A discovery document refused with a 4xx: Entra's own description (an unknown tenant is AADSTS90002)."""
    body = _oauth_body(response)
    description = body.get('error_description') if isinstance(body.get('error_description'), str) else None
    message = '%s answered HTTP %s%s' % (what, response.status_code, ': ' + description if description else '')
    return GraphAuthError(message + '. Check tenant_id and authority_host (or cloud).',
                          code=body.get('error') if isinstance(body.get('error'), str) else None, status=response.status_code)


class TokenProvider:
    """Gives the access token for the connection settings, asking the token service only when the cache has none."""

    def __init__(self, settings, http_client):
        self.settings = settings
        self.http_client = http_client
        self._token = None
        self._fingerprint = None

    @property
    def scope(self):
        return self.settings.graph_resource + '/.default'

    def token(self):
        if self.settings.credential_kind == 'access_token':
            return self.settings.access_token
        if self._token is None:
            self._token = self._cached() or self._acquire()
        return self._token

    def fingerprint(self):
        if self._fingerprint is None:
            self._fingerprint = credential_fingerprint(self.settings)
        return self._fingerprint

    def _cached(self):
        """A usable token of this credential from the cache file, read without the lock and without MSAL."""
        if not self.settings.token_cache or self.settings.credential_kind == 'managed_identity':
            return None
        data = read_cache_file(self.settings.token_cache_path)
        if data is None:
            return None
        return usable_access_token(data['token_caches'].get(self.fingerprint()), self.settings.client_id,
                                   self.settings.tenant_id, self.scope)

    def invalidate(self):
        """Forget a token Graph refused (401), so the next call asks the token service for a fresh one."""
        refused, self._token = self._token, None
        if refused is None or not self.settings.token_cache:
            return
        with TokenCacheFile(self.settings.token_cache_path) as cache_file:
            state = cache_file.token_caches.get(self.fingerprint()) or {}
            tokens = state.get('AccessToken') or {}
            for key in [key for key, entry in tokens.items() if isinstance(entry, dict) and entry.get('secret') == refused]:
                del tokens[key]
            cache_file.save()

    def _acquire(self):
        if not self.settings.token_cache:
            msal = _import_msal()
            return self._acquire_with(msal, msal.TokenCache(), {})
        fingerprint = self.fingerprint()
        with TokenCacheFile(self.settings.token_cache_path) as cache_file:
            if self.settings.credential_kind != 'managed_identity':
                # Another process may have acquired it while this one waited for the lock.
                token = usable_access_token(cache_file.token_caches.get(fingerprint), self.settings.client_id,
                                            self.settings.tenant_id, self.scope)
                if token:
                    return token
            msal = _import_msal()
            cache = msal.SerializableTokenCache()
            state = cache_file.msal_state(fingerprint)
            if state:
                try:
                    cache.deserialize(state)
                except ValueError:
                    cache = msal.SerializableTokenCache()
            http_cache_before = _http_cache_to_json(cache_file.http_cache)
            token = self._acquire_with(msal, cache, cache_file.http_cache)
            if cache.has_state_changed or _http_cache_to_json(cache_file.http_cache) != http_cache_before:
                cache_file.save(fingerprint, cache.serialize())
            return token

    def _acquire_with(self, msal, cache, http_cache):
        settings = self.settings
        kind = settings.credential_kind
        if kind == 'managed_identity':
            identity = (msal.UserAssignedManagedIdentity(client_id=settings.client_id) if settings.client_id
                        else msal.SystemAssignedManagedIdentity())
            client = msal.ManagedIdentityClient(identity, http_client=self.http_client, token_cache=cache)
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
                http_client=self.http_client,
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
            result = app.acquire_token_for_client(scopes=[self.scope])
        if result and 'access_token' in result:
            return result['access_token']
        result = result or {}
        raise GraphAuthError(result.get('error_description') or 'the token service gave no access token',
                             code=result.get('error'), correlation_id=result.get('correlation_id'))
