"""The pure decision function.

``decide(ruleset, world, facts, state, lead, event, now)`` → :class:`Decision` (new state,
effects, trace).  It reads no clock, no global randomness and does no I/O: the random generator
is seeded from the lead's seed and its event serial, so the same inputs always give the same
decision — which is what makes replay, simulation and scenario tests exact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rulekit.dsl.functions import describe
from rulekit.errors import EvaluationError, RulekitError
from rulekit.model import Lead
from rulekit.pipeline.context import Context
from rulekit.pipeline.effects import AssignLead, EnqueueLead, RecordAudit, RejectAction
from rulekit.pipeline.events import (
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
from rulekit.pipeline.facts import Facts
from rulekit.pipeline.offers import (
    DONE_OFFER,
    WAITING_STEPS,
    accepted,
    close_pending,
    declined,
    expired,
)
from rulekit.pipeline.park import Decision, park
from rulekit.pipeline.sla import (
    SLA_STEPS,
    contact_logged,
    contact_missed,
    sla_follows,
    sla_kept,
    waits_for_contact,
)
from rulekit.pipeline.state import ASSIGNED, PARKED, ROUTING, UNROUTED, LeadState
from rulekit.pipeline.steps import DONE, HANDOFF, IMMEDIATE, PASS, WAIT, enqueue, step_kind
from rulekit.ruleset import ExpectContact, Policy, Qualify, Rule, RuleSet, Step
from rulekit.trace import Trace, message
from rulekit.world import World

_set = object.__setattr__  # the working state is the decision's own copy (Context.update)

#: Queue for leads no policy serves.
UNMATCHED_QUEUE = "unmatched"
#: Bound on steps run in one decision (hand-offs included): a safety net, never reached by a
#: validated rule set.
MAX_STEPS = 1000


def lead_seed(lead_id: str, salt: str = "") -> str:
    """The lead's random seed: stable for its id, so replaying a lead redraws the same."""
    return hashlib.sha256(f"{salt}:{lead_id}".encode()).hexdigest()[:16]


def policy_matches(policy: Policy, ctx: Context) -> bool:
    applies = policy.applies_to
    lead = ctx.lead
    if not applies.declared:
        return False
    if applies.sources is not None and lead.source not in applies.sources:
        return False
    if applies.channels is not None and lead.channel not in applies.channels:
        return False
    if applies.brands is not None and lead.property.brand not in applies.brands:
        listing = ctx.listing
        if listing is None or listing.brand not in applies.brands:
            return False
    if applies.entries is not None and lead.entry.value not in applies.entries:
        return False
    return applies.when is None or ctx.condition(applies.when, f"Policy '{policy.name}'",
                                                 "policy", policy.location)


def select_policy(ctx: Context) -> Policy | None:
    best: Policy | None = None
    for policy in ctx.ruleset.policies:
        if policy_matches(policy, ctx) and (
                best is None or (policy.precedence or 0) > (best.precedence or 0)):
            best = policy
    return best


def _branch(parent: Step, branch: str) -> tuple[Step, ...]:
    """A nested list of steps: a qualification's verdict (or ``timeout``), an SLA's ``else``."""
    if isinstance(parent, ExpectContact):
        assert branch == "else"
        return parent.otherwise
    assert isinstance(parent, Qualify)
    return parent.on_timeout if branch == "timeout" else dict(parent.verdicts)[branch]


def _step_at(rule: Rule, position: tuple[Any, ...]) -> Step | None:
    """The step at a position, or ``None`` past the end of its list."""
    steps: tuple[Step, ...] = rule.steps
    for depth in range(1, len(position) - 1, 2):
        steps = _branch(steps[int(position[depth])], str(position[depth + 1]))
    index = int(position[-1])
    return steps[index] if index < len(steps) else None


