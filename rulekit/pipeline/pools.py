"""Pools: the agents (or offices) a step may choose from, for one lead, now.

Candidates come from the world's indexes (explicit members, offices, teams, tags, and the
``match`` keys ZIP / MLS / city / office), starting from the smallest list, so a decision costs
in proportion to the pool and not to the number of agents of the brokerage.  Exclusions are
then counted per reason — paused, already offered, off duty, at capacity, or not matching the
pool's ``where`` — for the trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field

from rulekit.calendars import Calendar
from rulekit.pipeline.context import Context
from rulekit.ruleset import Pool

#: How many excluded ids per reason a trace lists by name.
LISTED_PER_REASON = 8

REASON_TEXT = {
    "paused": "paused",
    "already_offered": "already offered this lead",
    "off_duty": "off duty",
    "at_capacity": "at capacity",
    "where": "not matching the pool's condition",
}


@dataclass(slots=True)
class PoolResult:
    name: str
    order: list[str]  # all candidates, in the pool's stable order
    eligible: list[str]
    excluded: dict[str, list[str]] = field(default_factory=dict)
    key: str = ""  # the rotation key: the pool, and the lead values its membership depends on

    def __post_init__(self) -> None:
        if not self.key:
            self.key = self.name

    def summary(self, noun: str = "agents") -> str:
        text = (f"Pool '{self.name}': {len(self.order)} candidate {noun}, "
                f"{len(self.eligible)} eligible")
        if self.excluded:
            parts = []
            for reason, ids in self.excluded.items():
                shown = ", ".join(ids[:LISTED_PER_REASON])
                more = f" and {len(ids) - LISTED_PER_REASON} more" \
                    if len(ids) > LISTED_PER_REASON else ""
                parts.append(f"{len(ids)} {REASON_TEXT.get(reason, reason)} ({shown}{more})")
            text += "; excluded: " + "; ".join(parts)
        return text

    def data(self) -> dict[str, object]:
        return {
            "pool": self.name,
            "candidates": len(self.order),
            "eligible": len(self.eligible),
            "excluded": {r: {"count": len(ids), "agents": ids[:LISTED_PER_REASON]}
                         for r, ids in self.excluded.items()},
        }


class _Sources:
    """Candidate lists for one pool: index entries (with cached sets) and ad-hoc lists."""

    def __init__(self, ctx: Context) -> None:
        self.world = ctx.world
        self.lists: list[tuple[Sequence[str], Callable[[], Set[str]]]] = []

    def index(self, name: str, key: str) -> None:
        world = self.world
        self.lists.append((world.index(name).get(key, ()),
                           lambda: world.member_set(name, key)))

    def plain(self, items: Sequence[str]) -> None:
        self.lists.append((items, lambda: set(items)))

    def intersection(self, fallback: Sequence[str]) -> list[str]:
        if not self.lists:
            return list(fallback)
        ordered = sorted(self.lists, key=lambda pair: len(pair[0]))
        base = list(dict.fromkeys(ordered[0][0]))
        for _, make in ordered[1:]:
            other = make()
            base = [item for item in base if item in other]
        return base


def _union(index: Mapping[str, tuple[str, ...]], keys: Sequence[str]) -> list[str]:
    out: list[str] = []
    for key in keys:
        out.extend(index.get(key, ()))
    return list(dict.fromkeys(out))


def rotation_key(ctx: Context, pool: Pool) -> str:
    """A pool's rotation key: its name, plus the lead values its membership depends on."""
    parts = [pool.name]
    if "lead.office" in pool.offices:
        parts.append(f"office={ctx.lead.office}")
    parts.extend(f"{key}={ctx.evaluate(expression)}" for key, expression in pool.match)
    return "|".join(parts)


def agent_candidates(ctx: Context, pool: Pool) -> list[str]:
    """The pool's candidate agents in a stable order (the admin's member order first)."""
    world = ctx.world
    sources = _Sources(ctx)
    if pool.offices:
        names = [ctx.lead.office or "" if o == "lead.office" else o for o in pool.offices]
        if len(names) == 1:
            sources.index("office", names[0])
        else:
            sources.plain(_union(world.by_office, names))
    if len(pool.teams) == 1:
        sources.index("team", pool.teams[0])
    elif pool.teams:
        sources.plain(_union(world.by_team, pool.teams))
    for tag in pool.tags:
        sources.index("tag", tag)
    for key, expression in pool.match:
        value = ctx.evaluate(expression)
        if value is None:
            return []
        text = str(value)
        sources.index(key, text.lower() if key == "city" else text)
    if pool.members is not None:
        members = [m for m in pool.members if m in world.agents]
        if not sources.lists:
            return members
        others = [make() for _, make in sources.lists]
        return [m for m in members if all(m in o for o in others)]
    if not sources.lists:
        return list(world.agents)
    return sources.intersection(())


