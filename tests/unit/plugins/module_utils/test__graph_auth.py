# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._graph_auth import (
    TokenCacheFile,
    _CachedResponse,
    federated_assertion_reader,
    read_certificate_credential,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import OptionError

KEY = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'
CERT = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n'


def test_cache_file_and_directory_are_private(tmp_path):
    path = tmp_path / 'fresh' / 'token_cache.json'
    with TokenCacheFile(str(path)) as cache:
        cache.save('{"AccessToken": {}}')
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
        cache.save('serialized-msal-cache')
    with TokenCacheFile(path) as cache:
        assert cache.token_cache_state == 'serialized-msal-cache'
        keys = set(cache.http_cache)
        response = cache.http_cache['GET https://login/tenant/v2.0/.well-known/openid-configuration hash=x 2xx']
    assert keys == {'GET https://login/tenant/v2.0/.well-known/openid-configuration hash=x 2xx', '_index_'}
    assert (response.status_code, response.text) == (200, '{"a": 1}')


def test_a_corrupt_cache_is_ignored(tmp_path):
    path = tmp_path / 'cache.json'
    path.write_text('{not json')
    with TokenCacheFile(str(path)) as cache:
        assert cache.token_cache_state is None and cache.http_cache == {}


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
