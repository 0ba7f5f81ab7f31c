"""Signed one-click links for offer emails.

Each link is bound to (offer, agent, action), signed with the service's key (itsdangerous)
and carries the offer's deadline: after it the page says the offer has expired.  ``GET``
only shows a confirmation page (mail scanners fetch links); the page's button ``POST``s, and
only that acts."""

from __future__ import annotations

import html
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from rulekit.notify.links import WORK, BadLink, NoSigningKey, offer_links, read
from rulekit.service.auth import allow
from rulekit.service.leads import live_of
from rulekit.service.offers import MESSAGES, answer, find_offer
from rulekit.service.problems import Problem

router = APIRouter(prefix="/links", tags=["links"])

def _read(key: str, token: str) -> dict[str, Any]:
    try:
        return read(key, token)
    except NoSigningKey:
        raise Problem(503, "this service has no signing key: set RULEKIT_SIGNING_KEY",
                      code="no-signing-key") from None
    except BadLink:
        raise Problem(404, "this link is not valid", code="bad-link") from None


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width'>"
        f"<meta name=robots content=noindex><title>{html.escape(title)}</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status_code=status, headers={"Cache-Control": "no-store",
                                     "Referrer-Policy": "no-referrer"})


def _lead_page(live: Any, data: dict[str, Any]) -> HTMLResponse:
    """The page of a "work with this lead" link: who the consumer is and where the lead is."""
    if time.time() >= data["e"]:
        return _page("This link has expired", "<p>Ask the office for the lead.</p>")
    lead = live.store.get_lead(data["l"])
    if lead is None:
        raise Problem(404, "this link is not valid", code="bad-link")
    state = live.store.get_state(lead.id)
    person = lead.contact
    rows = [("Lead", lead.id), ("Source", lead.source),
            ("Inquiry", lead.inquiry_type or ""), ("Name", person.name or ""),
            ("Email", person.email or ""), ("Phone", person.phone or ""),
            ("Status", state.status if state else "received"),
            ("Agent", (state.assignee or "") if state else ""),
            ("Queue", (state.queue or "") if state else "")]
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                    for k, v in rows if v)
    return _page(f"Lead {lead.id}", f"<table>{table}</table>")


@router.get("/{token}", response_class=HTMLResponse)
def confirm_page(token: str, request: Request) -> HTMLResponse:
    """Shows what the link would do, with a button; changes nothing."""
    data = _read(request.app.state.config.signing_key, token)
    live = live_of(request)
    if data["x"] == WORK:
        return _lead_page(live, data)
    offer = find_offer(live, data["o"])
    if time.time() >= data["e"] or offer.status != "open":
        result = "expired" if time.time() >= data["e"] or offer.status == "expired" \
            else ("taken" if offer.winner and offer.winner != data["a"] else "closed")
        if offer.winner == data["a"]:
            result = "yours"
        return _page(MESSAGES[result], "<p>There is nothing to do.</p>")
    verb = "Accept" if data["x"] == "accept" else "Decline"
    return _page(f"{verb} this lead?",
                 f"<p>Offer {html.escape(offer.offer_id)} for lead "
                 f"{html.escape(offer.lead_id)}.</p>"
                 f"<form method=post><button type=submit>{verb}</button></form>")


@router.post("/{token}", response_class=HTMLResponse)
def act(token: str, request: Request) -> HTMLResponse:
    """Does what the link says, once; the page says plainly what happened."""
    data = _read(request.app.state.config.signing_key, token)
    live = live_of(request)
    if data["x"] == WORK:
        return _page("This link only shows the lead", "<p>Nothing was changed.</p>", 409)
    offer = find_offer(live, data["o"])
    if time.time() >= data["e"]:
        return _page(MESSAGES["expired"], "<p>There is nothing to do.</p>", 409)
    result, acted = answer(live, offer, data["a"], data["x"] == "accept")
    return _page(MESSAGES[result], "" if acted else "<p>Nothing was changed.</p>",
                 200 if acted or result == "yours" else 409)


@router.get("/offers/{offer_id}", tags=["links"])
def links_of_offer(offer_id: str, request: Request, agent: str | None = None,
                   token: Any = allow("agent", "admin")) -> dict[str, str]:
    """The one-click links of an offer for one offered agent (an agent: their own), as the
    offer email carries them."""
    live = live_of(request)
    offer = find_offer(live, offer_id)
    chosen = token.agent if token.role == "agent" else agent
    if chosen is None or chosen not in offer.agents:
        raise Problem(403 if token.role == "agent" else 422,
                      f"offer {offer_id!r} was not made to {chosen or 'anyone named'}",
                      code="not-offered")
    return offer_links(str(request.base_url), request.app.state.config.signing_key,
                       offer.offer_id, chosen, offer.deadline)
