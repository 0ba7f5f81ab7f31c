"""broadcast: everyone eligible at once; first accept wins; all decline or expiry go on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline_helpers import T0, assignees, build, queue_names

from rulekit.pipeline.effects import RejectAction

BROADCAST = """
policy: blast
applies_to: {sources: [test-site]}
pools:
  charlotte:
    of: agents
    match: {mls: lead.property.mls}
rules:
  - name: last-chance
    steps:
      - broadcast:
          pool: charlotte
          for: 30m
          own: global
          notify:
            template: last-chance
            subject: LeadStreet Pending Lead – Last Chance Offer
            to: [offered]
            cc: [desk@example.com]
    then: continue
  - name: nobody
    steps: [{queue: {name: unclaimed, reason: nobody claimed the lead}}]
"""

CHARLOTTE = ("a-ann", "a-bob", "a-cat", "a-dan", "a-eve")


def test_every_eligible_agent_is_offered_at_once(tmp_path: Path) -> None:
    env = build(tmp_path, BROADCAST)
    state = env.submit("L1", property={"mls": "CMLS"})
    assert state.status == "waiting"
    (offer,) = env.offers()
    assert sorted(offer.agents) == sorted(CHARLOTTE)  # paused a-pam and TMLS agents left out
    assert offer.mode == "broadcast"
    assert offer.deadline == T0 + timedelta(minutes=30)
    (message,) = env.store.outbox()
    assert message.subject == "LeadStreet Pending Lead – Last Chance Offer"
    assert sorted(message.to) == sorted(CHARLOTTE)
    assert message.cc == ("desk@example.com",)
    assert "1 paused (a-pam)" in env.engine.explain("L1")


def test_two_competing_accepts_have_exactly_one_winner(tmp_path: Path) -> None:
    env = build(tmp_path, BROADCAST)
    env.submit("L1", property={"mls": "CMLS"})
    offer = env.last_offer()
    first = env.engine.accept(offer.offer_id, "a-cat")
    second = env.engine.accept(offer.offer_id, "a-dan")
    assert (first.state.status, first.state.assignee) == ("assigned", "a-cat")
    assert [type(e) for e in second.effects] == [RejectAction]
    assert second.effects[0].agent == "a-dan"  # type: ignore[union-attr]
    assert "another agent already has the lead" in second.effects[0].reason  # type: ignore[union-attr]
    assert assignees(env.store) == [("a-cat", "claimed (first to accept the broadcast)")]
    assert env.state().assignee == "a-cat"
    assert env.last_offer().winner == "a-cat"


def test_accepts_from_the_same_stale_state_commit_one_winner(tmp_path: Path) -> None:
    """Two workers decide on the same state; the store lets only one commit."""
    from rulekit.pipeline import OfferAccepted, decide
    from rulekit.storage.base import StaleState

    env = build(tmp_path, BROADCAST)
    env.submit("L1", property={"mls": "CMLS"})
    offer = env.last_offer()
    state = env.state()
    lead = env.store.get_lead("L1")
    assert lead is not None
    decisions = [decide(env.ruleset, env.world, env.store.facts(), state, lead,
                        OfferAccepted(offer.offer_id, agent), T0) for agent in ("a-ann", "a-bob")]
    env.store.commit("L1", state.serial, decisions[0].state, decisions[0].effects,
                     decisions[0].trace, T0)
    try:
        env.store.commit("L1", state.serial, decisions[1].state, decisions[1].effects,
                         decisions[1].trace, T0)
    except StaleState:
        pass
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("the second accept was committed")
    assert assignees(env.store) == [("a-ann", "claimed (first to accept the broadcast)")]


def test_all_decline_goes_on_with_the_next_step(tmp_path: Path) -> None:
    env = build(tmp_path, BROADCAST)
    env.submit("L1", property={"mls": "CMLS"})
    offer = env.last_offer()
    for agent in CHARLOTTE[:-1]:
        decision = env.engine.decline(offer.offer_id, agent)
        assert decision.state.status == "waiting"
    # a second decline by the same agent does not count twice
    again = env.engine.decline(offer.offer_id, CHARLOTTE[0])
    assert [type(e) for e in again.effects] == [RejectAction]
    assert env.state().status == "waiting"
    env.engine.decline(offer.offer_id, CHARLOTTE[-1])
    assert env.state().status == "queued"
    assert queue_names(env.store) == ["unclaimed"]
    assert env.last_offer().status == "declined"


def test_deadline_expiry_goes_on_with_the_next_step(tmp_path: Path) -> None:
    env = build(tmp_path, BROADCAST)
    env.submit("L1", property={"mls": "CMLS"})
    env.engine.decline(env.last_offer().offer_id, "a-ann")
    assert env.engine.tick(T0 + timedelta(minutes=29)) == []
    env.engine.tick(T0 + timedelta(minutes=30))
    assert env.state().status == "queued"
    assert queue_names(env.store) == ["unclaimed"]
    assert env.last_offer().status == "expired"
    late = env.engine.accept(env.last_offer().offer_id, "a-bob")
    assert [type(e) for e in late.effects] == [RejectAction]
    assert env.store.assignments() == []


def test_empty_pool_passes(tmp_path: Path) -> None:
    env = build(tmp_path, BROADCAST)
    state = env.submit("L1", property={"mls": "NOPE"})
    assert state.queue == "unclaimed"
    assert env.offers() == []
