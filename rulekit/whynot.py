""""Why not me?": where one agent dropped out of a lead's routing, read from its decisions.

The stored traces of a lead say, for every pool a step consulted, who its candidates were
(``order``), who was eligible, who was skipped and why, and the pool's filters with the values
they used; then who was picked and how, the offers, the answers and the assignment.  For one
agent, :func:`why_not` walks them in order and keeps what happened to that agent: not in the
pool at all (and which filter left them out: not in the MLS, ZIP not declared, not in the
office, team or tag, not a member), paused, off duty, at capacity, already offered, not
matching the pool's condition, eligible but another agent picked (the round robin's turn, the
draw), offered and then accepted, declined, let expire, or beaten to it by another agent —
or that they got the lead.  The agent's attributes come from the world (the store's active
one, see :func:`explain_agent`), so a filter can be named for an agent outside the pool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from rulekit.model import Agent
from rulekit.pipeline.pools import REASON_TEXT, Filter, filter_phrase
from rulekit.storage.base import StoredOffer
from rulekit.suggest import did_you_mean
from rulekit.trace import Trace, local_time
from rulekit.world import World


class UnknownAgent(LookupError):
    """The agent asked about is not an agent of the world (nor named by the lead's traces)."""


@dataclass(frozen=True, slots=True)
class Moment:
    """One thing that happened to the agent in one decision.

    ``kind``: ``not_in_pool``, ``excluded``, ``passed_over`` (eligible, another agent picked),
    ``not_picked`` (eligible, nobody picked), ``picked``, ``offered``, ``accepted``,
    ``declined``, ``expired``, ``beaten`` (another agent accepted first), ``assigned``,
    ``reassigned_away``.  ``reason``: the filter kinds, the exclusion reason or the pick's
    strategy; ``detail``: plain values (the pool, the filters and values, who was chosen)."""

    at: datetime
    kind: str
    text: str
    pool: str | None = None
    reason: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind, "pool": self.pool,
                "reason": self.reason, "detail": _plain(self.detail), "text": self.text}


@dataclass(frozen=True, slots=True)
class WhyNot:
    """The answer for one agent and one lead: the verdict (the kind of the moment that
    decided it, ``got_lead``, or ``never_considered``), a one-line summary, and the moments in
    order."""

    lead_id: str
    agent_id: str
    agent_name: str
    verdict: str
    summary: str
    moments: tuple[Moment, ...]

    def lines(self, zone: tzinfo = UTC) -> list[str]:
        """Plain English: a heading, each moment with its time in ``zone``, the summary."""
        who = _who(self.agent_name, self.agent_id)
        out = [f"Why not {who} for lead {self.lead_id}?", ""]
        out += [f"{local_time(m.at, zone)} — {m.text}" for m in self.moments]
        if self.moments:
            out.append("")
        out.append(f"In short: {self.summary}")
        return out

    def render(self, zone: tzinfo = UTC) -> str:
        return "\n".join(self.lines(zone))

    def to_json(self) -> dict[str, Any]:
        return {"lead": self.lead_id, "agent": self.agent_id, "name": self.agent_name,
                "verdict": self.verdict, "summary": self.summary,
                "moments": [m.to_json() for m in self.moments]}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _who(name: str, agent_id: str) -> str:
    return f"{name} ({agent_id})" if name and name != agent_id else agent_id


# -- which filter left an agent out ----------------------------------------------------------
def _members(world: World | None, value: str | None) -> set[str]:
    ids = (value or "").split(", ") if value else []
    if world is None:
        return set(ids)
    return set(world.member_agents(ids))


def _in_teams(world: World | None, agent: Agent, teams: Sequence[str]) -> bool:
    if any(t in agent.teams for t in teams):
        return True
    return world is not None and any(agent.id in world.by_team.get(t, ()) for t in teams)


def _theirs(label: str, values: Sequence[str]) -> str:
    """' (their MLS: TMLS)', or ' (they have no MLS)'."""
    return f" (their {label}: {', '.join(values)})" if values else f" (they have no {label})"


