"""The request log: every client request (Graph, token service, $batch and its items)."""

import bisect
import threading
import time

WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def is_write(kind, method, batch_item_methods=None):
    """True for POST/PUT/PATCH/DELETE, except token requests and read-only $batch containers."""
    if kind in ("login", "msi"):
        return False
    if kind == "batch":
        return any(item.upper() in WRITE_METHODS for item in (batch_item_methods or ()))
    return method.upper() in WRITE_METHODS


class RequestLog:
    """An append-only log with increasing sequence numbers (kept across clear())."""

    def __init__(self, max_entries=200000):
        self._lock = threading.Lock()
        self._entries = []
        self._next_seq = 1
        self.max_entries = max_entries

    def add(self, entry):
        """Store ``entry`` (a dict) and return its sequence number."""
        with self._lock:
            entry["seq"] = self._next_seq
            self._next_seq += 1
            self._entries.append(entry)
            if len(self._entries) > self.max_entries:
                del self._entries[:len(self._entries) // 2]
            return entry["seq"]

    def since(self, seq=0):
        """Entries with a sequence number greater than ``seq``."""
        with self._lock:
            start = bisect.bisect_right(self._entries, seq, key=lambda entry: entry["seq"])
            return list(self._entries[start:])

    @property
    def last_seq(self):
        with self._lock:
            return self._next_seq - 1

    def clear(self):
        with self._lock:
            self._entries.clear()


def utc_now_iso():
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
