"""The Engine end to end on every adapter: the same story gives the same stored history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest import Backend
from storage_helpers import T0, compile_rules, lead

from rulekit.engine import Engine, ManualClock
from rulekit.storage.memory import MemoryStore

H = timedelta(hours=1)


def story(engine: Engine) -> dict[str, Any]:
    """Submit, expire, accept, attach to an owner, run out of agents; what was stored."""
    store: Any = engine.store
    engine.submit(lead("L1"))
    engine.submit(lead("L1"))  # idempotent
    engine.tick(T0 + 61 * timedelta(minutes=1))  # a1's offer expired: a2 is offered L1
    l1 = store.offers("L1")[-1]
    engine.accept(l1.offer_id, "a2", T0 + 70 * timedelta(minutes=1))
    engine.submit(lead("L2", email="known@example.com"), T0 + 2 * H)  # owned by a3
    engine.submit(lead("L3"), T0 + 2 * H)
    for _ in range(5):  # two offers expire, then the broadcast does: queued
        engine.tick(T0 + 10 * H)
    engine.deliver(T0 + 10 * H)
    return {
        "leads": list(store.lead_ids()),
        "states": {i: store.get_state(i) for i in ("L1", "L2", "L3")},
        "offers": [(o.offer_id, o.agents, o.mode, o.status, o.winner, o.created_at,
                    o.deadline, o.closed_at) for o in store.offers()],
        "assignments": store.assignments(),
        "queue": store.queue_items(),
        "outbox": [(m.lead_id, m.template, m.to, m.subject, m.sent_at) for m in store.outbox()],
        "owners": [store.contact(k) for k in ("email:l1@example.com", "email:known@example.com",
                                               "email:l3@example.com")],
        "traces": {i: [t.to_json() for t in store.traces(i)] for i in ("L1", "L2", "L3")},
        "timers": store.next_timer_due(),
        "rotation": store.facts().rotation("everyone"),
    }


def test_the_engine_gives_the_same_history_on_every_store(backend: Backend,
                                                          rules_dir: Path) -> None:
    ruleset, world = compile_rules(rules_dir)
    expected = story(Engine(ruleset, world, MemoryStore(), clock=ManualClock(T0)))
    got = story(Engine(ruleset, world, backend.open(), clock=ManualClock(T0)))
    assert got == expected
    assert got["states"]["L1"].assignee == "a2"
    assert got["states"]["L2"].assignee == "a3"
    assert (got["states"]["L3"].status, got["states"]["L3"].queue) == ("queued", "unclaimed")
    assert got["owners"][0].owner == "a2"
    assert [m[4] for m in got["outbox"]] == [T0 + 10 * H] * len(got["outbox"])
    assert got["timers"] is None


def test_a_reopened_store_reoffers_after_the_deadline(backend: Backend,
                                                       rules_dir: Path) -> None:
    ruleset, world = compile_rules(rules_dir)
    store: Any = backend.open()
    first = Engine(ruleset, world, store, clock=ManualClock(T0))
    state = first.submit(lead("L1"))
    assert state.pending is not None and state.pending.agents == ("a1",)
    if backend.kind != "memory":
        store.close()
        store = backend.open()  # a restarted worker: a new connection, a new engine
    engine = Engine(ruleset, world, store, clock=ManualClock(T0))
    assert engine.state("L1") == state
    decisions = engine.tick(T0 + 2 * timedelta(minutes=31))
    assert len(decisions) == 1
    after = engine.state("L1")
    assert after is not None and after.pending is not None
    assert after.pending.agents == ("a2",)
    assert [(o.agents, o.status) for o in store.offers("L1")] == [
        (("a1",), "expired"), (("a2",), "open")]
    assert store.next_timer_due() == T0 + 2 * H
    assert "A Two (a2)" in engine.explain("L1")