def left_out_by(filter_: Filter, agent: Agent, world: World | None = None) -> str | None:
    """Why ``filter_`` (a pool filter of a trace) leaves ``agent`` out, in plain English with
    the agent's own values; ``None`` when the agent passes it.  ``where`` filters apply to
    candidates only (their verdict is in the pool's exclusions): ``None`` here."""
    kind, key, value, _ = filter_
    phrase = filter_phrase(kind, key, value)
    if kind == "where":
        return None
    if kind == "members":
        return None if agent.id in _members(world, value) else phrase
    if value is None:
        return phrase
    listed = value.split(", ")
    if kind == "office" or (kind == "match" and key == "office"):
        inside = any(o in agent.offices for o in listed)
        return None if inside else phrase + _theirs("offices", agent.offices)
    if kind == "team":
        return None if _in_teams(world, agent, listed) else phrase
    if kind == "tag":
        return None if value in agent.tags else phrase
    if kind == "match" and key == "mls":
        return None if value in agent.mls else phrase + _theirs("MLS", agent.mls)
    if kind == "match" and key == "zip":
        return None if value in agent.zips else phrase + _theirs("ZIP codes", agent.zips)
    if kind == "match" and key == "city":
        inside = value.lower() in {c.lower() for c in agent.cities}
        return None if inside else phrase + _theirs("cities", agent.cities)
    return None


