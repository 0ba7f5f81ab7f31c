"""The fairness ledger and the distribution report judged phase by phase, on real stores."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from command_line import run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulekit.engine import Engine, ManualClock
from rulekit.fairness import Rotation, distribution, rotations
from rulekit.leadsearch import reading_store
from rulekit.ledger import Turn, ledger, reason_text
from rulekit.model import Lead
from rulekit.storage.catalog import active, load_files, pause_agent, set_pool_members
from rulekit.storage.memory import MemoryStore
from rulekit.storage.url import open_store

sys.path.insert(0, str(Path(__file__).parent / "cli"))
from store_fixtures import AVERY, BLAKE, CASEY, build_store

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
AGENTS = [f"a{n}" for n in range(1, 9)]
WORLD = "rulekit: 1\nworld: office\nagents:\n" + "".join(
    f"  - {{id: {a}, name: Agent {a[1:]}}}\n" for a in AGENTS)
RULES = """\
rulekit: 1
policy: office
applies_to: {sources: [site]}
pools:
  office:
    of: agents
    members: [a1, a2, a3, a4, a5, a6, a7]
    exclude: [paused]
rules:
  - name: rotate
    steps:
      - round_robin: {pool: office}
      - queue: {name: nobody, reason: nobody in the rotation}
"""


def _route(store: Any, first: int, count: int, start: datetime) -> datetime:
    current = active(store)
    assert current.ruleset is not None and current.world is not None
    engine = Engine(current.ruleset, current.world, store, clock=ManualClock(start))
    at = start
    for n in range(first, first + count):
        at = start + timedelta(seconds=30 * (n - first))
        engine.submit(Lead.model_validate({"id": f"L{n:04d}", "received_at": at.isoformat(),
                                           "source": "site"}), at)
    return at + timedelta(minutes=1)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> str:
    """350 leads to a1..a7; a4 removed, 150 leads; a8 added, 200 leads."""
    folder = tmp_path_factory.mktemp("office")
    (folder / "world.yaml").write_text(WORLD, encoding="utf-8")
    (folder / "office.yaml").write_text(RULES, encoding="utf-8")
    url = f"sqlite:///{folder / 'office.db'}"
    store: Any = open_store(url)
    load_files(store, folder, folder / "world.yaml", by="ana", now=T0)
    at = _route(store, 1, 350, T0)
    set_pool_members(store, "office", ["a1", "a2", "a3", "a5", "a6", "a7"], by="ana", now=at)
    at = _route(store, 351, 150, at)
    set_pool_members(store, "office", ["a1", "a2", "a3", "a5", "a6", "a7", "a8"], by="ana",
                     now=at)
    _route(store, 501, 200, at)
    store.close()
    return url


def test_a_rotation_edited_twice_is_even_in_each_phase(edited: str) -> None:
    with reading_store(edited) as store:
        report = distribution(store)
    (rotation,) = report.rotations
    assert (rotation.strategy, rotation.pool, rotation.turns, rotation.leads) == (
        "round_robin", "office", 700, 700)
    phases = rotation.phases
    assert [p.turns for p in phases] == [350, 150, 200]
    assert [p.removed for p in phases] == [(), ("a4",), ()]
    assert [p.added for p in phases] == [(), (), ("a8",)]
    assert [p.spread for p in phases] == [0, 0, 1]
    assert rotation.fair is True and rotation.verdict == "even in every phase"
    throughout = rotation.throughout()
    assert sorted(throughout) == ["a1", "a2", "a3", "a5", "a6", "a7"]
    assert max(throughout.values()) - min(throughout.values()) <= 1
    assert sum(throughout.values()) == 700 - 50 - phases[2].shares["a8"].picks


def test_the_distribution_command_says_even_after_pool_edits(edited: str) -> None:
    code, out = run("report", "distribution", "--db", edited)
    assert code == 0, out
    assert "UNEVEN" not in out
    assert "Phase 2 (Agent 4 removed): 150 turns" in out
    assert "Phase 3 (Agent 8 added): 200 turns" in out
    assert "Verdict: even in every phase" in out
    code, out = run("report", "distribution", "--db", edited, "--format", "json")
    data = json.loads(out)
    (rotation,) = data["rotations"]
    assert rotation["fair"] is True and len(rotation["phases"]) == 3
    assert rotation["phases"][1]["removed"] == ["a4"]


def test_a_paused_member_with_no_turns_is_listed_and_explained(tmp_path: Path) -> None:
    (tmp_path / "world.yaml").write_text(WORLD, encoding="utf-8")
    (tmp_path / "office.yaml").write_text(RULES, encoding="utf-8")
    store: Any = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    load_files(store, tmp_path, tmp_path / "world.yaml", by="ana", now=T0)
    pause_agent(store, "a3", by="ana", now=T0)
    _route(store, 1, 30, T0)
    (rotation,) = rotations(ledger(store))
    (phase,) = rotation.phases
    a3 = phase.shares["a3"]
    assert (a3.picks, a3.eligible, a3.skipped) == (0, 0, {"paused": 30})
    assert a3.skip_text() == "30 paused"
    assert len(phase.steady) == 6 and phase.spread == 0 and rotation.fair
    store.close()
    code, out = run("report", "ledger", "--db", f"sqlite:///{tmp_path / 'p.db'}",
                    "--pool", "office")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "Fairness ledger of pool 'office': 30 turns (times in UTC)"
    assert lines[2].endswith("→ Agent 1  (7 members, 6 eligible; skipped: Agent 3 paused)")
    code, out = run("report", "distribution", "--db", f"sqlite:///{tmp_path / 'p.db'}")
    assert "Agent 3      0         0  30 paused" in out


def _turn(n: int, chosen: str, members: tuple[str, ...], strategy: str = "round_robin",
          **data: Any) -> Turn:
    return Turn(f"L{n}", T0 + timedelta(minutes=n), "p", "p", strategy, chosen, members,
                members, (), {"strategy": strategy, "chosen": chosen, **data})


def test_an_uneven_round_robin_is_named() -> None:
    members = ("a", "b", "c")
    turns = [_turn(n, c, members) for n, c in enumerate("aaabc")]
    (rotation,) = rotations(turns)
    assert rotation.phases[0].spread == 2 and rotation.fair is False
    assert rotation.verdict == "UNEVEN in phase 1"


def test_weighted_counts_are_judged_against_their_band() -> None:
    weights = (("big", 3.0), ("small", 1.0))
    fair = [_turn(n, "big" if n % 4 else "small", ("big", "small"), "weighted",
                  weights=weights) for n in range(400)]
    (rotation,) = rotations(fair)
    big = rotation.phases[0].shares["big"]
    assert big.expected == pytest.approx(300) and big.within
    assert rotation.fair is True
    skewed = [_turn(n, "small" if n % 4 else "big", ("big", "small"), "weighted",
                    weights=weights) for n in range(400)]
    (rotation,) = rotations(skewed)
    assert rotation.fair is False
    assert "OUTSIDE the 99 % band" in rotation.phases[0].verdict


def test_the_weighted_offices_of_a_day_keep_their_promise(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    url = f"sqlite:///{tmp_path / 'day.db'}"
    code, out = run("day", "rules/leadstreet", "--db", url, "--date", "2026-11-24",
                    "--leads", "60", "--seed", "7")
    assert code == 0, out
    with reading_store(url) as store:
        report = distribution(store)
    weighted = [r for r in report.rotations if r.strategy == "weighted"]
    assert weighted and all(isinstance(r, Rotation) for r in weighted)
    assert all(r.fair for r in weighted), [p.verdict for r in weighted for p in r.phases]


def test_round_robin_turns_name_members_and_chosen(tmp_path: Path) -> None:
    url = build_store(tmp_path)
    with reading_store(url) as store:
        turns = [t for t in ledger(store) if t.strategy == "round_robin"]
    assert [t.chosen for t in turns] == [AVERY, BLAKE, CASEY, AVERY, BLAKE, CASEY, AVERY]
    assert {t.pool for t in turns} == {"trio"} and {t.key for t in turns} == {"trio"}
    assert all(t.members == (AVERY, BLAKE, CASEY) for t in turns)
    assert all(t.eligible == (AVERY, BLAKE, CASEY) and t.skipped == () for t in turns)
    assert [t.lead_id for t in turns] == [f"R{n}" for n in range(1, 8)]
    assert turns[0].to_json()["members"] == [AVERY, BLAKE, CASEY]


def test_reason_text() -> None:
    assert reason_text("paused") == "paused"
    assert reason_text("at_capacity") == "at capacity"
    assert reason_text("odd_reason") == "odd reason"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sets(st.sampled_from(AGENTS), min_size=1),
                          st.sets(st.sampled_from(AGENTS)), st.integers(1, 25)),
                min_size=1, max_size=4))
def test_any_run_of_edits_and_pauses_is_judged_even(
        plan: list[tuple[set[str], set[str], int]]) -> None:
    """Whatever the members and the paused agents of each stretch, the real round robin keeps
    its promise in every phase, and the ledger accounts for every lead."""
    store: Any = MemoryStore()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "world.yaml").write_text(WORLD, encoding="utf-8")
        (folder / "office.yaml").write_text(RULES, encoding="utf-8")
        load_files(store, folder, folder / "world.yaml", by="ana", now=T0)
    at, first, paused = T0, 1, set[str]()
    for members, pause, count in plan:
        set_pool_members(store, "office", sorted(members), by="ana", now=at)
        for agent in pause ^ paused:
            pause_agent(store, agent, agent in pause, by="ana", now=at)
        paused = pause
        at = _route(store, first, count, at)
        first += count
    routed = sum(count for *_, count in plan)
    (rotation,) = rotations(ledger(store)) or (None,)
    if rotation is None:  # every stretch had every member paused: all leads queued
        assert len(store.queue_items()) == routed
        return
    assert rotation.fair, [p.verdict for p in rotation.phases]
    assert rotation.turns + len(store.queue_items()) == routed
    for phase in rotation.phases:
        assert sum(s.picks for s in phase.shares.values()) == phase.turns


TEAM_WORLD = WORLD + """\
teams:
  - {id: t-east, name: East team, members: [a4, a5]}
