"""Teams as rotation members: a team id in a pool's ``members`` takes one turn, and the lead
goes to the team's lead or to the next member of the team's own rotation (see the docstring
of ``rulekit.pipeline.teams``)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_helpers import Env, compile_folder, engine_for, write_folder

from rulekit.ruleset import RuleSet
from rulekit.world import World

WORLD = """\
rulekit: 1
world: teams
teams:
  - {id: eteam, name: eTeam, members: [e-eli, e-emma], lead: e-emma}
  - {id: lteam, name: Lake team, lead: l-lou}
agents:
  - {id: a-ann, name: Ann Avery}
  - {id: a-bob, name: Bob Brown}
  - {id: q-quinn, name: Quinn Quill}
  - {id: e-eli, name: Eli Ek}
  - {id: e-emma, name: Emma Eng}
  - {id: e-ezra, name: Ezra Ely, teams: [eteam]}
  - {id: l-lou, name: Lou Lake, teams: [lteam]}
  - {id: l-lin, name: Lin Lake, teams: [lteam]}
"""

TEAM_MEMBERS = {"eteam": ("e-eli", "e-emma", "e-ezra"), "lteam": ("l-lin", "l-lou")}

RULES = """
policy: teams
applies_to: {sources: [test-site]}
pools:
  rot: {of: agents, members: [a-ann, eteam, q-quinn], exclude: [paused]}
  led: {of: agents, members: [a-ann, eteam, q-quinn], team_pick: lead, exclude: [paused]}
  seq: {of: agents, members: [a-ann, eteam], exclude: [paused, already_offered]}
  all: {of: agents, members: [a-ann, eteam], exclude: [paused]}
rules:
  - name: by-lead
    when: lead.inquiry_type == "lead"
    steps:
      - round_robin: {pool: led}
      - queue: {name: nobody, reason: nobody in the rotation}
  - name: sequence
    when: lead.inquiry_type == "sequence"
    steps:
      - offer_sequence: {pool: seq, pick: round_robin, each_for: 30m, attempts: 4}
      - queue: {name: nobody, reason: nobody took it}
  - name: draw
    when: lead.inquiry_type == "draw"
    steps:
      - offer_sequence: {pool: seq, pick: random, each_for: 30m, attempts: 1}
      - queue: {name: nobody, reason: nobody took it}
  - name: broadcast
    when: lead.inquiry_type == "broadcast"
    steps:
      - broadcast: {pool: all, for: 30m}
      - queue: {name: nobody, reason: nobody took it}
  - name: qualify
    when: lead.inquiry_type == "qualify"
    steps:
      - qualify:
          pool: rot
          mode: round_robin
          for: 30m
          verdicts:
            ready: [{queue: {name: ready, reason: qualified}}]
          on_timeout: [{queue: {name: nobody, reason: not qualified}}]
      - queue: {name: nobody, reason: no qualifier}
  - name: rotate
    steps:
      - round_robin: {pool: rot}
      - queue: {name: nobody, reason: nobody in the rotation}
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[RuleSet, World]:
    folder = write_folder(tmp_path_factory.mktemp("teams"), {"teams": RULES}, WORLD)
    return compile_folder(folder)


def with_paused(world: World, paused: set[str]) -> World:
    agents = [a.model_copy(update={"paused": a.id in paused}) for a in world.agents.values()]
    return World.build(world.name, agents=agents, teams=world.teams.values())


def with_members(ruleset: RuleSet, members: list[str]) -> RuleSet:
    pool = dataclasses.replace(ruleset.pools["rot"], members=tuple(members))
    return dataclasses.replace(ruleset, pools={**ruleset.pools, "rot": pool})


def run_leads(env: Env, prefix: str, n: int, kind: str = "rotate") -> list[str]:
    out = []
    for i in range(n):
        state = env.submit(f"{prefix}{i}", email=None, inquiry_type=kind)
        assert state.status == "assigned", state
        assert state.assignee is not None
        out.append(state.assignee)
    return out


