"""Reports over a store: how fast agents answer (how long they take from an assignment to the
first contact with the consumer is in :mod:`rulekit.first_contact`; how leads were shared out
is judged in :mod:`rulekit.fairness`).

The report reads only what any store keeps (leads, offers, assignments and the decision
traces), so it works on a store filled by any engine, and from Python::

    from rulekit.reports import response_times
    report = response_times(store)
    report.slowest            # the AgentTimes of the slowest agent, or None

**Response times.** Every offer made to an agent is one *response* of that agent: answered
(accepted, declined, or accepted too late — after the deadline or after another agent claimed a
broadcast), unanswered (the offer expired or was withdrawn without a word from them), missed (a
broadcast another agent claimed first), or open (still waiting).  An answer's time is the wall
clock time from the offer to the answer.  A lead assigned without an offer (listing agent, site
owner, round robin) needs no acceptance: it is counted as *direct* and has no time.  Per agent:
the count, the median, the 90th percentile (nearest rank: the smallest time at least 90 % of the
answers do not exceed), the worst time, and how many went unanswered.  The slowest agent is the
one with the highest median (then the highest 90th percentile, then the worst).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rulekit.storage.base import Store, StoredOffer
from rulekit.trace import Trace

# -- response times ----------------------------------------------------------------------------
ANSWERED = ("accepted", "declined", "late", "verdict")


@dataclass(frozen=True, slots=True)
class Response:
    """What one agent did with one offer (or a direct assignment)."""

    agent: str
    lead_id: str
    offer_id: str | None
    mode: str  # single | sequence | broadcast | qualify | direct
    offered_at: datetime
    outcome: str  # accepted | declined | late | verdict | no answer | missed | open | direct
    answered_at: datetime | None = None

    @property
    def seconds(self) -> float | None:
        if self.answered_at is None or self.outcome not in ANSWERED:
            return None
        return max(0.0, (self.answered_at - self.offered_at).total_seconds())

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "lead": self.lead_id, "offer": self.offer_id,
                "mode": self.mode, "offered_at": self.offered_at.isoformat(),
                "outcome": self.outcome,
                "answered_at": self.answered_at.isoformat() if self.answered_at else None,
                "seconds": self.seconds}


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value that ``fraction`` of the values do not
    exceed (``None`` for no values)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def timing(times: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """The median, the 90th percentile (:func:`percentile`) and the worst of some times
    (``None`` each for no times): the time columns of an agent's line."""
    return (statistics.median(times) if times else None, percentile(times, 0.9),
            max(times) if times else None)


@dataclass(frozen=True, slots=True)
class AgentTimes:
    """One agent's line of the response-times report (times in seconds)."""

    agent: str
    offers: int
    answered: int
    accepted: int
    declined: int
    late: int
    unanswered: int
    missed: int
    open: int
    direct: int
    median: float | None
    p90: float | None
    worst: float | None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class ResponseTimes:
    agents: list[AgentTimes]
    responses: list[Response]

    @property
    def slowest(self) -> AgentTimes | None:
        timed = [a for a in self.agents if a.median is not None]
        if not timed:
            return None
        return max(timed, key=lambda a: (a.median or 0, a.p90 or 0, a.worst or 0, a.agent))

    @property
    def silent(self) -> list[AgentTimes]:
        """Agents who have never answered an offer (accepted, declined or late) although at
        least one waited on them until it expired, most offers first (an agent whose only
        offers were broadcasts others claimed first is not named)."""
        return sorted((a for a in self.agents if a.unanswered and not a.answered),
                      key=lambda a: (-a.offers, a.agent))

    def to_json(self) -> dict[str, Any]:
        slowest = self.slowest
        return {"agents": [a.to_json() for a in self.agents],
                "slowest": slowest.agent if slowest else None,
                "never_answered": [a.agent for a in self.silent],
                "responses": [r.to_json() for r in self.responses]}


_PAREN = re.compile(r"\(([^()\s]+)\)")