# -- walking the decisions --------------------------------------------------------------------
@dataclass
class _Walk:
    agent_id: str
    name: str
    world: World | None
    offers: Mapping[str, StoredOffer]
    moments: list[Moment] = field(default_factory=list)
    open_offers: dict[str, str] = field(default_factory=dict)  # offer id → mode
    assigned: bool = False

    def add(self, at: datetime, kind: str, text: str, pool: str | None = None,
            reason: str | None = None, **detail: Any) -> None:
        self.moments.append(Moment(at, kind, text, pool, reason, detail))

    def name_of(self, agent_id: str) -> str:
        if self.world is None:
            return agent_id
        return _who(self.world.agent_name(agent_id), agent_id)

    # a pool entry, and what came of it for the agent
    def pool(self, at: datetime, data: Mapping[str, Any],
             following: Sequence[tuple[str, Mapping[str, Any] | None, str]]) -> None:
        name = str(data.get("pool", ""))
        filters = _filters(data)
        me = self.name
        if self.agent_id not in tuple(data.get("order") or ()):
            self._outside(at, name, filters, data)
            return
        skipped = dict(data.get("skipped") or ())
        if self.agent_id in skipped:
            reason = str(skipped[self.agent_id])
            said = REASON_TEXT.get(reason, reason)
            if reason == "where":
                condition = next((v for k, _, v, _ in filters if k == "where"), None)
                said = (filter_phrase("where", "", condition) if condition
                        else "not matching the pool's condition")
            self.add(at, "excluded", f"{me} was a candidate of pool '{name}' but was left "
                     f"out: {said}.", name, reason)
            return
        self._eligible(at, name, data, following)

    def _outside(self, at: datetime, name: str, filters: tuple[Filter, ...],
                 data: Mapping[str, Any]) -> None:
        me = self.name
        agent = self.world.agents.get(self.agent_id) if self.world is not None else None
        failed = ([(f, r) for f in filters if (r := left_out_by(f, agent, self.world))]
                  if agent is not None else [])
        reasons = [r for _, r in failed]
        kinds = [f[1] if f[0] == "match" else f[0] for f, _ in failed]
        values = {f"{f[1] or f[0]}": f[2] for f in filters if f[0] != "where"}
        if reasons:
            text = (f"{me} was not in pool '{name}' at all: " + "; ".join(reasons) + ".")
        elif agent is None:
            text = (f"{me} was not in pool '{name}' at all (the world does not say why: "
                    "they are not one of its agents now).")
        elif "filters" not in data:
            text = (f"{me} was not in pool '{name}' at all (this decision was recorded "
                    "before traces listed a pool's filters).")
        else:
            text = (f"{me} was not in pool '{name}' at all (they pass its filters now: the "
                    "world may have changed since).")
        self.add(at, "not_in_pool", text, name, ", ".join(kinds) or None, filters=values,
                 candidates=data.get("candidates"))

    def _eligible(self, at: datetime, name: str, data: Mapping[str, Any],
                  following: Sequence[tuple[str, Mapping[str, Any] | None, str]]) -> None:
        me = self.name
        count = data.get("eligible")
        for kind, entry, text in following:
            if kind == "pool":
                break
            if kind == "pick" and entry is not None:
                chosen = str(entry.get("chosen", ""))
                if chosen == self.agent_id:
                    how = text.removeprefix(f"Picked {me}").rstrip(".")
                    self.add(at, "picked", f"{me} was eligible in pool '{name}' and was "
                             f"picked{how}.", name, str(entry.get("strategy")))
                else:
                    self._passed_over(at, name, entry, chosen, count)
                return
            if kind == "offer" and entry is not None:
                return  # a broadcast or qualification to everyone eligible: the offer says
        self.add(at, "not_picked", f"{me} was eligible in pool '{name}' ({count} eligible), "
                 "but the step picked nobody from it.", name)

    def _passed_over(self, at: datetime, name: str, pick: Mapping[str, Any], chosen: str,
                     count: Any) -> None:
        me, other = self.name, self.name_of(chosen)
        strategy = str(pick.get("strategy", ""))
        if pick.get("team") and pick.get("team") != chosen:
            how = f"team {pick['team']} took the turn and gave it to {other}"
        elif strategy == "round_robin":
            after = pick.get("cursor")
            how = (f"the round robin chose {other}, next after "
                   f"{self.name_of(str(after)) if after else 'the start'}: their turn had "
                   "not come")
        elif strategy == "random":
            how = (f"the random draw chose {other} (draw {pick.get('draw')} of "
                   f"{pick.get('of')}); they were one of the {pick.get('of')}")
        elif strategy == "weighted":
            weights = dict(pick.get("weights") or ())
            total = float(pick.get("total") or 0) or 1.0
            mine = float(weights.get(self.agent_id, 0))
            how = f"the weighted draw chose {other}; they had a {mine / total:.0%} chance"
        elif strategy == "least_recently_offered":
            how = f"{other} had been offered a lead less recently"
        else:
            how = f"{other} was picked ({strategy or 'by the step'})"
        self.add(at, "passed_over", f"{me} was eligible in pool '{name}' ({count} eligible), "
                 f"but {how}.", name, strategy or None, chosen=chosen)

    # an office pool: the agent's offices, and whether one of them was picked
    def office_pool(self, at: datetime, data: Mapping[str, Any],
                    following: Sequence[tuple[str, Mapping[str, Any] | None, str]]) -> None:
        agent = self.world.agents.get(self.agent_id) if self.world is not None else None
        mine = tuple(agent.offices) if agent is not None else ()
        if not mine:
            return
        name, order = str(data.get("pool", "")), tuple(data.get("order") or ())
        theirs = ", ".join(mine)
        inside = [o for o in mine if o in order]
        values = ", ".join(f"{key} = {value}" for kind, key, value, _ in _filters(data)
                           if kind == "match")
        if not inside:
            self.add(at, "office_not_in_pool", f"No office of {self.name} ({theirs}) was a "
                     f"candidate of office pool '{name}'" + (f" ({values})" if values else "")
                     + ".", name, offices=list(mine))
            return
        skipped = dict(data.get("skipped") or ())
        eligible = [o for o in inside if o not in skipped]
        if not eligible:
            said = "; ".join(f"{o} {REASON_TEXT.get(str(skipped[o]), skipped[o])}"
                             for o in inside)
            self.add(at, "office_excluded", f"The office of {self.name} was left out of office "
                     f"pool '{name}': {said}.", name, offices=inside)
            return
        pick = next((entry for kind, entry, _ in following if kind == "pick" and entry), None)
        if pick is None:
            return
        chosen = str(pick.get("chosen", ""))
        if chosen in eligible:
            self.add(at, "office_picked", f"The office of {self.name}, {chosen}, was picked "
                     f"from office pool '{name}'.", name, office=chosen)
            return
        weights = dict(pick.get("weights") or ())
        total = float(pick.get("total") or 0) or 1.0
        chance = sum(float(weights.get(o, 0)) for o in eligible) / total
        how = (f"the weighted draw chose office {chosen}; {', '.join(eligible)} had a "
               f"{chance:.0%} chance" if pick.get("strategy") == "weighted"
               else f"office {chosen} was picked ({pick.get('strategy')})")
        self.add(at, "office_passed_over", f"The office of {self.name} ({', '.join(eligible)}) "
                 f"was eligible in office pool '{name}', but {how}.", name,
                 str(pick.get("strategy")), chosen=chosen)

    def offer(self, at: datetime, data: Mapping[str, Any]) -> None:
        agents = tuple(data.get("agents") or ())
        if self.agent_id not in agents:
            return
        offer_id = str(data.get("offer"))
        mode = str(data.get("mode", "single"))
        self.open_offers[offer_id] = mode
        what = {"broadcast": f"a broadcast to {len(agents)} agents",
                "qualify": "a qualification request"}.get(mode, "the offer")
        self.add(at, "offered", f"{self.name} was sent {what} ({offer_id}).",
                 reason=mode, offer=offer_id)

    def answer(self, at: datetime, data: Mapping[str, Any]) -> None:
        offer_id = str(data.get("offer"))
        agent = str(data.get("agent"))
        if offer_id not in self.open_offers:
            return
        if agent == self.agent_id:
            if data.get("answer") == "decline":
                self.add(at, "declined", f"{self.name} declined offer {offer_id}.",
                         offer=offer_id)
                self.open_offers.pop(offer_id, None)
            return
        if data.get("answer") == "accept" and self.open_offers[offer_id] != "single":
            self.open_offers.pop(offer_id)
            self.add(at, "beaten", f"{self.name_of(agent)} accepted offer {offer_id} first; "
                     f"{self.name} was too late.", reason="another_accepted", offer=offer_id,
                     winner=agent)

    def expiry(self, at: datetime) -> None:
        for offer_id in list(self.open_offers):
            stored = self.offers.get(offer_id)
            if stored is not None and stored.status != "expired":
                continue
            self.open_offers.pop(offer_id)
            self.add(at, "expired", f"Offer {offer_id} to {self.name} expired with no answer.",
                     offer=offer_id)

    def assignment(self, at: datetime, data: Mapping[str, Any]) -> None:
        agent = str(data.get("agent"))
        how = str(data.get("how", "assigned"))
        if agent == self.agent_id:
            self.assigned = True
            kind = "accepted" if self.open_offers and how != "assigned" else "assigned"
            self.open_offers.clear()
            self.add(at, kind, f"{self.name} got the lead: {how}.", reason=how)
            return
        if self.assigned:
            self.assigned = False
            self.add(at, "reassigned_away", f"The lead then went to {self.name_of(agent)} "
                     f"({how}).", reason=how, agent=agent)
            return
        for offer_id in list(self.open_offers):
            self.open_offers.pop(offer_id)
            self.add(at, "beaten", f"{self.name_of(agent)} got the lead first ({how}) while "
                     f"offer {offer_id} to {self.name} was open.", reason="another_accepted",
                     offer=offer_id, winner=agent)


