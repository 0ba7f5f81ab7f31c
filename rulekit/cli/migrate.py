"""``rulekit migrate --db URL [--dry-run]``: create or upgrade a store's schema.

The commands that only read a store (``explain``, ``leads``, ``report``, ``retry``) never
change its schema: on an empty or older database they say to run this command.  ``load``,
``worker`` and ``day`` create or upgrade the schema themselves, like this command.

``--dry-run`` prints the current and target schema versions and the DDL statements that
migrating would run, and runs none of them (a SQLite file that does not exist is not created).

Exit codes: 0 migrated (or nothing to do), 1 the store cannot be opened or has a newer schema,
2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rulekit import __version__
from rulekit.storage.redact import redact_url
from rulekit.storage.sql import (
    SCHEMA_VERSION,
    SQLITE,
    Dialect,
    SchemaNotMigrated,
    SqlStore,
    upgrade_statements,
)
from rulekit.storage.url import StoreOpenError, open_store_or_explain, sqlite_path


@dataclass
class Found:
    """What a SQL store's database holds now, and the DDL that brings it to the target."""

    dialect: Dialect
    current: int
    statements: list[str] = field(default_factory=list)
    note: str = ""


def _close(store: object) -> None:
    close = getattr(store, "close", None)
    if close is not None:
        close()


def inspect(url: str) -> Found | None:
    """The schema at ``url``, changing nothing; ``None`` for a store without a SQL schema
    (``memory://``, a private ``sqlite://`` database, a third-party store).  Raises
    :class:`StoreOpenError` when the store cannot be opened or has a newer schema."""
    if url.partition("://")[0].lower() == "memory":
        return None
    if url.startswith("sqlite:"):
        try:
            path = sqlite_path(url)
        except ValueError as exc:
            raise StoreOpenError(str(exc)) from exc
        if path == ":memory:":
            return None
        if not Path(path).exists():
            if not Path(path).parent.is_dir():
                raise StoreOpenError(f"cannot open {redact_url(url)}: the folder "
                                     f"{Path(path).parent} of "
                                     f"{path} does not exist (create it first)")
            return Found(SQLITE, 0, upgrade_statements(SQLITE, 0, has_meta=False),
                         f"no database at {path} yet: migrating creates the file")
    try:
        store = open_store_or_explain(url, migrate=False)
    except StoreOpenError as exc:
        if isinstance(exc.__cause__, SchemaNotMigrated):
            cause = exc.__cause__
            return Found(cause.dialect, cause.current, cause.statements)
        raise
    try:
        if not isinstance(store, SqlStore):
            return None
        return Found(store.dialect, store.schema_version())
    finally:
        _close(store)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rulekit migrate",
        description="Create the schema of an empty database, or upgrade an older one to this "
        f"rulekit's (schema version {SCHEMA_VERSION}). Back the database up first.")
    p.add_argument("--db", required=True, metavar="URL",
                   help="the store: sqlite:///path.db, postgresql://…")
    p.add_argument("--dry-run", action="store_true",
                   help="print the current and target versions and the statements that would "
                   "run; run none")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    db = redact_url(args.db)
    try:
        found = inspect(args.db)
    except StoreOpenError as exc:
        print(f"rulekit migrate: {exc}", file=sys.stderr)
        return 1
    if found is None:
        print(f"{db}: this store keeps no SQL schema: nothing to migrate")
        return 0
    if args.dry_run:
        what = " (no rulekit schema" + (f"; {found.note})" if found.note else ")")
        print(f"store: {db} ({found.dialect.name})")
        print(f"current schema version: {found.current}{what if found.current == 0 else ''}")
        print(f"target schema version: {SCHEMA_VERSION}")
        if not found.statements:
            print("nothing to run: the schema is current")
            return 0
        print(f"would run, in one transaction ({len(found.statements)} statements):")
        for statement in found.statements:
            print(f"{statement};")
        print(f"then record schema_version = {SCHEMA_VERSION} and rulekit_version = "
              f"{__version__} in the meta table")
        return 0
    if found.current == SCHEMA_VERSION:
        print(f"{db}: already at schema version {SCHEMA_VERSION}: nothing to do")
        return 0
    try:
        store = open_store_or_explain(args.db)  # creates or upgrades the schema
    except StoreOpenError as exc:
        print(f"rulekit migrate: {exc}", file=sys.stderr)
        return 1
    try:
        now = store.schema_version() if isinstance(store, SqlStore) else SCHEMA_VERSION
    finally:
        _close(store)
    done = "created" if found.current == 0 else "upgraded"
    print(f"{db}: schema version {found.current} → {now} ({done})")
    return 0
