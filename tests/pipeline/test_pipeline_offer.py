"""offer: accept, decline, expiry by tick, and business-time deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline_helpers import OFFICE_HOURS, T0, assignees, build, queue_names

from rulekit.pipeline.effects import RejectAction

OFFER = """
policy: listing-first
applies_to: {sources: [test-site]}
rules:
  - name: listing-agent
    when: listing != null
    steps:
      - offer:
          to: listing.listing_agent
          for: 1h
          own: global
          notify: {template: pending-lead, to: [offered]}
      - queue: {name: after-offer, reason: listing agent did not accept}
  - name: other
    steps: [{queue: other}]
"""


def test_accepted_offer_assigns_the_lead(tmp_path: Path) -> None:
    env = build(tmp_path, OFFER)
    state = env.submit("L1", property={"listing_id": "CMLS-1"})
    assert state.status == "waiting"
    assert state.pending is not None
    assert state.pending.agents == ("a-ann",)
    offer = env.last_offer()
    assert (offer.agents, offer.status, offer.deadline) == (("a-ann",), "open",
                                                            T0 + timedelta(hours=1))
    (message,) = env.store.outbox()
    assert (message.template, message.to) == ("pending-lead", ("a-ann",))
    env.later(minutes=10)
    decision = env.engine.accept(offer.offer_id, "a-ann")
    assert (decision.state.status, decision.state.assignee) == ("assigned", "a-ann")
    assert assignees(env.store) == [("a-ann", "accepted")]
    assert env.last_offer().status == "accepted"
    assert env.last_offer().winner == "a-ann"
    contact = env.store.contact("email:new.buyer@example.com")
    assert contact is not None
    assert contact.owner == "a-ann"
    assert env.store.next_timer_due() is None  # the deadline timer is cancelled
    # the deadline passing later changes nothing
    assert all(d.state.status == "assigned" for d in env.engine.tick(T0 + timedelta(hours=2)))
    assert env.state().assignee == "a-ann"


def test_declined_offer_goes_on_with_the_next_step(tmp_path: Path) -> None:
    env = build(tmp_path, OFFER)
    env.submit("L1", property={"listing_id": "CMLS-1"})
    offer = env.last_offer()
    decision = env.engine.decline(offer.offer_id, "a-ann")
    assert decision.state.status == "queued"
    assert queue_names(env.store) == ["after-offer"]
    assert env.last_offer().status == "declined"
    assert env.store.assignments() == []
    # a late accept is rejected
    late = env.engine.accept(offer.offer_id, "a-ann")
    assert any(isinstance(e, RejectAction) for e in late.effects)
    assert env.state().status == "queued"


def test_accept_by_an_agent_not_offered_is_rejected(tmp_path: Path) -> None:
    env = build(tmp_path, OFFER)
    env.submit("L1", property={"listing_id": "CMLS-1"})
    offer = env.last_offer()
    decision = env.engine.accept(offer.offer_id, "a-bob")
    assert [type(e) for e in decision.effects] == [RejectAction]
    assert env.state().status == "waiting"


def test_offer_expires_on_tick_and_routing_goes_on(tmp_path: Path) -> None:
    env = build(tmp_path, OFFER)
    env.submit("L1", property={"listing_id": "CMLS-1"})
    assert env.engine.tick(T0 + timedelta(minutes=59)) == []
    assert env.state().status == "waiting"
    decisions = env.engine.tick(T0 + timedelta(hours=1))
    assert len(decisions) == 1
    assert env.state().status == "queued"
    assert queue_names(env.store) == ["after-offer"]
    assert env.last_offer().status == "expired"
    # an accept after expiry is rejected
    late = env.engine.accept(env.last_offer().offer_id, "a-ann",
                             now=T0 + timedelta(hours=1, minutes=1))
    assert any(isinstance(e, RejectAction) for e in late.effects)
    assert env.store.assignments() == []


def test_offer_to_a_paused_agent_passes(tmp_path: Path) -> None:
    env = build(tmp_path, """
        policy: paused
        applies_to: {sources: [test-site]}
        rules:
          - name: offer-pam
            steps:
              - offer: {to: '"a-pam"', for: 1h}
              - queue: skipped
        """)
    state = env.submit("L1")
    assert state.queue == "skipped"
    assert env.offers() == []


BUSINESS = OFFICE_HOURS + """
policy: business
applies_to: {sources: [test-site]}
rules:
  - name: listing-agent
    steps:
      - offer:
          to: '"a-ann"'
          for: 2 business_hours
          calendar: office-hours
      - queue: {name: expired, reason: no answer}
"""

#: Friday 2026-12-04 16:00 in New York (EST, UTC-5).
FRIDAY_1600 = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
#: Monday 2026-12-07 10:00 in New York.
MONDAY_1000 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_business_time_deadline_skips_the_weekend(tmp_path: Path) -> None:
    env = build(tmp_path, BUSINESS, now=FRIDAY_1600)
    state = env.submit("L1")
    assert state.pending is not None
    assert state.pending.deadline == MONDAY_1000
    assert env.last_offer().deadline == MONDAY_1000
    assert env.store.next_timer_due() == MONDAY_1000
    # Friday 17:00, Saturday, Sunday and Monday 09:59 are before the deadline
    for before in (FRIDAY_1600 + timedelta(hours=1), FRIDAY_1600 + timedelta(days=1),
                   FRIDAY_1600 + timedelta(days=2), MONDAY_1000 - timedelta(minutes=1)):
        assert env.engine.tick(before) == []
        assert env.state().status == "waiting"
    (decision,) = env.engine.tick(MONDAY_1000)
    assert decision.state.status == "queued"
    assert env.last_offer().status == "expired"
    assert queue_names(env.store) == ["expired"]
