"""``rulekit day RULES_DIR --db URL``: route a realistic day of leads through a policy folder.

A seeded generator makes the day: leads spread over the hours of the day (most in office hours)
from the origins the policies serve — for LeadStreet: remax.com (city searches and listing
inquiries), charlotteproperty.com, agents' own sites, and leads agents enter or import — some
from consumers the world already knows, some from consumers who come back later the same day
(a lead is one action).  Agents answer offers after realistic delays: each agent has their own
pace and habits (some fast, some slow, some let offers expire, a few decline); a Last Chance
broadcast is claimed by whoever of the agents who look at it is fastest.

Everything runs on a virtual clock (:class:`~rulekit.engine.ManualClock`) through the real
:class:`~rulekit.engine.Engine` and the store the URL names; timers fire at their due instants.
The same arguments (and ``--seed``) always give the same day; without ``--date`` the day is
:data:`DEFAULT_DATE` (Tuesday 24 November 2026), so the same command prints the same output on
any day it is run.  The day's rules and world are kept in the store's catalog (audit actor
``rulekit day``), so ``explain``, ``leads`` and workers find them and the brokerage's zone.

The output is for a broker: a summary first (leads, statuses, queues, offers, response times,
a line per agent, by name), then the first :data:`TIMELINE_HEAD` events of the timeline (all
of them with ``--timeline``) in plain words, agents by name and offers numbered 1, 2, 3 … in
the order the timeline shows them; times in the brokerage's zone (or ``--tz``), labelled.

An existing SQLite file that holds only previous simulated days (leads whose ids start with
``day-`` and catalog entries ``rulekit day`` made) is replaced, with a message; a file holding
anything else (rules or a world loaded with ``rulekit load``, audit history, other leads) is
refused, naming what it holds, unless ``--replace`` is given.  Any other store must be empty.

Exit codes: 0 the day ran, 1 invalid rule files or a store that cannot be used (one that holds
other data, a SQLite file whose folder does not exist), 2 usage error (also an unknown
``--tz``).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import random
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from rulekit.cli.columns import align
from rulekit.cli.zones import chosen_zone
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.pipeline import Decision
from rulekit.pipeline.effects import (
    AssignLead,
    CloseOffer,
    DropLead,
    EnqueueLead,
    MakeOffer,
    RejectAction,
    ReportConflict,
)
from rulekit.reports import duration_text, percentile, response_times
from rulekit.ruleset import RuleSet
from rulekit.scenario.runner import TimelineItem
from rulekit.storage.base import RULESET, Store
from rulekit.storage.catalog import CatalogError, as_catalog, check_files, store_checked
from rulekit.storage.redact import redact_url
from rulekit.storage.url import StoreOpenError, open_store, open_store_or_explain, sqlite_path
from rulekit.trace import local_time
from rulekit.world import World, brokerage_zone

DEFAULT_DB = "sqlite:///rulekit-day.db"
#: The day simulated when ``--date`` is not given: Tuesday 24 November 2026, an ordinary
#: weekday, so that the same command prints the same day whenever it is run.
DEFAULT_DATE = date(2026, 11, 24)
ID_PREFIX = "day-"
#: The actor of the audit entry that records the rules and world a day ran with.
DAY_ACTOR = "rulekit day"
#: Timeline events printed without ``--timeline``.
TIMELINE_HEAD = 20

FIRST = ("Alex", "Bailey", "Cameron", "Dana", "Eli", "Frankie", "Gabe", "Hayden", "Izzy",
         "Jesse", "Kendall", "Lane", "Micah", "Nico", "Olive", "Peyton", "Reese", "Skyler",
         "Tatum", "Vic", "Whitney", "Yael", "Zane", "Robin", "Charlie", "Morgan")
LAST = ("Adams", "Baker", "Clark", "Davis", "Evans", "Flores", "Garcia", "Hill", "Irwin",
        "Johnson", "King", "Lopez", "Miller", "Nelson", "Owens", "Perez", "Quincy", "Roberts",
        "Smith", "Thomas", "Underwood", "Vance", "White", "Young")
WEB_INQUIRIES = ("general", "Schedule Showing", "Ask a Question", "Contact")
OTHER_INQUIRIES = ("Request A Showing", "CMA Request", "Property Appointment",
                   "Additional Property Information", "Relocation", "Find an Agent")
PASSIVE_INQUIRIES = ("Saved Search", "Favorite Property")
UNSERVED_CITIES = ("Gastonia", "Monroe")
#: Relative weight of an hour of the day (local time) for lead arrivals.
HOUR_WEIGHTS = (0.3, 0.2, 0.2, 0.2, 0.2, 0.4, 0.8, 1.5, 2.5, 3.5, 4, 4, 3.5, 3.5, 3.5, 3.5,
                3, 3, 2.5, 2.5, 2, 1.5, 1, 0.5)
#: Origins and their share of a LeadStreet day.
KNOWN_ORIGINS = {"remax.com": 40.0, "charlotteproperty.com": 25.0, "agent-site": 20.0}
MANUAL_SHARE = 15.0
OTHER_SHARE = 20.0


@dataclass(frozen=True, slots=True)
class Origin:
    source: str
    entry: str  # web | manual | import
    weight: float


@dataclass
class AgentHabits:
    """How one agent answers offers: their pace (median minutes) and how often they act."""

    pace: float
    accepts: float
    declines: float
    looks: float  # chance to look at a broadcast at all


def origins(ruleset: RuleSet) -> list[Origin]:
    """Where the day's leads come from: the sources (and entries) the policies serve."""
    found: dict[tuple[str, str], float] = {}
    manual = False
    for policy in ruleset.policies:
        entries = sorted(policy.applies_to.entries or {"web"})
        if policy.applies_to.sources is None:
            manual = manual or bool({"manual", "import"} & set(entries))
            continue
        for source in sorted(policy.applies_to.sources):
            entry = "web" if "web" in entries else entries[0]
            found[(source, entry)] = KNOWN_ORIGINS.get(source, OTHER_SHARE)
    result = [Origin(s, e, w) for (s, e), w in sorted(found.items())]
    if manual:
        result += [Origin("agent-entry", "manual", MANUAL_SHARE * 0.6),
                   Origin("rims-import", "import", MANUAL_SHARE * 0.4)]
    return result


