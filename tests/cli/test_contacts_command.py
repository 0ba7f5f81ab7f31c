"""``rulekit contacts``: show a contact and run its lifecycle actions against a SQLite store
whose LeadStreet rules and world are loaded; the results are seen by ``rulekit leads
--contact-status`` and ``rulekit explain``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from command_line import run

from rulekit.engine import Engine
from rulekit.model import Lead
from rulekit.storage.url import open_store
from rulekit.worker import Worker

ROOT = Path(__file__).resolve().parents[2]
RULES, WORLD = "rules/leadstreet", "rules/leadstreet/world.yaml"
PAT = "pat.buyer@example.com"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    """A store with the LeadStreet rules loaded and one web lead of Pat's assigned."""
    url = f"sqlite:///{tmp_path / 'contacts.db'}"
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        code, said = run("load", "--db", url, "--rules", RULES, "--world", WORLD, "--by", "t")
        assert code == 0, said
        store = open_store(url)
        worker = Worker(store)
        worker.refresh()
        engine = worker.engine
        assert isinstance(engine, Engine)
        lead = Lead.model_validate({
            "id": "P1", "received_at": "2026-12-01T15:00:00+00:00", "source": "agent-site",
            "channel": "agent-site", "site_owner": "a-avery-jones", "inquiry_type": "general",
            "contact": {"email": PAT, "name": "Pat Buyer"}})
        engine.submit(lead)
        store.close()
        yield url
    finally:
        os.chdir(here)


def owner_of(url: str) -> str:
    code, said = run("contacts", "show", PAT, "--db", url, "--json")
    assert code == 0, said
    owner: str = json.loads(said)["owner"]
    return owner


def test_show_names_status_owner_and_shares(db: str) -> None:
    code, said = run("contacts", "show", "P1", "--db", db, "--json")  # by lead id
    assert code == 0, said
    view = json.loads(said)
    assert (view["key"], view["status"], view["shared_with"]) == (f"email:{PAT}", "assigned",
                                                                   [])
    assert view["owner"]
    code, text = run("contacts", "show", f"email:{PAT}", "--db", db)
    assert code == 0 and "status:      assigned" in text and "(nobody)" in text, text


def test_share_then_filter_then_explain(db: str) -> None:
    owner = owner_of(db)
    other = "a-casey-diaz" if owner != "a-casey-diaz" else "a-blake-kim"
    code, said = run("contacts", "share", PAT, "--db", db, "--agent", other, "--by",
                     "concierge dana", "--reason", "co-listing")
    assert code == 0, said
    assert "status assigned → shared" in said and f"shared with: {other}" in said, said
    code, listed = run("leads", "--db", db, "--contact-status", "shared", "--format", "json")
    assert code == 0, listed
    [row] = json.loads(listed)
    assert (row["id"], row["contact"]["status"], row["contact"]["shared_with"]) == (
        "P1", "shared", [other])
    code, explained = run("explain", "P1", "--db", db)
    assert code == 0, explained
    assert (f"concierge dana: the consumer's contact was shared with {other} "
            "(status assigned → shared) (why: co-listing)") in explained


def test_transfer_status_and_delete(db: str) -> None:
    owner = owner_of(db)
    other = "a-casey-diaz" if owner != "a-casey-diaz" else "a-blake-kim"
    code, said = run("contacts", "transfer", PAT, "--db", db, "--to", other, "--by", "ops")
    assert code == 0 and f"owner:       {other}" in said, said
    assert owner_of(db) == other
    code, said = run("contacts", "status", PAT, "pending", "--db", db, "--by", "concierge")
    assert code == 0 and "status assigned → pending" in said, said
    code, said = run("contacts", "status", PAT, "closed", "--db", db, "--by", "concierge")
    assert code == 0 and "status pending → closed" in said, said
    code, said = run("contacts", "delete-record", PAT, "--db", db, "--agent", other,
                     "--by", other)
    assert code == 0 and "status closed → (none)" in said and "owner:       (none)" in said


@pytest.mark.parametrize(("argv", "says"), [
    (["share", PAT, "--agent", "a-nobody"],
     "rulekit contacts: --agent: no agent 'a-nobody' in the world"),
    (["transfer", PAT, "--to", "a-nobody"],
     "rulekit contacts: --to: no agent 'a-nobody' in the world"),
    (["share", "nobody@example.com", "--agent", "a-casey-diaz"],
     "rulekit contacts: CONTACT: no contact 'email:nobody@example.com' on record"),
    (["status", PAT, "assigned"],
     "rulekit contacts: STATUS: contact 'email:pat.buyer@example.com' is assigned already"),
])
def test_refused_actions_are_one_line_naming_the_option(db: str, argv: list[str],
                                                        says: str) -> None:
    code, said = run("contacts", *argv, "--db", db, "--by", "ops")
    assert code == 1, said
    assert said.strip() == says
    code, view = run("contacts", "show", PAT, "--db", db, "--json")
    assert json.loads(view)["status"] == "assigned"  # nothing written


def test_sharing_with_the_owner_is_refused(db: str) -> None:
    owner = owner_of(db)
    code, said = run("contacts", "share", PAT, "--db", db, "--agent", owner, "--by", "ops")
    assert code == 1
    assert said.strip() == (f"rulekit contacts: --agent: {owner} owns contact "
                            f"'email:{PAT}': it cannot be shared with its owner")


def test_deleting_a_conflicting_record_routes_the_waiting_lead(db: str) -> None:
    """A manual entry of Pat by another agent waits in the conflict queue; the owner deleting
    their record gives it to the agent who entered it, and the command says so."""
    owner = owner_of(db)
    entering = "a-jordan-lee" if owner != "a-jordan-lee" else "a-blake-kim"
    store = open_store(db)
    worker = Worker(store)
    worker.refresh()
    assert worker.engine is not None
    worker.engine.submit(Lead.model_validate({
        "id": "M1", "received_at": "2026-12-01T15:30:00+00:00", "source": "leadstreet",
        "entry": "manual", "entered_by": entering, "contact": {"email": PAT}}))
    state = store.get_state("M1")
    assert state is not None and state.status == "queued"
    store.close()
    code, said = run("contacts", "delete-record", PAT, "--db", db, "--agent", owner,
                     "--by", "concierge dana")
    assert code == 0, said
    assert (f"conflict resolved, lead M1: assigned to {entering}: ownership conflict "
            f"resolved: {owner}'s record of the contact was deleted") in said, said
    code, listed = run("leads", "--db", db, "--format", "json")
    assert code == 0, listed
    [row] = [r for r in json.loads(listed) if r["id"] == "M1"]
    assert row["assignee"] == entering, row
