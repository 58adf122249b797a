"""Fault injection in front of every route (Graph, token service, managed identity, $batch items).

Configuration (JSON; see docs/emulator.md "Faults"):

    {
      "seed": 1,                        # RNG seed for "probability" rules (deterministic per rule)
      "latency_ms": 50,                 # added to every HTTP request (not to /_emulator)
      "batch_item_latency_ms": 0,       # added to every $batch item (items run concurrently)
      "rules": [
        {"name": "...", "kind": ["graph", "batch_item"], "method": "GET", "path": "regex",
         "action": "throttle" | "unavailable" | "drop" | "error" | "slow",
         "status": 500, "delay_ms": 3000, "code": "...", "message": "...", "retry_after": 2.128,
         "probability": 0.5, "count": 3, "every": 2, "after": 0}
      ],
      "rate_limit": {"requests_per_second": 20, "burst": 20, "kinds": ["graph", "batch_item"]},
      "replication_delay_seconds": 0,   # new SP/app/job answers 404 this long ([instantiate guide])
      "transient_403_seconds": 0,       # then 403 Authorization_RequestDenied this long ([Terraform] retries 403)
      "transient_409_seconds": 0,       # then 409 Directory_ConcurrencyViolation on writes this long [instantiate guide]
      "instantiate_error_after_create": 0,   # first N instantiate calls create the app, then fail
      "instantiate_error_status": 500,       # 500 or 504
      "batch_shuffle_responses": false  # return $batch responses in a shuffled order [batching]
    }

``path`` is a Python regular expression searched in the request path as sent, version
included (``/v1.0/servicePrincipals/...``); for $batch items it is ``/v1.0`` + the item's url.

Names in brackets, like [instantiate guide], are public pages listed in docs/synchronization.md#sources.
"""

import random
import re
import threading
import time

KINDS = ("graph", "login", "msi", "batch", "batch_item")
ACTIONS = ("throttle", "unavailable", "drop", "error", "slow")
DEFAULT_RULE_KINDS = ("graph", "batch", "batch_item")
_TOP_LEVEL_KEYS = {
    "seed", "latency_ms", "batch_item_latency_ms", "rules", "rate_limit", "replication_delay_seconds",
    "transient_403_seconds", "transient_409_seconds", "instantiate_error_after_create", "instantiate_error_status",
    "batch_shuffle_responses",
}
_RULE_KEYS = {"name", "kind", "method", "path", "action", "status", "code", "message", "retry_after", "probability", "count", "every", "after",
              "delay_ms"}


class FaultConfigError(ValueError):
    """An invalid fault configuration (answered 400 by PUT /_emulator/faults)."""


class FaultDecision:
    """What to do instead of serving a request."""

    def __init__(self, name, action, status, retry_after=None, code=None, message=None, delay=0.0):
        self.name = name
        self.delay = delay  # "slow": seconds the answer is held after the request was served
        self.action = action
        self.status = status
        self.retry_after = retry_after
        self.code = code
        self.message = message

    def __repr__(self):
        return "FaultDecision(%s, %s, %s)" % (self.name, self.action, self.status)


def _as_list(value, field):
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise FaultConfigError("%s must be a string or a list of strings" % field)


