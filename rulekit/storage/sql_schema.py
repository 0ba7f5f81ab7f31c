"""The SQL schema shared by the SQLite and PostgreSQL stores, and its migrations.

The DDL is written once, with three dialect words (:class:`Dialect`): the type of JSON columns
(TEXT / JSONB), of instants (TEXT in UTC ISO-8601 / TIMESTAMPTZ) and of generated ids.  Schema
versions live in the ``meta`` table (``schema_version``); :data:`MIGRATIONS` holds one step per
version, applied in order to bring an older database up to :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The schema version this rulekit writes and reads.
SCHEMA_VERSION = 6

GLOBAL = "global"


class SchemaTooNew(RuntimeError):
    """The database was written by a newer rulekit than this one."""


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    json: str  # type of JSON columns
    instant: str  # type of timestamp columns
    auto_id: str  # a generated integer primary key
    json_param: str  # a JSON parameter, as it appears in SQL
    lock_due: str  # row locking clause for claiming timers
    lock_row: str  # row locking clause for a read-modify-write


SQLITE = Dialect("sqlite", "TEXT", "TEXT", "INTEGER PRIMARY KEY AUTOINCREMENT", "?", "", "")
POSTGRES = Dialect("postgresql", "JSONB", "TIMESTAMPTZ",
                   "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "CAST(? AS JSONB)",
                   "FOR UPDATE SKIP LOCKED", "FOR UPDATE")

# -- schema -------------------------------------------------------------------------------------
# Each step takes the schema from version N-1 to N.  Never edit a released step: add one.

_V1 = """
CREATE TABLE leads (
    seq             {auto_id},
    id              TEXT NOT NULL UNIQUE,
    ruleset_version TEXT NOT NULL,
    lead            {json} NOT NULL
);
CREATE TABLE lead_states (
    lead_id TEXT PRIMARY KEY REFERENCES leads (id),
    serial  INTEGER NOT NULL,
    state   {json} NOT NULL
);
CREATE TABLE traces (
    seq     {auto_id},
    lead_id TEXT NOT NULL REFERENCES leads (id),
    trace   {json} NOT NULL
);
CREATE INDEX traces_by_lead ON traces (lead_id, seq);
CREATE TABLE offers (
    seq        {auto_id},
    id         TEXT NOT NULL UNIQUE,
    lead_id    TEXT NOT NULL REFERENCES leads (id),
    agents     {json} NOT NULL,
    mode       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at {instant} NOT NULL,
    deadline   {instant},
    winner     TEXT,
    closed_at  {instant},
    rule       TEXT NOT NULL
);
CREATE INDEX offers_by_lead ON offers (lead_id, seq);
CREATE TABLE assignments (
    seq     {auto_id},
    lead_id TEXT NOT NULL REFERENCES leads (id),
    agent   TEXT NOT NULL,
    how     TEXT NOT NULL,
    at      {instant} NOT NULL,
    rule    TEXT NOT NULL
);
CREATE INDEX assignments_by_lead ON assignments (lead_id, seq);
CREATE TABLE queue_items (
    seq     {auto_id},
    lead_id TEXT NOT NULL REFERENCES leads (id),
    queue   TEXT NOT NULL,
    reason  TEXT,
    at      {instant} NOT NULL
);
CREATE INDEX queue_items_by_queue ON queue_items (queue, seq);
CREATE TABLE outbox (
    id         {auto_id},
    lead_id    TEXT NOT NULL REFERENCES leads (id),
    template   TEXT NOT NULL,
    recipients {json} NOT NULL,
    cc         {json} NOT NULL,
    subject    TEXT,
    variables  {json} NOT NULL,
    created_at {instant} NOT NULL,
    sent_at    {instant}
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE TABLE contacts (
    key     TEXT PRIMARY KEY,
    contact {json} NOT NULL
);
CREATE TABLE contact_owners (
    contact_key TEXT NOT NULL REFERENCES contacts (key),
    scope       TEXT NOT NULL,
    agent       TEXT NOT NULL,
    PRIMARY KEY (contact_key, scope)
);
CREATE TABLE rotations (
    pool_key   TEXT PRIMARY KEY,
    last_agent TEXT,
    last_index INTEGER NOT NULL
);
CREATE TABLE agents (
    agent        TEXT PRIMARY KEY,
    load         INTEGER NOT NULL DEFAULT 0,
    last_offered {instant}
);
CREATE TABLE timers (
    id      TEXT PRIMARY KEY,
    lead_id TEXT NOT NULL REFERENCES leads (id),
    due     {instant} NOT NULL,
    purpose TEXT NOT NULL
);
CREATE INDEX timers_by_due ON timers (due);
"""

# Version 2: timer leases (several workers share the timers) and the conflict report.
_V2 = """
ALTER TABLE timers ADD COLUMN leased_by TEXT;
ALTER TABLE timers ADD COLUMN leased_until {instant};
CREATE TABLE conflicts (
    seq         {auto_id},
    lead_id     TEXT NOT NULL REFERENCES leads (id),
    contact_key TEXT NOT NULL,
    owner       TEXT NOT NULL,
    entered_by  TEXT NOT NULL,
    scope_key   TEXT NOT NULL
);
"""

# Version 3: the catalog — rule set and world texts by version, which versions are active,
# and the audit history of changes.
_V3 = """
CREATE TABLE rulesets (
    version    TEXT PRIMARY KEY,
    root       TEXT NOT NULL,
    created_at {instant} NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE ruleset_files (
    version TEXT NOT NULL REFERENCES rulesets (version),
    path    TEXT NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (version, path)
);
CREATE TABLE worlds (
    version    TEXT PRIMARY KEY,
    path       TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at {instant} NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE active_versions (
    kind         TEXT PRIMARY KEY,
    version      TEXT NOT NULL,
    activated_at {instant} NOT NULL,
    activated_by TEXT NOT NULL
);
CREATE TABLE audit (
    seq    {auto_id},
    at     {instant} NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail {json} NOT NULL
)
"""

# Version 4: failing events are retried, then parked — a timer (or an inbox entry: a lead
# kept before its first decision, a timer of purpose 'inbox') counts its failed attempts and
# keeps the last error; leases are looked up by holder.
_V4 = """
ALTER TABLE timers ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE timers ADD COLUMN last_error TEXT;
CREATE INDEX timers_by_lead ON timers (lead_id)
"""

# Version 5: access — bearer tokens (only a hash of each secret is kept; a revoked token
# keeps its row, with the instant it was revoked); contact owners looked up by agent (ownership
# transfers), open offers counted without reading the closed ones (live gauges).
_V5 = """
CREATE TABLE tokens (
    token_id    TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    role        TEXT NOT NULL,
    agent       TEXT,
    sources     {json} NOT NULL,
    label       TEXT NOT NULL,
    created_at  {instant} NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  {instant}
);
CREATE INDEX tokens_by_creation ON tokens (created_at, token_id);
CREATE INDEX contact_owners_by_agent ON contact_owners (agent);
CREATE INDEX offers_open ON offers (seq) WHERE status = 'open'
"""

# Version 6: notifications delivered — an outbox message keeps the offer it announces (and its
# deadline); each message becomes one delivery per recipient and channel, with a stable message
# id, retried with backoff until sent or dead.  Rows are never deleted.
_V6 = """
ALTER TABLE outbox ADD COLUMN offer_id TEXT;
ALTER TABLE outbox ADD COLUMN deadline {instant};
CREATE TABLE deliveries (
    id           {auto_id},
    outbox_id    BIGINT NOT NULL REFERENCES outbox (id),
    lead_id      TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    role         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    address      TEXT NOT NULL,
    message_id   TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    due          {instant} NOT NULL,
    leased_by    TEXT,
    leased_until {instant},
    last_error   TEXT,
    sent_at      {instant}
);
CREATE INDEX deliveries_pending ON deliveries (due, id) WHERE status = 'pending';
CREATE INDEX deliveries_by_outbox ON deliveries (outbox_id)
"""

#: Migration steps: ``MIGRATIONS[n - 1]`` takes the schema from version ``n - 1`` to ``n``.
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
assert len(MIGRATIONS) == SCHEMA_VERSION


def migration_statements(dialect: Dialect, version: int) -> list[str]:
    """The DDL statements that bring the schema to ``version`` from the one before."""
    text = MIGRATIONS[version - 1].format(json=dialect.json, instant=dialect.instant,
                                          auto_id=dialect.auto_id)
    return [part.strip() for part in text.split(";") if part.strip()]
