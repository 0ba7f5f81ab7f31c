"""``/v1/leads``: intake (idempotent by lead id), reading a lead and its explanation, listing
leads with the filters of ``rulekit leads``, an agent's activity, an admin's reassignment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from rulekit.engine import DECIDED, NotDecidedYet, Receipt, UnknownLead
from rulekit.leadsearch import LeadFilter, check_values, matches, rows, waiting_for
from rulekit.lifecycle import shared_with
from rulekit.model import Lead
from rulekit.pipeline.effects import CloseOffer, Effect, MakeOffer, RejectAction
from rulekit.pipeline.state import LeadState
from rulekit.service.auth import allow
from rulekit.service.live import Live
from rulekit.service.problems import Problem
from rulekit.service.views import (
    ActivityIn,
    LeadPage,
    LeadView,
    OfferView,
    ReassignIn,
    WhyNotView,
)
from rulekit.storage.base import StoredOffer, StoredToken
from rulekit.storage.sql import SqlStore
from rulekit.storage.sql_writes import instant
from rulekit.trace import Trace
from rulekit.whynot import UnknownAgent, why_not
from rulekit.worker import NothingLoaded

router = APIRouter(prefix="/v1/leads", tags=["leads"])


def live_of(request: Request) -> Live:
    live: Live = request.app.state.live
    return live


def engine_of(live: Live) -> Any:
    try:
        return live.engine()
    except NothingLoaded as exc:
        raise Problem(503, str(exc), code="nothing-loaded") from None


def _view(lead: Lead, outcome: str | None, state: LeadState | None,
          offers: list[OfferView], explanation: str, traces: Sequence[Trace]) -> LeadView:
    return LeadView(
        id=lead.id, outcome=outcome, status=state.status if state else "kept",
        policy=state.policy if state else None, assignee=state.assignee if state else None,
        queue=state.queue if state else None, reason=state.reason if state else None,
        waiting_for=waiting_for(state.pending) if state else None,
        offers=offers, explanation=explanation, traces=[t.to_json() for t in traces],
        lead=lead.model_dump(mode="json"))


def lead_view(live: Live, lead: Lead, outcome: str | None = None) -> LeadView:
    """The lead as the store holds it now."""
    store = live.store
    return _view(lead, outcome, store.get_state(lead.id),
                 [OfferView.of(o) for o in store.offers(lead.id)], live.explain(lead.id),
                 store.traces(lead.id))


def _as_kept(store: Any, at: datetime) -> datetime:
    """An instant as ``store`` gives it back: a SQL store keeps instants in UTC, the memory
    store as they are."""
    return instant(at) if isinstance(store, SqlStore) else at


def first_offers(store: Any, lead_id: str, effects: Sequence[Effect],
                 at: datetime) -> list[StoredOffer] | None:
    """The offers a lead's first decision (its ``effects``, committed at ``at``) made, as
    ``store`` holds them after that commit; ``None`` if the decision closed an offer it did
    not make (then only the store can tell)."""
    made: dict[str, StoredOffer] = {}
    kept_at = _as_kept(store, at)
    for effect in effects:
        if isinstance(effect, MakeOffer):
            deadline = None if effect.deadline is None else _as_kept(store, effect.deadline)
            made[effect.offer_id] = StoredOffer(
                effect.offer_id, lead_id, tuple(effect.agents), effect.mode, "open", kept_at,
                deadline, None, None, effect.rule)
        elif isinstance(effect, CloseOffer):
            offer = made.get(effect.offer_id)
            if offer is None or offer.status != "open":
                return None
            made[effect.offer_id] = replace(offer, status=effect.status, winner=effect.winner,
                                            closed_at=kept_at)
    return list(made.values())


def decided_view(live: Live, lead: Lead, receipt: Receipt) -> LeadView:
    """The view of a lead ``engine.intake`` has just decided, built from its receipt: what
    :func:`lead_view` would read back right after that commit, without reading back the lead,
    its state, offers and traces (only the audit history is read, for the changes people made
    that its explanation names)."""
    decision = receipt.decision
    assert decision is not None and receipt.at is not None
    offers = first_offers(live.store, lead.id, decision.effects, receipt.at)
    if offers is None:
        offers = live.store.offers(lead.id)
    return _view(lead, receipt.outcome, decision.state, [OfferView.of(o) for o in offers],
                 live.explain_first(lead, decision.trace), [decision.trace])


def answer(view: LeadView, status: int) -> Response:
    """``view`` as the route's JSON response, written as FastAPI writes a returned model (here,
    where FastAPI would validate the model again first, in another worker thread)."""
    return Response(view.model_dump_json(), status_code=status, media_type="application/json")


def visible(token: StoredToken, live: Live, lead: Lead) -> bool:
    """Whether the token may read the lead: agents their own leads and offers, integrators
    their sources' leads, every other reading role all leads."""
    if token.role == "integrator":
        return lead.source in token.sources
    if token.role != "agent":
        return True
    state = live.store.get_state(lead.id)
    if state is not None and state.assignee == token.agent:
        return True
    if live.config.shared_contacts == "leads" and token.agent is not None \
            and token.agent in shared_with(live.store, lead):
        return True
    return any(token.agent in offer.agents for offer in live.store.offers(lead.id))


