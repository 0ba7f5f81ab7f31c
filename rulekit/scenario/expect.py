"""Expectations of a scenario, checked when it ends against the engine's store.

Each check says what was expected and, when it fails, what happened instead, with the part of
the lead's trace that explains it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from rulekit.engine import Engine
from rulekit.errors import SourceLocation
from rulekit.pipeline.facts import identity_key
from rulekit.pipeline.sla import CONTACT_MISSED
from rulekit.pipeline.state import ASSIGNED
from rulekit.scenario.spec import ExpectedTime, Scenario, parse_expected
from rulekit.storage.catalog import as_catalog

#: How many trace lines a failure shows.
EXCERPT_LINES = 14


@dataclass
class Check:
    ok: bool
    text: str
    detail: str = ""
    location: SourceLocation | None = None


@dataclass(frozen=True)
class Refusal:
    """An answer the engine refused (a ``RejectAction``): who, to what, when and why."""

    lead: str
    agent: str
    answer: str  # accept | decline | verdict | reassign | activity
    offer: str | None
    at: datetime
    reason: str


@dataclass
class Observed:
    """What a run saw that the store does not keep: the refused answers, and for each lead
    the rule of its latest outcome (the rule that assigned, queued, dropped or offered it)."""

    refusals: list[Refusal] = field(default_factory=list)
    rules: dict[str, str] = field(default_factory=dict)


def _excerpt(engine: Engine, lead_id: str | None) -> str:
    if not lead_id or engine.store.get_lead(lead_id) is None:
        return ""
    lines = engine.explain(lead_id).splitlines()
    if len(lines) > EXCERPT_LINES:
        lines = ["…", *lines[-EXCERPT_LINES:]]
    return "\n".join(lines)


def _when(value: Any, scenario: Scenario) -> ExpectedTime:
    expected = parse_expected(value, scenario.start)
    if isinstance(expected, str):
        raise ValueError(expected)
    return expected


def _zone_label(zone: tzinfo) -> str:
    return f" (times in {zone.tzname(None) or zone})"


def _at(instant: datetime | None, zone: tzinfo) -> str:
    return instant.astimezone(zone).isoformat() if instant is not None else "none"


def winner(engine: Engine, lead_id: str) -> str | None:
    """The agent lead ``lead_id`` is assigned to now (``None`` while nobody has it)."""
    state = engine.state(lead_id)
    return state.assignee if state is not None and state.status == ASSIGNED else None


def agent_ref(engine: Engine, ref: Any, *, yet: str = "") -> str:
    """An agent id as an expectation or event gives it: an id, or ``{winner_of: LEAD}``
    (the agent that lead is assigned to); ``ValueError`` when that lead has no winner."""
    if not isinstance(ref, dict):
        return str(ref)
    lead_id = str(ref["winner_of"])
    agent = winner(engine, lead_id)
    if agent is None:
        state = engine.state(lead_id)
        raise ValueError(f"lead {lead_id} has no winner{yet} "
                         + (f"(status {state.status})" if state else "(no such lead)"))
    return agent


def _ref_text(ref: Any, agent: str) -> str:
    return f"{agent} (the winner of {ref['winner_of']})" if isinstance(ref, dict) else agent


def _times(name: str, want: list[ExpectedTime], got: list[datetime | None],
           zone: tzinfo) -> tuple[bool, str, str]:
    ok = len(got) == len(want) and all(w.matches(g) for w, g in zip(want, got, strict=False))
    return (ok, f"{name} [{', '.join(w.show(zone) for w in want)}]",
            f"[{', '.join(_at(g, zone) for g in got)}]" + _zone_label(zone))


def _lead_checks(engine: Engine, scenario: Scenario, lead_id: str, spec: dict[str, Any],
                 observed: Observed) -> list[tuple[bool, str, str]]:
    store = engine.store
    state = engine.state(lead_id)
    out: list[tuple[bool, str, str]] = []
    if state is None:
        return [(False, f"lead {lead_id} exists", "no such lead was routed")]
    assignments = store.assignments(lead_id)
    last = assignments[-1] if assignments else None
    if "status" in spec:
        out.append((state.status == spec["status"], f"status {spec['status']}",
                    f"status is {state.status}"))
    if "assigned_to" in spec:
        want = agent_ref(engine, spec["assigned_to"])
        got = state.assignee if state.status == ASSIGNED else None
        out.append(((got or "nobody") == want,
                    f"assigned to {_ref_text(spec['assigned_to'], want)}",
                    f"assigned to {got}" if got else f"not assigned (status {state.status})"))
    if "how" in spec:
        out.append((last is not None and last.how == spec["how"], f"assigned by {spec['how']}",
                    f"assigned by {last.how}" if last else "not assigned"))
    for key, word, earliest in (("by", "by", False), ("not_before", "no earlier than", True)):
        if key in spec:
            limit = _when(spec[key], scenario)
            ok = last is not None and (last.at >= limit.at if earliest else last.at <= limit.at)
            out.append((ok, f"assigned {word} {limit.show()}",
                        f"assigned at {_at(last.at, limit.zone)}{_zone_label(limit.zone)}"
                        if last else "never assigned"))
    if "queue" in spec:
        queues = [q.queue for q in store.queue_items() if q.lead_id == lead_id]
        out.append((state.queue == spec["queue"], f"in queue {spec['queue']}",
                    f"queues: {queues or 'none'}; status {state.status}"))
    if "reason" in spec:
        out.append((spec["reason"] in (state.reason or ""), f"reason mentions "
                    f"'{spec['reason']}'", f"reason: {state.reason}"))
    offers = store.offers(lead_id)
    singles = [o for o in offers if o.mode == "single"]
    if "offers" in spec:
        offered = [o.agents[0] for o in singles]
        wanted = [w if w == "*" else agent_ref(engine, w) for w in spec["offers"]]
        ok = len(offered) == len(wanted) and all(
            w in ("*", g) for w, g in zip(wanted, offered, strict=False))
        out.append((ok, f"offers {wanted}", f"offers {offered}"))
    for key, name in (("offer_deadlines", "offer deadlines"), ("offered_at", "offers made at")):
        if key in spec:
            times = [_when(t, scenario) for t in spec[key]]
            zone = times[0].zone if times else times_zone(scenario)
            got_times = [o.deadline if key == "offer_deadlines" else o.created_at
                         for o in singles]
            ok, text, said = _times(name, times, got_times, zone)
            out.append((ok, text, ("deadlines " if key == "offer_deadlines" else "made at ")
                        + said))
    if spec.get("distinct_offers"):
        agents = [o.agents[0] for o in singles]
        out.append((len(set(agents)) == len(agents), "every offer to a different agent",
                    f"offers {agents}"))
    casts = [o for o in offers if o.mode == "broadcast"]
    cast = casts[-1] if casts else None
    if "broadcast" in spec:
        want_cast = spec["broadcast"]
        ok = cast is not None
        said = "no broadcast" if cast is None else (
            f"broadcast to {len(cast.agents)} agents, status {cast.status}, "
            f"winner {cast.winner}")
        if cast is not None and "at_least" in want_cast:
            ok = ok and len(cast.agents) >= want_cast["at_least"]
        if cast is not None and want_cast.get("one_winner"):
            winners = [a for a in assignments if a.how.startswith("claimed")]
            ok = ok and cast.winner is not None and len(winners) == 1
        if "winner" in want_cast:
            want_cast = {**want_cast, "winner": agent_ref(engine, want_cast["winner"])}
            ok = ok and cast is not None and cast.winner == want_cast["winner"]
        out.append((ok, f"broadcast {want_cast}", said))
    if "broadcast_at" in spec:
        when = _when(spec["broadcast_at"], scenario)
        out.append((cast is not None and when.matches(cast.created_at),
                    f"broadcast at {when.show()}",
                    "no broadcast" if cast is None else
                    f"broadcast at {_at(cast.created_at, when.zone)}{_zone_label(when.zone)}"))
    if "office" in spec:
        out.append((state.office == spec["office"], f"office {spec['office']}",
                    f"office {state.office}"))
    if "served_by" in spec:
        out.append(_served_by(engine, lead_id, spec["served_by"], observed))
    if "refused" in spec:
        out.append(_refused(engine, scenario, lead_id, spec["refused"], observed))
    if "notification" in spec:
        out.append(_notification(engine, lead_id, spec["notification"]))
    if "no_notification" in spec:
        sent = [m.template for m in store.outbox() if m.lead_id == lead_id]
        out.append((spec["no_notification"] not in sent,
                    f"no '{spec['no_notification']}' notification", f"sent: {sent}"))
    if "contact" in spec:
        out.append((state.contact == spec["contact"], f"first contact {spec['contact']}",
                    f"first contact {state.contact or 'not expected'}"))
    if "contact_missed" in spec:
        want_missed = [agent_ref(engine, a) for a in spec["contact_missed"]]
        missed = [str(e.detail.get("agent")) for e in as_catalog(store).audit()
                  if e.action == CONTACT_MISSED and e.detail.get("lead") == lead_id]
        out.append((missed == want_missed, f"first contact missed by {want_missed}",
                    f"missed by {missed}"))
    return out


def _paused(engine: Engine, want: list[Any]) -> tuple[bool, str, str]:
    agents = [agent_ref(engine, a) for a in want]
    paused = sorted(a for a in agents if (found := engine.world.agents.get(a)) is not None
                    and found.paused)
    return (paused == sorted(agents), f"paused {agents}",
            f"paused: {paused}; not paused: {sorted(set(agents) - set(paused))}")


def _served_by(engine: Engine, lead_id: str, want: dict[str, Any],
               observed: Observed) -> tuple[bool, str, str]:
    state = engine.state(lead_id)
    policy = state.policy if state is not None else None
    rule = observed.rules.get(lead_id)
    if rule is None and lead_id not in observed.rules:  # not seen by a run: the store says
        assignments = engine.store.assignments(lead_id)
        rule = assignments[-1].rule if assignments else None
    got = {"policy": policy, "rule": rule or None}
    ok = all(got[key] == want[key] for key in ("policy", "rule") if key in want)
    return (ok, "served by " + ", ".join(f"{key} {want[key] or 'none'}"
                                         for key in ("policy", "rule") if key in want),
            f"served by policy {policy or 'none'}, rule {rule or 'none'}")


def _late(engine: Engine, refusal: Refusal) -> bool:
    """The answer came after the offer it answered had closed or passed its deadline."""
    for offer in engine.store.offers(refusal.lead):
        if offer.offer_id == refusal.offer:
            return (offer.closed_at is not None and offer.closed_at <= refusal.at) or (
                offer.deadline is not None and offer.deadline <= refusal.at)
    return False


def _refused(engine: Engine, scenario: Scenario, lead_id: str, want: dict[str, Any],
             observed: Observed) -> tuple[bool, str, str]:
    agent = agent_ref(engine, want["agent"]) if "agent" in want else None
    when = _when(want["at"], scenario) if "at" in want else None
    zone = when.zone if when is not None else times_zone(scenario)
    refusals = [(r, _late(engine, r)) for r in observed.refusals if r.lead == lead_id]
    parts = ([f"by {_ref_text(want['agent'], agent)}"] if agent is not None else []) + (
        [f"to {want['answer']}"] if "answer" in want else []) + (
        [f"mentioning '{want['reason']}'"] if "reason" in want else []) + (
        [("late" if want["late"] else "not late")] if "late" in want else []) + (
        [f"at {when.show()}"] if when is not None else [])
    text = "an answer refused" + (f" ({', '.join(parts)})" if parts else "")
    for refusal, late in refusals:
        if (agent is None or refusal.agent == agent) \
                and want.get("answer", refusal.answer) == refusal.answer \
                and want.get("reason", "") in refusal.reason \
                and want.get("late", late) == late \
                and (when is None or when.matches(refusal.at)):
            return True, text, ""
    shown = "; ".join(f"{r.agent} {r.answer} at {_at(r.at, zone)}: {r.reason}"
                      + (" (late)" if late else "") for r, late in refusals)
    return False, text, ("refused: " + shown + _zone_label(zone)) if shown \
        else "refused: nothing"


def times_zone(scenario: Scenario) -> tzinfo:
    """The zone failure messages use when an expectation writes no time: the start's."""
    return scenario.start.tzinfo or UTC


