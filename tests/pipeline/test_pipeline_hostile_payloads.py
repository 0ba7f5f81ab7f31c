"""Property: no lead payload makes ``decide`` fail.

Random JSON values (nested maps and lists, huge integers, NaN and infinities, long strings,
control characters, booleans, null) go into the lead fields expressions read, for every shipped
rule set under ``rules/`` and for a rule set whose every expression reads free-form attributes.
A payload the model refuses never reaches ``decide``; for every other one, ``decide`` returns
a decision (routed, queued or parked), and a few follow-up events do too.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_helpers import T0, WORLD, compile_folder, write_folder
from pydantic import ValidationError

from rulekit.config.project import check_paths
from rulekit.model import Lead
from rulekit.pipeline import (
    Decision,
    LeadReceived,
    LeadState,
    OfferDeclined,
    StaticFacts,
    TimerFired,
    decide,
)
from rulekit.pipeline.facts import identity_key
from rulekit.ruleset import RuleSet
from rulekit.world import World

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Every expression reads attributes, so loose values reach every kind of expression.
HOSTILE = """
policy: hostile
applies_to:
  sources: [hostile-site]
  when: 'lead.attributes.a != 1 or lead.attributes.b * 2 > lead.attributes.c'
pools:
  picky:
    of: agents
    where: >-
      not any(z in lead.attributes.zips: z in agent.zips)
      or overlaps(agent.tags, lead.attributes.tags)
      or round(lead.attributes.a, lead.attributes.b) > agent.load - lead.attributes.c
  by-zip:
    of: agents
    match: {zip: lead.attributes.zip}
  offices:
    of: offices
    where: 'office.agent_count * lead.attributes.a > -lead.attributes.b'
rules:
  - name: weighted
    when: 'min(lead.attributes.a, lead.attributes.b) != max(lead.attributes.c, 1)'
    steps:
      - offer_sequence:
          pool: picky
          pick: weighted
          weight: 'lead.attributes.w * 1.5 + agent.load'
          attempts: 2
          each_for: 1h
    then: continue
  - name: owner
    when: 'lead.attributes.owner != null or len(lead.attributes.owner) < 20'
    steps:
      - attach_to_owner:
          scope: {expression: lead.attributes.region}
          notify: {template: t, to: [owner], vars: {x: 'lead.attributes.a + lead.attributes.b'}}
    then: continue
  - name: offer-to
    when: 'all(x in lead.attributes.list: x != "stop") and abs(lead.attributes.a) >= 0'
    steps:
      - offer: {to: lead.attributes.agent, for: 1h}
    then: continue
  - name: office
    when: 'lead.attributes.office != false or lead.attributes.s * lead.attributes.n == "xx"'
    steps:
      - pick_office: {pool: offices, weight: 'lead.attributes.w'}
    then: continue
  - name: zip
    when: 'lead.attributes.t + lead.attributes.s != "x" and now - 1h * lead.attributes.n < now'
    steps:
      - round_robin: {pool: by-zip}
    then: continue
  - name: assign
    steps:
      - assign: {to: 'coalesce(lead.attributes.agent, lead.attributes.s + "-agent")'}
