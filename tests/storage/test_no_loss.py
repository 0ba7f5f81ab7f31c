"""An acknowledged lead is never lost, and one failing event never stalls the others.

* a lead whose first decision cannot be committed (it keeps losing races, or deciding or
  storing it fails) is kept in the store's inbox and decided by a worker;
* a timer whose decision raises is retried with backoff, then its lead is parked in the error
  queue — with the error in its trace and an audit entry — while every other timer fires;
* a rule problem at run time (a deadline no calendar can give) parks the lead at once;
* leases are measured on the wall clock at each claim, so a long batch never fires a timer
  whose lease has ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from rule_folders import write_one_afternoon_rules
from storage_helpers import T0, compile_rules, lead

from rulekit import engine as engine_module
from rulekit.engine import KEPT, MAX_ATTEMPTS, Engine, ManualClock
from rulekit.pipeline import ERROR_QUEUE, PARKED
from rulekit.storage.base import StaleState


class LosingStore:
    """A store whose decisions lose every race until ``wins`` is set."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.wins = False

    def commit(self, *args: Any, **kwargs: Any) -> None:
        if not self.wins:
            raise StaleState("lead changed since it was read")
        self._store.commit(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "_backoff", lambda attempt: None)


def test_a_lead_that_keeps_losing_races_is_kept_and_decided_by_a_worker(
        backend: Backend, rules_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_sleep(monkeypatch)
    ruleset, world = compile_rules(rules_dir)
    store = LosingStore(backend.open())
    engine = Engine(ruleset, world, store, clock=ManualClock(T0))
    state = engine.submit(lead("L1"))  # returns: the lead is acknowledged
    assert state.status == KEPT
    assert store.get_lead("L1") is not None and store.get_state("L1") is None
    assert engine.submit(lead("L1")).status == KEPT  # still kept, not stored twice
    store.wins = True
    decisions = engine.tick(T0 + timedelta(seconds=1))
    assert [d.state.lead_id for d in decisions] == ["L1"]
    state = store.get_state("L1")
    assert state is not None and state.pending is not None  # offered, as if never delayed
    assert store.traces("L1") and store.next_timer_due() == state.pending.deadline
    assert engine.tick(T0 + timedelta(seconds=2)) == []  # the inbox entry is gone


def test_a_failing_decision_at_intake_keeps_the_lead(
        backend: Backend, rules_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset, world = compile_rules(rules_dir)
    store = backend.open()
    engine = Engine(ruleset, world, store, clock=ManualClock(T0))
    real = engine_module.decide
    failures = [RuntimeError("the store's view broke")]

    def flaky(*args: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*args)

    monkeypatch.setattr(engine_module, "decide", flaky)
    receipt = engine.intake(lead("L2"))
    assert receipt.outcome == KEPT and receipt.decision is None
    assert receipt.error == "RuntimeError: the store's view broke"
    assert [d.state.lead_id for d in engine.tick(T0)] == ["L2"]
    assert store.get_state("L2") is not None


def test_a_lead_is_not_acknowledged_when_it_cannot_even_be_kept(
        rules_dir: Path, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_sleep(monkeypatch)
    ruleset, world = compile_rules(rules_dir)
    store = LosingStore(backend.open())

    def down(*args: Any) -> bool:
        raise ConnectionError("database is down")

    monkeypatch.setattr(store, "add_inbox", down, raising=False)
    store.__dict__["add_inbox"] = down
    with pytest.raises(ConnectionError):
        Engine(ruleset, world, store, clock=ManualClock(T0)).submit(lead("L3"))


# -- a poisoned timer ----------------------------------------------------------------------------
class PoisonedEngine(Engine):
    """An engine whose decisions about one lead's timers always raise."""

    poisoned = "P"

    def _handle(self, lead_id: str, event: Any, now: Any = None, **kw: Any) -> Any:
        if lead_id == self.poisoned and event.kind == "timer_fired":
            raise RuntimeError("boom")
        return super()._handle(lead_id, event, now, **kw)


def test_a_poisoned_timer_is_retried_then_parked_and_never_stalls_the_others(
        backend: Backend, rules_dir: Path) -> None:
    ruleset, world = compile_rules(rules_dir)
    store = backend.open()
    clock = ManualClock(T0)
    engine = PoisonedEngine(ruleset, world, store, clock=clock)
    for lead_id in ["P", *(f"L{n:02}" for n in range(30))]:
        engine.submit(lead(lead_id))
    late = T0 + timedelta(hours=1, minutes=1)
    clock.set(late)
    fired = engine.tick(late, worker="w1", limit=5)  # small rounds: the poisoned one first
    assert len(fired) == 30  # every other timer fired
    assert all(d.state.pending is not None for d in fired)  # each offered to the next agent
    # the poisoned timer is held back, then retried, then parked
    for attempt in range(2, MAX_ATTEMPTS + 1):
        assert engine.tick(clock.now(), worker="w2") == []  # held back: nobody takes it
        clock.set(clock.now() + timedelta(seconds=engine_module.RETRY_CAP + 1))
        engine.tick(clock.now(), worker="w2")
        state = store.get_state("P")
        assert state is not None
        assert (state.status == PARKED) == (attempt == MAX_ATTEMPTS)
    assert state.queue == ERROR_QUEUE and state.pending is None
    assert "RuntimeError: boom" in (state.reason or "")
    assert [q.lead_id for q in store.queue_items(ERROR_QUEUE)] == ["P"]
    explained = engine.explain("P")
    assert f"after {MAX_ATTEMPTS} attempts: RuntimeError: boom" in explained
    assert "parked in queue 'errors'" in explained
    assert [o.status for o in store.offers("P")] == ["withdrawn"]
    audit = [e for e in store.audit() if e.action == "lead_parked"]
    assert audit and audit[0].detail["lead"] == "P" and audit[0].detail["attempts"] == 5
    # an administrator retries it: routed again from the start, with the current rules
    engine.poisoned = "nobody"
    retried = engine.retry("P", by="admin@example.com", reason="fixed the calendar")
    assert retried.state.status != PARKED and retried.state.pending is not None
    assert "admin@example.com retried the parked lead: fixed the calendar." in \
        engine.explain("P")


def test_a_deadline_no_calendar_can_give_parks_the_lead_at_once(
        backend: Backend, tmp_path: Path) -> None:
    folder = write_one_afternoon_rules(tmp_path / "rules")  # open only on one afternoon
    ruleset, world = compile_rules(folder)
    store = backend.open()
    clock = ManualClock(T0)
    engine = Engine(ruleset, world, store, clock=clock)
    others = [f"L{n}" for n in range(5)]
    for lead_id in ["X", *others]:
        engine.submit(lead(lead_id))
    later = T0 + timedelta(hours=2)
    clock.set(later)
    decisions = engine.tick(later)  # the second offers need open time that never comes
    assert len(decisions) == 6
    for lead_id in ["X", *others]:
        state = store.get_state(lead_id)
        assert state is not None and state.status == PARKED, lead_id
    text = engine.explain("X")
    assert "Could not route the lead:" in text and "calendar 'office'" in text, text
    assert store.next_timer_due() is None


# -- leases on the wall clock --------------------------------------------------------------------
class TickingClock(ManualClock):
    """A wall clock that moves ``step`` on every reading: a slow batch."""

    def __init__(self, current: datetime, step: timedelta) -> None:
        super().__init__(current)
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current


def test_a_long_batch_never_fires_a_timer_whose_lease_has_ended(
        backend: Backend, rules_dir: Path) -> None:
    ruleset, world = compile_rules(rules_dir)
    store = backend.open()
    submitter = Engine(ruleset, world, store, clock=ManualClock(T0))
    for n in range(12):
        submitter.submit(lead(f"L{n:02}"))
    wall = TickingClock(T0 + timedelta(hours=2), timedelta(seconds=0.7))
    engine = Engine(ruleset, world, store, clock=wall)
    leases: dict[str, datetime] = {}
    claim = store.claim_due_timers

    def recording(now: datetime, worker: str, lease: float, limit: int = 100, *,
                  clock_now: datetime | None = None) -> Sequence[Any]:
        wall_now = {} if clock_now is None else {"clock_now": clock_now}
        timers = claim(now, worker, lease, limit, **wall_now)
        for timer in timers:
            leases[timer.timer_id] = (clock_now or now) + timedelta(seconds=lease)
        return timers

    handle = engine._handle
    late: list[str] = []

    def firing(lead_id: str, event: Any, now: Any = None, **kw: Any) -> Any:
        if event.kind == "timer_fired" and wall.current >= leases[event.timer_id]:
            late.append(event.timer_id)
        return handle(lead_id, event, now, **kw)

    engine.store = type("Recording", (), {"__getattr__": lambda _, n: getattr(store, n),
                                          "claim_due_timers": staticmethod(recording)})()
    engine._handle = firing  # type: ignore[method-assign]
    fired = engine.tick(T0 + timedelta(hours=1, minutes=1), worker="w", lease=2.0, limit=50)
    assert len(fired) == 12
    assert late == []  # each timer fired while its lease was live
