"""The PostgreSQL store: many workers on many machines, through a psycopg 3 connection pool.

Each decision is one transaction.  Under PostgreSQL's default isolation (read committed) a
conditional ``UPDATE … WHERE serial = …`` that waits for a concurrent writer re-reads the row
it waited for, so the loser of a race changes 0 rows and the store raises
:class:`~rulekit.storage.base.StaleState`.  Timers are claimed with ``FOR UPDATE SKIP LOCKED``
so workers never wait for each other's timers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

from rulekit.storage.base import StaleState
from rulekit.storage.redact import redact_text, redact_url
from rulekit.storage.sql import POSTGRES, SqlStore, Tx
from rulekit.storage.sql_writes import Write

#: Serialises schema creation and upgrades between processes opening the same database.
_MIGRATION_LOCK = 0x72756C656B6974  # "rulekit"
#: The advisory-lock space of round-robin cursors (the second key is the pool key's hash).
_ROTATION_LOCKS = 0x726B72  # "rkr"


class _PgTx(Tx):
    def __init__(self, cursor: psycopg.Cursor[tuple[Any, ...]],
                 pipeline: psycopg.Pipeline | None = None) -> None:
        self._cursor = cursor
        self._pipeline = pipeline

    def write_all(self, writes: Sequence[Write]) -> None:
        """Pipelined: every statement is sent, then one sync brings the row counts back."""
        if self._pipeline is None:
            super().write_all(writes)
            return
        connection = self._cursor.connection
        checked: list[tuple[psycopg.Cursor[tuple[Any, ...]], str]] = []
        for sql, params, problem in writes:
            if problem is None:
                self._cursor.execute(sql.replace("?", "%s"), params)
            else:
                cursor = connection.cursor()  # its own cursor: the count is read after sync
                cursor.execute(sql.replace("?", "%s"), params)
                checked.append((cursor, problem))
        self._pipeline.sync()
        for cursor, problem in checked:
            if cursor.rowcount != 1:
                raise StaleState(problem)

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(sql.replace("?", "%s"), params)
        return self._cursor.rowcount

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        self._cursor.execute(sql.replace("?", "%s"), params)
        return self._cursor.fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql.replace("?", "%s"), params)
        return self._cursor.fetchall()


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_loader("jsonb", TextLoader)  # JSON is parsed by rulekit's models
    conn.execute("SET TIME ZONE 'UTC'")


def _without_password(exc: psycopg.Error, conninfo: str) -> psycopg.Error:
    """``exc``, or the same kind of error with the password of ``conninfo`` scrubbed from its
    text (libpq quotes parts of a connection string it cannot parse)."""
    text = str(exc)
    clean = redact_text(text, conninfo)
    if clean == text:
        return exc
    try:
        return type(exc)(clean)
    except Exception:  # an error class with another signature
        return psycopg.OperationalError(clean)


class PostgresStore(SqlStore):
    """Implements :class:`rulekit.storage.base.Store` in a PostgreSQL database.

    ``conninfo`` is a libpq URL or string; put the tables in another schema with
    ``?options=-csearch_path%3Dmyschema``.  The pool opens ``min_size`` connections at once
    and fails with :class:`psycopg.OperationalError` if the server cannot be reached.
    ``migrate=False`` changes no schema: a missing or older one raises
    :class:`~rulekit.storage.sql.SchemaNotMigrated`."""

    dialect = POSTGRES

    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 4,
                 timeout: float = 10.0, migrate: bool = True) -> None:
        self.conninfo = conninfo
        # one direct connection first: an unreachable server fails at once, with libpq's reason
        scrubbed: psycopg.Error | None = None
        try:
            first = psycopg.connect(conninfo, autocommit=True,
                                    connect_timeout=max(1, round(timeout)))
        except psycopg.Error as exc:
            scrubbed = _without_password(exc, conninfo)
            if scrubbed is exc:
                raise
        if scrubbed is not None:
            raise scrubbed  # outside the handler: not chained to the original, which quotes it
        with first as conn:
            _configure(conn)
            with conn.transaction(), conn.cursor() as cur:
                tx = _PgTx(cur)
                tx.one("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
                row = tx.one("SELECT to_regclass('meta') IS NOT NULL")
                self._migrate(tx, bool(row and row[0]), migrate=migrate)
        self._pool: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
            conninfo, min_size=min_size, max_size=max_size, open=False, timeout=timeout,
            kwargs={"autocommit": True}, configure=_configure, name="rulekit")
        try:
            self._pool.open(wait=True, timeout=timeout)
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def writing(self) -> Iterator[Tx]:
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield _PgTx(cur)
        except (errors.DeadlockDetected, errors.SerializationFailure) as exc:
            raise StaleState(f"lost a race in the database: {exc}") from exc

    @contextmanager
    def committing(self) -> Iterator[Tx]:
        """A decision's transaction, pipelined: its statements go to the server together and
        their row counts are checked at one sync before ``COMMIT`` — two round trips instead
        of one per statement.  A unique key broken by a racing decision (the same offer id
        written twice) means the lead changed: :class:`StaleState`."""
        try:
            with self._pool.connection() as conn, conn.pipeline() as pipeline, \
                    conn.transaction(), conn.cursor() as cur:
                yield _PgTx(cur, pipeline)
        except (errors.DeadlockDetected, errors.SerializationFailure,
                errors.UniqueViolation) as exc:
            raise StaleState(f"lost a race in the database: {exc}") from exc

    @contextmanager
    def exclusive(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the locks of ``keys`` (round-robin cursors) for the block: a transaction on a
        connection of its own takes one transaction-level advisory lock per key, in sorted
        order (so holders never deadlock), and releases them all when the block ends.
        Decisions that move the same cursor read and commit it one at a time."""
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for key in sorted(keys):
                cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                            (_ROTATION_LOCKS, key))
            yield

    def autocommitted(self) -> AbstractContextManager[Tx]:
        return self.reading()  # the pool's connections are in autocommit mode

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self._pool.connection() as conn, conn.cursor() as cur:
            yield _PgTx(cur)

    def close(self) -> None:
        self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresStore({redact_url(self.conninfo)!r})"