"""


@dataclass(frozen=True)
class System:
    name: str
    ruleset: RuleSet
    world: World
    facts: StaticFacts
    sources: tuple[str, ...]
    channels: tuple[str, ...]
    agents: tuple[str, ...]
    listings: tuple[str, ...]
    emails: tuple[str, ...]
    words: tuple[str, ...]  # cities, ZIP codes, MLS, brands of the world


def _system(name: str, ruleset: RuleSet, world: World) -> System:
    contacts = {key: c for c in world.contacts.values()
                if (key := identity_key(c.email, c.phone)) is not None}
    sources = sorted({s for p in ruleset.policies for s in p.applies_to.sources or ()})
    channels = sorted({c for p in ruleset.policies for c in p.applies_to.channels or ()})
    words: set[str] = set()
    for agent in world.agents.values():
        words.update(agent.zips + agent.cities + agent.mls + agent.offices)
    for listing in world.listings.values():
        words.update(v for v in (listing.mls, listing.brand, listing.status) if v)
    for office in world.offices.values():
        words.update(v for v in (office.city, office.brand) if v)
    return System(name, ruleset, world, StaticFacts(contacts=contacts), tuple(sources),
                  tuple(channels), tuple(sorted(world.agents)), tuple(sorted(world.listings)),
                  tuple(sorted(c.email for c in world.contacts.values() if c.email)),
                  tuple(sorted(words)))


def _shipped() -> Iterator[System]:
    for folder in sorted(p for p in (ROOT / "rules").iterdir() if p.is_dir()):
        result = check_paths([folder])
        assert result.ok, "\n".join(map(str, result.diagnostics))
        for path, ruleset in sorted(result.rulesets.items()):
            home = Path(path)
            world_path = next(str(d / "world.yaml") for d in (home, *home.parents)
                              if str(d / "world.yaml") in result.worlds)
            yield _system(path, ruleset, result.worlds[world_path])


def _hostile() -> System:
    with tempfile.TemporaryDirectory(prefix="rulekit-hostile-") as tmp:
        ruleset, world = compile_folder(write_folder(Path(tmp), {"hostile": HOSTILE}, WORLD))
    return _system("hostile", ruleset, world)


SYSTEMS: list[System] = [*_shipped(), _hostile()]

# --- payload values ---------------------------------------------------------------------------

# NUL (and lone surrogates) are refused at intake: only a few texts hold one
storable = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
controls = st.characters(min_codepoint=1, max_codepoint=0x1F)
texts = st.one_of(
    st.text(storable, max_size=12),
    st.text(controls, min_size=1, max_size=6).map(lambda t: "a" + t),
    st.text(storable, max_size=30),
    st.sampled_from(["", " ", "vip", "stop", "x", "28277", "a-ann", "a\x00b", "\u202e", "\x7f"]),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "\x07"]),
              st.sampled_from([1_000, 60_000, 150_000])),
)
numbers = st.one_of(
    st.integers(-10, 10),
    st.integers(),
    st.sampled_from([10**308, 10**400, -(10**401), 2**63, 2**64 + 1, 10**4000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(storable, max_size=4), children,
                                               max_size=4)),
    max_leaves=12,
)
class Deep(dict[str, Any]):
    """A map nested ``depth`` levels deep, shown briefly (a failing example stays readable)."""

    def __init__(self, depth: int) -> None:
        value: Any = "bottom"
        for i in range(depth - 1):
            value = [value] if i % 2 else {"k": value}
        super().__init__(k=value)
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _nest(depth: int) -> Any:
    return Deep(depth)


deep = (st.integers(1, 50) | st.sampled_from([900, 5_000])).map(_nest)


ATTRIBUTE_KEYS = ["a", "b", "c", "n", "s", "t", "w", "zip", "zips", "tags", "list", "agent",
                  "owner", "region", "office", "score", "campaign"]


@st.composite
def attributes(draw: st.DrawFn, system: System) -> dict[str, Any]:
    """Free-form attributes: each key the hostile rule set reads, half of the time, and a few
    others; values of every JSON shape, numbers and world values most often."""
    known = st.sampled_from(system.agents + system.words or ("x",))
    value = st.one_of(numbers, scalars, json_values, known, st.lists(known, max_size=3), deep)
    found = {key: draw(value) for key in ATTRIBUTE_KEYS if draw(st.booleans())}
    found.update(draw(st.dictionaries(st.text(storable, max_size=6), json_values, max_size=2)))
    return found


def maybe(values: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """For a text field: a world value when there is one, else random text or null (other
    JSON values are refused by the model: they go into the attributes)."""
    options: list[st.SearchStrategy[Any]] = [st.none(), texts]
    if values:
        options.insert(0, st.sampled_from(values))
    return st.one_of(*options)


@st.composite
def payloads(draw: st.DrawFn, system: System) -> dict[str, Any]:
    """A lead payload as JSON decodes it, aimed at this rule set's policies and world."""
    prop = {
        "listing_id": draw(maybe(system.listings)),
        "brand": draw(maybe(system.words)),
        "status": draw(maybe(("active", "pending", "sold"))),
        "city": draw(maybe(system.words)),
        "zip": draw(maybe(system.words)),
        "mls": draw(maybe(system.words)),
        "listing_agent": draw(maybe(system.agents)),
        "price": draw(st.one_of(st.none(), numbers.filter(lambda n: not n < 0))),
    }
    payload: dict[str, Any] = {
        "id": draw(st.sampled_from(["L1", "lead-2", "x" * 200])),
        "received_at": T0.isoformat(),
        "source": draw(st.sampled_from(system.sources or ("web",)) if draw(st.integers(0, 9))
                       else texts.filter(str.strip)),
        "channel": draw(maybe(system.channels)),
        "entry": draw(st.sampled_from(["web", "manual", "import"])),
        "site_owner": draw(maybe(system.agents)),
        "branding_agent": draw(maybe(system.agents)),
        "entered_by": draw(maybe(system.agents)),
        "office": draw(maybe(tuple(system.world.offices))),
        "inquiry_type": draw(st.one_of(st.sampled_from(["Schedule Showing", "general"]), texts)),
        "activity": draw(st.sampled_from(["active", "passive"])),
        "contact": {"email": draw(maybe(system.emails)), "phone": draw(maybe(())),
                    "name": draw(maybe(()))},
        "property": {k: v for k, v in prop.items() if draw(st.booleans())},
        "attributes": draw(attributes(system)),
    }
    return {k: v for k, v in payload.items() if v is not None or k in ("channel", "office")}


