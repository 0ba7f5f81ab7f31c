"""The decision core: a pure function from (rule set, world, facts, lead state, event, now)
to (new state, effects, trace)."""

from rulekit.pipeline.decide import Decision, decide, lead_seed
from rulekit.pipeline.events import (
    ACTIVITY_KINDS,
    ActivityLogged,
    AdminReassign,
    AdminRetry,
    Event,
    LeadReceived,
    OfferAccepted,
    OfferDeclined,
    QualifierVerdict,
    TimerFired,
)
from rulekit.pipeline.facts import Facts, StaticFacts
from rulekit.pipeline.park import ERROR_QUEUE, park
from rulekit.pipeline.state import PARKED, LeadState, Pending

__all__ = [
    "ACTIVITY_KINDS",
    "ERROR_QUEUE",
    "PARKED",
    "ActivityLogged",
    "AdminReassign",
    "AdminRetry",
    "Decision",
    "Event",
    "Facts",
    "LeadReceived",
    "LeadState",
    "OfferAccepted",
    "OfferDeclined",
    "Pending",
    "QualifierVerdict",
    "StaticFacts",
    "TimerFired",
    "decide",
    "lead_seed",
    "park",
]
