"""Shared helpers of the pipeline tests: write rule files and a world into a folder, compile
them with ``check_paths``, and drive an :class:`Engine` over a :class:`MemoryStore` with a
:class:`ManualClock`."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.pipeline.state import LeadState
from rulekit.ruleset import RuleSet
from rulekit.storage import MemoryStore
from rulekit.storage.base import StoredOffer
from rulekit.world import World

#: Tuesday 2026-11-24 10:00 in New York (a plain business day).
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

OFFICE_HOURS = """\
calendars:
  office-hours:
    timezone: America/New_York
    hours:
      mon-fri: "09:00-17:00"
"""

WORLD = """\
rulekit: 1
world: testworld
calendars:
  evenings:
    timezone: America/New_York
    hours: {daily: "17:00-22:00"}
offices:
  - {id: o-big, city: Charlotte, agent_count: 60}
  - {id: o-mid, city: Charlotte, specialty_cities: [Pineville], agent_count: 30}
  - {id: o-small, city: Charlotte, agent_count: 10}
  - {id: o-far, city: Raleigh, agent_count: 500}
agents:
  - {id: a-ann, name: Ann Avery, email: ann.avery@example.com, offices: [o-big], mls: [CMLS],
     zips: ["28277", "28226", "28202"], tags: [trusted]}
  - {id: a-bob, name: Bob Brown, offices: [o-big], mls: [CMLS], zips: ["28277"]}
  - {id: a-cat, name: Cat Cruz, offices: [o-mid], mls: [CMLS], zips: []}
  - {id: a-dan, name: Dan Diaz, offices: [o-small], mls: [CMLS], zips: ["28277"]}
  - {id: a-eve, name: Eve Ellis, offices: [o-small], mls: [CMLS], zips: ["28277"]}
  - {id: a-fay, name: Fay Fox, offices: [o-far], mls: [TMLS], zips: ["27601"]}
  - {id: a-gus, name: Gus Gray, email: gus.gray@example.com, offices: [o-far], mls: [TMLS],
     zips: ["27601"]}
  - {id: a-pam, name: Pam Paused, offices: [o-big], mls: [CMLS], zips: ["28277"], paused: true}
  - {id: q-quinn, name: Quinn Qualifier, tags: [qualifier]}
  - {id: q-quill, name: Quill Qualifier, tags: [qualifier]}
listings:
  - {id: CMLS-1, mls: CMLS, brand: RE/MAX, status: active, listing_agent: a-ann, city: Charlotte}
  - {id: CMLS-2, mls: CMLS, brand: Keller Williams, status: active, listing_agent: a-bob}
contacts:
  - {id: c-owned, email: owned@example.com, owner: a-bob}
  - id: c-scoped
    email: scoped@example.com
    owners: {"channel:region-site": a-cat, "market:CMLS": a-dan, "custom:east": a-eve}
"""

ACTIVE_AGENTS = ("a-ann", "a-bob", "a-cat", "a-dan", "a-eve", "a-fay", "a-gus")


def policy(text: str) -> str:
    """A rule file's text, dedented, with the format header when it is missing."""
    body = textwrap.dedent(text).lstrip("\n")
    return body if body.startswith("rulekit:") else "rulekit: 1\n" + body


def write_folder(folder: Path, rules: dict[str, str], world: str | None = WORLD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in rules.items():
        (folder / f"{name}.yaml").write_text(policy(text))
    if world is not None:
        (folder / "world.yaml").write_text(textwrap.dedent(world))
    return folder


def compile_folder(folder: Path) -> tuple[RuleSet, World]:
    result = check_paths([folder])
    assert result.ok, "\n".join(map(str, result.diagnostics))
    ruleset = result.rulesets[str(folder)]
    world = result.worlds[str(folder / "world.yaml")]
    return ruleset, world


@dataclass
class Env:
    """An engine with its store and clock, and shortcuts for the tests."""

    engine: Engine
    clock: ManualClock
    store: MemoryStore
    ruleset: RuleSet
    world: World

    def submit(self, lead_id: str = "L1", **fields: Any) -> LeadState:
        return self.engine.submit(make_lead(lead_id, received_at=self.clock.now(), **fields))

    def state(self, lead_id: str = "L1") -> LeadState:
        state = self.engine.state(lead_id)
        assert state is not None
        return state

    def offers(self, lead_id: str = "L1") -> list[StoredOffer]:
        return self.store.offers(lead_id)

    def last_offer(self, lead_id: str = "L1") -> StoredOffer:
        offers = self.offers(lead_id)
        assert offers, f"no offer for {lead_id}"
        return offers[-1]

    def at(self, when: datetime) -> None:
        self.clock.set(when)

    def later(self, **delta: float) -> datetime:
        self.clock.set(self.clock.now() + timedelta(**delta))
        return self.clock.now()

    def fresh(self, *, world: World | None = None, ruleset: RuleSet | None = None,
              store: MemoryStore | None = None) -> Env:
        """Another engine over the same (or a given) store, sharing the clock."""
        use_store = self.store if store is None else store
        engine = Engine(ruleset or self.ruleset, world or self.world, use_store,
                        clock=self.clock)
        return Env(engine, self.clock, use_store, ruleset or self.ruleset, world or self.world)


def engine_for(ruleset: RuleSet, world: World, now: datetime = T0) -> Env:
    clock = ManualClock(now)
    store = MemoryStore()
    return Env(Engine(ruleset, world, store, clock=clock), clock, store, ruleset, world)


def build(folder: Path, rules: dict[str, str] | str, world: str | None = WORLD,
          now: datetime = T0) -> Env:
    """Write the rule files (a text: one file ``policy.yaml``) and the world, compile them,
    assert they are valid, and return a fresh engine."""
    files = {"policy": rules} if isinstance(rules, str) else rules
    ruleset, world_ = compile_folder(write_folder(folder, files, world))
    return engine_for(ruleset, world_, now)


def make_lead(lead_id: str = "L1", *, received_at: datetime = T0, source: str = "test-site",
              email: str | None = "new.buyer@example.com", **fields: Any) -> Lead:
    data: dict[str, Any] = {"id": lead_id, "received_at": received_at, "source": source}
    contact = dict(fields.pop("contact", {}))
    if email is not None:
        contact.setdefault("email", email)
    data["contact"] = contact
    data.update(fields)
    return Lead.model_validate(data)


def queue_names(store: MemoryStore, lead_id: str = "L1") -> list[str]:
    return [q.queue for q in store.queue_items() if q.lead_id == lead_id]


def assignees(store: MemoryStore, lead_id: str = "L1") -> list[tuple[str, str]]:
    return [(a.agent, a.how) for a in store.assignments(lead_id)]
