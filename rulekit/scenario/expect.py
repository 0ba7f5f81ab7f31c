"""Expectations of a scenario, checked when it ends against the engine's store.

Each check says what was expected and, when it fails, what happened instead, with the part of
the lead's trace that explains it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rulekit.engine import Engine
from rulekit.errors import SourceLocation
from rulekit.pipeline.facts import identity_key
from rulekit.scenario.spec import Scenario, parse_when

#: How many trace lines a failure shows.
EXCERPT_LINES = 14


@dataclass
class Check:
    ok: bool
    text: str
    detail: str = ""
    location: SourceLocation | None = None


def _excerpt(engine: Engine, lead_id: str | None) -> str:
    if not lead_id or engine.store.get_lead(lead_id) is None:
        return ""
    lines = engine.explain(lead_id).splitlines()
    if len(lines) > EXCERPT_LINES:
        lines = ["…", *lines[-EXCERPT_LINES:]]
    return "\n".join(lines)


def _when(text: str, scenario: Scenario) -> datetime:
    instant = parse_when(text, scenario.start)
    if instant is None:
        raise ValueError(f"cannot read the time '{text}'")
    return instant


def _lead_checks(engine: Engine, scenario: Scenario, lead_id: str,
                 spec: dict[str, Any]) -> list[tuple[bool, str, str]]:
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
        want = spec["assigned_to"]
        got = state.assignee if state.status == "assigned" else None
        out.append(((got or "nobody") == want, f"assigned to {want}",
                    f"assigned to {got}" if got else f"not assigned (status {state.status})"))
    if "how" in spec:
        out.append((last is not None and last.how == spec["how"], f"assigned by {spec['how']}",
                    f"assigned by {last.how}" if last else "not assigned"))
    if "by" in spec:
        limit = _when(spec["by"], scenario)
        out.append((last is not None and last.at <= limit, f"assigned by {limit.isoformat()}",
                    f"assigned at {last.at.isoformat()}" if last else "never assigned"))
    if "not_before" in spec:
        limit = _when(spec["not_before"], scenario)
        out.append((last is not None and last.at >= limit,
                    f"assigned no earlier than {limit.isoformat()}",
                    f"assigned at {last.at.isoformat()}" if last else "never assigned"))
    if "queue" in spec:
        queues = [q.queue for q in store.queue_items() if q.lead_id == lead_id]
        out.append((state.queue == spec["queue"], f"in queue {spec['queue']}",
                    f"queues: {queues or 'none'}; status {state.status}"))
    if "reason" in spec:
        out.append((spec["reason"] in (state.reason or ""), f"reason mentions "
                    f"'{spec['reason']}'", f"reason: {state.reason}"))
    singles = [o for o in store.offers(lead_id) if o.mode == "single"]
    if "offers" in spec:
        offered = [o.agents[0] for o in singles]
        wanted: list[str] = spec["offers"]
        ok = len(offered) == len(wanted) and all(
            w in ("*", g) for w, g in zip(wanted, offered, strict=False))
        out.append((ok, f"offers {wanted}", f"offers {offered}"))
    if "offer_deadlines" in spec:
        got_deadlines = [o.deadline for o in singles]
        want_deadlines = [_when(t, scenario) for t in spec["offer_deadlines"]]
        out.append((got_deadlines == want_deadlines,
                    f"offer deadlines {[t.isoformat() for t in want_deadlines]}",
                    f"deadlines {[t.isoformat() if t else None for t in got_deadlines]}"))
    if spec.get("distinct_offers"):
        agents = [o.agents[0] for o in singles]
        out.append((len(set(agents)) == len(agents), "every offer to a different agent",
                    f"offers {agents}"))
    if "broadcast" in spec:
        want = spec["broadcast"]
        casts = [o for o in store.offers(lead_id) if o.mode == "broadcast"]
        cast = casts[-1] if casts else None
        ok = cast is not None
        said = "no broadcast" if cast is None else (
            f"broadcast to {len(cast.agents)} agents, status {cast.status}, "
            f"winner {cast.winner}")
        if cast is not None and "at_least" in want:
            ok = ok and len(cast.agents) >= want["at_least"]
        if cast is not None and want.get("one_winner"):
            winners = [a for a in assignments if a.how.startswith("claimed")]
            ok = ok and cast.winner is not None and len(winners) == 1
        if cast is not None and "winner" in want:
            ok = ok and cast.winner == want["winner"]
        out.append((ok, f"broadcast {want}", said))
    if "office" in spec:
        out.append((state.office == spec["office"], f"office {spec['office']}",
                    f"office {state.office}"))
    if "notification" in spec:
        out.append(_notification(engine, lead_id, spec["notification"]))
    if "no_notification" in spec:
        sent = [m.template for m in store.outbox() if m.lead_id == lead_id]
        out.append((spec["no_notification"] not in sent,
                    f"no '{spec['no_notification']}' notification", f"sent: {sent}"))
    return out


def _notification(engine: Engine, lead_id: str | None,
                  want: dict[str, Any]) -> tuple[bool, str, str]:
    messages = [m for m in engine.store.outbox() if lead_id is None or m.lead_id == lead_id]
    for message in messages:
        if "template" in want and message.template != want["template"]:
            continue
        if "subject" in want and message.subject != want["subject"]:
            continue
        if not set(want.get("to", ())) <= set(message.to):
            continue
        if not set(want.get("cc", ())) <= set(message.cc):
            continue
        if len(message.to) < want.get("to_at_least", 0):
            continue
        return True, f"notification {want}", ""
    shown = [f"{m.template} “{m.subject}” to {list(m.to)} cc {list(m.cc)}" for m in messages]
    return False, f"notification {want}", "sent: " + ("; ".join(shown) or "nothing")


def _owner(engine: Engine, want: dict[str, Any]) -> tuple[bool, str, str]:
    key = identity_key(want["email"], None)
    contact = engine.store.facts().contact(key) if key else None
    scope = want["scope"]
    got = None
    if contact is not None:
        got = contact.owner if scope == "global" else contact.owners.get(scope)
    return ((got or "nobody") == want["agent"],
            f"{want['email']} owned by {want['agent']} in {scope}", f"owner is {got}")


def _distribution(engine: Engine, want: dict[str, Any]) -> tuple[bool, str, str]:
    store = engine.store
    prefix = want["leads"]
    lead_ids = [lid for lid in store.lead_ids() if lid.startswith(prefix)]
    counts: Counter[str] = Counter()
    for lead_id in lead_ids:
        state = store.get_state(lead_id)
        key: str | None = None
        if want["by"] == "office":
            key = state.office if state else None
        elif want["by"] == "agent":
            key = state.assignee if state and state.status == "assigned" else None
        else:
            singles = [o for o in store.offers(lead_id) if o.mode == "single"]
            key = singles[0].agents[0] if singles else None
        counts[key or "(none)"] += 1
    total = sum(counts.values())
    problems: list[str] = []
    for key, share in want.get("shares", {}).items():
        got = counts.get(key, 0) / total if total else 0.0
        if abs(got - share) > want.get("tolerance", 0.02):
            problems.append(f"{key}: {got:.3f} (expected {share:.3f})")
    if "max_spread" in want:
        keys = want.get("keys") or [k for k in counts if k != "(none)"]
        values = [counts.get(k, 0) for k in keys]
        spread = max(values) - min(values) if values else 0
        if spread > want["max_spread"]:
            problems.append(f"spread {spread} > {want['max_spread']}")
    shown = ", ".join(f"{k}: {v}" for k, v in counts.most_common(12))
    return (not problems and total > 0, f"distribution of {total} leads by {want['by']}",
            ("; ".join(problems) + " — " if problems else "") + f"counts: {shown}")


def check_expectation(engine: Engine, scenario: Scenario, spec: dict[str, Any],
                      location: SourceLocation) -> Check:
    """Check one expectation; every condition in it must hold."""
    lead_id = spec.get("lead")
    results: list[tuple[bool, str, str]] = []
    try:
        if lead_id is not None:
            results.extend(_lead_checks(engine, scenario, lead_id, spec))
        elif "notification" in spec:
            results.append(_notification(engine, None, spec["notification"]))
        if "owner" in spec:
            results.append(_owner(engine, spec["owner"]))
        if "conflict" in spec:
            conflicts: list[Any] = getattr(engine.store, "conflicts", list)()
            want = spec["conflict"]
            ok = any(all(getattr(c, k) == v for k, v in want.items()) for c in conflicts)
            results.append((ok, f"conflict {want}", f"conflicts: {conflicts}"))
        if "distribution" in spec:
            results.append(_distribution(engine, spec["distribution"]))
    except ValueError as exc:
        return Check(False, str(exc), "", location)
    if not results:
        return Check(False, "expectation checks nothing", "", location)
    failed = [(text, said) for ok, text, said in results if not ok]
    label = (f"{lead_id}: " if lead_id else "") + "; ".join(t for _, t, _ in results)
    if not failed:
        return Check(True, label, "", location)
    said = "; ".join(f"expected {t}, but {s}" for t, s in failed)
    excerpt = _excerpt(engine, lead_id)
    return Check(False, label, said + (f"\n{excerpt}" if excerpt else ""), location)