def _filters(data: Mapping[str, Any]) -> tuple[Filter, ...]:
    """A pool entry's filters (none in traces written before pools listed them)."""
    return tuple((str(kind), str(key), None if value is None else str(value), int(count))
                 for kind, key, value, count in data.get("filters") or ())


def _entries(trace: Trace) -> list[tuple[str, Mapping[str, Any] | None, str]]:
    return [(e.kind, e.data, e.text) for e in trace.entries]


def why_not(lead_id: str, traces: Sequence[Trace], agent_id: str, world: World | None = None,
            offers: Sequence[StoredOffer] = ()) -> WhyNot:
    """Where ``agent_id`` dropped out of the routing of the lead whose decisions are
    ``traces`` (in order); ``world`` gives the agent's name and attributes (to say which
    filter left them out of a pool), ``offers`` the lead's stored offers (how each ended).
    :class:`UnknownAgent` when the world has no such agent and no trace names them."""
    named = any(agent_id in tuple((e.data or {}).get("order") or ())
                for t in traces for e in t.entries if e.kind == "pool")
    if world is not None and agent_id not in world.agents and not named:
        hint = did_you_mean(agent_id, world.agents)
        raise UnknownAgent(f"no agent {agent_id!r} in world {world.name!r}"
                           + (f"; {hint}" if hint else ""))
    if world is None and not named:
        raise UnknownAgent(f"agent {agent_id!r} is named by no decision of lead {lead_id}, "
                           "and the store keeps no world to look them up in")
    display = world.agent_name(agent_id) if world is not None else agent_id
    walk = _Walk(agent_id, _who(display, agent_id), world,
                 {o.offer_id: o for o in offers})
    for trace in traces:
        entries = _entries(trace)
        for index, (kind, data, text) in enumerate(entries):
            if data is None:
                if kind == "timer" and "deadline passed" in text:
                    walk.expiry(trace.at)
                continue
            if kind == "pool" and data.get("of", "agents") == "agents" and "order" in data:
                walk.pool(trace.at, data, entries[index + 1:])
            elif kind == "pool" and data.get("of") == "offices" and "order" in data:
                walk.office_pool(trace.at, data, entries[index + 1:])
            elif kind == "offer":
                walk.offer(trace.at, data)
            elif kind == "event" and "answer" in data:
                walk.answer(trace.at, data)
            elif kind == "effect" and "how" in data:
                walk.assignment(trace.at, data)
    moments = tuple(walk.moments)
    verdict, summary = _verdict(walk, moments, traces)
    return WhyNot(lead_id, agent_id, display, verdict, summary, moments)


