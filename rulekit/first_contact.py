"""First contact: how long each agent took from getting a lead to contacting the consumer.

Computed, like the response times of :mod:`rulekit.reports`, from what every store keeps —
the assignments, the decision traces and the leads' states — so it works on any store::

    from rulekit.first_contact import first_contacts
    report = first_contacts(store, target=1800)   # a 30-minute target, in seconds
    report.over_target        # [(agent, count), …], most first
    report.never_contacted    # [(agent, count), …], most first

**Assignments.** Every assignment of a lead to an agent counts, whatever its route: assigned
directly (listing agent, site owner, round robin, ``assign``), attached to the contact's
owner, an accepted offer or a claimed broadcast, or reassigned by an administrator.  The lead
is *theirs* from the assignment until the next assignment of the lead, or until a missed
first-contact SLA takes it off them (``expect_contact``).

**First contact** is the first activity (call, email, text, showing) the assignee logged on
that lead while it was theirs; an activity logged by a later assignee counts for that later
assignment only.  Each assignment has one outcome:

- *contacted* — with the time from the assignment to that first activity;
- *never* — the lead passed on (reassigned, SLA missed) with no activity from them;
- *open* — the lead is still theirs and they have not logged a contact yet.

**Target.** With a target (e.g. 30 minutes), an assignment is *over target* when the first
contact came later than the target, or when there was none although the agent held the lead
for at least the target (a *never* lead held that long, or an *open* lead assigned that long
before the report's instant).  A lead taken off them sooner is not held against them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rulekit.reports import timing
from rulekit.storage.base import Assignment, Store
from rulekit.trace import Trace

CONTACTED, NEVER, OPEN = "contacted", "never", "open"
#: The trace event of a logged activity (:class:`~rulekit.pipeline.events.ActivityLogged`).
ACTIVITY_EVENT = "activity_logged"


@dataclass(frozen=True, slots=True)
class FirstContact:
    """One assignment of a lead to an agent and what became of its first contact."""

    agent: str
    lead_id: str
    how: str  # the assignment's: assigned, attached, accepted, claimed (…), reassigned
    assigned_at: datetime
    outcome: str  # contacted | never | open
    contacted_at: datetime | None = None
    activity: str | None = None  # call | email | text | showing
    ended_at: datetime | None = None  # when the lead left them (outcome never)

    @property
    def seconds(self) -> float | None:
        """Seconds from the assignment to the first contact (contacted only)."""
        if self.contacted_at is None:
            return None
        return max(0.0, (self.contacted_at - self.assigned_at).total_seconds())

    def held(self, now: datetime) -> float:
        """Seconds the agent held the lead without contact: up to the contact, to when the
        lead left them, or (open) to ``now``."""
        end = self.contacted_at or self.ended_at or now
        return max(0.0, (end - self.assigned_at).total_seconds())

    def over(self, target: float, now: datetime) -> bool:
        """Whether this assignment misses a target of ``target`` seconds."""
        seconds = self.seconds
        if seconds is not None:
            return seconds > target
        return self.held(now) >= target

    def to_json(self, target: float | None, now: datetime) -> dict[str, Any]:
        return {"agent": self.agent, "lead": self.lead_id, "how": self.how,
                "assigned_at": self.assigned_at.isoformat(), "outcome": self.outcome,
                "contacted_at": self.contacted_at.isoformat() if self.contacted_at else None,
                "activity": self.activity, "seconds": self.seconds,
                "ended_at": self.ended_at.isoformat() if self.ended_at else None,
                "over_target": None if target is None else self.over(target, now)}


@dataclass(frozen=True, slots=True)
class AgentContacts:
    """One agent's line of the first-contact report (times in seconds); ``over_target`` is
    ``None`` without a target."""

    agent: str
    assigned: int
    contacted: int
    never: int
    open: int
    median: float | None
    p90: float | None
    worst: float | None
    over_target: int | None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class FirstContacts:
    """The first-contact report: a line per agent and every assignment, as of ``now``."""

    agents: list[AgentContacts]
    contacts: list[FirstContact]
    target: float | None
    now: datetime

    @property
    def over_target(self) -> list[tuple[str, int]]:
        """Agents with assignments over the target and how many, most first (none without
        a target)."""
        return _ranked({a.agent: a.over_target or 0 for a in self.agents})

    @property
    def never_contacted(self) -> list[tuple[str, int]]:
        """Agents who lost leads without ever contacting the consumer and how many, most
        first."""
        return _ranked({a.agent: a.never for a in self.agents})

    @property
    def silent(self) -> list[tuple[str, int]]:
        """Agents who have logged no contact on any lead assigned to them, and how many
        leads they had, most first."""
        return _ranked({a.agent: a.assigned for a in self.agents if not a.contacted})

    def to_json(self) -> dict[str, Any]:
        return {"target_seconds": self.target, "as_of": self.now.isoformat(),
                "agents": [a.to_json() for a in self.agents],
                "over_target": [{"agent": a, "count": n} for a, n in self.over_target],
                "never_contacted": [{"agent": a, "count": n}
                                    for a, n in self.never_contacted],
                "no_contact_at_all": [{"agent": a, "leads": n} for a, n in self.silent],
                "assignments": [c.to_json(self.target, self.now) for c in self.contacts]}


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(((a, n) for a, n in counts.items() if n), key=lambda item: (-item[1], item[0]))


def _activities(traces: list[Trace]) -> list[tuple[str, datetime, str]]:
    """(agent, when, kind) of each activity the lead's assignee logged, in order (an activity
    refused because the lead was not theirs leaves no data and is not one)."""
    found = []
    for trace in traces:
        if trace.event != ACTIVITY_EVENT:
            continue
        for entry in trace.entries:
            data = entry.data
            if entry.kind == "event" and data and "activity" in data and "agent" in data:
                found.append((str(data["agent"]), trace.at, str(data["activity"])))
    return found


def _sla_misses(traces: list[Trace]) -> list[tuple[str, datetime]]:
    """(agent, when) of each first-contact SLA the lead's assignee missed (it took the lead
    off them)."""
    return [(str(data["agent"]), trace.at) for trace in traces for entry in trace.entries
            if (data := entry.data) and data.get("sla") == "missed" and "agent" in data]


def _ends(assignments: list[Assignment], misses: list[tuple[str, datetime]]
          ) -> list[datetime | None]:
    """When each assignment stopped being its agent's (``None``: it never did)."""
    ends: list[datetime | None] = []
    for i, assignment in enumerate(assignments):
        candidates = [at for who, at in misses
                      if who == assignment.agent and at >= assignment.at]
        if i + 1 < len(assignments):
            candidates.append(assignments[i + 1].at)
        ends.append(min(candidates) if candidates else None)
    return ends