def _answers(traces: list[Trace], agents: set[str]) -> list[tuple[str, datetime, str]]:
    """(agent, when, event kind) of each answer to an offer recorded in the traces."""
    found = []
    for trace in traces:
        if trace.event not in ("offer_accepted", "offer_declined"):
            continue
        for entry in trace.entries:
            text = entry.text
            who = [m for m in _PAREN.findall(text) if m in agents]
            if not who:
                who = [a for a in agents if text.startswith(f"{a}:") or text.startswith(f"{a} ")]
            if who:
                found.append((who[0], trace.at, trace.event))
                break
    return found


def _responses_of_lead(store: Store, lead_id: str) -> list[Response]:
    offers = store.offers(lead_id)
    assignments = store.assignments(lead_id)
    if not offers and not assignments:
        return []
    agents = {a for o in offers for a in o.agents}
    pending = _answers(store.traces(lead_id), agents) if offers else []
    used: set[int] = set()

    def take(agent: str, offer: StoredOffer) -> tuple[datetime, str] | None:
        for i, (who, at, kind) in enumerate(pending):
            if i not in used and who == agent and at >= offer.created_at:
                used.add(i)
                return at, kind
        return None

    out: list[Response] = []
    for offer in offers:
        mode = offer.mode
        for agent in offer.agents:
            if offer.winner == agent and offer.status == "accepted":
                take(agent, offer)
                out.append(Response(agent, lead_id, offer.offer_id, mode, offer.created_at,
                                    "accepted", offer.closed_at))
                continue
            if offer.winner == agent and offer.status.startswith("verdict"):
                out.append(Response(agent, lead_id, offer.offer_id, mode, offer.created_at,
                                    "verdict", offer.closed_at))
                continue
            answer = take(agent, offer)
            if answer is not None:
                at, kind = answer
                outcome = "declined" if kind == "offer_declined" else "late"
                out.append(Response(agent, lead_id, offer.offer_id, mode, offer.created_at,
                                    outcome, at))
            elif offer.status == "open":
                out.append(Response(agent, lead_id, offer.offer_id, mode, offer.created_at,
                                    "open"))
            elif mode == "broadcast" and offer.winner is not None:
                out.append(Response(agent, lead_id, offer.offer_id, mode, offer.created_at,
                                    "missed"))
            else:
                out.append(Response(agent, lead_id, offer.offer_id, mode, offer.created_at,
                                    "no answer"))
    for assignment in assignments:
        if assignment.how not in ("assigned", "attached"):  # accepted, claimed, reassigned
            continue
        out.append(Response(assignment.agent, lead_id, None, "direct", assignment.at, "direct",
                            assignment.at))
    return out


def response_times(store: Store) -> ResponseTimes:
    """The response-times report of every lead in ``store``."""
    responses = [r for lead_id in store.lead_ids() for r in _responses_of_lead(store, lead_id)]
    by_agent: dict[str, list[Response]] = defaultdict(list)
    for response in responses:
        by_agent[response.agent].append(response)
    lines = []
    for agent in sorted(by_agent):
        items = by_agent[agent]
        outcomes = Counter(r.outcome for r in items)
        times = [s for r in items if (s := r.seconds) is not None]
        median, p90, worst = timing(times)
        lines.append(AgentTimes(
            agent=agent,
            offers=sum(1 for r in items if r.outcome != "direct"),
            answered=len(times),
            accepted=outcomes["accepted"] + outcomes["verdict"],
            declined=outcomes["declined"],
            late=outcomes["late"],
            unanswered=outcomes["no answer"],
            missed=outcomes["missed"],
            open=outcomes["open"],
            direct=outcomes["direct"],
            median=median, p90=p90, worst=worst,
        ))
    return ResponseTimes(lines, responses)


def duration_text(seconds: float | None) -> str:
    """``1h 05m``, ``12m 30s``, ``45s``; ``—`` for no value."""
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


__all__ = ["AgentTimes", "Response", "ResponseTimes", "duration_text", "percentile",
           "response_times", "timing"]
