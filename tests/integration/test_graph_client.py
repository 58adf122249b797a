# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Graph client for real: msal and requests against the emulator over HTTPS, TLS verification on."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys
import uuid

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import GraphClient
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphAuthError, GraphError, GraphPermissionError
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import ConnectionSettings

from sign_in_credentials import ClientCertificate, FederatedIssuer
from conftest import collections_path

READER_ROLES = ['Application.Read.All', 'Synchronization.Read.All']


def base_params(emulator, cache_path, **overrides):
    info = emulator.info
    params = dict(tenant_id=info['tenant_id'], client_id=info['client_id'], client_secret=info['client_secret'],
                  authority_host=info['authority_host'], graph_endpoint=info['graph_endpoint'], ca_path=emulator.ca_path,
                  token_cache_path=cache_path)
    params.update(overrides)
    return params


def make_client(params, warnings=None):
    return GraphClient(ConnectionSettings(params), warn=(warnings.append if warnings is not None else None))


def token_requests(emulator):
    return [entry for entry in emulator.requests_log() if entry['kind'] == 'login' and entry['path'].endswith('/token')]


def login_requests(emulator):
    return [entry for entry in emulator.requests_log() if entry['kind'] == 'login']


@pytest.fixture
def cache_path(tmp_path):
    return str(tmp_path / 'cache' / 'token_cache.json')


def test_client_secret_reads_graph_with_one_token_request(fresh_emulator, cache_path):
    client = make_client(base_params(fresh_emulator, cache_path))
    client.get('/servicePrincipals', params={'$top': '1'})
    client.get('/applicationTemplates', params={'$top': '1'})
    assert len(token_requests(fresh_emulator)) == 1
    assert client.request_count == 2


@pytest.mark.parametrize('password', [None, 'correct horse'])
def test_client_certificate(fresh_emulator, cache_path, tmp_path, password):
    credential = ClientCertificate('entra-provisioning-test')
    client_id = str(uuid.uuid4())
    fresh_emulator.register_app(client_id=client_id, roles=READER_ROLES, certificate_pem=credential.certificate_pem.decode())
    pem_path = tmp_path / 'client.pem'
    pem_path.write_bytes(credential.bundle(password))
    params = base_params(fresh_emulator, cache_path, client_id=client_id, client_secret=None,
                         client_certificate_path=str(pem_path), client_certificate_password=password)
    assert make_client(params).get('/servicePrincipals', params={'$top': '1'}) is not None


def test_federated_token_file(fresh_emulator, cache_path, tmp_path):
    ci = FederatedIssuer('https://oidc.ci.example.test', 'repo:contoso/provisioning:ref:refs/heads/main')
    client_id = ci.register(fresh_emulator, READER_ROLES)
    token_file = tmp_path / 'federated-token'
    token_file.write_text(ci.token())
    params = base_params(fresh_emulator, cache_path, client_id=client_id, client_secret=None, federated_token_file=str(token_file))
    assert make_client(params).get('/servicePrincipals', params={'$top': '1'}) is not None

    token_file.write_text(ci.token('repo:someone/else:ref:refs/heads/main'))
    other_cache = cache_path + '.other'
    with pytest.raises(GraphAuthError) as caught:
        make_client(dict(params, token_cache_path=other_cache)).get('/servicePrincipals')
    assert 'AADSTS' in str(caught.value)


def test_managed_identity_app_service_endpoint(fresh_emulator, cache_path, monkeypatch):
    info = fresh_emulator.info
    monkeypatch.setenv('IDENTITY_ENDPOINT', info['managed_identity']['endpoint'])
    monkeypatch.setenv('IDENTITY_HEADER', info['managed_identity']['header'])
    params = base_params(fresh_emulator, cache_path, client_secret=None, client_id=None, tenant_id=None, managed_identity=True)
    assert make_client(params).get('/servicePrincipals', params={'$top': '1'}) is not None
    assert [entry for entry in fresh_emulator.requests_log() if entry['kind'] == 'msi']


def test_pre_acquired_access_token_sends_nothing_to_the_login_host(fresh_emulator, cache_path):
    token = make_client(base_params(fresh_emulator, cache_path)).tokens.token()
    fresh_emulator.clear_log()
    params = base_params(fresh_emulator, cache_path, client_secret=None, access_token=token)
    make_client(params).get('/servicePrincipals', params={'$top': '1'})
    assert login_requests(fresh_emulator) == []


def test_bad_secret_gives_entra_error_without_the_secret(fresh_emulator, cache_path):
    params = base_params(fresh_emulator, cache_path, client_secret='not-the-secret-1234')
    with pytest.raises(GraphAuthError) as caught:
        make_client(params).get('/servicePrincipals')
    message = str(caught.value)
    assert 'AADSTS7000215' in message
    assert 'not-the-secret-1234' not in message


def test_unknown_client_gives_entra_error(fresh_emulator, cache_path):
    params = base_params(fresh_emulator, cache_path, client_id=str(uuid.uuid4()))
    with pytest.raises(GraphAuthError) as caught:
        make_client(params).get('/servicePrincipals')
    assert 'AADSTS700016' in str(caught.value)


