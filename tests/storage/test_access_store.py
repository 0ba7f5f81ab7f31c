"""The access extension of the stores — tokens, audit entries, ownership transfers, live
counts — on memory, SQLite and PostgreSQL; and the upgrade of a version-4 database to 5."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from conftest import Backend
from storage_helpers import T0, compile_rules, lead

from rulekit.engine import Engine, ManualClock
from rulekit.model import Contact
from rulekit.storage.base import LiveCounts, StoredToken
from rulekit.storage.memory import MemoryStore
from rulekit.storage.sql import (
    POSTGRES,
    SCHEMA_VERSION,
    SQLITE,
    migration_statements,
    upgrade_statements,
)

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def token(token_id: str, role: str = "admin", *, at: Any = T0, agent: str | None = None,
          sources: tuple[str, ...] = (), label: str = "", by: str = "dana") -> StoredToken:
    return StoredToken(token_id, role, agent, sources, label, at, by, None)


def actions(store: Any) -> list[str]:
    return [entry.action for entry in store.audit()]


# -- tokens ------------------------------------------------------------------------------------
def test_tokens_are_stored_with_the_hash_of_their_secret(backend: Backend) -> None:
    store = backend.open()
    first = token("00000000000b", "integrator", sources=("remax.com", "zillow.com"),
                  label="web forms")
    second = token("00000000000a", "agent", agent="a1", at=T0 + MINUTE, by="ops")
    same_instant = token("000000000000", "support", at=T0)
    for made in (first, second, same_instant):
        store.put_token(made, f"hash-of-{made.token_id}")
    assert store.token("00000000000b") == (first, "hash-of-00000000000b")
    assert store.token("nope") is None
    # by creation instant, then id
    assert store.tokens() == [same_instant, first, second]
    reopened = backend.open()
    assert reopened.tokens() == [same_instant, first, second]
    assert reopened.token("00000000000a") == (second, "hash-of-00000000000a")


def test_creating_a_token_is_audited_without_its_hash(backend: Backend) -> None:
    store = backend.open()
    made = token("0123456789ab", "integrator", sources=("remax.com",), label="crm", by="dana")
    store.put_token(made, "f" * 64)
    [entry] = store.audit()
    assert (entry.at, entry.actor, entry.action) == (T0, "dana", "token_created")
    assert entry.detail == {"token_id": "0123456789ab", "role": "integrator", "agent": None,
                            "sources": ["remax.com"], "label": "crm"}
    assert "f" * 64 not in repr(store.audit())


def test_a_token_id_is_stored_once(backend: Backend) -> None:
    store = backend.open()
    store.put_token(token("0123456789ab"), "one")
    with pytest.raises(ValueError, match="0123456789ab is stored already"):
        store.put_token(token("0123456789ab", "support"), "two")
    assert store.token("0123456789ab") == (token("0123456789ab"), "one")
    assert actions(store) == ["token_created"]  # the refused one wrote nothing


def test_a_token_is_revoked_once(backend: Backend) -> None:
    store = backend.open()
    store.put_token(token("0123456789ab", "agent", agent="a1", label="phone"), "h")
    at = T0 + H
    assert store.revoke_token("0123456789ab", "ops", at) is True
    assert store.revoke_token("0123456789ab", "ops", at + H) is False  # twice: no
    assert store.revoke_token("ffffffffffff", "ops", at) is False  # unknown: no
    revoked, secret_hash = store.token("0123456789ab")
    assert revoked.revoked_at == at and secret_hash == "h"
    assert store.tokens() == [revoked]
    entries = store.audit()
    assert [e.action for e in entries] == ["token_created", "token_revoked"]
    assert (entries[1].at, entries[1].actor) == (at, "ops")
    assert entries[1].detail == {"token_id": "0123456789ab", "role": "agent", "agent": "a1",
                                 "label": "phone"}
    assert backend.open().token("0123456789ab")[0].revoked_at == at


# -- audit entries -----------------------------------------------------------------------------
def test_record_audit_appends_one_entry(backend: Backend) -> None:
    store = backend.open()
    store.record_audit("svc:admin", "offer_reassigned",
                       {"lead": "L1", "agents": ("a1", "a2"), "when": T0, "n": 2}, T0 + H)
    store.record_audit("svc:agent:a1", "lead_viewed", {}, T0 + 2 * H)
    first, second = store.audit()
    assert (first.seq, first.at, first.actor, first.action) == (
        1, T0 + H, "svc:admin", "offer_reassigned")
    # read back as JSON, on every store: tuples as lists, instants as ISO 8601 text
    assert first.detail == {"lead": "L1", "agents": ["a1", "a2"], "when": T0.isoformat(),
                            "n": 2}
    assert (second.seq, second.action, second.detail) == (2, "lead_viewed", {})


# -- ownership transfers -----------------------------------------------------------------------
CONTACTS = [
    Contact(id="c1", email="one@example.com", owner="a1",
            owners={"channel:agent-site": "a1", "market:CMLS": "a2"}),
    Contact(id="c2", email="two@example.com", owner="a1"),
    Contact(id="c3", email="three@example.com", owner="a2", owners={"channel:agent-site": "a1"}),
    # the global owner given as owners["global"]: the same as Contact.owner
    Contact(id="c4", email="four@example.com", owners={"global": "a1"}),
]
ONE, TWO, THREE, FOUR = (f"email:{n}@example.com" for n in ("one", "two", "three", "four"))


def owners(store: Any, key: str) -> tuple[str | None, dict[str, str]]:
    contact = store.facts().contact(key)
    assert contact is not None
    return contact.owner, contact.owners


def test_every_ownership_of_an_agent_is_transferred(backend: Backend) -> None:
    store = backend.open()
    store.add_contacts(CONTACTS)
    moved = store.transfer_contacts("a1", "a3", by="dana", reason="a1 left", at=T0 + H)
    assert moved == sorted([(ONE, "global"), (ONE, "channel:agent-site"), (TWO, "global"),
                            (THREE, "channel:agent-site"), (FOUR, "global")])
    assert owners(store, ONE) == ("a3", {"channel:agent-site": "a3", "market:CMLS": "a2"})
    assert owners(store, TWO) == ("a3", {})
    assert owners(store, THREE) == ("a2", {"channel:agent-site": "a3"})
    assert owners(store, FOUR) == ("a3", {})
    [entry] = store.audit()
    assert (entry.at, entry.actor, entry.action) == (T0 + H, "dana", "contacts_transferred")
    assert entry.detail == {"from": "a1", "to": "a3", "reason": "a1 left", "contact": None,
                            "scope": None, "moved": [list(pair) for pair in moved]}
    reopened = backend.open()  # kept
    assert owners(reopened, ONE) == ("a3", {"channel:agent-site": "a3", "market:CMLS": "a2"})
    # nothing left to move: an empty transfer, audited all the same
    assert store.transfer_contacts("a1", "a3", by="dana", reason="again", at=T0 + 2 * H) == []
    last = store.audit()[-1]
    assert (last.action, last.detail["moved"], last.detail["reason"]) == (
        "contacts_transferred", [], "again")


def test_a_transfer_limited_to_one_contact(backend: Backend) -> None:
    store = backend.open()
    store.add_contacts(CONTACTS)
    moved = store.transfer_contacts("a1", "a4", by="dana", reason="asked", at=T0,
                                    contact_key=ONE)
    assert moved == [(ONE, "channel:agent-site"), (ONE, "global")]
    assert owners(store, ONE) == ("a4", {"channel:agent-site": "a4", "market:CMLS": "a2"})
    assert owners(store, TWO) == ("a1", {})  # the other contacts are left as they were
    assert store.audit()[-1].detail["contact"] == ONE
    assert store.transfer_contacts("a1", "a4", by="dana", reason="asked", at=T0,
                                   contact_key="email:nobody@example.com") == []


def test_a_transfer_limited_to_one_scope(backend: Backend) -> None:
    store = backend.open()
    store.add_contacts(CONTACTS)
    moved = store.transfer_contacts("a1", "a4", by="dana", reason="channel", at=T0,
                                    scope="channel:agent-site")
    assert moved == [(ONE, "channel:agent-site"), (THREE, "channel:agent-site")]
    assert owners(store, ONE) == ("a1", {"channel:agent-site": "a4", "market:CMLS": "a2"})
    assert owners(store, THREE) == ("a2", {"channel:agent-site": "a4"})
    global_only = store.transfer_contacts("a1", "a2", by="dana", reason="global", at=T0,
                                          scope="global", contact_key=FOUR)
    assert global_only == [(FOUR, "global")]
    assert owners(store, FOUR) == ("a2", {})
    assert owners(store, TWO) == ("a1", {})
    detail = store.audit()[-1].detail
    assert (detail["contact"], detail["scope"]) == (FOUR, "global")


def test_new_decisions_follow_a_transfer(backend: Backend, rules_dir: Any) -> None:
    ruleset, world = compile_rules(rules_dir)
    store = backend.open()
    engine = Engine(ruleset, world, store, clock=ManualClock(T0))
    state = engine.submit(lead("L1", email="pat@example.com"), T0)
    assert state.pending is not None and state.pending.offer_id is not None
    engine.accept(state.pending.offer_id, state.pending.agents[0], T0 + MINUTE)
    first = state.pending.agents[0]
    assert owners(store, "email:pat@example.com")[0] == first
    other = "a4" if first != "a4" else "a1"
    assert store.transfer_contacts(first, other, by="dana", reason="left", at=T0 + H) == [
        ("email:pat@example.com", "global")]
    again = engine.submit(lead("L2", email="pat@example.com", at=T0 + 2 * H), T0 + 2 * H)
    assert again.assignee == other


def test_racing_transfers_move_each_ownership_once(durable: Backend) -> None:
    import threading

    contacts = [Contact(id=f"c{i}", email=f"c{i}@example.com", owner="a1") for i in range(200)]
    durable.open().add_contacts(contacts)
    stores = [durable.open(), durable.open()]
    moved: dict[str, list[tuple[str, str]]] = {}
    barrier = threading.Barrier(2)

    def transfer(store: Any, to: str) -> None:
        barrier.wait()
        moved[to] = store.transfer_contacts("a1", to, by=to, reason="race", at=T0)

    threads = [threading.Thread(target=transfer, args=(store, to))
               for store, to in zip(stores, ("a2", "a3"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(moved["a2"] + moved["a3"]) == sorted(
        (f"email:c{i}@example.com", "global") for i in range(200))
    reader = durable.open()
    for key, _ in moved["a2"]:
        assert owners(reader, key)[0] == "a2"
    for key, _ in moved["a3"]:
        assert owners(reader, key)[0] == "a3"


# -- lead status -------------------------------------------------------------------------------
def test_a_contact_lead_status_is_set_and_audited(backend: Backend) -> None:
    store = backend.open()
    store.add_contacts(CONTACTS)
    assert store.set_lead_status(ONE, "inactive", by="cora", reason="moved away", at=T0,
                                 lead_id="L1") == "active"
    contact = store.facts().contact(ONE)
    assert contact is not None and contact.lead_status == "inactive"
    assert owners(store, ONE) == ("a1", {"channel:agent-site": "a1", "market:CMLS": "a2"})
    assert store.set_lead_status(ONE, "active", by="cora", reason="back", at=T0 + H) \
        == "inactive"
    # a consumer the store does not know yet becomes a contact without an owner
    assert store.set_lead_status("phone:17045550142", "inactive", by="cora", reason="asked",
                                 at=T0 + H, lead_id="L9") == "active"
    new = store.facts().contact("phone:17045550142")
    assert new is not None and (new.lead_status, new.owner, new.phone) == (
        "inactive", None, "17045550142")
    entries = [e for e in store.audit() if e.action == "lead_status_set"]
    assert [(e.actor, e.at, e.detail) for e in entries] == [
        ("cora", T0, {"lead": "L1", "contact": ONE, "before": "active", "after": "inactive",
                      "reason": "moved away"}),
        ("cora", T0 + H, {"lead": None, "contact": ONE, "before": "inactive",
                          "after": "active", "reason": "back"}),
        ("cora", T0 + H, {"lead": "L9", "contact": "phone:17045550142", "before": "active",
                          "after": "inactive", "reason": "asked"}),
    ]


# -- live counts -------------------------------------------------------------------------------
def test_live_counts(backend: Backend, rules_dir: Any) -> None:
    ruleset, world = compile_rules(rules_dir)
    store = backend.open()
    assert store.live_counts(T0, 60) == LiveCounts(0, 0, 0, 0)
    engine = Engine(ruleset, world, store, clock=ManualClock(T0))
    engine.submit(lead("L1"), T0)  # an offer for an hour: a deadline at T0 + 1h
    engine.submit(lead("L2"), T0)
    assert store.add_inbox(lead("L3"), ruleset.version, T0 + 10 * MINUTE)  # due at once
    assert store.live_counts(T0, 60) == LiveCounts(offers_open=2, timers_due=0,
                                                   timers_late=0, leads=3)
    # at T0 + 1h the deadlines are due (not late yet), the inbox entry for 50 minutes
    assert store.live_counts(T0 + H, 60) == LiveCounts(2, 3, 1, 3)
    # due at or before now; late when due more than late_after seconds before now
    assert store.live_counts(T0 + H + 60 * timedelta(seconds=1), 60).timers_late == 1
    assert store.live_counts(T0 + H + 61 * timedelta(seconds=1), 60).timers_late == 3
    claimed = store.claim_due_timers(T0 + 2 * H, "w", 30)
    assert len(claimed) == 3
    assert store.live_counts(T0 + 2 * H, 60) == LiveCounts(2, 3, 3, 3)  # leased: still due
    inbox = next(t for t in claimed if t.purpose == "inbox")
    store.timer_failed(inbox.timer_id, "boom", T0 + 3 * H)  # held back: still due
    deadline = next(t for t in claimed if t.purpose != "inbox")
    store.fired(deadline.timer_id)  # done: not counted any more
    assert store.live_counts(T0 + 2 * H, 60) == LiveCounts(2, 2, 2, 3)
    offer = store.offers("L1")[0]
    engine.accept(offer.offer_id, offer.agents[0], T0 + 2 * MINUTE)  # closes L1's offer
    counts = store.live_counts(T0 + 2 * H, 3 * 3600)
    assert (counts.offers_open, counts.timers_late) == (1, 0)


def test_the_memory_store_has_the_current_schema_version() -> None:
    assert MemoryStore().schema_version() == SCHEMA_VERSION == 6


# -- upgrading a version-4 database --------------------------------------------------------------
def _run_raw(backend: Backend, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    if backend.kind == "sqlite":
        conn = sqlite3.connect(backend.url.removeprefix("sqlite:///"))
        with conn:
            for statement, params in statements:
                conn.execute(statement, params)
        conn.close()
    else:
        with psycopg.connect(backend.url, autocommit=True) as pg:
            for statement, params in statements:
                pg.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]


def test_a_version_4_store_is_upgraded_with_its_data(durable: Backend) -> None:
    dialect = SQLITE if durable.kind == "sqlite" else POSTGRES
    assert upgrade_statements(dialect, 4) == [
        *migration_statements(dialect, 5), *migration_statements(dialect, 6)]
    at: Any = T0.isoformat(timespec="microseconds") if durable.kind == "sqlite" else T0
    old = lead("L-old")
    j = dialect.json_param
    ddl = [(s, ()) for v in range(1, 5) for s in migration_statements(dialect, v)]
    _run_raw(durable, [
        ("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", ()),
        ("INSERT INTO meta (key, value) VALUES ('schema_version', '4')", ()),
        *ddl,
        (f"INSERT INTO leads (id, ruleset_version, lead) VALUES (?, 'v0', {j})",
         ("L-old", old.model_dump_json())),
        ("INSERT INTO timers (id, lead_id, due, purpose) VALUES (?, ?, ?, ?)",
         ("L-old:t1", "L-old", at, "hold")),
        (f"INSERT INTO contacts (key, contact) VALUES (?, {j})",
         (ONE, '{"id": "c1", "email": "one@example.com"}')),
        ("INSERT INTO contact_owners (contact_key, scope, agent) VALUES (?, 'global', 'a1')",
         (ONE,)),
        (f"INSERT INTO audit (at, actor, action, detail) VALUES (?, 'ana', 'load', {j})",
         (at, '{"ruleset": "v0"}')),
    ])
    store = durable.open()
    assert store.schema_version() == SCHEMA_VERSION == 6
    assert store.get_lead("L-old") == old
    assert [(e.actor, e.action, e.detail) for e in store.audit()] == [
        ("ana", "load", {"ruleset": "v0"})]
    assert store.tokens() == []
    assert store.live_counts(T0 + H, 60) == LiveCounts(0, 1, 1, 1)
    assert store.transfer_contacts("a1", "a2", by="dana", reason="r", at=T0) == [
        (ONE, "global")]
    assert owners(store, ONE) == ("a2", {})
    store.put_token(token("0123456789ab"), "h")
    assert store.token("0123456789ab") == (token("0123456789ab"), "h")
    assert actions(store) == ["load", "contacts_transferred", "token_created"]
