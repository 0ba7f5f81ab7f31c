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
from types import TracebackType
from typing import Any

from rulekit.storage.base import StaleState
from rulekit.storage.sql import SQLITE, SqlStore, Tx
from rulekit.storage.sql_writes import Write, instant


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

    def write_all(self, writes: Sequence[Write]) -> None:
        execute = self._conn.execute  # a decision's writes are stamped already (_stamp)
        for sql, params, problem in writes:
            if execute(sql, params).rowcount != 1 and problem is not None:
                raise StaleState(problem)


class _Writing:
    """A write transaction: ``BEGIN IMMEDIATE`` on entry (holding the store's lock), then
    ``COMMIT``, or ``ROLLBACK`` when the block raised.  A class rather than a generator
    context manager: every decision enters one, and this costs half as much."""

    __slots__ = ("_conn", "_lock")

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn = conn
        self._lock = lock

    def __enter__(self) -> Tx:
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return _SqliteTx(self._conn)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            self._conn.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self._lock.release()


class SQLiteStore(SqlStore):
    """Implements :class:`rulekit.storage.base.Store` in a SQLite database file.

    One connection per store, shared by its threads behind a lock; open one store per
    process.  ``path`` may be ``":memory:"`` (a private database, for tests).

    ``migrate=False`` opens an existing file without changing it: no file is created, and a
    missing or older schema raises :class:`~rulekit.storage.sql.SchemaNotMigrated`."""

    dialect = SQLITE
    stamp = staticmethod(_stamp)

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0,
                 migrate: bool = True) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        on_disk = self.path != ":memory:"
        uri = on_disk and not migrate  # mode=rw: a missing file is an error, never created
        self._conn = sqlite3.connect(
            Path(self.path).absolute().as_uri() + "?mode=rw" if uri else self.path,
            timeout=busy_timeout, isolation_level=None, check_same_thread=False, uri=uri)
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if on_disk:
                if migrate:  # the journal mode is kept in the file
                    self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            with (self.writing() if migrate else self.reading()) as tx:
                has_meta = tx.one("SELECT 1 FROM sqlite_master"
                                  " WHERE type = 'table' AND name = 'meta'") is not None
                self._migrate(tx, has_meta, migrate=migrate)
        except BaseException:
            self._conn.close()
            raise

    def writing(self) -> AbstractContextManager[Tx]:
        return _Writing(self._conn, self._lock)

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
