"""A lead's routing state: a resumable state machine that lives in storage.

It records where the lead is in its policy (rule and step), which agents were already offered
it, the pending offer or hold and its deadline, and how routing ended.  Any worker can resume
it: the state plus an event is all :func:`~rulekit.pipeline.decide` needs about the lead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

# Position in a policy: (rule index, step index) or, inside a nested list of steps, the
# parent's position followed by the branch and the index in it: (rule index, step index,
# verdict, sub-step index) in a qualification's verdict ('timeout' for its on_timeout), or
# (..., 'else', sub-step index) in a missed contact SLA's else steps.
Position = tuple[int | str, ...]

ROUTING, WAITING = "routing", "waiting"
ASSIGNED, QUEUED, DROPPED, UNROUTED = "assigned", "queued", "dropped", "unrouted"
#: Routing stopped on an error (a rule that cannot be evaluated, a deadline that cannot be
#: computed, a decision that kept failing): the lead waits in the error queue for a retry.
PARKED = "parked"
FINAL = frozenset({ASSIGNED, QUEUED, DROPPED, UNROUTED, PARKED})
#: Not a stored status: what :meth:`rulekit.engine.Engine.submit` reports for a lead kept in
#: the store's inbox, to be decided by a worker.
KEPT = "kept"


@dataclass(frozen=True, slots=True)
class Pending:
    """What the lead waits for: an offer, a broadcast, a qualification, a hold, or (on an
    assigned lead) its assignee's first contact (``contact``: ``agents`` holds the
    assignee)."""

    mode: str  # single | sequence | broadcast | qualify | hold | contact
    offer_id: str | None
    agents: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()
    deadline: datetime | None = None
    timer_id: str | None = None


@dataclass(frozen=True, slots=True)
class LeadState:
    lead_id: str
    ruleset_version: str
    seed: str
    status: str = ROUTING
    policy: str | None = None
    position: Position = ()
    matched: bool = False
    offered: tuple[str, ...] = ()
    attempts: int = 0
    pending: Pending | None = None
    office: str | None = None
    assignee: str | None = None
    queue: str | None = None
    reason: str | None = None
    serial: int = 0
    handoffs: tuple[str, ...] = field(default=())
    #: The first-contact SLA of the assignee: None (no SLA), waiting, met or missed.
    contact: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def clone(self) -> LeadState:
        """A copy (fields are immutable values, so a shallow copy is a full one)."""
        return LeadState(self.lead_id, self.ruleset_version, self.seed, self.status,
                         self.policy, self.position, self.matched, self.offered, self.attempts,
                         self.pending, self.office, self.assignee, self.queue, self.reason,
                         self.serial, self.handoffs, self.contact)

    def with_(self, **changes: Any) -> LeadState:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.pending and self.pending.deadline:
            data["pending"]["deadline"] = self.pending.deadline.isoformat()
        data["position"] = list(self.position)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LeadState:
        raw = dict(data)
        pending = raw.get("pending")
        if pending:
            deadline = pending.get("deadline")
            raw["pending"] = Pending(
                mode=pending["mode"],
                offer_id=pending.get("offer_id"),
                agents=tuple(pending.get("agents", ())),
                declined=tuple(pending.get("declined", ())),
                deadline=datetime.fromisoformat(deadline) if deadline else None,
                timer_id=pending.get("timer_id"),
            )
        raw["position"] = tuple(raw.get("position", ()))
        raw["offered"] = tuple(raw.get("offered", ()))
        raw["handoffs"] = tuple(raw.get("handoffs", ()))
        return cls(**raw)