def _hand_over(ctx: Context) -> bool:
    """After a step assigned the lead: when an ``expect_contact`` step follows it, move to
    that step (it holds the assignee to a first contact) and say so."""
    state = ctx.state
    if state.status != ASSIGNED:
        return False
    rule = ctx.policy.rules[int(state.position[0])]
    following = _advance(state.position)
    if not isinstance(_step_at(rule, following), ExpectContact):
        return False
    ctx.update(position=following)
    return True


def _advance(position: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*position[:-1], int(position[-1]) + 1)


def run(ctx: Context) -> None:
    """Run the lead's policy from its current position until it resolves or waits."""
    for _ in range(MAX_STEPS):
        policy = ctx.policy
        state = ctx.state
        rule_index = int(state.position[0])
        if rule_index >= len(policy.rules):
            _unrouted(ctx, f"no rule of policy '{policy.name}' routed the lead")
            return
        rule = policy.rules[rule_index]
        if not state.matched:
            if not _matches(ctx, rule):
                _set(state, "position", (rule_index + 1, 0))
                continue
            _set(state, "matched", True)
        step = _step_at(rule, ctx.state.position)
        if step is None:
            if len(ctx.state.position) > 2:  # end of a branch: its qualify or SLA step passes
                ctx.update(position=_advance(ctx.state.position[:-2]))
                continue
            if rule.then == "continue":
                ctx.trace.add("rule", f"Rule '{rule.name}' did not route the lead; "
                              "continuing with the next rule.")
                ctx.update(position=(rule_index + 1, 0), matched=False)
                continue
            _unrouted(ctx, f"rule '{rule.name}' ended without routing the lead")
            return
        kind = step_kind(step)
        handler = IMMEDIATE.get(kind) or SLA_STEPS.get(kind) or WAITING_STEPS[kind]
        outcome = handler(ctx, step, rule.name)
        if outcome == "timeout":  # a qualify step with nobody to qualify
            ctx.update(position=(*ctx.state.position, "timeout", 0))
            continue
        if outcome == DONE and _hand_over(ctx):
            continue
        if outcome in (DONE, WAIT):
            return
        if outcome == HANDOFF:
            continue
        assert outcome == PASS
        ctx.update(position=_advance(ctx.state.position))
    _unrouted(ctx, "routing took too many steps")


def _matches(ctx: Context, rule: Rule) -> bool:
    if rule.when is None:
        ctx.trace.add("rule", f"Rule '{rule.name}' applies (it has no condition).",
                      rule.location)
        return True
    when = rule.when
    try:
        result = bool(ctx.evaluate(when))
    except EvaluationError as error:  # counts as not matching, said in the trace
        ctx.unevaluable(f"Rule '{rule.name}'", error, "rule", rule.location,
                        data={"rule": rule.name})
        return False
    fields = []
    records = []
    for path, value in when.read_values(*ctx.arguments()).items():
        if isinstance(getattr(value, "id", None), str):  # a record: kept by its id
            records.append(path)
        fields.append((path, _plain(value)))
    ctx.trace.add("rule", ("condition", rule.name, when.text.strip(), tuple(records)),
                  rule.location, {"rule": rule.name, "result": result, "fields": tuple(fields)})
    return result


@message("condition")
def _word_condition(data: Mapping[str, Any], rule: str, condition: str,
                    records: Sequence[str] = ()) -> str:
    """The wording of a rule condition's result, with the field values it read."""
    shown = ", ".join(f"{path} = {value if path in records else _show(value)}"
                      for path, value in data["fields"])
    return (f"Rule '{rule}': `{condition}` is {'true' if data['result'] else 'false'}"
            + (f" ({shown})" if shown else "") + ".")


#: Deepest nesting of a value read by a condition that a trace keeps as is; deeper lists and
#: maps (a payload's free-form attributes) are kept as their description.
MAX_TRACED_DEPTH = 16


