# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GraphClient logic against a scripted transport: retries, paging, batching, errors, the write choke point.

The real thing (msal + requests against the emulator over HTTPS) is covered in tests/integration.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import GraphClient, RetryPolicy, parse_retry_after
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import (
    CheckModeWrite,
    GraphError,
    GraphNotFound,
    GraphPermissionError,
    GraphThrottled,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import ConnectionSettings

from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.scripted_http import FakeResponse, ReplyScript

BASE = 'https://graph.example.test/v1.0'


class ScriptedSession:
    """Answers each request with the next scripted reply (all of them must be used: see conftest.py); records what was sent."""

    def __init__(self, replies):
        self.replies = ReplyScript(replies, 'ScriptedSession')
        self.sent = []

    def request(self, method, url, params=None, data=None, headers=None):
        self.sent.append(dict(method=method, url=url, params=params, body=json.loads(data) if data else None, headers=headers))
        reply = self.replies.next(method, url)
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(method, url, json.loads(data) if data else None)
        return reply


class FixedToken:
    def __init__(self):
        self.invalidated = 0

    def token(self):
        return 'token-%d' % self.invalidated

    def invalidate(self):
        self.invalidated += 1


def make_client(replies, check_mode=False, max_retries=3):
    settings = ConnectionSettings(dict(tenant_id='t', client_id='c', client_secret='s', graph_endpoint='https://graph.example.test',
                                       max_retries=max_retries))
    session = ScriptedSession(replies)
    sleeps = []
    warnings = []
    client = GraphClient(settings, check_mode=check_mode, warn=warnings.append, session=session, sleep=sleeps.append,
                         retry_policy=RetryPolicy(max_retries=max_retries, rand=lambda: 0.5))
    client.tokens = FixedToken()
    return client, session, sleeps, warnings


def test_get_sends_token_and_fresh_client_request_id():
    client, session, dummy, dummy2 = make_client([FakeResponse(200, {'id': 'a'}), FakeResponse(200, {'id': 'b'})])
    assert client.get('/servicePrincipals/a') == {'id': 'a'}
    client.get('/servicePrincipals/b')
    first, second = session.sent
    assert first['url'] == BASE + '/servicePrincipals/a'
    assert first['headers']['Authorization'] == 'Bearer token-0'
    assert first['headers']['client-request-id'] != second['headers']['client-request-id']
    assert client.request_count == 2


def test_429_waits_retry_after_fractional_then_succeeds_with_one_warning_per_retry():
    client, session, sleeps, warnings = make_client([
        FakeResponse(429, {'error': {'code': 'TooManyRequests'}}, {'Retry-After': '2.128'}),
        FakeResponse(429, {'error': {'code': 'TooManyRequests'}}, {'Retry-After': '1'}),
        FakeResponse(200, {'value': []}),
    ])
    assert client.get('/x') == {'value': []}
    assert sleeps == [2.128, 1.0]
    assert len(warnings) == 2 and 'HTTP 429' in warnings[0]


def test_retry_after_is_clamped():
    assert RetryPolicy().delay(1, '3600') == RetryPolicy.RETRY_AFTER_MAX
    assert RetryPolicy().delay(1, '-5') == 0.0
    assert parse_retry_after('Wed, 21 Oct 2015 07:28:00 GMT') is None


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rand=lambda: 1.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    low = RetryPolicy(base_delay=1.0, max_delay=8.0, rand=lambda: 0.0)
    assert low.delay(3) == 2.0


def test_429_gives_up_after_max_retries_with_throttled_error():
    replies = [FakeResponse(429, {'error': {'code': 'TooManyRequests', 'message': 'Please retry again later.'}}, {'Retry-After': '1'})] * 4
    client, session, sleeps, dummy = make_client(replies, max_retries=3)
    with pytest.raises(GraphThrottled) as caught:
        client.get('/x')
    assert len(session.sent) == 4 and len(sleeps) == 3
    assert caught.value.status == 429


def test_503_on_get_is_retried_but_not_on_post():
    client, session, sleeps, dummy = make_client([FakeResponse(503), FakeResponse(200, {'ok': True})])
    assert client.get('/x') == {'ok': True}
    client, session, sleeps, dummy = make_client([FakeResponse(503, {'error': {'code': 'ServiceUnavailable'}})])
    with pytest.raises(GraphError) as caught:
        client.write('POST', '/servicePrincipals/sp/synchronization/jobs', {'templateId': 'scim'})
    assert caught.value.status == 503 and len(session.sent) == 1 and sleeps == []


def test_post_is_retried_on_429_because_graph_did_not_process_it():
    client, session, dummy, dummy2 = make_client([FakeResponse(429, None, {'Retry-After': '0.5'}), FakeResponse(201, {'id': 'job'})])
    assert client.write('POST', '/jobs', {'templateId': 'scim'}) == {'id': 'job'}
    assert [sent['method'] for sent in session.sent] == ['POST', 'POST']


def test_dropped_connection_on_post_is_not_repeated():
    import requests
    client, session, dummy, dummy2 = make_client([requests.exceptions.ConnectionError('reset')])
    with pytest.raises(GraphError) as caught:
        client.write('POST', '/jobs/x/start')
    assert 'may or may not have been processed' in str(caught.value)
    assert len(session.sent) == 1


def test_dropped_connection_on_get_is_retried():
    import requests
    client, session, dummy, dummy2 = make_client([requests.exceptions.ConnectionError('reset'), FakeResponse(200, {'ok': 1})])
    assert client.get('/x') == {'ok': 1}


def test_write_refuses_in_check_mode_and_sends_nothing():
    client, session, dummy, dummy2 = make_client([], check_mode=True)
    for method in ('POST', 'PUT', 'PATCH', 'DELETE'):
        with pytest.raises(CheckModeWrite):
            client.write(method, '/servicePrincipals/sp/synchronization/jobs')
    assert session.sent == []


def test_write_rejects_get():
    client, dummy, dummy2, dummy3 = make_client([])
    with pytest.raises(ValueError):
        client.write('GET', '/x')


def test_204_returns_none():
    client, dummy, dummy2, dummy3 = make_client([FakeResponse(204)])
    assert client.write('POST', '/jobs/x/pause') is None


def test_paging_follows_next_link_verbatim_to_the_end():
    client, session, dummy, dummy2 = make_client([
        FakeResponse(200, {'value': [1, 2], '@odata.nextLink': BASE + '/servicePrincipals?$skiptoken=abc'}),
        FakeResponse(200, {'value': [], '@odata.nextLink': BASE + '/servicePrincipals?$skiptoken=def'}),
        FakeResponse(200, {'value': [3]}),
    ])
    assert client.list_all('/servicePrincipals', params={'$top': '999', '$select': 'id'}) == [1, 2, 3]
    assert session.sent[0]['params'] == {'$top': '999', '$select': 'id'}
    assert session.sent[1]['url'] == BASE + '/servicePrincipals?$skiptoken=abc' and session.sent[1]['params'] is None
    assert len(session.sent) == 3


def test_next_link_to_another_host_is_refused():
    client, dummy, dummy2, dummy3 = make_client([FakeResponse(200, {'value': [1], '@odata.nextLink': 'https://evil.test/v1.0/x'})])
    with pytest.raises(GraphError) as caught:
        client.list_all('/x')
    assert caught.value.code == 'UnexpectedNextLink'


def test_error_carries_graph_code_request_ids_and_no_token():
    body = {'error': {'code': 'Request_ResourceNotFound', 'message': 'Resource does not exist.',
                      'innerError': {'request-id': 'rid-1', 'date': '2026-01-01T00:00:00'}}}
    client, session, dummy, dummy2 = make_client([FakeResponse(404, body)])
    with pytest.raises(GraphNotFound) as caught:
        client.get('/servicePrincipals/x')
    error = caught.value
    assert error.code == 'Request_ResourceNotFound' and error.request_id == 'rid-1'
    assert error.client_request_id == session.sent[0]['headers']['client-request-id']
    assert 'rid-1' in str(error) and error.client_request_id in str(error)
    assert 'token-0' not in str(error) and 'Bearer' not in str(error)


def test_403_names_the_permission_the_call_needs():
    client, dummy, dummy2, dummy3 = make_client([FakeResponse(403, {'error': {'code': 'Authorization_RequestDenied',
                                                                              'message': 'Insufficient privileges to complete the operation.'}})])
    with pytest.raises(GraphPermissionError) as caught:
        client.write('POST', '/servicePrincipals/sp/synchronization/jobs', {'templateId': 'scim'})
    assert 'Synchronization.ReadWrite.All' in str(caught.value)


@pytest.mark.parametrize('path, permission', [
    ('/users', 'User.Read.All'),
    ('/auditLogs/provisioning', 'AuditLog.Read.All and Directory.Read.All'),
])
def test_403_of_a_read_names_its_permission(path, permission):
    client, dummy, dummy2, dummy3 = make_client([FakeResponse(403, {'error': {'code': 'Authorization_RequestDenied',
                                                                              'message': 'Insufficient privileges to complete the operation.'}})])
    with pytest.raises(GraphPermissionError) as caught:
        client.get(path)
    assert permission in str(caught.value)


def test_401_refreshes_the_token_once():
    client, session, dummy, dummy2 = make_client([FakeResponse(401, {'error': {'code': 'InvalidAuthenticationToken'}}), FakeResponse(200, {'ok': 1})])
    assert client.get('/x') == {'ok': 1}
    assert session.sent[1]['headers']['Authorization'] == 'Bearer token-1'


def test_get_or_none_and_get_eventually():
    client, dummy, sleeps, dummy2 = make_client([FakeResponse(404), FakeResponse(404), FakeResponse(403), FakeResponse(200, {'id': 'sp'})])
    assert client.get_or_none('/servicePrincipals/x') is None
    assert client.get_eventually('/servicePrincipals/x', within=60) == {'id': 'sp'}
    assert sleeps == [0.5, 1.0]  # the replication pace of _polling


def test_get_eventually_gives_up_after_its_time():
    clock = [0.0]
    # The replication pace (_polling.REPLICATION_PACE, 0.5 s doubling to 2 s): reads at 0, 0.5, 1.5 and 3.5 s, and a
    # last one when the 5 s are up: five reads, no more.
    client, session, dummy, dummy2 = make_client([FakeResponse(404)] * 5)
    client._monotonic = lambda: clock[0]
    client._sleep = lambda seconds: clock.__setitem__(0, clock[0] + seconds)
    with pytest.raises(GraphNotFound):
        client.get_eventually('/x', within=5)
    assert clock[0] <= 5
    assert len(session.sent) == 5


def _batch_reply(statuses, headers=None):
    def reply(method, url, body):
        responses = []
        for item, status in zip(body['requests'], statuses):
            entry = {'id': item['id'], 'status': status, 'body': {'value': [item['url']]} if status == 200 else {'error': {'code': 'X'}}}
            if headers and status in headers:
                entry['headers'] = headers[status]
            responses.append(entry)
        responses.reverse()  # Graph may answer out of order
        return FakeResponse(200, {'responses': responses})
    return reply


def test_batch_splits_into_20s_and_maps_answers_back_even_out_of_order():
    paths = ['/servicePrincipals/%d/synchronization/jobs' % n for n in range(45)]
    client, session, dummy, dummy2 = make_client([_batch_reply([200] * 20), _batch_reply([200] * 20), _batch_reply([200] * 5)])
    results = client.batch_get(paths, concurrency=1)
    assert len(session.sent) == 3
    assert [len(sent['body']['requests']) for sent in session.sent] == [20, 20, 5]
    assert all(results[path].body == {'value': [path]} for path in paths)


def test_batch_retries_only_throttled_items_after_their_retry_after():
    paths = ['/sp/%d' % n for n in range(3)]
    client, session, sleeps, warnings = make_client([
        _batch_reply([200, 429, 404], headers={429: {'Retry-After': '1'}}),
        _batch_reply([200]),
    ])
    results = client.batch_get(paths, concurrency=1)
    assert session.sent[1]['body']['requests'] == [{'id': '0', 'method': 'GET', 'url': '/sp/1'}]
    assert sleeps == [1.0] and len(warnings) == 1
    assert results['/sp/1'].ok and results['/sp/0'].ok
    assert results['/sp/2'].status == 404 and isinstance(results['/sp/2'].error, GraphNotFound)


def test_batch_container_throttled_is_retried_whole():
    paths = ['/sp/0']
    client, session, sleeps, dummy = make_client([FakeResponse(429, None, {'Retry-After': '0.25'}), _batch_reply([200])])
    assert client.batch_get(paths)['/sp/0'].ok
    assert sleeps == [0.25]


def test_batch_consumes_a_generator_lazily():
    consumed = []

    def paths():
        for n in range(40):
            consumed.append(n)
            yield '/sp/%d' % n
    client, dummy, dummy2, dummy3 = make_client([_batch_reply([200] * 20), _batch_reply([200] * 20)])
    iterator = client.iter_batch_get(paths(), concurrency=1)
    next(iterator)
    assert len(consumed) <= 21
    assert len(list(iterator)) == 39


# --- write_confirmed: a POST that lost its answer is re-read, then sent again only when it was not processed ----------

def test_write_confirmed_sends_again_when_the_re_read_shows_the_post_was_not_processed():
    import requests
    client, session, sleeps, warnings = make_client([
        FakeResponse(503, {'error': {'code': 'ServiceUnavailable'}}, {'Retry-After': '2'}),
        requests.exceptions.ConnectionError('reset'),
        FakeResponse(201, {'id': 'job1'}),
    ])
    reads = []
    assert client.write_confirmed('POST', '/jobs', lambda: reads.append(1), body={'templateId': 'scim'}) == ({'id': 'job1'}, None)
    assert [sent['method'] for sent in session.sent] == ['POST', 'POST', 'POST']
    assert len(reads) == 2
    assert sleeps[0] == 2.0 and len(sleeps) == 2  # the 503's Retry-After, then the policy's backoff
    assert 'not processed' in warnings[0]


def test_write_confirmed_does_not_send_again_what_the_re_read_shows_done():
    client, session, sleeps, warnings = make_client([FakeResponse(504)])
    assert client.write_confirmed('POST', '/jobs/j/start', lambda: {'id': 'j'}) == (None, {'id': 'j'})
    assert len(session.sent) == 1 and sleeps == []
    assert 'had processed it' in warnings[0]


@pytest.mark.parametrize('status', [400, 403, 404, 409])
def test_write_confirmed_never_repeats_a_refusal(status):
    client, session, dummy, dummy2 = make_client([FakeResponse(status, {'error': {'code': 'No'}})])
    reads = []
    with pytest.raises(GraphError):
        client.write_confirmed('POST', '/jobs', lambda: reads.append(1))
    assert len(session.sent) == 1 and reads == []


def test_write_confirmed_stops_at_the_clients_retry_budget_with_a_clear_message():
    client, session, sleeps, dummy = make_client([FakeResponse(503, {'error': {'code': 'ServiceUnavailable', 'message': 'Busy.'}})] * 3,
                                                 max_retries=2)
    with pytest.raises(GraphError) as caught:
        client.write_confirmed('POST', '/jobs', lambda: None)
    assert len(session.sent) == 3 and len(sleeps) == 2
    assert caught.value.status == 503
    assert 'sent 3 times' in str(caught.value)
    assert 'retry budget of 2 retries' in str(caught.value) and 'Busy' in str(caught.value)


def test_repeatable_post_is_retried_like_a_read():
    client, session, sleeps, dummy = make_client([FakeResponse(503), FakeResponse(204)])
    assert client.write('POST', '/jobs/j/validateCredentials', {'useSavedCredentials': True}, repeatable=True) is None
    assert len(session.sent) == 2