def day_zone(ruleset: RuleSet, world: World) -> tzinfo:
    """The day's zone: the brokerage's (:func:`~rulekit.world.brokerage_zone`)."""
    return brokerage_zone(world, ruleset)


class DayGenerator:
    """Makes the leads of one day, and the agents' answers to offers, from one seed."""

    def __init__(self, ruleset: RuleSet, world: World, day: date, zone: tzinfo, seed: int
                 ) -> None:
        self.world = world
        self.day = day
        self.zone = zone
        self.start = datetime.combine(day, time(0), zone).astimezone(UTC)
        self.end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        self.rng = random.Random(f"rulekit-day:{seed}:leads")
        self.answers = random.Random(f"rulekit-day:{seed}:agents")
        self.origins = origins(ruleset)
        self.agents = sorted(a.id for a in world.agents.values() if not a.paused)
        habits = random.Random(f"rulekit-day:{seed}:habits")
        self.habits = {
            agent: AgentHabits(pace=habits.choice((6, 12, 20, 35, 60, 110)),
                               accepts=habits.uniform(0.35, 0.85),
                               declines=habits.uniform(0.0, 0.15),
                               looks=habits.uniform(0.05, 0.3))
            for agent in sorted(world.agents)}
        cities: list[str] = []
        for office in sorted(world.offices.values(), key=lambda o: o.id):
            for city in (office.city, *office.specialty_cities):
                if city and city not in cities:
                    cities.append(city)
        self.cities = cities or ["Springfield"]
        self.seen: list[dict[str, Any]] = []

    # -- leads -------------------------------------------------------------------------------
    def arrival(self) -> datetime:
        hour = self.rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        seconds = hour * 3600 + self.rng.randrange(3600)
        return self.start + timedelta(seconds=seconds)

    def consumer(self) -> dict[str, Any]:
        """The consumer behind a lead: known to the world, back again today, or new."""
        roll = self.rng.random()
        known = sorted((c for c in self.world.contacts.values() if c.email),
                       key=lambda c: c.id)
        if known and roll < 0.06:
            contact = self.rng.choice(known)
            return {"email": contact.email, "name": contact.name}
        if self.seen and roll < 0.16:
            return dict(self.rng.choice(self.seen))
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        person = {"email": f"{first}.{last}{self.rng.randrange(10, 99)}@example.com".lower(),
                  "name": f"{first} {last}"}
        if self.rng.random() < 0.5:
            person["phone"] = f"+1 704 555 {self.rng.randrange(10000):04d}"
        self.seen.append(person)
        return person

    def place(self) -> dict[str, Any]:
        city = (self.rng.choice(UNSERVED_CITIES) if self.rng.random() < 0.05
                else self.rng.choice(self.cities))
        zips = sorted({z for a in self.world.agents.values() if city in a.cities for z in a.zips})
        mls = sorted({m for a in self.world.agents.values() for m in a.mls})
        return {"city": city, "zip": self.rng.choice(zips) if zips else None,
                "mls": mls[0] if mls else None}

    def lead(self, n: int, at: datetime) -> Lead:
        origin = self.rng.choices(self.origins, weights=[o.weight for o in self.origins])[0]
        payload: dict[str, Any] = {
            "id": f"{ID_PREFIX}{self.day:%Y%m%d}-{n:03d}", "received_at": at.isoformat(),
            "source": origin.source, "entry": origin.entry, "contact": self.consumer(),
        }
        listings = sorted(self.world.listings.values(), key=lambda x: x.id)
        if origin.entry != "web":
            payload["inquiry_type"] = "manual entry"
            if self.agents and self.rng.random() < 0.9:
                payload["entered_by"] = self.rng.choice(self.agents)
            payload["property"] = self.place()
        elif origin.source == "remax.com" and listings and self.rng.random() < 0.3:
            listing = self.rng.choice(listings)
            payload["inquiry_type"] = "listing"
            payload["property"] = {"listing_id": listing.id, "city": listing.city,
                                   "zip": listing.zip, "mls": listing.mls,
                                   "brand": listing.brand, "status": listing.status}
        elif origin.source == "agent-site":
            payload["channel"] = "agent-site"
            payload["inquiry_type"] = self.rng.choice(WEB_INQUIRIES)
            if self.agents and self.rng.random() < 0.9:
                payload["site_owner"] = self.rng.choice(self.agents)
            payload["property"] = self.place()
        elif origin.source in KNOWN_ORIGINS:
            payload["inquiry_type"] = self.rng.choice(WEB_INQUIRIES)
            payload["property"] = self.place()
        else:  # a source of another policy folder: its inquiry types vary more
            if self.rng.random() < 0.15:
                payload["activity"] = "passive"
                payload["inquiry_type"] = self.rng.choice(PASSIVE_INQUIRIES)
            else:
                payload["inquiry_type"] = self.rng.choice(WEB_INQUIRIES + OTHER_INQUIRIES)
            payload["property"] = ({"listing_id": self.rng.choice(listings).id}
                                   if listings and self.rng.random() < 0.5 else self.place())
        return Lead.model_validate(payload)

    def leads(self, count: int) -> list[Lead]:
        times = sorted(self.arrival() for _ in range(count))
        return [self.lead(n, at) for n, at in enumerate(times, start=1)]

    # -- agents' answers ---------------------------------------------------------------------
    def delay(self, pace: float) -> timedelta:
        minutes = self.answers.lognormvariate(0.0, 0.8) * pace
        return timedelta(minutes=max(0.5, minutes))

    def awake(self, at: datetime) -> datetime:
        """Agents answer between 07:00 and 22:00 local time."""
        local = at.astimezone(self.zone)
        if local.hour >= 22:
            nxt = datetime.combine(local.date() + timedelta(days=1), time(7), self.zone)
            return nxt.astimezone(UTC)
        if local.hour < 7:
            return datetime.combine(local.date(), time(7), self.zone).astimezone(UTC)
        return at

    def replies(self, offer: MakeOffer, at: datetime) -> Iterator[tuple[datetime, str, str]]:
        """(when, accept|decline, agent) of the answers an offer gets."""
        if offer.mode == "broadcast":
            for agent in offer.agents:
                habit = self.habits.get(agent)
                if habit and self.answers.random() < habit.looks:
                    yield (self.awake(at) + self.delay(habit.pace / 3), "accept", agent)
            return
        if offer.mode == "qualify" or len(offer.agents) != 1:
            return
        agent = offer.agents[0]
        habit = self.habits.get(agent)
        if habit is None:
            return
        roll = self.answers.random()
        if roll < habit.accepts:
            yield (self.awake(at) + self.delay(habit.pace), "accept", agent)
        elif roll < habit.accepts + habit.declines:
            yield (self.awake(at) + self.delay(habit.pace / 2), "decline", agent)


