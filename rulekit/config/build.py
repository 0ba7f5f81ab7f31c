"""Build a :class:`~rulekit.ruleset.RuleSet` from schema-valid rule-file documents.

Every expression is parsed, type-checked and compiled; every duration parsed; every calendar
built; every reference (pool, calendar, policy) resolved.  Problems are collected into a
:class:`~rulekit.errors.DiagnosticSink` — the build goes on after a problem so that one run of
``rulekit validate`` reports them all — and the rule set is returned only when there were none.

Pools and calendars are shared by the policies of one rule set (a folder of rule files): each
is defined once, in any of its files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from rulekit.calendars import Calendar, build_calendar, check_horizons
from rulekit.config.load import Document
from rulekit.dsl import (
    ANY,
    BOOLEAN,
    NUMBER,
    STRING,
    CompiledExpression,
    Duration,
    Type,
    ast,
    compile_expression,
    parse_duration,
)
from rulekit.dsl.parse import located, parse
from rulekit.errors import DiagnosticSink, RulekitError, SourceLocation
from rulekit.ruleset import (
    ALL_EXCLUSIONS,
    AppliesTo,
    Assign,
    AttachToOwner,
    Broadcast,
    CalendarChoice,
    CalendarRef,
    Drop,
    ExpectContact,
    Hold,
    Notify,
    NotifyStep,
    Offer,
    OfferSequence,
    PickOffice,
    Policy,
    Pool,
    Qualify,
    Queue,
    RoundRobin,
    Rule,
    RuleSet,
    Scope,
    Step,
    UsePolicy,
)
from rulekit.suggest import did_you_mean

P = tuple[str | int, ...]
T = TypeVar("T")

#: Undefined names of one rule set that get a "did you mean" hint (see :meth:`_Builder.hint`).
MAX_HINTS = 20

#: A text expression that is an id with dashes (``a-jordan-lee``): the DSL reads a
#: subtraction of unknown names, so it is reported once, with a hint to quote it.
_BARE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+")

#: Context names of the DSL by what a pool holds.
POOL_CONTEXT = {"agents": "agent", "offices": "office"}


@dataclass(frozen=True)
class Failed:
    """What the files of a folder that failed to load or to match their schema would define:
    references to these names are not reported (the failed file's own problems are), and
    with ``unknown`` (a file that could not be read at all) no name is reported undefined."""

    policies: frozenset[str] = frozenset()
    pools: frozenset[str] = frozenset()
    calendars: frozenset[str] = frozenset()
    unknown: bool = False

    def covers(self, what: str, name: str) -> bool:
        return self.unknown or name in getattr(self, what)


class _EveryName(frozenset[str]):
    """Calendar names for expressions when a file that failed may define any."""

    def __contains__(self, item: object) -> bool:
        return True


class _Builder:
    def __init__(self, docs: Sequence[Document], sink: DiagnosticSink,
                 world_calendars: Sequence[str] = (), failed: Failed | None = None) -> None:
        self.docs = docs
        self.sink = sink
        self.failed = failed or Failed()
        self.calendars: dict[str, Calendar] = {}
        self.calendar_names: set[str] = set(world_calendars)
        self.known_calendars = frozenset(self.calendar_names)  # once collected: for every expr
        self.pool_defs: dict[str, tuple[Document, str]] = {}
        self.pools: dict[str, Pool] = {}
        self.policy_names: dict[str, Document] = {}
        self.used_pools: set[str] = set()
        self.used_calendars: set[str] = set()
        self._hints: dict[tuple[str, str], str] = {}

    # -- helpers ---------------------------------------------------------------------------
    def hint(self, what: str, name: str, names: Collection[str]) -> str:
        """"Did you mean" for an undefined name, else the defined names.  Each search looks
        through every name: the first :data:`MAX_HINTS` unknown names get one, once each."""
        key = (what, name)
        found = self._hints.get(key)
        if found is None:
            found = did_you_mean(name, names) if len(self._hints) < MAX_HINTS else None
            if found is None:
                found = self._hints.get((what, "\x00"))
                if found is None:  # the defined names, listed once per kind
                    found = self._hints[(what, "\x00")] = _defined(what, names)
            self._hints[key] = found
        return found

    def expr(self, doc: Document, path: P, context: str,
             expected: Type) -> CompiledExpression | None:
        text = doc.get(path)
        if not isinstance(text, str):
            return None
        try:
            compiled = compile_expression(
                text, context, expected=expected, locate=doc.locator(path),
                calendars=self.known_calendars,
            )
        except RulekitError as exc:
            if expected == STRING and _BARE_ID.fullmatch(text.strip()):
                key = next(p for p in reversed(path) if isinstance(p, str))
                self.sink.error("RK202", f"unknown name '{text.strip()}'",
                                doc.location(path), hint="an id is text: quote it inside the "
                                f"YAML value: {key}: '\"{text.strip()}\"'")
                return None
            self.sink.extend_from(exc)
            return None
        self.used_calendars.update(compiled.calendars)
        return compiled

    def duration(self, doc: Document, path: P) -> Duration | None:
        text = doc.get(path)
        if not isinstance(text, str):
            return None
        try:
            return parse_duration(text, locate=doc.locator(path))
        except RulekitError as exc:
            self.sink.extend_from(exc)
            return None

    def pool_ref(self, doc: Document, path: P, of: str | None = None) -> str | None:
        name = doc.get(path)
        if not isinstance(name, str):
            return None
        if name not in self.pool_defs:
            if self.failed.covers("pools", name):
                return None
            self.sink.error("RK301", f"undefined pool '{name}'", doc.location(path),
                            hint=self.hint("pools", name, self.pool_defs))
            return None
        self.used_pools.add(name)
        pool_doc, _ = self.pool_defs[name]
        actual = pool_doc.get(("pools", name, "of"))
        if of is not None and actual != of:
            self.sink.error("RK105", f"pool '{name}' holds {actual}, but this step needs {of}",
                            doc.location(path))
        return name

    def calendar_ref(self, doc: Document, path: P, *, allow_agent: bool) -> CalendarRef | None:
        name = doc.get(path)
        if isinstance(name, dict) and "expression" in name:
            return self.calendar_choice(doc, (*path, "expression"))
        if not isinstance(name, str):
            return None
        if allow_agent and name == "agent":
            return name
        if name not in self.calendar_names:
            if self.failed.covers("calendars", name):
                return None
            self.sink.error("RK302", f"undefined calendar '{name}'", doc.location(path),
                            hint=self.hint("calendars", name, self.calendar_names))
            return None
        self.used_calendars.add(name)
        return name

    def calendar_choice(self, doc: Document, path: P) -> CalendarChoice | None:
        """``calendar: {expression: …}``: a string expression over the lead and its office;
        each calendar name it may give as a literal (the expression itself, or an argument of
        ``coalesce`` it ends with) must be defined (RK302 at the literal)."""
        compiled = self.expr(doc, path, "calendar", STRING)
        if compiled is None:
            return None
        ok = True
        for literal in _result_literals(parse(compiled.text, locate=doc.locator(path))):
            name = literal.value
            if not isinstance(name, str):
                continue
            if name in self.calendar_names:
                self.used_calendars.add(name)
            elif not self.failed.covers("calendars", name):
                self.sink.error("RK302", f"undefined calendar '{name}'",
                                located(doc.locator(path), literal.span),
                                hint=self.hint("calendars", name, self.calendar_names))
                ok = False
        return CalendarChoice(compiled) if ok else None

    # -- stages ----------------------------------------------------------------------------
    def collect(self) -> None:
        for doc in self.docs:
            data = doc.data
            name = data.get("policy")
            if name in self.policy_names:
                other = self.policy_names[name]
                self.sink.error("RK307", f"policy '{name}' is also defined in {other.path}",
                                doc.location(("policy",)))
            else:
                self.policy_names[name] = doc
            for cal_name in data.get("calendars", {}):
                if cal_name in self.calendar_names:
                    self.sink.error("RK308", f"calendar '{cal_name}' is defined twice",
                                    doc.location(("calendars", cal_name), key=True),
                                    hint="calendars are shared by the policies of a folder: "
                                    "define each once")
                self.calendar_names.add(cal_name)
            for pool_name in data.get("pools", {}):
                if pool_name in self.pool_defs:
                    self.sink.error("RK308", f"pool '{pool_name}' is defined twice",
                                    doc.location(("pools", pool_name), key=True),
                                    hint="pools are shared by the policies of a folder: "
                                    "define each once")
                else:
                    self.pool_defs[pool_name] = (doc, data["policy"])
        self.known_calendars = (_EveryName(self.calendar_names) if self.failed.unknown
                                else frozenset(self.calendar_names | self.failed.calendars))

    def build_calendars(self) -> None:
        for doc in self.docs:
            for name, spec in doc.data.get("calendars", {}).items():
                def at(path: tuple[str | int, ...], _n: str = name,
                       _d: Document = doc) -> SourceLocation | None:
                    return _d.location(("calendars", _n, *path))
                try:
                    self.calendars[name] = build_calendar(
                        name, spec, at=at, location=doc.location(("calendars", name), key=True))
                except RulekitError as exc:
                    self.sink.extend_from(exc)

    def build_pools(self) -> None:
        for name, (doc, policy) in self.pool_defs.items():
            base: P = ("pools", name)
            spec: dict[str, Any] = doc.get(base)
            context = POOL_CONTEXT[spec["of"]]
            match: list[tuple[str, CompiledExpression]] = []
            for attr in spec.get("match", {}):
                compiled = self.expr(doc, (*base, "match", attr), "condition", STRING)
                if compiled is not None:
                    match.append((attr, compiled))
            where = (self.expr(doc, (*base, "where"), context, BOOLEAN)
                     if "where" in spec else None)
            calendar = (self.calendar_ref(doc, (*base, "calendar"), allow_agent=True)
                        if "calendar" in spec else None)
            members = spec.get("members")
            self.pools[name] = Pool(
                name=name,
                of=spec["of"],
                location=doc.location(base, key=True),
                members=tuple(members) if members is not None else None,
                offices=tuple(spec.get("offices", ())),
                teams=tuple(spec.get("teams", ())),
                tags=tuple(spec.get("tags", ())),
                match=tuple(match),
                where=where,
                exclude=tuple(spec.get("exclude", ALL_EXCLUSIONS)),
                calendar=calendar,
                policy=policy,
                team_pick=spec.get("team_pick", "rotate"),
            )

    def scope(self, doc: Document, path: P) -> Scope | None:
        value = doc.get(path)
        if isinstance(value, str):
            return Scope(value)  # type: ignore[arg-type]  # schema allows only the kinds
        if isinstance(value, dict):
            compiled = self.expr(doc, (*path, "expression"), "condition", STRING)
            return Scope("expression", compiled) if compiled else None
        return None

    def scopes(self, doc: Document, path: P) -> tuple[Scope, ...]:
        value = doc.get(path)
        if value is None:
            return ()
        paths = [(*path, i) for i in range(len(value))] if isinstance(value, list) else [path]
        return tuple(s for p in paths if (s := self.scope(doc, p)) is not None)

    def notify(self, doc: Document, path: P) -> Notify | None:
        spec = doc.get(path)
        if not isinstance(spec, dict):
            return None
        variables = []
        for key in spec.get("vars", {}):
            compiled = self.expr(doc, (*path, "vars", key), "condition", ANY)
            if compiled is not None:
                variables.append((key, compiled))
        return Notify(
            template=spec["template"],
            to=tuple(spec.get("to", ())),
            cc=tuple(spec.get("cc", ())),
            subject=spec.get("subject"),
            variables=tuple(variables),
        )

    def steps(self, doc: Document, path: P) -> tuple[Step, ...] | None:
        items = doc.get(path)
        if not isinstance(items, list):
            return None
        built: list[Step] = []
        ok = True
        for index in range(len(items)):
            step = self.step(doc, (*path, index))
            if step is None:
                ok = False
            else:
                built.append(step)
        return tuple(built) if ok else None

    def step(self, doc: Document, path: P) -> Step | None:
        spec = doc.get(path)
        (kind, body), = spec.items()
        at: P = (*path, kind)
        loc = doc.location(at, key=True)
        builder: Callable[[Document, P, Any, SourceLocation], Step | None] = getattr(
            self, f"step_{kind}")
        return builder(doc, at, body, loc)

    def step_assign(self, doc: Document, at: P, body: Any, loc: SourceLocation) -> Step | None:
        if isinstance(body, str):
            to = self.expr(doc, at, "condition", STRING)
            return Assign(loc, to) if to else None
        to = self.expr(doc, (*at, "to"), "condition", STRING)
        own = self.scopes(doc, (*at, "own"))
        return Assign(loc, to, own, self.notify(doc, (*at, "notify"))) if to else None

    def step_attach_to_owner(self, doc: Document, at: P, body: Any,
                             loc: SourceLocation) -> Step | None:
        if isinstance(body, dict) and "expression" not in body:
            scope = self.scope(doc, (*at, "scope"))
            return AttachToOwner(loc, scope, body.get("conflict_queue"),
                                 self.notify(doc, (*at, "notify"))) if scope else None
        scope = self.scope(doc, at)
        return AttachToOwner(loc, scope) if scope else None

    def step_offer(self, doc: Document, at: P, body: Any, loc: SourceLocation) -> Step | None:
        to = self.expr(doc, (*at, "to"), "condition", STRING)
        duration = self.duration(doc, (*at, "for"))
        calendar = self.step_calendar(doc, at, body, duration)
        if to is None or duration is None:
            return None
        return Offer(loc, to, duration, calendar, self.scopes(doc, (*at, "own")),
                     self.notify(doc, (*at, "notify")))

    def step_calendar(self, doc: Document, at: P, body: dict[str, Any],
                      duration: Duration | None, key: str | None = None) -> CalendarRef | None:
        """A step's ``calendar:``; a business ``duration`` (at ``key``: ``for`` or
        ``each_for`` by default) without one is RK302."""
        calendar = (self.calendar_ref(doc, (*at, "calendar"), allow_agent=True)
                    if "calendar" in body else None)
        if duration is not None and duration.business and "calendar" not in body:
            key = key or ("for" if "for" in body else "each_for")
            self.sink.error("RK302", f"business duration '{duration}' needs a calendar",
                            doc.location((*at, key)),
                            hint="add 'calendar: <name>' (or 'calendar: agent') to this step")
        return calendar

    def step_offer_sequence(self, doc: Document, at: P, body: Any,
                            loc: SourceLocation) -> Step | None:
        pool = self.pool_ref(doc, (*at, "pool"), "agents")
        each_for = self.duration(doc, (*at, "each_for"))
        calendar = self.step_calendar(doc, at, body, each_for)
        pick = body.get("pick", "random")
        weight = None
        if "weight" in body:
            weight = self.expr(doc, (*at, "weight"), "agent", NUMBER)
        elif pick == "weighted":
            self.sink.error("RK101", "pick: weighted needs a 'weight' expression",
                            doc.location((*at, "pick")))
        attempts = body.get("attempts", "until_accepted")
        if pool is None or each_for is None:
            return None
        return OfferSequence(loc, pool, each_for, pick, weight,
                             None if attempts == "until_accepted" else attempts, calendar,
                             self.scopes(doc, (*at, "own")), self.notify(doc, (*at, "notify")))

    def step_broadcast(self, doc: Document, at: P, body: Any, loc: SourceLocation) -> Step | None:
        pool = self.pool_ref(doc, (*at, "pool"), "agents")
        duration = self.duration(doc, (*at, "for")) if "for" in body else None
        calendar = self.step_calendar(doc, at, body, duration)
        if body.get("calendar") == "agent":
            self.sink.error("RK302", "a broadcast has one deadline for every agent: it needs a "
                            "named calendar, not 'agent'", doc.location((*at, "calendar")),
                            hint="name a calendar declared under 'calendars'")
            return None
        if pool is None:
            return None
        return Broadcast(loc, pool, duration, calendar, self.scopes(doc, (*at, "own")),
                         self.notify(doc, (*at, "notify")))

    def step_pick_office(self, doc: Document, at: P, body: Any,
                         loc: SourceLocation) -> Step | None:
        pool = self.pool_ref(doc, (*at, "pool"), "offices")
        weight = self.expr(doc, (*at, "weight"), "office", NUMBER) if "weight" in body else None
        hand_to = self.policy_ref(doc, (*at, "hand_to")) if "hand_to" in body else None
        return PickOffice(loc, pool, weight, hand_to) if pool else None

    def step_round_robin(self, doc: Document, at: P, body: Any,
                         loc: SourceLocation) -> Step | None:
        pool = self.pool_ref(doc, (*at, "pool"), "agents")
        return RoundRobin(loc, pool, self.scopes(doc, (*at, "own")),
                          self.notify(doc, (*at, "notify"))) if pool else None

    def step_queue(self, doc: Document, at: P, body: Any, loc: SourceLocation) -> Step | None:
        if isinstance(body, str):
            return Queue(loc, body)
        return Queue(loc, body["name"], body.get("reason"), self.notify(doc, (*at, "notify")))

    def step_notify(self, doc: Document, at: P, body: Any, loc: SourceLocation) -> Step | None:
        notify = self.notify(doc, at)
        return NotifyStep(loc, notify) if notify else None

    def step_hold(self, doc: Document, at: P, body: Any, loc: SourceLocation) -> Step | None:
        calendar = self.calendar_ref(doc, (*at, "until_open"), allow_agent=False)
        return Hold(loc, calendar) if isinstance(calendar, str) else None

    def step_qualify(self, doc: Document, at: P, body: Any, loc: SourceLocation) -> Step | None:
        pool = self.pool_ref(doc, (*at, "pool"), "agents")
        duration = self.duration(doc, (*at, "for")) if "for" in body else None
        calendar = self.step_calendar(doc, at, body, duration)
        verdicts: list[tuple[str, tuple[Step, ...]]] = []
        ok = pool is not None
        for verdict in body.get("verdicts", {}):
            steps = self.steps(doc, (*at, "verdicts", verdict))
            ok = ok and steps is not None
            verdicts.append((verdict, steps or ()))
        on_timeout: tuple[Step, ...] | None = ()
        if "on_timeout" in body:
            on_timeout = self.steps(doc, (*at, "on_timeout"))
        if not ok or pool is None or on_timeout is None:
            return None
        return Qualify(loc, pool, tuple(verdicts), body.get("mode", "broadcast"), duration,
                       calendar, on_timeout)

    def step_expect_contact(self, doc: Document, at: P, body: Any,
                            loc: SourceLocation) -> Step | None:
        within = self.duration(doc, (*at, "within"))
        calendar = self.step_calendar(doc, at, body, within, "within")
        otherwise: tuple[Step, ...] | None = ()
        if "else" in body:
            otherwise = self.steps(doc, (*at, "else"))
        if within is None or otherwise is None:
            return None
        return ExpectContact(loc, within, calendar, otherwise, body.get("pause_after"))

    def step_use_policy(self, doc: Document, at: P, body: Any,
                        loc: SourceLocation) -> Step | None:
        name = self.policy_ref(doc, at)
        return UsePolicy(loc, name) if name else None

    def step_drop(self, doc: Document, at: P, body: Any, loc: SourceLocation) -> Step | None:
        return Drop(loc, body["reason"])

    def policy_ref(self, doc: Document, path: P) -> str | None:
        name = doc.get(path)
        if not isinstance(name, str):
            return None
        if name not in self.policy_names:
            if self.failed.covers("policies", name):
                return None
            self.sink.error("RK303", f"undefined policy '{name}'", doc.location(path),
                            hint=self.hint("policies", name, self.policy_names))
            return None
        return name

    def rules(self, doc: Document) -> tuple[Rule, ...] | None:
        built: list[Rule] = []
        ok = True
        for index, spec in enumerate(doc.data["rules"]):
            base: P = ("rules", index)
            when = self.expr(doc, (*base, "when"), "condition", BOOLEAN) if "when" in spec \
                else None
            steps = self.steps(doc, (*base, "steps"))
            if steps is None or ("when" in spec and when is None):
                ok = False
                continue
            built.append(Rule(spec["name"], steps, doc.location((*base, "name")), when,
                              spec.get("then", "stop"), spec.get("description")))
        return tuple(built) if ok else None

    def policy(self, doc: Document) -> Policy | None:
        data = doc.data
        rules = self.rules(doc)
        applies = data.get("applies_to")
        applies_to = AppliesTo()
        if isinstance(applies, dict):
            when = (self.expr(doc, ("applies_to", "when"), "condition", BOOLEAN)
                    if "when" in applies else None)
            applies_to = AppliesTo(
                sources=_set(applies.get("sources")),
                channels=_set(applies.get("channels")),
                brands=_set(applies.get("brands")),
                entries=_set(applies.get("entries")),
                when=when,
                declared=True,
            )
        if rules is None:
            return None
        return Policy(
            name=data["policy"],
            path=doc.path,
            location=doc.location(("policy",)),
            rules=rules,
            applies_to=applies_to,
            description=data.get("description"),
            enabled=data.get("enabled", True),
            disabled_queue=data.get("disabled_queue", "manual"),
            precedence=data.get("precedence"),
        )


def _result_literals(node: ast.Node) -> list[ast.Literal]:
    """The literals an expression's value may be: the expression itself, or (recursively)
    the arguments of a ``coalesce`` it is."""
    if isinstance(node, ast.Literal):
        return [node]
    if isinstance(node, ast.Call) and node.name == "coalesce":
        return [found for arg in node.args for found in _result_literals(arg)]
    return []


def _set(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values is not None else None


def _defined(what: str, names: Any) -> str:
    listed = sorted(names)
    if not listed:
        return f"no {what} are defined in this folder"
    return f"defined {what}: " + ", ".join(listed[:10]) + (" …" if len(listed) > 10 else "")


def ruleset_version(docs: Sequence[Document]) -> str:
    """A content hash of the rule files (their text, in name order)."""
    digest = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.path):
        digest.update(doc.path.rsplit("/", 1)[-1].encode())
        digest.update(b"\0")
        digest.update(doc.text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def build_ruleset(docs: Sequence[Document], sink: DiagnosticSink, *, root: str = "",
                  world_calendars: Sequence[str] = (),
                  horizon_from: date | None = None,
                  failed: Failed | None = None) -> RuleSet | None:
    """Compile schema-valid rule-file documents of one folder; ``None`` if any problem.

    ``failed`` names what the folder's files that failed to load or to match their schema
    would define: references to it are not reported, and no rule set is returned.

    With ``horizon_from`` (the validation date), a calendar that stops opening in the year
    from that date is a problem too (RK404, :func:`rulekit.calendars.check_horizons`)."""
    from rulekit.config.lint import lint_ruleset

    before = len(sink.items)
    builder = _Builder(docs, sink, world_calendars, failed)
    builder.collect()
    builder.build_calendars()
    if horizon_from is not None:
        check_horizons(builder.calendars, horizon_from, sink)
    builder.build_pools()
    policies = [p for doc in docs if (p := builder.policy(doc)) is not None]
    lint_ruleset(docs, policies, pool_defs=builder.pool_defs, used_pools=builder.used_pools,
                 used_calendars=builder.used_calendars, sink=sink, complete=failed is None)
    problems = any(d.severity == "error" for d in sink.items[before:])
    if problems or failed is not None or len(policies) != len(docs):
        return None
    return RuleSet(tuple(policies), dict(builder.pools), dict(builder.calendars),
                   ruleset_version(docs), root)