"""
TEAM_RULES = RULES.replace("members: [a1, a2, a3, a4, a5, a6, a7]", "members: [a1, t-east, a2]")


def test_a_team_is_one_member_of_its_rotation(tmp_path: Path) -> None:
    (tmp_path / "world.yaml").write_text(TEAM_WORLD, encoding="utf-8")
    (tmp_path / "office.yaml").write_text(TEAM_RULES, encoding="utf-8")
    store: Any = open_store(f"sqlite:///{tmp_path / 't.db'}")
    load_files(store, tmp_path, tmp_path / "world.yaml", by="ana", now=T0)
    at = _route(store, 1, 12, T0)
    pause_agent(store, "a4", by="ana", now=at)
    pause_agent(store, "a5", by="ana", now=at)
    _route(store, 13, 6, at)
    turns = ledger(store)
    assert {t.members for t in turns} == {("a1", "t-east", "a2")}
    assert [t.chosen for t in turns[:6]] == ["a1", "a2", "t-east", "a1", "a2", "t-east"]  # ring
    assert turns[-1].skipped == (("t-east", "team_unavailable"),)
    (rotation,) = rotations(turns)
    (phase,) = rotation.phases
    assert {n: s.picks for n, s in phase.shares.items()} == {"a1": 7, "t-east": 4, "a2": 7}
    assert phase.shares["t-east"].skip_text() == "6 team with nobody eligible"
    assert rotation.fair and phase.spread == 0  # a1 and a2, eligible on every turn
    store.close()
