# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""Waiting for Graph to reach a state: one polling loop with backoff, for every module that waits.

Microsoft advises polling every 5-10 s for new objects (docs/graph-behaviour.md §3.6); the loop starts at 1 s so that a
quick change is seen quickly, and doubles up to 10 s.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time


class PollOutcome:
    """How polling ended: ``reached``, or ``failure`` (a message), or neither (timed out); ``last`` is the last value."""

    def __init__(self, reached, failure, last):
        self.reached = reached
        self.failure = failure
        self.last = last


def poll(read, judge, timeout, sleep=time.sleep, monotonic=time.monotonic, first=None, initial_delay=1.0, max_delay=10.0):
    """Call ``read()`` until ``judge(value)`` returns ``(True, None)`` (reached) or ``(False, message)`` (stop: failed).

    Sleeps with backoff between reads, for at most ``timeout`` seconds in all. ``first`` is a value already read: it is
    judged before any new request.
    """
    deadline = monotonic() + timeout
    delay = initial_delay
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
