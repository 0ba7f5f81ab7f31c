"""expect_contact and an administrator's reassignment, decided by the pure ``decide``.

A lead waiting for its assignee's first contact keeps its SLA when an administrator reassigns
it: the new assignee gets the same window from the reassignment (in the same calendar), a
miss is theirs (the ``else`` steps, ``pause_after``); reassigned to the agent the SLA already
holds, it runs on unchanged; an SLA met or missed before is not started again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline_helpers import T0
from test_pipeline_expect_contact import DIRECT, OFFERED, ROTATION, Lead, compiled, of

from rulekit.pipeline import ActivityLogged, AdminReassign, OfferAccepted, StaticFacts, TimerFired
from rulekit.pipeline.effects import (
    AssignLead,
    CancelTimer,
    MakeOffer,
    PauseAgent,
    RecordAudit,
    ScheduleTimer,
)

MINUTE = timedelta(minutes=1)


def test_the_sla_follows_a_reassignment_with_a_fresh_window(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    old = lead.receive().state.pending.timer_id  # type: ignore[union-attr]
    decision = lead.event(AdminReassign("a-bob", "admin"), T0 + 10 * MINUTE)
    assert CancelTimer(str(old)) in decision.effects
    assert [(e.agent, e.how) for e in of(decision, AssignLead)] == [("a-bob", "reassigned")]
    (timer,) = of(decision, ScheduleTimer)
    assert (timer.due, timer.purpose) == (T0 + 40 * MINUTE, "contact_deadline")
    state = decision.state
    assert (state.status, state.assignee, state.contact) == ("assigned", "a-bob", "waiting")
    assert state.pending is not None
    assert (state.pending.mode, state.pending.agents, state.pending.timer_id) == (
        "contact", ("a-bob",), timer.timer_id)
    assert state.position == (0, 1)  # still at the expect_contact step
    text = decision.trace.render()
    assert "The first-contact SLA follows the lead: Bob Brown (a-bob) must log a contact" in text
    assert "30m from the reassignment" in text and "Ann Avery (a-ann) is no longer held" in text
    (line,) = [e for e in decision.trace.to_json()["entries"]
               if (e["data"] or {}).get("sla") == "reassigned"]
    assert line["data"]["from"] == "a-ann" and line["data"]["agent"] == "a-bob"
    # the first assignee's timer no longer decides anything
    stale = lead.event(TimerFired(str(old)), T0 + 30 * MINUTE)
    assert stale.effects == () and stale.state.assignee == "a-bob"


def test_the_new_assignee_meets_the_followed_sla(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    lead.receive()
    timer = of(lead.event(AdminReassign("a-bob", "admin"), T0 + 10 * MINUTE), ScheduleTimer)[0]
    refused = lead.event(ActivityLogged("a-ann", "call"), T0 + 12 * MINUTE)
    assert refused.state.contact == "waiting"
    met = lead.event(ActivityLogged("a-bob", "call"), T0 + 35 * MINUTE)
    assert of(met, CancelTimer) == [CancelTimer(timer.timer_id)]
    assert (met.state.assignee, met.state.contact, met.state.pending) == ("a-bob", "met", None)


def test_a_miss_after_a_reassignment_is_the_new_assignees(tmp_path: Path) -> None:
    ruleset, world = compiled(tmp_path, ROTATION)
    lead = Lead(ruleset, world, StaticFacts(misses={"a-bob": 2}))
    lead.receive()
    timer = of(lead.event(AdminReassign("a-bob", "admin"), T0 + 10 * MINUTE), ScheduleTimer)[0]
    decision = lead.event(TimerFired(timer.timer_id), T0 + 40 * MINUTE)
    missed = [e for e in of(decision, RecordAudit) if e.action == "contact_missed"]
    assert [dict(e.detail)["agent"] for e in missed] == ["a-bob"]
    assert [p.agent for p in of(decision, PauseAgent)] == ["a-bob"]  # pause_after: 3
    state = decision.state
    assert (state.contact, state.position) == ("missed", (0, 1, "else", 1))
    assert "a-bob" in state.offered and "a-ann" not in state.offered
    (offer,) = of(decision, MakeOffer)
    assert "a-bob" not in offer.agents  # the else steps pass the missed agent over


def test_a_followed_business_sla_counts_in_the_same_calendar(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, OFFERED))
    at = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # 16:00 in New York
    (offer,) = of(lead.receive(at), MakeOffer)
    lead.event(OfferAccepted(offer.offer_id, "a-ann"), at + 5 * MINUTE)
    decision = lead.event(AdminReassign("a-bob", "admin"), at + 50 * MINUTE)  # 16:50
    # 10 business minutes today, 20 more from 09:00 on Wednesday
    (timer,) = of(decision, ScheduleTimer)
    assert timer.due == datetime(2026, 11, 25, 14, 20, tzinfo=UTC)
    assert "30 business_minutes from the reassignment of office-hours" in (
        decision.trace.render())


def test_a_reassignment_to_the_agent_it_holds_keeps_the_deadline(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    first = lead.receive().state.pending
    decision = lead.event(AdminReassign("a-ann", "admin"), T0 + 20 * MINUTE)
    assert decision.effects == ()
    assert decision.state.pending == first and decision.state.contact == "waiting"
    assert "already holds the lead: the first-contact SLA runs on, its deadline unchanged" in (
        decision.trace.render())


def test_a_met_sla_stays_met_after_a_reassignment(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, ROTATION))
    lead.receive()
    lead.event(ActivityLogged("a-ann", "call"), T0 + 5 * MINUTE)
    decision = lead.event(AdminReassign("a-bob", "admin"), T0 + 10 * MINUTE)
    assert of(decision, ScheduleTimer) == []
    assert (decision.state.assignee, decision.state.contact, decision.state.pending) == (
        "a-bob", "met", None)


def test_a_missed_sla_is_not_started_again_by_a_reassignment(tmp_path: Path) -> None:
    lead = Lead(*compiled(tmp_path, DIRECT), property={"listing_id": "CMLS-1"})
    timer = lead.receive().state.pending.timer_id  # type: ignore[union-attr]
    queued = lead.event(TimerFired(str(timer)), T0 + 30 * MINUTE)
    assert (queued.state.queue, queued.state.contact) == ("desk", "missed")
    decision = lead.event(AdminReassign("a-bob", "admin"), T0 + 40 * MINUTE)
    assert of(decision, ScheduleTimer) == []
    assert (decision.state.status, decision.state.assignee, decision.state.contact) == (
        "assigned", "a-bob", "missed")
