"""The world: offices, teams, agents, staff, listings, known contacts and agents' calendars.

A :class:`World` is immutable and indexed so that a pool touches only the agents it could hold
(by office, team, tag, MLS, ZIP, city), never every agent of the brokerage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from rulekit.model import Agent, Contact, Listing, Office, Staff, Team

if TYPE_CHECKING:
    from rulekit.calendars import Calendar
    from rulekit.ruleset import RuleSet

Index = Mapping[str, tuple[str, ...]]
T = TypeVar("T")

#: Bound on :meth:`World.memo` entries (pool candidate lists per pool and lead values).
MEMO_SIZE = 65_536


def _index(pairs: Iterable[tuple[str, str]]) -> Index:
    """Ids by key, each id once, in the order first seen (a dict per key: linear time)."""
    table: dict[str, dict[str, None]] = defaultdict(dict)
    for key, agent_id in pairs:
        table[key][agent_id] = None
    return MappingProxyType({k: tuple(v) for k, v in table.items()})


@dataclass(frozen=True)
class World:
    """Agents, offices, teams, listings, contacts and staff by id, with the indexes pools
    use.  Staff are never routed leads; notifications name them by id, as they name agents
    (their ids are unlike every agent id)."""

    name: str
    agents: Mapping[str, Agent]
    offices: Mapping[str, Office] = field(default_factory=dict)
    teams: Mapping[str, Team] = field(default_factory=dict)
    listings: Mapping[str, Listing] = field(default_factory=dict)
    contacts: Mapping[str, Contact] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    #: The brokerage's time zone (an IANA name), in which people are shown times; ``None``:
    #: see :func:`brokerage_zone`.
    timezone: str | None = None
    staff: Mapping[str, Staff] = field(default_factory=dict)
    by_office: Index = field(default_factory=dict, init=False)
    by_team: Index = field(default_factory=dict, init=False)
    by_tag: Index = field(default_factory=dict, init=False)
    by_mls: Index = field(default_factory=dict, init=False)
    by_zip: Index = field(default_factory=dict, init=False)
    by_city: Index = field(default_factory=dict, init=False)
    offices_by_city: Index = field(default_factory=dict, init=False)
    office_sizes: Mapping[str, int] = field(default_factory=dict, init=False)
    paused: frozenset[str] = field(default_factory=frozenset, init=False)
    _sets: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, init=False,
                                                          repr=False, compare=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False,
                                       compare=False)

    def __post_init__(self) -> None:
        if self.timezone is not None:
            zone_named(self.timezone)  # LookupError for a zone that does not exist
        agents = list(self.agents.values())
        team_pairs = [(t, a.id) for a in agents for t in a.teams]
        team_pairs += [(t.id, m) for t in self.teams.values() for m in t.members]
        counts: dict[str, int] = defaultdict(int)
        for agent in agents:
            for office in agent.offices:
                counts[office] += 1
        sizes = {
            office.id: office.agent_count if office.agent_count is not None else counts[office.id]
            for office in self.offices.values()
        }
        city_pairs = [
            (city.lower(), office.id)
            for office in self.offices.values()
            for city in ([office.city] if office.city else []) + office.specialty_cities
        ]
        set_ = object.__setattr__
        set_(self, "by_office", _index((o, a.id) for a in agents for o in a.offices))
        set_(self, "by_team", _index(team_pairs))
        set_(self, "by_tag", _index((t, a.id) for a in agents for t in a.tags))
        set_(self, "by_mls", _index((m, a.id) for a in agents for m in a.mls))
        set_(self, "by_zip", _index((z, a.id) for a in agents for z in a.zips))
        set_(self, "by_city", _index((c.lower(), a.id) for a in agents for c in a.cities))
        set_(self, "offices_by_city", _index(city_pairs))
        set_(self, "office_sizes", MappingProxyType(sizes))
        set_(self, "paused", frozenset(a.id for a in agents if a.paused))

    def index(self, name: str) -> Index:
        """An agent index by name: office, team, tag, mls, zip, city."""
        index: Index = getattr(self, f"by_{name}")
        return index

    def member_set(self, name: str, key: str) -> frozenset[str]:
        """The agents of ``index(name)[key]`` as a set (built once, then cached)."""
        cached = self._sets.get((name, key))
        if cached is None:
            cached = frozenset(self.index(name).get(key, ()))
            self._sets[(name, key)] = cached
        return cached

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed once per ``key`` for this world (a world never changes).  The
        memo holds at most :data:`MEMO_SIZE` entries: when full it starts again, so a stream of
        ever-new keys costs memory in proportion to the bound, not to the stream."""
        memo = self._memo
        try:
            found: T = memo[key]
            return found
        except KeyError:
            pass
        value = make()
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[key] = value
        return value

    @classmethod
    def build(cls, name: str, *, agents: Iterable[Agent] = (), offices: Iterable[Office] = (),
              teams: Iterable[Team] = (), listings: Iterable[Listing] = (),
              contacts: Iterable[Contact] = (),
              calendars: Mapping[str, Calendar] | None = None,
              timezone: str | None = None, staff: Iterable[Staff] = ()) -> World:
        return cls(
            name=name,
            agents={a.id: a for a in agents},
            offices={o.id: o for o in offices},
            teams={t.id: t for t in teams},
            listings={li.id: li for li in listings},
            contacts={c.id: c for c in contacts},
            calendars=dict(calendars or {}),
            timezone=timezone,
            staff={s.id: s for s in staff},
        )

    def with_agent(self, agent_id: str, **changes: Any) -> World:
        """This world with one agent's fields changed (``paused=True``…); worlds never change,
        so it is a new one, every other part the same."""
        agents = [a.model_copy(update=changes) if a.id == agent_id else a
                  for a in self.agents.values()]
        return World.build(self.name, agents=agents, offices=self.offices.values(),
                           teams=self.teams.values(), listings=self.listings.values(),
                           contacts=self.contacts.values(), calendars=self.calendars,
                           timezone=self.timezone, staff=self.staff.values())

    def is_team(self, member: str) -> bool:
        """Whether a pool member names a team (an agent's id wins over a team's)."""
        return member not in self.agents and (member in self.teams or member in self.by_team)

    def member_agents(self, members: Iterable[str]) -> list[str]:
        """The agents a pool's ``members`` list stands for, in order and once each: each
        agent, and for a team its agents (a team id is not an agent's)."""
        return list(dict.fromkeys(
            agent for m in members
            for agent in ((m,) if m in self.agents else self.by_team.get(m, ()))))

    def agent_name(self, agent_id: str) -> str:
        """The agent's display name, or the id when the world gives none."""
        agent = self.agents.get(agent_id)
        return agent.name if agent is not None and agent.name else agent_id

    def person(self, person_id: str) -> Agent | Staff | None:
        """The agent, else the staff member, with this id (``None`` for neither)."""
        return self.agents.get(person_id) or self.staff.get(person_id)


