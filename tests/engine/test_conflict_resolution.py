"""Resolving an ownership conflict routes the waiting lead, through the engine, on memory and
SQLite: an agent enters by hand a consumer another agent owns, the lead waits in the
conflict queue (the shipped LeadStreet policy), and when the owner deletes their record or
transfers the contact, the lead is reassigned to the agent who entered it — audited with the
actor of the contact change.  A conflicting lead already assigned elsewhere is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.lifecycle import CONFLICT_RESOLVED
from rulekit.model import Lead
from rulekit.storage.base import CONTACT_CHANGED
from rulekit.storage.url import open_store

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules" / "leadstreet"
T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
PAT = "email:pat.buyer@example.com"  # a-casey-diaz's contact in the LeadStreet world
OWNER, ENTERING = "a-casey-diaz", "a-jordan-lee"


@pytest.fixture(params=["memory", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    checked = check_paths([RULES])
    assert checked.ok, checked.diagnostics
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'c.db'}"
    store: Any = open_store(url)
    yield Engine(checked.rulesets[str(RULES)], checked.worlds[str(RULES / "world.yaml")],
                 store, clock=ManualClock(T0))
    close = getattr(store, "close", None)
    if close is not None:
        close()


def manual_entry(engine: Engine, lead_id: str = "M2") -> None:
    """a-jordan-lee enters Pat by hand: a conflict, the lead queued."""
    engine.submit(Lead.model_validate({
        "id": lead_id, "received_at": T0.isoformat(), "source": "leadstreet",
        "entry": "manual", "entered_by": ENTERING,
        "contact": {"email": "pat.buyer@example.com"}}))
    state = engine.state(lead_id)
    assert state is not None
    assert (state.status, state.queue) == ("queued", "ownership-conflicts")


def test_the_owner_deleting_their_record_gives_the_lead_to_the_entering_agent(
        engine: Engine) -> None:
    manual_entry(engine)
    later = T0 + timedelta(minutes=20)
    change = engine.change_contact(PAT, "delete", agent=OWNER, by="concierge dana",
                                   reason="agents agreed", now=later)
    assert change.after.owner == ENTERING
    assert change.routed == ("M2",)
    [lead] = change.leads
    assert (lead.lead_id, lead.agent, lead.routed) == ("M2", ENTERING, True)
    assert lead.note.startswith(f"assigned to {ENTERING}: ownership conflict resolved: "
                                f"{OWNER}'s record of the contact was deleted")
    state = engine.state("M2")
    assert state is not None
    assert (state.status, state.assignee, state.queue) == ("assigned", ENTERING, None)
    [assignment] = engine.store.assignments("M2")
    assert (assignment.agent, assignment.how) == (ENTERING, "reassigned")
    # audited: the contact change, then the reassignment, by the same actor at the same time
    store: Any = engine.store
    changed, routed = store.audit()[-2:]
    assert (changed.action, changed.actor, changed.at) == (CONTACT_CHANGED, "concierge dana",
                                                           later)
    assert (routed.action, routed.actor, routed.at) == (CONFLICT_RESOLVED, "concierge dana",
                                                        later)
    assert (routed.detail["lead"], routed.detail["agent"], routed.detail["owner"],
            routed.detail["action"]) == ("M2", ENTERING, OWNER, "delete")
    text = engine.explain("M2")
    assert (f"concierge dana reassigned the lead to Jordan Lee ({ENTERING}): ownership "
            f"conflict resolved: {OWNER}'s record of the contact was deleted (agents agreed)"
            in text), text


def test_transferring_the_contact_gives_the_lead_to_the_entering_agent(
        engine: Engine) -> None:
    manual_entry(engine)
    change = engine.change_contact(PAT, "transfer", agent=ENTERING, by=OWNER)
    assert change.routed == ("M2",)
    state = engine.state("M2")
    assert state is not None and (state.status, state.assignee) == ("assigned", ENTERING)
    store: Any = engine.store
    assert [(e.action, e.actor) for e in store.audit()[-2:]] == [
        (CONTACT_CHANGED, OWNER), (CONFLICT_RESOLVED, OWNER)]
    assert "ownership conflict resolved: a-casey-diaz transferred the contact to " \
           "a-jordan-lee" in engine.explain("M2")


def test_a_lead_already_assigned_elsewhere_is_left_alone(engine: Engine) -> None:
    manual_entry(engine)
    engine.reassign("M2", "a-blake-kim", by="admin", reason="the desk chose")
    change = engine.change_contact(PAT, "delete", agent=OWNER, by="concierge dana")
    assert change.after.owner == ENTERING
    assert change.routed == ()
    [lead] = change.leads
    assert (lead.lead_id, lead.routed, lead.note) == (
        "M2", False, "left as it is: already assigned to a-blake-kim")
    state = engine.state("M2")
    assert state is not None and state.assignee == "a-blake-kim"
    store: Any = engine.store
    assert [e.action for e in store.audit()].count(CONFLICT_RESOLVED) == 0


def test_a_change_that_resolves_nothing_routes_nothing(engine: Engine) -> None:
    manual_entry(engine)
    change = engine.change_contact(PAT, "share", agent=ENTERING, by="concierge dana")
    assert (change.leads, change.routed) == ((), ())
    state = engine.state("M2")
    assert state is not None and state.status == "queued"
    # a second resolution of the same conflict finds the lead assigned to the entering agent
    engine.change_contact(PAT, "delete", agent=OWNER, by="concierge dana")
    again = engine.change_contact(PAT, "transfer", agent=OWNER, by="concierge dana")
    assert again.leads == ()
    back = engine.change_contact(PAT, "transfer", agent=ENTERING, by="concierge dana")
    [lead] = back.leads
    assert (lead.routed, lead.note) == (False, "left as it is: already assigned to them")


def test_an_admins_bulk_transfer_to_the_entering_agent_routes_the_waiting_lead(
        engine: Engine) -> None:
    manual_entry(engine)
    later = T0 + timedelta(minutes=30)
    moved, leads = engine.transfer_contacts(OWNER, ENTERING, by="admin ana",
                                            reason="Casey left the office", now=later)
    assert (PAT, "global") in moved
    [lead] = leads
    assert (lead.lead_id, lead.agent, lead.routed) == ("M2", ENTERING, True)
    assert lead.note == (f"assigned to {ENTERING}: ownership conflict resolved: {OWNER} "
                         f"transferred the contact to {ENTERING} (Casey left the office)")
    state = engine.state("M2")
    assert state is not None and (state.status, state.assignee) == ("assigned", ENTERING)
    store: Any = engine.store
    assert store.audit()[-1].action == CONFLICT_RESOLVED
    # a transfer to another agent resolves nothing: the conflict was with a-jordan-lee
    moved, leads = engine.transfer_contacts(ENTERING, "a-blake-kim", by="admin ana", now=later)
    assert (PAT, "global") in moved and leads == ()
