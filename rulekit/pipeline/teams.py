"""Teams in a rotation: a team id among a pool's ``members`` takes one turn as a whole.

An agents pool resolves its candidates with each listed team standing for its agents (the
team's ``members`` and the agents whose ``teams`` name it), so every exclusion of the pool —
paused, already offered, off duty, at capacity, its ``where`` — applies to each member of the
team as to any agent.  A step that picks one agent (``round_robin``, ``offer_sequence``,
``qualify`` by round robin) then picks among the pool's *members*: each listed agent, and each
listed team as one member.  The round-robin ring holds the team's id once, so over N leads
each of k members, agents and teams alike, gets ⌊N/k⌋ or ⌈N/k⌉ turns; a draw (random,
weighted, least recently offered) gives a team one chance, as the agent its turn would go to
(whose weight it has).

When a team's turn comes, the pool's ``team_pick`` says who gets the lead:

* ``rotate`` (the default): the next eligible member of the team in the team's own rotation —
  a round robin like the pool's, with its own cursor under the key
  ``<the pool's rotation key>|team=<team id>``;
* ``lead``: the team's lead agent (the team's ``lead:`` in the world).

A team with nobody for its turn — every member excluded, none a candidate of the pool, or (for
``lead``) its lead excluded — is skipped like an excluded agent, and the trace says why.  A
broadcast, or a qualification offered to everyone, reaches every eligible member of a team.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rulekit.pipeline.context import Context
from rulekit.pipeline.effects import AdvanceRotation
from rulekit.pipeline.pools import LISTED_PER_REASON, REASON_TEXT, PoolResult
from rulekit.pipeline.strategies import STRATEGIES, Pick, member_name, next_on_ring
from rulekit.ruleset import Pool, TeamPick
from rulekit.world import World

#: The reason a rotation's member that is a team was passed over (see :class:`Members`).
TEAM_UNAVAILABLE = "team_unavailable"


def is_team(world: World, member: str) -> bool:
    """Whether a pool member names a team of the world (an agent id wins over a team id)."""
    return world.is_team(member)


def team_key(pool_key: str, team: str) -> str:
    """The rotation key of a team's own rotation inside a pool's rotation."""
    return f"{pool_key}|team={team}"


@dataclass(frozen=True, slots=True)
class TeamTurn:
    """Who gets the lead when ``team`` takes the turn, and the move of the team's own
    rotation that giving it to them makes (``rotate``)."""

    team: str
    agent: str
    rule: TeamPick
    key: str
    move: AdvanceRotation | None = None
    #: the members the team's rotation passed over to reach ``agent``, with their reasons
    passed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Members:
    """The members of a rotation for one pick: the pool's listed agents and teams.

    ``slots`` holds the members' ids (agents and teams) in the list's order, the eligible ones,
    and per reason those passed over (a team with nobody for its turn: ``team_unavailable``);
    ``turns`` says who gets each eligible team's turn; ``skipped`` why each other team was
    passed over."""

    slots: PoolResult
    turns: Mapping[str, TeamTurn]
    skipped: tuple[tuple[str, str], ...]

    def draw(self) -> PoolResult:
        """The eligible members as the agents their turns go to: what a draw picks from."""
        eligible = [self.turns[m].agent if m in self.turns else m for m in self.slots.eligible]
        return PoolResult(self.slots.name, self.slots.order, eligible, key=self.slots.key)

    def settle(self, ctx: Context, pick: Pick, *, drawn: bool) -> Pick:
        """The pick made over the members, with a team's turn given to its agent: the team's
        rotation moves, and the pick's text and data say who in the team got it and why."""
        if drawn:
            if pick.chosen in self.slots.eligible:
                return pick  # a listed agent drawn for their own turn
            team = next((t for t, turn in self.turns.items() if turn.agent == pick.chosen), None)
        else:
            team = pick.chosen if pick.chosen in self.turns else None
        if team is None:
            return pick
        turn = self.turns[team]
        if turn.move is not None:
            ctx.effects.append(turn.move)
        agent = ctx.agent_name(turn.agent)
        if turn.rule == "lead":
            why = f"{agent}, the team's lead"
        else:
            previous = turn.move.previous if turn.move is not None else None
            why = (f"{agent}, next in the team's rotation after "
                   f"{previous or 'the start'}")
            if turn.passed:
                names = [a for a, _ in turn.passed]
                why += f" (passing over {_listed(names, ctx, dict(turn.passed))})"
        text = f"{pick.text}; {member_name(ctx, team)} took the turn: it goes to {why}"
        data = {**pick.data, "chosen": turn.agent, "member": team, "team": team,
                "team_pick": turn.rule}
        if turn.rule == "rotate":
            data["team_rotation"] = turn.key
            data["team_cursor"] = turn.move.previous if turn.move is not None else None
        return Pick(turn.agent, text, data)


