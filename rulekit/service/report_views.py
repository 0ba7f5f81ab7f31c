"""The JSON shapes of ``/v1/reports``: each the ``to_json()`` of the library's report (see
:mod:`rulekit.reports`, :mod:`rulekit.first_contact`, :mod:`rulekit.fairness` and
:mod:`rulekit.ledger`), with the agents' names from the active world."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_NAMES = Field(description="Agent id → name, from the store's active world.")


class ResponseView(BaseModel):
    """What one agent did with one offer (or a direct assignment)."""

    agent: str
    lead: str
    offer: str | None
    mode: str = Field(description="single, sequence, broadcast, qualify or direct.")
    offered_at: str
    outcome: str = Field(description="accepted, declined, late, verdict, no answer, missed, "
                                     "open or direct.")
    answered_at: str | None
    seconds: float | None


class AgentTimesView(BaseModel):
    """One agent's line of the response times (seconds)."""

    agent: str
    offers: int
    answered: int
    accepted: int
    declined: int
    late: int
    unanswered: int
    missed: int
    open: int
    direct: int
    median: float | None
    p90: float | None
    worst: float | None


class FirstContactView(BaseModel):
    """One assignment of a lead and what became of its first contact."""

    agent: str
    lead: str
    how: str
    assigned_at: str
    outcome: str = Field(description="contacted, never or open.")
    contacted_at: str | None
    activity: str | None
    seconds: float | None
    ended_at: str | None
    over_target: bool | None = Field(description="null without a target.")


class AgentContactsView(BaseModel):
    """One agent's line of the first-contact report (seconds)."""

    agent: str
    assigned: int
    contacted: int
    never: int
    open: int
    median: float | None
    p90: float | None
    worst: float | None
    over_target: int | None


class AgentCount(BaseModel):
    agent: str
    count: int


class AgentLeads(BaseModel):
    agent: str
    leads: int


class FirstContactsView(BaseModel):
    """From each assignment (whatever its route) to the agent's first logged contact."""

    target_seconds: float | None
    as_of: str = Field(description="The instant open leads are judged at.")
    agents: list[AgentContactsView]
    over_target: list[AgentCount]
    never_contacted: list[AgentCount]
    no_contact_at_all: list[AgentLeads]
    assignments: list[FirstContactView]


class ResponseTimesReport(BaseModel):
    """``rulekit report response-times --json``: offers to answers, assignments to first
    contacts, and the agents' names."""

    agents: list[AgentTimesView]
    slowest: str | None
    never_answered: list[str]
    responses: list[ResponseView]
    first_contact: FirstContactsView
    names: dict[str, str] = _NAMES


class ShareView(BaseModel):
    """One member's turns in one phase."""

    name: str
    picks: int
    eligible_turns: int
    expected: float | None
    band: list[float] | None = Field(description="The 99 % band of the expected count.")
    within: bool | None
    weight: float | None
    skipped: dict[str, int] = Field(description="Skip reason → turns.")


class PhaseView(BaseModel):
    """A run of turns with the same candidate list."""

    model_config = ConfigDict(populate_by_name=True)

    members: list[str] | None
    added: list[str]
    removed: list[str]
    turns: int
    leads: int
    from_: str | None = Field(alias="from")
    to: str | None
    spread: int | None
    fair: bool | None
    verdict: str
    shares: list[ShareView]


class RotationView(BaseModel):
    """Every turn of one pool's strategy, judged phase by phase."""

    strategy: str
    pool: str
    key: str
    turns: int
    leads: int
    promise: str
    fair: bool | None
    verdict: str
    throughout: dict[str, int] = Field(description="Turns of the members present in every "
                                                   "phase.")
    phases: list[PhaseView]


class DistributionReport(BaseModel):
    """``rulekit report distribution --json``: leads per agent and queue, and each pool's
    rotations against what its strategy promises."""

    leads: int
    agents: dict[str, int]
    queues: dict[str, int]
    rotations: list[RotationView]
    names: dict[str, str] = _NAMES


class SkipView(BaseModel):
    agent: str
    reason: str


class TurnView(BaseModel):
    """One turn (round robin) or draw of a pool: who was chosen, who was passed over, why."""

    lead: str
    at: str
    pool: str
    key: str
    strategy: str
    chosen: str | None
    members: list[str] | None
    eligible: list[str] | None
    skipped: list[SkipView]


class LedgerPage(BaseModel):
    """A page of the fairness ledger, oldest turn first."""

    items: list[TurnView]
    next_offset: int | None = Field(description="The offset of the next page, if any.")
    names: dict[str, str] = _NAMES