# -- the run -------------------------------------------------------------------------------------
@dataclass
class DayRun:
    timeline: list[TimelineItem] = field(default_factory=list)
    rejected: int = 0
    #: Offer ids numbered 1, 2, 3 … in the order the timeline shows them.
    offer_numbers: dict[str, int] = field(default_factory=dict)


class Narrator:
    """Words a day's events for a broker: agents by name, offers by number, plain sentences."""

    def __init__(self, world: World, zone: tzinfo, run: DayRun) -> None:
        self.world = world
        self.zone = zone
        self.run = run
        self.offered: dict[str, tuple[str, ...]] = {}
        ids = sorted(world.agents, key=len, reverse=True)
        self.ids = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])"
                              ) if ids else None

    def name(self, agent: str) -> str:
        return self.world.agent_name(agent)

    def names(self, text: str) -> str:
        """``text`` (a reason written by the rules) with agent ids replaced by names."""
        return self.ids.sub(lambda m: self.name(m.group(1)), text) if self.ids else text

    def offer(self, offer_id: str) -> str:
        numbers = self.run.offer_numbers
        if offer_id not in numbers:
            numbers[offer_id] = len(numbers) + 1
        return f"offer {numbers[offer_id]}"

    def until(self, deadline: datetime | None) -> str:
        return (f", until {deadline.astimezone(self.zone):%a} {local_time(deadline, self.zone)}"
                if deadline is not None else ", with no deadline")

    def to(self, agents: tuple[str, ...]) -> str:
        return self.name(agents[0]) if len(agents) == 1 else f"{len(agents)} agents"

    def lead(self, lead: Lead) -> str:
        if lead.entry != "web":
            by = f" by {self.name(lead.entered_by)}" if lead.entered_by else ""
            return (f"New lead imported from {lead.source}{by}" if lead.entry == "import"
                    else f"New lead entered{by or ' by hand, with no agent named'}")
        inquiry = ("listing inquiry" if lead.inquiry_type == "listing"
                   else lead.inquiry_type or "inquiry")
        place = lead.property.listing_id or lead.property.city
        via = f" ({lead.channel})" if lead.channel and lead.channel != lead.source else ""
        return f"New lead from {lead.source}{via}: {inquiry}" + (f" ({place})" if place else "")

    def answer(self, decision: Decision, kind: str, offer_id: str, agent: str) -> list[str]:
        """The lines of an agent's answer (``accept`` or ``decline``) and what followed."""
        who, offer = self.name(agent), self.offer(offer_id)
        refused = [e for e in decision.effects if isinstance(e, RejectAction)]
        if refused:
            reason = refused[0].reason.split(": ", 1)[-1]
            if reason.startswith("its deadline passed at "):
                passed = datetime.fromisoformat(reason.removeprefix("its deadline passed at "))
                reason = f"its deadline passed at {local_time(passed, self.zone)}"
            return [f"{who} tried to {kind} {offer}, but {self.names(reason)}"]
        if kind == "decline":
            return [f"{who} declined {offer}", *self.effects(decision, skip_close=True)]
        agents = self.offered.get(offer_id, ())
        line = (f"{who} accepted {offer}" if len(agents) <= 1
                else f"{who} was the first of {len(agents)} agents to accept {offer}")
        return [line, *self.effects(decision, skip_close=True, winner=agent)]

    def timer(self, decision: Decision) -> list[str]:
        lines = self.effects(decision)
        if not any(isinstance(e, CloseOffer) for e in decision.effects):
            lines.insert(0, "The hold ended; routing goes on")
        return lines

    def effects(self, decision: Decision, *, skip_close: bool = False,
                winner: str | None = None) -> list[str]:
        """One line per effect people care about (notifications and bookkeeping left out)."""
        lines: list[str] = []
        for effect in decision.effects:
            if isinstance(effect, MakeOffer):
                self.offered[effect.offer_id] = effect.agents
                offer = self.offer(effect.offer_id).capitalize()
                if effect.mode == "broadcast":
                    lines.append(f"{offer} to {len(effect.agents)} agents, the first to "
                                 f"accept gets the lead{self.until(effect.deadline)}")
                elif effect.mode == "qualify":
                    lines.append(f"{offer} to qualify the lead, to {self.to(effect.agents)}"
                                 f"{self.until(effect.deadline)}")
                else:
                    lines.append(f"{offer} to {self.to(effect.agents)}"
                                 f"{self.until(effect.deadline)}")
            elif isinstance(effect, CloseOffer):
                status = effect.status.split(":")[0]
                if skip_close and status in ("accepted", "declined"):
                    continue
                offer = self.offer(effect.offer_id).capitalize()
                to = self.to(self.offered.get(effect.offer_id, ()))
                if status == "expired":
                    lines.append(f"{offer} to {to} expired with no answer")
                elif status == "accepted" and effect.winner:
                    lines.append(f"{offer} accepted by {self.name(effect.winner)}")
                elif status == "verdict":
                    verdict = effect.status.partition(":")[2]
                    lines.append(f"{offer}: the qualifier says {verdict}")
                else:
                    lines.append(f"{offer} to {to} {status}")
            elif isinstance(effect, AssignLead):
                if effect.agent == winner:
                    continue  # the answer's line says it
                name = self.name(effect.agent)
                lines.append(f"Assigned to {name}, who owns the contact"
                             if effect.how == "attached" else
                             f"Reassigned to {name}" if effect.how == "reassigned" else
                             f"Assigned to {name}")
            elif isinstance(effect, EnqueueLead):
                lines.append(f"Put in the {effect.queue} queue"
                             + (f": {self.names(effect.reason)}" if effect.reason else ""))
            elif isinstance(effect, DropLead):
                lines.append(f"Dropped: {self.names(effect.reason)}")
            elif isinstance(effect, ReportConflict):
                lines.append(f"Ownership conflict reported: the contact belongs to "
                             f"{self.name(effect.owner)}, entered by "
                             f"{self.name(effect.entered_by)}")
        return lines


