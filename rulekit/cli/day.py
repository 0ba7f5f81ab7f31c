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
The same arguments (and ``--seed``) always give the same day.

An existing SQLite file that holds a previous simulated day (every lead id starts with ``day-``)
is replaced, with a message; a file holding other leads is left alone unless ``--replace`` is
given.  Any other store must be empty.

Exit codes: 0 the day ran, 1 invalid rule files or a store that cannot be used, 2 usage error.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.pipeline import Decision
from rulekit.pipeline.effects import (
    MakeOffer,
)
from rulekit.ruleset import RuleSet
from rulekit.scenario.runner import TimelineItem, timeline_items
from rulekit.storage.base import Store
from rulekit.storage.redact import redact_url
from rulekit.storage.url import StoreOpenError, open_store, open_store_or_explain, sqlite_path
from rulekit.world import World

DEFAULT_DB = "sqlite:///rulekit-day.db"
ID_PREFIX = "day-"

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
    """The zone of the policy's office hours (its first calendar), else the world's, else UTC."""
    for calendar in (*ruleset.calendars.values(), *world.calendars.values()):
        zone = getattr(calendar, "tz", None)
        if isinstance(zone, tzinfo):
            return zone
    return UTC


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


def run_day(engine: Engine, clock: ManualClock, gen: DayGenerator, leads: list[Lead]) -> DayRun:
    """Play the day: leads arrive, timers fire at their due instants, agents answer."""
    run = DayRun()
    queue: list[tuple[datetime, int, str, Any]] = []
    serial = 0

    def push(at: datetime, kind: str, payload: Any) -> None:
        nonlocal serial
        serial += 1
        heapq.heappush(queue, (at, serial, kind, payload))

    def record(decision: Decision, lead_id: str) -> None:
        for item in timeline_items(decision, lead_id, zone=gen.zone, notifications=False):
            run.timeline.append(item)
            if item.type == "rejected":
                run.rejected += 1
        for effect in decision.effects:
            if isinstance(effect, MakeOffer):
                for when, kind, agent in gen.replies(effect, decision.trace.at):
                    if when < gen.end:
                        push(when, kind, (lead_id, effect.offer_id, agent))

    def advance(until: datetime) -> None:
        for decision in engine.tick(until):
            run.timeline.append(TimelineItem(decision.trace.at, "timer",
                                             decision.trace.lead_id,
                                             text="deadline or hold reached"))
            record(decision, decision.trace.lead_id)
        if until > clock.now():
            clock.set(until)

    for lead in leads:
        push(lead.received_at, "lead", lead)
    while queue:
        at, _, kind, payload = heapq.heappop(queue)
        advance(at)
        if kind == "lead":
            lead = payload
            text = f"lead from {lead.source}" + (f" ({lead.channel})" if lead.channel else "")
            if lead.entry != "web":
                text += f", {lead.entry} entry" + (f" by {lead.entered_by}"
                                                   if lead.entered_by else "")
            else:
                text += f", {lead.inquiry_type}"
                place = lead.property.listing_id or lead.property.city
                text += f" ({place})" if place else ""
            run.timeline.append(TimelineItem(at, "lead", lead.id, text=text))
            decision = engine.receive(lead, at)
            if decision is not None:
                record(decision, lead.id)
        else:
            lead_id, offer_id, agent = payload
            run.timeline.append(TimelineItem(at, kind, lead_id, agent, offer_id,
                                             text=f"{agent} {kind}s offer {offer_id}"))
            handler = engine.accept if kind == "accept" else engine.decline
            record(handler(offer_id, agent, at), lead_id)
    advance(gen.end)
    return run


# -- the store -----------------------------------------------------------------------------------
class StoreRefused(Exception):
    """The store cannot take a simulated day (it holds other data)."""


def _remove_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


def prepare_store(url: str, replace: bool, say: Any) -> Store:
    """Open the store for a fresh day (see the module docstring for what is replaced)."""
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        if path != ":memory:" and Path(path).exists():
            try:
                old = open_store(url)
                ids = list(old.lead_ids())
                getattr(old, "close", lambda: None)()
            except Exception as exc:
                if not replace:
                    raise StoreRefused(f"{path} exists and is not a rulekit database ({exc}); "
                                       "use --replace to overwrite it, or another --db") from exc
                ids = []
            ours = all(i.startswith(ID_PREFIX) for i in ids)
            if ids and not ours and not replace:
                raise StoreRefused(
                    f"{path} holds {len(ids)} leads that 'rulekit day' did not make; use "
                    "--replace to delete it, or choose another --db")
            _remove_sqlite(path)
            what = "a previous simulated day" if ours else "replaced on request"
            say(f"rulekit day: {path} already existed ({what}, {len(ids)} leads); deleted it: "
                "this run starts from an empty database.")
        return open_store_or_explain(url)
    store = open_store_or_explain(url)
    if next(iter(store.lead_ids()), None) is not None:
        getattr(store, "close", lambda: None)()
        raise StoreRefused(f"{redact_url(url)} already holds leads; 'rulekit day' needs an "
                           "empty store (for a file, use sqlite:///rulekit-day.db)")
    return store


