"""The first-contact SLA of an assigned lead: the ``expect_contact`` step.

Right after a step that assigns the lead (assign, attach_to_owner, round_robin, or an offer
that is accepted), ``expect_contact`` starts a timer: the assignee must log a contact with the
consumer (:class:`~rulekit.pipeline.events.ActivityLogged`) before it fires.  The lead stays
assigned meanwhile, waiting with a ``contact`` pending.

- Contact logged in time: the SLA is met, its timer cancelled; the lead stays with the agent.
- The timer fires first: the SLA is missed.  An audit entry ``contact_missed`` names the agent
  and the lead; the agent is taken off the lead and counted as already offered it, so the
  ``else`` steps (offer to the next agent, reassign, alert a manager, queue) pass them over;
  at the agent's ``pause_after``-th miss (counted since they were last paused for missing
  contacts, :meth:`~rulekit.pipeline.facts.Facts.contact_misses`) a
  :class:`~rulekit.pipeline.effects.PauseAgent` effect pauses them — the engine applies it as
  an audited world edit once the decision is committed.
- An administrator reassigns the lead while it waits: the SLA follows it (:func:`sla_follows`):
  the new assignee gets the same window from the reassignment, in the same calendar, with the
  same ``else`` and ``pause_after``; reassigned to the agent it already holds, it runs on
  unchanged (:func:`sla_kept`).  An SLA met or missed before stays so; the new assignee is
  held to nothing.

Everything here is pure, like :func:`~rulekit.pipeline.decide`: it reads the context and
emits effects.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rulekit.pipeline.context import Context
from rulekit.pipeline.effects import CancelTimer, PauseAgent, RecordAudit, ScheduleTimer
from rulekit.pipeline.events import ActivityLogged
from rulekit.pipeline.state import ASSIGNED, ROUTING, LeadState, Pending
from rulekit.pipeline.steps import PASS, WAIT, Handler
from rulekit.ruleset import ExpectContact

#: The pending mode of a lead waiting for its assignee's first contact.
CONTACT = "contact"
#: The purpose of its timer.
CONTACT_DEADLINE = "contact_deadline"
#: Audit actions: an SLA missed, and an agent paused for missing them (the count restarts).
CONTACT_MISSED = "contact_missed"
CONTACT_PAUSE = "contact_pause"
#: Who the audit entries of a decision name as their actor.
ACTOR = "rulekit"


def _when(ctx: Context, step: ExpectContact, agent: str, instant: datetime) -> str:
    calendar = ctx.business_calendar(step.calendar, agent) if step.calendar else None
    if calendar is None:
        return f"{instant.astimezone(UTC):%a %Y-%m-%d %H:%M} UTC"
    return f"{calendar.local(instant):%a %Y-%m-%d %H:%M %Z}"


def run_expect_contact(ctx: Context, step: ExpectContact, rule: str) -> str:
    """Start the SLA of the lead's assignee; with nobody assigned (the step before did not
    assign the lead) there is nobody to hold to it, and the step passes."""
    state = ctx.state
    agent = state.assignee
    if state.status != ASSIGNED or agent is None:
        ctx.trace.add("step", "Expect contact: nobody holds the lead; going on.",
                      step.location)
        return PASS
    deadline = _hold(ctx, step, agent)
    ctx.trace.add("step", f"Expect contact: {ctx.agent_name(agent)} must log a contact with "
                  f"the consumer by {_when(ctx, step, agent, deadline)}{_business(step)}.",
                  step.location, {"agent": agent, "deadline": deadline.isoformat(),
                                  "within": str(step.within)})
    return WAIT


def _hold(ctx: Context, step: ExpectContact, agent: str) -> datetime:
    """Hold ``agent`` to the step's window from now: its timer, and the pending contact."""
    deadline = ctx.deadline(step.within, step.calendar, agent)
    timer = ctx.next_id("t")
    ctx.effects.append(ScheduleTimer(timer, deadline, CONTACT_DEADLINE))
    ctx.update(pending=Pending(CONTACT, None, (agent,), (), deadline, timer), contact="waiting")
    return deadline


def _business(step: ExpectContact) -> str:
    return (f" ({step.within} of {step.calendar or 'wall-clock time'})"
            if step.within.business else "")


def sla_kept(ctx: Context, step: ExpectContact) -> None:
    """An administrator reassigned the lead to the agent the SLA already holds: nothing
    changes, the deadline included (a reassignment does not extend an SLA)."""
    pending = ctx.state.pending
    assert pending is not None and pending.deadline is not None
    agent = pending.agents[0]
    ctx.trace.add("effect", f"{ctx.agent_name(agent)} already holds the lead: the "
                  "first-contact SLA runs on, its deadline unchanged "
                  f"({_when(ctx, step, agent, pending.deadline)}).", step.location,
                  {"agent": agent, "sla": "kept", "deadline": pending.deadline.isoformat()})