def _contacts_of_lead(store: Store, lead_id: str) -> list[FirstContact]:
    assignments = store.assignments(lead_id)
    if not assignments:
        return []
    traces = store.traces(lead_id)
    ends = _ends(assignments, _sla_misses(traces))
    state = store.get_state(lead_id)
    holder = state.assignee if state is not None else None
    last_at = max((t.at for t in traces), default=assignments[-1].at)
    first: dict[int, tuple[datetime, str]] = {}
    for agent, at, kind in _activities(traces):
        for i, assignment in enumerate(assignments):
            end = ends[i]
            if (i not in first and assignment.agent == agent and assignment.at <= at
                    and (end is None or at <= end)):
                first[i] = (at, kind)
                break
    out = []
    for i, assignment in enumerate(assignments):
        base = (assignment.agent, lead_id, assignment.how, assignment.at)
        if i in first:
            at, kind = first[i]
            out.append(FirstContact(*base, CONTACTED, contacted_at=at, activity=kind))
        elif ends[i] is None and i == len(assignments) - 1 and holder == assignment.agent:
            out.append(FirstContact(*base, OPEN))
        else:  # passed on; with no record of when, it left them by the lead's last decision
            out.append(FirstContact(*base, NEVER, ended_at=ends[i] or last_at))
    return out


def first_contacts(store: Store, target: float | None = None,
                   now: datetime | None = None) -> FirstContacts:
    """The first-contact report of every lead in ``store``, judged against ``target``
    seconds (none: no judgement) as of ``now`` (default: the real clock)."""
    if target is not None and target <= 0:
        raise ValueError(f"target must be longer than zero seconds, not {target}")
    when = now or datetime.now(UTC)
    contacts = [c for lead_id in store.lead_ids() for c in _contacts_of_lead(store, lead_id)]
    by_agent: dict[str, list[FirstContact]] = defaultdict(list)
    for contact in contacts:
        by_agent[contact.agent].append(contact)
    lines = []
    for agent in sorted(by_agent):
        items = by_agent[agent]
        outcomes = Counter(c.outcome for c in items)
        times = [s for c in items if (s := c.seconds) is not None]
        median, p90, worst = timing(times)
        lines.append(AgentContacts(
            agent=agent, assigned=len(items), contacted=outcomes[CONTACTED],
            never=outcomes[NEVER], open=outcomes[OPEN],
            median=median, p90=p90, worst=worst,
            over_target=(None if target is None
                         else sum(1 for c in items if c.over(target, when)))))
    return FirstContacts(lines, contacts, target, when)


__all__ = ["CONTACTED", "NEVER", "OPEN", "AgentContacts", "FirstContact", "FirstContacts",
           "first_contacts"]
