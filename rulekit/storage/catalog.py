"""Rule sets and worlds kept in the store: load, compile back, activate, and small admin edits.

A rule set is stored as the texts of its rule files (relative path → text) under its version —
the content hash :func:`rulekit.config.build.ruleset_version` of those texts, so compiling
the stored texts again gives a rule set with the same version.  A world is stored as the text
of its world file under a content hash of that text.  One version of each kind is *active*:
workers route new leads with the active rule set and the active world, and pick up a newly
activated version at their next poll, without restarting.

The in-flight policy: a lead keeps the **rule set** version it started with until routing ends
(a worker compiles older versions from the store on demand, see
:func:`ruleset_loader`); the **world** (agents, pauses, calendars, contacts) is live data:
every decision, of new leads and of leads in flight, uses the active world.

Every activation — ``load``, :func:`pause_agent`, :func:`set_pool_members`,
:func:`set_policy_enabled`, :func:`set_rule_cc` — appends one entry to the audit history (when,
who, what, and the reason an administrator gave).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import yaml

from rulekit.config.build import build_ruleset
from rulekit.config.lint import WorldNames, check_world_names
from rulekit.config.load import Document, load_text
from rulekit.config.project import (
    build_world,
    document_kind,
    find_files,
    load_document,
)
from rulekit.config.schema import validate_document
from rulekit.errors import Diagnostic, DiagnosticSink, LoadError
from rulekit.ruleset import RuleSet
from rulekit.storage.base import RULESET, WORLD, Catalog
from rulekit.world import World


class CatalogError(RuntimeError):
    """A stored rule set or world is missing, or an admin edit is not possible."""


class InvalidEdit(CatalogError):
    """An admin edit that would make rule files or a world that do not validate."""


class UnknownRule(CatalogError):
    """An admin edit of a rule the policy does not have."""


def world_version(text: str) -> str:
    """The version of a world file: a content hash of its text."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_catalog(store: object) -> Catalog:
    """``store`` as a :class:`~rulekit.storage.base.Catalog`, or a clear error."""
    if not all(hasattr(store, name) for name in ("put_ruleset", "activate", "active_versions")):
        raise CatalogError(f"{store!r} cannot keep rule sets and worlds (no catalog)")
    return cast(Catalog, store)


# -- compiling ---------------------------------------------------------------------------------
def _rule_docs(docs: Sequence[Document], sink: DiagnosticSink) -> list[Document]:
    rules: list[Document] = []
    for doc in docs:
        kind = document_kind(doc, sink)
        if kind is None:
            continue
        problems = validate_document(doc, kind)
        sink.items.extend(problems)
        if not problems and kind == "rulefile":
            rules.append(doc)
    return rules


def compile_world(path: str, text: str, sink: DiagnosticSink) -> World | None:
    """Build a world from a world file's text; problems go to ``sink``."""
    try:
        doc = load_text(text, path)
    except LoadError as exc:
        sink.extend_from(exc)
        return None
    if document_kind(doc, sink) != "world":
        if not sink.items:
            from rulekit.errors import SourceLocation

            sink.error("RK009", "not a world file", SourceLocation(path, 1, 1))
        return None
    problems = validate_document(doc, "world")
    sink.items.extend(problems)
    return None if problems else build_world(doc, sink)


def compile_ruleset(files: Mapping[str, str], root: str, world: World | None,
                    sink: DiagnosticSink) -> RuleSet | None:
    """Compile rule files from their texts (relative path → text); problems go to ``sink``."""
    docs: list[Document] = []
    for path, text in sorted(files.items()):
        try:
            docs.append(load_text(text, path))
        except LoadError as exc:
            sink.extend_from(exc)
    rules = _rule_docs(docs, sink)
    if len(rules) != len(files):
        return None
    return build_ruleset(rules, sink, root=root,
                         world_calendars=tuple(world.calendars) if world else ())


def load_ruleset(store: object, version: str, world: World | None = None) -> RuleSet | None:
    """A stored rule set version, compiled; ``None`` if the store does not have it."""
    stored = as_catalog(store).ruleset_files(version)
    if stored is None:
        return None
    sink = DiagnosticSink()
    ruleset = compile_ruleset(stored.files, stored.root, world, sink)
    if ruleset is None:
        raise CatalogError(f"stored rule set {version} does not compile: "
                           + "; ".join(d.message for d in sink.items[:3]))
    return ruleset