#: A value no notification variable has.
_MISSING = object()


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _notification(engine: Engine, lead_id: str | None,
                  want: dict[str, Any]) -> tuple[bool, str, str]:
    messages = [m for m in engine.store.outbox() if lead_id is None or m.lead_id == lead_id]
    to = {agent_ref(engine, r) for r in want.get("to", ())}
    cc = {agent_ref(engine, r) for r in want.get("cc", ())}
    variables: dict[str, Any] = want.get("variables", {})
    exactly = bool(want.get("exactly"))
    shown_want = {**want, **({"to": sorted(to)} if "to" in want else {}),
                  **({"cc": sorted(cc)} if "cc" in want else {})}
    for message in messages:
        if "template" in want and message.template != want["template"]:
            continue
        if "subject" in want and message.subject != want["subject"]:
            continue
        if not to <= set(message.to) or (exactly and "to" in want and to != set(message.to)):
            continue
        if not cc <= set(message.cc) or (exactly and "cc" in want and cc != set(message.cc)):
            continue
        if len(message.to) < want.get("to_at_least", 0):
            continue
        if any(_plain(message.variables.get(k, _MISSING)) != _plain(v)
               for k, v in variables.items()):
            continue
        return True, f"notification {shown_want}", ""
    same = [m for m in messages if m.template == want.get("template")] or messages
    shown = [f"{m.template} “{m.subject}” to {list(m.to)} cc {list(m.cc)}"
             + (f" variables {dict(m.variables)}" if m.variables else "") for m in same]
    return False, f"notification {shown_want}", "sent: " + ("; ".join(shown) or "nothing")


