"""Steps that offer the lead and wait: offer, offer_sequence, broadcast, qualify; and
round_robin, which picks from a rotation and assigns at once.

Each waiting step has handlers for the answers: accepted, declined, the deadline passing, and
(for qualify) the verdict.  The lead's state holds the pending offer; an answer that does not
match it (a second accept on a broadcast, a late timer) is rejected without changing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rulekit.dsl import Duration
from rulekit.pipeline.context import Context, target_text, weight_of
from rulekit.pipeline.effects import CancelTimer, CloseOffer, MakeOffer, ScheduleTimer
from rulekit.pipeline.pools import PoolResult, resolve_agents
from rulekit.pipeline.state import WAITING, Pending
from rulekit.pipeline.steps import DONE, PASS, WAIT, assign
from rulekit.pipeline.teams import pick_agent
from rulekit.ruleset import (
    Broadcast,
    CalendarChoice,
    CalendarRef,
    Notify,
    Offer,
    OfferSequence,
    Qualify,
    RoundRobin,
    RuleSet,
    Scope,
)
from rulekit.trace import message


def _zone(ruleset: RuleSet, calendar: str | None) -> str | None:
    """The time zone a deadline is shown in: the calendar's, or UTC."""
    cal = ruleset.calendars.get(calendar or "") if calendar else None
    return cal.tz.key if cal is not None else None


def _counted(ctx: Context, calendar: CalendarRef | None,
             business: bool) -> tuple[str | None, str]:
    """The zone a deadline is shown in and what its business time counts: for a calendar
    chosen per lead, the calendar it gave and why."""
    if isinstance(calendar, CalendarChoice):
        if not business:
            return None, "wall-clock time"
        chosen = ctx.chosen_calendar(calendar)
        return chosen.calendar.tz.key, str(chosen)
    return _zone(ctx.ruleset, calendar), calendar or "wall-clock time"


@message("offer")
def word_offer(data: Mapping[str, Any], who: str, zone: str | None, business: str) -> str:
    """'Offered to Jordan Lee (a1) until Tue 2026-11-24 12:00 EST (2 business_hours of …).'"""
    deadline: datetime | str | None = data["deadline"]  # ISO 8601 text (older traces: a datetime)
    if isinstance(deadline, str):
        deadline = datetime.fromisoformat(deadline)
    if deadline is None:
        until = " with no deadline"
    elif zone is None:
        until = f" until {deadline.astimezone(UTC):%a %Y-%m-%d %H:%M} UTC"
    else:
        until = f" until {deadline.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M %Z}"
    verb = {"qualify": "Sent for qualification to", "broadcast": "Broadcast to"}.get(
        data["mode"], "Offered to")
    return f"{verb} {who}{until}{business}."


def open_offer(ctx: Context, agents: tuple[str, ...], mode: str, rule: str,
               duration: Duration | None, calendar: CalendarRef | None,
               notify: Notify | None) -> str:
    """Make an offer (to one agent, or a broadcast) with its optional deadline timer."""
    offer_id = ctx.next_id("o")
    deadline = (ctx.deadline(duration, calendar, agents[0] if len(agents) == 1 else None)
                if duration is not None else None)
    timer = ctx.next_id("t") if deadline is not None else None
    ctx.effects.append(MakeOffer(offer_id, agents, "single" if mode == "sequence" else mode,
                                 deadline, rule))
    if deadline is not None and timer is not None:
        ctx.effects.append(ScheduleTimer(timer, deadline, f"{mode}_deadline"))
    ctx.update(
        status=WAITING,
        pending=Pending(mode, offer_id, agents, (), deadline, timer),
        offered=tuple(dict.fromkeys((*ctx.state.offered, *agents))),
    )
    who = ctx.agent_name(agents[0]) if len(agents) == 1 else f"{len(agents)} agents"
    counts = deadline is not None and duration is not None and duration.business
    zone, counted = _counted(ctx, calendar, counts)
    business = f" ({duration} of {counted})" if counts else ""
    ctx.trace.add("offer", ("offer", who, zone, business),
                  data={"offer": offer_id, "agents": agents,
                        "deadline": None if deadline is None else deadline.isoformat(),
                        "mode": mode})
    ctx.notification(notify, offer_id=offer_id, deadline=deadline, offered=agents)
    return WAIT