def test_missing_permission_names_it(fresh_emulator, cache_path):
    client_id = str(uuid.uuid4())
    fresh_emulator.register_app(client_id=client_id, client_secret='reader-secret', roles=READER_ROLES)
    client = make_client(base_params(fresh_emulator, cache_path, client_id=client_id, client_secret='reader-secret'))
    sp = client.list_all('/servicePrincipals', params={'$top': '1'})
    path = '/servicePrincipals/%s/synchronization/jobs' % (sp[0]['id'] if sp else uuid.uuid4())
    with pytest.raises(GraphPermissionError) as caught:
        client.write('POST', path, {'templateId': 'scim'})
    assert caught.value.status == 403
    assert 'Synchronization.ReadWrite.All' in str(caught.value)


def test_tls_is_verified_and_ca_path_wins_over_requests_ca_bundle(fresh_emulator, cache_path, monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/etc/ssl/certs/ca-certificates.crt')
    monkeypatch.setenv('CURL_CA_BUNDLE', '/etc/ssl/certs/ca-certificates.crt')
    assert make_client(base_params(fresh_emulator, cache_path)).get('/servicePrincipals', params={'$top': '1'}) is not None
    with pytest.raises(GraphError) as caught:
        make_client(base_params(fresh_emulator, cache_path + '.2', ca_path=None)).get('/servicePrincipals')
    assert 'ca_path' in str(caught.value)


def test_validate_certs_false_warns(fresh_emulator, cache_path):
    warnings = []
    make_client(base_params(fresh_emulator, cache_path, ca_path=None, validate_certs=False), warnings).get('/servicePrincipals',
                                                                                                           params={'$top': '1'})
    assert any('validate_certs=false' in warning for warning in warnings)


_PROCESS_SCRIPT = '''
import json, sys
from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import GraphClient
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import ConnectionSettings
client = GraphClient(ConnectionSettings(json.loads(sys.argv[1])))
client.get('/servicePrincipals', params={'$top': '1'})
'''


def _run_processes(count, params, scratch):
    env = dict(os.environ, PYTHONPATH=collections_path(scratch))
    processes = [subprocess.Popen([sys.executable, '-c', _PROCESS_SCRIPT, json.dumps(params)], env=env, stderr=subprocess.PIPE)
                 for dummy in range(count)]
    failures = [process.stderr.read().decode() for process in processes if process.wait() != 0]
    assert failures == []


def test_twenty_processes_share_one_token_request_and_a_warm_cache_needs_no_login(fresh_emulator, cache_path, tmp_path):
    params = base_params(fresh_emulator, cache_path)
    _run_processes(20, params, str(tmp_path))
    assert len(token_requests(fresh_emulator)) == 1
    assert oct(os.stat(cache_path).st_mode & 0o777) == '0o600'
    fresh_emulator.clear_log()
    _run_processes(5, params, str(tmp_path))
    assert login_requests(fresh_emulator) == []
    graph = [entry for entry in fresh_emulator.requests_log() if entry['kind'] == 'graph']
    assert len(graph) == 5


def test_cache_off_asks_the_token_service_each_time(fresh_emulator, cache_path):
    params = base_params(fresh_emulator, cache_path, token_cache=False)
    make_client(params).get('/servicePrincipals', params={'$top': '1'})
    make_client(params).get('/servicePrincipals', params={'$top': '1'})
    assert len(token_requests(fresh_emulator)) == 2
    assert not os.path.exists(cache_path)


def test_throttled_reads_are_retried_after_retry_after(fresh_emulator, cache_path):
    fresh_emulator.set_faults(dict(rules=[dict(method='GET', path=r'^/v1\.0/servicePrincipals$', action='throttle', retry_after=0.2, count=2)]))
    warnings = []
    client = make_client(base_params(fresh_emulator, cache_path), warnings)
    assert client.get('/servicePrincipals', params={'$top': '1'}) is not None
    statuses = [entry['status'] for entry in fresh_emulator.requests_log() if entry['kind'] == 'graph']
    assert statuses == [429, 429, 200]
    assert len(warnings) == 2


def test_paging_and_batch_against_the_emulator(fresh_emulator, cache_path):
    fresh_emulator.seed(service_principals=45, with_jobs=10)
    client = make_client(base_params(fresh_emulator, cache_path))
    listed = client.list_all('/servicePrincipals', params={'$top': '10', '$select': 'id,appId,displayName'})
    assert len(listed) >= 45
    pages = [entry for entry in fresh_emulator.requests_log() if entry['kind'] == 'graph' and entry['path'].endswith('/servicePrincipals')]
    assert len(pages) >= 5
    paths = ['/servicePrincipals/%s/synchronization/jobs' % sp['id'] for sp in listed]
    results = client.batch_get(paths, concurrency=3)
    assert set(results) == set(paths)
    assert all(result.ok for result in results.values())
    assert sum(len(result.body['value']) for result in results.values()) >= 10


# --- the token service's faults: retried as Graph is retried, and each failure worded for what it is --------------------

TOKEN_POST = r'/oauth2/v2\.0/token$'
DISCOVERY_GET = r'/v2\.0/\.well-known/openid-configuration$'


def login_statuses(emulator, path_end):
    return [entry['status'] for entry in login_requests(emulator) if entry['path'].endswith(path_end)]


@pytest.mark.parametrize('rule', [
    dict(action='error', status=500, count=2),
    dict(action='unavailable', status=503, retry_after=0.2, count=1),
    dict(action='throttle', status=429, retry_after=0.2, count=2),
    dict(action='drop', count=1),
], ids=['500', '503-retry-after', '429-retry-after', 'dropped'])
def test_token_endpoint_faults_are_retried(fresh_emulator, cache_path, rule):
    fresh_emulator.set_faults(dict(rules=[dict(rule, kind='login', method='POST', path=TOKEN_POST)]))
    warnings = []
    client = make_client(base_params(fresh_emulator, cache_path), warnings)
    assert client.get('/servicePrincipals', params={'$top': '1'}) is not None
    statuses = login_statuses(fresh_emulator, '/token')
    assert statuses == [rule.get('status', 0)] * rule['count'] + [200]
    assert len(warnings) == rule['count']
    assert all('token endpoint' in warning for warning in warnings), warnings


def test_discovery_document_throttled_once_is_retried(fresh_emulator, cache_path):
    fresh_emulator.set_faults(dict(rules=[dict(kind='login', method='GET', path=DISCOVERY_GET, action='throttle', retry_after=0.2,
                                               count=1)]))
    client = make_client(base_params(fresh_emulator, cache_path))
    assert client.get('/servicePrincipals', params={'$top': '1'}) is not None
    assert login_statuses(fresh_emulator, '/openid-configuration') == [429, 200]


def test_token_endpoint_down_is_worded_as_such_after_the_retry_budget(fresh_emulator, cache_path):
    fresh_emulator.set_faults(dict(rules=[dict(kind='login', method='POST', path=TOKEN_POST, action='unavailable', retry_after=0.1)]))
    with pytest.raises(GraphAuthError) as caught:
        make_client(base_params(fresh_emulator, cache_path, max_retries=2)).get('/servicePrincipals')
    message = str(caught.value)
    assert 'token endpoint' in message and 'HTTP 503' in message and '3 attempts' in message, message
    assert login_statuses(fresh_emulator, '/token') == [503, 503, 503]
    assert fresh_emulator.graph_requests() == []


def test_token_endpoint_500_is_worded_as_such(fresh_emulator, cache_path):
    fresh_emulator.set_faults(dict(rules=[dict(kind='login', method='POST', path=TOKEN_POST, action='error', status=500)]))
    with pytest.raises(GraphAuthError) as caught:
        make_client(base_params(fresh_emulator, cache_path, max_retries=1)).get('/servicePrincipals')
    message = str(caught.value)
    assert 'HTTP 500' in message and 'token endpoint' in message and '2 attempts' in message, message


def test_discovery_document_throttled_is_worded_as_throttling_not_a_bad_authority(fresh_emulator, cache_path):
    fresh_emulator.set_faults(dict(rules=[dict(kind='login', method='GET', path=DISCOVERY_GET, action='throttle', retry_after=0.1)]))
    with pytest.raises(GraphAuthError) as caught:
        make_client(base_params(fresh_emulator, cache_path, max_retries=1)).get('/servicePrincipals')
    message = str(caught.value)
    assert 'throttled' in message and 'HTTP 429' in message and 'discovery' in message, message
    assert 'format' not in message


def test_unknown_tenant_is_named_by_the_discovery_error(fresh_emulator, cache_path):
    with pytest.raises(GraphAuthError) as caught:
        make_client(base_params(fresh_emulator, cache_path, tenant_id=str(uuid.uuid4()))).get('/servicePrincipals')
    assert 'AADSTS90002' in str(caught.value)


# --- cached tokens belong to the credential that got them ------------------------------------------------------------

def test_a_wrong_secret_never_gets_the_cached_token(fresh_emulator, cache_path):
    make_client(base_params(fresh_emulator, cache_path)).get('/servicePrincipals', params={'$top': '1'})
    assert len(token_requests(fresh_emulator)) == 1
    make_client(base_params(fresh_emulator, cache_path)).get('/servicePrincipals', params={'$top': '1'})
    assert len(token_requests(fresh_emulator)) == 1  # the right secret: the warm cache answers
    with pytest.raises(GraphAuthError) as caught:
        make_client(base_params(fresh_emulator, cache_path, client_secret='a-revoked-or-guessed-secret')).get('/servicePrincipals')
    assert 'AADSTS7000215' in str(caught.value)
    assert len(token_requests(fresh_emulator)) == 2
    with open(cache_path) as handle:
        cache_text = handle.read()
    assert fresh_emulator.info['client_secret'] not in cache_text
    assert 'a-revoked-or-guessed-secret' not in cache_text
