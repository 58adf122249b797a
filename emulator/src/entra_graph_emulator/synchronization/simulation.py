"""Simulated provisioning cycles of synchronization jobs, evaluated lazily on the emulator's clock.

Nothing runs in the background: whenever a job is read or changed, ``advance(runtime, now, environment)``
replays the cycles that fell due since the last look, in O(1) for any number of healthy cycles
(only the last cycle, and the last one with exports, are materialised). The caller advances every
job of a service principal before it changes what cycles depend on (saved secrets, SCIM targets),
so each replay sees constant conditions.

The states follow the combinations the documented examples show ([status], [job resource], [cross-tenant guide]);
the transitions between them are our reading of those examples (docs/synchronization.md#simulated-provisioning
tabulates them). The shapes follow [status], [task execution] and [quarantine]; restart scopes follow [restart];
quarantine timing follows [quarantine guide] and the [AWS SSO walkthrough]. Where the docs are silent the
choice is named in a comment and in docs/synchronization.md#choices-where-the-docs-are-silent.

Names in brackets, like [status], are public pages listed in docs/synchronization.md#sources.
"""

import datetime
import hashlib
import uuid

# DateTimeOffset "never" as the service prints it ([status], [task execution]).
NEVER = "0001-01-01T00:00:00Z"
# .NET TimeSpan.MaxValue: the interval of a fresh gallery job ([schedule]).
TIMESPAN_MAX_VALUE = "P10675199DT2H48M5.4775807S"

# The realistic cycle length (PT40M, [schedule]). Quarantine back-off and the
# four-week limit are scaled by cycle_seconds / REALISTIC_CYCLE_SECONDS, so a fast emulator
# (cycle_seconds=5) also retries quarantined jobs proportionally faster.
REALISTIC_CYCLE_SECONDS = 2400.0
# [AWS SSO walkthrough]'s quarantined job shows nextAttempt 5 minutes after currentBegan.
QUARANTINE_FIRST_RETRY_SECONDS = 300.0
# [quarantine guide]: "incremental cycles are slowed to once a day". Docs are silent on the steps in between:
# we chose to double the delay after every failed attempt, up to one day.
QUARANTINE_MAX_RETRY_SECONDS = 86400.0
# [quarantine guide]: "after four weeks in quarantine the job is disabled".
QUARANTINE_DISABLE_AFTER_SECONDS = 28 * 86400.0

SCHEDULE_ACTIVE = "Active"
SCHEDULE_DISABLED = "Disabled"
SCHEDULE_PAUSED = "Paused"

# synchronizationJobRestartScope is an IsFlags enum ([CSDL], [restart]).
RESTART_SCOPE_FLAGS = {
    "None": 0,
    "ConnectorDataStore": 1,
    "Escrows": 2,
    "Watermark": 4,
    "QuarantineState": 8,
    "Full": 15,
    "ForceDeletes": 32,
}
CONNECTOR_DATA_STORE = RESTART_SCOPE_FLAGS["ConnectorDataStore"]
ESCROWS = RESTART_SCOPE_FLAGS["Escrows"]
WATERMARK = RESTART_SCOPE_FLAGS["Watermark"]
QUARANTINE_STATE = RESTART_SCOPE_FLAGS["QuarantineState"]
FORCE_DELETES = RESTART_SCOPE_FLAGS["ForceDeletes"]
# "Leaving this property empty emulates the Restart provisioning option in the Azure portal. It is
# similar to setting the resetScope to include QuarantineState, Watermark, and Escrows." [restart]
PORTAL_RESTART_SCOPE = ESCROWS | WATERMARK | QUARANTINE_STATE

SEED_STATES = ("not_configured", "paused_with_credentials", "not_run", "active", "paused", "quarantine", "failing")

# Docs are silent on synchronizationProgress.units; we chose "Objects".
PROGRESS_UNITS = "Objects"


def format_time(moment):
    """DateTimeOffset with seven fractional digits, as the synchronization examples print it."""
    moment = moment.astimezone(datetime.timezone.utc)
    return "%s.%06d0Z" % (moment.strftime("%Y-%m-%dT%H:%M:%S"), moment.microsecond)


