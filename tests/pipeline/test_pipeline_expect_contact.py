"""expect_contact: the first-contact SLA of an assigned lead, decided by the pure ``decide``.

Met (a contact before the deadline cancels the timer), missed (the timer fires: an audit
entry, the agent counted as already offered, the ``else`` steps), paused at the N-th miss,
and the hand-over from every kind of assignment (direct, rotation, accepted offer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from pipeline_helpers import OFFICE_HOURS, T0, compile_folder, make_lead, write_folder

from rulekit.pipeline import (
    ActivityLogged,
    Decision,
    LeadReceived,
    LeadState,
    OfferAccepted,
    StaticFacts,
    TimerFired,
    decide,
)
from rulekit.pipeline.effects import (
    AssignLead,
    CancelTimer,
    MakeOffer,
    PauseAgent,
    RecordAudit,
    RejectAction,
    ScheduleTimer,
    SendNotification,
)
from rulekit.ruleset import RuleSet
from rulekit.world import World

E = TypeVar("E")

ROTATION = """
policy: sla
applies_to: {sources: [test-site]}
pools:
  team:
    of: agents
    members: [a-ann, a-bob, a-cat]
    exclude: [paused, already_offered]
rules:
  - name: rotate
    steps:
      - round_robin: {pool: team}
      - expect_contact:
          within: 30m
          pause_after: 3
          else:
            - notify: {template: contact-missed, to: [manager@example.com]}
            - offer_sequence: {pool: team, attempts: 1, each_for: 20m}
            - expect_contact: {within: 15m}
    then: continue
  - name: desk
    steps: [{queue: desk}]
"""

DIRECT = """
policy: sla
applies_to: {sources: [test-site]}
rules:
  - name: listing
    when: listing != null
    steps:
      - assign: listing.listing_agent
      - expect_contact: {within: 30m}
    then: continue
  - name: desk
    steps: [{queue: desk}]
"""

OFFERED = f"""
policy: sla
applies_to: {{sources: [test-site]}}
{OFFICE_HOURS}
rules:
  - name: listing
    steps:
      - offer: {{to: '"a-ann"', for: 1h}}
      - expect_contact: {{within: 30 business_minutes, calendar: office-hours}}
    then: continue
  - name: desk
    steps: [{{queue: desk}}]
"""


class Lead:
    """One lead's decisions, each from the state the one before left."""

    def __init__(self, ruleset: RuleSet, world: World, facts: StaticFacts | None = None,
                 **fields: object) -> None:
        self.ruleset, self.world = ruleset, world
        self.facts = facts or StaticFacts()
        self.lead = make_lead("L1", **fields)  # type: ignore[arg-type]
        self.state: LeadState | None = None

    def event(self, event: object, at: datetime) -> Decision:
        decision = decide(self.ruleset, self.world, self.facts, self.state, self.lead,
                          event, at)  # type: ignore[arg-type]
        self.state = decision.state
        return decision

    def receive(self, at: datetime = T0) -> Decision:
        return self.event(LeadReceived(self.lead), at)


def compiled(tmp_path: Path, text: str) -> tuple[RuleSet, World]:
    return compile_folder(write_folder(tmp_path / "rules", {"policy": text}))


def of(decision: Decision, kind: type[E]) -> list[E]:
    return [e for e in decision.effects if isinstance(e, kind)]


