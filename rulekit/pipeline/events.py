"""Events that drive a lead's routing: each one is handed to :func:`~rulekit.pipeline.decide`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rulekit.model import Lead

Verdict = Literal["ready", "nurture", "junk"]


@dataclass(frozen=True, slots=True)
class LeadReceived:
    lead: Lead
    kind: str = "lead_received"


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    offer_id: str
    agent: str
    kind: str = "offer_accepted"


@dataclass(frozen=True, slots=True)
class OfferDeclined:
    offer_id: str
    agent: str
    kind: str = "offer_declined"


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer_id: str
    kind: str = "timer_fired"


@dataclass(frozen=True, slots=True)
class QualifierVerdict:
    verdict: Verdict
    qualifier: str
    kind: str = "qualifier_verdict"


@dataclass(frozen=True, slots=True)
class AdminReassign:
    agent: str
    by: str
    reason: str = "reassigned by an administrator"
    kind: str = "admin_reassign"


@dataclass(frozen=True, slots=True)
class AdminRetry:
    """Route a parked lead again from the start of its policy, with the current rule set."""

    by: str
    reason: str = "retried by an administrator"
    kind: str = "admin_retry"


#: The kinds of contact an agent logs with the consumer (:class:`ActivityLogged`).
ACTIVITY_KINDS = ("call", "email", "text", "showing")


@dataclass(frozen=True, slots=True)
class ActivityLogged:
    """The lead's agent logged contact with the consumer (a call, an email, a text, a
    showing).  It changes no routing: it is kept as an event of the lead."""

    agent: str
    activity: str
    note: str = ""
    kind: str = "activity_logged"


Event = (LeadReceived | OfferAccepted | OfferDeclined | TimerFired | QualifierVerdict
         | AdminReassign | AdminRetry | ActivityLogged)
