# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The one Microsoft Graph client of the collection: HTTP, auth, retries, paging, JSON batching, errors.

Resource logic calls ``get``/``list_all``/``iter_batch_get`` to read and ``write`` to change; ``write`` is the only
way to send POST, PUT, PATCH or DELETE, and it refuses in check mode, so a check-mode bug raises instead of writing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import heapq
import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, FIRST_COMPLETED, wait as wait_futures

try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False

from ansible_collections.entra.provisioning.plugins.module_utils._graph_auth import TokenProvider, TokenServiceHttp
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import (
    CheckModeWrite,
    GraphAuthError,
    GraphError,
    GraphNotFound,
    error_from_response,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import OptionError
from ansible_collections.entra.provisioning.plugins.module_utils._polling import poll

USER_AGENT = 'entra.provisioning/0.1.0'
BATCH_LIMIT = 20  # requests per $batch (docs/graph-behaviour.md §6.3)
WRITE_METHODS = frozenset(('POST', 'PUT', 'PATCH', 'DELETE'))


class RetryPolicy:
    """When to retry a Graph call, and how long to wait first.

    429 is always retried: Graph did not process the call. 503, 504 and connection failures are retried only for
    requests that are safe to repeat (reads, PUT and DELETE, and $batch containers of reads); a POST that may have
    been processed is handed back to the caller, which re-reads state before doing anything else.
    """

    RETRY_AFTER_MAX = 60.0

    def __init__(self, max_retries=6, max_total_seconds=300.0, base_delay=1.0, max_delay=30.0, rand=None):
        self.max_retries = max_retries
        self.max_total_seconds = max_total_seconds
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._rand = rand or random.random

    @staticmethod
    def is_retryable(status, safe_to_repeat):
        if status == 429:
            return True
        return safe_to_repeat and status in (None, 503, 504)

    @staticmethod
    def outcome_unknown(error):
        """Whether a failed write may or may not have been processed: no answer (connection lost, client timeout), or
        a gateway or server error. A refusal (4xx) was not processed; a token-service failure never reached Graph."""
        if isinstance(error, GraphAuthError):
            return False
        if error.status is None:
            return error.code == 'ConnectionError'
        return error.status in (408, 500, 502, 503, 504)

    def delay(self, attempt, retry_after=None):
        """Seconds to wait before retry number ``attempt`` (1-based): Retry-After when given, else backoff with jitter."""
        parsed = parse_retry_after(retry_after)
        if parsed is not None:
            return min(max(parsed, 0.0), self.RETRY_AFTER_MAX)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        # Full jitter keeps parallel forks from retrying in lockstep.
        return ceiling / 2 + self._rand() * ceiling / 2

    def allows(self, attempt, elapsed, next_delay):
        return attempt <= self.max_retries and elapsed + next_delay <= self.max_total_seconds


def parse_retry_after(value):
    """Graph sends seconds, possibly fractional (``2.128``); anything else (an HTTP date) falls back to backoff."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class BatchResult:
    """The outcome of one request inside a $batch: its status, its body, and a GraphError when it failed."""

    def __init__(self, status, body, error=None):
        self.status = status
        self.body = body
        self.error = error

    @property
    def ok(self):
        return self.error is None


class _VerifyingSession(requests.Session if HAS_REQUESTS else object):
    """A session that passes ``verify`` on every request.

    requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a session's ``verify``; a per-request value wins, so
    ``ca_path`` is honoured for Graph and for MSAL's calls to the login host alike (docs/graph-behaviour.md §7.1).
    """

    def __init__(self, verify, timeout, pool_size):
        super(_VerifyingSession, self).__init__()
        self._verify = verify
        self._timeout = timeout
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.mount('https://', adapter)
        self.headers['User-Agent'] = USER_AGENT

    def request(self, method, url, **kwargs):  # pylint: disable=arguments-differ
        kwargs['verify'] = self._verify
        kwargs.setdefault('timeout', self._timeout)
        return super(_VerifyingSession, self).request(method, url, **kwargs)


class GraphClient:
    """Calls Microsoft Graph for one task. Paths are relative to ``{graph_endpoint}/{api_version}``."""

    def __init__(self, settings, check_mode=False, warn=None, session=None, sleep=time.sleep, monotonic=time.monotonic,
                 retry_policy=None):
        if not HAS_REQUESTS:
            raise OptionError('The Python library requests is required on the Ansible controller: pip install requests.')
        self.settings = settings
        self.check_mode = check_mode
        self._warn = warn or (lambda msg: None)
        self._sleep = sleep
        self._monotonic = monotonic
        self.retry_policy = retry_policy or RetryPolicy(max_retries=settings.max_retries)
        self.session = session or _VerifyingSession(settings.verify, settings.timeout, pool_size=16)
        self.tokens = TokenProvider(settings, TokenServiceHttp(self.session, self.retry_policy, sleep=sleep, monotonic=monotonic,
                                                               warn=self._warn))
        self.request_count = 0
        self._count_lock = threading.Lock()
        if not settings.validate_certs:
            self._warn('validate_certs=false: TLS certificates of %s and %s are not verified. Use ca_path to trust a '
                       'private CA instead.' % (settings.authority_host, settings.graph_endpoint))

    # --- reads -------------------------------------------------------------------------------------------------

    def get(self, path, params=None):
        return self._call('GET', path, params=params)

    def get_or_none(self, path, params=None):
        try:
            return self.get(path, params=params)
        except GraphNotFound:
            return None

    def get_eventually(self, path, params=None, within=60.0, statuses=(404, 403)):
        """GET through the replication delay of a new object: 404/403 are retried with backoff for ``within`` seconds.

        A new service principal or job can answer 404 (or 403 while grants replicate) for a while
        (docs/graph-behaviour.md §3.6); the docs advise polling every 5-10 s.
        """
        def attempt():
            try:
                return self.get(path, params=params), None
            except GraphError as error:
                if error.status not in statuses:
                    raise
                return None, error

        outcome = poll(attempt, lambda answer: (answer[1] is None, None), within, sleep=self._sleep, monotonic=self._monotonic)
        found, error = outcome.last
        if error is not None:
            raise error
        return found

    def read_post(self, path, body=None):
        """A POST that only reads, whose answer the task needs to decide what to do, in check mode as in a real run.

        Graph models some reads as actions, for example ``schema/parseExpression``
        (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-parseexpression). Sent in check mode
        too, and repeated after a throttle or timeout like a GET, because repeating it is harmless. A POST that is one of
        the task's own actions (reported in its result, not sent in check mode) is ``write(..., repeatable=True)`` instead,
        even when it changes nothing."""
        return self._call('POST', path, body=body, safe_to_repeat=True)

    def iter_pages(self, path, params=None):
        """Yield each page (a list) of a collection, following ``@odata.nextLink`` verbatim to the end (docs/graph-behaviour.md §6.1)."""
        page = self._call('GET', path, params=params)
        while True:
            yield page.get('value', [])
            next_link = page.get('@odata.nextLink')
            if not next_link:
                return
            page = self._call('GET', self._relative_link(next_link))

    def list_all(self, path, params=None):
        items = []
        for page in self.iter_pages(path, params=params):
            items.extend(page)
        return items

    def batch_get(self, paths, concurrency=4):
        return dict(self.iter_batch_get(paths, concurrency=concurrency))

    def iter_batch_get(self, paths, concurrency=4):
        """Yield ``(path, BatchResult)`` for GETs sent through $batch, 20 per request, ``concurrency`` batches in flight.

        ``paths`` may be a generator (for example fed by ``iter_pages``): it is consumed only as batches are sent, so
        listing and batching overlap and memory stays flat. Results come in completion order.

        Throttling (429, or 503/504, of an item or of the whole batch) never holds a slot: the throttled items wait for
        their Retry-After and then ride in a later batch, while the other slots keep working. When throttling is
        sustained (on average half of each of the last batches, a throttled batch counting whole), no new paths are taken
        until Graph's Retry-After has passed, because Graph keeps counting requests sent while a client is throttled
        (docs/graph-behaviour.md §6.2).
        """
        self._token()  # acquire once, before the worker threads need it
        concurrency = max(1, int(concurrency))
        scan = _BatchScan(iter(paths), self.retry_policy, self._monotonic, concurrency)
        pending = {}
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            while True:
                while len(pending) < concurrency:
                    chunk = scan.next_chunk(BATCH_LIMIT)
                    if not chunk:
                        break
                    pending[pool.submit(self._send_batch, chunk)] = chunk
                if not pending:
                    if scan.finished():
                        break
                    # Nothing in flight, only throttled paths not due yet (or a pause): wait for the first.
                    self._sleep(scan.seconds_until_due())
                    scan.release_next()
                    continue
                # With a slot free, wake up when a throttled path is due; with every slot busy, a slot must free first.
                timeout = scan.seconds_until_due() if len(pending) < concurrency else None
                done, dummy = wait_futures(list(pending), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = pending.pop(future)
                    answers = future.result()
                    scan.observe(answers)
                    for path, (status, headers, body) in zip(chunk, answers):
                        result = scan.settle(path, status, headers, body)
                        if result is not None:
                            yield path, result
        if scan.throttled:
            self._warn('Graph throttled %d of the %d reads of this $batch scan; they were retried after the Retry-After '
                       'Graph asked for (up to %.1f s)%s.' % (scan.throttled, scan.items, scan.longest_wait,
                                                              '' if not scan.gave_up else ', %d still throttled after %d retries'
                                                              % (scan.gave_up, self.retry_policy.max_retries)))

    def _send_batch(self, paths):
        """One $batch POST of GETs, not retried here; returns ``[(status, headers, body)]`` in the order of ``paths``.

        When the container itself is throttled or unavailable (or the connection failed), every item gets that status and
        the container's Retry-After, so that the caller retries them like throttled items.
        """
        requests_body = [dict(id=str(index), method='GET', url=path) for index, path in enumerate(paths)]
        try:
            reply = self._call('POST', '/$batch', body=dict(requests=requests_body), safe_to_repeat=True, retry=False)
        except GraphError as error:
            if error.status in (429, 503, 504) or error.code == 'ConnectionError':
                return [(error.status or 503, {'Retry-After': getattr(error, 'retry_after', None)}, None)] * len(paths)
            raise
        by_id = dict((str(item.get('id')), item) for item in (reply or {}).get('responses', []))
        answers = []
        for index in range(len(paths)):
            item = by_id.get(str(index))
            if item is None:
                answers.append((500, {}, {'error': {'code': 'MissingBatchResponse', 'message': 'no response for this request in the $batch reply'}}))
            else:
                answers.append((int(item.get('status', 500)), item.get('headers') or {}, item.get('body')))
        return answers

    # --- writes ------------------------------------------------------------------------------------------------

    def write(self, method, path, body=None, params=None, repeatable=False):
        """The one way to change anything in Graph. Refuses in check mode; returns the parsed body or None (204).

        Every call that is one of the task's actions goes through here, also one that changes nothing (validateCredentials
        is an action of synchronization_job), so that check mode never sends it. PUT and DELETE are retried like reads
        after a lost answer or a 503/504; so is a POST marked ``repeatable``, one that does no harm when sent twice. Any
        other POST is sent once: see ``write_confirmed``. A POST that only reads, whose answer check mode needs too
        (parseExpression), is ``read_post``.
        """
        method = method.upper()
        if method not in WRITE_METHODS:
            raise ValueError('write() is for POST, PUT, PATCH and DELETE, not %s' % method)
        if self.check_mode:
            raise CheckModeWrite(method, path)
        return self._call(method, path, params=params, body=body, safe_to_repeat=repeatable or method in ('PUT', 'DELETE'))

    def write_confirmed(self, method, path, confirm, body=None, params=None, may_have_processed=None):
        """A write that must not be repeated blindly (a POST that creates or starts something), sent again only when a
        re-read shows that Graph did not process it.

        After an answer that leaves the outcome unknown (``RetryPolicy.outcome_unknown``), ``confirm()`` reads the
        state: it returns None when the call was not processed, or what the call made (a truthy value) when it was.
        The call is sent again while the client's retry budget allows (the same ``RetryPolicy`` as every request:
        attempts, Retry-After or backoff, total seconds). Returns ``(payload, None)`` when Graph answered the call, or
        ``(None, confirmed)`` when the re-read showed it done. ``may_have_processed(error)`` widens
        ``RetryPolicy.outcome_unknown`` for calls with a documented trap (instantiate's "404, but created anyway").
        """
        may_have_processed = may_have_processed or RetryPolicy.outcome_unknown
        attempt = 0
        started = self._monotonic()
        while True:
            try:
                return self.write(method, path, body=body, params=params), None
            except GraphError as error:
                if not may_have_processed(error):
                    raise
                confirmed = confirm()
                if confirmed:
                    self._warn('%s %s: %s; a re-read showed that Graph had processed it.' % (method, path, _reason(error)))
                    return None, confirmed
                attempt += 1
                delay = self.retry_policy.delay(attempt, getattr(error, 'retry_after', None))
                if not self.retry_policy.allows(attempt, self._monotonic() - started, delay):
                    error.explain('sent %d times; each time a re-read showed that Graph had not processed it, and the retry '
                                  'budget of %d retries in %d s is spent: run the task again later'
                                  % (attempt, self.retry_policy.max_retries, self.retry_policy.max_total_seconds))
                    raise error
                self._warn('%s %s: %s; a re-read showed that Graph had not processed it, sending it again in %.1f s '
                           '(retry %d of %d).' % (method, path, _reason(error), delay, attempt, self.retry_policy.max_retries))
                self._sleep(delay)

    # --- transport ---------------------------------------------------------------------------------------------

    def _relative_link(self, link):
        """A nextLink must point back at our Graph endpoint: the token is never sent anywhere else."""
        base = self.settings.base_url
        if not link.startswith(base + '/'):
            raise GraphError(None, 'UnexpectedNextLink', 'the server sent a next page link outside %s' % base)
        return link[len(base):]

    def _call(self, method, path, params=None, body=None, safe_to_repeat=None, retry=True):
        if safe_to_repeat is None:
            safe_to_repeat = method == 'GET'
        attempt = 0
        started = self._monotonic()
        refreshed_token = False
        while True:
            client_request_id = str(uuid.uuid4())
            status, headers, payload = self._send_once(method, path, params, body, client_request_id)
            if status == 401 and not refreshed_token and self.settings.credential_kind != 'access_token':
                # A cached token the server no longer accepts (revoked, or signed by a rotated key): get a new one once.
                refreshed_token = True
                self.tokens.invalidate()
                continue
            if status is not None and status < 400:
                return payload
            retry_after = _header(headers, 'Retry-After')
            if retry and RetryPolicy.is_retryable(status, safe_to_repeat):
                attempt += 1
                delay = self.retry_policy.delay(attempt, retry_after)
                if self.retry_policy.allows(attempt, self._monotonic() - started, delay):
                    reason = 'HTTP %s' % status if status else 'connection failed (%s)' % payload
                    self._warn('%s %s: %s; retrying in %.1f s (retry %d of %d).'
                               % (method, path, reason, delay, attempt, self.retry_policy.max_retries))
                    self._sleep(delay)
                    continue
            if status is None:
                error = GraphError(None, 'ConnectionError', '%s (the request may or may not have been processed)' % payload,
                                   method=method, path=path, client_request_id=client_request_id)
            else:
                error = error_from_response(status, payload, method, path, request_id=_header(headers, 'request-id'),
                                            client_request_id=client_request_id)
            error.retry_after = parse_retry_after(retry_after)
            raise error

    def _token(self):
        try:
            return self.tokens.token()
        except requests.exceptions.SSLError:
            raise GraphAuthError('the TLS certificate of %s could not be verified; set ca_path to the CA bundle that signed it'
                                 % self.settings.authority_host)
        except requests.RequestException as error:
            raise GraphAuthError('cannot reach the token service at %s: %s' % (self.settings.authority_host, type(error).__name__))

    def _send_once(self, method, path, params, body, client_request_id):
        """Send one request; returns (status, headers, parsed body), or (None, {}, reason) when no answer came."""
        token = self._token()
        headers = {
            'Authorization': 'Bearer ' + token,
            'client-request-id': client_request_id,
            'return-client-request-id': 'true',
            'Accept': 'application/json',
        }
        data = None
        if body is not None:
            headers['Content-Type'] = 'application/json'
            data = json.dumps(body)
        with self._count_lock:
            self.request_count += 1
        try:
            response = self.session.request(method, self.settings.base_url + path, params=params, data=data, headers=headers)
        except requests.exceptions.SSLError:
            raise GraphError(None, 'TLSError', 'the TLS certificate of %s could not be verified; set ca_path to the CA bundle '
                             'that signed it' % self.settings.graph_endpoint, method=method, path=path)
        except requests.RequestException as error:
            return None, {}, type(error).__name__
        payload = None
        if response.content:
            try:
                payload = response.json()
            except ValueError:
                payload = None
        return response.status_code, response.headers, payload


class _BatchScan:
    """The bookkeeping of ``iter_batch_get``: which paths to send next, and what to do with each answer.

    Throttled paths wait in ``due`` (a heap of (time due, sequence, path)) and go before new paths once due. The
    share of throttled items in each of the last ``2 x concurrency`` batches tells sporadic throttling (carry on: the
    throttled items wait, the rest of the scan goes on) from sustained throttling, as when the tenant's request budget
    is spent (pause the intake of new paths until the Retry-After has passed).
    """

    TRANSIENT = (429, 503, 504)

    def __init__(self, source, retry_policy, monotonic, concurrency):
        self.source = source
        self.exhausted = False
        self.retry_policy = retry_policy
        self.monotonic = monotonic
        self.due = []
        self.ready = []  # throttled paths whose wait is over, sent before any new path
        self.sequence = 0
        self.attempts = {}  # path -> (retries so far, when it was first throttled)
        self.recent = collections.deque(maxlen=2 * concurrency)  # share of throttled items, per batch
        self.concurrency = concurrency
        self.paused_until = None
        self.items = 0
        self.throttled = 0  # reads throttled at least once
        self.gave_up = 0
        self.longest_wait = 0.0

    def next_chunk(self, size):
        now = self.monotonic()
        while self.due and self.due[0][0] <= now:
            self.ready.append(heapq.heappop(self.due)[2])
        chunk = self.ready[:size]
        del self.ready[:size]
        if self.paused_until is not None and now < self.paused_until:
            return chunk
        self.paused_until = None
        while len(chunk) < size and not self.exhausted:
            path = next(self.source, None)
            if path is None:
                self.exhausted = True
            else:
                self.items += 1
                chunk.append(path)
        return chunk

    def finished(self):
        return self.exhausted and not self.due and not self.ready

    def seconds_until_due(self):
        """Seconds until a throttled path is due or a pause ends (None when nothing waits); whole milliseconds."""
        moments = [self.due[0][0]] if self.due else []
        if self.paused_until is not None:
            moments.append(self.paused_until)
        if not moments:
            return None
        return max(0.0, round(min(moments) - self.monotonic(), 3))

    def release_next(self):
        """After sleeping until the first throttled path was due: send it, and those due within the same millisecond."""
        if self.due:
            first = self.due[0][0]
            while self.due and self.due[0][0] <= first + 0.001:
                self.ready.append(heapq.heappop(self.due)[2])
            self.paused_until = None

    def observe(self, answers):
        """Record the share of throttled items of one batch (a throttled batch is all throttled)."""
        self.recent.append(sum(1 for status, dummy, dummy2 in answers if status in self.TRANSIENT) / float(len(answers)))

    def sustained(self):
        return len(self.recent) >= self.concurrency and sum(self.recent) * 2 >= len(self.recent)

    def settle(self, path, status, headers, body):
        """The BatchResult of an answer, or None when the path was throttled and will be sent again."""
        transient = status in self.TRANSIENT
        if not transient:
            self.attempts.pop(path, None)
            error = error_from_response(status, body, 'GET', path) if status >= 400 else None
            return BatchResult(status, body if status < 400 else None, error)
        now = self.monotonic()
        if path not in self.attempts:
            self.throttled += 1
        retries, first_throttled = self.attempts.get(path, (0, now))
        retries += 1
        delay = self.retry_policy.delay(retries, _header(headers, 'Retry-After'))
        if not self.retry_policy.allows(retries, now - first_throttled, delay):
            self.attempts.pop(path, None)
            self.gave_up += 1
            return BatchResult(status, None, error_from_response(status, body, 'GET', path))
        self.attempts[path] = (retries, first_throttled)
        self.longest_wait = max(self.longest_wait, delay)
        self.sequence += 1
        heapq.heappush(self.due, (now + delay, self.sequence, path))
        if self.sustained():
            # Sustained throttling: Graph keeps counting while it throttles, so stop adding load until it has passed.
            self.paused_until = max(self.paused_until or now, now + delay)
        return None


def _reason(error):
    return 'HTTP %s' % error.status if error.status else 'no answer'


def _header(headers, name):
    if not headers:
        return None
    if hasattr(headers, 'get') and not isinstance(headers, dict):
        return headers.get(name)
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
