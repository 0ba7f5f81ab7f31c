"""Copying a SQL store into another (SQLite → PostgreSQL, or back), ids and all."""

from __future__ import annotations

from rulekit.storage.sql import SqlStore, read_instant
from rulekit.storage.sql_schema import POSTGRES

#: Every table but ``meta``, parents first, with its columns and its generated id (if any).
TABLES: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("rulesets", ("version", "root", "created_at", "created_by"), None),
    ("ruleset_files", ("version", "path", "text"), None),
    ("worlds", ("version", "path", "text", "created_at", "created_by"), None),
    ("active_versions", ("kind", "version", "activated_at", "activated_by"), None),
    ("audit", ("seq", "at", "actor", "action", "detail"), "seq"),
    ("leads", ("seq", "id", "ruleset_version", "lead"), "seq"),
    ("lead_states", ("lead_id", "serial", "state"), None),
    ("traces", ("seq", "lead_id", "trace"), "seq"),
    ("offers", ("seq", "id", "lead_id", "agents", "mode", "status", "created_at", "deadline",
                "winner", "closed_at", "rule"), "seq"),
    ("assignments", ("seq", "lead_id", "agent", "how", "at", "rule"), "seq"),
    ("queue_items", ("seq", "lead_id", "queue", "reason", "at"), "seq"),
    ("outbox", ("id", "lead_id", "template", "recipients", "cc", "subject", "variables",
                "created_at", "sent_at", "offer_id", "deadline"), "id"),
    ("deliveries", ("id", "outbox_id", "lead_id", "recipient", "role", "channel", "address",
                    "message_id", "status", "attempts", "due", "leased_by", "leased_until",
                    "last_error", "sent_at"), "id"),
    ("contacts", ("key", "contact"), None),
    ("contact_owners", ("contact_key", "scope", "agent"), None),
    ("rotations", ("pool_key", "last_agent", "last_index"), None),
    ("agents", ("agent", "load", "last_offered"), None),
    ("timers", ("id", "lead_id", "due", "purpose", "leased_by", "leased_until", "attempts",
                "last_error"), None),
    ("conflicts", ("seq", "lead_id", "contact_key", "owner", "entered_by", "scope_key"), "seq"),
    ("tokens", ("token_id", "secret_hash", "role", "agent", "sources", "label", "created_at",
                "created_by", "revoked_at"), None),
)
JSON_COLUMNS = frozenset({"lead", "state", "trace", "agents", "recipients", "cc", "variables",
                          "contact", "detail", "sources"})
INSTANT_COLUMNS = frozenset({"created_at", "activated_at", "at", "deadline", "closed_at",
                             "sent_at", "last_offered", "due", "leased_until",
                             "revoked_at"})


def copy_tables(src: SqlStore, dst: SqlStore) -> dict[str, int]:
    """Copy every row of ``src`` into the empty store ``dst``, keeping generated ids (so the
    order of traces, offers and notifications is kept); the rows copied per table.

    Both stores must be at the same schema version; stop the workers first."""
    if src.schema_version() != dst.schema_version():
        raise ValueError("the two stores have different schema versions: open both with "
                         "this rulekit first")
    with dst.reading() as tx:
        for table, _, _ in TABLES:
            if tx.one(f"SELECT 1 FROM {table} LIMIT 1") is not None:
                raise ValueError(f"the destination is not empty (table {table} has rows)")
    copied: dict[str, int] = {}
    with dst.writing() as out:
        for table, columns, generated in TABLES:
            with src.reading() as tx:
                rows = tx.all(f"SELECT {', '.join(columns)} FROM {table}"
                              f" ORDER BY {generated or columns[0]}")
            marks = ", ".join(
                dst.dialect.json_param if c in JSON_COLUMNS else "?" for c in columns)
            override = (" OVERRIDING SYSTEM VALUE"
                        if generated and dst.dialect is POSTGRES else "")
            sql = f"INSERT INTO {table} ({', '.join(columns)}){override} VALUES ({marks})"
            for row in rows:
                out.run(sql, [read_instant(v) if c in INSTANT_COLUMNS and v is not None
                              else v for c, v in zip(columns, row, strict=True)])
            if generated and rows and dst.dialect is POSTGRES:
                out.one(f"SELECT setval(pg_get_serial_sequence('{table}', '{generated}'),"
                        f" (SELECT MAX({generated}) FROM {table}))")
            copied[table] = len(rows)
    return copied


def copy_store(src_url: str, dst_url: str) -> dict[str, int]:
    """Copy the SQL store at ``src_url`` into the new, empty one at ``dst_url`` (creating its
    schema), e.g. SQLite → PostgreSQL; the rows copied per table.  See :func:`copy_tables`."""
    from rulekit.storage.url import open_store

    src, dst = open_store(src_url), open_store(dst_url)
    try:
        if not isinstance(src, SqlStore) or not isinstance(dst, SqlStore):
            raise ValueError("copy_store copies between SQL stores (sqlite://, postgresql://)")
        return copy_tables(src, dst)
    finally:
        for store in (src, dst):
            close = getattr(store, "close", None)
            if close is not None:
                close()
