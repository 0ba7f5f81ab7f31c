"""The working context of one decision: inputs (ruleset, world, facts, now, randomness), the
evolving lead state, and the effects and trace being built.  Nothing here performs I/O.

A condition that cannot be evaluated on the lead (:class:`~rulekit.errors.EvaluationError`)
counts as not matching, with a line in the trace (:meth:`Context.condition`,
:meth:`Context.unevaluable`); a value expression that cannot be evaluated raises it."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rulekit.calendars import Calendar, add_duration
from rulekit.dsl import CompiledExpression, Duration
from rulekit.dsl.functions import INTEGER_LIMIT, describe, is_number
from rulekit.errors import EvaluationError, SourceLocation
from rulekit.model import Agent, Contact, Lead, Listing, Office
from rulekit.pipeline.effects import Effect, SendNotification
from rulekit.pipeline.facts import Facts, contact_key
from rulekit.pipeline.state import LeadState
from rulekit.ruleset import CalendarChoice, CalendarRef, Notify, Policy, RuleSet, Scope
from rulekit.suggest import did_you_mean
from rulekit.trace import Trace
from rulekit.world import World


def scope_key(scope: Scope, ctx: Context) -> str | None:
    """The key of an exclusivity scope for this lead, or ``None`` when it cannot be told."""
    lead = ctx.lead
    if scope.kind == "global":
        return "global"
    if scope.kind == "channel":
        channel = lead.channel or lead.source
        return f"channel:{channel}"
    if scope.kind == "market":
        mls = lead.property.mls or (ctx.listing.mls if ctx.listing else None)
        return f"market:{mls}" if mls else None
    if scope.expression is None:
        return None
    value = key_text(ctx.evaluate(scope.expression))
    return f"custom:{value}" if value not in (None, "") else None


def key_text(value: Any) -> str | None:
    """An expression's value as the text of a key (a scope, a pool's ``match``): strings,
    booleans and numbers as text; ``None`` for null and for values no key can be (a list, a
    map, a number that is not finite or has more digits than text may hold)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or (is_number(value) and -INTEGER_LIMIT < value < INTEGER_LIMIT):
        return str(value)  # not NaN or an infinity: they compare false
    return None


def target_text(value: Any) -> str:
    """How the trace names what an agent expression (``to:``) gave, when it is no agent."""
    if value is None:
        return "nobody"
    if isinstance(value, str):
        return f"'{value}', who is not in the world"
    return f"{describe(value)}, not an agent id"


def describe_scope(key: str) -> str:
    kind, _, value = key.partition(":")
    if kind == "global":
        return "any channel or market"
    if kind == "channel":
        return f"channel {value}"
    if kind == "market":
        return f"market {value}"
    return f"scope {value}"