def _owner(engine: Engine, want: dict[str, Any]) -> tuple[bool, str, str]:
    key = identity_key(want["email"], None)
    contact = engine.store.facts().contact(key) if key else None
    scope = want["scope"]
    agent = agent_ref(engine, want["agent"])
    got = None
    if contact is not None:
        got = contact.owner if scope == "global" else contact.owners.get(scope)
    return ((got or "nobody") == agent,
            f"{want['email']} owned by {_ref_text(want['agent'], agent)} in {scope}",
            f"owner is {got}")


def _contact_status(engine: Engine, want: dict[str, Any]) -> tuple[bool, str, str]:
    """A contact's status, owner and shared agents as the scenario ends."""
    key = identity_key(want["email"], None)
    contact = engine.store.facts().contact(key) if key else None
    got = {"status": contact.status.value if contact and contact.status else None,
           "owner": (contact.owner if contact else None) or "nobody",
           "shared_with": sorted(contact.shared_with) if contact else []}
    wanted: dict[str, Any] = {}
    if "status" in want:
        wanted["status"] = want["status"]
    if "owner" in want:
        wanted["owner"] = agent_ref(engine, want["owner"])
    if "shared_with" in want:
        wanted["shared_with"] = sorted(agent_ref(engine, a) for a in want["shared_with"])
    shown = ", ".join(f"{k} {v}" for k, v in wanted.items()) or "known"
    return (contact is not None and all(got[k] == v for k, v in wanted.items()),
            f"contact {want['email']}: {shown}",
            "no such contact" if contact is None
            else ", ".join(f"{k} {got[k]}" for k in wanted or got))


