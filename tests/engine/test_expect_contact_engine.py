"""expect_contact through the engine over SQLite: the SLA's timer fires through the engine's
timer processing, a logged contact cancels it, misses are counted from the store's audit
history, and the N-th miss pauses the agent with the same audited world edit an
administrator's pause makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage.base import WORLD
from rulekit.storage.catalog import active, load_files
from rulekit.storage.url import open_store

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

WORLD_FILE = """\
rulekit: 1
world: sla
agents:
  - {id: a-ann, name: Ann Avery, email: ann@example.com}
  - {id: a-bob, name: Bob Brown, email: bob@example.com}
"""

POLICY = """\
rulekit: 1
policy: sla
applies_to: {sources: [web]}
pools:
  team: {of: agents, members: [a-ann, a-bob], exclude: [paused, already_offered]}
rules:
  - name: rotate
    steps:
      - round_robin: {pool: team}
      - expect_contact:
          within: 30m
          pause_after: 2
          else:
            - queue: {name: missed, reason: no first contact}
    then: continue
  - name: nobody
    steps: [{queue: nobody}]
"""


def lead(lead_id: str, at: datetime) -> Lead:
    return Lead(id=lead_id, received_at=at, source="web",
                contact={"email": f"{lead_id.lower()}@example.com"})


def engine(tmp_path: Path) -> tuple[Engine, Any, ManualClock]:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "sla.yaml").write_text(POLICY)
    (folder / "world.yaml").write_text(WORLD_FILE)
    store: Any = open_store(f"sqlite:///{tmp_path / 'sla.db'}")
    checked = load_files(store, folder, folder / "world.yaml", by="admin", now=T0)
    assert checked.ok, checked.diagnostics
    current = active(store)
    assert current.ruleset is not None and current.world is not None
    clock = ManualClock(T0)
    return Engine(current.ruleset, current.world, store, clock=clock), store, clock


def test_the_sla_timer_fires_through_the_engine_and_a_contact_cancels_it(
        tmp_path: Path) -> None:
    eng, store, clock = engine(tmp_path)
    try:
        state = eng.submit(lead("L1", T0))
        assert (state.status, state.assignee, state.contact) == ("assigned", "a-ann", "waiting")
        assert store.next_timer_due() == T0 + 30 * MINUTE
        eng.submit(lead("L2", T0))  # a-bob, next in the rotation
        clock.set(T0 + 10 * MINUTE)
        eng.log_activity("L2", "a-bob", "call")
        assert eng.state("L2").contact == "met"  # type: ignore[union-attr]
        clock.set(T0 + 31 * MINUTE)
        fired = eng.tick()
        assert [d.trace.lead_id for d in fired] == ["L1"]
        missed = eng.state("L1")
        assert missed is not None
        assert (missed.status, missed.queue, missed.contact) == ("queued", "missed", "missed")
        assert eng.state("L2").assignee == "a-bob"  # type: ignore[union-attr]
        assert store.next_timer_due() is None
        entries = [(e.actor, e.action, e.detail.get("agent"), e.detail.get("lead"))
                   for e in store.audit() if e.action == "contact_missed"]
        assert entries == [("rulekit", "contact_missed", "a-ann", "L1")]
        assert store.facts().contact_misses("a-ann") == 1
        assert store.facts().contact_misses("a-bob") == 0
        assert "first-contact SLA (30m) is missed" in eng.explain("L1")
    finally:
        store.close()


def test_the_second_miss_pauses_the_agent_in_the_stored_world(tmp_path: Path) -> None:
    eng, store, clock = engine(tmp_path)
    try:
        world_before = store.active_versions()[WORLD]
        eng.submit(lead("L1", T0))  # a-ann
        eng.submit(lead("L2", T0))  # a-bob
        eng.log_activity("L2", "a-bob", "email", now=T0 + MINUTE)
        eng.submit(lead("L3", T0 + 2 * MINUTE))  # a-ann again
        clock.set(T0 + 40 * MINUTE)
        eng.tick()
        assert [eng.state(i).queue for i in ("L1", "L3")] == ["missed", "missed"]  # type: ignore[union-attr]
        # the world edit: a new active world version with a-ann paused, audited with why
        assert store.active_versions()[WORLD] != world_before
        stored = active(store).world
        assert stored is not None and stored.agents["a-ann"].paused
        assert not stored.agents["a-bob"].paused
        edits = [e for e in store.audit() if e.action.startswith("agent a-ann paused")]
        assert len(edits) == 1 and edits[0].actor == "rulekit"
        assert "missed 2 first contacts" in edits[0].detail["reason"]
        assert [e.action for e in store.audit() if e.action.startswith("contact_")] == [
            "contact_missed", "contact_missed", "contact_pause"]
        assert store.facts().contact_misses("a-ann") == 0  # counted again from the pause
        # the engine routes with the paused world at once: the rotation passes a-ann over
        assert eng.world.agents["a-ann"].paused
        for index in range(4, 6):
            state = eng.submit(lead(f"L{index}", clock.now()))
            assert state.assignee == "a-bob"
    finally:
        store.close()


def test_the_sla_follows_an_admin_reassignment_through_the_engine(tmp_path: Path) -> None:
    eng, store, clock = engine(tmp_path)
    try:
        eng.submit(lead("L1", T0))  # a-ann, held to 30 minutes
        clock.set(T0 + 10 * MINUTE)
        eng.reassign("L1", "a-bob", by="admin", reason="Ann is out today")
        state = eng.state("L1")
        assert state is not None
        assert (state.assignee, state.contact) == ("a-bob", "waiting")
        assert store.next_timer_due() == T0 + 40 * MINUTE  # Ann's timer is gone
        clock.set(T0 + 31 * MINUTE)
        assert eng.tick() == []
        clock.set(T0 + 41 * MINUTE)
        assert [d.trace.lead_id for d in eng.tick()] == ["L1"]
        missed = eng.state("L1")
        assert missed is not None
        assert (missed.status, missed.queue, missed.contact) == ("queued", "missed", "missed")
        assert [e.detail.get("agent") for e in store.audit()
                if e.action == "contact_missed"] == ["a-bob"]
        assert "The first-contact SLA follows the lead: Bob Brown (a-bob)" in eng.explain("L1")
    finally:
        store.close()
