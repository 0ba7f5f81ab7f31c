"""What the SQLite and PostgreSQL stores share: the schema, its migrations, and the queries.

The two adapters differ only in how they open connections and transactions (see
:mod:`rulekit.storage.sqlite` and :mod:`rulekit.storage.postgres`).  The SQL here is written
once, with ``?`` placeholders and three dialect words (:class:`Dialect`): the type of JSON
columns (TEXT / JSONB), of instants (TEXT in UTC ISO-8601 / TIMESTAMPTZ) and of generated ids.

The contract of :mod:`rulekit.storage.base` is enforced by the database itself: unique keys,
conditional updates whose row count is checked, and one transaction per decision.

Opening a store creates the schema (:mod:`rulekit.storage.sql_schema`) if the database is
empty, applies the missing migration steps in order to an older one, and refuses a newer one
with :class:`SchemaTooNew`.  Copying between stores is in :mod:`rulekit.storage.transfer`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from rulekit import __version__
from rulekit.lifecycle import Conflict, change, seeded, snapshot, transferred
from rulekit.model import Contact, Lead
from rulekit.pipeline.effects import Effect, ReportConflict
from rulekit.pipeline.facts import blank_contact
from rulekit.pipeline.sla import CONTACT_MISSED, CONTACT_PAUSE
from rulekit.pipeline.state import LeadState
from rulekit.storage.base import (
    CONTACT_CHANGED,
    CONTACTS_TRANSFERRED,
    DEAD,
    INBOX,
    LEAD_STATUS_SET,
    PENDING,
    RETRY_HOLDER,
    SENT,
    TOKEN_CREATED,
    TOKEN_REVOKED,
    Assignment,
    AuditEntry,
    Delivery,
    DueTimer,
    LiveCounts,
    NewDelivery,
    OutboxMessage,
    QueueItem,
    StaleState,
    StoredOffer,
    StoredRuleset,
    StoredToken,
    StoredWorld,
    contact_change_detail,
    delivery_message_id,
    inbox_timer_id,
    lead_status_detail,
    token_created_detail,
    token_revoked_detail,
    transfer_detail,
)
from rulekit.storage.memory import contact_key_of
from rulekit.storage.sql_schema import (
    GLOBAL,
    MIGRATIONS,
    POSTGRES,
    SCHEMA_VERSION,
    SQLITE,
    Dialect,
    SchemaTooNew,
    migration_statements,
)
from rulekit.storage.sql_writes import (
    Stamp,
    Write,
    contact_json,
    decision_writes,
    instant,
)
from rulekit.trace import Trace, encode_json

__all__ = [
    "GLOBAL",
    "MIGRATIONS",
    "POSTGRES",
    "SCHEMA_VERSION",
    "SQLITE",
    "Dialect",
    "SchemaNotMigrated",
    "SchemaTooNew",
    "SqlFacts",
    "SqlStore",
    "Tx",
    "Write",
    "migration_statements",
    "upgrade_statements",
]

#: The table of schema versions, created first in an empty database.
META_TABLE = "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


def upgrade_statements(dialect: Dialect, current: int, *, has_meta: bool = True) -> list[str]:
    """The DDL that takes a schema at version ``current`` (0: none) to :data:`SCHEMA_VERSION`,
    in order: the ``meta`` table first when there is none, then each missing migration step.
    (The versions are then recorded in ``meta``.)"""
    statements = [] if has_meta else [META_TABLE]
    for version in range(current + 1, SCHEMA_VERSION + 1):
        statements += migration_statements(dialect, version)
    return statements


class SchemaNotMigrated(RuntimeError):
    """A store opened without migrating (``migrate=False``) found no rulekit schema, or an
    older one.  ``statements`` are the DDL that migrating would run
    (:func:`upgrade_statements`); ``rulekit migrate`` runs them."""

    def __init__(self, dialect: Dialect, current: int, statements: Sequence[str]) -> None:
        self.dialect = dialect
        self.current = current
        self.target = SCHEMA_VERSION
        self.statements = list(statements)
        what = ("has no rulekit schema" if current == 0
                else f"has schema version {current} < {SCHEMA_VERSION}")
        super().__init__(f"this database {what}")


# -- values ------------------------------------------------------------------------------------
def read_instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def read_optional_instant(value: Any) -> datetime | None:
    return None if value is None else read_instant(value)


def contact_owner_rows(contact: Contact) -> list[tuple[str, str]]:
    rows = [(scope, agent) for scope, agent in contact.owners.items() if scope != GLOBAL]
    owner = contact.owner or contact.owners.get(GLOBAL)
    if owner:
        rows.insert(0, (GLOBAL, owner))
    return rows


# -- the database, seen through one transaction ---------------------------------------------------
class Tx(ABC):
    """One transaction (or one autocommitted read) on a connection."""

    @abstractmethod
    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement; the number of rows it changed."""

    @abstractmethod
    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row of a query."""

    @abstractmethod
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""

    def write_all(self, writes: Sequence[Write]) -> None:
        """Execute the writes in order; raise :class:`StaleState` when a write that names a
        problem did not change exactly one row."""
        for sql, params, problem in writes:
            if self.run(sql, params) != 1 and problem is not None:
                raise StaleState(problem)


class SqlFacts:
    """:class:`rulekit.pipeline.facts.Facts` read from the database, one indexed query each."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def contact(self, key: str) -> Contact | None:
        with self._store.reading() as tx:
            rows = tx.all(
                "SELECT c.contact, o.scope, o.agent FROM contacts AS c"
                " LEFT JOIN contact_owners AS o ON o.contact_key = c.key"
                " WHERE c.key = ?", (key,))
        if not rows:
            return None
        data = json.loads(rows[0][0])
        owners = {scope: agent for _, scope, agent in rows if scope is not None}
        data["owner"] = owners.pop(GLOBAL, None)
        data["owners"] = owners
        return Contact.model_validate(data)

    def rotation(self, pool_key: str) -> tuple[str | None, int]:
        with self._store.reading() as tx:
            row = tx.one("SELECT last_agent, last_index FROM rotations WHERE pool_key = ?",
                         (pool_key,))
        return (None, -1) if row is None else (row[0], int(row[1]))

    def load(self, agent: str) -> int:
        with self._store.reading() as tx:
            row = tx.one("SELECT load FROM agents WHERE agent = ?", (agent,))
        return 0 if row is None else int(row[0])

    def last_offered(self, agent: str) -> datetime | None:
        with self._store.reading() as tx:
            row = tx.one("SELECT last_offered FROM agents WHERE agent = ?", (agent,))
        return None if row is None else read_optional_instant(row[0])

    def contact_misses(self, agent: str) -> int:
        """The agent's ``contact_missed`` audit entries after their last ``contact_pause``,
        counted by the database (read on a missed SLA only)."""
        whose = ("detail->>'agent'" if self._store.dialect.name == "postgresql"
                 else "json_extract(detail, '$.agent')")
        with self._store.reading() as tx:
            row = tx.one(f"SELECT COUNT(*) FROM audit WHERE action = ? AND {whose} = ? AND seq >"
                         f" COALESCE((SELECT MAX(seq) FROM audit WHERE action = ? AND {whose} = ?),"
                         " 0)", (CONTACT_MISSED, agent, CONTACT_PAUSE, agent))
        return 0 if row is None else int(row[0])


