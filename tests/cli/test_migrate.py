"""Only ``load``, ``worker``, ``day`` and ``migrate`` create or upgrade a store's schema.

The commands that read (``explain``, ``leads``, ``report``, and ``retry``, which routes parked
leads again but never changes the schema) refuse an empty or older database with a line that
says to run ``rulekit migrate``, and leave it as it was.  ``rulekit worker`` refuses a SQLite
file that does not exist unless ``--create`` is given.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from rulekit.cli.main import main
from rulekit.storage.postgres import PostgresStore
from rulekit.storage.sql import (
    SCHEMA_VERSION,
    SQLITE,
    SchemaNotMigrated,
    migration_statements,
    upgrade_statements,
)
from rulekit.storage.sqlite import SQLiteStore
from rulekit.storage.url import StoreOpenError, open_store, open_store_or_explain

ROOT = Path(__file__).resolve().parents[2]
PG_DSN = os.environ.get("RULEKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
RULES, WORLD = "rules/leadstreet", "rules/leadstreet/world.yaml"

#: The commands that only read a store's schema, each as an invocation on the store ``{db}``.
READERS = {
    "explain": ["explain", "L1", "--db", "{db}"],
    "leads": ["leads", "--db", "{db}"],
    "report": ["report", "distribution", "--db", "{db}"],
    "retry": ["retry", "L1", "--db", "{db}", "--by", "ops"],
}


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(capsys: pytest.CaptureFixture[str], argv: list[str], db: str) -> tuple[int, str, str]:
    code = main([a.replace("{db}", db) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sqlite_tables(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))
    finally:
        conn.close()


def sqlite_version_1(path: Path) -> None:
    """A database as rulekit's first schema version left it."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        for statement in migration_statements(SQLITE, 1):
            conn.execute(statement)
    conn.close()


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """(URL whose tables live in a fresh, empty schema; the schema's name)."""
    name = f"rulekit_migrate_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    joiner = "&" if "?" in PG_DSN else "?"
    try:
        yield f"{PG_DSN}{joiner}options=-csearch_path%3D{name}", name
    finally:
        with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def pg_tables(schema: str) -> list[str]:
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables"
                            " WHERE table_schema = %s", (schema,)).fetchall()
    return sorted(r[0] for r in rows)


# -- the read-only commands --------------------------------------------------------------------
@pytest.mark.parametrize("command", sorted(READERS))
def test_a_reader_refuses_an_empty_sqlite_file_and_leaves_it_empty(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, READERS[command], db)
    assert code == 1, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "has no rulekit schema" in lines[0] and f"rulekit migrate --db {db}" in lines[0]
    assert path.stat().st_size == 0
    assert sqlite_tables(path) == []


@pytest.mark.parametrize("command", sorted(READERS))
def test_a_reader_refuses_an_older_schema_and_leaves_it_old(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "v1.db"
    sqlite_version_1(path)
    before = sqlite_tables(path)
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, READERS[command], db)
    assert code == 1, out + err
    assert f"schema version 1 < {SCHEMA_VERSION}" in err and "rulekit migrate --db" in err
    assert len(err.strip().splitlines()) == 1, err
    assert sqlite_tables(path) == before
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        "1",)
    conn.close()


@pytest.mark.parametrize("command", sorted(READERS))
def test_a_reader_creates_no_table_in_an_empty_postgres_database(
        command: str, pg_schema: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url, schema = pg_schema
    code, out, err = run(capsys, READERS[command], url)
    assert code == 1, out + err
    assert "has no rulekit schema" in err and "rulekit migrate --db postgresql://" in err
    assert len(err.strip().splitlines()) == 1, err
    assert pg_tables(schema) == []


def test_readers_work_once_migrated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "v1.db"
    sqlite_version_1(path)
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, ["migrate", "--db", "{db}"], db)
    assert code == 0, out + err
    code, out, err = run(capsys, READERS["leads"], db)
    assert code == 0 and "No lead matches." in out, out + err
    code, out, err = run(capsys, READERS["explain"], db)
    assert code == 1 and "no lead 'L1'" in err, out + err


# -- the stores ----------------------------------------------------------------------------------
def test_a_store_opened_without_migrating_says_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(SchemaNotMigrated) as caught:
        SQLiteStore(path, migrate=False)
    assert caught.value.current == 0 and caught.value.target == SCHEMA_VERSION
    assert caught.value.statements == upgrade_statements(SQLITE, 0, has_meta=False)
    assert "no rulekit schema" in str(caught.value)
    assert path.stat().st_size == 0
    with pytest.raises(StoreOpenError, match=r"has no rulekit schema: run `rulekit migrate"):
        open_store_or_explain(f"sqlite:///{path}", migrate=False)
    store = open_store(f"sqlite:///{path}")  # migrating is still the default
    assert isinstance(store, SQLiteStore) and store.schema_version() == SCHEMA_VERSION
    store.close()
    reader = SQLiteStore(path, migrate=False)
    assert reader.schema_version() == SCHEMA_VERSION
    reader.close()


