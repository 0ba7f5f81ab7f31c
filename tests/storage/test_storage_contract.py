"""The storage contract (``rulekit/storage/base.py``), on every adapter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from storage_helpers import T0, lead

from rulekit.model import Contact
from rulekit.pipeline.effects import (
    AdvanceRotation,
    AssignLead,
    CancelTimer,
    CloseOffer,
    DropLead,
    EnqueueLead,
    MakeOffer,
    RejectAction,
    ReportConflict,
    ScheduleTimer,
    SendNotification,
    SetOwner,
)
from rulekit.pipeline.state import WAITING, LeadState, Pending
from rulekit.storage.base import DueTimer, StaleState
from rulekit.trace import Trace

H = timedelta(hours=1)


def state(lead_id: str, serial: int, **changes: Any) -> LeadState:
    return LeadState(lead_id, "v1", "seed", serial=serial, **changes)


def trace(lead_id: str, text: str = "something happened") -> Trace:
    made = Trace(lead_id, "lead_received", T0, "v1", "seed")
    made.add("event", text)
    made.add("pick", "picked a2", "rules/web.yaml:3:5", {"cursor": ["a1", 0], "at": T0})
    return made


def commit(store: Any, lead_id: str, expected: int | None, effects: list[Any],
           now: Any = T0) -> LeadState:
    new = state(lead_id, (expected or 0) + 1)
    store.commit(lead_id, expected, new, effects, trace(lead_id), now)
    return new


def added(store: Any, *lead_ids: str) -> None:
    for lead_id in lead_ids:
        assert store.add_lead(lead(lead_id), "v1")


# -- leads -----------------------------------------------------------------------------------
def test_leads_are_idempotent_by_id(store: Any) -> None:
    first = lead("L1")
    assert store.add_lead(first, "v1") is True
    assert store.add_lead(lead("L1", email="other@example.com"), "v2") is False
    assert store.get_lead("L1") == first
    assert store.get_lead("nope") is None
    assert store.get_state("L1") is None
    added(store, "L3", "L2")
    assert list(store.lead_ids()) == ["L1", "L3", "L2"]


# -- one event, one transaction ----------------------------------------------------------
def test_commit_is_a_compare_and_set_on_serial(store: Any) -> None:
    added(store, "L1")
    pending = Pending("broadcast", "L1:o1", ("a1", "a2"), ("a2",), T0 + H, "L1:t1")
    first = state("L1", 1, status=WAITING, policy="web", position=(1, 0, "ready", 2),
                  offered=("a1", "a2"), pending=pending, handoffs=("web",))
    store.commit("L1", None, first, [], trace("L1"), T0)
    assert store.get_state("L1") == first
    with pytest.raises(StaleState):  # a second "first decision"
        store.commit("L1", None, state("L1", 1), [], trace("L1", "late"), T0)
    second = commit(store, "L1", 1, [])
    with pytest.raises(StaleState):  # decided on serial 1, but serial 2 is stored
        commit(store, "L1", 1, [EnqueueLead("q", None, "r")])
    assert store.get_state("L1") == second
    assert len(store.traces("L1")) == 2
    assert store.queue_items() == []


def test_a_failing_commit_leaves_nothing(store: Any) -> None:
    added(store, "L1")
    commit(store, "L1", None, [MakeOffer("L1:o1", ("a1",), "single", T0 + H, "r"),
                               SetOwner("email:l1@example.com", "global", "a1"),
                               AdvanceRotation("pool", "a1", 0, None)])
    before = store.get_state("L1")
    doomed = [
        AssignLead("a1", "assigned", "r"),
        MakeOffer("L1:o2", ("a2", "a3"), "broadcast", T0 + H, "r"),
        SetOwner("email:new@example.com", "global", "a2"),
        ScheduleTimer("L1:t9", T0 + H, "offer_deadline"),
        CancelTimer("L1:t1"),
        EnqueueLead("q", "why", "r"),
        SendNotification("pending", ("a2",)),
        ReportConflict("email:l1@example.com", "a1", "a2", "global"),
        AdvanceRotation("other-pool", "a2", 1, None),
        CloseOffer("L1:o1", "declined"),
    ]
    stale_rotation = AdvanceRotation("pool", "a3", 2, "a2")  # the cursor is at a1, not a2
    closed_offer = CloseOffer("L1:o9", "accepted", "a1")  # no such open offer
    for last in (stale_rotation, closed_offer):  # the failure comes after all the rest
        with pytest.raises(StaleState):
            commit(store, "L1", 1, [*doomed, last])
    assert store.get_state("L1") == before
    assert [o.offer_id for o in store.offers()] == ["L1:o1"]
    assert store.offers()[0].status == "open"
    assert store.assignments() == []
    assert store.queue_items() == []
    assert store.outbox() == []
    assert store.conflicts() == []
    assert store.next_timer_due() is None
    assert len(store.traces("L1")) == 1
    facts = store.facts()
    assert facts.load("a1") == 0
    assert facts.last_offered("a2") is None
    assert facts.rotation("pool") == ("a1", 0)
    assert facts.rotation("other-pool") == (None, -1)
    assert store.contact("email:new@example.com") is None


def test_one_winner_per_offer(store: Any) -> None:
    added(store, "L1")
    commit(store, "L1", None, [MakeOffer("L1:o1", ("a1", "a2"), "broadcast", T0 + H, "r")])
    assert store.offer_lead("L1:o1") == "L1"
    assert store.offer_lead("L1:o9") is None
    at = T0 + timedelta(minutes=5)
    commit(store, "L1", 1, [CloseOffer("L1:o1", "accepted", "a1"),
                            AssignLead("a1", "accepted", "r")], at)
    with pytest.raises(StaleState):  # a2 decided on fresh state, but the offer is closed
        commit(store, "L1", 2, [CloseOffer("L1:o1", "accepted", "a2"),
                                AssignLead("a2", "accepted", "r")], at)
    (offer,) = store.offers("L1")
    assert (offer.status, offer.winner, offer.closed_at) == ("accepted", "a1", at)
    assert (offer.agents, offer.mode, offer.created_at, offer.deadline, offer.rule) == (
        ("a1", "a2"), "broadcast", T0, T0 + H, "r")
    assert [a.agent for a in store.assignments("L1")] == ["a1"]
    assert store.get_state("L1").serial == 2
    with pytest.raises(StaleState):  # an unknown offer is not open either
        commit(store, "L1", 2, [CloseOffer("L1:o7", "expired")])


def test_one_owner_per_contact_and_scope(store: Any) -> None:
    known = Contact(id="c-pat", email="Pat@Example.com", name="Pat", owner="a3",
                    owners={"market:CMLS": "a4"}, priority="hot")
    store.add_contacts([known, Contact(id="c-nobody")])
    store.add_contacts([known.model_copy(update={"owner": "a1", "name": "Other"})])
    known = known.model_copy(update={"status": "assigned"})  # stored with its owned status
    assert store.contact("email:pat@example.com") == known
    assert store.facts().contact("email:pat@example.com") == known
    added(store, "L1")
    commit(store, "L1", None, [SetOwner("email:pat@example.com", "global", "a1"),
                               SetOwner("email:pat@example.com", "channel:web", "a1"),
                               SetOwner("phone:7045550142", "global", "a2"),
                               SetOwner("phone:7045550142", "market:CMLS", "a2")])
    commit(store, "L1", 1, [SetOwner("phone:7045550142", "global", "a3"),
                            SetOwner("phone:7045550142", "market:CMLS", "a3"),
                            SetOwner("phone:7045550142", "market:FMLS", "a3")])
    assert store.contact("email:pat@example.com") == known.model_copy(
        update={"owners": {"market:CMLS": "a4", "channel:web": "a1"}})
    assert store.contact("phone:7045550142") == Contact(
        id="phone:7045550142", phone="7045550142", owner="a2",
        owners={"market:CMLS": "a2", "market:FMLS": "a3"}, status="assigned")
    assert store.contact("email:unknown@example.com") is None


def test_rotation_cursors_without_lost_updates(store: Any) -> None:
    added(store, "L1")
    facts = store.facts()
    assert facts.rotation("p") == (None, -1)
    commit(store, "L1", None, [AdvanceRotation("p", "a1", 0, None)])
    assert facts.rotation("p") == ("a1", 0)
    with pytest.raises(StaleState):  # another worker also read "no cursor yet"
        commit(store, "L1", 1, [AdvanceRotation("p", "a2", 1, None)])
    commit(store, "L1", 1, [AdvanceRotation("p", "a2", 1, "a1")])
    with pytest.raises(StaleState):
        commit(store, "L1", 2, [AdvanceRotation("p", "a3", 2, "a1")])
    assert store.facts().rotation("p") == ("a2", 1)


def test_loads_and_last_offered(store: Any) -> None:
    added(store, "L1", "L2")
    later = T0 + H
    commit(store, "L1", None, [MakeOffer("L1:o1", ("a1", "a2"), "broadcast", None, "r")])
    commit(store, "L2", None, [MakeOffer("L2:o1", ("a2",), "single", None, "r"),
                               AssignLead("a2", "assigned", "r"),
                               DropLead("why", "r"), RejectAction("a1", "late")], later)
    commit(store, "L1", 1, [AssignLead("a2", "accepted", "r")], later)
    facts = store.facts()
    assert (facts.load("a1"), facts.load("a2"), facts.load("a9")) == (0, 2, 0)
    assert (facts.last_offered("a1"), facts.last_offered("a2")) == (T0, later)
    assert facts.last_offered("a9") is None


# -- timers ----------------------------------------------------------------------------------
def test_timers_are_leased_and_leases_expire(store: Any) -> None:
    added(store, "L1")
    commit(store, "L1", None, [ScheduleTimer("L1:t2", T0 + H, "offer_deadline"),
                               ScheduleTimer("L1:t1", T0, "hold"),
                               ScheduleTimer("L1:t3", T0, "offer_deadline")])
    assert store.next_timer_due() == T0
    assert store.claim_due_timers(T0 - timedelta(seconds=1), "w1", 30) == []
    first = [DueTimer("L1:t1", "L1", T0, "hold")]
    assert store.claim_due_timers(T0, "w1", 30, limit=1) == first
    assert store.claim_due_timers(T0 + timedelta(seconds=10), "w2", 30) == [
        DueTimer("L1:t3", "L1", T0, "offer_deadline")]
    assert store.claim_due_timers(T0 + timedelta(seconds=20), "w3", 30) == []
    assert store.claim_due_timers(T0 + timedelta(seconds=20), "w1", 30) == first  # its own
    # w2's lease ran out at +40 s; w1 crashed, and its lease (renewed at +20 s) ends at +50 s
    assert [t.timer_id for t in store.claim_due_timers(T0 + timedelta(seconds=49), "w3", 30)
            ] == ["L1:t3"]
    assert [t.timer_id for t in store.claim_due_timers(T0 + timedelta(seconds=51), "w3", 30)
            ] == ["L1:t1", "L1:t3"]
    store.fired("L1:t1")
    store.fired("L1:t1")  # firing is idempotent
    commit(store, "L1", 1, [CancelTimer("L1:t3")])
    assert store.next_timer_due() == T0 + H
    assert store.claim_due_timers(T0 + 2 * H, "w1", 30) == [
        DueTimer("L1:t2", "L1", T0 + H, "offer_deadline")]
    commit(store, "L1", 2, [ScheduleTimer("L1:t2", T0 + 3 * H, "offer_deadline")])
    assert store.next_timer_due() == T0 + 3 * H  # rescheduled in place
    store.fired("L1:t2")
    assert store.next_timer_due() is None


# -- outbox ------------------------------------------------------------------------------------
def test_outbox_keeps_every_notification_until_sent(store: Any) -> None:
    added(store, "L1")
    commit(store, "L1", None, [
        SendNotification("pending", ("a1", "a2"), ("boss@example.com",), "Hi",
                         (("inquiry", "listing"), ("price", 325000), ("tags", ["a"]))),
        SendNotification("reminder", ("a1",))])
    one, two = store.outbox()
    assert (one.lead_id, one.template, one.to, one.cc, one.subject, one.variables,
            one.created_at, one.sent_at) == (
        "L1", "pending", ("a1", "a2"), ("boss@example.com",), "Hi",
        {"inquiry": "listing", "price": 325000, "tags": ["a"]}, T0, None)
    assert (two.template, two.cc, two.subject, two.variables) == ("reminder", (), None, {})
    assert two.message_id > one.message_id
    store.mark_sent([one.message_id], T0 + H)
    assert store.outbox(unsent_only=True) == [two]
    assert store.outbox()[0].sent_at == T0 + H
    store.mark_sent([], T0 + H)
    assert len(store.outbox()) == 2


# -- reading ---------------------------------------------------------------------------------
def test_traces_round_trip_in_order(store: Any) -> None:
    added(store, "L1", "L2")
    first, second = trace("L1", "first"), trace("L1", "second")
    store.commit("L1", None, state("L1", 1), [], first, T0)
    store.commit("L2", None, state("L2", 1), [], trace("L2"), T0)
    store.commit("L1", 1, state("L1", 2), [], second, T0 + H)
    assert [t.to_json() for t in store.traces("L1")] == [first.to_json(), second.to_json()]
    assert store.traces("L1")[0].render() == first.render()
    assert store.traces("nope") == []


def test_offers_assignments_queue_items_in_order(store: Any) -> None:
    added(store, "L1", "L2")
    commit(store, "L2", None, [MakeOffer("L2:o1", ("a1",), "single", None, "r2"),
                               EnqueueLead("night", "closed", "r")])
    commit(store, "L1", None, [MakeOffer("L1:o1", ("a2",), "qualify", T0 + H, "r1"),
                               AssignLead("a3", "attached", "owner"),
                               EnqueueLead("day", None, "r")])
    commit(store, "L2", 1, [MakeOffer("L2:o0", ("a3",), "single", None, "r2"),
                            AssignLead("a1", "assigned", "r"),
                            EnqueueLead("night", "again", "r")], T0 + H)
    assert [o.offer_id for o in store.offers()] == ["L2:o1", "L1:o1", "L2:o0"]
    assert [o.offer_id for o in store.offers("L2")] == ["L2:o1", "L2:o0"]
    assert [(a.lead_id, a.agent, a.how, a.rule) for a in store.assignments()] == [
        ("L1", "a3", "attached", "owner"), ("L2", "a1", "assigned", "r")]
    assert [a.at for a in store.assignments("L2")] == [T0 + H]
    assert [(q.lead_id, q.reason) for q in store.queue_items("night")] == [
        ("L2", "closed"), ("L2", "again")]
    assert [q.queue for q in store.queue_items()] == ["night", "day", "night"]


def test_conflicts_are_reported(store: Any) -> None:
    added(store, "L1")
    conflict = ReportConflict("email:pat@example.com", "a3", "a1", "global")
    commit(store, "L1", None, [conflict])
    assert store.conflicts() == [conflict]