def run_day(engine: Engine, clock: ManualClock, gen: DayGenerator, leads: list[Lead]) -> DayRun:
    """Play the day: leads arrive, timers fire at their due instants, agents answer."""
    run = DayRun()
    words = Narrator(gen.world, gen.zone, run)
    queue: list[tuple[datetime, int, str, Any]] = []
    serial = 0

    def push(at: datetime, kind: str, payload: Any) -> None:
        nonlocal serial
        serial += 1
        heapq.heappush(queue, (at, serial, kind, payload))

    def record(decision: Decision, lead_id: str, lines: list[str]) -> None:
        at = decision.trace.at
        run.timeline.extend(TimelineItem(at, "event", lead_id, text=line) for line in lines)
        for effect in decision.effects:
            if isinstance(effect, RejectAction):
                run.rejected += 1
            elif isinstance(effect, MakeOffer):
                for when, kind, agent in gen.replies(effect, at):
                    if when < gen.end:
                        push(when, kind, (lead_id, effect.offer_id, agent))

    def advance(until: datetime) -> None:
        for decision in engine.tick(until):
            record(decision, decision.trace.lead_id, words.timer(decision))
        if until > clock.now():
            clock.set(until)

    for lead in leads:
        push(lead.received_at, "lead", lead)
    while queue:
        at, _, kind, payload = heapq.heappop(queue)
        advance(at)
        if kind == "lead":
            lead = payload
            run.timeline.append(TimelineItem(at, "lead", lead.id, text=words.lead(lead)))
            decision = engine.receive(lead, at)
            if decision is not None:
                record(decision, lead.id, words.effects(decision))
        else:
            lead_id, offer_id, agent = payload
            handler = engine.accept if kind == "accept" else engine.decline
            decision = handler(offer_id, agent, at)
            record(decision, lead_id, words.answer(decision, kind, offer_id, agent))
    advance(gen.end)
    return run


