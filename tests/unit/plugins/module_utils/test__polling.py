# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.entra.provisioning.plugins.module_utils._polling import STATE_PACE, poll

from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.fake_clock import FakeClock


def test_poll_waits_for_replication_at_a_short_capped_interval():
    clock = FakeClock()
    values = iter(range(100))

    outcome = poll(lambda: next(values), lambda value: (value == 6, None), 300, clock.sleep, clock.monotonic)

    assert outcome.reached and outcome.last == 6
    assert clock.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0]


def test_an_object_that_replicates_in_8_seconds_is_seen_within_2_seconds():
    # Issue 9, defect 11: with a backoff of 1, 2, 4, 8 s it was seen at 15 s.
    clock = FakeClock()

    outcome = poll(lambda: clock.now >= 8, lambda visible: (visible, None), 60, clock.sleep, clock.monotonic)

    assert outcome.reached and 8 <= clock.now <= 10


def test_poll_backs_off_from_1_to_10_seconds_for_a_job_state():
    clock = FakeClock()
    values = iter(range(100))

    outcome = poll(lambda: next(values), lambda value: (value == 6, None), 300, clock.sleep, clock.monotonic, pace=STATE_PACE)

    assert outcome.reached and outcome.last == 6
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_poll_stops_at_once_on_failure():
    clock = FakeClock()

    outcome = poll(lambda: 'quarantined', lambda value: (False, 'job quarantined'), 300, clock.sleep, clock.monotonic)

    assert (outcome.reached, outcome.failure, clock.sleeps) == (False, 'job quarantined', [])


def test_poll_times_out_without_sleeping_past_the_deadline():
    clock = FakeClock()
    reads = []

    outcome = poll(lambda: reads.append(1) or 'x', lambda value: (False, None), 12, clock.sleep, clock.monotonic)

    assert not outcome.reached and outcome.failure is None
    assert sum(clock.sleeps) == 12
    assert clock.sleeps[-1] == 0.5  # 0.5 + 1 + 2 + 2 + 2 + 2 + 2, then only what is left
    assert len(reads) == 9  # the first, then one after each sleep, the last one at the deadline


def test_poll_judges_a_value_already_read_before_any_request():
    clock = FakeClock()

    outcome = poll(lambda: 1 / 0, lambda value: (True, None), 10, clock.sleep, clock.monotonic, first='done')

    assert outcome.reached and outcome.last == 'done'
