"""offer_sequence: no repeats, until_accepted, expiry chains, pick strategies, determinism."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pipeline_helpers import T0, Env, build, engine_for, queue_names

POOL5 = ["a-ann", "a-bob", "a-cat", "a-dan", "a-eve"]


def _sequence(attempts: str, pick: str = "random", extra: str = "", each_for: str = "1h") -> str:
    return f"""
policy: sequence
applies_to: {{sources: [test-site]}}
pools:
  five: {{of: agents, members: [a-ann, a-bob, a-cat, a-dan, a-eve, a-pam]}}
rules:
  - name: offers
    steps:
      - offer_sequence:
          pool: five
          pick: {pick}
          attempts: {attempts}
          each_for: {each_for}
          own: global
          {extra}
    then: continue
  - name: nobody
    steps: [{{queue: {{name: nobody, reason: no agent accepted}}}}]
"""


def _decline_all(env: Env, lead_id: str = "L1", limit: int = 20) -> list[str]:
    offered: list[str] = []
    for _ in range(limit):
        state = env.state(lead_id)
        if state.status != "waiting":
            break
        offer = env.last_offer(lead_id)
        offered.append(offer.agents[0])
        env.engine.decline(offer.offer_id, offer.agents[0])
    return offered


@pytest.mark.parametrize("lead_id", ["L1", "L2", "L3", "lead-xyz", "42"])
def test_random_attempts_never_repeat_an_agent(tmp_path: Path, lead_id: str) -> None:
    env = build(tmp_path, _sequence("5"))
    env.submit(lead_id)
    offered = _decline_all(env, lead_id)
    assert len(offered) == 5
    assert sorted(offered) == sorted(POOL5)  # all different; paused a-pam never offered
    assert env.state(lead_id).queue == "nobody"


def test_fewer_attempts_than_agents_stops_after_n_offers(tmp_path: Path) -> None:
    env = build(tmp_path, _sequence("3"))
    env.submit("L1")
    offered = _decline_all(env)
    assert len(offered) == 3
    assert len(set(offered)) == 3
    assert env.state().queue == "nobody"


def test_until_accepted_stops_when_every_agent_was_offered(tmp_path: Path) -> None:
    env = build(tmp_path, _sequence("until_accepted"))
    env.submit("L1")
    offered = _decline_all(env)
    assert sorted(offered) == sorted(POOL5)
    assert env.state().queue == "nobody"
    assert len(env.offers()) == 5


def test_accept_in_the_middle_of_a_sequence_assigns(tmp_path: Path) -> None:
    env = build(tmp_path, _sequence("until_accepted"))
    env.submit("L1")
    first = env.last_offer()
    env.engine.decline(first.offer_id, first.agents[0])
    second = env.last_offer()
    assert second.agents != first.agents
    decision = env.engine.accept(second.offer_id, second.agents[0])
    assert (decision.state.status, decision.state.assignee) == ("assigned", second.agents[0])
    assert len(env.offers()) == 2


def test_expiry_chain_of_three_offers_then_next_rule(tmp_path: Path) -> None:
    env = build(tmp_path, _sequence("3"))
    env.submit("L1")
    for n in range(1, 4):
        assert len(env.offers()) == n
        assert env.last_offer().deadline == T0 + timedelta(hours=n)
        assert env.engine.tick(T0 + timedelta(hours=n, seconds=-1)) == []
        (decision,) = env.engine.tick(T0 + timedelta(hours=n))
        assert env.offers()[n - 1].status == "expired"
    assert decision.state.status == "queued"
    assert queue_names(env.store) == ["nobody"]
    assert len({o.agents for o in env.offers()}) == 3


def test_one_late_tick_replays_the_whole_expiry_chain(tmp_path: Path) -> None:
    """``Engine.tick`` fires every timer due at ``now`` and, per its comment, "a late tick
    replays the chain exactly": timers scheduled by the fired ones and already due fire too."""
    env = build(tmp_path, _sequence("3"))
    env.submit("L1")
    env.engine.tick(T0 + timedelta(hours=10))
    assert [o.status for o in env.offers()] == ["expired"] * 3
    assert [o.created_at for o in env.offers()] == [T0 + timedelta(hours=n) for n in range(3)]
    assert env.state().status == "queued"
    assert queue_names(env.store) == ["nobody"]


def test_weighted_pick_follows_the_weight_expression(tmp_path: Path) -> None:
    # weights: a-ann 3 zips, a-bob 1, a-dan 1, a-eve 1, a-cat 0 (never picked)
    env = build(tmp_path, _sequence("1", "weighted", "weight: len(agent.zips)"))
    n = 3000
    for i in range(n):
        env.submit(f"W{i}")
    firsts = Counter(o.agents[0] for o in env.store.offers())
    assert firsts["a-cat"] == 0
    assert firsts["a-pam"] == 0
    expected = {"a-ann": 0.5, "a-bob": 1 / 6, "a-dan": 1 / 6, "a-eve": 1 / 6}
    for agent, share in expected.items():
        tolerance = 5 * math.sqrt(share * (1 - share) / n)  # 5 standard deviations
        assert abs(firsts[agent] / n - share) < tolerance, (agent, firsts)


def test_weighted_pick_with_all_zero_weights_still_offers(tmp_path: Path) -> None:
    env = build(tmp_path, _sequence("1", "weighted", 'weight: "0"'))
    state = env.submit("L1")
    assert state.status == "waiting"


def test_least_recently_offered_picks_the_longest_waiting_agent(tmp_path: Path) -> None:
    env = build(tmp_path, _sequence("1", "least_recently_offered"))
    picks = []
    for i in range(7):
        env.later(minutes=1)
        env.submit(f"R{i}")
        picks.append(env.last_offer(f"R{i}").agents[0])
    # never offered first (pool order), then by oldest offer
    assert picks == [*POOL5, "a-ann", "a-bob"]


def test_least_recently_offered_counts_offers_of_other_leads(tmp_path: Path) -> None:
    env = build(tmp_path, _sequence("until_accepted", "least_recently_offered"))
    env.later(minutes=1)
    env.submit("X")
    assert env.last_offer("X").agents == ("a-ann",)
    env.later(minutes=1)
    env.engine.decline(env.last_offer("X").offer_id, "a-ann")
    assert env.last_offer("X").agents == ("a-bob",)
    env.later(minutes=1)
    env.submit("Y")
    assert env.last_offer("Y").agents == ("a-cat",)


@pytest.mark.parametrize("pick", ["random", "weighted", "least_recently_offered"])
def test_picks_are_deterministic_given_the_lead_id(tmp_path: Path, pick: str) -> None:
    extra = "weight: len(agent.zips) + 1" if pick == "weighted" else ""
    first = build(tmp_path, _sequence("until_accepted", pick, extra))
    second = engine_for(first.ruleset, first.world)
    runs = []
    for env in (first, second):
        env.submit("same-lead-id")
        runs.append(_decline_all(env, "same-lead-id"))
    assert runs[0] == runs[1]
    assert len(runs[0]) == 5


def test_random_picks_differ_between_lead_ids(tmp_path: Path) -> None:
    env = build(tmp_path, _sequence("1"))
    for i in range(40):
        env.submit(f"D{i}")
    assert len({o.agents[0] for o in env.store.offers()}) > 1
