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

# How long to look for what a write answered with an error (or no answer) may have made, before concluding that Graph
# did not process it and sending it again. A new object is left out of lists for a while (docs/graph-behaviour.md §3.6);
# this window is not what prevents duplicates: if an object shows up later, the create that followed finds it once its
# own object is listed, and keeps one (``_converge.keep_one``). A window that is too short costs a create and a delete;
# a long one stalls every run that meets a 503 (issue 9, defect 4: 308 s against 8 s).
CONFIRM_WINDOW = 15.0


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


def look_for(read, window=CONFIRM_WINDOW, sleep=time.sleep, monotonic=time.monotonic):
    """``read()`` at the replication pace until it returns something, for at most ``window`` seconds; the last value,
    falsy when nothing was found."""
    return poll(read, lambda value: (bool(value), None), window, sleep, monotonic).last
