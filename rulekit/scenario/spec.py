"""Scenario files: load, validate, and resolve times and paths.

A scenario names its rule files (a folder) and world, a start instant, timed events and
expectations (``schemas/scenario.schema.json``; ``docs/scenarios.md``).  Times are an offset
from the start (``+2h``, ``+1d2h30m``) or an ISO instant with its UTC offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rulekit.config.load import Document, load_file
from rulekit.config.schema import validate_document
from rulekit.errors import Diagnostic, LoadError, SourceLocation
from rulekit.model import Lead

OFFSET = re.compile(r"^\+\s*((?:\d+\s*[dhms]\s*)+)$")
UNIT = re.compile(r"(\d+)\s*([dhms])")
SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class ScenarioError(Exception):
    """A scenario file cannot be run (invalid file, invalid rules, bad time)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics[0].headline() if diagnostics else "invalid scenario")
        self.diagnostics = diagnostics


def parse_span(text: str) -> timedelta | None:
    """``3d`` / ``1h30m`` → a timedelta (``None`` if not of that form)."""
    cleaned = text.strip().lstrip("+").strip()
    if not cleaned or UNIT.sub("", cleaned).strip():
        return None
    return timedelta(seconds=sum(int(n) * SECONDS[u] for n, u in UNIT.findall(cleaned)))


def parse_when(text: str, start: datetime) -> datetime | None:
    """An offset from ``start`` or an aware ISO instant."""
    text = text.strip()
    if text.startswith("+"):
        span = parse_span(text)
        return start + span if span is not None else None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


@dataclass(frozen=True)
class ExpectedTime:
    """An expected instant, exact or give or take ``within``, and the zone it is written in
    (its UTC offset; for an offset like ``+2h``, the offset of the scenario's start)."""

    at: datetime
    within: timedelta = timedelta(0)
    within_text: str = ""

    @property
    def zone(self) -> tzinfo:
        return self.at.tzinfo or UTC

    def matches(self, instant: datetime | None) -> bool:
        return instant is not None and abs(instant - self.at) <= self.within

    def show(self, zone: tzinfo | None = None) -> str:
        text = self.at.astimezone(zone or self.zone).isoformat()
        return f"{text} ± {self.within_text}" if self.within else text


def parse_expected(value: Any, start: datetime) -> ExpectedTime | str:
    """An expected time: ``"+2h"`` / an ISO instant, or ``{at: ..., within: 5m}``; a problem
    (text) when it cannot be read."""
    text, within_text = (value.get("at"), value.get("within")) if isinstance(value, dict) \
        else (value, None)
    instant = parse_when(str(text), start)
    if instant is None:
        return f"cannot read the time '{text}': use an offset like +2h or an ISO instant " \
               "with offset"
    if within_text is None:
        return ExpectedTime(instant)
    within = parse_span(str(within_text))
    if within is None:
        return f"cannot read the duration '{within_text}': use a span like 5m or 1h30m"
    return ExpectedTime(instant, within, str(within_text).strip())


#: The times an expectation item can hold: key → (path inside the key, is a list).
EXPECTED_TIMES: dict[str, tuple[tuple[str, ...], bool]] = {
    "by": ((), False), "not_before": ((), False), "offer_deadlines": ((), True),
    "offered_at": ((), True), "broadcast_at": ((), False), "refused": (("at",), False),
}


def _expected_time_problems(doc: Document, expect: list[dict[str, Any]],
                            start: datetime) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for index, item in enumerate(expect):
        for key, (inner, many) in EXPECTED_TIMES.items():
            value: Any = item.get(key)
            path: tuple[str | int, ...] = ("expect", index, key, *inner)
            for part in inner:
                value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                continue
            for at, one in (enumerate(value) if many else [(None, value)]):
                problem = parse_expected(one, start)
                if isinstance(problem, str):
                    where = path if at is None else (*path, at)
                    if isinstance(one, dict):
                        bad = "within" if problem.startswith("cannot read the duration") \
                            else "at"
                        where = (*where, bad)
                    problems.append(Diagnostic("RK105", problem, doc.location(where)))
    return problems


@dataclass
class Event:
    at: datetime
    kind: str
    body: Any
    location: SourceLocation


@dataclass
class Scenario:
    path: Path
    name: str
    document: Document
    rules: Path
    world: Path | dict[str, Any]
    start: datetime
    events: list[Event]
    expect: list[tuple[dict[str, Any], SourceLocation]]
    end: datetime | None = None
    store: str = "memory"
    description: str = ""
    behaviour: str = ""
    problems: list[Diagnostic] = field(default_factory=list)