def close_pending(ctx: Context, status: str, winner: str | None = None) -> None:
    pending = ctx.state.pending
    if pending is None:
        return
    if pending.offer_id:
        ctx.effects.append(CloseOffer(pending.offer_id, status, winner))
    if pending.timer_id and status != "expired":
        ctx.effects.append(CancelTimer(pending.timer_id))
    ctx.update(pending=None)


def _pool(ctx: Context, name: str, step_location: Any) -> PoolResult:
    pool = ctx.ruleset.pools[name]
    result = resolve_agents(ctx, pool, offered=ctx.state.offered)
    ctx.trace.add("pool", ("pool",), step_location, result.data())
    return result


def _weights(ctx: Context, step: OfferSequence, result: PoolResult) -> list[float] | None:
    if step.weight is None:
        return None
    agents = ctx.world.agents
    weight = step.weight
    return [weight_of(weight, ctx.evaluate(weight, agents[a], ctx.facts.load(a)))
            for a in result.eligible]


# -- offer -------------------------------------------------------------------------------------
def run_offer(ctx: Context, step: Offer, rule: str) -> str:
    agent = ctx.evaluate(step.to)
    if not isinstance(agent, str) or agent not in ctx.world.agents:
        shown = target_text(agent)
        ctx.trace.add("step", f"Offer: `{step.to.text}` gives {shown}; going on.",
                      step.location)
        return PASS
    if ctx.world.agents[agent].paused:
        ctx.trace.add("step", f"Offer: {ctx.agent_name(agent)} is paused; going on.",
                      step.location)
        return PASS
    return open_offer(ctx, (agent,), "single", rule, step.duration, step.calendar, step.notify)


# -- offer_sequence ----------------------------------------------------------------------------
def run_sequence(ctx: Context, step: OfferSequence, rule: str) -> str:
    made = ctx.state.attempts
    if step.attempts is not None and made >= step.attempts:
        ctx.trace.add("step", f"All {step.attempts} offers went unanswered or were declined; "
                      "going on.", step.location)
        ctx.update(attempts=0)
        return PASS
    result = _pool(ctx, step.pool, step.location)
    offered = ctx.state.offered
    fresh = [a for a in result.eligible if a not in offered] if offered else result.eligible
    if not fresh:
        if step.attempts is None or not result.eligible:
            ctx.trace.add("step", "No eligible agent left to offer; going on.", step.location)
            ctx.update(attempts=0)
            return PASS
    elif fresh is not result.eligible:
        result = PoolResult(result.name, result.order, fresh, result.excluded, key=result.key)
    pick = pick_agent(ctx, ctx.ruleset.pools[step.pool], result, step.pick,
                      lambda over: _weights(ctx, step, over))
    if pick is None:  # the pool's teams have nobody for their turn (see rulekit.pipeline.teams)
        ctx.trace.add("step", "No eligible agent left to offer; going on.", step.location)
        ctx.update(attempts=0)
        return PASS
    ctx.trace.add("pick", pick.text, data=pick.data)
    ctx.update(attempts=made + 1)
    label = f"offer {made + 1}" + (f" of {step.attempts}" if step.attempts else "")
    ctx.trace.add("detail", f"This is {label}.")
    return open_offer(ctx, (pick.chosen,), "sequence", rule, step.each_for, step.calendar,
                      step.notify)


