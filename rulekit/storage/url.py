"""Open a store from a URL.

============================================  ===================================================
``memory://``                                 :class:`~rulekit.storage.memory.MemoryStore`
``sqlite:///relative/path.db``                :class:`~rulekit.storage.sqlite.SQLiteStore`
``sqlite:////absolute/path.db``               (``sqlite://`` alone: a private in-memory database)
``postgresql://user@host:port/db``            :class:`~rulekit.storage.postgres.PostgresStore`
``postgres://…``                              (the same; any libpq URL parameters are kept)
``<scheme>://…``                              a third-party adapter: the entry point named
                                              ``<scheme>`` in the group ``rulekit.stores``,
                                              called with the whole URL
============================================  ===================================================
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from rulekit.storage.base import Store
from rulekit.storage.memory import MemoryStore
from rulekit.storage.redact import redact_text, redact_url
from rulekit.storage.sql import SchemaNotMigrated

ENTRY_POINT_GROUP = "rulekit.stores"
BUILTIN_SCHEMES = ("memory", "sqlite", "postgresql", "postgres")


def sqlite_path(url: str) -> str:
    """The database path of a ``sqlite:`` URL (three slashes: relative, four: absolute)."""
    rest = url[len("sqlite:"):]
    if rest in ("", "//", "///:memory:"):
        return ":memory:"
    if not rest.startswith("///") or len(rest) == 3:
        raise ValueError(f"{redact_url(url)!r}: a SQLite URL is sqlite:///relative/path.db or "
                         "sqlite:////absolute/path.db")
    return rest[3:]


def _plugins() -> dict[str, Callable[[], Any]]:
    return {ep.name: ep.load for ep in entry_points(group=ENTRY_POINT_GROUP)}


class StoreOpenError(Exception):
    """The store URL names nothing that can be opened (a bad URL, no server, not a database)."""


def open_store_or_explain(url: str, *, migrate: bool = True) -> Store:
    """:func:`open_store`, with every way of failing turned into one :class:`StoreOpenError`
    whose message (one line) says what was tried (for commands to print), with no password in
    it.  A schema that ``migrate=False`` refuses is named with the command that fixes it."""
    shown = redact_url(url)
    try:
        return open_store(url, migrate=migrate)
    except SchemaNotMigrated as exc:
        raise StoreOpenError(
            f"cannot open {shown}: {exc}: run `rulekit migrate --db {shown}`") from exc
    except Exception as exc:  # bad URL, server down, unreadable file: all say the same
        reason = " ".join(line.strip() for line in redact_text(str(exc), url).splitlines()
                          if line.strip())  # libpq's reasons span lines
        raise StoreOpenError(f"cannot open {shown}: {reason}") from exc


def open_store(url: str, *, migrate: bool = True) -> Store:
    """The store a URL names (see the module docstring).  SQL stores create or upgrade their
    schema when opened; ``migrate=False`` changes nothing (no SQLite file is created) and
    raises :class:`~rulekit.storage.sql.SchemaNotMigrated` for a missing or older schema.
    Third-party stores manage their own schema."""
    scheme, sep, _ = url.partition("://")
    scheme = scheme.lower() if sep else ""
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite" or url.startswith("sqlite:"):
        from rulekit.storage.sqlite import SQLiteStore

        path = sqlite_path(url)
        if path != ":memory:":
            if not migrate and not Path(path).is_file():
                raise FileNotFoundError(f"no database at {path}")
            if not Path(path).parent.is_dir():
                raise FileNotFoundError(f"the folder {Path(path).parent} of {path} does not "
                                        "exist (create it first)")
        return SQLiteStore(path, migrate=migrate)
    if scheme in ("postgresql", "postgres"):
        from rulekit.storage.postgres import PostgresStore

        return PostgresStore(url, migrate=migrate)
    plugins = _plugins()
    if scheme in plugins:
        factory = plugins[scheme]()
        store: Store = factory(url)
        return store
    known = ", ".join(f"{name}://" for name in (*BUILTIN_SCHEMES, *sorted(plugins)))
    raise ValueError(f"unknown store URL {redact_url(url)!r}: known schemes are {known} "
                     f"(adapters add theirs through the {ENTRY_POINT_GROUP!r} entry point "
                     "group)")


def missing_sqlite_file(url: str) -> str | None:
    """The path of a ``sqlite:`` URL's file when there is no such file."""
    if not url.startswith("sqlite:"):
        return None
    try:
        path = sqlite_path(url)
    except ValueError:
        return None  # a malformed URL: opening it says why
    return path if path != ":memory:" and not Path(path).exists() else None