def found_lead(live: Live, token: StoredToken, lead_id: str) -> Lead:
    lead = live.store.get_lead(lead_id)
    if lead is None:
        raise Problem(404, f"no lead {lead_id!r}", code="unknown-lead")
    if not visible(token, live, lead):
        raise Problem(403, f"lead {lead_id!r} is not yours", code="forbidden")
    found: Lead = lead
    return found


def _same(a: Lead, b: Lead) -> bool:
    return a.model_dump(mode="json") == b.model_dump(mode="json")


@router.post("", status_code=201, response_model=LeadView,
             responses={200: {"model": LeadView, "description": "Received before"},
                        202: {"model": LeadView, "description": "Kept for a worker"},
                        409: {"description": "The id was received with another body"}})
def submit_lead(lead: Lead, request: Request,
                token: StoredToken = allow("integrator", "admin")) -> Response:
    """Receive a lead.  Idempotent by id: the same id and body answer the first decision
    (200); the same id with another body is a conflict (409).  201 (decided) or 202 (kept
    for a worker) only once the lead is stored."""
    live = live_of(request)
    if token.role == "integrator" and lead.source not in token.sources:
        raise Problem(403, f"this token may submit leads of {', '.join(token.sources)} only, "
                      f"not {lead.source!r}", code="forbidden")
    metrics = request.app.state.metrics
    before = live.store.get_lead(lead.id)
    if before is None:
        engine = engine_of(live)
        try:
            receipt = engine.intake(lead)
        except Exception as exc:
            metrics.received(lead.source, "refused")
            raise Problem(503, "the lead could not be stored; it was not received: "
                          f"{type(exc).__name__}", code="not-stored") from exc
        if receipt.outcome == DECIDED:
            metrics.received(lead.source, receipt.outcome)
            return answer(decided_view(live, lead, receipt), 201)
        if receipt.outcome != "duplicate":
            metrics.received(lead.source, receipt.outcome)
            return answer(lead_view(live, lead, receipt.outcome), 202)
        before = live.store.get_lead(lead.id)
    assert before is not None
    if not _same(before, lead):
        metrics.received(lead.source, "conflict")
        raise Problem(409, f"lead {lead.id!r} was received before with a different body",
                      code="lead-conflict")
    metrics.received(lead.source, "duplicate")
    return answer(lead_view(live, before, "duplicate"), 200)


@router.get("/{lead_id}", response_model=LeadView)
def read_lead(lead_id: str, request: Request,
              token: StoredToken = allow("integrator", "agent", "concierge", "admin",
                                         "support")) -> Response:
    """A lead: its state, owner, offers, queue, and the explanation as text and JSON."""
    live = live_of(request)
    return answer(lead_view(live, found_lead(live, token, lead_id)), 200)


FILTERS = {"source": "sources", "channel": "channels", "entry": "entries",
           "inquiry_type": "inquiry_types", "activity": "activities", "status": "statuses",
           "assignee": "assignees", "queue": "queues", "contact_status": "contact_statuses",
           "lead_status": "lead_statuses", "owner": "owners"}


