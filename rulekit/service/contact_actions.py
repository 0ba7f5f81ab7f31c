"""``/v1/contacts/{key}``: a contact, and its lifecycle actions (see :mod:`rulekit.lifecycle`).

``{key}`` is a contact key (``email:…``, ``phone:…``), an email address or a phone number.
Every action is audited with its actor (who, when, why, before → after) and shown in the
explanations of the consumer's leads.  Who may do what:

* the concierge and admins run every action;
* an agent may share a contact it owns, stop sharing it, give it to another agent, and delete
  its own record of a contact (which resolves an ownership conflict in favour of the agent who
  entered the contact); an agent never changes a contact's status (403);
* a change that resolves an ownership conflict (the agent who entered a conflicting lead owns
  the contact now) routes that waiting lead to them through the engine, as the actor; the
  response's ``conflict_leads`` lists those leads (routed, or left as they were);
* an agent reads a contact it owns or that is shared with it; support reads every contact.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from rulekit.lifecycle import (
    DELETE,
    SHARE,
    STATUS,
    TRANSFER,
    UNSHARE,
    ContactChangeError,
    contact_view,
    owners_of,
)
from rulekit.model import Contact
from rulekit.pipeline.facts import contact_key_of_text
from rulekit.service.admin import actor
from rulekit.service.auth import allow
from rulekit.service.leads import engine_of, live_of
from rulekit.service.live import Live
from rulekit.service.problems import Problem
from rulekit.service.views import (
    ChangeView,
    ContactStatusIn,
    ContactView,
    ShareIn,
    conflict_lead_views,
)
from rulekit.storage.base import StoredToken

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such contact"},
    409: {"description": "The contact cannot take this action in its status"}}
#: Where a refused action's field is in the request, by the field the lifecycle names.
_BODY_FIELDS = {"agent": "body.agent", "status": "body.status", "contact": "path.key"}
#: The status of a refused action, by its kind.
_STATUSES = {"unknown-contact": 404, "bad-transition": 409}


def _key(text: str) -> str:
    key = contact_key_of_text(text)
    if key is None:
        raise Problem(404, f"{text!r} is no contact key, email or phone", code="unknown-contact")
    return key


def _stored(live: Live, key: str) -> Contact:
    contact: Contact | None = live.store.facts().contact(key)
    if contact is None:
        raise Problem(404, f"no contact {key!r}", code="unknown-contact")
    return contact


def _owner_only(token: StoredToken, contact: Contact, key: str, what: str) -> None:
    """An agent token acts only on a contact it owns."""
    if token.role == "agent" and token.agent not in owners_of(contact):
        raise Problem(403, f"agent {token.agent} does not own contact {key!r}, so it may not "
                      f"{what} it", code="not-owner")


def _owners_change(request: Request, token: StoredToken, key: str, action: str, reason: str,
                   agent: str, agent_field: str = "body.agent") -> ChangeView:
    """An action (share, unshare, transfer) that an agent may take only on a contact it
    owns; the concierge and admins on any."""
    live = live_of(request)
    wanted = _key(key)
    _owner_only(token, _stored(live, wanted), wanted, action)
    return _run(live, token, wanted, action, reason, agent=agent, agent_field=agent_field)


def _run(live: Live, token: StoredToken, key: str, action: str, reason: str, *,
         agent: str | None = None, status: str | None = None,
         agent_field: str = "body.agent") -> ChangeView:
    engine = engine_of(live)
    try:
        change = engine.change_contact(key, action, by=actor(token), reason=reason,
                                       agent=agent, status=status, now=datetime.now(UTC))
    except ContactChangeError as exc:
        field = agent_field if exc.field == "agent" else _BODY_FIELDS.get(exc.field, exc.field)
        status_code = _STATUSES.get(exc.code, 422)
        if status_code == 404:
            raise Problem(404, exc.message, code=exc.code) from None
        if status_code == 409:
            raise Problem(409, exc.message, code=exc.code,
                          errors=[{"field": field, "message": exc.message,
                                   "type": "transition"}]) from None
        raise Problem(422, exc.message, code="invalid-input",
                      errors=[{"field": field, "message": exc.message,
                               "type": "value"}]) from None
    shown = "" if agent is None else f" {agent}"
    before = change.before
    return ChangeView(action=f"contact {key}: {action}{shown}",
                      before=None if before is None else contact_view(key, before),
                      after=contact_view(key, change.after),
                      conflict_leads=conflict_lead_views(change.leads))


@router.get("/{key}", response_model=ContactView, responses={404: _ERRORS[404]})
def show_contact(key: str, request: Request,
                 token: StoredToken = allow("agent", "concierge", "admin", "support")
                 ) -> ContactView:
    """A contact: its status, owner, owners per scope and shared agents.  An agent reads the
    contacts it owns and those shared with it."""
    live = live_of(request)
    wanted = _key(key)
    contact = _stored(live, wanted)
    if token.role == "agent" and token.agent not in owners_of(contact) \
            and token.agent not in contact.shared_with:
        raise Problem(404, f"no contact {wanted!r}", code="unknown-contact")
    return ContactView.model_validate(contact_view(wanted, contact))


@router.post("/{key}/share", response_model=ChangeView, responses=_ERRORS)
def share_contact(key: str, body: ShareIn, request: Request,
                  token: StoredToken = allow("agent", "concierge", "admin")) -> ChangeView:
    """Share the contact with another agent (status shared); an agent shares its own."""
    return _owners_change(request, token, key, SHARE, body.reason, body.agent)


@router.delete("/{key}/share/{agent}", response_model=ChangeView, responses=_ERRORS)
def unshare_contact(key: str, agent: str, request: Request,
                    token: StoredToken = allow("agent", "concierge", "admin"),
                    reason: Annotated[str, Query(max_length=500)] = "") -> ChangeView:
    """Stop sharing the contact with an agent; an agent unshares a contact it owns."""
    return _owners_change(request, token, key, UNSHARE, reason, agent, "path.agent")


@router.post("/{key}/transfer", response_model=ChangeView, responses=_ERRORS)
def transfer_contact(key: str, body: ShareIn, request: Request,
                     token: StoredToken = allow("agent", "concierge", "admin")) -> ChangeView:
    """Give the contact to another agent (status assigned; a pending or closed contact keeps
    its status); an agent gives away a contact it owns."""
    return _owners_change(request, token, key, TRANSFER, body.reason, body.agent)


@router.put("/{key}/status", response_model=ChangeView, responses=_ERRORS)
def set_contact_status(key: str, body: ContactStatusIn, request: Request,
                       token: StoredToken = allow("concierge", "admin")) -> ChangeView:
    """Mark the contact pending (under contract) or closed, or assigned again."""
    live = live_of(request)
    return _run(live, token, _key(key), STATUS, body.reason, status=body.status)


@router.delete("/{key}/records/{agent}", response_model=ChangeView, responses=_ERRORS)
def delete_record(key: str, agent: str, request: Request,
                  token: StoredToken = allow("agent", "concierge", "admin"),
                  reason: Annotated[str, Query(max_length=500)] = "") -> ChangeView:
    """Delete an agent's record of the contact: a share, or its ownership (where another
    agent's manual entry of the contact was reported as a conflict, that agent's record
    stands).  An agent deletes only its own record."""
    live = live_of(request)
    wanted = _key(key)
    if token.role == "agent" and token.agent != agent:
        raise Problem(403, f"agent {token.agent} may delete only its own record, not "
                      f"{agent}'s", code="not-own-record")
    return _run(live, token, wanted, DELETE, reason, agent=agent, agent_field="path.agent")
