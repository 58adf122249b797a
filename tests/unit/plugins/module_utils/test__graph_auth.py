# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat
import sys

import pytest
import requests

from ansible_collections.entra.provisioning.plugins.module_utils._graph_auth import (
    TokenCacheFile,
    TokenProvider,
    TokenServiceHttp,
    _CachedResponse,
    credential_fingerprint,
    federated_assertion_reader,
    read_cache_file,
    read_certificate_credential,
    usable_access_token,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import RetryPolicy
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphAuthError
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import ConnectionSettings, OptionError

from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.scripted_http import FakeResponse

KEY = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'
CERT = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n'


def test_cache_file_and_directory_are_private(tmp_path):
    path = tmp_path / 'fresh' / 'token_cache.json'
    with TokenCacheFile(str(path)) as cache:
        cache.save('secret:abc', '{"AccessToken": {}}')
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(path.parent)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(str(path) + '.lock').st_mode) == 0o600


def test_cache_round_trips_tokens_and_successful_discovery_only(tmp_path):
    path = str(tmp_path / 'cache.json')
    with TokenCacheFile(path) as cache:
        cache.http_cache['GET https://login/tenant/v2.0/.well-known/openid-configuration hash=x 2xx'] = _CachedResponse(200, '{"a": 1}', {'x': 'y'})
        cache.http_cache['POST https://login/tenant/oauth2/v2.0/token hash=y 400'] = _CachedResponse(400, '{"error": "invalid_client"}', {})
        cache.http_cache['_index_'] = ([[9999999999, 1, 'GET https://login/tenant/v2.0/.well-known/openid-configuration hash=x 2xx'],
                                        [9999999999, 1, 'POST https://login/tenant/oauth2/v2.0/token hash=y 400']],
                                       {'GET https://login/tenant/v2.0/.well-known/openid-configuration hash=x 2xx': [9999999999, 1],
                                        'POST https://login/tenant/oauth2/v2.0/token hash=y 400': [9999999999, 1]})
        cache.save('client_secret:abc', '{"AccessToken": {}, "AppMetadata": {}}')
    with TokenCacheFile(path) as cache:
        assert cache.msal_state('client_secret:abc') == '{"AccessToken": {}, "AppMetadata": {}}'
        keys = set(cache.http_cache)
        response = cache.http_cache['GET https://login/tenant/v2.0/.well-known/openid-configuration hash=x 2xx']
    assert keys == {'GET https://login/tenant/v2.0/.well-known/openid-configuration hash=x 2xx', '_index_'}
    assert (response.status_code, response.text) == (200, '{"a": 1}')


def test_a_corrupt_cache_is_ignored(tmp_path):
    path = tmp_path / 'cache.json'
    path.write_text('{not json')
    with TokenCacheFile(str(path)) as cache:
        assert cache.token_caches == {} and cache.http_cache == {}


def test_certificate_file_needs_key_and_certificate(tmp_path):
    both = tmp_path / 'both.pem'
    both.write_text(KEY + CERT)
    credential = read_certificate_credential(str(both), 'pw')
    assert credential == {'private_key': KEY.strip(), 'public_certificate': CERT.strip(), 'passphrase': 'pw'}
    only_cert = tmp_path / 'cert.pem'
    only_cert.write_text(CERT)
    with pytest.raises(OptionError, match='found 0 private key'):
        read_certificate_credential(str(only_cert))


def test_federated_token_is_read_at_each_call(tmp_path):
    token_file = tmp_path / 'token'
    token_file.write_text('first\n')
    read = federated_assertion_reader(str(token_file))
    assert read() == 'first'
    token_file.write_text('rotated')
    assert read() == 'rotated'


# --- cached tokens are keyed by a one-way fingerprint of the credential ----------------------------------------------

NOW = 1800000000
SCOPE = 'https://graph.microsoft.com/.default'


def settings(**overrides):
    params = dict(tenant_id='Tenant-1', client_id='client-1', client_secret='s3cret-value', authority_host='https://login.example.test',
                  graph_endpoint=None)
    params.update(overrides)
    return ConnectionSettings(params)


def msal_state(*entries):
    """An MSAL SerializableTokenCache state holding these access tokens (MSAL's own field names)."""
    return {'AccessToken': dict(('key-%d' % index, entry) for index, entry in enumerate(entries))}


