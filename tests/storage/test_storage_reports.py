"""The reports read every store alike: the fairness ledger and distribution, and first
contact, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import Backend

from rulekit.engine import Engine, ManualClock
from rulekit.fairness import distribution
from rulekit.first_contact import first_contacts
from rulekit.ledger import ledger
from rulekit.model import Lead
from rulekit.storage.catalog import active, load_files, pause_agent, set_pool_members

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
WORLD = "rulekit: 1\nworld: office\nagents:\n" + "".join(
    f"  - {{id: a{n}, name: Agent {n}}}\n" for n in range(1, 5))
RULES = """\
rulekit: 1
policy: office
applies_to: {sources: [site]}
pools:
  office: {of: agents, members: [a1, a2, a3], exclude: [paused]}
rules:
  - name: rotate
    steps:
      - round_robin: {pool: office}
      - queue: {name: nobody}
"""


def _engine(store: Any, at: datetime) -> Engine:
    current = active(store)
    assert current.ruleset is not None and current.world is not None
    return Engine(current.ruleset, current.world, store, clock=ManualClock(at))


def test_reports_read_every_store_alike(backend: Backend, tmp_path: Path) -> None:
    (tmp_path / "world.yaml").write_text(WORLD, encoding="utf-8")
    (tmp_path / "office.yaml").write_text(RULES, encoding="utf-8")
    store: Any = backend.open()
    load_files(store, tmp_path, tmp_path / "world.yaml", by="ana", now=T0)
    minute = timedelta(minutes=1)
    engine = _engine(store, T0)
    for n in range(6):  # a1 a2 a3 a1 a2 a3
        engine.submit(Lead(id=f"L{n}", received_at=T0 + n * minute, source="site"),
                      T0 + n * minute)
    engine.log_activity("L0", "a1", "call", now=T0 + 10 * minute)  # 10 minutes
    engine.log_activity("L1", "a2", "email", now=T0 + 61 * minute)  # 60 minutes
    set_pool_members(store, "office", ["a1", "a2", "a3", "a4"], by="ana", now=T0 + 70 * minute)
    pause_agent(store, "a3", by="ana", now=T0 + 70 * minute)
    engine = _engine(store, T0 + 71 * minute)
    for n in range(6, 12):
        at = T0 + (71 + n) * minute
        engine.submit(Lead(id=f"L{n}", received_at=at, source="site"), at)
    if backend.kind != "memory":  # read back from a new connection
        store = backend.open()
    turns = ledger(store)
    assert len(turns) == 12 and [t.chosen for t in turns[:6]] == ["a1", "a2", "a3"] * 2
    assert all(t.skipped == (("a3", "paused"),) for t in turns[6:])
    (rotation,) = distribution(store).rotations
    assert [p.turns for p in rotation.phases] == [6, 6]
    assert rotation.phases[1].added == ("a4",)
    assert {n: s.picks for n, s in rotation.phases[1].shares.items()} == {
        "a1": 2, "a2": 2, "a3": 0, "a4": 2}
    assert rotation.fair is True
    report = first_contacts(store, 30 * 60, T0 + 3 * 60 * minute)
    lines = {a.agent: a for a in report.agents}
    assert (lines["a1"].assigned, lines["a1"].contacted, lines["a1"].median) == (4, 1, 600.0)
    assert (lines["a2"].contacted, lines["a2"].median) == (1, 3600.0)
    assert report.over_target == [("a2", 4), ("a1", 3), ("a3", 2), ("a4", 2)]
    assert report.silent == [("a3", 2), ("a4", 2)]