def _plain(value: object, depth: int = 0) -> object:
    """A value read by a condition, as the trace keeps it (see ``rulekit.trace.Pairs``):
    records by id, lists as tuples, mappings as tuples of pairs (nested at most
    :data:`MAX_TRACED_DEPTH` levels: ``"a list of 3 items"`` below)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    identity = getattr(value, "id", None)
    if isinstance(identity, str):
        return identity
    if isinstance(value, (list, tuple, set, frozenset, dict)) and depth >= MAX_TRACED_DEPTH:
        return describe(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return tuple((str(k), _plain(v, depth + 1)) for k, v in value.items())
    return value


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)) and len(value) > 5:
        return f"[{', '.join(map(str, value[:5]))}, … {len(value)} items]"
    if isinstance(value, tuple):
        return str(list(value))
    return str(value)


def _unrouted(ctx: Context, reason: str) -> None:
    ctx.effects.append(EnqueueLead("unrouted", reason, ""))
    ctx.update(status=UNROUTED, queue="unrouted", reason=reason, pending=None)
    ctx.trace.add("effect", f"Lead left unrouted: {reason}; put in queue 'unrouted'.")


def _start(ctx: Context) -> None:
    lead = ctx.lead
    ctx.trace.add("event", f"Lead {lead.id} received from {lead.source}"
                  + (f" ({lead.channel})" if lead.channel else "")
                  + f", inquiry '{lead.inquiry_type}'.")
    policy = select_policy(ctx)
    if policy is None:
        ctx.trace.add("policy", f"No policy serves source '{lead.source}'.")
        enqueue(ctx, UNMATCHED_QUEUE, f"no policy serves source '{lead.source}'", "")
        return
    ctx.trace.add("policy", f"Policy '{policy.name}' serves it.", policy.location,
                  {"policy": policy.name})
    ctx.update(policy=policy.name, position=(0, 0), matched=False,
                                handoffs=(policy.name,))
    if not policy.enabled:
        ctx.trace.add("policy", f"Policy '{policy.name}' is disabled: distribution is off.")
        enqueue(ctx, policy.disabled_queue, "distribution disabled", "")
        return
    run(ctx)


def _current(ctx: Context) -> tuple[Rule, Step]:
    state = ctx.state
    rule = ctx.policy.rules[int(state.position[0])]
    step = _step_at(rule, state.position)
    assert step is not None
    return rule, step


def _reject(ctx: Context, agent: str, reason: str) -> None:
    ctx.effects.append(RejectAction(agent, reason))
    ctx.trace.add("event", f"{ctx.agent_name(agent)}: {reason}.")


def _reassign(ctx: Context, event: AdminReassign) -> None:
    """An administrator's reassignment: an open offer or hold is withdrawn; a first-contact
    SLA the lead waits on follows it to the new assignee (:func:`sla_follows`)."""
    state = ctx.state
    ctx.trace.add("event", f"{event.by} reassigned the lead to "
                  f"{ctx.agent_name(event.agent)}: {event.reason}.")
    if event.agent not in ctx.world.agents:
        _reject(ctx, event.agent, "not an agent of this world")
        return
    sla = _current(ctx)[1] if waits_for_contact(state) else None
    if isinstance(sla, ExpectContact) and state.assignee == event.agent:
        sla_kept(ctx, sla)
        return
    previous = state.assignee
    close_pending(ctx, "withdrawn")
    ctx.effects.append(AssignLead(event.agent, "reassigned", ""))
    ctx.update(status=ASSIGNED, assignee=event.agent, queue=None,
               contact=None if state.contact == "waiting" else state.contact)
    if isinstance(sla, ExpectContact) and previous is not None:
        sla_follows(ctx, sla, previous, event.agent)


def _resume(ctx: Context, event: Event) -> None:
    state = ctx.state
    pending = state.pending
    if isinstance(event, AdminReassign):
        _reassign(ctx, event)
        return
    if isinstance(event, TimerFired):
        if pending is None or pending.timer_id != event.timer_id or state.final:
            ctx.trace.add("timer", f"Timer {event.timer_id} fired, but nothing waits for it "
                          "any more; ignored.")
            return
    elif isinstance(event, (OfferAccepted, OfferDeclined)):
        verb = "accept" if isinstance(event, OfferAccepted) else "decline"
        if state.final or pending is None or pending.offer_id != event.offer_id:
            taken = state.status == ASSIGNED and state.assignee != event.agent
            _reject(ctx, event.agent, f"cannot {verb} offer {event.offer_id}: "
                    + ("another agent already has the lead" if taken
                       else "the offer is no longer open"))
            return
        if isinstance(event, OfferAccepted) and pending.deadline is not None \
                and ctx.now >= pending.deadline:
            _reject(ctx, event.agent, f"cannot accept offer {event.offer_id}: its deadline "
                    f"passed at {pending.deadline.isoformat()}")
            return
        if pending.mode == "qualify" or event.agent not in pending.agents \
                or event.agent in pending.declined:
            _reject(ctx, event.agent, f"cannot {verb} offer {event.offer_id}: it was not "
                    "offered to this agent")
            return
    elif isinstance(event, QualifierVerdict) and (
            pending is None or pending.mode != "qualify" or event.qualifier not in pending.agents):
        _reject(ctx, event.qualifier, "no qualification of this lead is waiting for this "
                "qualifier")
        return
    rule, step = _current(ctx)
    outcome = _answer(ctx, event, rule, step)
    if outcome == DONE and isinstance(event, OfferAccepted) and _hand_over(ctx):
        run(ctx)
        return
    if outcome in (DONE, WAIT):
        return
    if outcome == DONE_OFFER:
        if isinstance(step, Qualify):
            if step.on_timeout:
                ctx.update(position=(*ctx.state.position, "timeout", 0))
                run(ctx)
                return
        elif step_kind(step) == "offer_sequence":
            run(ctx)  # the same step makes its next offer, or passes when exhausted
            return
    ctx.update(position=_advance(ctx.state.position))
    run(ctx)


def _answer(ctx: Context, event: Event, rule: Rule, step: Step) -> str:
    if isinstance(event, OfferAccepted):
        ctx.trace.add("event", f"{ctx.agent_name(event.agent)} answered offer "
                      f"{event.offer_id}.", data={"offer": event.offer_id,
                                                  "agent": event.agent, "answer": "accept"})
        return accepted(ctx, step, event.agent, rule.name)
    if isinstance(event, OfferDeclined):
        ctx.trace.add("event", f"{ctx.agent_name(event.agent)} answered offer "
                      f"{event.offer_id}.", data={"offer": event.offer_id,
                                                  "agent": event.agent, "answer": "decline"})
        return declined(ctx, step, event.agent)
    if isinstance(event, QualifierVerdict):
        ctx.trace.add("event", f"Qualifier {ctx.agent_name(event.qualifier)} says: "
                      f"{event.verdict}.")
        close_pending(ctx, f"verdict:{event.verdict}", event.qualifier)
        ctx.update(position=(*ctx.state.position, event.verdict, 0))
        run(ctx)
        return DONE
    pending = ctx.state.pending
    assert pending is not None
    if pending.mode == "hold":
        ctx.trace.add("timer", "The hold is over: the calendar is open.")
        ctx.update(pending=None)
        return PASS
    return expired(ctx, step)


def _retry(ctx: Context, event: AdminRetry) -> None:
    """Route a parked lead again from the start, with the current rule set."""
    state = ctx.state
    if state.status != PARKED:
        ctx.trace.add("event", f"{event.by} asked to retry the lead, but it is "
                      f"{state.status}, not parked; nothing to do.")
        return
    ctx.trace.add("event", f"{event.by} retried the parked lead: {event.reason}.")
    ctx.effects.append(RecordAudit(event.by, "lead_retried", (
        ("lead", state.lead_id), ("reason", event.reason),
        ("ruleset", ctx.ruleset.version), ("error", state.reason))))
    ctx.update(ruleset_version=ctx.ruleset.version, status=ROUTING, policy=None, position=(),
               matched=False, pending=None, queue=None, reason=None, handoffs=())
    _start(ctx)


def _activity(ctx: Context, event: ActivityLogged) -> None:
    """Keep the agent's contact with the consumer as an event of the lead; only the agent
    the lead is assigned to can log it."""
    state = ctx.state
    if state.assignee != event.agent:
        _reject(ctx, event.agent, f"cannot log a {event.activity} on lead {state.lead_id}: "
                "the lead is not assigned to this agent")
        return
    note = f": {event.note}" if event.note else ""
    article = "an" if event.activity[:1] in "aeiou" else "a"
    ctx.trace.add("event", f"{ctx.agent_name(event.agent)} logged {article} {event.activity} with "
                  f"the consumer{note}.", data={"agent": event.agent,
                                               "activity": event.activity,
                                               "note": event.note})
    contact_logged(ctx, event)


def _contact_missed(ctx: Context) -> None:
    """The first-contact SLA's timer fired: the miss is recorded, and routing goes on with
    the SLA's ``else`` steps."""
    _, step = _current(ctx)
    assert isinstance(step, ExpectContact)
    contact_missed(ctx, step)
    run(ctx)


