"""Store URLs, schema creation, upgrades from older versions, refusal of newer ones."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import PG_DSN, Backend
from storage_helpers import T0, DummyStore, lead

from rulekit.storage import url as url_module
from rulekit.storage.memory import MemoryStore
from rulekit.storage.postgres import PostgresStore
from rulekit.storage.sql import (
    POSTGRES,
    SCHEMA_VERSION,
    SQLITE,
    SchemaTooNew,
    migration_statements,
)
from rulekit.storage.sqlite import SQLiteStore
from rulekit.storage.url import open_store, sqlite_path


# -- URLs ------------------------------------------------------------------------------------
def test_memory_and_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///sub.db")
    assert isinstance(relative, SQLiteStore) and (tmp_path / "sub.db").exists()
    relative.close()
    absolute = open_store(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(absolute, SQLiteStore) and absolute.path == str(tmp_path / "abs.db")
    absolute.close()
    assert sqlite_path("sqlite:///a/b.db") == "a/b.db"
    assert sqlite_path("sqlite:////a/b.db") == "/a/b.db"
    assert sqlite_path("sqlite://") == ":memory:"
    with pytest.raises(ValueError, match="sqlite:///relative"):
        open_store("sqlite://host/x.db")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "p.db")
    with store.reading() as tx:
        assert tx.one("PRAGMA journal_mode") == ("wal",)
        assert tx.one("PRAGMA foreign_keys") == (1,)
        row = tx.one("PRAGMA busy_timeout")
        assert row is not None and row[0] >= 1000
    store.close()


def test_postgres_urls(pg_url: str) -> None:
    for url in (pg_url, pg_url.replace("postgresql://", "postgres://", 1)):
        store = open_store(url)
        assert isinstance(store, PostgresStore)
        assert store.schema_version() == SCHEMA_VERSION
        store.close()


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"memory://, sqlite://, postgresql://"):
        open_store("mongodb://localhost/leads")


def test_third_party_stores_come_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint("dummy", "storage_helpers:DummyStore", url_module.ENTRY_POINT_GROUP)
    monkeypatch.setattr(url_module, "entry_points", lambda group: [point])
    store: Any = open_store("dummy://somewhere/x")
    assert isinstance(store, DummyStore) and store.url == "dummy://somewhere/x"
    with pytest.raises(ValueError, match="dummy://"):
        open_store("other://x")


# -- schema versions ---------------------------------------------------------------------------
def _run(backend: Backend, statements: list[str], params: list[tuple[Any, ...]] | None = None
         ) -> None:
    """Run raw SQL on the backend's database, outside rulekit."""
    params = params or [()] * len(statements)
    if backend.kind == "sqlite":
        path = backend.url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path)
        with conn:
            for statement, args in zip(statements, params, strict=True):
                conn.execute(statement, args)
        conn.close()
    else:
        with psycopg.connect(backend.url, autocommit=True) as pg:
            for statement, args in zip(statements, params, strict=True):
                pg.execute(statement.replace("?", "%s"), args)  # type: ignore[arg-type]


def test_a_new_store_has_the_current_schema(durable: Backend) -> None:
    store = durable.open()
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    assert durable.open().schema_version() == SCHEMA_VERSION  # opening again changes nothing


def test_an_older_store_is_upgraded_with_its_data(durable: Backend) -> None:
    dialect = SQLITE if durable.kind == "sqlite" else POSTGRES
    old_lead = lead("L-old")
    # a version-1 store: no conflicts table, timers without leases
    _run(durable, ["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                   "INSERT INTO meta (key, value) VALUES ('schema_version', '1')",
                   *migration_statements(dialect, 1),
                   f"INSERT INTO leads (id, ruleset_version, lead) VALUES (?, 'v0',"
                   f" {dialect.json_param})",
                   "INSERT INTO timers (id, lead_id, due, purpose) VALUES (?, ?, ?, ?)"],
         [(), (), *[()] * len(migration_statements(dialect, 1)),
          ("L-old", old_lead.model_dump_json()),
          ("L-old:t1", "L-old", T0.isoformat(timespec="microseconds") if
           durable.kind == "sqlite" else T0, "hold")])
    store = durable.open()
    assert store.schema_version() == SCHEMA_VERSION == 6
    assert store.get_lead("L-old") == old_lead
    assert store.ruleset_version("L-old") == "v0"
    assert [t.timer_id for t in store.claim_due_timers(T0 + timedelta(hours=1), "w", 30)] == [
        "L-old:t1"]
    assert store.claim_due_timers(T0 + timedelta(hours=1), "w2", 30) == []  # leased now
    assert store.conflicts() == []


def test_a_newer_store_is_refused(durable: Backend) -> None:
    durable.open().close()
    _run(durable, ["UPDATE meta SET value = '99' WHERE key = 'schema_version'",
                   "UPDATE meta SET value = '7.3.0' WHERE key = 'rulekit_version'"])
    with pytest.raises(SchemaTooNew, match=r"schema version 99.*rulekit 7\.3\.0"):
        durable.open()


def test_an_unreachable_postgres_server_fails() -> None:
    url = PG_DSN.replace("5432", "1") if ":5432" in PG_DSN else "postgresql://127.0.0.1:1/x"
    with pytest.raises(Exception, match=r"(?i)connection (failed|refused)"):
        PostgresStore(url, timeout=1.0)