# -- the store -----------------------------------------------------------------------------------
class StoreRefused(Exception):
    """The store cannot take a simulated day (it holds other data)."""


def _remove_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def store_contents(store: Store) -> tuple[int, list[str]]:
    """What a store holds: how many leads a simulated day made, and, worded, everything else
    (rule sets and worlds, audit history and leads that ``rulekit day`` did not put there)."""
    ids = list(store.lead_ids())
    ours = sum(1 for i in ids if i.startswith(ID_PREFIX))
    found: list[str] = []
    try:
        catalog = as_catalog(store)
    except CatalogError:
        catalog = None
    if catalog is not None:
        versions = catalog.active_versions()
        history = catalog.audit()
        others = [e for e in history if e.actor != DAY_ACTOR]
        if others or (versions and not history):
            kinds = " and ".join(("a rule set" if kind == RULESET else "a world")
                                 for kind in sorted(versions))
            actors = ", ".join(sorted({e.actor for e in others}))
            entries = _plural(len(others), "audit entry", "audit entries")
            found.append(f"{kinds} loaded by {actors} ({entries})" if kinds and others
                         else kinds or f"{entries} by {actors}")
    if len(ids) > ours:
        found.append(f"{_plural(len(ids) - ours, 'lead')} that 'rulekit day' did not make")
    return ours, found