def _conflict(engine: Engine, want: dict[str, Any]) -> tuple[bool, str, str]:
    conflicts: list[Any] = getattr(engine.store, "conflicts", list)()
    wanted = {k: agent_ref(engine, v) for k, v in want.items()}
    ok = any(all(getattr(c, k) == v for k, v in wanted.items()) for c in conflicts)
    return ok, f"conflict {wanted}", f"conflicts: {conflicts}"


def _distribution(engine: Engine, want: dict[str, Any]) -> tuple[bool, str, str]:
    """Count the leads whose id starts with ``leads`` per key, in one pass over the leads
    (and, for ``by: offered``, one pass over the offers)."""
    store = engine.store
    prefix, by = want["leads"], want["by"]
    first_offered: dict[str, str] = {}
    if by == "offered":
        for offer in store.offers():  # in creation order: the first single offer wins
            if offer.mode == "single" and offer.lead_id.startswith(prefix):
                first_offered.setdefault(offer.lead_id, offer.agents[0])
    counts: Counter[str] = Counter()
    for lead_id in store.lead_ids():
        if not lead_id.startswith(prefix):
            continue
        key: str | None
        if by == "offered":
            key = first_offered.get(lead_id)
        else:
            state = store.get_state(lead_id)
            if by == "office":
                key = state.office if state else None
            else:
                key = state.assignee if state and state.status == ASSIGNED else None
        counts[key or "(none)"] += 1
    total = sum(counts.values())
    problems: list[str] = []
    for key, share in want.get("shares", {}).items():
        got = counts.get(key, 0) / total if total else 0.0
        if abs(got - share) > want.get("tolerance", 0.02):
            problems.append(f"{key}: {got:.3f} (expected {share:.3f})")
    keys = [agent_ref(engine, k) for k in want.get("keys", ())]
    missing = [k for k in keys if not counts.get(k)]
    if missing:
        problems.append(f"missing: {', '.join(missing)} (no leads)")
    if "max_spread" in want:
        over = keys or [k for k in counts if k != "(none)"]
        values = [counts.get(k, 0) for k in over]
        spread = max(values) - min(values) if values else 0
        if spread > want["max_spread"]:
            problems.append(f"spread {spread} > {want['max_spread']}")
    shown = ", ".join(f"{k}: {v}" for k, v in counts.most_common(12))
    return (not problems and total > 0, f"distribution of {total} leads by {by}",
            ("; ".join(problems) + " — " if problems else "") + f"counts: {shown}")


