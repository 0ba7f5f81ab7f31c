"""Pools: the agents (or offices) a step may choose from, for one lead, now.

Candidates come from the world's indexes (explicit members, offices, teams, tags, and the
``match`` keys ZIP / MLS / city / office), starting from the smallest list, so a decision costs
in proportion to the pool and not to the number of agents of the brokerage.  Exclusions are
then counted per reason — paused, already offered, off duty, at capacity, or not matching the
pool's ``where`` — for the trace.  A ``where`` that cannot be evaluated on a candidate counts
as not matching; the trace says so once per decision, with the number of candidates it failed on.

The trace also lists the pool's *filters* (:func:`pool_filters`): each source of membership
(members, offices, teams, tags, each ``match`` key with the lead's value, the ``where`` with its
text) and how many agents of the brokerage it leaves out — counted from the world's index
sizes, once per world, pool and lead values, never by walking the agents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from rulekit.errors import EvaluationError
from rulekit.pipeline.context import Context, key_text
from rulekit.ruleset import Pool
from rulekit.trace import message
from rulekit.world import World

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
    filters: tuple[Filter, ...] = ()  # the pool's sources of membership (:func:`pool_filters`)
    left_out: int = 0  # agents (offices) of the brokerage who are not candidates

    def __post_init__(self) -> None:
        if not self.key:
            self.key = self.name

    def data(self, noun: str = "agents") -> dict[str, object]:
        """What the trace keeps of the pool: counts, and per reason the number excluded and
        up to :data:`LISTED_PER_REASON` of their ids (plain values; :func:`word_pool`)."""
        return {
            "pool": self.name,
            "of": noun,
            "candidates": len(self.order),
            "eligible": len(self.eligible),
            "excluded": tuple((reason, len(ids), tuple(ids[:LISTED_PER_REASON]))
                              for reason, ids in self.excluded.items()),
            "key": self.key,
            "order": tuple(self.order),
            "eligible_ids": tuple(self.eligible),
            "skipped": tuple(self.reasons().items()),
            "filters": self._counted_filters(),
            "left_out": self.left_out,
        }

    def reasons(self) -> dict[str, str]:
        """Each excluded candidate's reason, by id."""
        return {agent: reason for reason, ids in self.excluded.items() for agent in ids}

    def _counted_filters(self) -> tuple[Filter, ...]:
        """The filters, the ``where`` (always last) with the candidates it excluded."""
        filters = self.filters
        if filters and filters[-1][0] == "where":
            kind, key, value, _ = filters[-1]
            return (*filters[:-1], (kind, key, value, len(self.excluded.get("where", ()))))
        return filters


@message("pool")
def word_pool(data: Mapping[str, Any]) -> str:
    """'Pool 'x' (mls = CMLS, zip = 28202): 10 candidate agents (25 agents of the brokerage
    left out: not in MLS CMLS or ZIP 28202 not declared), 9 eligible; excluded: 1 paused
    (a1)'."""
    noun = data.get("of", "agents")
    filters: Sequence[Filter] = data.get("filters") or ()
    values = ", ".join(f"{key} = {_shown(value)}" for kind, key, value, _ in filters
                       if kind == "match" or (kind == "office" and key == "lead.office"))
    text = f"Pool '{data['pool']}'" + (f" ({values})" if values else "")
    count = data["candidates"]
    text += f": {count} candidate {noun.removesuffix('s') if count == 1 else noun}"
    left_out: int = data.get("left_out") or 0
    phrases = [filter_phrase(kind, key, value, noun) for kind, key, value, _ in filters
               if kind != "where"]
    if left_out and phrases:
        counted = noun.removesuffix("s") if left_out == 1 else noun
        text += (f" ({left_out} {counted} of the brokerage left out: "
                 + " or ".join(phrases) + ")")
    text += f", {data['eligible']} eligible"
    condition = next((value for kind, _, value, _ in filters if kind == "where"), None)
    excluded: Sequence[tuple[str, int, Sequence[str]]] = data.get("excluded") or ()
    if excluded:
        parts = []
        for reason, count, shown in excluded:
            more = f" and {count - len(shown)} more" if count > len(shown) else ""
            said = REASON_TEXT.get(reason, reason)
            if reason == "where" and condition:
                said += f" `{condition}`"
            parts.append(f"{count} {said} ({', '.join(shown)}{more})")
        text += "; excluded: " + "; ".join(parts)
    return text