# -- broadcast ---------------------------------------------------------------------------------
def run_broadcast(ctx: Context, step: Broadcast, rule: str) -> str:
    result = _pool(ctx, step.pool, step.location)
    if not result.eligible:
        ctx.trace.add("step", "Nobody to broadcast to; going on.", step.location)
        return PASS
    calendar = None if step.calendar == "agent" else step.calendar
    return open_offer(ctx, tuple(result.eligible), "broadcast", rule, step.duration, calendar,
                      step.notify)


# -- round robin -------------------------------------------------------------------------------
def run_round_robin(ctx: Context, step: RoundRobin, rule: str) -> str:
    result = _pool(ctx, step.pool, step.location)
    pick = pick_agent(ctx, ctx.ruleset.pools[step.pool], result, "round_robin")
    if pick is None:
        ctx.trace.add("step", "Nobody in the rotation is eligible; going on.",
                      step.location)
        return PASS
    ctx.trace.add("pick", pick.text, data=pick.data)
    return assign(ctx, pick.chosen, "assigned", rule, step.own, step.notify)


# -- qualify -----------------------------------------------------------------------------------
def run_qualify(ctx: Context, step: Qualify, rule: str) -> str:
    result = _pool(ctx, step.pool, step.location)
    if not result.eligible:
        ctx.trace.add("step", "No qualifier available.", step.location)
        return "timeout" if step.on_timeout else PASS
    if step.mode == "round_robin":
        pick = pick_agent(ctx, ctx.ruleset.pools[step.pool], result, "round_robin")
        if pick is None:  # the pool's teams have nobody for their turn
            ctx.trace.add("step", "No qualifier available.", step.location)
            return "timeout" if step.on_timeout else PASS
        ctx.trace.add("pick", pick.text, data=pick.data)
        qualifiers: tuple[str, ...] = (pick.chosen,)
    else:
        qualifiers = tuple(result.eligible)
    return open_offer(ctx, qualifiers, "qualify", rule, step.duration, step.calendar, None)


Runner = Callable[[Context, Any, str], str]

WAITING_STEPS: dict[str, Runner] = {
    "offer": run_offer,
    "offer_sequence": run_sequence,
    "broadcast": run_broadcast,
    "round_robin": run_round_robin,
    "qualify": run_qualify,
}


def accepted(ctx: Context, step: Any, agent: str, rule: str) -> str:
    pending = ctx.state.pending
    assert pending is not None
    mode = pending.mode
    close_pending(ctx, "accepted", agent)
    how = "claimed (first to accept the broadcast)" if mode == "broadcast" else "accepted"
    ctx.trace.add("step", f"{ctx.agent_name(agent)} accepted the offer.", step.location)
    # the step's notification went out with the offer; acceptance records ownership only
    own: tuple[Scope, ...] = getattr(step, "own", ())
    return assign(ctx, agent, how, rule, own)


def declined(ctx: Context, step: Any, agent: str) -> str:
    """An agent declined: a single offer ends; a broadcast ends when everyone declined."""
    pending = ctx.state.pending
    assert pending is not None
    ctx.trace.add("step", f"{ctx.agent_name(agent)} declined the offer.", step.location)
    if pending.mode == "broadcast":
        declined_by = (*pending.declined, agent)
        if len(declined_by) < len(pending.agents):
            ctx.update(pending=Pending(
                pending.mode, pending.offer_id, pending.agents, declined_by, pending.deadline,
                pending.timer_id))
            return WAIT
    close_pending(ctx, "declined")
    return DONE_OFFER


def expired(ctx: Context, step: Any) -> str:
    pending = ctx.state.pending
    assert pending is not None
    ctx.trace.add("timer", "The offer's deadline passed with no acceptance."
                  if pending.mode != "qualify" else "No verdict came before the deadline.",
                  step.location)
    close_pending(ctx, "expired")
    return DONE_OFFER


#: The offer ended without a winner: the step decides what follows (retry or go on).
DONE_OFFER = "offer_ended"

__all__ = ["DONE", "DONE_OFFER", "PASS", "WAIT", "WAITING_STEPS", "accepted", "declined",
           "expired"]
