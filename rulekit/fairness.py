"""Whether each pool kept its promise, judged from the fairness ledger (:mod:`rulekit.ledger`).

The turns of a round robin's rotation are cut into *phases* of membership: a phase is a run of
consecutive turns that had the same candidate list, so an admin adding or removing a member
starts a new phase.  Each phase is judged on its own, by what the strategy promises; weighted
and random picks are judged over all their draws at once (each draw's chances count the options
it had)::

    from rulekit.fairness import rotations
    for rotation in rotations(ledger(store)):
        rotation.fair, [phase.verdict for phase in rotation.phases]

- **round robin**: an even share — among the phase's members who were eligible on every one of
  its turns, the most and the fewest turns differ by at most one.  Members skipped on some turn
  (paused, off duty, at capacity, already offered the lead) are listed with their skips and are
  not held against the rotation; members who got no turn at all are listed with 0.
- **weighted**: shares in proportion to the weights — each option's expected count is the sum,
  over the phase's draws, of its weight over the total weight of that draw's options, and its
  count must lie in the 99 % band of that sum (expected ± 2.576 standard deviations of the sum
  of the draws' Bernoulli chances).
- **random**: a fair draw among the eligible — the same band, with each draw's chance
  1 / (number eligible).

Other strategies (least recently offered) promise no share: their counts are listed, not judged.
Turns written before the trace kept the pool's membership have no members: their phase is judged
on the agents picked only, and says so.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rulekit.ledger import Turn, ledger, pick_weights, reason_text
from rulekit.storage.base import Store

#: The band of weighted and random shares: expected ± Z standard deviations (99 %).
Z = 2.576

PROMISES = {
    "round_robin": "an even share in each phase of membership (max − min ≤ 1 among the members "
                   "eligible on every turn)",
    "weighted": "shares in proportion to the weights (each count within its 99 % band)",
    "random": "a fair draw among the eligible (each count within its 99 % band)",
}
JUDGED = frozenset(PROMISES)
#: The strategies judged per phase of membership.  A draw's promise holds draw by draw, so
#: weighted and random picks are judged over all their draws at once: each draw's chances
#: already count the options it had (which vary with the lead, and with pool edits).
PHASED = frozenset({"round_robin"})


@dataclass
class MemberShare:
    """One member (agent or office) in one phase: turns won, turns eligible, and skips."""

    name: str
    picks: int = 0
    eligible: int = 0  # turns of the phase at which the member could be picked
    expected: float | None = None  # weighted and random: the expected count
    variance: float = 0.0
    skipped: Counter[str] = field(default_factory=Counter)  # reason → turns
    weights: set[float] = field(default_factory=set)

    @property
    def band(self) -> tuple[float, float] | None:
        if self.expected is None:
            return None
        half = Z * math.sqrt(self.variance)
        return max(0.0, self.expected - half), self.expected + half

    @property
    def within(self) -> bool | None:
        band = self.band
        if band is None:
            return None
        return math.floor(band[0]) <= self.picks <= math.ceil(band[1])

    def skip_text(self) -> str:
        return ", ".join(f"{n} {reason_text(r)}" for r, n in sorted(
            self.skipped.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_json(self) -> dict[str, Any]:
        band = self.band
        weight = next(iter(self.weights)) if len(self.weights) == 1 else None
        return {"name": self.name, "picks": self.picks, "eligible_turns": self.eligible,
                "expected": None if self.expected is None else round(self.expected, 4),
                "band": None if band is None else [round(band[0], 4), round(band[1], 4)],
                "within": self.within, "weight": weight, "skipped": dict(self.skipped)}


@dataclass
class Phase:
    """A run of consecutive turns of one rotation with the same candidate list."""

    strategy: str
    members: tuple[str, ...] | None  # None: traces that did not keep the membership
    added: tuple[str, ...] = ()  # against the phase before
    removed: tuple[str, ...] = ()
    turns: int = 0
    leads: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    shares: dict[str, MemberShare] = field(default_factory=dict)

    def share(self, name: str) -> MemberShare:
        if name not in self.shares:
            self.shares[name] = MemberShare(name)
        return self.shares[name]

    @property
    def steady(self) -> list[MemberShare]:
        """The members eligible on every turn of the phase (round robin judges these)."""
        return [s for s in self.shares.values() if s.eligible == self.turns and not s.skipped]

    @property
    def spread(self) -> int | None:
        if self.strategy != "round_robin":
            return None
        counts = [s.picks for s in self.steady]
        return max(counts) - min(counts) if counts else 0

    @property
    def outside(self) -> list[MemberShare]:
        return [s for s in self.shares.values() if s.within is False]

    @property
    def fair(self) -> bool | None:
        """True or False by the strategy's promise; None when the strategy promises no share
        or the phase cannot be judged (random draws whose eligible list was not kept)."""
        if self.strategy == "round_robin":
            spread = self.spread
            return spread is None or spread <= 1
        if self.strategy in ("weighted", "random"):
            judged = [s for s in self.shares.values() if s.within is not None]
            return None if not judged else not self.outside
        return None

    @property
    def verdict(self) -> str:
        fair = self.fair
        if self.strategy == "round_robin":
            among = (f"among the {len(self.steady)} members eligible on every turn"
                     if self.members is not None
                     else f"among the {len(self.steady)} agents picked (membership not "
                     "recorded)")
            return f"spread (max − min) {self.spread} {among} — {'even' if fair else 'UNEVEN'}"
        if fair is None:
            return "not judged (the strategy promises no share)"
        if fair:
            return "every count within its 99 % band — as promised"
        names = ", ".join(f"{s.name} {s.picks} (expected {s.expected or 0:.1f})"
                          for s in self.outside)
        return f"OUTSIDE the 99 % band: {names}"

    def to_json(self) -> dict[str, Any]:
        return {"members": None if self.members is None else list(self.members),
                "added": list(self.added), "removed": list(self.removed),
                "turns": self.turns, "leads": len(self.leads),
                "from": self.first.isoformat() if self.first else None,
                "to": self.last.isoformat() if self.last else None,
                "spread": self.spread, "fair": self.fair, "verdict": self.verdict,
                "shares": [s.to_json() for s in ordered_shares(self.shares.values())]}


def ordered_shares(shares: Iterable[MemberShare]) -> list[MemberShare]:
    return sorted(shares, key=lambda s: (-s.picks, s.name))


@dataclass
class Rotation:
    """Every turn of one pool's strategy (one rotation key, for a round robin)."""

    strategy: str
    pool: str
    key: str
    phases: list[Phase] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return sum(p.turns for p in self.phases)

    @property
    def leads(self) -> int:
        return len(set().union(*(p.leads for p in self.phases))) if self.phases else 0

    @property
    def promise(self) -> str:
        return PROMISES.get(self.strategy, "no share (counts only)")

    @property
    def fair(self) -> bool | None:
        verdicts = [p.fair for p in self.phases if p.fair is not None]
        return None if not verdicts else all(verdicts)

    @property
    def verdict(self) -> str:
        fair = self.fair
        if fair is None:
            return "not judged"
        if self.strategy not in PHASED:
            return "as promised" if fair else "NOT as promised"
        if fair:
            return "even in every phase" if len(self.phases) > 1 else "even in its one phase"
        bad = [str(i) for i, p in enumerate(self.phases, 1) if p.fair is False]
        return (f"{'UNEVEN' if self.strategy == 'round_robin' else 'NOT as promised'} in "
                f"phase{'s' if len(bad) > 1 else ''} {', '.join(bad)}")

    def throughout(self) -> dict[str, int]:
        """Turns of the members present in every phase (all of them recorded)."""
        if not self.phases or any(p.members is None for p in self.phases):
            return {}
        common = set.intersection(*(set(p.members or ()) for p in self.phases))
        return {name: sum(p.shares[name].picks for p in self.phases)
                for name in sorted(common)}

    def to_json(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "pool": self.pool, "key": self.key,
                "turns": self.turns, "leads": self.leads, "promise": self.promise,
                "fair": self.fair, "verdict": self.verdict,
                "throughout": self.throughout(),
                "phases": [p.to_json() for p in self.phases]}


