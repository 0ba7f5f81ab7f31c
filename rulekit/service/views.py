"""The JSON shapes the API answers with (they make the OpenAPI document's responses)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from rulekit.lifecycle import ConflictLead
from rulekit.storage.base import StoredOffer


class OfferView(BaseModel):
    id: str
    lead_id: str
    agents: list[str]
    mode: str
    status: str
    created_at: str
    deadline: str | None
    winner: str | None
    closed_at: str | None
    rule: str

    @classmethod
    def of(cls, offer: StoredOffer) -> OfferView:
        return cls(id=offer.offer_id, lead_id=offer.lead_id, agents=list(offer.agents),
                   mode=offer.mode, status=offer.status,
                   created_at=offer.created_at.isoformat(),
                   deadline=offer.deadline.isoformat() if offer.deadline else None,
                   winner=offer.winner,
                   closed_at=offer.closed_at.isoformat() if offer.closed_at else None,
                   rule=offer.rule)


class LeadView(BaseModel):
    """A lead's routing state: where it is and why."""

    id: str
    outcome: str | None = Field(None, description="On intake: decided, duplicate or kept.")
    status: str
    policy: str | None
    assignee: str | None
    queue: str | None
    reason: str | None
    waiting_for: str | None = Field(None, description=(
        "What the lead waits for, as `rulekit leads` says it: \"first contact by a-ann until "
        "2026-11-24T15:30:00+00:00\", \"an answer from a-bob to offer o-1 until …\"."))
    offers: list[OfferView]
    explanation: str = Field(description="The decisions in plain English.")
    traces: list[dict[str, Any]] = Field(description="The decisions as JSON.")
    lead: dict[str, Any]


class LeadPage(BaseModel):
    items: list[dict[str, Any]]
    next_offset: int | None = Field(description="The offset of the next page, if any.")


class AnswerView(BaseModel):
    """What an agent's answer to an offer did."""

    offer: OfferView
    result: str = Field(description="yours, declined, taken, expired or closed.")
    message: str
    lead: LeadView


class ActivityIn(BaseModel):
    activity: str = Field(description="call, email, text or showing.",
                          examples=["call"], max_length=20)
    note: str = Field("", max_length=2000, examples=["Left a voicemail."])


class MemberIn(BaseModel):
    member: str = Field(min_length=1, max_length=200, examples=["a-avery-jones"],
                        description="An agent id, or a team id: one member, taking one "
                                    "turn.")
    reason: str = Field(min_length=1, max_length=500, examples=["back from leave"])


class PausedIn(BaseModel):
    paused: bool
    reason: str = Field(min_length=1, max_length=500, examples=["on vacation"])


class ReassignIn(BaseModel):
    agent: str = Field(min_length=1, max_length=200, examples=["a-blake-kim"])
    reason: str = Field(min_length=1, max_length=500, examples=["agent left the office"])


_REASON = Field(min_length=1, max_length=500, description="Why: kept in the audit history.",
                examples=["office meeting"])


class EnabledIn(BaseModel):
    enabled: bool = Field(description="false: the policy's leads wait in its disabled queue.")
    reason: str = _REASON


class CcIn(BaseModel):
    cc: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        max_length=50, examples=[["manager@example.com"]],
        description="Carbon-copy recipients of the rule's notifications (an empty list "
                    "removes the copies): email addresses, agent ids or recipient roles.")
    reason: str = _REASON


class StatusIn(BaseModel):
    status: Literal["active", "inactive"] = Field(
        description="inactive: no more update requests go to the contact's owner.")
    reason: str = _REASON


class TransferIn(BaseModel):
    from_agent: str = Field(min_length=1, max_length=200, examples=["a-avery-jones"])
    to_agent: str = Field(min_length=1, max_length=200, examples=["a-blake-kim"])
    contact: str | None = Field(
        None, min_length=1, max_length=320, examples=["pat.buyer@example.com"],
        description="Only this contact: an email, a phone, or a contact key (email:…, "
                    "phone:…); otherwise every contact the agent owns.")
    scope: str | None = Field(None, min_length=1, max_length=200, examples=["global"],
                              description="Only this ownership scope (global, channel:<c>, "
                                          "market:<mls>).")
    reason: str = _REASON


class ConflictLeadView(BaseModel):
    """A lead whose ownership conflict a contact change resolved."""

    lead_id: str
    agent: str = Field(description="The agent who entered the lead, the contact's owner now.")
    routed: bool = Field(description="Whether the lead was assigned to them by this change.")
    note: str = Field(description="What was done, in words (assigned, or why it was left).")


class ChangeView(BaseModel):
    """An admin change: what it did, before → after, and the version it activated (none for
    changes of live data: lead status, contact transfers)."""

    action: str
    before: Any
    after: Any
    version: str | None = None
    conflict_leads: list[ConflictLeadView] = Field(
        default_factory=list,
        description="A contact change only: the leads whose ownership conflict it resolved "
                    "(the agent who entered the lead owns the contact now), each routed to "
                    "that agent or left as it was (already assigned).")


def conflict_lead_views(leads: Iterable[ConflictLead]) -> list[ConflictLeadView]:
    """The view of the leads a contact change routed (or left as they were)."""
    return [ConflictLeadView(lead_id=c.lead_id, agent=c.agent, routed=c.routed, note=c.note)
            for c in leads]


class ShareIn(BaseModel):
    agent: str = Field(min_length=1, max_length=200, examples=["a-blake-kim"],
                       description="The agent to share the contact with (or give it to).")
    reason: str = _REASON


class ContactStatusIn(BaseModel):
    status: Literal["pending", "closed", "assigned"] = Field(
        description="pending: under contract; closed: the transaction is done; assigned: a "
                    "pending or closed contact back with its owner.")
    reason: str = _REASON


class ContactView(BaseModel):
    """A contact: who it is, its status, its owner (global, then per scope) and the agents it
    is shared with."""

    key: str
    id: str
    name: str | None
    email: str | None
    phone: str | None
    status: str | None
    owner: str | None
    owners: dict[str, str]
    shared_with: list[str]
    lead_status: str
    entered_by: str | None


class WhyNotMomentView(BaseModel):
    """One thing that happened to the agent in one decision of the lead."""

    at: str = Field(description="When (ISO 8601, UTC).")
    kind: str = Field(description="not_in_pool, excluded, passed_over, not_picked, picked, "
                                  "offered, accepted, declined, expired, beaten, assigned, "
                                  "reassigned_away.")
    pool: str | None
    reason: str | None = Field(description="The filters that left the agent out (mls, zip, "
                                           "office, team, tag, members), the exclusion reason "
                                           "(paused, off_duty, at_capacity, already_offered, "
                                           "where) or the pick's strategy.")
    detail: dict[str, Any]
    text: str


class WhyNotView(BaseModel):
    """Why an agent did or did not get a lead: the verdict, one sentence, and what happened
    to the agent decision by decision (``lines``: the plain-English form)."""

    lead: str
    agent: str
    name: str
    verdict: str = Field(description="The kind of the moment that decided it, got_lead, "
                                     "offer_open or never_considered.")
    summary: str
    moments: list[WhyNotMomentView]
    lines: list[str]
