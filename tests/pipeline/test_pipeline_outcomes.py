"""queue, notify, drop and hold; the outbox and its delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline_helpers import OFFICE_HOURS, T0, build, make_lead, queue_names

from rulekit.engine import Engine, LogNotifier

OUTCOMES = """
policy: outcomes
applies_to: {sources: [test-site]}
rules:
  - name: spam
    when: lead.attributes.spam == true
    steps: [{drop: {reason: spam filter}}]
  - name: owner-alert
    steps:
      - attach_to_owner:
          scope: global
          notify: {template: activity, subject: New activity, to: [owner], cc: [desk@example.com]}
    then: continue
  - name: listing
    when: listing != null
    steps:
      - notify: {template: heads-up, to: [listing_agent, a-gus], cc: [desk@example.com],
                 vars: {inquiry: lead.inquiry_type}}
      - assign: {to: '"a-cat"', notify: {template: assigned, to: [assignee], cc: [a-ann]}}
  - name: last-chance
    when: lead.attributes.blast == true
    steps:
      - broadcast:
          pool: two
          for: 10m
          notify:
            template: last-chance
            subject: LeadStreet Pending Lead – Last Chance Offer
            to: [offered]
            cc: [manager@example.com]
    then: continue
  - name: manual
    steps: [{queue: {name: manual, reason: needs a human}}]
pools:
  two: {of: agents, members: [a-dan, a-eve]}
"""


def test_queue_with_reason(tmp_path: Path) -> None:
    env = build(tmp_path, OUTCOMES)
    state = env.submit("L1")
    assert (state.status, state.queue, state.reason) == ("queued", "manual", "needs a human")
    (item,) = env.store.queue_items("manual")
    assert (item.lead_id, item.reason, item.at) == ("L1", "needs a human", T0)


def test_drop_with_reason(tmp_path: Path) -> None:
    env = build(tmp_path, OUTCOMES)
    state = env.submit("L1", attributes={"spam": True})
    assert (state.status, state.reason) == ("dropped", "spam filter")
    assert env.store.queue_items() == []
    assert env.store.assignments() == []


def test_notifications_resolve_recipients(tmp_path: Path) -> None:
    env = build(tmp_path, OUTCOMES)
    env.submit("L1", property={"listing_id": "CMLS-1"}, inquiry_type="showing")
    heads_up, assigned = env.store.outbox()
    assert (heads_up.template, heads_up.to, heads_up.cc) == (
        "heads-up", ("a-ann", "a-gus"), ("desk@example.com",))
    assert heads_up.variables == {"inquiry": "showing"}
    assert (assigned.template, assigned.to, assigned.cc) == ("assigned", ("a-cat",), ("a-ann",))
    env.submit("L2", email="owned@example.com")
    owner = env.store.outbox()[-1]
    assert (owner.template, owner.subject, owner.to, owner.cc) == (
        "activity", "New activity", ("a-bob",), ("desk@example.com",))


def test_offered_recipients_and_subject(tmp_path: Path) -> None:
    env = build(tmp_path, OUTCOMES)
    env.submit("L1", attributes={"blast": True})
    (message,) = env.store.outbox()
    assert message.template == "last-chance"
    assert message.subject == "LeadStreet Pending Lead – Last Chance Offer"
    assert message.to == ("a-dan", "a-eve")
    assert message.cc == ("manager@example.com",)


def test_deliver_marks_notifications_sent(tmp_path: Path) -> None:
    env = build(tmp_path, OUTCOMES)
    lines: list[str] = []
    engine = Engine(env.ruleset, env.world, env.store, clock=env.clock,
                    notifier=LogNotifier(lines.append))
    engine.submit(make_lead("L1", property={"listing_id": "CMLS-1"}))
    assert len(env.store.outbox(unsent_only=True)) == 2
    env.later(minutes=5)
    assert engine.deliver() == 2
    assert env.store.outbox(unsent_only=True) == []
    assert all(m.sent_at == T0 + timedelta(minutes=5) for m in env.store.outbox())
    assert len(lines) == 2
    assert lines[0].startswith("notify heads-up to a-ann, a-gus cc desk@example.com")
    assert engine.deliver() == 0


HOLD = OFFICE_HOURS + """
policy: after-hours
applies_to: {sources: [test-site]}
rules:
  - name: wait-for-morning
    steps:
      - hold: {until_open: office-hours}
      - assign: '"a-ann"'
"""

SATURDAY_NOON = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)
MONDAY_0900 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def test_hold_until_the_calendar_opens_then_continue(tmp_path: Path) -> None:
    env = build(tmp_path, HOLD, now=SATURDAY_NOON)
    state = env.submit("L1")
    assert state.status == "waiting"
    assert state.pending is not None
    assert (state.pending.mode, state.pending.deadline) == ("hold", MONDAY_0900)
    assert env.store.next_timer_due() == MONDAY_0900
    assert env.engine.tick(MONDAY_0900 - timedelta(seconds=1)) == []
    assert env.state().status == "waiting"
    (decision,) = env.engine.tick(MONDAY_0900)
    assert (decision.state.status, decision.state.assignee) == ("assigned", "a-ann")
    assert env.store.assignments()[0].at == MONDAY_0900


def test_hold_when_open_passes_at_once(tmp_path: Path) -> None:
    env = build(tmp_path, HOLD, now=MONDAY_0900 + timedelta(hours=1))
    state = env.submit("L1")
    assert (state.status, state.assignee) == ("assigned", "a-ann")
    assert queue_names(env.store) == []
