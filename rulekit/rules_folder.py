"""One call from a rules folder to what the engine needs: :func:`load_rules`.

A rules folder holds the rule files of one rule set (``*.yaml`` with ``policy:``) and, usually,
its world file (``world.yaml``).  ``load_rules`` validates both exactly as ``rulekit validate``
does and returns the compiled rule set and the indexed world with every diagnostic — or raises
:class:`~rulekit.errors.RulekitErrors` carrying every error, each with its file, line and
column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rulekit.config.project import check_paths
from rulekit.errors import Diagnostic, RulekitErrors, Severity, SourceLocation
from rulekit.ruleset import RuleSet
from rulekit.world import World

#: The world file looked for in a rules folder when none is named.
WORLD_FILE = "world.yaml"


@dataclass(frozen=True)
class LoadedRules:
    """A rules folder, compiled: the rule set, its world, and the warnings found on the way."""

    ruleset: RuleSet
    world: World
    diagnostics: list[Diagnostic] = field(default_factory=list)


def load_rules(folder: str | Path, world: str | Path | None = None) -> LoadedRules:
    """Validate and compile the rule files of ``folder`` with ``world`` (default
    ``FOLDER/world.yaml``).

    Raises :class:`~rulekit.errors.RulekitErrors` when anything is wrong; its
    ``diagnostics`` list every problem (``str(d)`` reads ``path:line:col: message``)."""
    root = Path(folder)
    world_path = Path(world) if world is not None else root / WORLD_FILE
    paths = [root] if world_path.parent == root else [root, world_path]
    checked = check_paths(paths)
    problems = [d for d in checked.diagnostics if d.severity == Severity.ERROR]
    ruleset = checked.rulesets.get(str(root))
    built_world = checked.worlds.get(str(world_path))
    if not problems and ruleset is None:
        problems.append(Diagnostic("RK008", f"no rule files (documents with policy:) in {root}",
                                   SourceLocation(str(root), 1, 1)))
    if not problems and built_world is None:
        problems.append(Diagnostic("RK008", f"no world file at {world_path}",
                                   SourceLocation(str(world_path), 1, 1)))
    if problems:
        raise RulekitErrors(problems)
    assert ruleset is not None and built_world is not None
    return LoadedRules(ruleset, built_world, list(checked.diagnostics))


__all__ = ["WORLD_FILE", "LoadedRules", "load_rules"]