def decide(ruleset: RuleSet, world: World, facts: Facts, state: LeadState | None, lead: Lead,
           event: Event, now: datetime) -> Decision:
    """Decide what ``event`` does to the lead.  Pure: same inputs, same decision.

    A rule problem found on the way (:class:`~rulekit.errors.RulekitError`: an expression
    that cannot be evaluated, a deadline that cannot be computed) never escapes: the lead is
    parked (:func:`~rulekit.pipeline.park.park`) with the error and its position."""
    if state is None:  # a new state is the decision's own working copy
        read = state = LeadState(lead.id, ruleset.version, lead_seed(lead.id))
    else:
        read = state
        if state.office and lead.office != state.office:
            lead = lead.model_copy(update={"office": state.office})
        state = state.clone()  # the working copy that Context.update changes
    try:
        return _decide(ruleset, world, facts, state, lead, event, now)
    except RulekitError as error:
        return park(read, event.kind, now, error)


def _decide(ruleset: RuleSet, world: World, facts: Facts, state: LeadState, lead: Lead,
            event: Event, now: datetime) -> Decision:
    trace = Trace(lead.id, event.kind, now, state.ruleset_version, state.seed)
    ctx = Context(ruleset, world, facts, now, lead, state, trace,
                  f"{state.seed}:{state.serial}:{event.kind}")
    if isinstance(event, LeadReceived):
        if state.policy is not None or state.status == PARKED:
            trace.add("event", f"Lead {lead.id} was already received; nothing to do.")
        else:
            _start(ctx)
    elif isinstance(event, AdminRetry):
        _retry(ctx, event)
    elif isinstance(event, ActivityLogged):
        _activity(ctx, event)
    elif isinstance(event, TimerFired) and waits_for_contact(state, event.timer_id):
        _contact_missed(ctx)
    elif state.final and not isinstance(event, AdminReassign):
        agent = getattr(event, "agent", None) or getattr(event, "qualifier", None)
        if isinstance(event, TimerFired):
            trace.add("timer", f"Timer {event.timer_id} fired after the lead was "
                      f"{state.status}; ignored.")
        elif agent:
            _resume(ctx, event)
        else:
            trace.add("event", f"Lead already {state.status}; event ignored.")
    else:
        _resume(ctx, event)
    ctx.update(serial=ctx.state.serial + 1)
    return Decision(ctx.state, tuple(ctx.effects), trace)


__all__ = ["Decision", "decide", "lead_seed"]
