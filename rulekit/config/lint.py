"""Checks over a whole rule set once its parts compile: names, reachability, termination,
precedence, hand-off cycles and unused definitions.

Termination (RK312): only ``queue``, ``drop`` and ``use_policy`` always resolve a lead; every
other step can pass (nobody accepted, the pool is empty, there is no owner).  A rule whose steps
can pass and that does not say ``then: continue`` leaves such a lead unrouted, and so does a
policy whose leads can get past its last rule.  ``assign`` counts as resolving: its target is
a fact of the lead, and a missing target is a data error reported at run time, not a path.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from rulekit.config.load import Document
from rulekit.errors import DiagnosticSink
from rulekit.ruleset import Policy, Qualify, Rule, Step

ALWAYS_RESOLVING = frozenset({"queue", "drop", "use_policy", "assign"})


def steps_can_pass(steps: Sequence[Step]) -> bool:
    """Whether a lead can come out of these steps without being resolved."""
    for step in steps:
        kind = getattr(step, "kind", "")
        if kind in ALWAYS_RESOLVING:
            return False
        if kind == "pick_office" and getattr(step, "hand_to", None):
            continue  # an empty office pool passes
        if isinstance(step, Qualify):
            branches = [s for _, s in step.verdicts]
            if step.duration is not None:
                branches.append(step.on_timeout)
            if len(step.verdicts) == 3 and not any(steps_can_pass(b) for b in branches):
                return False
    return True


def _check_rules(policy: Policy, sink: DiagnosticSink) -> None:
    seen: dict[str, Rule] = {}
    blocked_by: Rule | None = None
    for rule in policy.rules:
        if rule.name in seen:
            first = seen[rule.name]
            sink.error("RK304", f"rule name '{rule.name}' is used twice in policy "
                       f"'{policy.name}' (first at line {first.location.line})", rule.location,
                       hint="give each rule its own name")
        else:
            seen[rule.name] = rule
        if blocked_by is not None:
            sink.error("RK305", f"rule '{rule.name}' can never run: rule '{blocked_by.name}' "
                       "before it has no condition and always ends the routing", rule.location,
                       hint=f"add a 'when' to '{blocked_by.name}', or move '{rule.name}' "
                       "before it")
            continue
        can_pass = steps_can_pass(rule.steps)
        if can_pass and rule.then == "stop":
            sink.error("RK312", f"a lead can leave rule '{rule.name}' unrouted: its steps can "
                       "end without an owner, a queue or a drop", rule.location,
                       hint="add 'then: continue' to go on with the next rule, or end the "
                       "steps with a 'queue' step")
        if rule.when is None and (rule.then == "stop" or not can_pass):
            blocked_by = rule
    if blocked_by is None and policy.enabled and policy.rules:
        last = policy.rules[-1]
        sink.error("RK312", f"a lead that no rule resolves leaves policy '{policy.name}' "
                   "unrouted", last.location,
                   hint="end the policy with a rule without 'when' whose steps end with a "
                   "'queue' step")


def _check_precedence(policies: Sequence[Policy], sink: DiagnosticSink) -> None:
    claiming = [p for p in policies if p.applies_to.declared and p.enabled]
    for i, a in enumerate(claiming):
        for b in claiming[i + 1:]:
            if a.precedence != b.precedence or not _overlap(a, b):
                continue
            sources = _overlap_text(a.applies_to.sources, b.applies_to.sources)
            sink.error("RK306", f"policies '{a.name}' and '{b.name}' both claim {sources} "
                       "with the same precedence", b.location,
                       hint=f"give one of them a higher 'precedence' (see {a.path})")


def _overlap(a: Policy, b: Policy) -> bool:
    pairs = (
        (a.applies_to.sources, b.applies_to.sources),
        (a.applies_to.channels, b.applies_to.channels),
        (a.applies_to.brands, b.applies_to.brands),
        (a.applies_to.entries, b.applies_to.entries),
    )
    return all(x is None or y is None or bool(x & y) for x, y in pairs)


def _overlap_text(x: frozenset[str] | None, y: frozenset[str] | None) -> str:
    if x is None and y is None:
        return "every source"
    common = sorted((x or y or frozenset()) if x is None or y is None else x & y)
    return "source " + ", ".join(f"'{s}'" for s in common[:5])


def _check_handoffs(policies: Sequence[Policy], sink: DiagnosticSink) -> None:
    edges: dict[str, set[str]] = {p.name: set() for p in policies}

    def targets(steps: Sequence[Step]) -> set[str]:
        found: set[str] = set()
        for step in steps:
            name = getattr(step, "policy", None) or getattr(step, "hand_to", None)
            if isinstance(name, str):
                found.add(name)
            if isinstance(step, Qualify):
                for _, branch in step.verdicts:
                    found |= targets(branch)
                found |= targets(step.on_timeout)
        return found

    for policy in policies:
        for rule in policy.rules:
            edges[policy.name] |= targets(rule.steps)
    by_name = {p.name: p for p in policies}
    reported: set[frozenset[str]] = set()
    for start in edges:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    cycle = frozenset(trail)
                    if cycle not in reported:
                        reported.add(cycle)
                        sink.error("RK311", "policies hand leads to each other in a cycle: "
                                   + " → ".join([*trail, start]), by_name[start].location)
                elif nxt not in trail and len(trail) < 50:
                    stack.append((nxt, [*trail, nxt]))


def _check_unused(docs: Sequence[Document], pool_defs: Mapping[str, tuple[Document, str]],
                  used_pools: Collection[str], used_calendars: Collection[str],
                  sink: DiagnosticSink) -> None:
    for name, (doc, _) in pool_defs.items():
        if name not in used_pools:
            sink.error("RK309", f"pool '{name}' is never used", doc.location(("pools", name),
                                                                             key=True))
    for doc in docs:
        for name in doc.data.get("calendars", {}):
            if name not in used_calendars:
                sink.error("RK309", f"calendar '{name}' is never used",
                           doc.location(("calendars", name), key=True))


def lint_ruleset(docs: Sequence[Document], policies: Sequence[Policy], *,
                 pool_defs: Mapping[str, tuple[Document, str]], used_pools: Collection[str],
                 used_calendars: Collection[str], sink: DiagnosticSink) -> None:
    """Add the rule-set level findings to ``sink``."""
    for policy in policies:
        _check_rules(policy, sink)
    _check_precedence(policies, sink)
    _check_handoffs(policies, sink)
    if len(policies) == len(docs):
        _check_unused(docs, pool_defs, used_pools, used_calendars, sink)