def pick_texts(env: Env, lead_id: str) -> list[str]:
    return [e.text for t in env.store.traces(lead_id) for e in t.entries
            if e.kind in ("pick", "detail")]


def test_a_team_takes_one_turn_and_its_members_rotate(
        compiled: tuple[RuleSet, World]) -> None:
    """Members [a-ann, eteam, q-quinn]: the team is one member of the ring; its three agents
    (two listed by the team, one naming the team itself) take its turns in their order."""
    env = engine_for(*compiled)
    assert run_leads(env, "R", 9) == [
        "a-ann", "e-eli", "q-quinn",
        "a-ann", "e-emma", "q-quinn",
        "a-ann", "e-ezra", "q-quinn"]


def test_the_trace_says_the_team_took_the_turn_and_who_got_it(
        compiled: tuple[RuleSet, World]) -> None:
    env = engine_for(*compiled)
    run_leads(env, "R", 5)
    (text,) = pick_texts(env, "R4")
    assert text == ("Picked team eTeam (eteam), next in the rotation of 'rot' after a-ann; "
                    "team eTeam (eteam) took the turn: it goes to Emma Eng (e-emma), next in "
                    "the team's rotation after e-eli")
    (entry,) = [e for t in env.store.traces("R4") for e in t.entries if e.kind == "pick"]
    assert entry.data is not None
    assert entry.data["chosen"] == "e-emma"
    assert entry.data["team"] == "eteam"
    assert entry.data["team_rotation"] == "rot|team=eteam"
    assert entry.data["cursor"] == "a-ann"
    assert entry.data["members"] == ("a-ann", "eteam", "q-quinn")
    assert entry.data["eligible_members"] == ("a-ann", "eteam", "q-quinn")


def test_lead_rule_gives_every_team_turn_to_the_lead(compiled: tuple[RuleSet, World]) -> None:
    env = engine_for(*compiled)
    assert run_leads(env, "L", 6, "lead") == [
        "a-ann", "e-emma", "q-quinn", "a-ann", "e-emma", "q-quinn"]
    assert pick_texts(env, "L1")[0].endswith(
        "team eTeam (eteam) took the turn: it goes to Emma Eng (e-emma), the team's lead")


def test_paused_team_members_are_skipped_in_the_team_rotation(
        compiled: tuple[RuleSet, World]) -> None:
    ruleset, world = compiled
    env = engine_for(ruleset, with_paused(world, {"e-emma"}))
    assert run_leads(env, "P", 9) == [
        "a-ann", "e-eli", "q-quinn",
        "a-ann", "e-ezra", "q-quinn",
        "a-ann", "e-eli", "q-quinn"]
    assert pick_texts(env, "P4")[0].endswith(
        "it goes to Ezra Ely (e-ezra), next in the team's rotation after e-eli "
        "(passing over Emma Eng (e-emma) paused)")


def test_a_team_with_no_eligible_member_is_passed_over_with_the_reason(
        compiled: tuple[RuleSet, World]) -> None:
    ruleset, world = compiled
    env = engine_for(ruleset, with_paused(world, set(TEAM_MEMBERS["eteam"])))
    assert run_leads(env, "U", 4) == ["a-ann", "q-quinn", "a-ann", "q-quinn"]
    assert pick_texts(env, "U1")[0] == (
        "Team eTeam (eteam) was passed over: no eligible member (Eli Ek (e-eli) paused; "
        "Emma Eng (e-emma) paused; Ezra Ely (e-ezra) paused).")


def test_a_paused_lead_passes_the_team_over_under_the_lead_rule(
        compiled: tuple[RuleSet, World]) -> None:
    ruleset, world = compiled
    env = engine_for(ruleset, with_paused(world, {"e-emma"}))
    assert run_leads(env, "L", 3, "lead") == ["a-ann", "q-quinn", "a-ann"]
    assert pick_texts(env, "L1")[0] == (
        "Team eTeam (eteam) was passed over: its lead Emma Eng (e-emma) is paused.")


