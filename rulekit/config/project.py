"""Validate and load a set of files: rule files, world files (and, later, scenario files).

``check_paths`` is what ``rulekit validate`` runs: it finds the YAML files under the given
paths, loads each one safely, tells its kind by its top-level key, validates it against its
schema, and builds what it describes.  Rule files are grouped by folder: the rule files of one
folder form one rule set (they share pools and calendars, hand leads to each other, and compete
by precedence).  Problems of every stage are collected; nothing stops at the first.

The agents, offices and teams the rule files name, and the recipients of their notifications,
are checked against the world of their folder (:class:`_Worlds` says which that is).  A file
that fails to load or to match its schema is reported once: what it would define is not
reported undefined in the other files of its folder.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from rulekit.calendars import Calendar, build_calendar, check_horizons
from rulekit.calendars.zone import available_zones
from rulekit.config.build import Failed, build_ruleset
from rulekit.config.lint import (
    WorldNames,
    check_recipients,
    check_world_names,
    world_references,
)
from rulekit.config.load import MAX_WORLD_FILE_BYTES, Document, load_file
from rulekit.config.schema import validate_document
from rulekit.errors import Diagnostic, DiagnosticSink, LoadError, RulekitError, SourceLocation
from rulekit.model import Agent, Contact, Listing, Office, Staff, Team
from rulekit.ruleset import RuleSet
from rulekit.suggest import did_you_mean
from rulekit.world import World, zone_named

YAML_SUFFIXES = (".yaml", ".yml")
KINDS = {"policy": "rulefile", "world": "world", "scenario": "scenario"}


@dataclass
class CheckResult:
    """Everything one validation run found and built."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    documents: dict[str, Document] = field(default_factory=dict)
    rulesets: dict[str, RuleSet] = field(default_factory=dict)
    worlds: dict[str, World] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def find_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Diagnostic]]:
    """YAML files under ``paths`` (folders are searched recursively, hidden entries skipped)."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(
                    p for p in path.rglob("*")
                    if p.suffix in YAML_SUFFIXES and p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Diagnostic("RK008", "no such file or folder",
                                       SourceLocation(str(raw), 1, 1)))
    unique = list(dict.fromkeys(found))
    return unique, problems


def document_kind(doc: Document, sink: DiagnosticSink) -> str | None:
    data = doc.data
    if not isinstance(data, dict):
        sink.error("RK009", "not a rulekit file: expected a mapping with a 'policy', 'world' "
                   "or 'scenario' key", doc.location(()))
        return None
    if "scenario" in data and "policy" not in data:
        return "scenario"  # a scenario may name its world
    kinds = [kind for key, kind in KINDS.items() if key in data]
    if len(kinds) == 1:
        return kinds[0]
    if not kinds:
        close = [(k, h) for k in data if (h := did_you_mean(k, KINDS))]
        where = doc.location((close[0][0],), key=True) if close else doc.location(())
        sink.error("RK009", "not a rulekit file: expected a 'policy', 'world' or 'scenario' key",
                   where, hint=close[0][1] if close else None)
    else:
        sink.error("RK009", "a file holds one document kind; found keys for "
                   + " and ".join(kinds), doc.location(()))
    return None


def load_document(path: Path, sink: DiagnosticSink,
                  max_bytes: int | None = None) -> Document | None:
    limit = _size_limit(path)
    world = max_bytes is None and limit == MAX_WORLD_FILE_BYTES
    try:
        return load_file(path, max_bytes=max_bytes or limit,
                         what="world file" if world else "file",
                         size_hint="check a larger world with --max-file-bytes N" if world
                         else "split it into several files")
    except LoadError as exc:
        sink.extend_from(exc)
        return None


def _size_limit(path: Path) -> int:
    """World files may be larger than rule files; peek at the first lines to tell."""
    from rulekit.config.load import MAX_RULE_FILE_BYTES

    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return MAX_RULE_FILE_BYTES
    if b"\nworld:" in b"\n" + head or b"world:" in head.split(b"\n", 3)[0]:
        return MAX_WORLD_FILE_BYTES
    return MAX_RULE_FILE_BYTES


#: Unknown names in one world that get a "did you mean" hint (each looks through every name of
#: its kind: a world of many mistakes would otherwise cost mistakes × names).
MAX_HINTS = 20


M = TypeVar("M", bound=BaseModel)


def _model_items(doc: Document, key: str, model: type[M], sink: DiagnosticSink) -> list[M]:
    items: list[M] = []
    for index, raw in enumerate(doc.data.get(key, [])):
        try:
            items.append(model.model_validate(raw))
        except ValidationError as exc:
            for err in exc.errors():
                path = (key, index, *err["loc"])
                sink.error("RK105", f"'{key}[{index}]': {err['msg']}", doc.location(path))
    return items


def _unique_ids(doc: Document, key: str, ids: list[str], sink: DiagnosticSink,
                what: str | None = None) -> set[str]:
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            sink.error("RK308", f"{what or key[:-1]} id '{item_id}' is used twice",
                       doc.location((key, index, "id")))
        seen.add(item_id)
    return seen


def _staff_ids(doc: Document, staff: list[Staff], agent_ids: set[str],
               sink: DiagnosticSink) -> set[str]:
    """The staff ids, each reported where it is used twice or is also an agent's id (RK308):
    notifications name both by id, so one id must name one person."""
    seen = _unique_ids(doc, "staff", [s.id for s in staff], sink, what="staff")
    for index, member in enumerate(staff):
        if member.id in agent_ids:
            sink.error("RK308", f"staff id '{member.id}' is also an agent id",
                       doc.location(("staff", index, "id")),
                       hint="give the staff member an id of their own, such as "
                       f"'s-{member.id.removeprefix('a-')}'")
    return seen


def _check_team_leads(doc: Document, teams: list[Team], agents: list[Agent],
                      sink: DiagnosticSink) -> None:
    """A team's ``lead`` is an agent of the world and one of the team's members (RK316)."""
    agent_ids = {a.id for a in agents}
    for i, team in enumerate(teams):
        lead = team.lead
        if lead is None:
            continue
        members = set(team.members) | {a.id for a in agents if team.id in a.teams}
        where = doc.location(("teams", i, "lead"))
        if lead not in agent_ids:
            sink.error("RK316", f"lead '{lead}' of team '{team.id}' is not an agent of this "
                       "world", where, hint=did_you_mean(lead, members or agent_ids))
        elif lead not in members:
            sink.error("RK316", f"lead '{lead}' of team '{team.id}' is not one of its members",
                       where, hint=f"add '{lead}' to the team's members, or name one of them "
                       "as its lead")


def build_world(doc: Document, sink: DiagnosticSink, *,
                horizon_from: date | None = None) -> World | None:
    """Build a :class:`World` from a schema-valid world document, checking its references
    (and, with ``horizon_from``, that its calendars keep opening: see ``build_ruleset``)."""
    before = len(sink.items)
    calendars: dict[str, Calendar] = {}
    for name, spec in doc.data.get("calendars", {}).items():
        def at(path: tuple[str | int, ...], _n: str = name) -> SourceLocation | None:
            return doc.location(("calendars", _n, *path))
        try:
            calendars[name] = build_calendar(
                name, spec, at=at, location=doc.location(("calendars", name), key=True))
        except RulekitError as exc:
            sink.extend_from(exc)
    if horizon_from is not None:
        check_horizons(calendars, horizon_from, sink)
    offices = _model_items(doc, "offices", Office, sink)
    teams = _model_items(doc, "teams", Team, sink)
    agents = _model_items(doc, "agents", Agent, sink)
    listings = _model_items(doc, "listings", Listing, sink)
    contacts = _model_items(doc, "contacts", Contact, sink)
    staff = _model_items(doc, "staff", Staff, sink)
    ids = {
        "offices": _unique_ids(doc, "offices", [o.id for o in offices], sink),
        "teams": _unique_ids(doc, "teams", [t.id for t in teams], sink),
        "agents": _unique_ids(doc, "agents", [a.id for a in agents], sink),
        "listings": _unique_ids(doc, "listings", [li.id for li in listings], sink),
        "contacts": _unique_ids(doc, "contacts", [c.id for c in contacts], sink),
    }
    ids["staff"] = _staff_ids(doc, staff, ids["agents"], sink)

    ids["calendars"] = set(calendars)
    hints: dict[tuple[str, str], str | None] = {}

    def ref(kind: str, value: str | None, path: tuple[str | int, ...], what: str) -> None:
        pool = ids[kind]
        if value is not None and value not in pool:
            if (kind, value) not in hints and len(hints) < MAX_HINTS:
                hints[(kind, value)] = did_you_mean(value, pool)
            sink.error("RK310", f"{what} '{value}' is not defined in this world",
                       doc.location(path), hint=hints.get((kind, value)))

    for i, agent in enumerate(agents):
        for j, office in enumerate(agent.offices):
            ref("offices", office, ("agents", i, "offices", j), "office")
        for j, team in enumerate(agent.teams):
            ref("teams", team, ("agents", i, "teams", j), "team")
        ref("calendars", agent.calendar, ("agents", i, "calendar"), "calendar")
    for i, office_ in enumerate(offices):
        ref("calendars", office_.calendar, ("offices", i, "calendar"), "calendar")
    for i, team_ in enumerate(teams):
        for j, member in enumerate(team_.members):
            ref("agents", member, ("teams", i, "members", j), "agent")
    _check_team_leads(doc, teams, agents, sink)
    for i, listing in enumerate(listings):
        ref("agents", listing.listing_agent, ("listings", i, "listing_agent"), "agent")
    for i, contact in enumerate(contacts):
        ref("agents", contact.owner, ("contacts", i, "owner"), "agent")
        for scope, owner in contact.owners.items():
            ref("agents", owner, ("contacts", i, "owners", scope), "agent")
    for i, member_ in enumerate(staff):
        for j, office in enumerate(member_.offices):
            ref("offices", office, ("staff", i, "offices", j), "office")
    timezone = doc.data.get("timezone")
    if timezone is not None:
        try:
            zone_named(timezone)
        except LookupError:
            sink.error("RK401", f"unknown time zone {timezone!r}", doc.location(("timezone",)),
                       hint=did_you_mean(timezone, available_zones())
                       or "use an IANA zone name such as 'America/New_York', or 'UTC'")
    if any(d.severity == "error" for d in sink.items[before:]):
        return None
    return World.build(doc.data["world"], agents=agents, offices=offices, teams=teams,
                       listings=listings, contacts=contacts, calendars=calendars,
                       timezone=timezone, staff=staff)


def _empty_folders(paths: Sequence[str | Path], files: Sequence[Path]) -> list[Diagnostic]:
    """A problem for each folder of ``paths`` under which there is no YAML file at all."""
    problems = []
    for raw in paths:
        folder = Path(raw)
        if folder.is_dir() and not any(f.is_relative_to(folder) for f in files):
            problems.append(Diagnostic(
                "RK010", "no rule files in this folder: it holds no .yaml or .yml file",
                SourceLocation(str(raw), 1, 1),
                hint="name the folder of the rule files and their world.yaml (hidden files "
                "and folders are skipped)"))
    return problems


def _defined_names(doc: Document, kind: str) -> Failed:
    """What a document that failed its schema would define, as far as its data tells."""
    data = doc.data

    def keys(key: str) -> frozenset[str]:
        value = data.get(key)
        return frozenset(k for k in value if isinstance(k, str)) if isinstance(value, dict) \
            else frozenset()

    if kind == "world":
        return Failed(calendars=keys("calendars"))
    if kind != "rulefile":
        return Failed()
    name = data.get("policy")
    return Failed(policies=frozenset([name]) if isinstance(name, str) else frozenset(),
                  pools=keys("pools"), calendars=keys("calendars"),
                  unknown=not isinstance(name, str))


def _merge(first: Failed | None, second: Failed) -> Failed:
    if first is None:
        return second
    return Failed(first.policies | second.policies, first.pools | second.pools,
                  first.calendars | second.calendars, first.unknown or second.unknown)


class _Worlds:
    """Which world a rule folder's names are checked against: the world file in the folder,
    else the nearest one in a folder above it, else the one world file named on its own (as
    ``rulekit route --rules DIR --world FILE`` names it) that no other rule folder has."""

    def __init__(self, paths: Sequence[str | Path]) -> None:
        self.explicit = {Path(raw).resolve() for raw in paths if Path(raw).is_file()}
        self.names: dict[Path, WorldNames | None] = {}  # by folder; None: a world that failed
        self.named_alone: list[Path] = []  # folders of the worlds named on their own
        self.unreadable: set[Path] = set()  # folders with a file that may have been a world

    def explicit_path(self, path: str) -> bool:
        return Path(path).resolve() in self.explicit

    def add(self, path: Path, names: WorldNames | None) -> None:
        folder = path.parent.resolve()
        known = self.names.get(folder, WorldNames())
        self.names[folder] = None if known is None or names is None else known | names
        if path.resolve() in self.explicit and folder not in self.named_alone:
            self.named_alone.append(folder)

    def pair(self, groups: Mapping[str, object]) -> dict[str, WorldNames | None]:
        """The world names of each rule folder that has a world (``None``: it failed)."""
        paired: dict[str, WorldNames | None] = {}
        claimed: set[Path] = set()
        for folder in groups:
            here = Path(folder).resolve()
            if here in self.unreadable and here not in self.names:
                paired[folder] = None
                continue
            for place in (here, *here.parents):
                if place in self.names:
                    paired[folder] = self.names[place]
                    claimed.add(place)
                    break
        spare = [f for f in self.named_alone if f not in claimed]
        if len(spare) == 1:
            for folder in groups:
                paired.setdefault(folder, self.names[spare[0]])
        return paired


def _warn_unchecked(docs: Sequence[Document], sink: DiagnosticSink) -> None:
    """One warning for a folder of rules that use world names but have no world beside them."""
    for _, _, doc, path, position in world_references(docs):
        location = doc.locator(path)(*position) if position is not None else doc.location(path)
        sink.error("RK314", "the names of agents, offices and teams in this folder are not "
                   "checked: there is no world file in it or above it", location,
                   hint="validate the folder with its world file: rulekit validate FOLDER "
                   "WORLD.yaml (or put the world.yaml beside the rule files)")
        return


def check_paths(paths: Sequence[str | Path], *, max_bytes: int | None = None,
                horizon_from: date | None = None) -> CheckResult:
    """Validate every rulekit file under ``paths`` and build rule sets and worlds.

    ``max_bytes`` overrides the per-kind file size limits.  ``horizon_from`` (``rulekit
    validate`` passes the validation date) also reports calendars that stop opening in the
    year from that date; loading rules to run them leaves it out, so that rules keep loading
    when a calendar runs out (the leads that need it are then parked)."""
    result = CheckResult()
    sink = DiagnosticSink()
    files, missing = find_files(paths)
    sink.items.extend(missing)
    sink.items.extend(_empty_folders(paths, files))
    groups: dict[str, list[Document]] = defaultdict(list)
    world_docs: list[Document] = []
    failed: dict[str, Failed] = {}  # by folder: what its files that failed would define
    worlds = _Worlds(paths)
    for path in files:
        result.files.append(str(path))
        folder = str(path.parent)
        doc = load_document(path, sink, max_bytes)
        if doc is None:
            failed[folder] = Failed(unknown=True)
            worlds.unreadable.add(path.parent.resolve())
            continue
        result.documents[doc.path] = doc
        kind = document_kind(doc, sink)
        if kind is None:
            failed[folder] = Failed(unknown=True)
            worlds.unreadable.add(path.parent.resolve())
            continue
        schema_problems = validate_document(doc, kind)
        sink.items.extend(schema_problems)
        if schema_problems:
            failed[folder] = _merge(failed.get(folder), _defined_names(doc, kind))
            if kind == "world":
                worlds.add(path, None)
            continue
        if kind == "rulefile":
            groups[folder].append(doc)
        elif kind == "world":
            world_docs.append(doc)
    world_calendars: dict[str, list[str]] = defaultdict(list)
    for doc in world_docs:
        world = build_world(doc, sink, horizon_from=horizon_from)
        if world is not None:
            result.worlds[doc.path] = world
        # a world that does not build still names its calendars (its own problems are
        # reported): the rules that use them are not told that they are undefined
        world_calendars[str(Path(doc.path).parent)].extend(doc.data.get("calendars", {}))
        worlds.add(Path(doc.path), WorldNames.of_document(doc))
    paired = worlds.pair(groups)
    for folder, docs in groups.items():
        world_problems = 0
        if folder in paired:
            names = paired[folder]
            if names is not None:
                world_problems = check_world_names(docs, names, sink)
        elif not all(worlds.explicit_path(d.path) for d in docs):
            _warn_unchecked(docs, sink)
        if folder not in paired or paired[folder] is None:
            world_problems += check_recipients(docs, None, sink)  # the addresses, at least
        ruleset = build_ruleset(docs, sink, root=folder,
                                world_calendars=world_calendars.get(folder, ()),
                                horizon_from=horizon_from, failed=failed.get(folder))
        if ruleset is not None and not world_problems:
            result.rulesets[folder] = ruleset
    result.diagnostics = sorted(sink.items, key=Diagnostic.sort_key)
    return result