@dataclass
class Context:
    """Everything one call of ``decide`` works with."""

    ruleset: RuleSet
    world: World
    facts: Facts
    now: datetime
    lead: Lead
    state: LeadState
    trace: Trace
    rng_seed: str
    effects: list[Effect] = field(default_factory=list)
    _rng: random.Random | None = None
    _key: tuple[str] | None = None
    _runtime: Snapshot | None = None
    _contact: Contact | None = None
    _contact_loaded: bool = False
    _arguments: tuple[Any, ...] | None = None
    _unevaluable: set[tuple[str, str]] = field(default_factory=set)
    _chosen: dict[int, tuple[Lead, ChosenCalendar]] = field(default_factory=dict)

    @property
    def rng(self) -> random.Random:
        """This decision's random generator, seeded from the lead's seed and event serial
        (created on first use: most decisions draw nothing)."""
        if self._rng is None:
            self._rng = random.Random(self.rng_seed)
        return self._rng

    def update(self, **changes: Any) -> None:
        """Change the working state.  ``decide`` works on its own copy of the lead's state,
        so this never touches the state it was given."""
        state = self.state
        for name, value in changes.items():
            object.__setattr__(state, name, value)

    # -- the lead's surroundings -----------------------------------------------------------
    @property
    def listing(self) -> Listing | None:
        listing_id = self.lead.property.listing_id
        return self.world.listings.get(listing_id) if listing_id else None

    @property
    def contact_key(self) -> str | None:
        if self._key is None:
            self._key = (contact_key(self.lead) or "",)
        return self._key[0] or None

    @property
    def contact(self) -> Contact | None:
        if not self._contact_loaded:
            key = self.contact_key
            self._contact = self.facts.contact(key) if key else None
            self._contact_loaded = True
        return self._contact

    def owner(self, key: str) -> str | None:
        contact = self.contact
        if contact is None:
            return None
        if key == "global":
            return contact.owner or contact.owners.get("global")
        return contact.owners.get(key)

    @property
    def policy(self) -> Policy:
        assert self.state.policy is not None
        return self.ruleset.policy(self.state.policy)

    # -- runtime for expressions (rulekit.dsl.Runtime) -------------------------------------
    def calendar(self, name: str) -> Calendar:
        found = self.ruleset.calendars.get(name) or self.world.calendars.get(name)
        if found is None:
            raise KeyError(f"unknown calendar {name!r}")
        return found

    @property
    def runtime(self) -> Snapshot:
        """The expression runtime for the lead as it is now (rebuilt if the lead changes, as
        when an office is picked)."""
        cached = self._runtime
        if cached is None or cached.lead is not self.lead:
            cached = Snapshot(self.ruleset, self.world, self.lead, self.listing, self.contact)
            self._runtime = cached
        return cached

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, expression: CompiledExpression, agent: Agent | None = None,
                 load: int | None = None) -> Any:
        return expression.function(*self.arguments(), agent, load)

    def evaluate_office(self, expression: CompiledExpression, office: Any, size: int) -> Any:
        return expression.function(*self.arguments(), None, None, office, size)

    def condition(self, expression: CompiledExpression, who: str, kind: str,
                  where: SourceLocation | None) -> bool:
        """A condition's result for the lead; one that cannot be evaluated is recorded
        (:meth:`unevaluable`) and counts as not matching."""
        try:
            return bool(self.evaluate(expression))
        except EvaluationError as error:
            self.unevaluable(who, error, kind, where)
            return False

    def unevaluable(self, who: str, error: EvaluationError, kind: str,
                    where: SourceLocation | None, note: str = "",
                    data: dict[str, Any] | None = None) -> None:
        """Record in the trace that ``who``'s condition could not be evaluated and is treated
        as not matching — once per decision for each condition (``note``: how often, for a
        condition tried on many agents)."""
        key = (who, str(error.location))
        if key in self._unevaluable:
            return
        self._unevaluable.add(key)
        self.trace.add(kind, f"{who}: could not evaluate `{error.quoted}` at {error.location}: "
                       f"{error.reason}{note}; treated as not matching.", where,
                       {**(data or {}), "result": False, "error": error.reason,
                        "expression": error.quoted,
                        "at": None if error.location is None else str(error.location)})

    def arguments(self) -> tuple[Any, ...]:
        """The expression arguments of this lead now (lead, contact, listing, now, runtime),
        made of immutable values; built once, again only if the lead changes (an office
        picked)."""
        cached = self._arguments
        if cached is None or cached[0] is not self.lead:
            cached = (self.lead, self.contact, self.listing, self.now, self.runtime)
            self._arguments = cached
        return cached

    # -- ids, time and randomness ----------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        state = self.state
        serial = state.serial + 1
        object.__setattr__(state, "serial", serial)
        return f"{state.lead_id}:{prefix}{serial}"

    def deadline(self, duration: Duration, calendar: CalendarRef | None,
                 agent: str | None) -> datetime:
        cal = self.business_calendar(calendar, agent) if duration.business else None
        if cal is None:  # plain time; CalendarError past the range of instants
            return add_duration(self.now, int(duration.seconds), False, None)
        return cal.add_business(self.now, timedelta(seconds=duration.seconds))

    def business_calendar(self, calendar: CalendarRef | None,
                          agent: str | None) -> Calendar | None:
        """The calendar a ``calendar:`` option means for this lead (and, for ``agent``, this
        agent's own; ``None``: wall-clock time).  A :class:`CalendarChoice` that gives no
        defined calendar raises :class:`~rulekit.errors.EvaluationError` (the lead parks)."""
        if isinstance(calendar, CalendarChoice):
            return self.chosen_calendar(calendar).calendar
        if calendar == "agent":
            found = self.world.agents.get(agent) if agent else None
            own = found.calendar if found else None
            return self.world.calendars.get(own) if own else None
        return self.calendar(calendar) if calendar else None

    def chosen_calendar(self, choice: CalendarChoice) -> ChosenCalendar:
        """The calendar ``choice`` gives for the lead as it is now, said once in the trace
        (evaluated again only if the lead changes, as when an office is picked)."""
        cached = self._chosen.get(id(choice))
        if cached is not None and cached[0] is self.lead:
            return cached[1]
        expression = choice.expression
        office_id = self.lead.office
        office = self.world.offices.get(office_id) if office_id else None
        size = self.world.office_sizes.get(office.id, 0) if office is not None else None
        value = expression.function(*self.arguments(), None, None, office, size)
        reads_office = any(path.startswith("office.") for path in expression.fields)
        if not isinstance(value, str):
            why = ""
            if reads_office and office is None:
                why = (f" (the lead's office '{office_id}' is not in the world)" if office_id
                       else " (the lead has no office)")
            elif reads_office and office is not None and office.calendar is None:
                why = f" (the lead's office {office.id} has no calendar)"
            raise EvaluationError(expression.text, f"it gives {describe(value)}, not a "
                                  f"calendar's name{why}", expression.location)
        found = self.ruleset.calendars.get(value) or self.world.calendars.get(value)
        if found is None:
            names = sorted({*self.ruleset.calendars, *self.world.calendars})
            hint = did_you_mean(value, names) or (
                "defined calendars: " + ", ".join(names[:10]) if names
                else "no calendar is defined")
            raise EvaluationError(expression.text, f"it gives calendar '{value}', which is not "
                                  f"defined ({hint})", expression.location)
        chosen = ChosenCalendar(found, _why_chosen(expression, value, office_id, office))
        self._chosen[id(choice)] = (self.lead, chosen)
        self.trace.add("detail", f"Calendar '{value}' ({chosen.why}), chosen by "
                       f"`{expression.text}`.", expression.location,
                       {"calendar": value, "why": chosen.why, "expression": expression.text,
                        "office": office_id})
        return chosen

    # -- notifications ---------------------------------------------------------------------
    def recipients(self, names: tuple[str, ...], *, assignee: str | None = None,
                   offered: tuple[str, ...] = (), owner: str | None = None) -> tuple[str, ...]:
        out: list[str] = []
        for name in names:
            if name == "assignee":
                out.extend([assignee] if assignee else [])
            elif name == "offered":
                out.extend(offered)
            elif name == "owner":
                out.extend([owner] if owner else [])
            elif name == "entered_by":
                out.extend([self.lead.entered_by] if self.lead.entered_by else [])
            elif name == "listing_agent":
                listing = self.listing
                agent = listing.listing_agent if listing else self.lead.property.listing_agent
                out.extend([agent] if agent else [])
            else:
                out.append(name)
        return tuple(dict.fromkeys(out))

    def notification(self, notify: Notify | None, *, offer_id: str | None = None,
                     deadline: datetime | None = None, **who: Any) -> None:
        if notify is None:
            return
        variables = tuple((k, self.evaluate(e)) for k, e in notify.variables)
        to = self.recipients(notify.to, **who)
        cc = self.recipients(notify.cc, **who)
        self.effects.append(SendNotification(notify.template, to, cc, notify.subject, variables,
                                             offer_id, deadline))
        subject = f" “{notify.subject}”" if notify.subject else ""
        self.trace.add("effect", f"Notification '{notify.template}'{subject} to "
                       f"{', '.join(to) or 'nobody'}" + (f", cc {', '.join(cc)}" if cc else ""),
                       data={"template": notify.template, "to": to, "cc": cc,
                             "subject": notify.subject})

    def agent_name(self, agent_id: str) -> str:
        return agent_name(self.world, agent_id)


