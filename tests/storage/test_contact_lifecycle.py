"""The contact lifecycle on memory, SQLite and PostgreSQL: routing makes a contact assigned (or
agent_database for its owner's own manual entry) in the decision's transaction; share, unshare,
transfer, delete and status actions change it, each audited with its actor, before and after;
bad transitions are refused naming the field, and write nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from storage_helpers import T0, WORLD, compile_rules, lead, write_folder

from rulekit.changes import explanation
from rulekit.engine import Engine, ManualClock
from rulekit.leadsearch import LeadFilter, search
from rulekit.lifecycle import ContactChangeError
from rulekit.model import Contact, ContactStatus

H = timedelta(hours=1)
PAT = "email:pat@example.com"
KNOWN = "email:known@example.com"

# Manual entries go to the agent who entered them; web leads to the contact's owner, else a1.
RULES = """\
rulekit: 1
policy: desk
applies_to:
  sources: [desk.example]
rules:
  - name: owner
    steps:
      - attach_to_owner: {scope: global, conflict_queue: conflicts}
    then: continue
  - name: entered
    when: lead.entry == "manual" and lead.entered_by != null
    steps:
      - assign: {to: lead.entered_by, own: global}
  - name: desk
    steps:
      - assign: {to: '"a1"', own: global}
"""


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "desk", {"world.yaml": WORLD, "desk.yaml": RULES})


def engine(store: Any, folder: Path) -> Engine:
    ruleset, world = compile_rules(folder)
    return Engine(ruleset, world, store, clock=ManualClock(T0))


def desk_lead(lead_id: str, email: str = "pat@example.com", **extra: Any) -> Any:
    return lead(lead_id, source="desk.example", email=email, **extra)


def act(store: Any, action: str, key: str = PAT, **given: Any) -> tuple[Any, Contact]:
    given.setdefault("by", "concierge dana")
    given.setdefault("reason", "asked")
    given.setdefault("at", T0 + H)
    before, after = store.change_contact(key, action, **given)
    return before, after


def status_of(store: Any, key: str = PAT) -> ContactStatus | None:
    contact = store.facts().contact(key)
    return None if contact is None else contact.status


# -- routing ------------------------------------------------------------------------------------
def test_routing_makes_the_contact_assigned(backend: Backend, desk: Path) -> None:
    store = backend.open()
    engine(store, desk).submit(desk_lead("L1"), T0)
    contact = backend.open().facts().contact(PAT)
    assert contact is not None
    assert (contact.owner, contact.status) == ("a1", ContactStatus.ASSIGNED)
    found = search(backend.open(), LeadFilter(contact_statuses=("assigned",)))
    assert [row.lead.id for row in found] == ["L1"]


def test_a_manual_entry_by_its_agent_is_in_their_database(backend: Backend,
                                                         desk: Path) -> None:
    store = backend.open()
    engine(store, desk).submit(desk_lead("M1", entry="manual", entered_by="a2"), T0)
    contact = backend.open().facts().contact(PAT)
    assert contact is not None
    assert (contact.owner, contact.status) == ("a2", ContactStatus.AGENT_DATABASE)
    assert [r.lead.id for r in search(store, LeadFilter(contact_statuses=("agent database",)))
            ] == ["M1"]


def test_routing_keeps_a_status_people_set(backend: Backend, desk: Path) -> None:
    store = backend.open()
    routing = engine(store, desk)
    routing.submit(desk_lead("L1"), T0)
    act(store, "status", status="pending")
    routing.submit(desk_lead("L2", at=T0 + 2 * H), T0 + 2 * H)  # attached to the owner
    assert status_of(backend.open()) == ContactStatus.PENDING


def test_known_contacts_take_the_status_their_ownership_gives(backend: Backend) -> None:
    store = backend.open()
    store.add_contacts([
        Contact(id="c1", email="one@example.com", owner="a1"),
        Contact(id="c2", email="two@example.com", owner="a2", entered_by="a2"),
        Contact(id="c3", email="three@example.com", owner="a2", shared_with=["a3"]),
        Contact(id="c4", email="four@example.com", owner="a2", status=ContactStatus.CLOSED),
        Contact(id="c5", email="five@example.com"),
    ])
    reopened = backend.open()
    assert [status_of(reopened, f"email:{n}@example.com")
            for n in ("one", "two", "three", "four", "five")] == [
        ContactStatus.ASSIGNED, ContactStatus.AGENT_DATABASE, ContactStatus.SHARED,
        ContactStatus.CLOSED, None]


# -- actions ------------------------------------------------------------------------------------
def test_share_and_unshare_are_audited(backend: Backend, desk: Path) -> None:
    store = backend.open()
    engine(store, desk).submit(desk_lead("L1"), T0)
    before, after = act(store, "share", agent="a2", by="agent a1", reason="co-listing",
                        lead_id="L1")
    assert before is not None and before.status == ContactStatus.ASSIGNED
    assert (after.status, after.shared_with, after.owner) == (ContactStatus.SHARED, ["a2"],
                                                             "a1")
    act(store, "share", agent="a3", at=T0 + 2 * H)
    stored = backend.open().facts().contact(PAT)
    assert stored is not None and stored.shared_with == ["a2", "a3"]
    entry = store.audit()[-2]
    assert (entry.at, entry.actor, entry.action) == (T0 + H, "agent a1", "contact_changed")
    assert entry.detail == {
        "lead": "L1", "contact": PAT, "action": "share", "agent": "a2",
        "before": {"status": "assigned", "owner": "a1", "owners": {}, "shared_with": []},
        "after": {"status": "shared", "owner": "a1", "owners": {}, "shared_with": ["a2"]},
        "reason": "co-listing"}
    act(store, "unshare", agent="a2")
    assert status_of(store) == ContactStatus.SHARED  # still shared with a3
    _, last = act(store, "unshare", agent="a3")
    assert (last.status, last.shared_with) == (ContactStatus.ASSIGNED, [])
    assert status_of(backend.open()) == ContactStatus.ASSIGNED


def test_transfer_gives_a_new_owner_and_new_leads_follow(backend: Backend,
                                                        desk: Path) -> None:
    store = backend.open()
    routing = engine(store, desk)
    routing.submit(desk_lead("L1"), T0)
    act(store, "share", agent="a3")
    _, after = act(store, "transfer", agent="a3", reason="a1 is away")
    assert (after.owner, after.status, after.shared_with) == ("a3", ContactStatus.ASSIGNED, [])
    state = routing.submit(desk_lead("L2", at=T0 + 2 * H), T0 + 2 * H)
    assert state.assignee == "a3"
    text = explanation(backend.open(), "L1")
    assert ("concierge dana: the consumer's contact was transferred from a1 to a3 "
            "(status shared → assigned) (why: a1 is away)") in text


def test_pending_and_closed(backend: Backend, desk: Path) -> None:
    store = backend.open()
    engine(store, desk).submit(desk_lead("L1"), T0)
    act(store, "status", status="pending", reason="under contract")
    assert status_of(backend.open()) == ContactStatus.PENDING
    act(store, "status", status="closed", reason="deal closed")
    assert status_of(backend.open()) == ContactStatus.CLOSED
    found = search(backend.open(), LeadFilter(contact_statuses=("closed",)))
    assert [row.lead.id for row in found] == ["L1"]
    text = explanation(backend.open(), "L1")
    assert "the consumer's contact status went from pending to closed (why: deal closed)" \
        in text
    _, reopened = act(store, "status", status="assigned", reason="new purchase")
    assert reopened.status == ContactStatus.ASSIGNED


def test_deleting_the_owners_record_resolves_a_conflict(backend: Backend,
                                                      desk: Path) -> None:
    store = backend.open()
    routing = engine(store, desk)
    routing.submit(desk_lead("L1"), T0)  # a1 owns pat
    conflict = routing.submit(desk_lead("M1", entry="manual", entered_by="a2", at=T0 + H),
                              T0 + H)
    assert conflict.queue == "conflicts"
    _, after = act(store, "delete", agent="a1", by="agent a1", reason="a2 works with pat",
                   lead_id="M1", at=T0 + 2 * H)
    assert (after.owner, after.status, after.entered_by) == (
        "a2", ContactStatus.AGENT_DATABASE, "a2")
    reopened = backend.open()
    assert status_of(reopened) == ContactStatus.AGENT_DATABASE
    # the next lead of pat goes to a2, the record that stands
    assert routing.submit(desk_lead("L3", at=T0 + 3 * H), T0 + 3 * H).assignee == "a2"
    assert "a1's record of the consumer's contact was deleted" in explanation(reopened, "M1")


def test_deleting_a_record_without_conflict_leaves_no_owner(backend: Backend,
                                                          desk: Path) -> None:
    store = backend.open()
    engine(store, desk).submit(desk_lead("L1"), T0)
    act(store, "share", agent="a2")
    _, shared_gone = act(store, "delete", agent="a2")  # a shared agent's record: the share
    assert (shared_gone.owner, shared_gone.status) == ("a1", ContactStatus.ASSIGNED)
    _, after = act(store, "delete", agent="a1")
    assert (after.owner, after.owners, after.status) == (None, {}, None)
    contact = backend.open().facts().contact(PAT)
    assert contact is not None and (contact.owner, contact.status) == (None, None)


def test_a_known_contacts_scoped_owners_move_with_a_transfer(backend: Backend) -> None:
    store = backend.open()
    store.add_contacts([Contact(id="k", email="known@example.com", owner="a3",
                                owners={"channel:agent-site": "a3", "market:CMLS": "a4"})])
    _, after = act(store, "transfer", KNOWN, agent="a1")
    assert (after.owner, after.owners) == ("a1", {"channel:agent-site": "a1",
                                                  "market:CMLS": "a4"})
    stored = backend.open().facts().contact(KNOWN)
    assert stored is not None
    assert (stored.owner, stored.owners) == ("a1", {"channel:agent-site": "a1",
                                                    "market:CMLS": "a4"})


@pytest.mark.parametrize(("action", "given", "field", "words"), [
    ("share", {"agent": "a1"}, "agent", "cannot be shared with its owner"),
    ("share", {}, "agent", "needs an agent"),
    ("unshare", {"agent": "a2"}, "agent", "is not shared with a2"),
    ("transfer", {"agent": "a1"}, "agent", "owns contact"),
    ("delete", {"agent": "a4"}, "agent", "a4 has no record"),
    ("status", {"status": "shared"}, "status", "'shared' cannot be set"),
    ("status", {"status": "assigned"}, "status", "is assigned already"),
    ("archive", {}, "action", "unknown action 'archive'"),
])
def test_bad_actions_name_the_field_and_write_nothing(backend: Backend, desk: Path,
                                                      action: str, given: dict[str, Any],
                                                      field: str, words: str) -> None:
    store = backend.open()
    engine(store, desk).submit(desk_lead("L1"), T0)
    audited = len(store.audit())
    with pytest.raises(ContactChangeError) as raised:
        act(store, action, **given)
    assert raised.value.field == field
    assert words in str(raised.value) and str(raised.value).startswith(f"{field}: ")
    assert len(store.audit()) == audited
    assert status_of(backend.open()) == ContactStatus.ASSIGNED


def test_a_closed_contact_cannot_be_shared(backend: Backend, desk: Path) -> None:
    store = backend.open()
    engine(store, desk).submit(desk_lead("L1"), T0)
    act(store, "status", status="closed")
    with pytest.raises(ContactChangeError, match=r"^status: .* is closed: only an "
                       r"agent_database, assigned or shared contact can be shared"):
        act(store, "share", agent="a2")
    with pytest.raises(ContactChangeError, match="closed contact cannot become pending"):
        act(store, "status", status="pending")
    with pytest.raises(ContactChangeError, match=r"^contact: no contact 'email:nobody"):
        act(store, "share", "email:nobody@example.com", agent="a2")
    contact = backend.open().facts().contact(PAT)
    assert contact is not None and (contact.status, contact.shared_with) == (
        ContactStatus.CLOSED, [])


def test_an_ownership_transfer_leaves_the_contact_assigned(backend: Backend,
                                                          desk: Path) -> None:
    """``transfer_contacts`` (the admin transfer of an agent's contacts) keeps statuses and
    shares consistent as the ``transfer`` action does."""
    store = backend.open()
    routing = engine(store, desk)
    routing.submit(desk_lead("M1", entry="manual", entered_by="a2"), T0)  # agent_database
    routing.submit(desk_lead("L2", email="sam@example.com"), T0)  # a1's
    act(store, "share", "email:sam@example.com", agent="a3")
    store.add_contacts([Contact(id="d", email="deal@example.com", owner="a2",
                                status=ContactStatus.PENDING)])
    assert store.transfer_contacts("a2", "a4", by="dana", reason="left", at=T0 + H) == [
        ("email:deal@example.com", "global"), (PAT, "global")]
    assert store.transfer_contacts("a1", "a3", by="dana", reason="left", at=T0 + H) == [
        ("email:sam@example.com", "global")]
    reopened = backend.open()
    assert status_of(reopened) == ContactStatus.ASSIGNED
    assert status_of(reopened, "email:deal@example.com") == ContactStatus.PENDING
    sam = reopened.facts().contact("email:sam@example.com")
    assert sam is not None
    assert (sam.owner, sam.status, sam.shared_with) == ("a3", ContactStatus.ASSIGNED, [])


def test_the_engine_checks_the_agent_against_its_world(backend: Backend, desk: Path) -> None:
    store = backend.open()
    routing = engine(store, desk)
    routing.submit(desk_lead("L1"), T0)
    with pytest.raises(ContactChangeError, match=r"^agent: no agent 'a9' in the world"):
        routing.change_contact(PAT, "share", agent="a9", by="dana")
    after = routing.change_contact(PAT, "share", agent="a2", by="dana", reason="help").after
    assert after.shared_with == ["a2"]
    entry = store.audit()[-1]
    assert (entry.at, entry.actor, entry.detail["reason"]) == (T0, "dana", "help")


def test_a_contact_owned_in_one_market_only(backend: Backend) -> None:
    """A policy that records ownership per market: the market's owner is the contact's."""
    store = backend.open()
    store.add_contacts([Contact(id="m", email="market@example.com",
                                owners={"market:CMLS": "a4"})])
    key = "email:market@example.com"
    assert status_of(store, key) == ContactStatus.ASSIGNED
    with pytest.raises(ContactChangeError, match="a4 owns contact"):
        act(store, "share", key, agent="a4")
    act(store, "share", key, agent="a1")
    _, after = act(store, "transfer", key, agent="a2")
    assert (after.owner, after.owners, after.status, after.shared_with) == (
        None, {"market:CMLS": "a2"}, ContactStatus.SHARED, ["a1"])
    act(store, "status", key, status="pending")
    stored = backend.open().facts().contact(key)
    assert stored is not None
    assert (stored.owner, stored.owners, stored.status) == (None, {"market:CMLS": "a2"},
                                                           ContactStatus.PENDING)