def cycle_id(job_id, serial):
    """The id of a job's ``serial``-th cycle: lastExecution's activityIdentifier and its log entries' cycleId.
    Docs are silent on how the two relate: we chose them equal, so a cycle's entries can be found from the job."""
    return str(uuid.UUID(hashlib.md5(("%s/%d" % (job_id, serial)).encode("utf-8")).hexdigest()))


def parse_reset_scope(text):
    """Parse a comma-separated resetScope ("Watermark, Escrows, QuarantineState") into flag bits.

    Empty or None means the portal's Restart [restart]. Members are case-sensitive like .NET's
    Enum.Parse ([observed errors] shows that parser's behaviour for secret keys).
    Raises ValueError(member) for an unknown member.
    """
    if text is None or not text.strip():
        return PORTAL_RESTART_SCOPE
    flags = 0
    for member in text.split(","):
        member = member.strip()
        if member not in RESTART_SCOPE_FLAGS:
            raise ValueError(member)
        flags |= RESTART_SCOPE_FLAGS[member]
    return flags


class CycleFailure:
    """Why a cycle fails: the quarantine reason and the synchronizationError to show."""

    __slots__ = ("reason", "error")

    def __init__(self, reason, code, message, tenant_actionable=True):
        self.reason = reason
        self.error = {"code": code, "message": message, "tenantActionable": tenant_actionable}


class CycleEnvironment:
    """What a replay needs from outside: the cycle length and the credential verdict.

    ``credential_check()`` returns a CycleFailure or None; it is called at most once per replay,
    and only when a cycle is actually due (reads of idle jobs stay cheap).
    """

    __slots__ = ("cycle_seconds", "_credential_check", "_verdict", "_checked", "directory_cycle")

    def __init__(self, cycle_seconds, credential_check=None, directory_cycle=None):
        self.cycle_seconds = max(float(cycle_seconds), 0.001)
        # For jobs that provision the simulated directory: ``directory_cycle(at, full, serial)`` runs one
        # cycle (provisioning.run_cycle) and returns its CycleOutcome; None keeps the synthetic population.
        self.directory_cycle = directory_cycle
        self._credential_check = credential_check
        self._verdict = None
        self._checked = False

    @property
    def time_scale(self):
        return self.cycle_seconds / REALISTIC_CYCLE_SECONDS

    def credential_failure(self):
        if not self._checked:
            self._checked = True
            self._verdict = self._credential_check() if self._credential_check else None
        return self._verdict


def _placeholder_execution():
    """lastExecution right after start, before the first cycle ([cross-tenant guide], [task execution])."""
    return {
        "activityIdentifier": None,
        "countEntitled": 0,
        "countEntitledForProvisioning": 0,
        "countEscrowed": 0,
        "countEscrowedRaw": 0,
        "countExported": 0,
        "countExports": 0,
        "countImported": 0,
        "countImportedDeltas": 0,
        "countImportedReferenceDeltas": 0,
        "error": {"code": "None", "message": "", "tenantActionable": False},
        "state": "Failed",
        "timeBegan": NEVER,
        "timeEnded": NEVER,
    }


