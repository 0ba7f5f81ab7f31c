"""``/v1/offers``: an offered agent reads, accepts or declines an offer.  Only the agents the
offer was made to may answer it; a closed offer or one another agent won answers 409 with the
reason."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from rulekit.engine import UnknownLead
from rulekit.pipeline.effects import RejectAction
from rulekit.service.auth import allow
from rulekit.service.leads import engine_of, lead_view, live_of
from rulekit.service.live import Live
from rulekit.service.problems import Problem
from rulekit.service.views import AnswerView, OfferView
from rulekit.storage.base import StoredOffer, StoredToken

router = APIRouter(prefix="/v1/offers", tags=["offers"])

MESSAGES = {"yours": "The lead is yours.", "declined": "You declined the offer.",
            "taken": "Another agent was faster: the lead is theirs.",
            "expired": "This offer has expired.", "closed": "This offer is closed."}


def find_offer(live: Live, offer_id: str) -> StoredOffer:
    lead_id = live.store.offer_lead(offer_id)
    if lead_id is not None:
        for offer in live.store.offers(lead_id):
            if offer.offer_id == offer_id:
                found: StoredOffer = offer
                return found
    raise Problem(404, f"no offer {offer_id!r}", code="unknown-offer")


def _mine(token: StoredToken, offer: StoredOffer) -> None:
    if token.role == "agent" and token.agent not in offer.agents:
        raise Problem(403, f"offer {offer.offer_id!r} was not made to you", code="forbidden")


def answer(live: Live, offer: StoredOffer, agent: str, accept: bool) -> tuple[str, bool]:
    """Answer the offer as ``agent``: the result (a key of :data:`MESSAGES`) and whether it
    acted.  Shared by the API and the one-click links."""
    engine = engine_of(live)
    act = engine.accept if accept else engine.decline
    try:
        decision = act(offer.offer_id, agent)
    except UnknownLead:
        raise Problem(404, f"no offer {offer.offer_id!r}", code="unknown-offer") from None
    if not any(isinstance(e, RejectAction) for e in decision.effects):
        return ("yours" if decision.state.assignee == agent else "declined") if accept \
            else "declined", True
    state = decision.state
    if state.assignee == agent:
        return "yours", False
    if state.assignee is not None:
        return "taken", False
    now = datetime.now(UTC)
    if offer.status == "expired" or (offer.deadline is not None and offer.deadline <= now):
        return "expired", False
    return "closed", False


def _answer_route(offer_id: str, request: Request, token: StoredToken,
                  accept: bool) -> AnswerView:
    live = live_of(request)
    offer = find_offer(live, offer_id)
    _mine(token, offer)
    assert token.agent is not None
    result, acted = answer(live, offer, token.agent, accept)
    offer = find_offer(live, offer_id)
    lead = live.store.get_lead(offer.lead_id)
    assert lead is not None
    if not acted:
        raise Problem(409, MESSAGES[result], code=f"offer-{result}", result=result)
    return AnswerView(offer=OfferView.of(offer), result=result, message=MESSAGES[result],
                      lead=lead_view(live, lead))


@router.get("/{offer_id}", response_model=OfferView)
def read_offer(offer_id: str, request: Request,
               token: StoredToken = allow("agent", "admin", "support")) -> OfferView:
    offer = find_offer(live_of(request), offer_id)
    _mine(token, offer)
    return OfferView.of(offer)


@router.post("/{offer_id}/accept", response_model=AnswerView,
             responses={409: {"description": "Closed, expired, or another agent won"}})
def accept_offer(offer_id: str, request: Request,
                 token: StoredToken = allow("agent")) -> AnswerView:
    """The offered agent accepts; 409 says why not (another agent was faster, expired)."""
    return _answer_route(offer_id, request, token, True)


@router.post("/{offer_id}/decline", response_model=AnswerView,
             responses={409: {"description": "The offer is no longer open"}})
def decline_offer(offer_id: str, request: Request,
                  token: StoredToken = allow("agent")) -> AnswerView:
    return _answer_route(offer_id, request, token, False)