def load_world(store: object, version: str) -> World | None:
    """A stored world version, built; ``None`` if the store does not have it."""
    stored = as_catalog(store).world_text(version)
    if stored is None:
        return None
    sink = DiagnosticSink()
    world = compile_world(stored.path, stored.text, sink)
    if world is None:
        raise CatalogError(f"stored world {version} does not build: "
                           + "; ".join(d.message for d in sink.items[:3]))
    return world


def ruleset_loader(store: object, world: Callable[[], World | None]
                   ) -> Callable[[str], RuleSet | None]:
    """The engine's ``ruleset_loader`` hook: compile a version from the store on demand."""
    def load(version: str) -> RuleSet | None:
        return load_ruleset(store, version, world())
    return load


@dataclass
class Active:
    """The active rule set and world of a store (``None`` where nothing was loaded yet)."""

    ruleset: RuleSet | None
    world: World | None
    versions: dict[str, str]


def active_world(store: object) -> World | None:
    """The store's active world; ``None`` when it has none, keeps no catalog, or its world
    does not build."""
    try:
        versions = as_catalog(store).active_versions()
        return load_world(store, versions[WORLD]) if WORLD in versions else None
    except CatalogError:
        return None


def agent_names(store: object) -> dict[str, str]:
    """Agent id → name, from the store's active world (none when it has no catalog)."""
    world = active_world(store)
    return {} if world is None else {i: a.name or i for i, a in world.agents.items()}


def active(store: object) -> Active:
    versions = as_catalog(store).active_versions()
    world = load_world(store, versions[WORLD]) if WORLD in versions else None
    ruleset = load_ruleset(store, versions[RULESET], world) if RULESET in versions else None
    return Active(ruleset, world, versions)


