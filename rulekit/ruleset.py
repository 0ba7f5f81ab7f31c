"""The compiled form of rule files: immutable policies, pools, rules and steps.

A :class:`RuleSet` is what the decision pipeline runs.  It is built by
:mod:`rulekit.config.build` from validated documents and never changes; its ``version`` is a
content hash of the rule files, recorded with every lead it routes.

Step semantics (see ``docs/rules.md``): a step *resolves* the lead (assign, queue, drop,
hand-off, an accepted offer), *suspends* it (a pending offer, a hold, a qualification), or
*passes* (a notification, an office pick, no existing owner, a declined or expired offer).
When the last step of a matched rule passes, routing goes on with the next rule if the rule
says ``then: continue``; otherwise the lead ends unrouted, which ``rulekit validate`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from rulekit.errors import SourceLocation

if TYPE_CHECKING:
    from rulekit.calendars import Calendar
    from rulekit.dsl import CompiledExpression, Duration

ScopeKind = Literal["global", "channel", "market", "expression"]
PickStrategy = Literal["random", "weighted", "round_robin", "least_recently_offered"]
Exclusion = Literal["paused", "already_offered", "off_duty", "at_capacity"]
ALL_EXCLUSIONS: tuple[Exclusion, ...] = ("paused", "already_offered", "off_duty", "at_capacity")
#: Who gets a turn a team takes in a rotation: the next member in the team's own rotation, or
#: the team's lead.
TeamPick = Literal["rotate", "lead"]


@dataclass(frozen=True, slots=True)
class Scope:
    """An exclusivity scope: its kind, and for ``expression`` the key expression."""

    kind: ScopeKind
    expression: CompiledExpression | None = None

    def __str__(self) -> str:
        return self.kind if self.expression is None else f"expression({self.expression.source})"


@dataclass(frozen=True, slots=True)
class CalendarChoice:
    """A calendar chosen per lead (``calendar: {expression: …}``): a string expression over
    the lead and its office (the DSL's ``calendar`` context) giving a calendar's name."""

    expression: CompiledExpression

    def __str__(self) -> str:
        return f"`{self.expression.text}`"


#: What a ``calendar:`` option holds: a calendar's name, ``agent`` (each agent's own
#: calendar), or a :class:`CalendarChoice`.
CalendarRef = str | CalendarChoice


@dataclass(frozen=True, slots=True)
class Notify:
    template: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str | None = None
    variables: tuple[tuple[str, CompiledExpression], ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """Base of every step: its kind (the YAML key) and where it is written."""

    location: SourceLocation


@dataclass(frozen=True, slots=True)
class Assign(Step):
    to: CompiledExpression
    own: tuple[Scope, ...] = ()
    notify: Notify | None = None
    kind: str = "assign"


@dataclass(frozen=True, slots=True)
class AttachToOwner(Step):
    scope: Scope
    conflict_queue: str | None = None
    notify: Notify | None = None
    kind: str = "attach_to_owner"


@dataclass(frozen=True, slots=True)
class Offer(Step):
    to: CompiledExpression
    duration: Duration
    calendar: CalendarRef | None = None
    own: tuple[Scope, ...] = ()
    notify: Notify | None = None
    kind: str = "offer"


@dataclass(frozen=True, slots=True)
class OfferSequence(Step):
    pool: str
    each_for: Duration
    pick: PickStrategy = "random"
    weight: CompiledExpression | None = None
    attempts: int | None = None  # None: until accepted
    calendar: CalendarRef | None = None
    own: tuple[Scope, ...] = ()
    notify: Notify | None = None
    kind: str = "offer_sequence"


@dataclass(frozen=True, slots=True)
class Broadcast(Step):
    pool: str
    duration: Duration | None = None
    calendar: CalendarRef | None = None
    own: tuple[Scope, ...] = ()
    notify: Notify | None = None
    kind: str = "broadcast"


@dataclass(frozen=True, slots=True)
class PickOffice(Step):
    pool: str
    weight: CompiledExpression | None = None
    hand_to: str | None = None
    kind: str = "pick_office"


@dataclass(frozen=True, slots=True)
class RoundRobin(Step):
    pool: str
    own: tuple[Scope, ...] = ()
    notify: Notify | None = None
    kind: str = "round_robin"


@dataclass(frozen=True, slots=True)
class Queue(Step):
    name: str
    reason: str | None = None
    notify: Notify | None = None
    kind: str = "queue"


@dataclass(frozen=True, slots=True)
class NotifyStep(Step):
    notify: Notify
    kind: str = "notify"


@dataclass(frozen=True, slots=True)
class Hold(Step):
    until_open: str
    kind: str = "hold"


@dataclass(frozen=True, slots=True)
class Qualify(Step):
    pool: str
    verdicts: tuple[tuple[str, tuple[Step, ...]], ...]
    mode: Literal["broadcast", "round_robin"] = "broadcast"
    duration: Duration | None = None
    calendar: CalendarRef | None = None
    on_timeout: tuple[Step, ...] = ()
    kind: str = "qualify"


@dataclass(frozen=True, slots=True)
class ExpectContact(Step):
    """A first-contact SLA on the lead the step before assigned: the assignee must log a
    contact (call, email, text, showing) ``within`` the duration; if not, ``otherwise`` (the
    YAML ``else``) runs with the missed agent counted as already offered, and the agent is
    paused at their ``pause_after``-th miss."""

    within: Duration
    calendar: CalendarRef | None = None
    otherwise: tuple[Step, ...] = ()
    pause_after: int | None = None
    kind: str = "expect_contact"


@dataclass(frozen=True, slots=True)
class UsePolicy(Step):
    policy: str
    kind: str = "use_policy"


@dataclass(frozen=True, slots=True)
class Drop(Step):
    reason: str
    kind: str = "drop"


#: Steps that always resolve the lead: nothing after them runs.
RESOLVING_KINDS = frozenset({"assign", "round_robin", "queue", "use_policy", "drop"})


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    of: Literal["agents", "offices"]
    location: SourceLocation
    members: tuple[str, ...] | None = None
    offices: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    match: tuple[tuple[str, CompiledExpression], ...] = ()
    where: CompiledExpression | None = None
    exclude: tuple[Exclusion, ...] = ALL_EXCLUSIONS
    calendar: CalendarRef | None = None
    policy: str = ""
    #: who gets a turn a team of ``members`` takes (:mod:`rulekit.pipeline.teams`)
    team_pick: TeamPick = "rotate"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    steps: tuple[Step, ...]
    location: SourceLocation
    when: CompiledExpression | None = None
    then: Literal["stop", "continue"] = "stop"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AppliesTo:
    sources: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    brands: frozenset[str] | None = None
    entries: frozenset[str] | None = None
    when: CompiledExpression | None = None
    declared: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    path: str
    location: SourceLocation
    rules: tuple[Rule, ...]
    applies_to: AppliesTo = field(default_factory=AppliesTo)
    description: str | None = None
    enabled: bool = True
    disabled_queue: str = "manual"
    precedence: int | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Policies, shared pools and calendars of one folder of rule files, and its version."""

    policies: tuple[Policy, ...]
    pools: dict[str, Pool]
    calendars: dict[str, Calendar]
    version: str
    root: str = ""

    def policy(self, name: str) -> Policy:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)