def test_a_sqlite_store_opened_without_migrating_never_creates_the_file(
        tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(sqlite3.OperationalError):
        SQLiteStore(path, migrate=False)
    assert not path.exists()


def test_a_postgres_store_opened_without_migrating_creates_nothing(
        pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    with pytest.raises(SchemaNotMigrated, match="no rulekit schema"):
        PostgresStore(url, migrate=False)
    assert pg_tables(schema) == []
    PostgresStore(url).close()
    reader = PostgresStore(url, migrate=False)
    assert reader.schema_version() == SCHEMA_VERSION
    reader.close()


# -- rulekit worker ------------------------------------------------------------------------------
def test_the_worker_refuses_a_missing_sqlite_file(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "missing.db"
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, ["worker", "--db", "{db}", "--once", "-q"], db)
    assert code == 1, out + err
    assert f"no database at {path}" in err and f"rulekit migrate --db {db}" in err
    assert "rulekit load" in err and "--create" in err
    assert len(err.strip().splitlines()) == 1, err
    assert not path.exists()


def test_the_worker_creates_the_file_when_asked(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new.db"
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, ["worker", "--db", "{db}", "--once", "-q", "--create"], db)
    assert code == 1 and "no active rule set" in err, out + err  # nothing loaded yet
    assert path.exists() and "meta" in sqlite_tables(path)


def test_load_still_creates_the_file(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'loaded.db'}"
    code, out, err = run(capsys, ["load", "--db", "{db}", "--rules", RULES, "--world", WORLD,
                                  "--by", "ops"], db)
    assert code == 0, out + err
    code, out, err = run(capsys, ["worker", "--db", "{db}", "--once", "-q"], db)
    assert code == 0 and "fired 0 timers" in out, out + err


# -- rulekit migrate -----------------------------------------------------------------------------
def test_migrate_dry_run_on_a_missing_file_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new.db"
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, ["migrate", "--db", "{db}", "--dry-run"], db)
    assert code == 0, out + err
    assert "current schema version: 0 (no rulekit schema" in out
    assert f"target schema version: {SCHEMA_VERSION}" in out
    assert "CREATE TABLE meta" in out and "CREATE TABLE leads" in out
    assert "CREATE TABLE audit" in out
    assert not path.exists()


def test_migrate_dry_run_shows_the_upgrade_and_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "v1.db"
    sqlite_version_1(path)
    before = sqlite_tables(path)
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, ["migrate", "--db", "{db}", "--dry-run"], db)
    assert code == 0, out + err
    assert "current schema version: 1" in out
    assert "ALTER TABLE timers ADD COLUMN leased_by TEXT;" in out
    assert "CREATE TABLE meta" not in out and "CREATE TABLE leads" not in out
    assert sqlite_tables(path) == before


def test_migrate_creates_then_upgrades_nothing(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new.db"
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, ["migrate", "--db", "{db}"], db)
    assert code == 0, out + err
    assert f"schema version 0 → {SCHEMA_VERSION}" in out
    store = SQLiteStore(path, migrate=False)
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    code, out, err = run(capsys, ["migrate", "--db", "{db}"], db)
    assert code == 0 and f"already at schema version {SCHEMA_VERSION}" in out, out + err
    code, out, err = run(capsys, ["migrate", "--db", "{db}", "--dry-run"], db)
    assert code == 0 and "nothing to run" in out, out + err


def test_migrate_upgrades_an_older_file(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "v1.db"
    sqlite_version_1(path)
    db = f"sqlite:///{path}"
    code, out, err = run(capsys, ["migrate", "--db", "{db}"], db)
    assert code == 0 and f"schema version 1 → {SCHEMA_VERSION}" in out, out + err
    assert "conflicts" in sqlite_tables(path)


def test_migrate_on_postgres(pg_schema: tuple[str, str],
                             capsys: pytest.CaptureFixture[str]) -> None:
    url, schema = pg_schema
    code, out, err = run(capsys, ["migrate", "--db", "{db}", "--dry-run"], url)
    assert code == 0 and "JSONB" in out and "TIMESTAMPTZ" in out, out + err
    assert pg_tables(schema) == []
    code, out, err = run(capsys, ["migrate", "--db", "{db}"], url)
    assert code == 0, out + err
    assert "leads" in pg_tables(schema) and "meta" in pg_tables(schema)
    code, out, err = run(capsys, READERS["report"], url)
    assert code == 0, out + err


def test_migrate_refuses_a_newer_schema(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    for extra in ([], ["--dry-run"]):
        code, out, err = run(capsys, ["migrate", "--db", "{db}", *extra], f"sqlite:///{path}")
        assert code == 1 and "schema version 99" in err, out + err
        assert len(err.strip().splitlines()) == 1, err


def test_migrate_says_a_memory_store_has_no_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, ["migrate", "--db", "{db}"], "memory://")
    assert code == 0 and "nothing to migrate" in out, out + err


def test_migrate_names_an_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, ["migrate", "--db", "{db}"],
                         "postgresql://ops:S3cret@127.0.0.1:1/test")
    assert code == 1, out + err
    assert "cannot open postgresql://ops:***@127.0.0.1:1/test" in err and "S3cret" not in err
    assert len(err.strip().splitlines()) == 1, err
