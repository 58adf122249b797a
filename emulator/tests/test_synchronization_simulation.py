"""synchronization/simulation.py on its own: cycles, quarantine back-off, restart scopes, seeding, without HTTP."""

import datetime
import time

import pytest

from entra_graph_emulator.synchronization import simulation

START = datetime.datetime(2026, 1, 5, 8, 0, 0, tzinfo=datetime.timezone.utc)
CYCLE = 2400.0
BAD = simulation.CycleFailure("EncounteredQuarantineException", "SystemForCrossDomainIdentityManagementInvalidCredentials",
                              "Please provide a valid tenant URL for your application.")


def at(seconds):
    return START + datetime.timedelta(seconds=seconds)


def healthy(cycle=CYCLE):
    return simulation.CycleEnvironment(cycle)


def failing(cycle=CYCLE):
    return simulation.CycleEnvironment(cycle, lambda: BAD)


def status(runtime, now, configured=True, created_code="NotConfigured"):
    return runtime.render_status(now, configured, created_code)


@pytest.mark.parametrize("text, flags", [
    ("Watermark, Escrows, QuarantineState", 4 | 2 | 8),
    ("Full", 15),
    ("ForceDeletes", 32),
    ("None", 0),
    ("Watermark,Escrows", 6),
    ("", simulation.PORTAL_RESTART_SCOPE),
    (None, simulation.PORTAL_RESTART_SCOPE),
])
def test_parse_reset_scope(text, flags):
    assert simulation.parse_reset_scope(text) == flags


@pytest.mark.parametrize("text", ["Bogus", "watermark", "Watermark, , Escrows", "14"])
def test_parse_reset_scope_rejects(text):
    with pytest.raises(ValueError):
        simulation.parse_reset_scope(text)


def test_format_time_has_seven_fraction_digits():
    assert simulation.format_time(START + datetime.timedelta(microseconds=123456)) == "2026-01-05T08:00:00.1234560Z"


def test_never_started_codes():
    runtime = simulation.JobRuntime("scim." + "a" * 32)
    assert status(runtime, START, configured=False)["code"] == "NotConfigured"
    assert status(runtime, START, configured=True)["code"] == "Paused"
    assert status(runtime, START, configured=False, created_code="Paused")["code"] == "Paused"
    assert runtime.interval(simulation.TIMESPAN_MAX_VALUE, "PT40M") == simulation.TIMESPAN_MAX_VALUE


def test_first_cycle_completes_one_cycle_after_start():
    runtime = simulation.JobRuntime("scim." + "b" * 32)
    runtime.start(START, healthy())
    runtime.advance(at(CYCLE - 1), healthy())
    assert status(runtime, at(CYCLE - 1))["code"] == "NotRun"
    # Progress shows once the initial cycle is underway (the cross-tenant synchronization guide prints [] right after start).
    assert status(runtime, at(1))["progress"] == []
    assert status(runtime, at(CYCLE / 2))["progress"][0]["completedUnits"] > 0
    runtime.advance(at(CYCLE), healthy())
    result = status(runtime, at(CYCLE))
    assert result["code"] == "Active"
    assert result["lastExecution"]["timeEnded"] == simulation.format_time(at(CYCLE))
    assert runtime.interval(simulation.TIMESPAN_MAX_VALUE, "PT40M") == "PT40M"