def access_token(secret='tok', client_id='client-1', realm='tenant-1', target=SCOPE, expires_in=3600, **extra):
    entry = dict(credential_type='AccessToken', secret=secret, home_account_id='', environment='login.example.test',
                 client_id=client_id, realm=realm, target=target, token_type='Bearer', cached_at=str(NOW),
                 expires_on=str(NOW + expires_in), extended_expires_on=str(NOW + expires_in))
    entry.update(extra)
    return entry


def test_fingerprint_depends_on_the_secret_and_never_contains_it():
    right = credential_fingerprint(settings())
    assert right == credential_fingerprint(settings())
    assert right != credential_fingerprint(settings(client_secret='s3cret-valuf'))
    assert right != credential_fingerprint(settings(client_id='client-2'))
    assert right != credential_fingerprint(settings(tenant_id='tenant-2'))
    assert 's3cret' not in right and right.startswith('client_secret:')


def test_fingerprint_of_a_certificate_covers_the_key_file_and_password(tmp_path):
    pem = tmp_path / 'client.pem'
    pem.write_text(KEY + CERT)
    first = credential_fingerprint(settings(client_secret=None, client_certificate_path=str(pem)))
    assert first != credential_fingerprint(settings(client_secret=None, client_certificate_path=str(pem), client_certificate_password='pw'))
    pem.write_text(KEY.replace('MIIB', 'MIIX') + CERT)
    assert first != credential_fingerprint(settings(client_secret=None, client_certificate_path=str(pem)))


@pytest.mark.parametrize('entry, usable', [
    (access_token(), True),
    (access_token(realm='TENANT-1'), True),
    (access_token(target='other/.default ' + SCOPE), True),
    (access_token(expires_in=299), False),  # MSAL's 5 minute margin
    (access_token(refresh_on=str(NOW - 1)), False),  # aging: MSAL would refresh it
    (access_token(client_id='client-2'), False),
    (access_token(realm='tenant-2'), False),
    (access_token(target='https://other.example/.default'), False),
    (access_token(home_account_id='uid.utid'), False),
    (access_token(key_id='pop-key'), False),
    (access_token(expires_on='soon'), False),
], ids=['fresh', 'tenant-case', 'wider-target', 'expiring', 'aging', 'other-client', 'other-tenant', 'other-scope', 'user-token',
        'bound-token', 'garbled'])
def test_a_cached_token_is_used_exactly_when_msal_would_use_it(entry, usable):
    found = usable_access_token(msal_state(entry), 'client-1', 'tenant-1', SCOPE, now=NOW)
    assert found == ('tok' if usable else None)


def test_cache_file_keeps_each_credentials_tokens_apart_and_drops_expired_ones(tmp_path):
    path = str(tmp_path / 'cache.json')
    with TokenCacheFile(path) as cache:
        cache.save('client_secret:old', json.dumps(msal_state(access_token('old', expires_in=-10))), now=NOW)
        cache.save('client_secret:new', json.dumps(msal_state(access_token('new'))), now=NOW)
    data = read_cache_file(path)
    assert set(data['token_caches']) == {'client_secret:new'}
    with TokenCacheFile(path) as cache:
        cache.save('client_secret:other', json.dumps(msal_state(access_token('other'))), now=NOW)
    assert set(read_cache_file(path)['token_caches']) == {'client_secret:new', 'client_secret:other'}


def test_a_version_1_cache_keyed_by_client_only_is_ignored(tmp_path):
    path = tmp_path / 'cache.json'
    path.write_text(json.dumps(dict(version=1, token_cache=json.dumps(msal_state(access_token())), http_cache={})))
    assert read_cache_file(str(path)) is None


def test_the_token_comes_from_the_cache_file_without_msal(tmp_path, monkeypatch):
    path = str(tmp_path / 'cache.json')
    wanted = settings(token_cache_path=path)
    with TokenCacheFile(path) as cache:
        cache.save(credential_fingerprint(wanted), json.dumps(msal_state(access_token('cached-token', realm='Tenant-1', expires_in=4000))))
    monkeypatch.setitem(sys.modules, 'msal', None)  # importing msal now fails
    assert TokenProvider(wanted, http_client=None).token() == 'cached-token'
    with pytest.raises(OptionError, match='msal is required'):
        TokenProvider(settings(token_cache_path=path, client_secret='another-secret'), http_client=None).token()