# -- loading files -----------------------------------------------------------------------------
@dataclass
class Checked:
    """What :func:`check_files` found: diagnostics, documents, and what they build."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    documents: dict[str, Document] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    ruleset: RuleSet | None = None
    ruleset_files: dict[str, str] = field(default_factory=dict)
    root: str = ""
    world: World | None = None
    world_path: str = ""
    world_text: str = ""

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def check_files(rules: str | Path | None, world: str | Path | None,
                fallback_world: World | None = None) -> Checked:
    """Validate a folder of rule files and a world file, as ``rulekit validate`` would.

    The rule files are the rule-file documents under ``rules`` (other kinds are ignored), with
    their paths relative to ``rules``; ``fallback_world`` gives the calendars when no world
    file is given."""
    checked = Checked()
    sink = DiagnosticSink()
    built_world = fallback_world
    if world is not None:
        files, missing = find_files([world])
        sink.items.extend(missing)
        for path in files:
            checked.files.append(str(path))
            doc = load_document(path, sink)
            if doc is None:
                continue
            checked.documents[doc.path] = doc
            if document_kind(doc, sink) != "world":
                continue
            problems = validate_document(doc, "world")
            sink.items.extend(problems)
            if not problems:
                built_world = checked.world = build_world(doc, sink)
                checked.world_path, checked.world_text = Path(path).name, doc.text
    if rules is not None:
        folder = Path(rules)
        files, missing = find_files([folder])
        sink.items.extend(missing)
        docs: list[Document] = []
        for path in files:
            if world is not None and path.resolve() == Path(world).resolve():
                continue
            checked.files.append(str(path))
            doc = load_document(path, sink)
            if doc is None:
                continue
            checked.documents[doc.path] = doc
            if isinstance(doc.data, dict) and ("world" in doc.data or "scenario" in doc.data) \
                    and "policy" not in doc.data:
                continue  # worlds and scenarios beside the rules are not part of the rule set
            docs.append(doc)
            relative = path.relative_to(folder) if folder.is_dir() else Path(path.name)
            checked.ruleset_files[relative.as_posix()] = doc.text
        rule_docs = _rule_docs(docs, sink)
        nested = sorted(d.path for d in rule_docs if Path(d.path).parent != folder)
        if folder.is_dir() and nested:
            from rulekit.errors import SourceLocation

            for inner in nested:  # `validate` makes each folder a rule set of its own
                sink.error("RK008", f"a rule set is the rule files of one folder; this one is "
                           f"in a subfolder of {rules}: load that folder on its own",
                           SourceLocation(inner, 1, 1))
        if not docs and not missing:
            from rulekit.errors import SourceLocation

            sink.error("RK008", "no rule files in this folder", SourceLocation(str(rules), 1, 1))
        elif rule_docs and len(rule_docs) == len(docs):
            checked.root = str(rules)
            unknown = check_world_names(rule_docs, WorldNames.of_world(built_world), sink) \
                if built_world is not None else 0
            ruleset = build_ruleset(
                rule_docs, sink, root=str(rules),
                world_calendars=tuple(built_world.calendars) if built_world else ())
            checked.ruleset = None if unknown else ruleset
    checked.diagnostics = sorted(sink.items, key=Diagnostic.sort_key)
    return checked


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def store_checked(store: object, checked: Checked, *, by: str,
                  now: datetime | None = None) -> dict[str, str]:
    """Store and activate what :func:`check_files` built (it must be ``ok``); the versions
    activated.  Activating the versions already active changes nothing (no audit entry)."""
    if not checked.ok:
        raise CatalogError("the files have problems: nothing was stored")
    catalog = as_catalog(store)
    at = _now(now)
    wanted: dict[str, str] = {}
    detail: dict[str, Any] = {}
    if checked.world is not None:
        version = world_version(checked.world_text)
        catalog.put_world(version, checked.world_path, checked.world_text, by, at)
        wanted[WORLD] = version
        detail["world"] = {"version": version, "name": checked.world.name,
                           "path": checked.world_path}
    if checked.ruleset is not None:
        catalog.put_ruleset(checked.ruleset.version, checked.ruleset_files, checked.root, by, at)
        wanted[RULESET] = checked.ruleset.version
        detail["ruleset"] = {"version": checked.ruleset.version,
                             "files": sorted(checked.ruleset_files)}
    current = catalog.active_versions()
    changed = {kind: v for kind, v in wanted.items() if current.get(kind) != v}
    if changed:
        action = " and ".join(f"{kind} {v} activated" for kind, v in sorted(changed.items()))
        catalog.activate(changed, by, action, detail, at)
    return wanted


def load_files(store: object, rules: str | Path | None, world: str | Path | None, *,
               by: str = "rulekit load", now: datetime | None = None) -> Checked:
    """Validate, store and activate rule files and/or a world file; see :class:`Checked`.

    Nothing is stored when there are problems.  A new world alone is checked against the
    active rule set (its calendars must still be there)."""
    current = active(store)
    checked = check_files(rules, world, current.world)
    if checked.ok and rules is None and checked.world is not None \
            and current.ruleset is not None:
        stored = as_catalog(store).ruleset_files(current.ruleset.version)
        assert stored is not None
        sink = DiagnosticSink()
        if compile_ruleset(stored.files, stored.root, checked.world, sink) is None:
            checked.diagnostics.extend(sink.items)
    if checked.ok:
        store_checked(store, checked, by=by, now=now)
    return checked


# -- admin edits -------------------------------------------------------------------------------
def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _active_world_doc(store: object) -> tuple[str, Document]:
    versions = as_catalog(store).active_versions()
    if WORLD not in versions:
        raise CatalogError("no world is active in this store: load one first")
    stored = as_catalog(store).world_text(versions[WORLD])
    assert stored is not None
    return stored.path, load_text(stored.text, stored.path)


def set_world_text(store: object, path: str, text: str, *, by: str, action: str,
                   detail: Mapping[str, Any], now: datetime | None = None) -> str:
    """Store and activate a new world text (checked against the active rule set)."""
    sink = DiagnosticSink()
    world = compile_world(path, text, sink)
    versions = as_catalog(store).active_versions()
    if world is not None and RULESET in versions:
        stored = as_catalog(store).ruleset_files(versions[RULESET])
        assert stored is not None
        compile_ruleset(stored.files, stored.root, world, sink)
    if world is None or any(d.severity == "error" for d in sink.items):
        raise InvalidEdit("the edited world has problems: "
                           + "; ".join(d.message for d in sink.items[:3]))
    version = world_version(text)
    at = _now(now)
    as_catalog(store).put_world(version, path, text, by, at)
    as_catalog(store).activate({WORLD: version}, by, f"{action}; world {version} activated",
                               {**detail, "world": version}, at)
    return version


def pause_agent(store: object, agent: str, paused: bool = True, *, by: str,
                now: datetime | None = None, reason: str | None = None) -> str:
    """Pause (or unpause) an agent in the active world; the new world version.

    The world file is rewritten through YAML (its comments are not kept in the new version;
    every earlier text stays stored under its own version)."""
    path, doc = _active_world_doc(store)
    data = doc.data
    for item in data.get("agents", []):
        if isinstance(item, dict) and item.get("id") == agent:
            item["paused"] = paused
            break
    else:
        raise CatalogError(f"no agent {agent!r} in the active world")
    verb = "paused" if paused else "unpaused"
    return set_world_text(store, path, _dump(data), by=by, action=f"agent {agent} {verb}",
                          detail=_with_reason({"agent": agent, "paused": paused}, reason),
                          now=now)


def _active_rule_data(store: object) -> list[Any]:
    """The data of each rule file of the active rule set, by path."""
    catalog = as_catalog(store)
    versions = catalog.active_versions()
    if RULESET not in versions:
        raise CatalogError("no rule set is active in this store: load one first")
    stored = catalog.ruleset_files(versions[RULESET])
    assert stored is not None
    return [load_text(text, path).data for path, text in sorted(stored.files.items())]


def _edit_ruleset(store: object, owns: Callable[[Any], bool], edit: Callable[[Any], None],
                  *, by: str, action: str, detail: Mapping[str, Any],
                  missing: str, now: datetime | None) -> str:
    """Rewrite the rule file of the active rule set whose data ``owns`` says it holds (through
    YAML: comments are not kept), compile the edited set, store and activate it with one audit
    entry; the new rule set version.  ``missing`` is the error when no file owns the edit."""
    catalog = as_catalog(store)
    versions = catalog.active_versions()
    if RULESET not in versions:
        raise CatalogError("no rule set is active in this store: load one first")
    world = load_world(store, versions[WORLD]) if WORLD in versions else None
    stored = catalog.ruleset_files(versions[RULESET])
    assert stored is not None
    files = dict(stored.files)
    for path, text in sorted(stored.files.items()):
        data = load_text(text, path).data
        if isinstance(data, dict) and owns(data):
            edit(data)
            files[path] = _dump(data)
            break
    else:
        raise CatalogError(missing)
    sink = DiagnosticSink()
    ruleset = compile_ruleset(files, stored.root, world, sink)
    if ruleset is None:
        raise InvalidEdit("the edited rule set has problems: "
                           + "; ".join(d.message for d in sink.items[:3]))
    at = _now(now)
    catalog.put_ruleset(ruleset.version, files, stored.root, by, at)
    catalog.activate({RULESET: ruleset.version}, by,
                     f"{action}; ruleset {ruleset.version} activated",
                     {**detail, "ruleset": ruleset.version}, at)
    return ruleset.version


def set_pool_members(store: object, pool: str, members: Sequence[str], *, by: str,
                     now: datetime | None = None, reason: str | None = None) -> str:
    """Set the ``members`` of a pool of the active rule set; the new rule set version.

    Each member is an agent or a team id (a team takes one turn); a team that cannot take one
    (RK316) is an :class:`InvalidEdit`.  The rule file that defines the pool is rewritten
    through YAML (comments are not kept)."""
    world = active_world(store)
    unknown = [m for m in members if world is not None and m not in world.agents
               and not world.is_team(m)]  # a team takes one turn
    if unknown:
        raise CatalogError("not agents or teams of the active world: " + ", ".join(unknown))

    def owns(data: Any) -> bool:
        return isinstance(data.get("pools"), dict) and pool in data["pools"]

    def edit(data: Any) -> None:
        spec = data["pools"][pool]
        unusable = [] if world is None else _unusable_teams(
            world, members, pool, spec.get("team_pick") if isinstance(spec, dict) else None)
        if unusable:
            raise InvalidEdit("the edited rule set has problems: " + "; ".join(unusable))
        spec["members"] = list(members)

    return _edit_ruleset(store, owns, edit, by=by, action=f"pool {pool} members set",
                         detail=_with_reason({"pool": pool, "members": list(members)}, reason),
                         missing=f"no pool {pool!r} in the active rule set", now=now)


def _unusable_teams(world: World, members: Sequence[str], pool: str,
                    team_pick: object) -> list[str]:
    """The teams among ``members`` that cannot take a turn of the pool's rotation (RK316, as
    ``rulekit validate`` says it): a team without members, or without a lead when the pool
    gives a team's turn to its lead."""
    names = WorldNames.of_world(world)
    found = []
    for team in (m for m in members if m not in world.agents):
        if team in names.empty_teams:
            found.append(f"RK316 team '{team}' has no members: it cannot take a turn in pool "
                         f"'{pool}'")
        elif team_pick == "lead" and team in names.teams and team not in names.led_teams:
            found.append(f"RK316 team '{team}' has no lead: pool '{pool}' gives a team's turn "
                         "to its lead (team_pick: lead)")
    return found


