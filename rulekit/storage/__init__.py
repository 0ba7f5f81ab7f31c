"""Stores: where routing state lives.  ``open_store(url)`` picks one by URL: ``memory://``,
``sqlite:///path.db`` (the embedded default), ``postgresql://…`` (needs the ``postgres``
extra), or a third-party adapter registered in the ``rulekit.stores`` entry-point group."""

from rulekit.storage.base import StaleState, Store
from rulekit.storage.memory import MemoryStore
from rulekit.storage.sqlite import SQLiteStore
from rulekit.storage.url import open_store

__all__ = ["MemoryStore", "SQLiteStore", "StaleState", "Store", "open_store"]