class JobRuntime:
    """The provisioning state of one job: schedule, cycles, quarantine, escrows."""

    __slots__ = (
        "job_id", "seed", "users", "groups", "entry_type_keys",
        "schedule_state", "ever_started", "has_run_cycle", "next_cycle_at",
        "cycles_completed", "cycle_serial", "initial_cycle_pending", "initial_cycle_started_at",
        "last_execution", "last_successful_execution", "last_successful_execution_with_exports",
        "steady_state_first", "steady_state_last", "completed_progress",
        "successive_failures", "escrowed", "escrows_pruned", "forced_failure",
        "quarantine_reason", "quarantine_error", "quarantine_series_began", "quarantine_current_began",
        "quarantine_next_attempt", "quarantine_series_count",
    )

    def __init__(self, job_id, entry_type_keys=("User", "Group")):
        self.job_id = job_id
        self.seed = int(hashlib.md5(job_id.encode("utf-8")).hexdigest()[:12], 16)
        # Docs are silent on where entitled objects come from (the emulator has no users):
        # a deterministic population per job keeps counters realistic and reproducible.
        self.users = 20 + self.seed % 180
        self.groups = (self.seed >> 8) % 12 if entry_type_keys[1] else 0
        self.entry_type_keys = entry_type_keys
        self.schedule_state = SCHEDULE_DISABLED
        self.ever_started = False
        self.has_run_cycle = False
        self.next_cycle_at = None
        self.cycles_completed = 0
        self.cycle_serial = 0
        self.initial_cycle_pending = True
        self.initial_cycle_started_at = None
        self.last_execution = None
        self.last_successful_execution = None
        self.last_successful_execution_with_exports = None
        self.steady_state_first = None
        self.steady_state_last = None
        self.completed_progress = None
        self.successive_failures = 0
        self.escrowed = 0
        self.escrows_pruned = False
        self._clear_quarantine()

    # -- reading -------------------------------------------------------------------------

    @property
    def in_quarantine(self):
        return self.quarantine_reason is not None

    def status_code(self, configured, created_code):
        """synchronizationStatusCode as docs/synchronization.md#simulated-provisioning tabulates it.

        ``configured``: the service principal has saved secrets; ``created_code``: the template's
        code for a job never started (Azure2Azure and aWSSingleSignon show Paused at once).
        """
        if self.in_quarantine and self.schedule_state != SCHEDULE_PAUSED:
            return "Quarantine"
        if self.schedule_state == SCHEDULE_PAUSED:
            return "Paused"
        if self.schedule_state == SCHEDULE_ACTIVE:
            return "NotRun" if self.initial_cycle_pending else "Active"
        if self.ever_started or configured or created_code == "Paused":
            return "Paused"
        return "NotConfigured"

    def interval(self, created_interval, running_interval):
        """The template's creation interval until a cycle has run, then its running interval."""
        return running_interval if self.has_run_cycle else created_interval

    def render_status(self, now, configured, created_code):
        code = self.status_code(configured, created_code)
        return {
            "code": code,
            "countSuccessiveCompleteFailures": self.successive_failures,
            "escrowsPruned": self.escrows_pruned,
            "lastExecution": self.last_execution,
            "lastSuccessfulExecution": self.last_successful_execution,
            "lastSuccessfulExecutionWithExports": self.last_successful_execution_with_exports,
            "progress": self._progress(now),
            # "null unless quarantined" [status]: a paused job shows no quarantine.
            "quarantine": self._render_quarantine() if code == "Quarantine" else None,
            "steadyStateFirstAchievedTime": format_time(self.steady_state_first) if self.steady_state_first else NEVER,
            "steadyStateLastAchievedTime": format_time(self.steady_state_last) if self.steady_state_last else NEVER,
            "synchronizedEntryCountByType": self._entry_counts(),
            "troubleshootingUrl": None,
        }

    def _render_quarantine(self):
        return {
            "currentBegan": format_time(self.quarantine_current_began),
            "error": self.quarantine_error,
            "nextAttempt": format_time(self.quarantine_next_attempt) if self.quarantine_next_attempt else NEVER,
            "reason": self.quarantine_reason,
            "seriesBegan": format_time(self.quarantine_series_began),
            "seriesCount": self.quarantine_series_count,
        }

    def _entry_counts(self):
        if self.steady_state_first is None:
            return []
        user_key, group_key = self.entry_type_keys
        counts = [{"key": user_key, "value": self.users}]
        if group_key:
            counts.append({"key": group_key, "value": self.groups})
        return counts

    def _progress(self, now):
        """Progress of the initial cycle while it runs; the completed figures afterwards.

        [cross-tenant guide] shows ``progress: []`` right after start; docs are silent on later values: we chose
        a linear progress from 10 % of the initial cycle on, and the completed totals afterwards.
        """
        total = self.users + self.groups
        running_initial = (self.schedule_state == SCHEDULE_ACTIVE and self.initial_cycle_pending and not self.in_quarantine
                           and self.next_cycle_at is not None and self.initial_cycle_started_at is not None)
        if running_initial:
            span = (self.next_cycle_at - self.initial_cycle_started_at).total_seconds()
            fraction = (now - self.initial_cycle_started_at).total_seconds() / span if span > 0 else 1.0
            if fraction < 0.1:
                return []
            return [self._progress_record(int(total * min(fraction, 1.0)), now)]
        if self.completed_progress is not None:
            return [self.completed_progress]
        return []

    def _progress_record(self, completed, at):
        """One synchronizationProgress entry: ``completed`` of all entitled objects, observed ``at``."""
        return {
            "completedUnits": completed,
            "progressObservationDateTime": format_time(at),
            "totalUnits": self.users + self.groups,
            "units": PROGRESS_UNITS,
        }

    # -- actions ([job resource], [status]) -------------------------------------------

    def start(self, now, environment):
        """Start: Active; clears quarantine [start]. A job already running is left alone."""
        if self.schedule_state == SCHEDULE_ACTIVE and not self.in_quarantine:
            # [start] warns against calling start on a running job; docs are silent on what
            # happens: we chose to keep the running schedule unchanged.
            return
        self._clear_quarantine()
        self._queue(now, environment)

    def pause(self, now):
        """Pause: schedule and code Paused; all state is kept [pause]."""
        self.schedule_state = SCHEDULE_PAUSED
        self.next_cycle_at = None

    def restart(self, now, scope, environment):
        """Restart with resetScope flags [restart]; re-queues the job like start (inferred from [restart] and [start])."""
        if scope == 0:
            # "None: starts a paused or quarantined job" (R1 restartcriteria).
            self.start(now, environment)
            return
        if scope & QUARANTINE_STATE:
            self._clear_quarantine()
        if scope & FORCE_DELETES and self.quarantine_reason == "TooManyDeletes":
            self._clear_quarantine()
        if scope & (WATERMARK | CONNECTOR_DATA_STORE):
            # Docs are silent on the code after a watermark reset: the next cycle is an initial
            # (full) cycle again, so we chose NotRun until it completes.
            self.initial_cycle_pending = True
        if scope & ESCROWS:
            # "clearing escrows stops the retries" [restart]; docs are silent on escrowsPruned:
            # we chose to set it when escrowed entries were dropped.
            if self.escrowed:
                self.escrows_pruned = True
            self.escrowed = 0
        if self.in_quarantine:
            # Quarantine kept: the job stays on its quarantine retry schedule.
            self.schedule_state = SCHEDULE_ACTIVE
            self.ever_started = True
            self.next_cycle_at = self.quarantine_next_attempt
            return
        self._queue(now, environment)

    def schema_changed(self, now, environment):
        """"A new initial cycle is triggered because of a change in attribute mappings or scoping filters.
        This action also clears any stored watermark and causes all source objects to be evaluated again."
        (https://learn.microsoft.com/entra/identity/app-provisioning/how-provisioning-works#incremental-cycles).
        A running job is queued again like a Watermark restart; docs are silent on paused and never-started
        jobs: we chose to leave their schedule alone (their next cycle, once started, is the initial one)."""
        self.initial_cycle_pending = True
        if self.schedule_state == SCHEDULE_ACTIVE and not self.in_quarantine:
            self._queue(now, environment)

    def force_quarantine(self, now, failure, environment):
        """Put the job in quarantine now; later attempts keep failing until start or restart lifts it."""
        self.forced_failure = failure
        self.schedule_state = SCHEDULE_ACTIVE
        self.ever_started = True
        self._fail_cycle(now, failure, environment)

    def _queue(self, now, environment):
        self.schedule_state = SCHEDULE_ACTIVE
        self.ever_started = True
        # Docs are silent on when the first cycle completes: we chose one cycle length after start.
        self.next_cycle_at = now + datetime.timedelta(seconds=environment.cycle_seconds)
        if self.initial_cycle_pending:
            self.initial_cycle_started_at = now
        if self.last_execution is None:
            self.last_execution = _placeholder_execution()

    def _clear_quarantine(self):
        self.forced_failure = None
        self.quarantine_reason = None
        self.quarantine_error = None
        self.quarantine_series_began = None
        self.quarantine_current_began = None
        self.quarantine_next_attempt = None
        self.quarantine_series_count = 0

    # -- cycles ------------------------------------------------------------------------------

    def advance(self, now, environment):
        """Replay every cycle due up to ``now``."""
        while self.schedule_state == SCHEDULE_ACTIVE and self.next_cycle_at is not None and self.next_cycle_at <= now:
            failure = self.forced_failure or environment.credential_failure()
            if failure is not None:
                # Bounded: retries slow to one a day and stop after four weeks.
                self._fail_cycle(self.next_cycle_at, failure, environment)
                continue
            if environment.directory_cycle is not None:
                self._directory_cycles(now, environment)
                continue
            due = 1 + int((now - self.next_cycle_at).total_seconds() // environment.cycle_seconds)
            self._succeed_cycles(self.next_cycle_at, due, environment)

    def _deltas(self, index):
        """Objects changed in incremental cycle ``index``; some cycles change nothing (no exports)."""
        if index % 3:
            return 0
        return 1 + (self.seed >> (index % 24)) % 4

    def _counts(self, index, full_import):
        total = self.users + self.groups
        if full_import:
            references = min(self.groups * 3, self.users)
            exported = max(total - self.escrowed, 0)
            return {
                "countEntitled": total, "countEntitledForProvisioning": total,
                "countEscrowed": self.escrowed, "countEscrowedRaw": self.escrowed,
                "countExported": exported, "countExports": exported + references,
                "countImported": total, "countImportedDeltas": 0, "countImportedReferenceDeltas": references,
            }
        deltas = self._deltas(index)
        return {
            "countEntitled": deltas, "countEntitledForProvisioning": deltas,
            "countEscrowed": self.escrowed, "countEscrowedRaw": self.escrowed,
            "countExported": deltas, "countExports": deltas,
            "countImported": deltas, "countImportedDeltas": deltas, "countImportedReferenceDeltas": 0,
        }

    def _execution(self, serial, ended, duration, state, counts, error):
        execution = {"activityIdentifier": cycle_id(self.job_id, serial)}
        execution.update(counts)
        execution["error"] = error
        execution["state"] = state
        execution["timeBegan"] = format_time(ended - datetime.timedelta(seconds=duration))
        execution["timeEnded"] = format_time(ended)
        return execution

    def _cycle_duration(self, full_import, environment):
        # Docs are silent on cycle durations: a tenth of the cycle for a full import, 2 % for deltas.
        return environment.cycle_seconds * (0.1 if full_import else 0.02)

    def _succeed_cycles(self, first_end, count, environment):
        spacing = datetime.timedelta(seconds=environment.cycle_seconds)
        first_index = self.cycles_completed
        last_index = first_index + count - 1
        first_is_full = self.initial_cycle_pending
        last_end = first_end + spacing * (count - 1)
        # Entry-level failures (escrows) leave the cycle partly failed ([task execution] EntryLevelErrors).
        state = "EntryLevelErrors" if self.escrowed else "Succeeded"
        serial_base = self.cycle_serial + 1 - first_index

        def materialise(index):
            full = first_is_full and index == first_index
            ended = first_end + spacing * (index - first_index)
            return self._execution(serial_base + index, ended, self._cycle_duration(full, environment), state,
                                   self._counts(index, full), None)

        self.last_execution = materialise(last_index)
        if state == "Succeeded":
            self.last_successful_execution = self.last_execution
            with_exports = last_index - last_index % 3
            if with_exports >= first_index:
                self.last_successful_execution_with_exports = (
                    self.last_execution if with_exports == last_index else materialise(with_exports))
            elif first_is_full:
                self.last_successful_execution_with_exports = materialise(first_index)
        self.cycle_serial += count
        self._cycles_succeeded(first_end, last_end, count, first_is_full, environment)

    def _directory_cycles(self, now, environment):
        """The cycles due up to ``now`` of a job that provisions the simulated directory (provisioning.py).

        The first due cycle runs; when several fell due while nobody looked, the directory did not change in
        between (every change brings jobs up to date first), so the later ones only retry escrowed objects:
        we run the last one and count the ones in between (an emulator choice, so reads stay cheap).
        """
        spacing = datetime.timedelta(seconds=environment.cycle_seconds)
        due = 1 + int((now - self.next_cycle_at).total_seconds() // environment.cycle_seconds)
        if not self._directory_cycle(self.next_cycle_at, environment) or due == 1:
            return
        self.cycle_serial += due - 2
        self._directory_cycle(self.next_cycle_at + spacing * (due - 2), environment)

    def _directory_cycle(self, at, environment):
        """Run one directory cycle ending at ``at``; False when it failed (quarantine)."""
        full = self.initial_cycle_pending
        outcome = environment.directory_cycle(at, full, self.cycle_serial + 1)
        if outcome.failure is not None:
            self._fail_cycle(at, outcome.failure, environment, outcome.counts)
            return False
        self.cycle_serial += 1
        self.escrowed = outcome.escrowed
        self.users, self.groups = outcome.users, outcome.groups
        # Entry-level failures leave the cycle partly failed ([task execution] EntryLevelErrors).
        state = "EntryLevelErrors" if outcome.escrowed else "Succeeded"
        self.last_execution = self._execution(self.cycle_serial, at, self._cycle_duration(full, environment), state, outcome.counts, None)
        if state == "Succeeded":
            self.last_successful_execution = self.last_execution
            if outcome.counts["countExported"]:
                self.last_successful_execution_with_exports = self.last_execution
        self._cycles_succeeded(at, at, 1, full, environment)
        return True

    def _cycles_succeeded(self, first_end, last_end, count, first_is_full, environment):
        """What ``count`` successful cycles ending from ``first_end`` to ``last_end`` leave behind, whoever ran them."""
        if first_is_full:
            self.completed_progress = self._progress_record(self.users + self.groups, first_end)
        if self.steady_state_first is None:
            self.steady_state_first = first_end
        self.steady_state_last = last_end
        self.cycles_completed += count
        self.has_run_cycle = True
        self.initial_cycle_pending = False
        self.successive_failures = 0
        # [quarantine guide]: "the job leaves quarantine when the errors are fixed and the next cycle starts".
        self._clear_quarantine()
        self.next_cycle_at = last_end + datetime.timedelta(seconds=environment.cycle_seconds)

    def _fail_cycle(self, at, failure, environment, counts=None):
        """A complete failure: lastExecution Failed, quarantine (reason from ``failure``) with back-off."""
        self.cycle_serial += 1
        zero = dict.fromkeys(("countEntitled", "countEntitledForProvisioning", "countEscrowed", "countEscrowedRaw",
                              "countExported", "countExports", "countImported", "countImportedDeltas",
                              "countImportedReferenceDeltas"), 0)
        self.last_execution = self._execution(self.cycle_serial, at, min(1.0, environment.cycle_seconds / 10), "Failed", counts or zero,
                                              failure.error)
        self.successive_failures += 1
        self.has_run_cycle = True
        if not self.in_quarantine:
            self.quarantine_series_began = at
            self.quarantine_series_count = 0
        self.quarantine_series_count += 1
        self.quarantine_reason = failure.reason
        self.quarantine_error = failure.error
        self.quarantine_current_began = at
        scale = environment.time_scale
        delay = min(QUARANTINE_FIRST_RETRY_SECONDS * 2 ** (self.quarantine_series_count - 1), QUARANTINE_MAX_RETRY_SECONDS) * scale
        self.quarantine_next_attempt = at + datetime.timedelta(seconds=delay)
        if (at - self.quarantine_series_began).total_seconds() >= QUARANTINE_DISABLE_AFTER_SECONDS * scale:
            self.schedule_state = SCHEDULE_DISABLED
            self.next_cycle_at = None
            self.quarantine_next_attempt = None
        else:
            self.next_cycle_at = self.quarantine_next_attempt


def seed_runtime(runtime, state, now, environment, failure=None):
    """Give ``runtime`` a realistic history ending in ``state`` (one of SEED_STATES) at ``now``.

    The history is replayed through the same actions and cycles as live jobs, so seeded jobs
    look exactly like jobs driven through the API. ``failure`` is the CycleFailure a
    quarantined job shows (it keeps failing until start or restart lifts it).
    """
    if state not in SEED_STATES:
        raise ValueError("unknown seed state %r; expected one of %s" % (state, ", ".join(SEED_STATES)))
    cycle = datetime.timedelta(seconds=environment.cycle_seconds)
    if state in ("not_configured", "paused_with_credentials"):
        return
    if state == "not_run":
        runtime.start(now - cycle * 0.3, environment)
        return
    if state == "quarantine":
        runtime.start(now - cycle * 1.3, environment)
        runtime.forced_failure = failure
        runtime.advance(now, environment)
        return
    cycles = 2 + runtime.seed % 10
    runtime.start(now - cycle * (cycles + 0.4), environment)
    if state == "failing":
        runtime.advance(now - cycle * 1.4, environment)
        runtime.escrowed = 1 + runtime.seed % 7
    runtime.advance(now, environment)
    if state == "paused":
        runtime.pause(now)