def _with_reason(detail: dict[str, Any], reason: str | None) -> dict[str, Any]:
    return {**detail, "reason": reason} if reason else detail


def _policy_owner(policy: str) -> Callable[[Any], bool]:
    return lambda data: data.get("policy") == policy


def set_policy_enabled(store: object, policy: str, enabled: bool, *, by: str,
                       now: datetime | None = None, reason: str | None = None) -> str:
    """Switch a policy's distribution on or off (its ``enabled:``); the new rule set version.
    A disabled policy sends its leads to its ``disabled_queue``."""
    def edit(data: Any) -> None:
        data["enabled"] = enabled

    verb = "enabled" if enabled else "disabled"
    return _edit_ruleset(store, _policy_owner(policy), edit, by=by,
                         action=f"policy {policy} {verb}",
                         detail=_with_reason({"policy": policy, "enabled": enabled}, reason),
                         missing=f"no policy {policy!r} in the active rule set", now=now)


def notifications_of(node: Any) -> list[dict[str, Any]]:
    """Every ``notify:`` mapping inside a rule's data, in document order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "notify" and isinstance(value, dict):
                found.append(value)
            else:
                found.extend(notifications_of(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(notifications_of(item))
    return found


def rule_of(data: Any, rule: str) -> Any:
    """The rule named ``rule`` of a rule file's data, or ``None``."""
    for item in data.get("rules") or ():
        if isinstance(item, dict) and item.get("name") == rule:
            return item
    return None


