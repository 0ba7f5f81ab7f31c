"""round_robin: a fair, persistent rotation (see the docstring of
``rulekit.pipeline.strategies``)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_helpers import ACTIVE_AGENTS, Env, build, compile_folder, engine_for, write_folder

from rulekit.ruleset import RuleSet
from rulekit.world import World

ROTATION = """
policy: rotation
applies_to: {sources: [test-site]}
pools:
  rot: {of: agents, members: [a-ann, a-bob, a-cat]}
  office-agents: {of: agents, offices: [lead.office]}
rules:
  - name: by-office
    when: lead.office != null
    steps:
      - round_robin: {pool: office-agents}
      - queue: empty-office
  - name: rotate
    steps:
      - round_robin: {pool: rot, own: global}
      - queue: {name: nobody, reason: everyone paused}
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[RuleSet, World]:
    folder = write_folder(tmp_path_factory.mktemp("rr"), {"rotation": ROTATION})
    return compile_folder(folder)


def with_members(ruleset: RuleSet, members: list[str]) -> RuleSet:
    """The rule set after an admin edits the rotation's member list."""
    pool = dataclasses.replace(ruleset.pools["rot"], members=tuple(members))
    return dataclasses.replace(ruleset, pools={**ruleset.pools, "rot": pool})


def with_paused(world: World, paused: set[str]) -> World:
    agents = [a.model_copy(update={"paused": a.id in paused}) for a in world.agents.values()]
    return World.build(world.name, agents=agents, offices=world.offices.values(),
                       teams=world.teams.values(), listings=world.listings.values(),
                       contacts=world.contacts.values(), calendars=world.calendars)


def run_leads(env: Env, prefix: str, n: int) -> list[str]:
    out = []
    for i in range(n):
        state = env.submit(f"{prefix}{i}", email=None)
        assert state.status == "assigned", state
        assert state.assignee is not None
        out.append(state.assignee)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(1, len(ACTIVE_AGENTS)), n=st.integers(0, 40))
def test_fixed_members_share_leads_evenly(compiled: tuple[RuleSet, World], k: int,
                                          n: int) -> None:
    ruleset, world = compiled
    env = engine_for(with_members(ruleset, list(ACTIVE_AGENTS[:k])), world)
    counts = Counter(run_leads(env, "F", n))
    for agent in ACTIVE_AGENTS[:k]:
        assert counts[agent] in (n // k, -(-n // k)), counts
    assert set(counts) <= set(ACTIVE_AGENTS[:k])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), k=st.integers(3, len(ACTIVE_AGENTS) - 1),
       n1=st.integers(0, 12), n2=st.integers(0, 12), n3=st.integers(0, 12))
def test_members_present_throughout_stay_within_one_lead(
        compiled: tuple[RuleSet, World], data: st.DataObject, k: int, n1: int, n2: int,
        n3: int) -> None:
    """Pausing, adding and removing members mid-rotation: the members present and eligible
    all along are still served in turn (max - min <= 1 among them)."""
    ruleset, world = compiled
    members = list(ACTIVE_AGENTS[:k])
    newcomer = ACTIVE_AGENTS[k]
    paused = set(data.draw(st.lists(st.sampled_from(members), max_size=k - 2, unique=True)))
    removed = data.draw(st.sampled_from(members))
    insert_at = data.draw(st.integers(0, k - 1))

    steady = [m for m in members if m not in paused and m != removed]
    counts: Counter[str] = Counter()
    history: list[str] = []

    def serve(env: Env, prefix: str, n: int) -> None:
        for i in range(n):
            (agent,) = run_leads(env, f"{prefix}{i}-", 1)
            counts[agent] += 1
            history.append(agent)
            shares = [counts[m] for m in steady]
            assert max(shares) - min(shares) <= 1, (history, steady)

    env = engine_for(with_members(ruleset, members), world)
    serve(env, "A", n1)
    serve(env.fresh(world=with_paused(world, paused)), "B", n2)
    later = [m for m in members if m != removed]
    later.insert(insert_at, newcomer)
    serve(env.fresh(world=world, ruleset=with_members(ruleset, later)), "C", n3)