@router.get("", response_model=LeadPage)
def list_leads(request: Request,
               token: StoredToken = allow("agent", "concierge", "admin", "support"),
               source: Annotated[list[str] | None, Query(max_length=200)] = None,
               channel: Annotated[list[str] | None, Query(max_length=200)] = None,
               entry: Annotated[list[str] | None, Query(max_length=200)] = None,
               inquiry_type: Annotated[list[str] | None, Query(max_length=200)] = None,
               activity: Annotated[list[str] | None, Query(max_length=200)] = None,
               status: Annotated[list[str] | None, Query(max_length=200)] = None,
               assignee: Annotated[list[str] | None, Query(max_length=200)] = None,
               queue: Annotated[list[str] | None, Query(max_length=200)] = None,
               contact_status: Annotated[list[str] | None, Query(max_length=200)] = None,
               lead_status: Annotated[list[str] | None, Query(max_length=200)] = None,
               owner: Annotated[list[str] | None, Query(max_length=200)] = None,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> LeadPage:
    """Leads in arrival order, filtered as ``rulekit leads`` filters them; an agent sees
    only leads assigned or offered to them."""
    live = live_of(request)
    given = {"source": source, "channel": channel, "entry": entry,
             "inquiry_type": inquiry_type, "activity": activity, "status": status,
             "assignee": assignee, "queue": queue, "contact_status": contact_status,
             "lead_status": lead_status, "owner": owner}
    assert given.keys() == FILTERS.keys()
    criteria: dict[str, tuple[str, ...]] = {}
    errors = []
    for name, field in FILTERS.items():
        values = tuple(given[name] or ())
        try:
            check_values(field, values)
        except ValueError as exc:
            errors.append({"field": f"query.{name}", "message": str(exc), "type": "value"})
        criteria[field] = values
    if errors:
        raise Problem(422, "; ".join(e["message"] for e in errors), code="invalid-input",
                      errors=errors)
    wanted = LeadFilter(**criteria)  # type: ignore[arg-type]
    items: list[dict[str, Any]] = []
    seen = 0
    more = False
    for row in rows(live.store):
        if not matches(row, wanted) or not visible(token, live, row.lead):
            continue
        if seen >= offset:
            if len(items) == limit:
                more = True
                break
            items.append(row.to_json())
        seen += 1
    return LeadPage(items=items, next_offset=offset + limit if more else None)


def _rejection(decision: Any) -> str | None:
    for effect in decision.effects:
        if isinstance(effect, RejectAction):
            return str(effect.reason)
    return None


@router.post("/{lead_id}/activity", response_model=LeadView,
             responses={409: {"description": "The lead is not assigned to this agent"}})
def log_activity(lead_id: str, body: ActivityIn, request: Request,
                 token: StoredToken = allow("agent")) -> LeadView:
    """The lead's agent logs contact with the consumer; kept as an event of the lead."""
    live = live_of(request)
    lead = found_lead(live, token, lead_id)
    assert token.agent is not None
    try:
        decision = engine_of(live).log_activity(lead_id, token.agent, body.activity, body.note)
    except ValueError as exc:
        raise Problem(422, str(exc), code="invalid-input", errors=[
            {"field": "body.activity", "message": str(exc), "type": "value"}]) from None
    except NotDecidedYet as exc:
        raise Problem(409, str(exc), code="not-decided") from None
    rejected = _rejection(decision)
    if rejected:
        raise Problem(409, rejected, code="not-your-lead")
    return lead_view(live, lead)


@router.post("/{lead_id}/reassign", response_model=LeadView)
def reassign_lead(lead_id: str, body: ReassignIn, request: Request,
                  token: StoredToken = allow("admin")) -> LeadView:
    """Give the lead to another agent (withdrawing any open offer); audited on the lead."""
    live = live_of(request)
    lead = found_lead(live, token, lead_id)
    engine = engine_of(live)
    if body.agent not in engine.world.agents:
        raise Problem(422, f"no agent {body.agent!r} in the active world",
                      code="invalid-input",
                      errors=[{"field": "body.agent", "message": "unknown agent",
                               "type": "value"}])
    try:
        engine.reassign(lead_id, body.agent, by=f"admin token {token.token_id}",
                        reason=body.reason)
    except (NotDecidedYet, UnknownLead) as exc:
        raise Problem(409, str(exc), code="not-decided") from None
    return lead_view(live, lead)


@router.get("/{lead_id}/agents/{agent}", response_model=WhyNotView,
            responses={404: {"description": "No such lead, or no such agent"}})
def why_not_agent(lead_id: str, agent: str, request: Request,
                  token: StoredToken = allow("integrator", "agent", "concierge", "admin",
                                             "support")) -> WhyNotView:
    """"Why not me?": where ``agent`` dropped out of the lead's routing (not in the pool and
    which filter left them out, paused, already offered, lost the turn or the draw, beaten to
    the offer) or that they got it — what ``rulekit explain LEAD --agent ID`` says.  Who may
    read it: whoever may read the lead."""
    live = live_of(request)
    lead = found_lead(live, token, lead_id)
    world = engine_of(live).world
    try:
        answer = why_not(lead.id, live.store.traces(lead.id), agent, world,
                         live.store.offers(lead.id))
    except UnknownAgent as exc:
        raise Problem(404, str(exc), code="unknown-agent") from None
    return WhyNotView.model_validate(
        {**answer.to_json(), "lines": answer.lines(live.zone())})
