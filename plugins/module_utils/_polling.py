# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""Waiting for Graph to reach a state: one polling loop, for every module that waits.

Two paces. Waiting for a new object to replicate (the default) polls after 0.5 s, 1 s, then every 2 s: objects
usually appear within seconds, and a doubling backoff (1, 2, 4, 8 s) saw an object that was there after 8 s only at
15 s. Microsoft suggests a GET every 5-10 seconds until a new application can be read (docs/graph-behaviour.md §3.6);
these waits are bounded (a minute by default), a read every 2 s is far below Graph's throttling limits, and a 429 is
retried by the client after its Retry-After (docs/graph-behaviour.md §6.2).
Waiting for a job's state (a provisioning cycle takes minutes to hours) backs off from 1 s to 10 s: ``STATE_PACE``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

# (first interval, longest interval) in seconds; each interval doubles the last one up to the longest.
REPLICATION_PACE = (0.5, 2.0)
STATE_PACE = (1.0, 10.0)


class PollOutcome:
    """How polling ended: ``reached``, or ``failure`` (a message), or neither (timed out); ``last`` is the last value."""

    def __init__(self, reached, failure, last):
        self.reached = reached
        self.failure = failure
        self.last = last


def poll(read, judge, timeout, sleep=time.sleep, monotonic=time.monotonic, first=None, pace=REPLICATION_PACE):
    """Call ``read()`` until ``judge(value)`` returns ``(True, None)`` (reached) or ``(False, message)`` (stop: failed).

    Sleeps between reads (``pace``: see the module's docstring), for at most ``timeout`` seconds in all; the last read
    is at the deadline. ``first`` is a value already read: it is judged before any new request.
    """
    deadline = monotonic() + timeout
    delay, max_delay = pace
    value = first if first is not None else read()
    while True:
        reached, failure = judge(value)
        if reached or failure:
            return PollOutcome(bool(reached), failure, value)
        remaining = deadline - monotonic()
        if remaining <= 0:
            return PollOutcome(False, None, value)
        sleep(min(delay, remaining))
        delay = min(delay * 2, max_delay)
        value = read()