# -- the brokerage's time zone ---------------------------------------------------------------
def zone_named(name: str) -> tzinfo:
    """The time zone called ``name`` (an IANA name such as ``America/New_York``, or ``UTC``);
    ``LookupError`` whose message says what was wrong, with a "did you mean" hint."""
    from rulekit.calendars.zone import available_zones, load_zone
    from rulekit.suggest import did_you_mean

    if isinstance(name, str) and name.upper() == "UTC":
        return UTC
    try:
        return load_zone(name)
    except LookupError:
        hint = did_you_mean(name, available_zones()) if isinstance(name, str) else None
        raise LookupError(f"unknown time zone {name!r} ("
                          + (f"{hint} " if hint else "")
                          + "use an IANA zone name such as America/New_York, or UTC)") from None


def _calendar_zone(calendars: Iterable[object]) -> tzinfo | None:
    for calendar in calendars:
        zone = getattr(calendar, "tz", None)
        if isinstance(zone, tzinfo):
            return zone
    return None


def brokerage_zone(world: World | None, ruleset: RuleSet | None = None) -> tzinfo:
    """The zone in which people are shown times: the world's ``timezone``, else the zone of
    the world's first calendar, else that of the rule set's first calendar, else UTC."""
    if world is not None and world.timezone is not None:
        return zone_named(world.timezone)
    return (_calendar_zone(world.calendars.values() if world is not None else ())
            or _calendar_zone(ruleset.calendars.values() if ruleset is not None else ())
            or UTC)