def follow_up(system: System, state: LeadState, lead: Lead) -> Decision | None:
    """The next event a waiting lead may get: a decline of its offer, else its timer."""
    pending = state.pending
    if pending is None:
        return None
    if pending.offer_id is not None and pending.agents and pending.mode != "qualify":
        event: OfferDeclined | TimerFired = OfferDeclined(pending.offer_id, pending.agents[0])
    elif pending.timer_id is not None:
        event = TimerFired(pending.timer_id)
    else:
        return None
    return decide(system.ruleset, system.world, system.facts, state, lead, event,
                  pending.deadline or T0)


@st.composite
def cases(draw: st.DrawFn) -> tuple[System, dict[str, Any]]:
    # the rule set reading attributes everywhere a third of the time
    system = draw(st.sampled_from(SYSTEMS[:-1]) if draw(st.integers(0, 2)) else
                  st.just(SYSTEMS[-1]))
    return system, draw(payloads(system))


@SETTINGS
@given(cases())
def test_no_payload_makes_decide_fail(case: tuple[System, dict[str, Any]]) -> None:
    system, payload = case
    try:
        lead = Lead.model_validate(payload)
    except ValidationError:
        return  # refused at intake: never routed
    # no exception at all escapes decide: a rule problem parks the lead
    decision = decide(system.ruleset, system.world, system.facts, None, lead,
                      LeadReceived(lead), T0)
    assert decision.trace.entries
    decision.trace.to_json()  # and its trace can be kept
    state = decision.state
    for _ in range(3):
        following = follow_up(system, state, lead)
        if following is None:
            break
        state = following.state


@pytest.mark.parametrize("system", SYSTEMS, ids=[s.name for s in SYSTEMS])
def test_every_rule_set_takes_a_plain_lead(system: System) -> None:
    lead = Lead.model_validate({"id": "P", "received_at": T0.isoformat(),
                                "source": (system.sources or ("web",))[0],
                                "attributes": {"a": math.nan, "zips": 3, "w": "heavy"}})
    decision = decide(system.ruleset, system.world, system.facts, None, lead,
                      LeadReceived(lead), T0)
    assert decision.state.status in {"assigned", "queued", "waiting", "unrouted", "parked",
                                     "dropped"}