# -- the summary ---------------------------------------------------------------------------------
def summary(store: Store, run: DayRun, zone: tzinfo) -> list[str]:
    """The day in numbers, read back from the store."""
    lead_ids = list(store.lead_ids())
    leads = [lead for i in lead_ids if (lead := store.get_lead(i)) is not None]
    states = {i: store.get_state(i) for i in lead_ids}
    origin = Counter(lead.source for lead in leads)
    status = Counter(s.status if s else "new" for s in states.values())
    assigned = Counter(a.agent for a in store.assignments())
    offers = store.offers()
    single = [o for o in offers if o.mode != "broadcast"]
    broadcasts = [o for o in offers if o.mode == "broadcast"]
    closed = Counter(o.status.split(":")[0] for o in single)
    queued: dict[str, set[str]] = {}
    for item in store.queue_items():
        queued.setdefault(item.queue, set()).add(item.lead_id)

    def counts(counter: Counter[str] | dict[str, int]) -> str:
        items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{k} {v}" for k, v in items) or "none"

    out = ["", "Summary", "=======",
           f"Leads: {len(leads)} ({counts(origin)})",
           f"Status at the end of the day: {counts(status)}",
           f"Assignments: {sum(assigned.values())} to {len(assigned)} agents"]
    for agent, n in sorted(assigned.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"  {agent:<24} {n}")
    out.append(f"Offers to one agent: {len(single)} made, {closed['accepted']} accepted, "
               f"{closed['declined']} declined, {closed['expired']} expired, "
               f"{closed['open']} still open" + (f", {closed['withdrawn']} withdrawn"
                                                 if closed["withdrawn"] else ""))
    out.append(f"Late or refused answers: {run.rejected}")
    claimed = [o for o in broadcasts if o.winner]
    out.append(f"Broadcasts: {len(broadcasts)}, {len(claimed)} claimed, "
               f"{sum(1 for o in broadcasts if o.status == 'open')} unclaimed")
    for o in claimed:
        delay = (o.closed_at - o.created_at) if o.closed_at else None
        took = f" after {int(delay.total_seconds() // 60)} min" if delay is not None else ""
        out.append(f"  {o.lead_id:<20} won by {o.winner}{took} (of {len(o.agents)} agents)")
    out.append("Leads per queue: " + counts({q: len(ids) for q, ids in queued.items()}))
    waiting = [(i, s) for i, s in states.items() if s is not None and s.status == "waiting"]
    out.append(f"Still waiting at the end of the day: {len(waiting)}")
    for lead_id, state in waiting:
        pending = state.pending
        if pending is None:
            continue
        who = (pending.agents[0] if len(pending.agents) == 1
               else f"{len(pending.agents)} agents" if pending.agents else "nobody (held)")
        until = (f" until {pending.deadline.astimezone(zone):%a %H:%M %Z}"
                 if pending.deadline else " (no deadline)")
        out.append(f"  {lead_id:<20} {pending.mode} offer to {who}{until}")
    return out


def _zone(name: str) -> tzinfo:
    return UTC if name.upper() == "UTC" else ZoneInfo(name)


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="rulekit day",
        description="Route a realistic, reproducible day of leads through a policy folder on "
        "a virtual clock, keep every decision in a store, print the timeline and a summary.")
    p.add_argument("rules", metavar="RULES_DIR", help="folder of rule files, e.g. "
                   "rules/leadstreet")
    p.add_argument("--world", help="world file (default: RULES_DIR/world.yaml)")
    p.add_argument("--db", default=DEFAULT_DB, metavar="URL",
                   help=f"the store (default {DEFAULT_DB}; the file is created)")
    p.add_argument("--date", help="the day, YYYY-MM-DD (default: today in the policy's zone)")
    p.add_argument("--leads", type=int, default=150, metavar="N",
                   help="how many leads arrive (default 150)")
    p.add_argument("--seed", type=int, default=1, metavar="S",
                   help="seed of the day's randomness (default 1)")
    p.add_argument("--tz", help="time zone of the day (default: the zone of the policy's "
                   "first calendar)")
    p.add_argument("--replace", action="store_true",
                   help="delete an existing SQLite file even if it holds other leads")
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
    checked = check_paths([str(rules), str(world_path)])
    errors = [d for d in checked.diagnostics if d.severity == "error"]
    if errors:
        for diag in errors:
            print(diag.headline(), file=sys.stderr)
        return 1
    ruleset = checked.rulesets.get(str(rules))
    world = checked.worlds.get(str(world_path))
    if ruleset is None or world is None:
        print(f"rulekit day: no rule files in {rules}", file=sys.stderr)
        return 1
    try:
        zone = _zone(args.tz) if args.tz else day_zone(ruleset, world)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"rulekit day: unknown time zone {args.tz!r}", file=sys.stderr)
        return 2
    try:
        day = date.fromisoformat(args.date) if args.date else datetime.now(zone).date()
    except ValueError:
        print(f"rulekit day: --date {args.date!r} is not YYYY-MM-DD", file=sys.stderr)
        return 2

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    try:
        store = prepare_store(args.db, args.replace, say)
    except (StoreRefused, StoreOpenError, ValueError) as exc:
        print(f"rulekit day: {exc}", file=sys.stderr)
        return 1
    try:
        gen = DayGenerator(ruleset, world, day, zone, args.seed)
        clock = ManualClock(gen.start)
        engine = Engine(ruleset, world, store, clock=clock)
        run = run_day(engine, clock, gen, gen.leads(args.leads))
        if not args.quiet:
            print(f"A day of {args.leads} leads through {rules} on {day:%a %Y-%m-%d} "
                  f"({getattr(zone, 'key', str(zone))}), seed {args.seed}")
            print()
            for item in run.timeline:
                who = f" [{item.lead}]" if item.lead else ""
                print(f"{item.at.astimezone(zone):%Y-%m-%d %H:%M %Z} {item.type:<14}{who} "
                      f"{item.text}")
        for line in summary(store, run, zone):
            print(line)
        print()
        db = redact_url(args.db)
        print(f"Stored in {db}. Next: rulekit leads --db {db} --status waiting · "
              f"rulekit explain LEAD_ID --db {db} · rulekit report response-times "
              f"--db {db}")
    finally:
        getattr(store, "close", lambda: None)()
    return 0