def prepare_store(url: str, replace: bool, say: Any) -> Store:
    """Open the store for a fresh day (see the module docstring for what is replaced)."""
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        if path != ":memory:":
            folder = Path(path).parent
            if not folder.is_dir():
                raise StoreRefused(f"cannot create {path}: the folder {folder} does not exist "
                                   "(create it, or choose another --db)")
            if Path(path).is_dir():
                raise StoreRefused(f"{path} is a folder, not a database file; choose another "
                                   "--db")
        if path != ":memory:" and Path(path).exists():
            try:
                old = open_store(url)
                try:
                    ours, found = store_contents(old)
                finally:
                    getattr(old, "close", lambda: None)()
            except Exception as exc:
                if not replace:
                    raise StoreRefused(f"{path} exists and is not a rulekit database ({exc}); "
                                       "use --replace to overwrite it, or another --db") from exc
                ours, found = 0, ["something that is not a rulekit database"]
            if found and not replace:
                raise StoreRefused(
                    f"refusing {path}: it holds {' and '.join(found)}; choose another --db "
                    "(or add --replace to delete the file)")
            _remove_sqlite(path)
            what = ("replaced on request: " + " and ".join(found) if found
                    else f"a previous simulated day, {_plural(ours, 'lead')}" if ours
                    else "an empty rulekit database")
            say(f"rulekit day: {path} already existed ({what}); deleted it: this run starts "
                "from an empty database.")
        return open_store_or_explain(url)
    store = open_store_or_explain(url)
    try:
        ours, found = store_contents(store)
    except Exception:
        getattr(store, "close", lambda: None)()
        raise
    if ours or found:
        getattr(store, "close", lambda: None)()
        held = " and ".join(found) if found else (
            f"leads of a previous simulated day ({ours}); only a SQLite file is replaced")
        raise StoreRefused(f"{redact_url(url)} already holds {held}; 'rulekit day' needs an "
                           "empty store: choose another --db (for a file, "
                           "sqlite:///rulekit-day.db)")
    return store


# -- the output ----------------------------------------------------------------------------------
def timeline(run: DayRun, zone: tzinfo, head: int | None) -> list[str]:
    """The timeline's lines: every event, or the first ``head`` and how many more there are."""
    items = run.timeline
    shown = items if head is None else items[:head]
    width = max((len(item.lead or "") for item in shown), default=0)
    title = (f"Timeline: {_plural(len(items), 'event')}" if len(shown) == len(items)
             else f"Timeline: the first {len(shown)} of {len(items)} events")
    lines = [title, "-" * len(title)]
    lines += [f"{local_time(item.at, zone)}  {(item.lead or ''):<{width}}  {item.text}"
              for item in shown]
    if len(shown) < len(items):
        lines.append(f"… {_plural(len(items) - len(shown), 'more event')}: run with "
                     "--timeline to see them all")
    return lines


#: The statuses the summary always names, in this order (others follow when present).
STATUSES = ("assigned", "waiting", "queued", "unrouted")
STATUS_WORDS = {"waiting": "waiting for an agent", "kept": "not decided yet"}


