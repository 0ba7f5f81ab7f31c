"""Parking: how a decision ends when routing cannot go on.

A rule problem found at run time (an expression that cannot be evaluated on this lead, a
deadline that no calendar can give) or an event that kept failing in the shell does not lose
the lead: it is *parked*.  Its pending offer is withdrawn, its timer cancelled, it is put in
the error queue (:data:`ERROR_QUEUE`) with the error — and the rule-file position when there
is one — in its trace, and an audit entry records it.  An administrator fixes the rule files
or the world and retries it (:class:`~rulekit.pipeline.events.AdminRetry`).

``park`` is pure, like ``decide``: the same failure on the same state parks the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rulekit.errors import RulekitError
from rulekit.pipeline.effects import CancelTimer, CloseOffer, Effect, EnqueueLead, RecordAudit
from rulekit.pipeline.state import PARKED, LeadState
from rulekit.trace import Trace

#: The queue of parked leads.
ERROR_QUEUE = "errors"
#: Longest error text kept in a state, a queue item and an audit entry.
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Decision:
    """What one event does to a lead: its new state, the effects to store, the trace."""

    state: LeadState
    effects: tuple[Effect, ...]
    trace: Trace


def describe(error: BaseException) -> str:
    """An error in one line: a rulekit error with its ``file:line:col``; anything else with
    its type (it is a fault of rulekit or of the store, not of the rule files)."""
    text = str(error) if isinstance(error, RulekitError) else \
        f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 1] + "…"


def park(state: LeadState, event_kind: str, now: datetime, error: BaseException, *,
         attempts: int = 1, actor: str = "rulekit") -> Decision:
    """The decision that parks the lead of ``state`` (as read before the failing event)."""
    reason = describe(error)
    trace = Trace(state.lead_id, event_kind, now, state.ruleset_version, state.seed)
    effects: list[Effect] = []
    pending = state.pending
    if pending is not None:
        if pending.offer_id is not None:
            effects.append(CloseOffer(pending.offer_id, "withdrawn"))
        if pending.timer_id is not None:
            effects.append(CancelTimer(pending.timer_id))
    where = getattr(error, "location", None)
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    trace.add("error", f"Could not route the lead{tried}: {reason}. It is parked in queue "
              f"'{ERROR_QUEUE}' until an administrator retries it.",
              None if where is None else str(where),
              {"error": reason, "attempts": attempts})
    effects.append(EnqueueLead(ERROR_QUEUE, reason, ""))
    effects.append(RecordAudit(actor, "lead_parked", (
        ("lead", state.lead_id), ("event", event_kind), ("error", reason),
        ("attempts", attempts))))
    parked = state.with_(status=PARKED, queue=ERROR_QUEUE, reason=reason, pending=None,
                         serial=state.serial + 1)
    return Decision(parked, tuple(effects), trace)


__all__ = ["ERROR_QUEUE", "Decision", "describe", "park"]
