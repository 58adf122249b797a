# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How ``GraphClient.iter_batch_get`` rides through throttling, against a scripted transport and a fake clock.

A throttled item must not hold a slot (the other batches keep going), sustained throttling must stop the intake of
new work until Graph's Retry-After, nothing may be lost, and the user gets one warning per scan, not one per batch.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import requests

from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import GraphClient, RetryPolicy
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphThrottled
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import ConnectionSettings

from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.fake_clock import FakeClock
from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.scripted_http import FakeResponse, ReplyScript


class Transport:
    """Answers each $batch with ``answer(url_of_item) -> (status, retry_after)``, or the next scripted container reply."""

    def __init__(self, answer, containers=()):
        self.answer = answer
        self.containers = ReplyScript(containers, 'scripted $batch containers')
        self.sent = []

    def request(self, method, url, params=None, data=None, headers=None):
        urls = [item['url'] for item in json.loads(data)['requests']]
        self.sent.append(urls)
        if self.containers:
            reply = self.containers.next(method, url)
            if isinstance(reply, Exception):
                raise reply
            return reply
        responses = []
        for index, item_url in enumerate(urls):
            status, retry_after = self.answer(item_url)
            entry = {'id': str(index), 'status': status}
            if status == 200:
                entry['body'] = {'value': [item_url]}
            else:
                entry['body'] = {'error': {'code': 'TooManyRequests' if status == 429 else 'X', 'message': 'Please retry again later.'}}
            if retry_after is not None:
                entry['headers'] = {'Retry-After': str(retry_after)}
            responses.append(entry)
        return FakeResponse(200, {'responses': responses})


class FixedToken:
    def token(self):
        return 'token'

    def invalidate(self):
        pass


def make_client(transport, max_retries=3):
    settings = ConnectionSettings(dict(tenant_id='t', client_id='c', client_secret='s', graph_endpoint='https://graph.example.test',
                                       max_retries=max_retries))
    clock = FakeClock(1000.0)
    warnings = []
    client = GraphClient(settings, warn=warnings.append, session=transport, sleep=clock.sleep, monotonic=clock.monotonic,
                         retry_policy=RetryPolicy(max_retries=max_retries, rand=lambda: 0.5))
    client.tokens = FixedToken()
    return client, clock, warnings


def throttle_once(throttled, retry_after=5):
    """Answer 429 the first time each url in ``throttled`` is asked for, 200 otherwise."""
    seen = set()

    def answer(url):
        if url in throttled and url not in seen:
            seen.add(url)
            return 429, retry_after
        return 200, None
    return answer


PATHS = ['/servicePrincipals/%02d/synchronization/jobs' % n for n in range(60)]


def test_a_throttled_item_waits_without_holding_the_slot():
    transport = Transport(throttle_once({PATHS[0]}))
    client, clock, dummy = make_client(transport)

    results = dict(client.iter_batch_get(PATHS, concurrency=1))

    # The other 59 went out first, in three batches, while the throttled one waited for its Retry-After.
    assert transport.sent[:3] == [PATHS[0:20], PATHS[20:40], PATHS[40:60]]
    assert transport.sent[3] == [PATHS[0]]
    assert clock.sleeps == [5.0]
    assert len(results) == 60 and all(result.ok for result in results.values())


def test_throttled_items_ride_along_with_new_ones_once_due():
    transport = Transport(throttle_once({PATHS[0]}, retry_after=0))
    client, dummy, dummy2 = make_client(transport)

    results = dict(client.iter_batch_get(PATHS[:40], concurrency=1))

    assert transport.sent[1][0] == PATHS[0] and len(transport.sent[1]) == 20
    assert len(transport.sent) == 3
    assert all(result.ok for result in results.values())


def test_sustained_throttling_stops_taking_new_work_until_the_retry_after():
    transport = Transport(throttle_once(set(PATHS[:20]), retry_after=2))
    client, clock, dummy = make_client(transport)

    results = dict(client.iter_batch_get(PATHS, concurrency=1))

    # Every item of the first batch was throttled: the next request is their retry, after 2 s, not new work.
    assert transport.sent[1] == PATHS[:20]
    assert clock.sleeps == [2.0]
    assert len(results) == 60 and all(result.ok for result in results.values())


def test_a_throttled_or_unavailable_batch_is_sent_again_after_its_retry_after():
    transport = Transport(throttle_once(set()), containers=[FakeResponse(429, None, {'Retry-After': '0.25'}), FakeResponse(503, None, {'Retry-After': '1'})])
    client, clock, dummy = make_client(transport)

    results = dict(client.iter_batch_get(PATHS[:20], concurrency=2))

    assert transport.sent == [PATHS[:20]] * 3
    assert clock.sleeps == [0.25, 1.0]
    assert all(result.ok for result in results.values())


def test_a_batch_whose_connection_failed_is_sent_again():
    transport = Transport(throttle_once(set()), containers=[requests.ConnectionError('reset by peer')])
    client, dummy, dummy2 = make_client(transport)

    results = dict(client.iter_batch_get(PATHS[:5], concurrency=1))

    assert len(transport.sent) == 2
    assert all(result.ok for result in results.values())


def test_an_item_still_throttled_after_max_retries_is_returned_as_throttled_not_lost():
    transport = Transport(lambda url: (429, 1) if url == PATHS[3] else (200, None))
    client, clock, warnings = make_client(transport, max_retries=2)

    results = dict(client.iter_batch_get(PATHS[:20], concurrency=1))

    assert set(results) == set(PATHS[:20])
    assert results[PATHS[3]].status == 429
    assert isinstance(results[PATHS[3]].error, GraphThrottled)
    assert clock.sleeps == [1.0, 1.0]
    assert warnings == ['Graph throttled 1 of the 20 reads of this $batch scan; they were retried after the Retry-After Graph '
                        'asked for (up to 1.0 s), 1 still throttled after 2 retries.']


def test_one_warning_per_scan_not_one_per_batch():
    transport = Transport(throttle_once({PATHS[0], PATHS[25], PATHS[45]}, retry_after=1))
    client, dummy, warnings = make_client(transport)

    results = dict(client.iter_batch_get(PATHS, concurrency=2))

    assert len(results) == 60 and all(result.ok for result in results.values())
    assert warnings == ['Graph throttled 3 of the 60 reads of this $batch scan; they were retried after the Retry-After Graph '
                        'asked for (up to 1.0 s).']


def test_no_warning_without_throttling():
    client, dummy, warnings = make_client(Transport(throttle_once(set())))

    assert len(dict(client.iter_batch_get(PATHS, concurrency=4))) == 60
    assert warnings == []


def test_one_throttled_batch_among_several_does_not_stop_the_scan():
    # Sporadic throttling: one whole batch answered 429 while three others succeed. The scan goes on with new work
    # and retries the throttled batch after its Retry-After, once everything else is done.
    paths = ['/servicePrincipals/%03d/synchronization/jobs' % n for n in range(100)]
    transport = Transport(throttle_once(set()), containers=[FakeResponse(429, None, {'Retry-After': '1'})])
    client, clock, dummy = make_client(transport)

    results = dict(client.iter_batch_get(paths, concurrency=4))

    assert len(transport.sent) == 6
    retried = transport.sent[-1]
    assert retried in transport.sent[:-1]
    assert set(path for chunk in transport.sent[:-1] for path in chunk) == set(paths)
    assert clock.sleeps == [1.0]
    assert len(results) == 100 and all(result.ok for result in results.values())