def test_an_assignment_followed_by_expect_contact_waits_for_the_assignee(
        tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    decision = lead.receive()
    state = decision.state
    assert (state.status, state.assignee, state.contact) == ("assigned", "a-ann", "waiting")
    assert state.pending is not None and state.pending.mode == "contact"
    assert state.pending.agents == ("a-ann",)
    (timer,) = of(decision, ScheduleTimer)
    assert isinstance(timer, ScheduleTimer)
    assert (timer.due, timer.purpose) == (T0 + timedelta(minutes=30), "contact_deadline")
    assert [(e.agent, e.how) for e in of(decision, AssignLead)] == [("a-ann", "assigned")]
    assert "must log a contact with the consumer" in decision.trace.render()


def test_a_contact_before_the_deadline_meets_the_sla_and_cancels_its_timer(
        tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    timer = lead.receive().state.pending.timer_id  # type: ignore[union-attr]
    decision = lead.event(ActivityLogged("a-ann", "call"), T0 + timedelta(minutes=29))
    assert of(decision, CancelTimer) == [CancelTimer(str(timer))]
    state = decision.state
    assert (state.status, state.assignee, state.contact, state.pending) == (
        "assigned", "a-ann", "met", None)
    assert "SLA met" in decision.trace.render()
    # the timer, had it fired anyway, changes nothing
    late = lead.event(TimerFired(str(timer)), T0 + timedelta(minutes=30))
    assert late.effects == ()
    assert (late.state.assignee, late.state.contact) == ("a-ann", "met")


def test_a_missed_contact_runs_the_else_steps_without_the_missed_agent(
        tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    timer = lead.receive().state.pending.timer_id  # type: ignore[union-attr]
    decision = lead.event(TimerFired(str(timer)), T0 + timedelta(minutes=30))
    (audit,) = of(decision, RecordAudit)
    assert isinstance(audit, RecordAudit)
    assert (audit.actor, audit.action) == ("rulekit", "contact_missed")
    assert dict(audit.detail) == {"agent": "a-ann", "lead": "L1", "misses": 1,
                                  "deadline": (T0 + timedelta(minutes=30)).isoformat()}
    (alert,) = of(decision, SendNotification)
    assert isinstance(alert, SendNotification)
    assert (alert.template, alert.to) == ("contact-missed", ("manager@example.com",))
    (offer,) = of(decision, MakeOffer)
    assert isinstance(offer, MakeOffer)
    assert offer.agents != ("a-ann",)  # the missed agent counts as already offered
    state = decision.state
    assert (state.status, state.assignee, state.contact) == ("waiting", None, "missed")
    assert "a-ann" in state.offered
    assert state.position == (0, 1, "else", 1)
    assert of(decision, PauseAgent) == []
    # the next agent accepts: held to the else branch's own SLA
    accepted = lead.event(OfferAccepted(offer.offer_id, offer.agents[0]),
                          T0 + timedelta(minutes=35))
    assert accepted.state.position == (0, 1, "else", 2)
    assert accepted.state.pending is not None
    assert accepted.state.pending.deadline == T0 + timedelta(minutes=50)
    # the missed agent can no longer log a contact on it
    refused = lead.event(ActivityLogged("a-ann", "call"), T0 + timedelta(minutes=36))
    assert [type(e) for e in refused.effects] == [RejectAction]


def test_a_miss_with_nothing_after_it_goes_on_with_the_next_rule(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, DIRECT), property={"listing_id": "CMLS-1"})
    first = lead.receive()
    assert (first.state.assignee, first.state.contact) == ("a-ann", "waiting")
    timer = first.state.pending.timer_id  # type: ignore[union-attr]
    decision = lead.event(TimerFired(str(timer)), T0 + timedelta(minutes=30))
    assert (decision.state.status, decision.state.queue) == ("queued", "desk")
    assert decision.state.assignee is None


def test_the_nth_miss_pauses_the_agent(tmp_path: Path) -> None:
    ruleset, world = compiled(tmp_path, ROTATION)
    for before, paused in ((1, False), (2, True), (5, True)):
        lead = Lead(ruleset, world, StaticFacts(misses={"a-ann": before}))
        timer = lead.receive().state.pending.timer_id  # type: ignore[union-attr]
        decision = lead.event(TimerFired(str(timer)), T0 + timedelta(minutes=30))
        pauses = of(decision, PauseAgent)
        actions = [e.action for e in of(decision, RecordAudit)]
        if paused:
            (pause,) = pauses
            assert isinstance(pause, PauseAgent) and pause.agent == "a-ann"
            assert f"missed {before + 1} first contacts" in pause.reason
            assert actions == ["contact_missed", "contact_pause"]
            assert "is paused" in decision.trace.render()
        else:
            assert pauses == [] and actions == ["contact_missed"]
            assert "Miss 2 of 3" in decision.trace.render()


def test_an_accepted_offer_hands_over_to_expect_contact_in_business_time(
        tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, OFFERED))
    at = datetime(2026, 11, 24, 21, 40, tzinfo=UTC)  # 16:40 in New York: 20 minutes left
    offered = lead.receive(at)
    (offer,) = of(offered, MakeOffer)
    assert isinstance(offer, MakeOffer)
    decision = lead.event(OfferAccepted(offer.offer_id, "a-ann"), at + timedelta(minutes=5))
    state = decision.state
    assert (state.status, state.assignee, state.contact) == ("assigned", "a-ann", "waiting")
    assert state.position == (0, 1)
    # 15 business minutes today, 15 more when the office opens at 09:00 on Wednesday
    assert state.pending is not None
    assert state.pending.deadline == datetime(2026, 11, 25, 14, 15, tzinfo=UTC)
    assert "30 business_minutes of office-hours" in decision.trace.render()


def test_a_contact_after_the_deadline_does_not_meet_the_sla(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    timer = lead.receive().state.pending.timer_id  # type: ignore[union-attr]
    late = lead.event(ActivityLogged("a-ann", "email"), T0 + timedelta(minutes=31))
    assert of(late, CancelTimer) == []
    assert late.state.contact == "waiting"
    missed = lead.event(TimerFired(str(timer)), T0 + timedelta(minutes=30))
    assert missed.state.contact == "missed"


def test_another_agents_contact_is_refused_and_the_sla_keeps_waiting(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    lead.receive()
    decision = lead.event(ActivityLogged("a-bob", "call"), T0 + timedelta(minutes=5))
    assert [type(e) for e in decision.effects] == [RejectAction]
    assert decision.state.contact == "waiting"


def test_expect_contact_after_a_step_that_assigned_nobody_passes(tmp_path: Path) -> None:
    ruleset, world = compiled(tmp_path, OFFERED)
    lead = Lead(ruleset, world)
    at = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    (offer,) = of(lead.receive(at), MakeOffer)
    timer = lead.state.pending.timer_id  # type: ignore[union-attr]
    expired = lead.event(TimerFired(str(timer)), at + timedelta(hours=1))
    assert (expired.state.status, expired.state.queue) == ("queued", "desk")
    assert "nobody holds the lead" in expired.trace.render()
    assert isinstance(offer, MakeOffer)


def test_the_same_inputs_decide_the_same_miss(tmp_path: Path) -> None:
    ruleset, world = compiled(tmp_path, ROTATION)
    runs = []
    for _ in range(2):
        lead = Lead(ruleset, world)
        timer = lead.receive().state.pending.timer_id  # type: ignore[union-attr]
        runs.append(lead.event(TimerFired(str(timer)), T0 + timedelta(minutes=30)))
    assert runs[0].effects == runs[1].effects
    assert runs[0].state == runs[1].state
