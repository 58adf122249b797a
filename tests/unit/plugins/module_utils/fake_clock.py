# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A clock for the unit tests of code that waits: time moves only when the code sleeps, and every sleep is recorded,
so tests count and measure the waits instead of timing them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class FakeClock:
    """Pass ``clock.sleep`` and ``clock.monotonic`` where the code takes ``time.sleep`` and ``time.monotonic``."""

    def __init__(self, now=0.0):
        self.now = now
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self):
        return self.now