def _on_duty(ctx: Context, pool: Pool, agent_id: str) -> bool:
    if pool.calendar is None:
        return True
    calendar: Calendar | None
    if pool.calendar == "agent":
        own = ctx.world.agents[agent_id].calendar
        calendar = ctx.world.calendars.get(own) if own else None
    else:
        calendar = ctx.calendar(pool.calendar)
    return calendar is None or calendar.is_open(ctx.now)


def resolve_agents(ctx: Context, pool: Pool, *, offered: Sequence[str] = ()) -> PoolResult:
    """The pool's agents for this lead now, with exclusions counted per reason."""
    order = agent_candidates(ctx, pool)
    result = PoolResult(pool.name, order, [])
    if pool.match or "lead.office" in pool.offices:
        result.key = rotation_key(ctx, pool)
    exclude = pool.exclude
    if pool.where is None and "at_capacity" not in exclude and (
            "off_duty" not in exclude or pool.calendar is None):
        return _simple_exclusions(ctx, result, exclude, offered)
    paused = "paused" in exclude
    offered_set = set(offered) if "already_offered" in exclude else ()
    off_duty = "off_duty" in exclude and pool.calendar is not None
    capacity = "at_capacity" in exclude
    agents = ctx.world.agents
    where = pool.where
    needs_load = where is not None and "agent.load" in where.fields
    eligible = result.eligible
    excluded = result.excluded
    for agent_id in order:
        agent = agents[agent_id]
        if paused and agent.paused:
            reason = "paused"
        elif agent_id in offered_set:
            reason = "already_offered"
        elif off_duty and not _on_duty(ctx, pool, agent_id):
            reason = "off_duty"
        elif (capacity and agent.capacity is not None
              and ctx.facts.load(agent_id) >= agent.capacity):
            reason = "at_capacity"
        elif where is not None and not ctx.evaluate(
                where, agent, ctx.facts.load(agent_id) if needs_load else 0):
            reason = "where"
        else:
            eligible.append(agent_id)
            continue
        excluded.setdefault(reason, []).append(agent_id)
    return result


def _simple_exclusions(ctx: Context, result: PoolResult, exclude: Sequence[str],
                       offered: Sequence[str]) -> PoolResult:
    """Only paused / already offered apply: set arithmetic instead of a loop per agent."""
    paused = ctx.world.paused if "paused" in exclude else frozenset()
    offered_set = set(offered) if "already_offered" in exclude else set()
    if not paused.isdisjoint(result.order):
        result.excluded["paused"] = [a for a in result.order if a in paused]
    if offered_set:
        gone = [a for a in result.order if a in offered_set and a not in paused]
        if gone:
            result.excluded["already_offered"] = gone
    if "paused" in result.excluded or "already_offered" in result.excluded:
        result.eligible = [a for a in result.order if a not in paused and a not in offered_set]
    else:
        result.eligible = list(result.order)
    return result


def resolve_offices(ctx: Context, pool: Pool) -> PoolResult:
    world = ctx.world
    sources = _Sources(ctx)
    if pool.members is not None:
        sources.plain([m for m in pool.members if m in world.offices])
    for key, expression in pool.match:
        value = ctx.evaluate(expression)
        if value is None:
            return PoolResult(pool.name, [], [])
        if key == "city":
            sources.plain(world.offices_by_city.get(str(value).lower(), ()))
    order = sources.intersection(()) if sources.lists else list(world.offices)
    result = PoolResult(pool.name, order, [])
    for office_id in order:
        office = world.offices[office_id]
        untagged = bool(pool.tags) and not set(pool.tags) <= set(office.tags)
        if untagged or (pool.where is not None and not ctx.evaluate_office(
                pool.where, office, world.office_sizes.get(office_id, 0))):
            result.excluded.setdefault("where", []).append(office_id)
        else:
            result.eligible.append(office_id)
    return result
