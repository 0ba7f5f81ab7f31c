"""Effects: what a decision asks the shell to do.  The engine applies all the effects of one
event, with its trace, in one storage transaction.  Effects are plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AssignLead:
    """The lead now belongs to ``agent`` (``how``: assigned, accepted, attached, reassigned)."""

    agent: str
    how: str
    rule: str


@dataclass(frozen=True, slots=True)
class SetOwner:
    """``agent`` becomes the contact's owner in ``scope_key`` if it has none there yet; a
    contact with no status then takes ``status`` (``assigned``, or ``agent_database`` for a
    contact its owner entered by hand)."""

    contact_key: str
    scope_key: str
    agent: str
    status: str = "assigned"


@dataclass(frozen=True, slots=True)
class MakeOffer:
    """An offer of the lead to ``agents`` (one agent, or a whole pool for a broadcast)."""

    offer_id: str
    agents: tuple[str, ...]
    mode: str  # single | broadcast | qualify
    deadline: datetime | None
    rule: str


@dataclass(frozen=True, slots=True)
class CloseOffer:
    """The offer ends: accepted (with its winner), declined, expired or withdrawn."""

    offer_id: str
    status: str
    winner: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    timer_id: str
    due: datetime
    purpose: str  # offer_deadline | hold | qualify_deadline


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class EnqueueLead:
    queue: str
    reason: str | None
    rule: str


@dataclass(frozen=True, slots=True)
class DropLead:
    reason: str
    rule: str


@dataclass(frozen=True, slots=True)
class SendNotification:
    """A notification for the outbox: ``to`` and ``cc`` as the rule named them (agent ids,
    addresses); ``offer_id`` and ``deadline`` of the offer it announces, if any."""

    template: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    subject: str | None = None
    variables: tuple[tuple[str, Any], ...] = ()
    offer_id: str | None = None
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class AdvanceRotation:
    """The round-robin cursor of ``pool_key`` moves to ``agent`` (at ``index`` of the order);
    applied only if the cursor is still at ``previous`` (compare-and-set)."""

    pool_key: str
    agent: str
    index: int
    previous: str | None


@dataclass(frozen=True, slots=True)
class ReportConflict:
    """Manual entry met a contact owned by another agent: reported, never reassigned."""

    contact_key: str
    owner: str
    entered_by: str
    scope_key: str


@dataclass(frozen=True, slots=True)
class RejectAction:
    """An accept/decline/verdict that came too late or from the wrong agent."""

    agent: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordAudit:
    """An entry of the store's audit history, written with the decision."""

    actor: str
    action: str
    detail: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class PauseAgent:
    """Pause ``agent`` in the world (an audited world edit, as an administrator's pause),
    applied by the engine once the decision is committed: ``reason`` says why."""

    agent: str
    reason: str


Effect = (AssignLead | SetOwner | MakeOffer | CloseOffer | ScheduleTimer | CancelTimer
          | EnqueueLead | DropLead | SendNotification | AdvanceRotation | ReportConflict
          | RejectAction | RecordAudit | PauseAgent)