#: One filter of a pool, as its trace entry keeps it: ``(kind, key, value, excluded)``.
#: ``kind`` is ``members``, ``office``, ``team``, ``tag``, ``match`` or ``where``; ``key`` the
#: ``match`` key (``mls``, ``zip``, ``city``, ``office``), or ``lead.office`` for the lead's
#: office; ``value`` what the filter used (the lead's value, the ids, the ``where``'s text;
#: ``None``: the lead has no value); ``excluded`` how many agents (offices) of the brokerage
#: it leaves out — for ``where``, how many candidates did not match it for this lead.
Filter = tuple[str, str, str | None, int]

_MATCH_PHRASES = {"mls": "not in MLS {}", "zip": "ZIP {} not declared",
                  "city": "city {} not declared", "office": "not in office {}"}


def _shown(value: str | None) -> str:
    return "(none)" if value is None else value


def _plural(noun: str, value: str | None) -> str:
    return f"{noun}s" if value is not None and ", " in value else noun


def filter_phrase(kind: str, key: str, value: str | None, noun: str = "agents") -> str:
    """How the trace says why a filter left someone out: 'not in MLS CMLS',
    'ZIP 28202 not declared', 'not in team t1', 'not tagged spanish', 'not a member'."""
    if kind == "where":
        return f"not matching the pool's condition `{value}`"
    if kind == "members":
        return "not a member"
    if kind == "match" and value is None:
        return f"the lead has no {key}"
    if kind == "match":
        if noun == "offices" and key == "city":
            return f"not in or specialising in city {value}"
        return _MATCH_PHRASES.get(key, "{} " + f"not declared for {key}").format(value)
    if kind == "office" and key == "lead.office":
        return f"not in the lead's office {_shown(value)}"
    if kind == "tag":
        return f"not tagged {value}"
    return f"not in {_plural(kind, value)} {value}"


class _Sources:
    """Candidate lists for one pool: index entries (with cached sets) and ad-hoc lists."""

    def __init__(self, world: World) -> None:
        self.world = world
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


def lead_values(ctx: Context, pool: Pool) -> tuple[str | None, ...]:
    """What the pool's membership depends on for this lead: the lead's office (when the pool
    names ``lead.office``) and the value of each ``match`` expression, as text."""
    office = ctx.lead.office if "lead.office" in pool.offices else None
    values = [key_text(ctx.evaluate(expression)) for _, expression in pool.match]
    return (office, *values)


def rotation_key(pool: Pool, values: tuple[str | None, ...]) -> str:
    """A pool's rotation key: its name, plus the lead values its membership depends on."""
    parts = [pool.name]
    if "lead.office" in pool.offices:
        parts.append(f"office={values[0]}")
    parts.extend(f"{key}={value}" for (key, _), value in zip(pool.match, values[1:],
                                                             strict=True))
    return "|".join(parts)


def agent_candidates(world: World, pool: Pool, values: tuple[str | None, ...]) -> list[str]:
    """The pool's candidate agents in a stable order (the admin's member order first)."""
    sources = _Sources(world)
    if pool.offices:
        names = [values[0] or "" if o == "lead.office" else o for o in pool.offices]
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
    for (key, _), value in zip(pool.match, values[1:], strict=True):
        if value is None:
            return []
        sources.index(key, value.lower() if key == "city" else value)
    if pool.members is not None:
        # a team of the members stands for its agents here (rulekit.pipeline.teams gives
        # it one turn of the rotation)
        members = world.member_agents(pool.members)
        if not sources.lists:
            return members
        others = [make() for _, make in sources.lists]
        return [m for m in members if all(m in o for o in others)]
    if not sources.lists:
        return list(world.agents)
    return sources.intersection(())


