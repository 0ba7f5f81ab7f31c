"""Steps that act at once: assign, attach to the owner, queue, drop, notify, hold, pick an
office, hand off to another policy.  Offers and rotations are in :mod:`.offers`.

Each handler takes the context and the step and returns an outcome: ``DONE`` (the lead is
resolved), ``WAIT`` (it waits for an answer or a timer), ``PASS`` (go on to the next step) or
``HANDOFF`` (routing restarts in another policy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rulekit.pipeline.context import (
    Context,
    describe_scope,
    scope_key,
    target_text,
    weight_of,
)
from rulekit.pipeline.effects import (
    AssignLead,
    DropLead,
    EnqueueLead,
    ReportConflict,
    ScheduleTimer,
    SetOwner,
)
from rulekit.pipeline.pools import resolve_offices
from rulekit.pipeline.state import ASSIGNED, DROPPED, QUEUED, WAITING, Pending
from rulekit.pipeline.strategies import pick_random, pick_weighted
from rulekit.ruleset import (
    Assign,
    AttachToOwner,
    Drop,
    Hold,
    Notify,
    NotifyStep,
    PickOffice,
    Queue,
    Scope,
    Step,
    UsePolicy,
)

DONE, WAIT, PASS, HANDOFF = "done", "wait", "pass", "handoff"

#: A contact status as a trace words it (the seed documents' names).
STATUS_WORDS = {"agent_database": "Agent Database", "assigned": "Assigned", "shared": "Shared",
                "pending": "Pending", "closed": "Closed"}

Handler = Callable[[Context, Any, str], str]


def assign(ctx: Context, agent: str, how: str, rule: str, own: tuple[Scope, ...] = (),
           notify: Notify | None = None, *, owner: str | None = None) -> str:
    """Give the lead to ``agent``; record ownership in the given scopes."""
    ctx.effects.append(AssignLead(agent, how, rule))
    ctx.update(status=ASSIGNED, assignee=agent, pending=None, attempts=0)
    ctx.trace.add("effect", f"Lead {how} to {ctx.agent_name(agent)}.",
                  data={"agent": agent, "how": how})
    key = ctx.contact_key
    status = ctx.contact.status if ctx.contact is not None else None
    current = None if status is None else str(status.value)
    for scope in own:
        skey = scope_key(scope, ctx)
        if key is None or skey is None:
            ctx.trace.add("detail", f"No ownership recorded in scope {scope}: the lead has no "
                          "contact identity or no value for the scope.")
            continue
        entered = ctx.lead.entry == "manual" and ctx.lead.entered_by == agent
        given = "agent_database" if entered else "assigned"
        ctx.effects.append(SetOwner(key, skey, agent, given))
        holder = ctx.owner(skey)
        kept = f"the contact is kept {STATUS_WORDS[current]}" if current else \
            "the contact keeps no status"
        if holder is not None and holder != agent:
            text = (f"{ctx.agent_name(agent)} does not own the contact in "
                    f"{describe_scope(skey)}: {ctx.agent_name(holder)} already does; {kept}.")
        else:
            text = (f"{ctx.agent_name(agent)} owns the contact in {describe_scope(skey)} "
                    "(unless another agent already does); "
                    + (kept if current else "the contact is now in their Agent Database"
                       if entered else "the contact is now Assigned to them") + ".")
            current = current or given
        ctx.trace.add("effect", text, data={"contact": key, "scope": skey, "agent": agent,
                                            "contact_status": current})
    ctx.notification(notify, assignee=agent, owner=owner or agent)
    return DONE


def enqueue(ctx: Context, queue: str, reason: str | None, rule: str,
            notify: Notify | None = None) -> str:
    ctx.effects.append(EnqueueLead(queue, reason, rule))
    ctx.update(status=QUEUED, queue=queue, reason=reason, pending=None)
    because = f" ({reason})" if reason else ""
    ctx.trace.add("effect", f"Lead put in queue '{queue}'{because}.",
                  data={"queue": queue, "reason": reason})
    ctx.notification(notify)
    return DONE


def run_assign(ctx: Context, step: Assign, rule: str) -> str:
    agent = ctx.evaluate(step.to)
    if not isinstance(agent, str) or agent not in ctx.world.agents:
        shown = target_text(agent)
        ctx.trace.add("step", f"Assign: `{step.to.text}` gives {shown}.", step.location)
        return enqueue(ctx, "unroutable", f"assign target {shown}", rule)
    ctx.trace.add("step", f"Assign to `{step.to.text}` = {agent}.", step.location)
    return assign(ctx, agent, "assigned", rule, step.own, step.notify)


def run_attach(ctx: Context, step: AttachToOwner, rule: str) -> str:
    skey = scope_key(step.scope, ctx)
    owner = ctx.owner(skey) if skey else None
    if owner is None or owner not in ctx.world.agents:
        why = "the lead has no value for this scope" if skey is None else (
            "the contact is not on record" if ctx.contact is None
            else f"the contact has no owner in {describe_scope(skey)}")
        if owner is not None:
            why = f"its owner {owner} is no longer in the world"
        ctx.trace.add("step", f"Existing owner: none ({why}); going on.", step.location,
                      {"scope": skey, "contact": ctx.contact_key})
        return PASS
    assert skey is not None
    lead = ctx.lead
    entered_by = lead.entered_by
    if (step.conflict_queue and lead.entry in ("manual", "import") and entered_by
            and entered_by != owner and ctx.contact_key):
        ctx.effects.append(ReportConflict(ctx.contact_key, owner, entered_by, skey))
        ctx.trace.add("step", f"Conflict: {ctx.agent_name(entered_by)} entered a contact that "
                      f"{ctx.agent_name(owner)} already owns in {describe_scope(skey)}; "
                      "nobody is reassigned.", step.location,
                      {"owner": owner, "entered_by": entered_by, "scope": skey})
        enqueue(ctx, step.conflict_queue,
                f"contact already owned by {owner}; entered by {entered_by}", rule)
        ctx.notification(step.notify, owner=owner)
        return DONE
    ctx.trace.add("step", f"Existing owner in {describe_scope(skey)}: "
                  f"{ctx.agent_name(owner)}; the activity goes to them.", step.location,
                  {"scope": skey, "owner": owner})
    return assign(ctx, owner, "attached", rule, (), step.notify, owner=owner)


def run_queue(ctx: Context, step: Queue, rule: str) -> str:
    ctx.trace.add("step", f"Queue '{step.name}'.", step.location)
    return enqueue(ctx, step.name, step.reason, rule, step.notify)


def run_drop(ctx: Context, step: Drop, rule: str) -> str:
    ctx.effects.append(DropLead(step.reason, rule))
    ctx.update(status=DROPPED, reason=step.reason, pending=None)
    ctx.trace.add("effect", f"Lead dropped: {step.reason}.", step.location,
                  {"reason": step.reason})
    return DONE


def run_notify(ctx: Context, step: NotifyStep, rule: str) -> str:
    ctx.notification(step.notify, assignee=ctx.state.assignee,
                     owner=ctx.owner("global") if ctx.contact else None)
    return PASS


def run_hold(ctx: Context, step: Hold, rule: str) -> str:
    calendar = ctx.calendar(step.until_open)
    if calendar.is_open(ctx.now):
        ctx.trace.add("step", f"Hold: '{step.until_open}' is open now; no wait.",
                      step.location)
        return PASS
    until = calendar.next_open(ctx.now)
    timer = ctx.next_id("t")
    ctx.effects.append(ScheduleTimer(timer, until, "hold"))
    ctx.update(status=WAITING,
                                pending=Pending("hold", None, deadline=until, timer_id=timer))
    local = calendar.local(until)
    ctx.trace.add("step", f"Held until '{step.until_open}' opens at "
                  f"{local:%a %Y-%m-%d %H:%M %Z}.", step.location,
                  {"until": until.isoformat(), "calendar": step.until_open})
    return WAIT


def run_pick_office(ctx: Context, step: PickOffice, rule: str) -> str:
    pool = ctx.ruleset.pools[step.pool]
    result = resolve_offices(ctx, pool)
    ctx.trace.add("pool", ("pool",), step.location, result.data("offices"))
    if not result.eligible:
        ctx.trace.add("step", "No office to pick; going on.", step.location)
        return PASS
    world = ctx.world
    if step.weight is None:
        pick = pick_random(ctx, result, None)
    else:
        weight = step.weight
        weights = [weight_of(weight, ctx.evaluate_office(weight, world.offices[o],
                                                         world.office_sizes.get(o, 0)))
                   for o in result.eligible]
        pick = pick_weighted(ctx, result, weights)
    ctx.trace.add("pick", pick.text.replace("Picked", "Picked office"), data=pick.data)
    ctx.update(office=pick.chosen)
    ctx.lead = ctx.lead.model_copy(update={"office": pick.chosen})
    if step.hand_to:
        return handoff(ctx, step.hand_to, f"office {pick.chosen} chosen")
    return PASS


def handoff(ctx: Context, policy: str, why: str) -> str:
    if policy in ctx.state.handoffs:
        ctx.trace.add("step", f"Hand-off to '{policy}' refused: it already routed this lead.")
        return enqueue(ctx, "unroutable", f"hand-off cycle at policy '{policy}'", "")
    ctx.trace.add("step", f"Handed to policy '{policy}' ({why}).", data={"policy": policy})
    ctx.update(policy=policy, position=(0, 0), matched=False, attempts=0,
                                handoffs=(*ctx.state.handoffs, policy))
    return HANDOFF


def run_use_policy(ctx: Context, step: UsePolicy, rule: str) -> str:
    return handoff(ctx, step.policy, f"rule '{rule}'")


IMMEDIATE: dict[str, Handler] = {
    "assign": run_assign,
    "attach_to_owner": run_attach,
    "queue": run_queue,
    "drop": run_drop,
    "notify": run_notify,
    "hold": run_hold,
    "pick_office": run_pick_office,
    "use_policy": run_use_policy,
}


def step_kind(step: Step) -> str:
    kind: str = getattr(step, "kind", type(step).__name__)
    return kind