def test_everyone_unavailable_goes_on_to_the_next_step(
        compiled: tuple[RuleSet, World]) -> None:
    ruleset, world = compiled
    env = engine_for(ruleset, with_paused(world, {"a-ann", "q-quinn", *TEAM_MEMBERS["eteam"]}))
    state = env.submit("N1", email=None, inquiry_type="rotate")
    assert state.queue == "nobody"


def test_offer_sequence_takes_team_turns_and_skips_members_already_offered(
        compiled: tuple[RuleSet, World]) -> None:
    """Round robin over [a-ann, eteam] for one lead: every decline moves to the next member;
    the team's second turn goes to its next member, not again to the one who declined."""
    env = engine_for(*compiled)
    env.submit("S1", email=None, inquiry_type="sequence")
    offered = []
    for _ in range(4):
        offer = env.last_offer("S1")
        offered.append(offer.agents)
        env.engine.decline(offer.offer_id, offer.agents[0])
    assert offered == [("a-ann",), ("e-eli",), ("e-emma",), ("e-ezra",)]
    assert env.state("S1").queue == "nobody"


def test_a_random_draw_gives_a_team_one_chance(compiled: tuple[RuleSet, World]) -> None:
    """Over [a-ann, eteam] a draw picks the team about half the time (not three times in
    four, as it would if its three agents each had a chance); its turn goes to its next
    member in order."""
    env = engine_for(*compiled)
    got = []
    for i in range(200):
        env.submit(f"D{i}", email=None, inquiry_type="draw")
        got.append(env.last_offer(f"D{i}").agents[0])
    counts = Counter(got)
    assert set(counts) <= {"a-ann", *TEAM_MEMBERS["eteam"]}
    team = sum(counts[a] for a in TEAM_MEMBERS["eteam"])
    assert 70 <= team <= 130, counts
    team_offers = [a for a in got if a != "a-ann"]
    assert team_offers[:6] == ["e-eli", "e-emma", "e-ezra"] * 2


def test_a_broadcast_reaches_every_eligible_member_of_a_team(
        compiled: tuple[RuleSet, World]) -> None:
    ruleset, world = compiled
    env = engine_for(ruleset, with_paused(world, {"e-eli"}))
    env.submit("B1", email=None, inquiry_type="broadcast")
    assert sorted(env.last_offer("B1").agents) == ["a-ann", "e-emma", "e-ezra"]


def test_qualification_by_round_robin_gives_the_team_one_turn(
        compiled: tuple[RuleSet, World]) -> None:
    env = engine_for(*compiled)
    qualifiers = []
    for i in range(4):
        env.submit(f"Q{i}", email=None, inquiry_type="qualify")
        qualifiers.append(env.last_offer(f"Q{i}").agents)
    assert qualifiers == [("a-ann",), ("e-eli",), ("q-quinn",), ("a-ann",)]


def member_of(agent: str) -> str:
    return next((team for team, agents in TEAM_MEMBERS.items() if agent in agents), agent)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(members=st.lists(st.sampled_from(["a-ann", "a-bob", "q-quinn", "eteam", "lteam"]),
                        min_size=1, unique=True),
       n=st.integers(0, 30))
def test_every_member_agent_or_team_gets_its_share(
        compiled: tuple[RuleSet, World], members: list[str], n: int) -> None:
    """Over N leads each of the k members of a round robin, agent or team, gets ⌊N/k⌋ or
    ⌈N/k⌉ turns."""
    ruleset, world = compiled
    env = engine_for(with_members(ruleset, members), world)
    turns = Counter(member_of(a) for a in run_leads(env, "H", n))
    k = len(members)
    assert set(turns) <= set(members)
    for member in members:
        assert turns[member] in (n // k, -(-n // k)), (members, turns)


def test_a_rotation_of_one_team_serves_its_members_in_turn(
        compiled: tuple[RuleSet, World]) -> None:
    """Before teams took turns, a team id in ``members`` was dropped: a rotation of only a
    team held nobody."""
    ruleset, world = compiled
    env = engine_for(with_members(ruleset, ["eteam"]), world)
    assert run_leads(env, "T", 3) == ["e-eli", "e-emma", "e-ezra"]
