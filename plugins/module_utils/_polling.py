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

# How long to look for what a write answered with an error (or no answer) may have made, before concluding that Graph
# did not process it and sending it again. A new object is left out of lists for a while (docs/graph-behaviour.md §3.6);
# this window is not what prevents duplicates: if an object shows up later, the create that followed finds it once its
# own object is listed, and keeps one (``keep_one_job``, ``keep_one_application``). A window that is too short costs a
# create and a delete; a long one stalls every run that meets a 503 (issue 9, defect 4: 308 s against 8 s).
CONFIRM_WINDOW = 15.0


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


def look_for(read, window=CONFIRM_WINDOW, sleep=time.sleep, monotonic=time.monotonic):
    """``read()`` at short intervals (0.5 s, capped at 2 s: replication usually ends within seconds) until it returns
    something, for at most ``window`` seconds; the last value, falsy when nothing was found."""
    return poll(read, lambda value: (bool(value), None), window, sleep, monotonic, initial_delay=0.5, max_delay=2.0).last