def check_expectation(engine: Engine, scenario: Scenario, spec: dict[str, Any],
                      location: SourceLocation, observed: Observed | None = None) -> Check:
    """Check one expectation; every condition in it must hold.  ``observed`` is what the run
    saw beyond the store (refused answers, the rule of each outcome)."""
    lead_id = spec.get("lead")
    results: list[tuple[bool, str, str]] = []
    try:
        if lead_id is not None:
            results.extend(_lead_checks(engine, scenario, lead_id, spec,
                                        observed or Observed()))
        elif "notification" in spec:
            results.append(_notification(engine, None, spec["notification"]))
        if "owner" in spec:
            results.append(_owner(engine, spec["owner"]))
        if "contact_status" in spec:
            results.append(_contact_status(engine, spec["contact_status"]))
        if "conflict" in spec:
            results.append(_conflict(engine, spec["conflict"]))
        if "distribution" in spec:
            results.append(_distribution(engine, spec["distribution"]))
        if "paused" in spec:
            results.append(_paused(engine, spec["paused"]))
    except ValueError as exc:
        return Check(False, (f"{lead_id}: " if lead_id else "") + "cannot be checked",
                     str(exc), location)
    if not results:
        return Check(False, "expectation checks nothing", "", location)
    failed = [(text, said) for ok, text, said in results if not ok]
    label = (f"{lead_id}: " if lead_id else "") + "; ".join(t for _, t, _ in results)
    if not failed:
        return Check(True, label, "", location)
    said = "; ".join(f"expected {t}, but {s}" for t, s in failed)
    excerpt = _excerpt(engine, lead_id)
    return Check(False, label, said + (f"\n{excerpt}" if excerpt else ""), location)