def test_a_year_of_cycles_is_replayed_in_constant_time():
    runtime = simulation.JobRuntime("scim." + "c" * 32)
    runtime.start(START, healthy())
    started = time.perf_counter()
    runtime.advance(at(365 * 86400), healthy())
    assert time.perf_counter() - started < 0.01
    expected_cycles = int(365 * 86400 // CYCLE)
    assert runtime.cycles_completed == expected_cycles
    result = status(runtime, at(365 * 86400))
    assert result["lastExecution"]["timeEnded"] == simulation.format_time(at(expected_cycles * CYCLE))
    with_exports = result["lastSuccessfulExecutionWithExports"]
    assert with_exports["countExports"] > 0 and with_exports["timeEnded"] <= result["lastExecution"]["timeEnded"]
    assert result["steadyStateFirstAchievedTime"] == simulation.format_time(at(CYCLE))


def test_cycles_replayed_in_one_go_or_one_by_one_agree():
    one_go = simulation.JobRuntime("scim." + "d" * 32)
    one_go.start(START, healthy())
    one_go.advance(at(10 * CYCLE), healthy())
    step = simulation.JobRuntime("scim." + "d" * 32)
    step.start(START, healthy())
    for index in range(1, 11):
        step.advance(at(index * CYCLE), healthy())
    assert status(one_go, at(10 * CYCLE)) == status(step, at(10 * CYCLE))


def test_quarantine_back_off_doubles_up_to_a_day_then_disables_after_four_weeks():
    runtime = simulation.JobRuntime("scim." + "e" * 32)
    runtime.start(START, failing())
    runtime.advance(at(CYCLE), failing())
    first = status(runtime, at(CYCLE))["quarantine"]
    assert first["seriesCount"] == 1
    # [AWS SSO walkthrough]: nextAttempt five minutes after currentBegan.
    assert first["nextAttempt"] == simulation.format_time(at(CYCLE + 300))
    runtime.advance(at(CYCLE + 300), failing())
    second = status(runtime, at(CYCLE + 300))["quarantine"]
    assert second["seriesCount"] == 2 and second["nextAttempt"] == simulation.format_time(at(CYCLE + 300 + 600))
    runtime.advance(at(CYCLE + 20 * 86400), failing())
    late = status(runtime, at(CYCLE + 20 * 86400))["quarantine"]
    began = datetime.datetime.strptime(late["currentBegan"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    nxt = datetime.datetime.strptime(late["nextAttempt"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    assert (nxt - began).total_seconds() == 86400
    runtime.advance(at(CYCLE + 40 * 86400), failing())
    assert runtime.schedule_state == simulation.SCHEDULE_DISABLED
    assert status(runtime, at(CYCLE + 40 * 86400))["code"] == "Quarantine"


def test_back_off_scales_with_the_cycle_length():
    runtime = simulation.JobRuntime("scim." + "f" * 32)
    fast = failing(cycle=24.0)
    runtime.start(START, fast)
    runtime.advance(at(24), fast)
    assert status(runtime, at(24))["quarantine"]["nextAttempt"] == simulation.format_time(at(27))


def test_credential_check_runs_only_when_a_cycle_is_due():
    calls = []
    environment = simulation.CycleEnvironment(CYCLE, lambda: calls.append(1))
    runtime = simulation.JobRuntime("scim." + "1" * 32)
    runtime.start(START, environment)
    runtime.advance(at(10), environment)
    assert not calls
    runtime.advance(at(5 * CYCLE), environment)
    assert calls == [1]


def test_pause_keeps_state_and_hides_quarantine():
    runtime = simulation.JobRuntime("scim." + "2" * 32)
    runtime.start(START, failing())
    runtime.advance(at(CYCLE), failing())
    runtime.pause(at(CYCLE))
    result = status(runtime, at(CYCLE))
    assert result["code"] == "Paused" and result["quarantine"] is None
    runtime.advance(at(10 * CYCLE), failing())
    assert runtime.successive_failures == 1


def test_restart_without_quarantine_state_keeps_the_retry_schedule():
    runtime = simulation.JobRuntime("scim." + "3" * 32)
    runtime.start(START, failing())
    runtime.advance(at(CYCLE), failing())
    attempt = runtime.quarantine_next_attempt
    runtime.restart(at(CYCLE + 10), simulation.WATERMARK, failing())
    assert runtime.in_quarantine and runtime.next_cycle_at == attempt
    runtime.restart(at(CYCLE + 20), simulation.QUARANTINE_STATE, failing())
    assert not runtime.in_quarantine and runtime.next_cycle_at == at(2 * CYCLE + 20)


@pytest.mark.parametrize("state", simulation.SEED_STATES)
def test_seed_runtime_replays_a_consistent_history(state):
    runtime = simulation.JobRuntime("scim." + "4" * 32)
    now = at(100 * CYCLE)
    simulation.seed_runtime(runtime, state, now, healthy(), failure=BAD)
    result = status(runtime, now, configured=state != "not_configured")
    expected = {"not_configured": "NotConfigured", "paused_with_credentials": "Paused", "not_run": "NotRun", "active": "Active",
                "paused": "Paused", "quarantine": "Quarantine", "failing": "Active"}[state]
    assert result["code"] == expected
    for name in ("lastExecution", "lastSuccessfulExecution"):
        execution = result[name]
        if execution is not None and execution["timeEnded"] != simulation.NEVER:
            assert execution["timeEnded"] <= simulation.format_time(now)


def test_seed_rejects_unknown_states():
    with pytest.raises(ValueError):
        simulation.seed_runtime(simulation.JobRuntime("x.y"), "sleeping", START, healthy())