def _listed(names: Sequence[str], ctx: Context, why: Mapping[str, str]) -> str:
    shown = [f"{ctx.agent_name(a)} {REASON_TEXT.get(why.get(a, ''), 'excluded')}"
             for a in names[:LISTED_PER_REASON]]
    more = f" and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return "; ".join(shown) + more


def team_turn(ctx: Context, pool: Pool, agents: PoolResult,
              team: str) -> tuple[TeamTurn | None, str]:
    """Who gets the turn of ``team`` in the pool's rotation now (``None``, and why not, when
    nobody can)."""
    world = ctx.world
    why = agents.reasons()
    eligible = set(agents.eligible)
    belong = world.member_set("team", team)
    here = [a for a in agents.order if a in belong]
    key = team_key(agents.key, team)
    if pool.team_pick == "lead":
        found = world.teams.get(team)
        lead = found.lead if found is not None else None
        if lead is None:
            return None, "it has no lead"
        if lead not in here:
            return None, f"its lead {ctx.agent_name(lead)} is not a candidate of the pool"
        if lead not in eligible:
            return None, (f"its lead {ctx.agent_name(lead)} is "
                          f"{REASON_TEXT.get(why.get(lead, ''), 'excluded')}")
        return TeamTurn(team, lead, "lead", key), ""
    if not here:
        return None, ("it has no members" if not belong
                      else "none of its members is a candidate of the pool")
    move = next_on_ring(ctx, key, here, [a for a in here if a in eligible])
    if move is None:
        return None, f"no eligible member ({_listed(sorted(here), ctx, why)})"
    ring = sorted(here)
    begin = 0 if move.previous is None else bisect.bisect_right(ring, move.previous)
    passed = []
    for step in range((move.index - begin) % len(ring)):
        member = ring[(begin + step) % len(ring)]
        passed.append((member, why.get(member, "already_offered")))
    return TeamTurn(team, move.agent, "rotate", key, move, tuple(passed)), ""


def rotation_members(ctx: Context, pool: Pool, agents: PoolResult) -> Members | None:
    """The rotation's members when the pool lists a team among its ``members`` (else
    ``None``: the pool's agents are its members), given the pool's agents for this lead."""
    world = ctx.world
    listed = pool.members
    if listed is None or not any(is_team(world, m) for m in listed):
        return None
    candidates = set(agents.order)
    eligible = set(agents.eligible)
    why = agents.reasons()
    slots = PoolResult(agents.name, [], [], key=agents.key)
    turns: dict[str, TeamTurn] = {}
    skipped: list[tuple[str, str]] = []
    for member in dict.fromkeys(listed):
        if is_team(world, member):
            turn, reason = team_turn(ctx, pool, agents, member)
            slots.order.append(member)
            if turn is not None:
                turns[member] = turn
                slots.eligible.append(member)
            else:
                skipped.append((member, reason))
                slots.excluded.setdefault(TEAM_UNAVAILABLE, []).append(member)
        elif member in candidates:
            slots.order.append(member)
            if member in eligible:
                slots.eligible.append(member)
            else:  # not among the eligible of a sequence: offered this lead already
                slots.excluded.setdefault(why.get(member, "already_offered"), []).append(member)
    return Members(slots, turns, tuple(skipped))


def pick_agent(ctx: Context, pool: Pool, agents: PoolResult, strategy: str,
               weights: Callable[[PoolResult], Sequence[float] | None] | None = None,
               ) -> Pick | None:
    """One agent picked from the pool's agents for this lead by ``strategy`` — among the
    rotation's members when the pool lists teams, a team's turn going to one of its agents
    (see the module's docstring); ``None`` when nobody is eligible.  ``weights`` gives the
    weights of a :class:`PoolResult`'s eligible agents, for a weighted draw."""
    members = rotation_members(ctx, pool, agents)
    over = agents if members is None else (
        members.slots if strategy == "round_robin" else members.draw())
    if members is not None:
        for team, reason in members.skipped:
            name = member_name(ctx, team)
            ctx.trace.add("detail", f"{name[0].upper()}{name[1:]} was passed over: {reason}.",
                          data={"team": team, "passed_over": reason})
    if not over.eligible:
        return None
    pick = STRATEGIES[strategy](ctx, over, weights(over) if weights is not None else None)
    if members is None:
        return pick
    settled = members.settle(ctx, pick, drawn=strategy != "round_robin")
    # the rotation's own members, for readers that judge it (a team counts once)
    slots = members.slots
    return Pick(settled.chosen, settled.text, {
        **settled.data, "member": settled.data.get("member", settled.chosen),
        "members": tuple(slots.order), "eligible_members": tuple(slots.eligible),
        "passed_over": tuple(members.skipped)})
