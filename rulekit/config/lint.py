"""Checks over a whole rule set once its parts compile: names, reachability, termination,
precedence, hand-off cycles and unused definitions; the names of the world the rule files
use (:func:`check_world_names`: agents, offices and teams that the folder's world must define,
and the recipients of notifications, which must be notifiable: :func:`check_recipients`);
and the notification templates they name (:func:`notify_templates`).

Termination (RK312): only ``queue``, ``drop`` and ``use_policy`` always resolve a lead; every
other step can pass (nobody accepted, the pool is empty, there is no owner).  A rule whose steps
can pass and that does not say ``then: continue`` leaves such a lead unrouted, and so does a
policy whose leads can get past its last rule.  ``assign`` counts as resolving: its target is
a fact of the lead, and a missing target is a data error reported at run time, not a path.
An ``expect_contact`` step right after it reopens the path: a missed first contact runs its
``else`` steps, and routing goes on after it when they pass.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rulekit.config.load import Document
from rulekit.dsl.ast import Call, Literal, Node
from rulekit.dsl.parse import parse
from rulekit.errors import DiagnosticSink, RulekitError, SourceLocation
from rulekit.model import Agent, Staff
from rulekit.notify.recipients import is_email_address, is_webhook_url, looks_like_url
from rulekit.ruleset import ExpectContact, Policy, Qualify, Rule, Step
from rulekit.suggest import did_you_mean
from rulekit.world import World

ALWAYS_RESOLVING = frozenset({"queue", "drop", "use_policy", "assign"})


#: Steps that can give the lead an assignee: an ``expect_contact`` step must follow one.
ASSIGNING = frozenset({"assign", "attach_to_owner", "round_robin", "offer", "offer_sequence",
                       "broadcast"})


def steps_can_pass(steps: Sequence[Step], *, sla_else: bool = True) -> bool:
    """Whether a lead can come out of these steps without being resolved.

    An ``expect_contact`` step after an assigning step adds a way out: a missed contact runs
    its ``else`` steps, and when they can pass, routing goes on after it (without
    ``sla_else``, that way out is not counted: to tell whether it is the only one)."""
    for index, step in enumerate(steps):
        kind = getattr(step, "kind", "")
        after = steps[index + 1] if index + 1 < len(steps) else None
        if isinstance(after, ExpectContact) and kind in ASSIGNING:
            if kind in ALWAYS_RESOLVING and not (
                    sla_else and steps_can_pass(after.otherwise)):
                return False
            continue
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


def _branches(step: Step) -> Iterator[Sequence[Step]]:
    """The step lists nested in a step: a qualification's verdicts and timeout, an SLA's
    ``else``."""
    if isinstance(step, Qualify):
        yield from (branch for _, branch in step.verdicts)
        yield step.on_timeout
    elif isinstance(step, ExpectContact):
        yield step.otherwise


def _check_sla_places(steps: Sequence[Step], sink: DiagnosticSink) -> None:
    """Each ``expect_contact`` comes right after a step that can assign the lead (RK105)."""
    for index, step in enumerate(steps):
        if isinstance(step, ExpectContact):
            before = getattr(steps[index - 1], "kind", "") if index else ""
            if before not in ASSIGNING:
                where = f"after '{before}'" if before else "first in its steps"
                sink.error("RK105", f"expect_contact {where} has no assignee to hold to it: "
                           "it must come right after a step that assigns the lead",
                           step.location, hint="put it right after an assign, "
                           "attach_to_owner, round_robin, offer, offer_sequence or broadcast "
                           "step")
        for branch in _branches(step):
            _check_sla_places(branch, sink)


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
        _check_sla_places(rule.steps, sink)
        if blocked_by is not None:
            sink.error("RK305", f"rule '{rule.name}' can never run: rule '{blocked_by.name}' "
                       "before it has no condition and always ends the routing", rule.location,
                       hint=f"add a 'when' to '{blocked_by.name}', or move '{rule.name}' "
                       "before it")
            continue
        can_pass = steps_can_pass(rule.steps)
        if can_pass and rule.then == "stop" and not steps_can_pass(rule.steps, sla_else=False):
            sink.error("RK312", f"a lead can leave rule '{rule.name}' unrouted: when its "
                       "assignee misses the first contact, the expect_contact 'else' steps "
                       "can end without an owner, a queue or a drop", rule.location,
                       hint="end the 'else' steps with a 'queue' step, or add 'then: "
                       "continue' to go on with the next rule")
        elif can_pass and rule.then == "stop":
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


#: Policies (and sources) named in one RK306 finding; the rest are counted.
MAX_LISTED = 5
_EVERY = ""  # the key of policies that claim every source


def _listed(names: Sequence[str]) -> str:
    shown = [f"'{n}'" for n in names[:MAX_LISTED]]
    if len(names) > MAX_LISTED:
        return ", ".join(shown) + f" … and {len(names) - MAX_LISTED:,} more"
    return ", ".join(shown[:-1]) + f" and {shown[-1]}" if len(shown) > 1 else shown[0]


def _check_precedence(policies: Sequence[Policy], sink: DiagnosticSink) -> None:
    """One finding per group of policies that can claim the same leads with the same
    precedence: for each source and precedence, the policies that overlap another one of them,
    with the sources they share.  Linear in the claims (policies narrowed by channel, brand or
    entry are compared only with the policies that share one of their values)."""
    claiming = [p for p in policies if p.applies_to.declared and p.enabled]
    groups: dict[tuple[str, object], list[int]] = {}
    for i, policy in enumerate(claiming):
        for source in policy.applies_to.sources or ():
            groups.setdefault((source, policy.precedence), []).append(i)
    for i, policy in enumerate(claiming):
        if policy.applies_to.sources is None:  # it claims every source
            groups.setdefault((_EVERY, policy.precedence), []).append(i)
            for (source, precedence), members in groups.items():
                if source != _EVERY and precedence == policy.precedence:
                    members.append(i)
    findings: dict[tuple[int, ...], list[str]] = {}
    for (source, _), members in sorted(groups.items(), key=lambda g: g[0][0]):
        if len(members) > 1:
            conflicting = tuple(sorted(_overlapping(claiming, members)))
            if conflicting:
                findings.setdefault(conflicting, []).append(source)
    for conflict, sources in findings.items():
        named = [claiming[i] for i in conflict]
        first, second = named[0], named[1]
        claimed = "every source" if sources == [_EVERY] else "source " + ", ".join(
            f"'{s}'" for s in sources[:MAX_LISTED]) + (
            f" … and {len(sources) - MAX_LISTED:,} more" if len(sources) > MAX_LISTED else "")
        if len(named) == 2:
            sink.error("RK306", f"policies '{first.name}' and '{second.name}' both claim "
                       f"{claimed} with the same precedence", second.location,
                       hint=f"give one of them a higher 'precedence' (see {first.path})")
        else:
            sink.error("RK306", f"policies {_listed([p.name for p in named])} all claim "
                       f"{claimed} with the same precedence", second.location,
                       hint="give them different 'precedence' values, or make their "
                       f"'applies_to' disjoint (the first is {first.path})")


def _overlapping(claiming: Sequence[Policy], members: Sequence[int]) -> list[int]:
    """The members (one source, one precedence) that can claim a lead another member can."""
    group = [claiming[i] for i in members]
    if all(_open(p) for p in group):  # the common case: every one overlaps every other
        return list(dict.fromkeys(members))
    by_value: dict[tuple[str, str], list[int]] = {}
    open_on: dict[str, list[int]] = {"channels": [], "brands": [], "entries": []}
    for k, policy in enumerate(group):
        for dimension, known in open_on.items():
            values = getattr(policy.applies_to, dimension)
            if values is None:
                known.append(k)
            else:
                for value in values:
                    by_value.setdefault((dimension, value), []).append(k)
    found: list[int] = []
    for k, policy in enumerate(group):
        narrowed = [d for d in open_on if getattr(policy.applies_to, d) is not None]
        candidates: Iterable[int] = range(len(group))
        if narrowed:
            narrowest = min(narrowed, key=lambda d: len(getattr(policy.applies_to, d)))
            candidates = (*open_on[narrowest],
                          *(c for value in getattr(policy.applies_to, narrowest)
                            for c in by_value.get((narrowest, value), ())))
        if any(members[c] != members[k] and _overlap(policy, group[c]) for c in candidates):
            found.append(members[k])
    return list(dict.fromkeys(found))


def _open(policy: Policy) -> bool:
    a = policy.applies_to
    return a.channels is None and a.brands is None and a.entries is None


def _overlap(a: Policy, b: Policy) -> bool:
    pairs = (
        (a.applies_to.sources, b.applies_to.sources),
        (a.applies_to.channels, b.applies_to.channels),
        (a.applies_to.brands, b.applies_to.brands),
        (a.applies_to.entries, b.applies_to.entries),
    )
    return all(x is None or y is None or bool(x & y) for x, y in pairs)


def _check_handoffs(policies: Sequence[Policy], sink: DiagnosticSink) -> None:
    edges: dict[str, set[str]] = {p.name: set() for p in policies}

    def targets(steps: Sequence[Step]) -> set[str]:
        found: set[str] = set()
        for step in steps:
            name = getattr(step, "policy", None) or getattr(step, "hand_to", None)
            if isinstance(name, str):
                found.add(name)
            for branch in _branches(step):
                found |= targets(branch)
        return found

    for policy in policies:
        for rule in policy.rules:
            edges[policy.name] |= targets(rule.steps)
    by_name = {p.name: p for p in policies}
    order = {name: i for i, name in enumerate(edges)}
    for loop in _loops(edges):
        start = min(loop, key=order.__getitem__)
        cycle = _shortest_cycle(start, edges, loop)
        others = sorted(loop - set(cycle), key=order.__getitem__)
        hint = None
        if others:
            shown = ", ".join(f"'{n}'" for n in others[:MAX_LISTED])
            more = f" … and {len(others) - MAX_LISTED:,} more" if len(others) > MAX_LISTED else ""
            hint = f"{shown}{more} hand leads around the same loop"
        sink.error("RK311", "policies hand leads to each other in a cycle: "
                   + " → ".join([*cycle, start]), by_name[start].location, hint=hint)


def _loops(edges: Mapping[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of the hand-off graph that hold a cycle (Tarjan's
    algorithm, without recursion: linear in policies and hand-offs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(t for t in edges[root] if t in edges))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(t for t in edges[nxt] if t in edges)))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(component)
    return found


def _shortest_cycle(start: str, edges: Mapping[str, set[str]], loop: set[str]) -> list[str]:
    """The shortest way from ``start`` back to it inside ``loop`` (names in order, without the
    final ``start``); among equals, the one taking the first names in sorted order."""
    came_from: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for nxt in sorted(edges[node] & loop):
            if nxt == start:
                trail = [node]
                while trail[-1] != start:
                    trail.append(came_from[trail[-1]])
                return trail[::-1]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return [start]  # pragma: no cover - a loop always leads back


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
                 used_calendars: Collection[str], sink: DiagnosticSink,
                 complete: bool = True) -> None:
    """Add the rule-set level findings to ``sink``.  Without ``complete`` (a rule file of the
    folder failed to load or to match its schema) unused definitions are not reported: the
    failed file may be what uses them."""
    for policy in policies:
        _check_rules(policy, sink)
    _check_precedence(policies, sink)
    _check_handoffs(policies, sink)
    if complete and len(policies) == len(docs):
        _check_unused(docs, pool_defs, used_pools, used_calendars, sink)


# -- names of the world ------------------------------------------------------------------------
#: Recipients of a notification that name a role, not an agent (see ``docs/rules.md``).
RECIPIENT_ROLES = frozenset({"assignee", "offered", "owner", "entered_by", "listing_agent"})
#: Unknown world names of one rule set that get a "did you mean" hint: each search looks through
#: every name of its kind (a world of thousands of agents), so only the first ones get one.
MAX_WORLD_HINTS = 20

Where = tuple[str, str, Document, tuple[str | int, ...], tuple[int, int] | None]


@dataclass(frozen=True)
class WorldNames:
    """The ids a world defines, by kind (``agents``, ``offices``, ``teams``, ``staff``), and
    the agents and staff it gives neither an email address nor a webhook (``unnotifiable``)."""

    agents: frozenset[str] = frozenset()
    offices: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    staff: frozenset[str] = frozenset()
    unnotifiable: frozenset[str] = frozenset()
    #: the teams with no member, and those with a lead (a rotation's ``team_pick: lead``)
    empty_teams: frozenset[str] = frozenset()
    led_teams: frozenset[str] = frozenset()

    @classmethod
    def of_document(cls, doc: Document) -> WorldNames:
        """The ids of a schema-valid world document (whether or not the world builds)."""
        data = doc.data if isinstance(doc.data, dict) else {}

        def items(key: str) -> list[dict[str, Any]]:
            found = data.get(key)
            return [item for item in found if isinstance(item, dict)
                    and isinstance(item.get("id"), str)] if isinstance(found, list) else []

        def ids(key: str) -> set[str]:
            return {item["id"] for item in items(key)}

        agent_teams = {team for item in data.get("agents") or () if isinstance(item, dict)
                       for team in item.get("teams") or () if isinstance(team, str)}
        silent = {item["id"] for key in ("agents", "staff") for item in items(key)
                  if not item.get("email") and not item.get("webhook")}
        empty = {item["id"] for item in items("teams")
                 if not item.get("members") and item["id"] not in agent_teams}
        led = {item["id"] for item in items("teams") if isinstance(item.get("lead"), str)}
        return cls(frozenset(ids("agents")), frozenset(ids("offices")),
                   frozenset(ids("teams") | agent_teams), frozenset(ids("staff")),
                   frozenset(silent), frozenset(empty), frozenset(led))

    @classmethod
    def of_world(cls, world: World) -> WorldNames:
        people: list[Agent | Staff] = [*world.agents.values(), *world.staff.values()]
        return cls(frozenset(world.agents), frozenset(world.offices),
                   frozenset(world.teams) | frozenset(world.by_team), frozenset(world.staff),
                   frozenset(p.id for p in people if not p.email and not p.webhook),
                   frozenset(t for t in world.teams if not world.by_team.get(t)),
                   frozenset(t.id for t in world.teams.values() if t.lead is not None))

    def __or__(self, other: WorldNames) -> WorldNames:
        # a team is empty only if no world of the folder gives it a member
        empty = ((self.empty_teams - other.teams) | (other.empty_teams - self.teams)
                 | (self.empty_teams & other.empty_teams))
        return WorldNames(self.agents | other.agents, self.offices | other.offices,
                          self.teams | other.teams, self.staff | other.staff,
                          self.unnotifiable | other.unnotifiable, empty,
                          self.led_teams | other.led_teams)


def world_references(docs: Sequence[Document]) -> Iterator[Where]:
    """The world names the rule files use, in document order: ``(kind, name, doc, path,
    position)`` where ``kind`` is ``agents``, ``offices``, ``teams``, ``members`` (a member of
    an agents pool: an agent or a team id) or ``recipients`` (a notification recipient that is
    not a role, an email address or a URL: an agent or staff id), ``path`` leads to the value
    in ``doc`` and ``position`` is (line, column) inside an expression's text, for a string
    literal of an ``offer``/``assign`` target (``None`` for a plain value)."""
    for doc in docs:
        data = doc.data
        for name, spec in (data.get("pools") or {}).items():
            if not isinstance(spec, dict):
                continue
            base = ("pools", name)
            member_kind = "offices" if spec.get("of") == "offices" else "members"
            for key, kind in (("members", member_kind), ("offices", "offices"),
                              ("teams", "teams")):
                if key != "members" and member_kind == "offices":
                    continue  # office pools are narrowed by their own members only
                for j, value in enumerate(spec.get(key) or ()):
                    if isinstance(value, str) and not (key == "offices"
                                                        and value == "lead.office"):
                        yield kind, value, doc, (*base, key, j), None
        for i, rule in enumerate(data.get("rules") or ()):
            if isinstance(rule, dict):
                yield from _step_references(doc, ("rules", i, "steps"), rule.get("steps"))


def _step_references(doc: Document, path: tuple[str | int, ...], steps: Any) -> Iterator[Where]:
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or len(step) != 1:
            continue
        (kind, body), = step.items()
        at = (*path, index, kind)
        if kind == "notify":
            yield from _recipients(doc, at, body)
        elif isinstance(body, dict):
            yield from _recipients(doc, (*at, "notify"), body.get("notify"))
        if kind == "assign" and isinstance(body, str):
            yield from _target_literals(doc, at)
        elif kind in ("offer", "assign") and isinstance(body, dict):
            yield from _target_literals(doc, (*at, "to"))
        if kind == "qualify" and isinstance(body, dict):
            for verdict, branch in (body.get("verdicts") or {}).items():
                yield from _step_references(doc, (*at, "verdicts", verdict), branch)
            yield from _step_references(doc, (*at, "on_timeout"), body.get("on_timeout"))
        if kind == "expect_contact" and isinstance(body, dict):
            yield from _step_references(doc, (*at, "else"), body.get("else"))


def _is_address(name: str) -> bool:
    """Whether a recipient is written as an address (an email address or a URL, well formed
    or not) rather than as a name of the world."""
    return "@" in name or looks_like_url(name)


def _recipients(doc: Document, path: tuple[str | int, ...], notify: Any) -> Iterator[Where]:
    for name, at in _notify_recipients(doc, path, notify):
        if name not in RECIPIENT_ROLES and not _is_address(name):
            yield "recipients", name, doc, at, None


def _notify_recipients(doc: Document, path: tuple[str | int, ...],
                       notify: Any) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    if not isinstance(notify, dict):
        return
    for key in ("to", "cc"):
        names = notify.get(key)
        for j, name in enumerate(names if isinstance(names, list) else ()):
            if isinstance(name, str):
                yield name, (*path, key, j)


def _target_literals(doc: Document, path: tuple[str | int, ...]) -> Iterator[Where]:
    """String literals an ``offer``/``assign`` target can evaluate to: the whole expression,
    or an argument of ``coalesce`` (an expression that does not parse is reported when the
    rule set is built)."""
    text = doc.get(path)
    if not isinstance(text, str) or '"' not in text:
        return
    try:
        node = parse(text, locate=doc.locator(path))
    except RulekitError:
        return
    pending: list[Node] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, Literal) and isinstance(current.value, str):
            yield "agents", current.value, doc, path, (current.span.line, current.span.column)
        elif isinstance(current, Call) and current.name == "coalesce":
            pending.extend(reversed(current.args))


def check_world_names(docs: Sequence[Document], world: WorldNames,
                      sink: DiagnosticSink) -> int:
    """Report each world name of the rule files that ``world`` does not define (RK313), with
    a "did you mean" for the first :data:`MAX_WORLD_HINTS` of them, and each recipient that
    cannot be notified (RK315: see :func:`check_recipients`); returns how many."""
    people = world.agents | world.staff
    known = {"agents": world.agents, "offices": world.offices, "teams": world.teams,
             "members": world.agents | world.teams, "recipients": people}
    hints: dict[tuple[str, str], str | None] = {}
    found = 0
    for kind, name, doc, path, position in world_references(docs):
        if name in known[kind]:
            if kind == "members" and name not in world.agents:
                found += _check_team_member(doc, path, name, world, sink)
            continue
        if (kind, name) not in hints and len(hints) < MAX_WORLD_HINTS:
            hints[(kind, name)] = did_you_mean(
                name, people | RECIPIENT_ROLES if kind == "recipients" else known[kind])
        location = (doc.locator(path)(*position) if position is not None
                    else doc.location(path))
        what = {"members": "agent or team", "recipients": "recipient"}.get(kind, kind[:-1])
        message = (f"recipient '{name}' is not in the world: it is not a role, an agent or "
                   "staff id, an email address or an https URL" if kind == "recipients"
                   else f"{what} '{name}' is not in the world")
        sink.error("RK313", message, location, hint=hints.get((kind, name)))
        found += 1
    return found + check_recipients(docs, world, sink)


def _check_team_member(doc: Document, path: tuple[str | int, ...], team: str,
                       world: WorldNames, sink: DiagnosticSink) -> int:
    """A team among a pool's ``members`` takes turns of the rotation: it needs members, and
    a lead when the pool gives a team's turns to its lead (RK316).  Returns how many
    problems."""
    pool = path[1]
    if team in world.empty_teams:
        sink.error("RK316", f"team '{team}' has no members: it cannot take a turn in pool "
                   f"'{pool}'", doc.location(path),
                   hint=f"give '{team}' members in the world, or take it out of the pool")
        return 1
    spec = doc.get(("pools", pool))
    if isinstance(spec, dict) and spec.get("team_pick") == "lead" \
            and team not in world.led_teams:
        sink.error("RK316", f"team '{team}' has no lead: pool '{pool}' gives a team's turn "
                   "to its lead (team_pick: lead)", doc.location(path),
                   hint=f"give '{team}' a lead in the world, or use 'team_pick: rotate'")
        return 1
    return 0


def notify_mappings(docs: Sequence[Document]) -> Iterator[tuple[Document,
                                                                tuple[str | int, ...],
                                                                dict[str, Any]]]:
    """Every ``notify:`` mapping of the rule files — of ``notify`` steps and of any step, at
    any depth of their rules (the branches of ``qualify``) — in document order:
    ``(doc, path, mapping)``, ``path`` leading to the mapping."""
    for doc in docs:
        data = doc.data
        if not isinstance(data, dict):
            continue
        pending: list[tuple[tuple[str | int, ...], Any]] = [(("rules",), data.get("rules"))]
        while pending:
            path, value = pending.pop()
            if isinstance(value, dict):
                if path[-1] == "notify":
                    yield doc, path, value
                    continue
                pending.extend(((*path, key), item) for key, item in reversed(value.items()))
            elif isinstance(value, list):
                pending.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))


def notify_recipients(docs: Sequence[Document]) -> Iterator[tuple[str, Document,
                                                                  tuple[str | int, ...]]]:
    """The ``to`` and ``cc`` recipients of every notification of the rule files, in document
    order: ``(name, doc, path)``, ``path`` leading to the name."""
    for doc, path, value in notify_mappings(docs):
        for name, at in _notify_recipients(doc, path, value):
            yield name, doc, at


def check_recipients(docs: Sequence[Document], world: WorldNames | None,
                     sink: DiagnosticSink) -> int:
    """Report each notification recipient that cannot be notified (RK315): an address that is
    not a bare email address or a webhook URL (https, or http to localhost or 127.0.0.1),
    and, with the ``world`` of the rule files, an agent or staff member it gives neither an
    email address nor a webhook.  Returns how many."""
    found = 0
    for name, doc, path in notify_recipients(docs):
        if name in RECIPIENT_ROLES:
            continue
        if looks_like_url(name):
            if is_webhook_url(name):
                continue
            message = (f"'{name}' is not a webhook URL (https, or http to localhost or "
                       "127.0.0.1 only): it cannot be notified")
            hint = ("post to an https:// URL" if name.startswith("http://")
                    else "name a role, an agent or staff id, an email address or an https URL")
        elif "@" in name:
            if is_email_address(name):
                continue
            message = f"'{name}' is not an email address: it cannot be notified"
            hint = "write a bare address such as office-admin@example.com"
        elif world is not None and name in world.unnotifiable:
            who = "agent" if name in world.agents else "staff member"
            message = f"{who} '{name}' has no email address or webhook: it cannot be notified"
            hint = (f"give '{name}' an email or a webhook in the world, or notify an address "
                    "instead")
        else:
            continue
        sink.error("RK315", message, doc.location(path), hint=hint)
        found += 1
    return found


# -- notification templates --------------------------------------------------------------------
def notify_templates(docs: Sequence[Document]) -> Iterator[tuple[str, SourceLocation]]:
    """The ``template:`` of every notification of the rule files (see
    :func:`notify_mappings`), with where its value is, in document order: what ``rulekit
    validate`` checks against the folder's templates
    (:func:`rulekit.notify.templates.check_templates`)."""
    for doc, path, value in notify_mappings(docs):
        if isinstance(value.get("template"), str):
            yield value["template"], doc.location((*path, "template"))
