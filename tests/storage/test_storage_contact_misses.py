"""Every store counts an agent's missed first contacts from its audit history (the
``contact_misses`` fact), restarting at their pause, and keeps the pause as a world edit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest import Backend
from storage_helpers import T0

from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage.catalog import active, load_files

WORLD = """\
rulekit: 1
world: sla
agents:
  - {id: a-ann, name: Ann Avery, email: ann@example.com}
"""

POLICY = """\
rulekit: 1
policy: sla
applies_to: {sources: [web]}
rules:
  - name: direct
    steps:
      - assign: '"a-ann"'
      - expect_contact: {within: 30m, pause_after: 2, else: [{queue: missed}]}
"""


def test_misses_are_counted_until_the_pause(backend: Backend, tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "sla.yaml").write_text(POLICY)
    (folder / "world.yaml").write_text(WORLD)
    store: Any = backend.open()
    assert load_files(store, folder, folder / "world.yaml", by="admin", now=T0).ok
    current = active(store)
    assert current.ruleset is not None and current.world is not None
    clock = ManualClock(T0)
    engine = Engine(current.ruleset, current.world, store, clock=clock)
    counts = []
    for index in range(2):
        at = T0 + timedelta(hours=index)
        engine.submit(Lead(id=f"L{index}", received_at=at, source="web",
                           contact={"email": f"l{index}@example.com"}))
        clock.set(at + timedelta(minutes=31))
        engine.tick()
        counts.append(store.facts().contact_misses("a-ann"))
    assert counts == [1, 0]  # the second miss paused her: counting starts again
    stored = active(store).world
    assert stored is not None and stored.agents["a-ann"].paused


def test_each_agent_counts_their_own_misses_since_their_own_pause(backend: Backend) -> None:
    from rulekit.pipeline.sla import CONTACT_MISSED, CONTACT_PAUSE

    store: Any = backend.open()
    for n, (action, agent) in enumerate([(CONTACT_MISSED, "a-ann"), (CONTACT_MISSED, "a-bob"),
                                         (CONTACT_MISSED, "a-ann"), (CONTACT_PAUSE, "a-ann"),
                                         (CONTACT_MISSED, "a-bob"), (CONTACT_MISSED, "a-ann"),
                                         (CONTACT_PAUSE, "a-cy")]):
        store.record_audit("rulekit", action, {"agent": agent, "lead": f"L{n}"},
                           T0 + timedelta(minutes=n))
    facts = store.facts()
    assert [facts.contact_misses(a) for a in ("a-ann", "a-bob", "a-cy", "a-dee")] == [1, 2, 0, 0]