def test_invalidate_removes_the_refused_token_of_this_credential_only(tmp_path):
    path = str(tmp_path / 'cache.json')
    mine = settings(token_cache_path=path)
    other = credential_fingerprint(settings(client_secret='other'))
    with TokenCacheFile(path) as cache:
        cache.save(other, json.dumps(msal_state(access_token('refused-token', expires_in=4000))))
        cache.save(credential_fingerprint(mine), json.dumps(msal_state(access_token('refused-token', expires_in=4000))))
    provider = TokenProvider(mine, http_client=None)
    assert provider.token() == 'refused-token'
    provider.invalidate()
    caches = read_cache_file(path)['token_caches']
    assert not (caches.get(credential_fingerprint(mine)) or {}).get('AccessToken')
    assert list(caches[other]['AccessToken'].values())[0]['secret'] == 'refused-token'


# --- the token service is retried like Graph ----------------------------------------------------------------------

class LoginSession:
    def __init__(self, replies):
        self.replies = list(replies)
        self.sent = []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


TOKEN_URL = 'https://login.example.test/tenant-1/oauth2/v2.0/token'
DISCOVERY_URL = 'https://login.example.test/tenant-1/v2.0/.well-known/openid-configuration'


def token_http(replies, max_retries=3):
    sleeps, warnings = [], []
    session = LoginSession(replies)
    http = TokenServiceHttp(session, RetryPolicy(max_retries=max_retries, rand=lambda: 0.5), sleep=sleeps.append,
                            monotonic=lambda: 0.0, warn=warnings.append)
    return http, session, sleeps, warnings


def test_token_post_is_retried_after_retry_after_then_answered():
    http, session, sleeps, warnings = token_http([FakeResponse(429, {'error': 'temporarily_unavailable'}, {'Retry-After': '2.5'}),
                                                  requests.exceptions.ConnectionError('reset'), FakeResponse(200, {'access_token': 'x'})])
    assert http.post(TOKEN_URL, data={'grant_type': 'client_credentials'}).status_code == 200
    assert sleeps == [2.5, 1.5]
    assert [method for method, dummy in session.sent] == ['POST'] * 3
    assert 'the token endpoint' in warnings[0] and 'HTTP 429 (temporarily_unavailable)' in warnings[0]


def test_an_oauth_error_is_handed_to_msal_unretried():
    http, session, sleeps, dummy = token_http([FakeResponse(401, {'error': 'invalid_client'})])
    assert http.post(TOKEN_URL).status_code == 401
    assert sleeps == [] and len(session.sent) == 1


def test_the_token_endpoint_down_after_the_budget_says_so():
    http, session, sleeps, dummy = token_http([FakeResponse(503, {'error': 'temporarily_unavailable', 'correlation_id': 'corr-1'})] * 3, max_retries=2)
    with pytest.raises(GraphAuthError) as caught:
        http.post(TOKEN_URL)
    message = str(caught.value)
    assert 'token endpoint %s was unavailable: HTTP 503' % TOKEN_URL in message and '3 attempts' in message
    assert caught.value.status == 503 and caught.value.request_id == 'corr-1'
    assert len(sleeps) == 2


def test_a_throttled_discovery_document_says_throttled():
    http, dummy, dummy2, dummy3 = token_http([FakeResponse(429, {}, {'Retry-After': '1'})] * 2, max_retries=1)
    with pytest.raises(GraphAuthError, match='discovery document .* throttled the request: HTTP 429'):
        http.get(DISCOVERY_URL)


def test_a_refused_discovery_document_gives_entras_description():
    http, dummy, dummy2, dummy3 = token_http([FakeResponse(400, {'error': 'invalid_request', 'error_description': "AADSTS90002: Tenant 'x' not found."})])
    with pytest.raises(GraphAuthError, match="AADSTS90002: Tenant 'x' not found.*Check tenant_id"):
        http.get(DISCOVERY_URL)


def test_tls_failures_are_not_retried():
    http, session, dummy, dummy2 = token_http([requests.exceptions.SSLError('bad certificate')])
    with pytest.raises(requests.exceptions.SSLError):
        http.post(TOKEN_URL)
    assert len(session.sent) == 1
