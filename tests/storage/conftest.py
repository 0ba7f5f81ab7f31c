"""Fixtures of the storage tests: every contract test runs on memory, SQLite and PostgreSQL.

PostgreSQL is at ``RULEKIT_TEST_POSTGRES_DSN`` (default: the local ``test`` database).  Each
test gets its own schema, dropped afterwards.  A server that cannot be reached fails the
PostgreSQL tests: it never skips them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from storage_helpers import close, write_rules

from rulekit.storage.memory import MemoryStore
from rulekit.storage.postgres import PostgresStore
from rulekit.storage.sqlite import SQLiteStore

PG_DSN = os.environ.get("RULEKIT_TEST_POSTGRES_DSN",
                        "postgresql://postgres@127.0.0.1:5432/test")


def with_search_path(dsn: str, schema: str) -> str:
    return dsn + ("&" if "?" in dsn else "?") + f"options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema of their own."""
    schema = f"rulekit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield with_search_path(PG_DSN, schema)
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class Backend:
    """Opens (and reopens) one test's store; a memory store "reopens" as itself."""

    kind: str
    url: str
    opener: Callable[[], Any]
    opened: list[Any] = field(default_factory=list)

    def open(self) -> Any:
        store = self.opener()
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            close(store)


def _backend(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Backend:
    if kind == "memory":
        memory = MemoryStore()
        return Backend(kind, "memory://", lambda: memory)
    if kind == "sqlite":
        path = tmp_path / "store.db"
        return Backend(kind, f"sqlite:///{path}", lambda: SQLiteStore(path))
    url = request.getfixturevalue("pg_url")
    return Backend(kind, url, lambda: PostgresStore(url))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made = _backend(request.param, tmp_path, request)
    yield made
    made.close_all()


@pytest.fixture(params=["sqlite", "postgres"])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The adapters that persist, and share state between processes."""
    made = _backend(request.param, tmp_path, request)
    yield made
    made.close_all()


@pytest.fixture
def store(backend: Backend) -> Any:
    return backend.open()


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    return write_rules(tmp_path / "rules")
