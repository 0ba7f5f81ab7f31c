"""How a step picks one agent (or office) from the eligible ones: a registry by name.

Every strategy is deterministic given the decision's seeded random generator and the facts,
and says in the trace what it drew: the seed's draw, the weights, or the round-robin cursor.

Round robin keeps one persistent cursor per pool — per pool *and* per value of what the pool's
membership depends on (``match`` values, ``lead.office``), so the agents of each office or ZIP
code rotate among themselves.  The members stand in a ring ordered by agent id; the cursor is
the last agent served, and the next lead goes to the first eligible agent after it on the ring.
Because the ring order does not depend on who is in the pool, the rotation stays fair when an
admin edits it: an agent added to the pool takes their place on the ring (served in this
round if their place is still ahead); when the cursor's agent is removed the next agent after
it is next; agents who are skipped (paused, at capacity, off duty) lose that turn rather than
catching up later.  So every agent present and eligible all along is served once per turn of
the ring: after N leads among k such agents each has ⌊N/k⌋ or ⌈N/k⌉.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rulekit.pipeline.context import Context
from rulekit.pipeline.effects import AdvanceRotation
from rulekit.pipeline.pools import PoolResult


@dataclass(frozen=True, slots=True)
class Pick:
    chosen: str
    text: str
    data: dict[str, Any]


Strategy = Callable[[Context, PoolResult, Sequence[float] | None], Pick]


def pick_random(ctx: Context, pool: PoolResult, _weights: Sequence[float] | None) -> Pick:
    """A seeded draw among the eligible; ``draw`` counts from 1 in the text and the JSON alike
    (traces written before this kept it from 0)."""
    index = ctx.rng.randrange(len(pool.eligible))
    chosen = pool.eligible[index]
    return Pick(chosen, f"Picked {ctx.agent_name(chosen)} at random "
                f"(draw {index + 1} of {len(pool.eligible)}, seed {ctx.state.seed})",
                {"strategy": "random", "chosen": chosen, "draw": index + 1,
                 "of": len(pool.eligible)})


def pick_weighted(ctx: Context, pool: PoolResult, weights: Sequence[float] | None) -> Pick:
    assert weights is not None
    total = float(sum(weights))
    if total <= 0:
        return pick_random(ctx, pool, None)
    point = ctx.rng.random() * total
    running = 0.0
    chosen = pool.eligible[-1]
    for candidate, weight in zip(pool.eligible, weights, strict=True):
        running += weight
        if point < running:
            chosen = candidate
            break
    share = weights[pool.eligible.index(chosen)] / total
    return Pick(chosen, f"Picked {ctx.agent_name(chosen)} by weight ({share:.0%} chance; "
                f"draw {point:.2f} of {total:g}, seed {ctx.state.seed})",
                {"strategy": "weighted", "chosen": chosen, "draw": point, "total": total,
                 "weights": tuple(zip(pool.eligible, weights, strict=True))})


def next_on_ring(ctx: Context, key: str, order: Sequence[str],
                 eligible: Sequence[str]) -> AdvanceRotation | None:
    """The next eligible member after the cursor of rotation ``key`` on the ring of ``order``
    (sorted by id), as the cursor's move; ``None`` when no member is eligible.  The move is
    not added to the decision's effects: the caller adds it when it takes that turn."""
    last, _ = ctx.facts.rotation(key)
    ring = sorted(order)
    allowed = set(eligible)
    begin = 0 if last is None else bisect.bisect_right(ring, last)
    count = len(ring)
    for step in range(count):
        position = (begin + step) % count
        candidate = ring[position]
        if candidate in allowed:
            return AdvanceRotation(key, candidate, position, last)
    return None


def member_name(ctx: Context, member: str) -> str:
    """How a trace names a member of a rotation: an agent by name, a team as 'team NAME'."""
    if ctx.world.is_team(member):
        team = ctx.world.teams.get(member)
        return f"team {team.name if team is not None and team.name else member} ({member})"
    return ctx.agent_name(member)


def pick_round_robin(ctx: Context, pool: PoolResult, _weights: Sequence[float] | None) -> Pick:
    move = next_on_ring(ctx, pool.key, pool.order, pool.eligible)
    if move is None:
        raise AssertionError("round robin over an empty pool")
    ctx.effects.append(move)
    candidate, last = move.agent, move.previous
    return Pick(candidate, f"Picked {member_name(ctx, candidate)}, next in the "
                f"rotation of '{pool.name}' after {last or 'the start'}",
                {"strategy": "round_robin", "chosen": candidate, "cursor": last,
                 "rotation": pool.key})


def pick_least_recent(ctx: Context, pool: PoolResult, _weights: Sequence[float] | None) -> Pick:
    floor = datetime.min.replace(tzinfo=ctx.now.tzinfo)
    best = min(pool.eligible,
               key=lambda a: (ctx.facts.last_offered(a) or floor, pool.eligible.index(a)))
    when = ctx.facts.last_offered(best)
    return Pick(best, f"Picked {ctx.agent_name(best)}, offered a lead least recently "
                f"({when.isoformat() if when else 'never'})",
                {"strategy": "least_recently_offered", "chosen": best,
                 "last_offered": when.isoformat() if when else None})


STRATEGIES: dict[str, Strategy] = {
    "random": pick_random,
    "weighted": pick_weighted,
    "round_robin": pick_round_robin,
    "least_recently_offered": pick_least_recent,
}
