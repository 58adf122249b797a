"""The emulator's clock: real time, optionally accelerated, plus manual advances.

Provisioning cycles, replication delays and transient faults are measured on this clock,
so tests can skip minutes with ``advance(seconds)`` instead of sleeping.
Access-token lifetimes are not: MSAL caches tokens by wall time (see token_service.py).
"""

import datetime
import threading
import time


class Clock:
    """``now()`` = start + elapsed real time x acceleration + the sum of manual advances."""

    def __init__(self, acceleration=1.0, start=None):
        self._lock = threading.Lock()
        self._base_time = start or datetime.datetime.now(datetime.timezone.utc)
        self._base_monotonic = time.monotonic()
        self._acceleration = float(acceleration)
        self._listeners = []

    @property
    def acceleration(self):
        return self._acceleration

    def now(self):
        """The emulated current time, a timezone-aware UTC datetime."""
        with self._lock:
            elapsed = (time.monotonic() - self._base_monotonic) * self._acceleration
            return self._base_time + datetime.timedelta(seconds=elapsed)

    def timestamp(self):
        """The emulated current time as POSIX seconds (float)."""
        return self.now().timestamp()

    def _rebase(self):
        """Fold the elapsed time into the base, so a new acceleration applies from now on."""
        now_monotonic = time.monotonic()
        elapsed = (now_monotonic - self._base_monotonic) * self._acceleration
        self._base_time += datetime.timedelta(seconds=elapsed)
        self._base_monotonic = now_monotonic

    def advance(self, seconds):
        """Jump forward by ``seconds`` (emulated); listeners are told afterwards."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._rebase()
            self._base_time += datetime.timedelta(seconds=seconds)
        self._notify()

    def set_acceleration(self, factor):
        """Make emulated time run ``factor`` times faster than real time from now on."""
        if factor <= 0:
            raise ValueError("acceleration must be positive")
        with self._lock:
            self._rebase()
            self._acceleration = float(factor)
        self._notify()

    def add_listener(self, callback):
        """Call ``callback(clock)`` after every advance or acceleration change."""
        self._listeners.append(callback)

    def _notify(self):
        for callback in list(self._listeners):
            callback(self)


def isoformat(moment):
    """Graph's DateTimeOffset form: ``2024-01-02T03:04:05.678Z`` (UTC, milliseconds)."""
    moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)