def _verdict(walk: _Walk, moments: Sequence[Moment],
             traces: Sequence[Trace]) -> tuple[str, str]:
    if walk.assigned:
        return "got_lead", f"{walk.name} got the lead."
    if walk.open_offers:
        return "offer_open", (f"{walk.name} has an open offer of the lead "
                              f"({', '.join(walk.open_offers)}): it is theirs to answer.")
    decisive = [m for m in moments if m.kind not in {"offered", "picked", "office_picked"}]
    # "already offered" says less than how that offer ended
    answered = [m for m in decisive if m.reason != "already_offered"]
    decisive = answered or decisive
    if decisive:
        last = decisive[-1]
        office = next((m for m in reversed(decisive) if m.kind.startswith("office_")), None)
        if office is not None and office is not last and last.kind == "not_in_pool":
            # left out of the agents of the office the lead went to: the office is the reason
            return office.kind, f"{office.text} Then: {last.text}"
        return last.kind, last.text
    if moments:
        return moments[-1].kind, moments[-1].text
    went = [e.text for t in traces for e in t.entries if e.kind == "effect"]
    where = f" ({went[-1].rstrip('.')})" if went else ""
    return ("never_considered", f"No pool of agents was consulted for this lead{where}; "
            f"{walk.name} was never considered.")


def explain_agent(store: Any, lead_id: str, agent_id: str,
                  world: World | None = None) -> WhyNot:
    """:func:`why_not` for a stored lead: its traces and offers from ``store``, the world given
    or else the store's active one (``None`` for a store that keeps none).  ``LookupError``
    for a lead the store does not have."""
    if store.get_lead(lead_id) is None:
        raise LookupError(f"no lead {lead_id!r}")
    if world is None:
        from rulekit.storage.catalog import active_world
        world = active_world(store)
    return why_not(lead_id, store.traces(lead_id), agent_id, world, store.offers(lead_id))
