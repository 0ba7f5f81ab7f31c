"""Decision throughput: the Homes Connect brand chain (rules/homesconnect) over a large world.

    python bench/decide.py [--agents 20000] [--leads 100000] [--repeat 3]

Routes synthetic leads through the Engine (in-memory store, traces on) and through a
hand-written Python function doing the same routing on the same world, in the same run; checks
that both reach the same first outcome for every lead; prints both rates and their ratio.
Targets: at least 50,000 leads/s, and at least 1/3 of the hand-written rate.  Exit code 1 if
the outcomes differ or a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Agent, Contact, Lead, Listing, Office
from rulekit.pipeline.facts import contact_key
from rulekit.storage import MemoryStore
from rulekit.world import World

ROOT = Path(__file__).resolve().parent.parent
MLS = [f"MLS{i}" for i in range(10)]
ZIPS = {m: [f"{i:02d}{j:03d}" for j in range(100)] for i, m in enumerate(MLS)}
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York


def build_world(n_agents: int, rng: random.Random) -> World:
    offices = [Office(id=f"o{i}", city=f"City{i}") for i in range(50)]
    agents = []
    for i in range(n_agents):
        mls = MLS[i % len(MLS)]
        agents.append(Agent(id=f"a{i}", offices=[f"o{i % 50}"], mls=[mls],
                            zips=rng.sample(ZIPS[mls], 3), paused=rng.random() < 0.05))
    listings = []
    for i in range(2000):
        mls = MLS[i % len(MLS)]
        listings.append(Listing(id=f"L{i}", mls=mls, brand="RE/MAX" if i % 2 else "Other",
                                status="active" if i % 5 else "sold",
                                listing_agent=f"a{rng.randrange(n_agents)}",
                                zip=rng.choice(ZIPS[mls])))
    contacts = [Contact(id=f"c{i}", email=f"known{i}@example.com",
                        owners={f"market:{MLS[i % len(MLS)]}": f"a{rng.randrange(n_agents)}"})
                for i in range(5000)]
    return World.build("bench", agents=agents, offices=offices, listings=listings,
                       contacts=contacts)


def build_leads(n: int, world: World, rng: random.Random) -> list[Lead]:
    leads = []
    n_agents = len(world.agents)
    for i in range(n):
        mls = MLS[rng.randrange(len(MLS))]
        kind = rng.random()
        prop: dict[str, object] = {"mls": mls, "zip": rng.choice(ZIPS[mls])}
        branding = None
        email = f"buyer{i}@example.com"
        if kind < 0.1:
            branding = f"a{rng.randrange(n_agents)}"
        elif kind < 0.2:
            k = rng.randrange(5000)
            email = f"known{k}@example.com"
            prop["mls"] = MLS[k % len(MLS)]
        elif kind < 0.5:
            listing = world.listings[f"L{rng.randrange(2000)}"]
            prop = {"listing_id": listing.id, "mls": listing.mls, "zip": listing.zip}
        leads.append(Lead(id=f"bench-{i}", received_at=START, source="remax.com",
                          branding_agent=branding, contact={"email": email}, property=prop))
    return leads


class HandWritten:
    """The same chain, written by hand against the same world, recording the same facts."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.owners = {contact_key(Lead(id="x", received_at=START, source="s",
                                        contact={"email": c.email})): c.owners
                       for c in world.contacts.values()}
        self.outcome: dict[str, tuple[str, str]] = {}
        self.offers: list[tuple[str, str, datetime]] = []

    def route(self, lead: Lead) -> tuple[str, str]:
        world = self.world
        if lead.branding_agent is not None:
            result = ("assigned", lead.branding_agent)
        else:
            key = contact_key(lead)
            mls = lead.property.mls
            owner = self.owners.get(key, {}).get(f"market:{mls}") if key else None
            listing = world.listings.get(lead.property.listing_id or "")
            if owner is not None:
                result = ("attached", owner)
            elif (listing is not None and listing.brand == "RE/MAX"
                  and listing.status == "active" and listing.listing_agent is not None
                  and not world.agents[listing.listing_agent].paused):
                self.offers.append((lead.id, listing.listing_agent, START + timedelta(hours=2)))
                result = ("offered", listing.listing_agent)
            else:
                agents = world.agents
                pool = [a for a in world.by_zip.get(lead.property.zip or "", ())
                        if mls in agents[a].mls and not agents[a].paused]
                if not pool:
                    result = ("queued", "unrouted")
                else:
                    rng = random.Random(lead.id)
                    agent = pool[rng.randrange(len(pool))]
                    self.offers.append((lead.id, agent, START + timedelta(hours=2)))
                    result = ("offered", "pool")
        self.outcome[lead.id] = result
        return result


def engine_outcome(engine: Engine, lead_id: str) -> tuple[str, str]:
    state = engine.store.get_state(lead_id)
    assert state is not None
    if state.status == "assigned":
        assignment = engine.store.assignments(lead_id)[-1]
        return ("assigned" if assignment.how == "assigned" else assignment.how,
                assignment.agent)
    if state.status == "waiting":
        assert state.pending is not None
        agent = state.pending.agents[0]
        return ("offered", agent if state.position[0] == 2 else "pool")
    return ("queued", state.queue or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=20_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-gc", action="store_true",
                        help="diagnostic: disable the garbage collector during both timed runs, "
                        "to show how much of the time it takes (not the target measurement)")
    args = parser.parse_args(argv)

    result = check_paths([ROOT / "rules" / "homesconnect"])
    if not result.ok:
        print("rules/homesconnect does not validate", file=sys.stderr)
        return 1
    ruleset = result.rulesets[str(ROOT / "rules" / "homesconnect")]
    rng = random.Random(2026)
    world = build_world(args.agents, rng)
    leads = build_leads(args.leads, world, rng)
    # The world and the rule set live as long as the process: move them out of the garbage
    # collector's young generations, as a long-running worker would after start-up.
    gc.collect()
    gc.freeze()
    if args.no_gc:
        gc.disable()

    best_engine = best_hand = float("inf")
    engine: Engine | None = None
    hand: HandWritten | None = None
    for _ in range(args.repeat):
        engine = Engine(ruleset, world, MemoryStore(), clock=ManualClock(START))
        t0 = time.perf_counter()
        for lead in leads:
            engine.submit(lead, START)
        best_engine = min(best_engine, time.perf_counter() - t0)
        hand = HandWritten(world)
        t0 = time.perf_counter()
        for lead in leads:
            hand.route(lead)
        best_hand = min(best_hand, time.perf_counter() - t0)
    assert engine is not None and hand is not None

    mismatches = [lead.id for lead in leads
                  if engine_outcome(engine, lead.id) != hand.outcome[lead.id]]
    rate_engine = len(leads) / best_engine
    rate_hand = len(leads) / best_hand
    ratio = rate_engine / rate_hand
    traces = sum(len(t.entries) for lid in list(engine.store.lead_ids())[:1000]
                 for t in engine.store.traces(lid))
    print(f"world: {len(world.agents):,} agents; leads: {len(leads):,}; "
          f"trace entries per lead: {traces / 1000:.1f}")
    print(f"rulekit engine : {rate_engine:>10,.0f} leads/s")
    print(f"hand-written   : {rate_hand:>10,.0f} leads/s")
    print(f"ratio          : {ratio:.2f} (target >= 0.33); "
          f"engine target >= 50,000 leads/s")
    print(f"outcome mismatches: {len(mismatches)}")
    ok = not mismatches and ratio >= 1 / 3 and rate_engine >= 50_000
    if args.no_gc:
        print("(garbage collector disabled: a diagnostic run, not the target measurement)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