@dataclass(frozen=True, slots=True)
class Candidates:
    """A pool's candidates for some lead values, split by what the world alone decides (the
    paused flag).  Computed once per world, pool and values (:meth:`World.memo`)."""

    pool: Pool
    order: tuple[str, ...]
    paused: tuple[str, ...]  # candidates who are paused
    active: tuple[str, ...]  # the others, in order

    @classmethod
    def of(cls, world: World, pool: Pool, values: tuple[str | None, ...]) -> Candidates:
        order = tuple(agent_candidates(world, pool, values))
        paused = world.paused
        return cls(pool, order, tuple(a for a in order if a in paused),
                   tuple(a for a in order if a not in paused))


def candidates(ctx: Context, pool: Pool) -> tuple[Candidates, tuple[str | None, ...]]:
    """The pool's candidates for this lead, and the lead values they depend on."""
    values = lead_values(ctx, pool)
    world = ctx.world
    # keyed by the pool's id: the entry holds the pool, so no other object can take that id
    # while the entry lives
    found: Candidates = world.memo(("agents", id(pool), values),
                                   lambda: Candidates.of(world, pool, values))
    return found, values


def pool_filters(world: World, pool: Pool, values: tuple[str | None, ...]) -> tuple[Filter, ...]:
    """The pool's filters of agents for these lead values, each with how many agents of the
    brokerage it leaves out (the ``where`` with 0: what it excludes depends on the lead and
    the time, see :meth:`PoolResult.data`).  Index sizes only; once per world, pool and
    values (:meth:`World.memo`)."""
    def make() -> tuple[Filter, ...]:
        total = len(world.agents)
        found: list[Filter] = []
        if pool.members is not None:
            members = world.member_agents(pool.members)
            found.append(("members", "", ", ".join(pool.members), total - len(members)))
        if pool.offices:
            names = [values[0] if o == "lead.office" else o for o in pool.offices]
            key = "lead.office" if "lead.office" in pool.offices else ""
            shown = ", ".join(_shown(n) for n in names)
            inside = _union(world.by_office, [n for n in names if n is not None])
            found.append(("office", key, shown if len(names) > 1 or names[0] is not None
                          else None, total - len(inside)))
        if pool.teams:
            found.append(("team", "", ", ".join(pool.teams),
                          total - len(_union(world.by_team, pool.teams))))
        for tag in pool.tags:
            found.append(("tag", "", tag, total - len(world.by_tag.get(tag, ()))))
        for (key, _), value in zip(pool.match, values[1:], strict=True):
            size = 0 if value is None else len(
                world.index(key).get(value.lower() if key == "city" else value, ()))
            found.append(("match", key, value, total - size))
        if pool.where is not None:
            found.append(("where", "", pool.where.text, 0))
        return tuple(found)
    filters: tuple[Filter, ...] = world.memo(("filters", id(pool), values), make)
    return filters


def office_filters(world: World, pool: Pool, values: Sequence[str | None]) -> tuple[Filter, ...]:
    """The filters of an office pool: its members, each ``match`` key with the lead's value
    (``values``, in the order of ``pool.match``; up to the first ``None`` when the lead has
    no value for it), its ``where``; each with how many offices of the brokerage it leaves
    out."""
    total = len(world.offices)
    found: list[Filter] = []
    if pool.members is not None:
        inside = {m for m in pool.members if m in world.offices}
        found.append(("members", "", ", ".join(pool.members), total - len(inside)))
    for (key, _), value in zip(pool.match, values, strict=False):
        if value is None:
            size = 0
        elif key == "city":
            size = len(world.offices_by_city.get(value.lower(), ()))
        else:  # an office pool's candidates depend on the city alone
            size = total
        found.append(("match", key, value, total - size))
    if pool.where is not None:
        found.append(("where", "", pool.where.text, 0))
    return tuple(found)


def _on_duty(ctx: Context, pool: Pool, agent_id: str) -> bool:
    """Whether the agent is on duty by the pool's calendar: a named one, the agent's own
    (``agent``; none: always), or the one a calendar choice gives for the lead."""
    if pool.calendar is None:
        return True
    calendar = ctx.business_calendar(pool.calendar, agent_id)
    return calendar is None or calendar.is_open(ctx.now)