@dataclass(frozen=True, slots=True)
class ChosenCalendar:
    """The calendar a :class:`~rulekit.ruleset.CalendarChoice` gave for a lead, and why in
    words ("the lead's office's calendar")."""

    calendar: Calendar
    why: str

    def __str__(self) -> str:
        return f"calendar '{self.calendar.name}' ({self.why})"


def _why_chosen(expression: CompiledExpression, name: str, office_id: str | None,
                office: Office | None) -> str:
    """Why a calendar choice gave ``name``, in words for the trace."""
    if "office.calendar" in expression.fields:
        if office is not None and office.calendar == name:
            return f"the lead's office's calendar, office {office.id}"
        if office is None:
            return "the default: the lead has no office" if office_id is None else \
                f"the default: the lead's office '{office_id}' is not in the world"
        if office.calendar is None:
            return f"the default: the lead's office {office.id} has no calendar"
    return "chosen for this lead"


def weight_of(expression: CompiledExpression, value: Any) -> float:
    """A weight expression's value as a float: null counts 0; anything but a finite number
    (a string, a list, NaN, a number beyond the float range) raises
    :class:`~rulekit.errors.EvaluationError`."""
    if value is None:
        return 0.0
    if is_number(value):
        try:
            weight = float(value)
        except OverflowError:
            weight = math.inf
        if math.isfinite(weight):
            return weight
    raise EvaluationError(expression.text, f"a weight must be a finite number, got "
                          f"{describe(value)}", expression.location)


def agent_name(world: World, agent_id: str) -> str:
    """'Jordan Lee (a-jordan-lee)', or the id alone for an agent without a name."""
    agent = world.agents.get(agent_id)
    return f"{agent.name} ({agent_id})" if agent and agent.name else agent_id


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The expression runtime (``rulekit.dsl.Runtime``) of one decision, made of immutable,
    long-lived values only, so traces can keep it to word their entries later."""

    ruleset: RuleSet
    world: World
    lead: Lead
    listing: Listing | None
    contact: Contact | None

    def calendar(self, name: str) -> Calendar:
        found = self.ruleset.calendars.get(name) or self.world.calendars.get(name)
        if found is None:
            raise KeyError(f"unknown calendar {name!r}")
        return found

    def contact_owner(self, scope: str) -> str | None:
        contact = self.contact
        if contact is None:
            return None
        if scope == "global":
            return contact.owner or contact.owners.get("global")
        if scope == "channel":
            return contact.owners.get(f"channel:{self.lead.channel or self.lead.source}")
        if scope == "market":
            mls = self.lead.property.mls or (self.listing.mls if self.listing else None)
            return contact.owners.get(f"market:{mls}") if mls else None
        return contact.owners.get(f"custom:{scope}")
