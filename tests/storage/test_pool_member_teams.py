"""``set_pool_members`` with teams: a team id is one member, and a team that cannot take a
turn of the rotation (RK316, as ``rulekit validate`` says it) is refused before anything is
stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rulekit.storage.catalog import InvalidEdit, active, load_files, set_pool_members
from rulekit.storage.memory import MemoryStore

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

WORLD = """\
rulekit: 1
world: teams
teams:
  - {id: team-led, members: [a1, a2], lead: a1}
  - {id: team-unled, members: [a3]}
  - {id: team-empty}
agents:
  - {id: a1, email: a1@example.com}
  - {id: a2, email: a2@example.com}
  - {id: a3, email: a3@example.com}
"""

RULES = """\
rulekit: 1
policy: web
applies_to: {sources: [web]}
pools:
  rotation: {of: agents, members: [a1, a2, a3]}
  by-lead: {of: agents, members: [a2], team_pick: lead}
rules:
  - name: rotate
    steps: [{round_robin: {pool: rotation}}, {round_robin: {pool: by-lead}}, {queue: desk}]
"""


def _store(tmp_path: Path) -> MemoryStore:
    (tmp_path / "web.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "world.yaml").write_text(WORLD, encoding="utf-8")
    store = MemoryStore()
    checked = load_files(store, tmp_path, tmp_path / "world.yaml", by="ana", now=T0)
    assert checked.ok, checked.diagnostics
    return store


def test_a_team_is_one_member_of_the_pool(tmp_path: Path) -> None:
    store = _store(tmp_path)
    set_pool_members(store, "rotation", ["a1", "team-unled"], by="bo", now=T0)
    rules = active(store).ruleset
    assert rules is not None and rules.pools["rotation"].members == ("a1", "team-unled")
    set_pool_members(store, "by-lead", ["a2", "team-led"], by="bo", now=T0)


@pytest.mark.parametrize(("pool", "team", "message"), [
    ("rotation", "team-empty", "RK316 team 'team-empty' has no members: it cannot take a turn "
                               "in pool 'rotation'"),
    ("by-lead", "team-unled", "RK316 team 'team-unled' has no lead: pool 'by-lead' gives a "
                              "team's turn to its lead (team_pick: lead)"),
])
def test_a_team_that_cannot_take_a_turn_is_refused(tmp_path: Path, pool: str, team: str,
                                                   message: str) -> None:
    store = _store(tmp_path)
    before = store.active_versions()
    with pytest.raises(InvalidEdit) as raised:
        set_pool_members(store, pool, ["a2", team], by="bo", now=T0)
    assert message in str(raised.value)
    assert store.active_versions() == before and len(store.audit()) == 1