def _number(value, field, minimum=0.0, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultConfigError("%s must be a number" % field)
    if value < minimum:
        raise FaultConfigError("%s must be >= %s" % (field, minimum))
    if integer and int(value) != value:
        raise FaultConfigError("%s must be an integer" % field)
    return int(value) if integer else float(value)


class _Rule:
    def __init__(self, spec, index, seed):
        unknown = set(spec) - _RULE_KEYS
        if unknown:
            raise FaultConfigError("rule %d: unknown keys %s" % (index, sorted(unknown)))
        self.name = spec.get("name") or "rule-%d" % index
        self.action = spec.get("action", "error")
        if self.action not in ACTIONS:
            raise FaultConfigError("rule %s: action must be one of %s" % (self.name, ", ".join(ACTIONS)))
        kinds = _as_list(spec.get("kind"), "rule %s: kind" % self.name) or list(DEFAULT_RULE_KINDS)
        for kind in kinds:
            if kind not in KINDS:
                raise FaultConfigError("rule %s: kind must be among %s" % (self.name, ", ".join(KINDS)))
        self.kinds = frozenset(kinds)
        methods = _as_list(spec.get("method"), "rule %s: method" % self.name)
        self.methods = frozenset(method.upper() for method in methods) if methods else None
        try:
            self.path = re.compile(spec["path"]) if spec.get("path") else None
        except re.error as exc:
            raise FaultConfigError("rule %s: bad path regex: %s" % (self.name, exc)) from None
        default_status = {"throttle": 429, "unavailable": 503, "drop": 0, "error": 500, "slow": 0}[self.action]
        self.delay = _number(spec.get("delay_ms", 0), "rule %s: delay_ms" % self.name) / 1000.0
        if self.action == "slow" and not self.delay:
            raise FaultConfigError("rule %s: action slow needs delay_ms" % self.name)
        self.status = _number(spec.get("status", default_status), "rule %s: status" % self.name, integer=True)
        if self.action == "error" and not 400 <= self.status <= 599:
            raise FaultConfigError("rule %s: status must be 400-599" % self.name)
        self.code = spec.get("code")
        self.message = spec.get("message")
        retry_after = spec.get("retry_after", 1 if self.action == "throttle" else None)
        self.retry_after = None if retry_after is None else _number(retry_after, "rule %s: retry_after" % self.name)
        self.probability = None if spec.get("probability") is None else _number(spec["probability"], "rule %s: probability" % self.name)
        if self.probability is not None and self.probability > 1:
            raise FaultConfigError("rule %s: probability must be between 0 and 1" % self.name)
        self.count = None if spec.get("count") is None else _number(spec["count"], "rule %s: count" % self.name, integer=True)
        self.every = None if spec.get("every") is None else _number(spec["every"], "rule %s: every" % self.name, minimum=1, integer=True)
        self.after = _number(spec.get("after", 0), "rule %s: after" % self.name, integer=True)
        self.random = random.Random("%s:%d" % (seed, index))
        self.matched = 0
        self.fired = 0

    def matches(self, kind, method, path):
        if kind not in self.kinds:
            return False
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.path is None or self.path.search(path) is not None

    def fires(self):
        """Called with the injector's lock held, once per matching request."""
        self.matched += 1
        if self.matched <= self.after:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        if self.every is not None and (self.matched - self.after) % self.every != 0:
            return False
        if self.probability is not None and self.random.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def state(self):
        return {"name": self.name, "action": self.action, "matched": self.matched, "fired": self.fired}


class _TokenBucket:
    def __init__(self, spec):
        self.rate = _number(spec.get("requests_per_second"), "rate_limit.requests_per_second", minimum=0.001)
        self.capacity = _number(spec.get("burst", max(1.0, self.rate)), "rate_limit.burst", minimum=1)
        kinds = _as_list(spec.get("kinds"), "rate_limit.kinds") or ["graph", "batch_item"]
        self.kinds = frozenset(kinds)
        self.fixed_retry_after = None if spec.get("retry_after") is None else _number(spec["retry_after"], "rate_limit.retry_after")
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.throttled = 0

    def take(self):
        """Return None when a token was available, else the seconds until one will be."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        self.throttled += 1
        if self.fixed_retry_after is not None:
            return self.fixed_retry_after
        return max(0.001, (1 - self.tokens) / self.rate)


class FaultInjector:
    """Decides, per request, whether to answer with a fault instead of the real route."""

    def __init__(self, config=None):
        self._lock = threading.Lock()
        self.configure(config or {})

    def configure(self, config):
        """Replace the configuration (and reset every counter)."""
        if not isinstance(config, dict):
            raise FaultConfigError("the fault configuration is a JSON object")
        unknown = set(config) - _TOP_LEVEL_KEYS
        if unknown:
            raise FaultConfigError("unknown keys %s" % sorted(unknown))
        seed = config.get("seed", 0)
        rules = config.get("rules") or []
        if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
            raise FaultConfigError("rules must be a list of objects")
        parsed_rules = [_Rule(rule, index, seed) for index, rule in enumerate(rules)]
        rate_limit = _TokenBucket(config["rate_limit"]) if config.get("rate_limit") else None
        instantiate_status = _number(config.get("instantiate_error_status", 500), "instantiate_error_status", integer=True)
        if instantiate_status not in (500, 502, 503, 504):
            raise FaultConfigError("instantiate_error_status must be 500, 502, 503 or 504")
        settings = {
            "latency": _number(config.get("latency_ms", 0), "latency_ms") / 1000.0,
            "batch_item_latency": _number(config.get("batch_item_latency_ms", 0), "batch_item_latency_ms") / 1000.0,
            "replication_delay_seconds": _number(config.get("replication_delay_seconds", 0), "replication_delay_seconds"),
            "transient_403_seconds": _number(config.get("transient_403_seconds", 0), "transient_403_seconds"),
            "transient_409_seconds": _number(config.get("transient_409_seconds", 0), "transient_409_seconds"),
            "instantiate_errors_left": _number(config.get("instantiate_error_after_create", 0), "instantiate_error_after_create", integer=True),
            "instantiate_status": instantiate_status,
            "batch_shuffle": bool(config.get("batch_shuffle_responses", False)),
        }
        with self._lock:
            self.config = dict(config)
            self.rules = parsed_rules
            self.rate_limit = rate_limit
            self.latency_seconds = settings["latency"]
            self.batch_item_latency_seconds = settings["batch_item_latency"]
            self.replication_delay_seconds = settings["replication_delay_seconds"]
            self.transient_403_seconds = settings["transient_403_seconds"]
            self.transient_409_seconds = settings["transient_409_seconds"]
            self.instantiate_errors_left = settings["instantiate_errors_left"]
            self.instantiate_error_status = settings["instantiate_status"]
            self.batch_shuffle_responses = settings["batch_shuffle"]
            self.shuffle_random = random.Random("%s:shuffle" % seed)
            self.injected = 0

    def decide(self, kind, method, path):
        """Return a FaultDecision for this request, or None to serve it normally."""
        with self._lock:
            for rule in self.rules:
                if rule.matches(kind, method, path) and rule.fires():
                    self.injected += 1
                    return FaultDecision(rule.name, rule.action, rule.status, rule.retry_after, rule.code, rule.message, rule.delay)
            if self.rate_limit is not None and kind in self.rate_limit.kinds:
                wait = self.rate_limit.take()
                if wait is not None:
                    self.injected += 1
                    return FaultDecision("rate_limit", "throttle", 429, round(wait + 0.0005, 3))
        return None

    def take_instantiate_error(self):
        """Return the status to fail this instantiate call with (after creating), or None."""
        with self._lock:
            if self.instantiate_errors_left > 0:
                self.instantiate_errors_left -= 1
                self.injected += 1
                return self.instantiate_error_status
        return None

    def shuffle(self, items):
        with self._lock:
            self.shuffle_random.shuffle(items)

    def state(self):
        with self._lock:
            return {
                "config": self.config,
                "injected": self.injected,
                "rules": [rule.state() for rule in self.rules],
                "rate_limit_throttled": self.rate_limit.throttled if self.rate_limit else 0,
                "instantiate_errors_left": self.instantiate_errors_left,
            }