def _count_turn(phase: Phase, turn: Turn) -> None:
    phase.turns += 1
    phase.leads.add(turn.lead_id)
    phase.first = phase.first or turn.at
    phase.last = turn.at
    for member in turn.members or ():
        phase.share(member)
    for member, reason in turn.skipped:
        phase.share(member).skipped[reason] += 1
    eligible = turn.eligible
    weights = pick_weights(turn.data) if turn.strategy == "weighted" else None
    if weights is not None:
        eligible = tuple(weights)
        total = sum(weights.values())
        for name, weight in weights.items():
            share = phase.share(name)
            share.weights.add(weight)
            if total > 0:
                chance = weight / total
                share.expected = (share.expected or 0.0) + chance
                share.variance += chance * (1 - chance)
    elif turn.strategy == "random" and eligible:
        chance = 1 / len(eligible)
        for name in eligible:
            share = phase.share(name)
            share.expected = (share.expected or 0.0) + chance
            share.variance += chance * (1 - chance)
    for name in eligible or ():
        phase.share(name).eligible += 1
    if turn.chosen is not None:
        chosen = phase.share(turn.chosen)
        chosen.picks += 1
        if eligible is None:  # not recorded: the chosen one was eligible, at least
            chosen.eligible += 1


def _finish_unrecorded(phase: Phase) -> None:
    """Old traces: only the chosen agents are known; judge them as if always eligible."""
    if phase.members is None:
        for share in phase.shares.values():
            share.eligible = phase.turns