def resolve_agents(ctx: Context, pool: Pool, *, offered: Sequence[str] = ()) -> PoolResult:
    """The pool's agents for this lead now, with exclusions counted per reason."""
    found, values = candidates(ctx, pool)
    order = list(found.order)
    world = ctx.world
    result = PoolResult(pool.name, order, [], filters=pool_filters(world, pool, values),
                        left_out=len(world.agents) - len(order))
    if pool.match or "lead.office" in pool.offices:
        result.key = rotation_key(pool, values)
    exclude = pool.exclude
    if pool.where is None and "at_capacity" not in exclude and (
            "off_duty" not in exclude or pool.calendar is None):
        return _simple_exclusions(result, found, exclude, offered)
    paused = "paused" in exclude
    offered_set = set(offered) if "already_offered" in exclude else ()
    off_duty = "off_duty" in exclude and pool.calendar is not None
    capacity = "at_capacity" in exclude
    agents = ctx.world.agents
    where = pool.where
    needs_load = where is not None and "agent.load" in where.fields
    eligible = result.eligible
    excluded = result.excluded
    first: EvaluationError | None = None  # the where's first failure, and how many
    failures = 0
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
        elif where is not None:
            try:
                matched = ctx.evaluate(where, agent,
                                       ctx.facts.load(agent_id) if needs_load else 0)
            except EvaluationError as error:
                first = first or error
                failures += 1
                matched = False
            if matched:
                eligible.append(agent_id)
                continue
            reason = "where"
        else:
            eligible.append(agent_id)
            continue
        excluded.setdefault(reason, []).append(agent_id)
    if first is not None:
        _unevaluable(ctx, pool, first, failures, "agent")
    return result


def _unevaluable(ctx: Context, pool: Pool, first: EvaluationError, count: int,
                 noun: str) -> None:
    """One trace line for a ``where`` that could not be evaluated on some candidates (the
    first failure's reason, and how many candidates it failed on)."""
    ctx.unevaluable(f"Pool '{pool.name}'", first, "pool", pool.location,
                    f" (on {count} {noun}{'' if count == 1 else 's'})",
                    {"pool": pool.name, "failed": count})


def _simple_exclusions(result: PoolResult, found: Candidates, exclude: Sequence[str],
                       offered: Sequence[str]) -> PoolResult:
    """Only paused / already offered apply: the world's split, then the lead's offers."""
    base = found.order
    if "paused" in exclude:
        base = found.active
        if found.paused:
            result.excluded["paused"] = list(found.paused)
    offered_set = set(offered) if offered and "already_offered" in exclude else None
    if offered_set:
        gone = [a for a in base if a in offered_set]
        if gone:
            result.excluded["already_offered"] = gone
            result.eligible = [a for a in base if a not in offered_set]
            return result
    result.eligible = list(base)
    return result


def resolve_offices(ctx: Context, pool: Pool) -> PoolResult:
    world = ctx.world
    sources = _Sources(world)
    if pool.members is not None:
        sources.plain([m for m in pool.members if m in world.offices])
    values: list[str | None] = []
    for _, expression in pool.match:  # up to the first the lead has no value for
        values.append(key_text(ctx.evaluate(expression)))
        if values[-1] is None:
            filters = office_filters(world, pool, values)
            return PoolResult(pool.name, [], [], filters=filters, left_out=len(world.offices))
    filters = office_filters(world, pool, values)
    for (key, _), value in zip(pool.match, values, strict=True):
        if key == "city" and value is not None:
            sources.plain(world.offices_by_city.get(value.lower(), ()))
    order = sources.intersection(()) if sources.lists else list(world.offices)
    result = PoolResult(pool.name, order, [], filters=filters,
                        left_out=len(world.offices) - len(order))
    first: EvaluationError | None = None  # the where's first failure, and how many
    failures = 0
    for office_id in order:
        office = world.offices[office_id]
        matched = not pool.tags or set(pool.tags) <= set(office.tags)
        if matched and pool.where is not None:
            try:
                matched = bool(ctx.evaluate_office(pool.where, office,
                                                   world.office_sizes.get(office_id, 0)))
            except EvaluationError as error:
                first = first or error
                failures += 1
                matched = False
        if matched:
            result.eligible.append(office_id)
        else:
            result.excluded.setdefault("where", []).append(office_id)
    if first is not None:
        _unevaluable(ctx, pool, first, failures, "office")
    return result
