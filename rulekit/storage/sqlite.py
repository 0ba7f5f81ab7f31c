"""The SQLite store: one database file, shared safely by the processes of one machine.

The file is opened in WAL mode (readers never block the writer), with a ``busy_timeout`` (a
writer waits for another instead of failing) and foreign keys on.  Every write is one
``BEGIN IMMEDIATE`` transaction, so writers are serialised by the database and each
conditional update of the contract sees the latest committed state.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rulekit.model import Lead
from rulekit.pipeline.effects import Effect
from rulekit.pipeline.state import LeadState
from rulekit.storage.base import StaleState
from rulekit.storage.sql import SQLITE, SqlStore, Tx
from rulekit.storage.sql_writes import decision_writes, instant
from rulekit.trace import Trace


def _stamp(value: datetime) -> str:
    """Instants are UTC ISO 8601 text of fixed width, which sorts like the instants."""
    if value.tzinfo is not UTC:
        value = instant(value)
    return value.isoformat(timespec="microseconds")


def _params(values: Sequence[Any]) -> list[Any]:
    return [_stamp(v) if isinstance(v, datetime) else v for v in values]


class _SqliteTx(Tx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, _params(params)).rowcount

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._conn.execute(
            sql, _params(params)).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql, _params(params)).fetchall())


class SQLiteStore(SqlStore):
    """Implements :class:`rulekit.storage.base.Store` in a SQLite database file.

    One connection per store, shared by its threads behind a lock; open one store per
    process.  ``path`` may be ``":memory:"`` (a private database, for tests)."""

    dialect = SQLITE
    stamp = staticmethod(_stamp)

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None,
                                     check_same_thread=False)
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            with self.writing() as tx:
                has_meta = tx.one("SELECT 1 FROM sqlite_master"
                                  " WHERE type = 'table' AND name = 'meta'") is not None
                self._migrate(tx, has_meta)
        except BaseException:
            self._conn.close()
            raise

    @contextmanager
    def writing(self) -> Iterator[Tx]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def commit(self, lead_id: str, expected_serial: int | None, state: LeadState,
               effects: Sequence[Effect], trace: Trace, now: datetime,
               lead: Lead | None = None) -> None:
        """As :meth:`SqlStore.commit`, in one ``BEGIN IMMEDIATE`` transaction."""
        writes = decision_writes(SQLITE, _stamp, lead_id, expected_serial, state, effects,
                                 trace, now, lead)
        execute = self._conn.execute
        with self._lock:
            execute("BEGIN IMMEDIATE")
            try:
                for sql, params, problem in writes:
                    if execute(sql, params).rowcount != 1 and problem is not None:
                        raise StaleState(problem)
            except BaseException:
                execute("ROLLBACK")
                raise
            execute("COMMIT")

    def autocommitted(self) -> AbstractContextManager[Tx]:
        return self.reading()  # the connection autocommits each statement

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self._lock:
            yield _SqliteTx(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"