def _shown(path: Path) -> Path:
    """A resolved path, relative to the current folder when it lies inside it (so positions
    in messages read like the paths a user typed)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _rules_folder(path: Path, given: str | None) -> Path:
    if given is not None:
        return _shown((path.parent / given).resolve())
    folder = path.parent.resolve()
    for candidate in (folder, *folder.parents):
        if any(_is_rule_file(p) for p in candidate.glob("*.y*ml")):
            return _shown(candidate)
    return _shown(folder)


def _is_rule_file(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return False
    return bool(re.search(r"^policy:", head, re.MULTILINE))


def _payload_problems(doc: Document, index: int, kind: str, body: Any,
                      at: datetime) -> list[Diagnostic]:
    """A lead payload's problems, each positioned at the offending field."""
    base: tuple[str | int, ...] = ("events", index, kind)
    payload = dict(body) if kind == "lead" else {**body.get("template", {}), "id": "lead"}
    if kind == "leads":
        base = (*base, "template")
    payload.setdefault("received_at", at.isoformat())
    try:
        Lead.model_validate(payload)
    except ValidationError as exc:
        return [Diagnostic("RK105", f"lead {'.'.join(str(p) for p in err['loc'])}: "
                           f"{err['msg'][:1].lower()}{err['msg'][1:]}",
                           doc.location((*base, *err["loc"])),
                           field_path=".".join(str(p) for p in err["loc"]))
                for err in exc.errors()]
    return []


def load_scenario(path: Path) -> Scenario:
    """Load and check a scenario file; raise :class:`ScenarioError` with every problem."""
    try:
        doc = load_file(path)
    except LoadError as exc:
        raise ScenarioError([exc.to_diagnostic()]) from None
    problems = validate_document(doc, "scenario") if isinstance(doc.data, dict) else [
        Diagnostic("RK009", "not a scenario file", SourceLocation(str(path), 1, 1))]
    if problems:
        raise ScenarioError(problems)
    data = doc.data
    start = parse_when(data["start"], datetime.min)
    if start is None:
        raise ScenarioError([Diagnostic("RK105", "start must be an ISO instant with its UTC "
                                        "offset, like 2026-11-27T15:00:00-05:00",
                                        doc.location(("start",)))])
    rules = _rules_folder(path, data.get("rules"))
    world_spec = data.get("world")
    world: Path | dict[str, Any]
    if isinstance(world_spec, dict):
        world = world_spec
    elif isinstance(world_spec, str):
        world = _shown((path.parent / world_spec).resolve())
    else:
        world = rules / "world.yaml"
    events: list[Event] = []
    bad: list[Diagnostic] = []
    current = start
    for index, raw in enumerate(data["events"]):
        if "at" in raw:
            at = parse_when(raw["at"], start)
            if at is None:
                bad.append(Diagnostic("RK105", f"cannot read the time '{raw['at']}': use an "
                                      "offset like +2h or an ISO instant with offset",
                                      doc.location(("events", index, "at"))))
                continue
            if at < current:
                bad.append(Diagnostic("RK105", "events must be in time order",
                                      doc.location(("events", index, "at"))))
            current = max(current, at)
        kind = next(k for k in raw if k != "at")
        body = raw[kind]
        if kind == "advance":
            span = parse_span(str(body))
            if span is None:
                bad.append(Diagnostic("RK105", f"cannot read the duration '{body}'",
                                      doc.location(("events", index, kind))))
                continue
            current = current + span
            body = current
        if kind in ("lead", "leads"):
            bad.extend(_payload_problems(doc, index, kind, body, current))
        events.append(Event(current, kind, body, doc.location(("events", index, kind),
                                                                key=True)))
    end = None
    if "end" in data:
        base = current
        end = parse_when(data["end"], base)
        if end is None:
            bad.append(Diagnostic("RK105", f"cannot read the time '{data['end']}'",
                                  doc.location(("end",))))
    bad.extend(_expected_time_problems(doc, data["expect"], start))
    if bad:
        raise ScenarioError(bad)
    expect = [(item, doc.location(("expect", i))) for i, item in enumerate(data["expect"])]
    return Scenario(path=path, name=data["scenario"], document=doc, rules=rules, world=world,
                    start=start, events=events, expect=expect, end=end,
                    store=data.get("store", "memory"),
                    description=data.get("description", ""),
                    behaviour=data.get("behaviour", ""))