def rotations(turns: Sequence[Turn]) -> list[Rotation]:
    """The ledger's turns grouped by strategy and rotation key, cut into phases."""
    found: dict[tuple[str, str], Rotation] = {}
    for turn in turns:
        rotation = found.setdefault((turn.strategy, turn.key),
                                    Rotation(turn.strategy, turn.pool, turn.key))
        current = rotation.phases[-1] if rotation.phases else None
        if (current is not None and current.members != turn.members
                and turn.strategy not in PHASED and current.members is not None
                and turn.members is not None):  # one judgement over every draw
            current.members = tuple(dict.fromkeys(current.members + turn.members))
        elif current is None or current.members != turn.members:
            before = set(current.members or ()) if current else set()
            now = set(turn.members or ())
            phase = Phase(turn.strategy, turn.members,
                          added=tuple(sorted(now - before)) if current else (),
                          removed=tuple(sorted(before - now)) if current else ())
            if current is not None:
                _finish_unrecorded(current)
            rotation.phases.append(phase)
            current = phase
        _count_turn(current, turn)
    for rotation in found.values():
        if rotation.phases:
            _finish_unrecorded(rotation.phases[-1])
    return sorted(found.values(), key=lambda r: (r.strategy, r.pool, r.key))


@dataclass
class Distribution:
    """Leads per agent and per queue, and every pool's rotations judged phase by phase."""

    leads: int
    agents: dict[str, int]
    queues: dict[str, int]
    rotations: list[Rotation]

    def to_json(self) -> dict[str, Any]:
        return {"leads": self.leads, "agents": self.agents, "queues": self.queues,
                "rotations": [r.to_json() for r in self.rotations]}


def distribution(store: Store) -> Distribution:
    """The distribution report of every lead in ``store``."""
    ids = list(store.lead_ids())
    agents = Counter(a.agent for a in store.assignments())
    queues: dict[str, set[str]] = {}
    for item in store.queue_items():
        queues.setdefault(item.queue, set()).add(item.lead_id)
    return Distribution(len(ids), dict(sorted(agents.items(), key=lambda kv: (-kv[1], kv[0]))),
                        {q: len(leads) for q, leads in sorted(queues.items())},
                        rotations(ledger(store, ids)))


__all__ = ["JUDGED", "PHASED", "PROMISES", "Distribution", "MemberShare", "Phase", "Rotation", "Z",
           "distribution", "ordered_shares", "rotations"]
