"""rulekit: lead routing as YAML rule files, checked, compiled and explained.

The names most programs need are importable from here::

    from rulekit import Engine, Lead, ManualClock, load_rules, open_store

    rules = load_rules("rules/leadstreet")           # rule set + world, or RulekitErrors
    engine = Engine(rules.ruleset, rules.world, open_store("sqlite:///routing.db"))

They are loaded on first use, so ``import rulekit`` (and the command line) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from rulekit.errors import Diagnostic, RulekitError, RulekitErrors, SourceLocation

if TYPE_CHECKING:
    from rulekit.engine import Engine, ManualClock, Receipt, SystemClock, UnknownLead
    from rulekit.model import Contact, Lead
    from rulekit.pipeline import Decision, LeadState, decide
    from rulekit.rules_folder import LoadedRules, load_rules
    from rulekit.ruleset import RuleSet
    from rulekit.storage.base import StaleState, Store
    from rulekit.storage.memory import MemoryStore
    from rulekit.storage.url import open_store
    from rulekit.worker import Worker
    from rulekit.world import World

#: Where each lazily loaded name lives.
_LAZY = {
    "Engine": "rulekit.engine", "ManualClock": "rulekit.engine", "Receipt": "rulekit.engine",
    "SystemClock": "rulekit.engine", "UnknownLead": "rulekit.engine",
    "Contact": "rulekit.model", "Lead": "rulekit.model",
    "Decision": "rulekit.pipeline", "LeadState": "rulekit.pipeline", "decide": "rulekit.pipeline",
    "LoadedRules": "rulekit.rules_folder", "load_rules": "rulekit.rules_folder",
    "RuleSet": "rulekit.ruleset", "StaleState": "rulekit.storage.base",
    "Store": "rulekit.storage.base", "MemoryStore": "rulekit.storage.memory",
    "open_store": "rulekit.storage.url", "Worker": "rulekit.worker", "World": "rulekit.world",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rulekit' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Contact",
    "Decision",
    "Diagnostic",
    "Engine",
    "Lead",
    "LeadState",
    "LoadedRules",
    "ManualClock",
    "MemoryStore",
    "Receipt",
    "RuleSet",
    "RulekitError",
    "RulekitErrors",
    "SourceLocation",
    "StaleState",
    "Store",
    "SystemClock",
    "UnknownLead",
    "Worker",
    "World",
    "__version__",
    "decide",
    "load_rules",
    "open_store",
]