def test_paused_member_loses_turns_and_rejoins_in_place(
        compiled: tuple[RuleSet, World]) -> None:
    ruleset, world = compiled
    env = engine_for(ruleset, world)
    assert run_leads(env, "A", 1) == ["a-ann"]
    paused = env.fresh(world=with_paused(world, {"a-bob"}))
    assert run_leads(paused, "B", 3) == ["a-cat", "a-ann", "a-cat"]
    back = paused.fresh(world=world)
    assert run_leads(back, "C", 4) == ["a-ann", "a-bob", "a-cat", "a-ann"]


def test_added_member_joins_at_their_place_in_the_order(
        compiled: tuple[RuleSet, World]) -> None:
    """The ring is ordered by agent id, whatever order the admin lists members in: a-dan,
    added after a-ann in the list, takes their place after a-cat on the ring."""
    ruleset, world = compiled
    env = engine_for(ruleset, world)
    assert run_leads(env, "A", 1) == ["a-ann"]
    grown = env.fresh(ruleset=with_members(ruleset, ["a-ann", "a-dan", "a-bob", "a-cat"]))
    assert run_leads(grown, "B", 5) == ["a-bob", "a-cat", "a-dan", "a-ann", "a-bob"]


def test_removing_the_cursor_agent_keeps_the_next_agent_next(
        compiled: tuple[RuleSet, World]) -> None:
    """Cursor on a-bob (index 1 of ann, bob, cat, dan); bob leaves the rotation.  "The
    rotation goes on from the same index": cat, now at index 1 and next in line all along,
    gets the next lead; dan must not jump the queue."""
    ruleset, world = compiled
    env = engine_for(with_members(ruleset, ["a-ann", "a-bob", "a-cat", "a-dan"]), world)
    assert run_leads(env, "A", 2) == ["a-ann", "a-bob"]
    shrunk = env.fresh(ruleset=with_members(ruleset, ["a-ann", "a-cat", "a-dan"]))
    assert run_leads(shrunk, "B", 3) == ["a-cat", "a-dan", "a-ann"]


def test_everyone_paused_passes_to_the_next_step(compiled: tuple[RuleSet, World]) -> None:
    ruleset, world = compiled
    env = engine_for(ruleset, with_paused(world, {"a-ann", "a-bob", "a-cat"}))
    state = env.submit("L1")
    assert state.queue == "nobody"


def test_cursor_persists_across_engines_sharing_a_store(
        compiled: tuple[RuleSet, World]) -> None:
    ruleset, world = compiled
    env = engine_for(ruleset, world)
    assert run_leads(env, "A", 2) == ["a-ann", "a-bob"]
    restarted = env.fresh()  # a new Engine (another worker, a restart) on the same store
    assert restarted.engine is not env.engine
    assert run_leads(restarted, "B", 2) == ["a-cat", "a-ann"]
    other_store = engine_for(ruleset, world)  # a different store starts its own rotation
    assert run_leads(other_store, "C", 1) == ["a-ann"]


def test_rotation_over_the_lead_office_is_fair_within_each_office(tmp_path: Path) -> None:
    """A pool of ``offices: [lead.office]`` holds different agents for each office; with a
    fixed set of agents per office, each office's agents share its leads evenly."""
    env = build(tmp_path, ROTATION)
    got: dict[str, list[str]] = {"o-big": [], "o-small": []}
    for i in range(20):
        office = "o-big" if i % 2 == 0 else "o-small"
        state = env.submit(f"O{i}", office=office, email=None)
        assert state.assignee is not None
        got[office].append(state.assignee)
    for office, agents in got.items():
        counts = Counter(agents)
        assert sorted(counts.values()) == [5, 5], (office, agents)