class SqlStore(ABC):
    """A :class:`rulekit.storage.base.Store` over SQL; subclasses provide transactions."""

    dialect: Dialect

    # -- provided by the adapters ------------------------------------------------------------
    @abstractmethod
    def writing(self) -> AbstractContextManager[Tx]:
        """A write transaction, committed on exit, rolled back on an exception."""

    @abstractmethod
    def reading(self) -> AbstractContextManager[Tx]:
        """A read (autocommit, or a read-only transaction)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connections."""

    # -- schema ------------------------------------------------------------------------------
    def _migrate(self, tx: Tx, has_meta: bool, *, migrate: bool = True) -> int:
        """Bring the schema to :data:`SCHEMA_VERSION`, inside the caller's transaction; the
        version found.  With ``migrate=False`` nothing is changed: a missing or older schema
        raises :class:`SchemaNotMigrated`."""
        current = 0
        if has_meta:
            row = tx.one("SELECT value FROM meta WHERE key = 'schema_version'")
            current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            row = tx.one("SELECT value FROM meta WHERE key = 'rulekit_version'")
            needed = row[0] if row else "a newer version"
            raise SchemaTooNew(
                f"this {self.dialect.name} store has schema version {current}, written by "
                f"rulekit {needed}; rulekit {__version__} reads schema versions up to "
                f"{SCHEMA_VERSION}: upgrade rulekit to {needed} or later to open it")
        statements = upgrade_statements(self.dialect, current, has_meta=has_meta)
        if not migrate:
            if current < SCHEMA_VERSION:
                raise SchemaNotMigrated(self.dialect, current, statements)
            return current
        for statement in statements:
            tx.run(statement)
        if current < SCHEMA_VERSION:
            for key, value in (("schema_version", str(SCHEMA_VERSION)),
                               ("rulekit_version", __version__)):
                tx.run("INSERT INTO meta (key, value) VALUES (?, ?)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
        return current

    def schema_version(self) -> int:
        with self.reading() as tx:
            row = tx.one("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(row[0]) if row else 0

    # -- seeding -----------------------------------------------------------------------------
    def add_contacts(self, contacts: Sequence[Contact]) -> None:
        """Known contacts (from the world file) with their owners; a known key is kept."""
        with self.writing() as tx:
            for contact in contacts:
                key = contact_key_of(contact)
                if not key:
                    continue
                added = tx.run(
                    f"INSERT INTO contacts (key, contact) VALUES (?, {self.dialect.json_param})"
                    " ON CONFLICT (key) DO NOTHING", (key, contact_json(seeded(contact))))
                if added:
                    for scope, agent in contact_owner_rows(contact):
                        tx.run("INSERT INTO contact_owners (contact_key, scope, agent)"
                               " VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (key, scope, agent))

    # -- leads -------------------------------------------------------------------------------
    def autocommitted(self) -> AbstractContextManager[Tx]:
        """For one statement that is a transaction by itself (one round trip, no BEGIN)."""
        return self.writing()

    def add_lead(self, lead: Lead, ruleset_version: str) -> bool:
        with self.autocommitted() as tx:
            return tx.run(
                "INSERT INTO leads (id, ruleset_version, lead)"
                f" VALUES (?, ?, {self.dialect.json_param}) ON CONFLICT (id) DO NOTHING",
                (lead.id, ruleset_version, lead.model_dump_json())) == 1

    def get_lead(self, lead_id: str) -> Lead | None:
        with self.reading() as tx:
            row = tx.one("SELECT lead FROM leads WHERE id = ?", (lead_id,))
        return None if row is None else Lead.model_validate_json(row[0])

    def ruleset_version(self, lead_id: str) -> str | None:
        """The rule set version the lead was stored with."""
        with self.reading() as tx:
            row = tx.one("SELECT ruleset_version FROM leads WHERE id = ?", (lead_id,))
        return None if row is None else str(row[0])

    def get_state(self, lead_id: str) -> LeadState | None:
        with self.reading() as tx:
            row = tx.one("SELECT state FROM lead_states WHERE lead_id = ?", (lead_id,))
        return None if row is None else LeadState.from_dict(json.loads(row[0]))

    def lead_ids(self) -> Iterator[str]:
        with self.reading() as tx:
            rows = tx.all("SELECT id FROM leads ORDER BY seq")
        return iter([row[0] for row in rows])

    def facts(self) -> SqlFacts:
        return SqlFacts(self)

    def contact(self, key: str) -> Contact | None:
        return self.facts().contact(key)

    def offer_lead(self, offer_id: str) -> str | None:
        with self.reading() as tx:
            row = tx.one("SELECT lead_id FROM offers WHERE id = ?", (offer_id,))
        return None if row is None else str(row[0])

    # -- one decision, in one transaction ----------------------------------------------------
    #: An instant as the database takes it (a UTC datetime, or text where instants are text).
    stamp: Stamp = staticmethod(instant)

    def committing(self) -> AbstractContextManager[Tx]:
        """The transaction of :meth:`commit` (adapters may pipeline its statements)."""
        return self.writing()

    def commit(self, lead_id: str, expected_serial: int | None, state: LeadState,
               effects: Sequence[Effect], trace: Trace, now: datetime,
               lead: Lead | None = None) -> None:
        writes = decision_writes(self.dialect, self.stamp, lead_id, expected_serial, state,
                                 effects, trace, now, lead)
        with self.committing() as tx:
            tx.write_all(writes)

    def fired(self, timer_id: str) -> None:
        """A timer's event was committed: it is done."""
        with self.writing() as tx:
            tx.run("DELETE FROM timers WHERE id = ?", (timer_id,))

    # -- timers ------------------------------------------------------------------------------
    def claim_due_timers(self, now: datetime, worker: str, lease: float,
                         limit: int = 100, *, clock_now: datetime | None = None
                         ) -> list[DueTimer]:
        at = instant(now)
        wall = at if clock_now is None else instant(clock_now)
        until = wall + timedelta(seconds=lease)
        claimable = ("due <= ? AND (leased_by IS NULL OR leased_by = ? OR leased_until <= ?)")
        with self.writing() as tx:
            rows = tx.all(f"SELECT id, lead_id, due, purpose, attempts FROM timers"
                          f" WHERE {claimable} ORDER BY due, id LIMIT ? {self.dialect.lock_due}",
                          (at, worker, wall, limit))
            claimed: list[DueTimer] = []
            for timer_id, lead_id, due, purpose, attempts in rows:
                if tx.run("UPDATE timers SET leased_by = ?, leased_until = ?"
                          f" WHERE id = ? AND {claimable}",
                          (worker, until, timer_id, at, worker, wall)):
                    claimed.append(DueTimer(timer_id, lead_id, read_instant(due), purpose,
                                            int(attempts)))
            return claimed

    def timer_failed(self, timer_id: str, error: str, retry_at: datetime) -> int:
        with self.writing() as tx:
            row = tx.one("UPDATE timers SET attempts = attempts + 1, last_error = ?,"
                         " leased_by = ?, leased_until = ? WHERE id = ? RETURNING attempts",
                         (error, RETRY_HOLDER, instant(retry_at), timer_id))
        return 0 if row is None else int(row[0])

    def add_inbox(self, lead: Lead, ruleset_version: str, now: datetime) -> bool:
        with self.writing() as tx:
            if tx.one("SELECT 1 FROM lead_states WHERE lead_id = ?", (lead.id,)):
                return False
            tx.run("INSERT INTO leads (id, ruleset_version, lead)"
                   f" VALUES (?, ?, {self.dialect.json_param}) ON CONFLICT (id) DO NOTHING",
                   (lead.id, ruleset_version, lead.model_dump_json()))
            tx.run("INSERT INTO timers (id, lead_id, due, purpose) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (id) DO NOTHING",
                   (inbox_timer_id(lead.id), lead.id, instant(now), INBOX))
            return True

    def next_timer_due(self) -> datetime | None:
        with self.reading() as tx:
            row = tx.one("SELECT MIN(due) FROM timers")
        return None if row is None else read_optional_instant(row[0])

    # -- reading -----------------------------------------------------------------------------
    def traces(self, lead_id: str) -> list[Trace]:
        with self.reading() as tx:
            rows = tx.all("SELECT trace FROM traces WHERE lead_id = ? ORDER BY seq", (lead_id,))
        return [Trace.from_json(json.loads(row[0])) for row in rows]

    def offers(self, lead_id: str | None = None) -> list[StoredOffer]:
        sql = ("SELECT id, lead_id, agents, mode, status, created_at, deadline, winner,"
               " closed_at, rule FROM offers")
        with self.reading() as tx:
            rows = (tx.all(sql + " ORDER BY seq") if lead_id is None else
                    tx.all(sql + " WHERE lead_id = ? ORDER BY seq", (lead_id,)))
        return [StoredOffer(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], read_instant(r[5]),
                            read_optional_instant(r[6]), r[7], read_optional_instant(r[8]), r[9])
                for r in rows]

    def assignments(self, lead_id: str | None = None) -> list[Assignment]:
        sql = "SELECT lead_id, agent, how, at, rule FROM assignments"
        with self.reading() as tx:
            rows = (tx.all(sql + " ORDER BY seq") if lead_id is None else
                    tx.all(sql + " WHERE lead_id = ? ORDER BY seq", (lead_id,)))
        return [Assignment(r[0], r[1], r[2], read_instant(r[3]), r[4]) for r in rows]

    def queue_items(self, queue: str | None = None) -> list[QueueItem]:
        sql = "SELECT lead_id, queue, reason, at FROM queue_items"
        with self.reading() as tx:
            rows = (tx.all(sql + " ORDER BY seq") if queue is None else
                    tx.all(sql + " WHERE queue = ? ORDER BY seq", (queue,)))
        return [QueueItem(r[0], r[1], r[2], read_instant(r[3])) for r in rows]

    def outbox(self, *, unsent_only: bool = False,
               only: int | None = None) -> list[OutboxMessage]:
        sql = ("SELECT id, lead_id, template, recipients, cc, subject, variables, created_at,"
               " sent_at, offer_id, deadline FROM outbox"
               + (" WHERE sent_at IS NULL" if unsent_only else "")
               + (" WHERE id = ?" if only is not None else "") + " ORDER BY id")
        with self.reading() as tx:
            rows = tx.all(sql, () if only is None else (only,))
        return [OutboxMessage(int(r[0]), r[1], r[2], tuple(json.loads(r[3])),
                              tuple(json.loads(r[4])), r[5], json.loads(r[6]),
                              read_instant(r[7]), read_optional_instant(r[8]), r[9],
                              read_optional_instant(r[10]))
                for r in rows]

    # -- deliveries ------------------------------------------------------------------------
    _DELIVERY_COLUMNS = ("id, outbox_id, lead_id, recipient, role, channel, address, message_id,"
                         " status, attempts, due, last_error, sent_at")

    @staticmethod
    def _delivery_of_row(r: Sequence[Any]) -> Delivery:
        return Delivery(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                        int(r[9]), read_instant(r[10]), r[11], read_optional_instant(r[12]))

    def plan_deliveries(self, outbox_id: int, planned: Sequence[NewDelivery],
                        now: datetime) -> bool:
        """The conditional ``UPDATE`` decides the one caller that plans the message."""
        at = instant(now)
        with self.writing() as tx:
            if not tx.run("UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
                          (at, outbox_id)):
                return False
            lead = tx.one("SELECT lead_id FROM outbox WHERE id = ?", (outbox_id,))
            assert lead is not None
            for index, new in enumerate(planned, 1):
                tx.run("INSERT INTO deliveries (outbox_id, lead_id, recipient, role, channel,"
                       " address, message_id, status, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (outbox_id, lead[0], new.recipient, new.role, new.channel, new.address,
                        delivery_message_id(outbox_id, index), PENDING, at))
            return True

    def claim_deliveries(self, now: datetime, worker: str, lease: float,
                         limit: int = 50) -> list[Delivery]:
        at = instant(now)
        until = at + timedelta(seconds=lease)
        claimable = "status = ? AND due <= ? AND (leased_by IS NULL OR leased_until <= ?)"
        with self.writing() as tx:
            rows = tx.all(f"SELECT {self._DELIVERY_COLUMNS} FROM deliveries WHERE {claimable}"
                          f" ORDER BY due, id LIMIT ? {self.dialect.lock_due}",
                          (PENDING, at, at, limit))
            claimed = []
            for row in rows:
                if tx.run("UPDATE deliveries SET leased_by = ?, leased_until = ?"
                          f" WHERE id = ? AND {claimable}",
                          (worker, until, row[0], PENDING, at, at)):
                    claimed.append(self._delivery_of_row(row))
            return claimed

    def delivery_sent(self, delivery_id: int, at: datetime) -> None:
        with self.writing() as tx:
            tx.run("UPDATE deliveries SET status = ?, sent_at = ?, leased_by = NULL,"
                   " leased_until = NULL WHERE id = ?", (SENT, instant(at), delivery_id))

    def delivery_failed(self, delivery_id: int, error: str,
                        retry_at: datetime | None) -> int:
        with self.writing() as tx:
            row = tx.one("UPDATE deliveries SET attempts = attempts + 1, last_error = ?,"
                         " status = ?, due = COALESCE(?, due), leased_by = NULL,"
                         " leased_until = NULL WHERE id = ? AND status = ? RETURNING attempts",
                         (error[:2000], PENDING if retry_at is not None else DEAD,
                          None if retry_at is None else instant(retry_at), delivery_id,
                          PENDING))
        return 0 if row is None else int(row[0])

    def deliveries(self, status: str | None = None,
                   outbox_id: int | None = None) -> list[Delivery]:
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if outbox_id is not None:
            where.append("outbox_id = ?")
            params.append(outbox_id)
        sql = f"SELECT {self._DELIVERY_COLUMNS} FROM deliveries" + (
            " WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with self.reading() as tx:
            rows = tx.all(sql, params)
        return [self._delivery_of_row(r) for r in rows]

    def outbox_message(self, message_id: int) -> OutboxMessage | None:
        found = self.outbox(only=message_id)
        return found[0] if found else None

    def delivery_counts(self) -> dict[str, int]:
        with self.reading() as tx:
            rows = tx.all("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
        return {str(status): int(count) for status, count in rows}

    def requeue_delivery(self, delivery_id: int, now: datetime) -> bool:
        with self.writing() as tx:
            return bool(tx.run("UPDATE deliveries SET status = ?, due = ?, attempts = 0,"
                               " leased_by = NULL, leased_until = NULL"
                               " WHERE id = ? AND status <> ?",
                               (PENDING, instant(now), delivery_id, SENT)))

    def mark_sent(self, message_ids: Sequence[int], at: datetime) -> None:
        sent = instant(at)
        with self.writing() as tx:
            for message_id in message_ids:
                tx.run("UPDATE outbox SET sent_at = ? WHERE id = ?", (sent, message_id))

    def conflicts(self) -> list[ReportConflict]:
        with self.reading() as tx:
            rows = tx.all("SELECT contact_key, owner, entered_by, scope_key FROM conflicts"
                          " ORDER BY seq")
        return [ReportConflict(r[0], r[1], r[2], r[3]) for r in rows]

    def contact_conflicts(self, contact_key: str) -> list[Conflict]:
        with self.reading() as tx:
            return self._conflicts_in(tx, contact_key)

    @staticmethod
    def _conflicts_in(tx: Tx, contact_key: str) -> list[Conflict]:
        rows = tx.all("SELECT owner, entered_by, scope_key, lead_id FROM conflicts"
                      " WHERE contact_key = ? ORDER BY seq", (contact_key,))
        return [Conflict(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    def _locked_contact(self, tx: Tx, key: str) -> dict[str, Any] | None:
        """The stored fields of a contact (its owners are rows of their own), its row locked
        for the rest of the transaction (PostgreSQL ``FOR UPDATE``; SQLite writes one at a
        time); ``None`` when it is not stored."""
        row = tx.one(f"SELECT contact FROM contacts WHERE key = ? {self.dialect.lock_row}",
                     (key,))
        if row is None:
            return None
        data: dict[str, Any] = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        return data

    # -- the catalog: rule sets and worlds by version, the active ones, the audit history --------
    def put_ruleset(self, version: str, files: Mapping[str, str], root: str, by: str,
                    now: datetime) -> bool:
        at = instant(now)
        with self.writing() as tx:
            if not tx.run("INSERT INTO rulesets (version, root, created_at, created_by)"
                          " VALUES (?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
                          (version, root, at, by)):
                return False
            for path, text in sorted(files.items()):
                tx.run("INSERT INTO ruleset_files (version, path, text) VALUES (?, ?, ?)",
                       (version, path, text))
            return True

    def ruleset_files(self, version: str) -> StoredRuleset | None:
        with self.reading() as tx:
            head = tx.one("SELECT root FROM rulesets WHERE version = ?", (version,))
            if head is None:
                return None
            rows = tx.all("SELECT path, text FROM ruleset_files WHERE version = ?"
                          " ORDER BY path", (version,))
        return StoredRuleset(version, str(head[0]), {str(p): str(t) for p, t in rows})

    def put_world(self, version: str, path: str, text: str, by: str, now: datetime) -> bool:
        with self.writing() as tx:
            return tx.run("INSERT INTO worlds (version, path, text, created_at, created_by)"
                          " VALUES (?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
                          (version, path, text, instant(now), by)) == 1

    def world_text(self, version: str) -> StoredWorld | None:
        with self.reading() as tx:
            row = tx.one("SELECT path, text FROM worlds WHERE version = ?", (version,))
        return None if row is None else StoredWorld(version, str(row[0]), str(row[1]))

    def activate(self, versions: Mapping[str, str], by: str, action: str,
                 detail: Mapping[str, Any], now: datetime) -> None:
        at = instant(now)
        with self.writing() as tx:
            for kind, version in sorted(versions.items()):
                tx.run("INSERT INTO active_versions (kind, version, activated_at, activated_by)"
                       " VALUES (?, ?, ?, ?) ON CONFLICT (kind) DO UPDATE SET"
                       " version = excluded.version, activated_at = excluded.activated_at,"
                       " activated_by = excluded.activated_by", (kind, version, at, by))
            tx.run("INSERT INTO audit (at, actor, action, detail)"
                   f" VALUES (?, ?, ?, {self.dialect.json_param})",
                   (at, by, action, encode_json(dict(detail))))

    def active_versions(self) -> dict[str, str]:
        with self.reading() as tx:
            rows = tx.all("SELECT kind, version FROM active_versions")
        return {str(kind): str(version) for kind, version in rows}

    def audit(self) -> list[AuditEntry]:
        with self.reading() as tx:
            rows = tx.all("SELECT seq, at, actor, action, detail FROM audit ORDER BY seq")
        return [AuditEntry(int(r[0]), read_instant(r[1]), r[2], r[3], json.loads(r[4]))
                for r in rows]

    # -- access: tokens, audit entries, ownership transfers, live counts ----------------------
    def _audit_row(self, tx: Tx, at: datetime, actor: str, action: str,
                   detail: Mapping[str, Any]) -> None:
        tx.run("INSERT INTO audit (at, actor, action, detail)"
               f" VALUES (?, ?, ?, {self.dialect.json_param})",
               (instant(at), actor, action, encode_json(dict(detail))))

    def put_token(self, token: StoredToken, secret_hash: str) -> None:
        with self.writing() as tx:
            if not tx.run(
                    "INSERT INTO tokens (token_id, secret_hash, role, agent, sources, label,"
                    f" created_at, created_by, revoked_at) VALUES (?, ?, ?, ?,"
                    f" {self.dialect.json_param}, ?, ?, ?, ?) ON CONFLICT (token_id) DO NOTHING",
                    (token.token_id, secret_hash, token.role, token.agent,
                     encode_json(list(token.sources)), token.label, instant(token.created_at),
                     token.created_by,
                     None if token.revoked_at is None else instant(token.revoked_at))):
                raise ValueError(f"token {token.token_id} is stored already")
            self._audit_row(tx, token.created_at, token.created_by, TOKEN_CREATED,
                            token_created_detail(token))

    _TOKEN_COLUMNS = ("token_id, role, agent, sources, label, created_at, created_by,"
                      " revoked_at")

    @staticmethod
    def _token_of_row(row: Sequence[Any]) -> StoredToken:
        return StoredToken(str(row[0]), str(row[1]), row[2], tuple(json.loads(row[3])),
                           str(row[4]), read_instant(row[5]), str(row[6]),
                           read_optional_instant(row[7]))

    def token(self, token_id: str) -> tuple[StoredToken, str] | None:
        with self.reading() as tx:
            row = tx.one(f"SELECT {self._TOKEN_COLUMNS}, secret_hash FROM tokens"
                         " WHERE token_id = ?", (token_id,))
        return None if row is None else (self._token_of_row(row), str(row[8]))

    def tokens(self) -> list[StoredToken]:
        with self.reading() as tx:
            rows = tx.all(f"SELECT {self._TOKEN_COLUMNS} FROM tokens"
                          " ORDER BY created_at, token_id")
        return [self._token_of_row(row) for row in rows]

    def revoke_token(self, token_id: str, by: str, at: datetime) -> bool:
        with self.writing() as tx:
            rows = tx.all("UPDATE tokens SET revoked_at = ?"
                          " WHERE token_id = ? AND revoked_at IS NULL"
                          " RETURNING role, agent, label", (instant(at), token_id))
            if not rows:
                return False
            role, agent, label = rows[0]
            self._audit_row(tx, at, by, TOKEN_REVOKED,
                            token_revoked_detail(token_id, role, agent, label))
            return True

    def record_audit(self, actor: str, action: str, detail: Mapping[str, Any],
                     at: datetime) -> None:
        with self.writing() as tx:
            self._audit_row(tx, at, actor, action, detail)

    def transfer_contacts(self, from_agent: str, to_agent: str, *, by: str, reason: str,
                          at: datetime, contact_key: str | None = None,
                          scope: str | None = None) -> list[tuple[str, str]]:
        """One conditional ``UPDATE … RETURNING``: under concurrent transfers (PostgreSQL's
        read committed re-checks the row it waited for) each row moves once, to one agent.
        The global owner is the ``global`` scope row (see :func:`contact_owner_rows`)."""
        where, params = "agent = ?", [to_agent, from_agent]
        if contact_key is not None:
            where += " AND contact_key = ?"
            params.append(contact_key)
        if scope is not None:
            where += " AND scope = ?"
            params.append(scope)
        with self.writing() as tx:
            rows = tx.all(f"UPDATE contact_owners SET agent = ? WHERE {where}"
                          " RETURNING contact_key, scope", params)
            moved = sorted((str(key), str(scope_key)) for key, scope_key in rows)
            for key in sorted({key for key, scope_key in moved if scope_key == GLOBAL}):
                self._transferred(tx, key, to_agent)
            self._audit_row(tx, at, by, CONTACTS_TRANSFERRED, transfer_detail(
                from_agent, to_agent, reason, contact_key, scope, moved))
        return moved

    def _transferred(self, tx: Tx, key: str, to_agent: str) -> None:
        """The status and shares of a contact whose global ownership moved to ``to_agent``
        (see :func:`rulekit.lifecycle.transferred`)."""
        data = self._locked_contact(tx, key)
        if data is None:
            return
        after = transferred(Contact.model_validate({**data, "owner": to_agent}), to_agent)
        tx.run(f"UPDATE contacts SET contact = {self.dialect.json_param} WHERE key = ?",
               (contact_json(after), key))

    def set_lead_status(self, contact_key: str, status: str, *, by: str, reason: str,
                        at: datetime, lead_id: str | None = None) -> str:
        """The contact row is read locked (PostgreSQL ``FOR UPDATE``; SQLite writes one at a
        time), so the status before is the one this write replaced."""
        with self.writing() as tx:
            data = self._locked_contact(tx, contact_key)
            if data is None:
                data = json.loads(contact_json(blank_contact(contact_key)))
            before = str(data.get("lead_status") or "active")
            data["lead_status"] = status
            tx.run(f"INSERT INTO contacts (key, contact) VALUES (?, {self.dialect.json_param})"
                   " ON CONFLICT (key) DO UPDATE SET contact = excluded.contact",
                   (contact_key, json.dumps(data)))
            self._audit_row(tx, at, by, LEAD_STATUS_SET, lead_status_detail(
                lead_id, contact_key, before, status, reason))
        return before

    def change_contact(self, contact_key: str, action: str, *, by: str, reason: str,
                       at: datetime, agent: str | None = None, status: str | None = None,
                       lead_id: str | None = None) -> tuple[Contact | None, Contact]:
        """The contact row is read locked (PostgreSQL ``FOR UPDATE``; SQLite writes one at a
        time), so the action runs on the contact as this transaction replaces it; its owner
        rows are written again from the contact after."""
        with self.writing() as tx:
            data = self._locked_contact(tx, contact_key)
            before = None
            if data is not None:
                owners = {str(scope): str(agent) for scope, agent in tx.all(
                    "SELECT scope, agent FROM contact_owners WHERE contact_key = ?",
                    (contact_key,))}
                data["owner"] = owners.pop(GLOBAL, None)
                data["owners"] = owners
                before = Contact.model_validate(data)
            after = change(before, contact_key, action, agent=agent, status=status,
                           conflicts=self._conflicts_in(tx, contact_key))
            tx.run(f"UPDATE contacts SET contact = {self.dialect.json_param} WHERE key = ?",
                   (contact_json(after), contact_key))
            tx.run("DELETE FROM contact_owners WHERE contact_key = ?", (contact_key,))
            for scope, owner in contact_owner_rows(after):
                tx.run("INSERT INTO contact_owners (contact_key, scope, agent) VALUES (?, ?, ?)",
                       (contact_key, scope, owner))
            self._audit_row(tx, at, by, CONTACT_CHANGED, contact_change_detail(
                lead_id, contact_key, action, agent, snapshot(before), snapshot(after),
                reason))
        return before, after

    def live_counts(self, now: datetime, late_after: float) -> LiveCounts:
        """One statement, so the four counts are of one moment."""
        at = instant(now)
        late = at - timedelta(seconds=late_after)
        with self.reading() as tx:
            row = tx.one("SELECT (SELECT COUNT(*) FROM offers WHERE status = 'open'),"
                         " (SELECT COUNT(*) FROM timers WHERE due <= ?),"
                         " (SELECT COUNT(*) FROM timers WHERE due <= ? AND due < ?),"
                         " (SELECT COUNT(*) FROM leads)", (at, at, late))
        assert row is not None
        return LiveCounts(offers_open=int(row[0]), timers_due=int(row[1]),
                          timers_late=int(row[2]), leads=int(row[3]))

    def snapshot(self) -> dict[str, Any]:
        """Counts, for tests and reports."""
        counts: dict[str, Any] = {}
        with self.reading() as tx:
            for table in ("leads", "offers", "timers", "outbox"):
                row = tx.one(f"SELECT COUNT(*) FROM {table}")
                counts[table] = int(row[0]) if row else 0
        return counts

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
