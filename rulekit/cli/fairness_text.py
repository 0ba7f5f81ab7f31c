"""The text of ``rulekit report distribution``: leads per agent and queue, then every pool's
rotations phase by phase with the verdict of its strategy (:mod:`rulekit.fairness`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rulekit.cli.columns import align
from rulekit.fairness import (
    PHASED,
    Distribution,
    MemberShare,
    Phase,
    Rotation,
    ordered_shares,
)
from rulekit.ledger import Turn, reason_text

TITLES = {"round_robin": "Round robin", "weighted": "Weighted picks", "random": "Random picks",
          "least_recently_offered": "Least recently offered"}
#: How many added or removed members a phase's title names.
NAMED = 8


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at else "—"


def _names(ids: Sequence[str], named: Mapping[str, str]) -> str:
    shown = [named.get(i, i) for i in ids[:NAMED]]
    more = f" and {len(ids) - NAMED} more" if len(ids) > NAMED else ""
    return ", ".join(shown) + more


def _phase_title(number: int, phase: Phase, named: Mapping[str, str]) -> str:
    changes = [f"{_names(phase.added, named)} added" if phase.added else "",
               f"{_names(phase.removed, named)} removed" if phase.removed else ""]
    change = "; ".join(c for c in changes if c)
    members = ("membership not recorded" if phase.members is None
               else f"{len(phase.members)} member{'s' if len(phase.members) != 1 else ''}")
    return (f"Phase {number}{f' ({change})' if change else ''}: {phase.turns} turns for "
            f"{len(phase.leads)} leads, {members}, {_when(phase.first)} to "
            f"{_when(phase.last)} UTC")


def _band(share: MemberShare) -> str:
    band = share.band
    return "—" if band is None else f"{band[0]:.1f}–{band[1]:.1f}"


def _rows(phase: Phase, named: Mapping[str, str]) -> list[str]:
    shares = ordered_shares(phase.shares.values())
    if phase.strategy in ("weighted", "random"):
        header: tuple[str, ...] = ("option", "weight", "picks", "expected", "99 % band",
                                   "skipped")
        rows = [(named.get(s.name, s.name),
                 f"{next(iter(s.weights)):g}" if len(s.weights) == 1
                 else "varies" if s.weights else "—",
                 str(s.picks), "—" if s.expected is None else f"{s.expected:.1f}", _band(s),
                 s.skip_text())
                for s in shares]
        if phase.strategy == "random":
            header = ("agent", "picks", "eligible", "expected", "99 % band", "skipped")
            rows = [(named.get(s.name, s.name), str(s.picks), str(s.eligible),
                     "—" if s.expected is None else f"{s.expected:.1f}", _band(s),
                     s.skip_text()) for s in shares]
        return align(header, rows)
    return align(("agent", "turns", "eligible", "skipped"),
                 [(named.get(s.name, s.name), str(s.picks), str(s.eligible), s.skip_text())
                  for s in shares])


def render_rotation(rotation: Rotation, named: Mapping[str, str]) -> list[str]:
    title = TITLES.get(rotation.strategy, rotation.strategy)
    key = f" (rotation {rotation.key})" if rotation.key != rotation.pool else ""
    phases = len(rotation.phases)
    if rotation.strategy not in PHASED:
        (phase,) = rotation.phases
        lines = [f"{title} from pool '{rotation.pool}'{key}: {rotation.turns} draws for "
                 f"{rotation.leads} leads, {len(phase.shares)} options, {_when(phase.first)} "
                 f"to {_when(phase.last)} UTC", f"  promise: {rotation.promise}", ""]
        lines += ["  " + row for row in _rows(phase, named)]
        return [*lines, f"  {phase.verdict}"]
    lines = [f"{title} from pool '{rotation.pool}'{key}: {rotation.turns} turns for "
             f"{rotation.leads} leads in {phases} phase{'s' if phases != 1 else ''} of "
             "membership", f"  promise: {rotation.promise}"]
    for number, phase in enumerate(rotation.phases, 1):
        lines += ["", f"  {_phase_title(number, phase, named)}"]
        lines += ["    " + row for row in _rows(phase, named)]
        lines.append(f"    {phase.verdict}")
    lines += ["", f"  Verdict: {rotation.verdict}"]
    throughout = rotation.throughout()
    if phases > 1 and throughout:
        counts = list(throughout.values())
        lines.append("  Members present in every phase: " + ", ".join(
            f"{named.get(n, n)} {c}" for n, c in throughout.items())
            + f" (max − min {max(counts) - min(counts)})")
    return lines


def render_distribution(report: Distribution, names: Mapping[str, str] | None = None) -> str:
    named = names or {}
    lines = [f"Distribution of {report.leads} lead{'s' if report.leads != 1 else ''}", ""]
    lines.append("Leads per agent (assignments):")
    if report.agents:
        lines += ["  " + x for x in align(("agent", "leads"),
                                          [(named.get(a, a), str(n))
                                           for a, n in report.agents.items()])]
    else:
        lines.append("  none")
    lines += ["", "Leads per queue:"]
    if report.queues:
        lines += ["  " + x for x in align(("queue", "leads"),
                                          [(q, str(n)) for q, n in report.queues.items()])]
    else:
        lines.append("  none")
    for rotation in report.rotations:
        lines += ["", *render_rotation(rotation, named)]
    return "\n".join(lines)


def _turn_line(turn: Turn, named: Mapping[str, str]) -> str:
    chosen = named.get(turn.chosen, turn.chosen) if turn.chosen else "nobody"
    members = "?" if turn.members is None else str(len(turn.members))
    eligible = "?" if turn.eligible is None else str(len(turn.eligible))
    skipped = "; ".join(f"{named.get(a, a)} {reason_text(r)}" for a, r in turn.skipped[:NAMED])
    if len(turn.skipped) > NAMED:
        skipped += f"; and {len(turn.skipped) - NAMED} more"
    key = f" [{turn.key}]" if turn.key != turn.pool else ""
    return (f"{_when(turn.at)}  {turn.lead_id}  {turn.pool}{key}  {turn.strategy}  → {chosen}"
            f"  ({members} members, {eligible} eligible"
            f"{f'; skipped: {skipped}' if skipped else ''})")


def render_ledger(turns: Sequence[Turn], names: Mapping[str, str] | None = None,
                  pool: str | None = None) -> str:
    """One line per turn: when (UTC), lead, pool, strategy, who was chosen, and who was
    skipped and why."""
    named = names or {}
    if not turns:
        return f"No turns of pool {pool!r} in this store." if pool else "No pool turns."
    head = (f"Fairness ledger{f' of pool {pool!r}' if pool else ''}: {len(turns)} turns "
            "(times in UTC)")
    return "\n".join([head, "", *(_turn_line(t, named) for t in turns)])


__all__ = ["render_distribution", "render_ledger", "render_rotation"]
