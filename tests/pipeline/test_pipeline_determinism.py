"""Idempotency of lead ids and purity of decide."""

from __future__ import annotations

import copy
from pathlib import Path

from pipeline_helpers import T0, build, make_lead

from rulekit.pipeline import LeadReceived, OfferDeclined, StaticFacts, decide

SEQUENCE = """
policy: sequence
applies_to: {sources: [test-site]}
pools:
  five: {of: agents, members: [a-ann, a-bob, a-cat, a-dan, a-eve]}
rules:
  - name: offers
    steps:
      - offer_sequence: {pool: five, pick: random, attempts: 3, each_for: 1h, own: global}
      - notify: {template: fyi, to: [desk@example.com]}
      - queue: nobody
"""


def test_same_lead_id_twice_is_one_lead_with_one_set_of_offers(tmp_path: Path) -> None:
    env = build(tmp_path, SEQUENCE)
    first = env.submit("L1")
    second = env.submit("L1", inquiry_type="different")
    assert second == first
    assert list(env.store.lead_ids()) == ["L1"]
    assert len(env.offers()) == 1
    assert len(env.store.traces("L1")) == 1
    stored = env.store.get_lead("L1")
    assert stored is not None
    assert stored.inquiry_type == "general"


def test_decide_is_pure(tmp_path: Path) -> None:
    env = build(tmp_path, SEQUENCE)
    lead = make_lead("P1")
    facts = StaticFacts()
    event = LeadReceived(lead)
    one = decide(env.ruleset, env.world, facts, None, lead, event, T0)
    two = decide(env.ruleset, env.world, facts, None, lead, event, T0)
    assert one.state == two.state
    assert one.effects == two.effects
    assert one.trace.to_json() == two.trace.to_json()
    assert facts == StaticFacts()  # facts are only read

    # from a waiting state: the given state is not changed, and twice is the same
    state = one.state
    before = copy.deepcopy(state)
    assert state.pending is not None
    decline = OfferDeclined(state.pending.offer_id or "", state.pending.agents[0])
    three = decide(env.ruleset, env.world, facts, state, lead, decline, T0)
    four = decide(env.ruleset, env.world, facts, state, lead, decline, T0)
    assert state == before
    assert three.state == four.state
    assert three.effects == four.effects
    assert three.state.pending is not None
    assert three.state.pending.agents != state.pending.agents
