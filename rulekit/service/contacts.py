"""``/v1/leads/{id}/status``: the concierge marks the consumer behind a lead Active or Inactive
(whether update requests still go to the contact's owner).  The status belongs to the contact,
so it holds for every lead of that consumer; it is audited (who, when, why, before → after)
and shown in ``rulekit explain`` of the consumer's leads."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from rulekit.pipeline.facts import contact_key
from rulekit.service.admin import actor
from rulekit.service.auth import allow
from rulekit.service.leads import found_lead, live_of
from rulekit.service.problems import Problem
from rulekit.service.views import ChangeView, StatusIn
from rulekit.storage.base import StoredToken

router = APIRouter(prefix="/v1/leads", tags=["leads"])


@router.put("/{lead_id}/status", response_model=ChangeView,
            responses={409: {"description": "The lead has no email or phone: no contact"}})
def set_lead_status(lead_id: str, body: StatusIn, request: Request,
                    token: StoredToken = allow("concierge")) -> ChangeView:
    """Set the lead status (active or inactive) of the consumer behind a lead."""
    live = live_of(request)
    lead = found_lead(live, token, lead_id)
    key = contact_key(lead)
    if key is None:
        raise Problem(409, f"lead {lead_id!r} has no email or phone, so no contact to set",
                      code="no-contact")
    before = live.store.set_lead_status(key, body.status, by=actor(token),
                                        reason=body.reason, at=datetime.now(UTC),
                                        lead_id=lead_id)
    return ChangeView(action=f"lead status of {key} set to {body.status}",
                      before={"lead_status": before}, after={"lead_status": body.status})
