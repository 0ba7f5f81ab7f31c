"""Stores: where routing state lives (memory here; SQLite and PostgreSQL adapters follow the
same :class:`~rulekit.storage.base.Store` Protocol)."""

from rulekit.storage.base import StaleState, Store
from rulekit.storage.memory import MemoryStore

__all__ = ["MemoryStore", "StaleState", "Store"]