def rule_cc(store: object, policy: str, rule: str) -> list[list[str]]:
    """The carbon-copy list of each notification of one rule of a policy of the active rule
    set, in document order (``[]`` for a notification without copies)."""
    found = None
    for data in _active_rule_data(store):
        if data.get("policy") == policy:
            found = rule_of(data, rule)
            if found is None:
                raise UnknownRule(f"policy {policy!r} has no rule {rule!r}")
            break
    else:
        raise CatalogError(f"no policy {policy!r} in the active rule set")
    return [list(notify.get("cc") or ()) for notify in notifications_of(found)]


def set_rule_cc(store: object, policy: str, rule: str, cc: Sequence[str], *, by: str,
                now: datetime | None = None, reason: str | None = None) -> str:
    """Set the carbon-copy list of every notification of one rule of a policy (an empty list
    removes the copies); the new rule set version."""
    def owns(data: Any) -> bool:
        if data.get("policy") != policy:
            return False
        found = rule_of(data, rule)
        if found is None:
            raise UnknownRule(f"policy {policy!r} has no rule {rule!r}")
        if not notifications_of(found):
            raise CatalogError(f"rule {rule!r} of policy {policy!r} sends no notification")
        return True

    def edit(data: Any) -> None:
        for notify in notifications_of(rule_of(data, rule)):
            if cc:
                notify["cc"] = list(cc)
            else:
                notify.pop("cc", None)

    return _edit_ruleset(store, owns, edit, by=by, action=f"policy {policy} rule {rule} cc set",
                         detail=_with_reason({"policy": policy, "rule": rule, "cc": list(cc)},
                                             reason),
                         missing=f"no policy {policy!r} in the active rule set", now=now)