def summary(store: Store, run: DayRun, zone: tzinfo, world: World) -> list[str]:
    """The day in numbers, read back from the store: agents by name, offers by the numbers
    of the timeline."""
    lead_ids = list(store.lead_ids())
    leads = [lead for i in lead_ids if (lead := store.get_lead(i)) is not None]
    states = {i: store.get_state(i) for i in lead_ids}
    origin = Counter(lead.source for lead in leads)
    status = Counter(s.status if s else "kept" for s in states.values())
    assigned = Counter(a.agent for a in store.assignments())
    offers = store.offers()
    single = [o for o in offers if o.mode != "broadcast"]
    broadcasts = [o for o in offers if o.mode == "broadcast"]
    closed = Counter(o.status.split(":")[0] for o in single)
    queued: dict[str, set[str]] = {}
    for item in store.queue_items():
        queued.setdefault(item.queue, set()).add(item.lead_id)
    times = response_times(store)
    name = world.agent_name

    def number(offer_id: str | None) -> str:
        n = run.offer_numbers.get(offer_id or "")
        return f"offer {n}" if n is not None else "an offer"

    def counts(counter: Counter[str] | dict[str, int]) -> str:
        items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{k} {v}" for k, v in items) or "none"

    shown = [*STATUSES, *sorted(set(status) - set(STATUSES))]
    out = ["Summary", "=======",
           f"Leads: {len(leads)} (" + (counts(origin) if leads else "none") + ")",
           "At the end of the day: " + ", ".join(
               f"{status[s]} {STATUS_WORDS.get(s, s)}" for s in shown),
           "Leads per queue: " + counts({q: len(ids) for q, ids in queued.items()}),
           f"Offers to one agent: {len(single)} made, {closed['accepted']} accepted, "
           f"{closed['declined']} declined, {closed['expired']} expired, "
           f"{closed['open']} still open" + (f", {closed['withdrawn']} withdrawn"
                                             if closed["withdrawn"] else ""),
           f"Broadcasts: {len(broadcasts)}, {sum(1 for o in broadcasts if o.winner)} claimed, "
           f"{sum(1 for o in broadcasts if o.status == 'open')} unclaimed (the first agent to "
           "accept a broadcast gets the lead)",
           f"Late or refused answers: {run.rejected}"]
    answered = [sec for r in times.responses if (sec := r.seconds) is not None]
    out.append("Response time, from offer to answer: " + (
        f"median {duration_text(statistics.median(answered))}, 90th percentile "
        f"{duration_text(percentile(answered, 0.9))}, slowest {duration_text(max(answered))} "
        f"({_plural(len(answered), 'answer')})" if answered else "no answers"))
    per_agent = {a.agent: a for a in times.agents}
    agents = sorted(set(assigned) | {a for a, t in per_agent.items() if t.offers - t.missed},
                    key=lambda a: (-assigned[a], name(a)))
    out.append("")
    out.append(f"Assignments: {sum(assigned.values())} to {_plural(len(assigned), 'agent')}")
    header = ("agent", "leads", "offers", "accepted", "declined", "expired", "open",
              "median answer")
    rows = []
    for agent in agents:
        a = per_agent.get(agent)
        rows.append((name(agent), str(assigned[agent]),
                     *((str(a.offers - a.missed), str(a.accepted), str(a.declined),
                        str(a.unanswered + a.late), str(a.open), duration_text(a.median))
                       if a is not None else ("0", "0", "0", "0", "0", duration_text(None)))))
    out += ["  " + line for line in align(header, rows)]
    claimed = [o for o in broadcasts if o.winner]
    if claimed:
        out.append("")
        out.append("Broadcasts claimed:")
    for o in sorted(claimed, key=lambda o: run.offer_numbers.get(o.offer_id, 0)):
        delay = (o.closed_at - o.created_at) if o.closed_at else None
        took = f" after {int(delay.total_seconds() // 60)} min" if delay is not None else ""
        out.append(f"  {o.lead_id:<20} {number(o.offer_id)} to {len(o.agents)} agents, "
                   f"claimed by {name(o.winner or '')}{took}")
    waiting = [(i, s) for i, s in states.items() if s is not None and s.status == "waiting"]
    out.append("")
    out.append(f"Still waiting at the end of the day: {len(waiting)}")
    for lead_id, state in waiting:
        pending = state.pending
        if pending is None:
            continue
        who = (name(pending.agents[0]) if len(pending.agents) == 1
               else f"{len(pending.agents)} agents" if pending.agents else None)
        until = (f" until {pending.deadline.astimezone(zone):%a} "
                 f"{local_time(pending.deadline, zone)}" if pending.deadline
                 else " (no deadline)")
        out.append(f"  {lead_id:<20} " + (f"{number(pending.offer_id)} to {who}{until}" if who
                                           else f"held{until}"))
    return out


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="rulekit day",
        description="Route a realistic, reproducible day of leads through a policy folder on "
        "a virtual clock, keep every decision in a store, print a summary and the start of "
        "the timeline (all of it with --timeline).")
    p.add_argument("rules", metavar="RULES_DIR", help="folder of rule files, e.g. "
                   "rules/leadstreet")
    p.add_argument("--world", help="world file (default: RULES_DIR/world.yaml)")
    p.add_argument("--db", default=DEFAULT_DB, metavar="URL",
                   help=f"the store (default {DEFAULT_DB}; the file is created)")
    p.add_argument("--date", help=f"the day, YYYY-MM-DD (default {DEFAULT_DATE:%Y-%m-%d}, a "
                   f"{DEFAULT_DATE:%A}: the same day every time)")
    p.add_argument("--leads", type=int, default=150, metavar="N",
                   help="how many leads arrive (default 150)")
    p.add_argument("--seed", type=int, default=1, metavar="S",
                   help="seed of the day's randomness (default 1)")
    p.add_argument("--tz", metavar="ZONE",
                   help="time zone of the day and of the times shown (default: the "
                   "brokerage's: the world's zone, else that of its first calendar, else of "
                   "the rules' first calendar, else UTC)")
    p.add_argument("--timeline", action="store_true",
                   help=f"print the whole timeline (default: its first {TIMELINE_HEAD} "
                   "events)")
    p.add_argument("--replace", action="store_true",
                   help="delete an existing SQLite file even if it holds other data")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    args = p.parse_args(argv)
    if args.leads < 0:
        p.error("--leads must be 0 or more")
    rules = Path(args.rules)
    world_path = Path(args.world) if args.world else rules / "world.yaml"
    if not rules.is_dir():
        print(f"rulekit day: {rules} is not a folder of rule files", file=sys.stderr)
        return 2
    if not world_path.is_file():
        print(f"rulekit day: no world file at {world_path} (give one with --world)",
              file=sys.stderr)
        return 2
    chosen = chosen_zone("rulekit day", args.tz)
    try:
        day = date.fromisoformat(args.date) if args.date else DEFAULT_DATE
    except ValueError:
        print(f"rulekit day: --date {args.date!r} is not YYYY-MM-DD", file=sys.stderr)
        return 2
    checked = check_files(rules, world_path)
    errors = [d for d in checked.diagnostics if d.severity == "error"]
    if errors:
        for diag in errors:
            print(diag.headline(), file=sys.stderr)
        return 1
    ruleset, world = checked.ruleset, checked.world
    if ruleset is None or world is None:
        print(f"rulekit day: no rule files in {rules}", file=sys.stderr)
        return 1
    zone = chosen or day_zone(ruleset, world)

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    try:
        store = prepare_store(args.db, args.replace, say)
    except (StoreRefused, StoreOpenError, ValueError) as exc:
        print(f"rulekit day: {exc}", file=sys.stderr)
        return 1
    try:
        gen = DayGenerator(ruleset, world, day, zone, args.seed)
        # the day's rules and world, so that explain, leads and workers find them (a store
        # without a catalog runs the day all the same)
        with contextlib.suppress(CatalogError):
            store_checked(store, checked, by=DAY_ACTOR, now=gen.start)
        clock = ManualClock(gen.start)
        engine = Engine(ruleset, world, store, clock=clock)
        run = run_day(engine, clock, gen, gen.leads(args.leads))
        if not args.quiet:
            label = f"{gen.start.astimezone(zone):%Z}"
            key = getattr(zone, "key", None)
            print(f"A day of {args.leads} leads through {rules} on {day:%a %Y-%m-%d}, seed "
                  f"{args.seed}; times in {label}" + (f" ({key})" if key and key != label
                                                      else ""))
            print()
        for line in summary(store, run, zone, world):
            print(line)
        if not args.quiet:
            print()
            for line in timeline(run, zone, None if args.timeline else TIMELINE_HEAD):
                print(line)
        print()
        db = redact_url(args.db)
        print(f"Stored in {db}. Next: rulekit leads --db {db} --status waiting · "
              f"rulekit explain LEAD_ID --db {db} · rulekit report response-times "
              f"--db {db}")
    finally:
        getattr(store, "close", lambda: None)()
    return 0