def sla_follows(ctx: Context, step: ExpectContact, previous: str, agent: str) -> None:
    """An administrator reassigned a lead that waited for ``previous``'s first contact to
    ``agent`` (the pending contact already closed): the SLA follows the lead.  ``agent`` gets
    the same window, from now, in the same calendar; a miss is theirs, with the step's
    ``else`` and ``pause_after``."""
    deadline = _hold(ctx, step, agent)
    calendar = f" of {step.calendar or 'wall-clock time'}" if step.within.business else ""
    ctx.trace.add("effect", f"The first-contact SLA follows the lead: {ctx.agent_name(agent)} "
                  "must log a contact with the consumer by "
                  f"{_when(ctx, step, agent, deadline)} ({step.within} from the reassignment"
                  f"{calendar}); "
                  f"{ctx.agent_name(previous)} is no longer held to it.", step.location,
                  {"agent": agent, "sla": "reassigned", "from": previous,
                   "deadline": deadline.isoformat(), "within": str(step.within)})


def waits_for_contact(state: LeadState, timer_id: str | None = None) -> bool:
    """Whether the lead waits for its assignee's first contact (on that timer, if given)."""
    pending = state.pending
    return (state.status == ASSIGNED and pending is not None and pending.mode == CONTACT
            and (timer_id is None or pending.timer_id == timer_id))


def contact_logged(ctx: Context, event: ActivityLogged) -> None:
    """The assignee logged a contact: before the deadline, the SLA is met and its timer
    cancelled; at or after it, the timer still decides (it is due, and misses the SLA)."""
    state = ctx.state
    pending = state.pending
    if not waits_for_contact(state) or pending is None or event.agent not in pending.agents:
        return
    assert pending.deadline is not None
    if ctx.now >= pending.deadline:
        ctx.trace.add("detail", f"The contact came after the SLA's deadline "
                      f"({pending.deadline.isoformat()}): it does not meet it.")
        return
    if pending.timer_id:
        ctx.effects.append(CancelTimer(pending.timer_id))
    ctx.update(pending=None, contact="met")
    ctx.trace.add("effect", f"First-contact SLA met: {ctx.agent_name(event.agent)} made "
                  "contact before the deadline; the lead stays with them.",
                  data={"agent": event.agent, "sla": "met",
                        "deadline": pending.deadline.isoformat()})


def contact_missed(ctx: Context, step: ExpectContact) -> None:
    """The SLA's timer fired: record the miss, pause the agent at their ``pause_after``-th,
    take the lead off them and go on with the ``else`` steps (position ``(..., 'else', 0)``)."""
    state = ctx.state
    pending = state.pending
    assert pending is not None and pending.deadline is not None
    agent = pending.agents[0]
    name = ctx.agent_name(agent)
    ctx.trace.add("timer", f"{name} logged no contact with the consumer by "
                  f"{_when(ctx, step, agent, pending.deadline)}: the first-contact SLA "
                  f"({step.within}) is missed.", step.location,
                  {"agent": agent, "sla": "missed", "deadline": pending.deadline.isoformat()})
    misses = ctx.facts.contact_misses(agent) + 1
    lead = state.lead_id
    ctx.effects.append(RecordAudit(ACTOR, CONTACT_MISSED, (
        ("agent", agent), ("lead", lead), ("deadline", pending.deadline.isoformat()),
        ("misses", misses))))
    if step.pause_after is not None:
        if misses >= step.pause_after:
            reason = (f"missed {misses} first contacts (expect_contact pause_after: "
                      f"{step.pause_after}); the last on lead {lead}")
            ctx.effects.append(PauseAgent(agent, reason))
            ctx.effects.append(RecordAudit(ACTOR, CONTACT_PAUSE, (
                ("agent", agent), ("lead", lead), ("misses", misses))))
            ctx.trace.add("effect", f"{name} is paused: {reason}.",
                          data={"agent": agent, "paused": True, "misses": misses})
        else:
            ctx.trace.add("detail", f"Miss {misses} of {step.pause_after} before {name} is "
                          "paused.", data={"agent": agent, "misses": misses})
    ctx.update(status=ROUTING, assignee=None, pending=None, contact="missed", attempts=0,
               offered=tuple(dict.fromkeys((*state.offered, agent))),
               position=(*state.position, "else", 0))
    ctx.trace.add("step", f"The lead is taken from {name}, who counts as already offered it"
                  + ("; the SLA's else steps follow." if step.otherwise
                     else "; routing goes on after the SLA."), step.location)


SLA_STEPS: dict[str, Handler] = {"expect_contact": run_expect_contact}

__all__ = ["CONTACT", "CONTACT_DEADLINE", "CONTACT_MISSED", "CONTACT_PAUSE", "SLA_STEPS",
           "contact_logged", "contact_missed", "run_expect_contact", "sla_follows", "sla_kept",
           "waits_for_contact"]
