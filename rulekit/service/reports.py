"""``/v1/reports``: the accountability reports of ``rulekit report`` over the service's store
— response times and first contacts, the distribution of leads, and the fairness ledger (a
page at a time).  Each answers the library report's ``to_json()`` (what ``rulekit report …
--json`` prints) and the agents' names; the admin and the concierge read them."""

from __future__ import annotations

import argparse
from typing import Annotated

from fastapi import APIRouter, Query, Request

from rulekit.cli.first_contact_text import as_of, target_duration
from rulekit.fairness import distribution
from rulekit.first_contact import first_contacts
from rulekit.ledger import ledger
from rulekit.reports import response_times
from rulekit.service.auth import allow
from rulekit.service.leads import live_of
from rulekit.service.problems import Problem
from rulekit.service.report_views import DistributionReport, LedgerPage, ResponseTimesReport
from rulekit.storage.base import StoredToken
from rulekit.storage.catalog import agent_names

#: Who reads the reports: the managers (admin, concierge) and support.
READERS = allow("admin", "concierge", "support")
router = APIRouter(prefix="/v1/reports", tags=["reports"])

#: The ledger's page size when none is asked for, and the largest one served.
LEDGER_PAGE, LEDGER_MAX = 100, 1000


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, f"{field}: {message}", code="invalid-input",
                   errors=[{"field": field, "message": message, "type": "value"}])


@router.get("/response-times", response_model=ResponseTimesReport)
def read_response_times(
        request: Request, token: StoredToken = READERS,
        target: Annotated[str | None, Query(
            max_length=40, examples=["30m"],
            description="The first-contact target (45s, 30m, 2h, 1h30m); names the agents "
                        "over it.")] = None,
        now: Annotated[str | None, Query(
            max_length=40, examples=["2026-12-02T18:00:00Z"],
            description="The ISO 8601 instant open leads are judged at (UTC without an "
                        "offset; default: the real clock).")] = None) -> ResponseTimesReport:
    """Per agent, from each offer to the answer, and from each assignment (offered or direct)
    to the first logged contact: who is over the target, who never made contact."""
    try:
        seconds = None if target is None else target_duration(target)
    except argparse.ArgumentTypeError as exc:
        raise _invalid("query.target", str(exc)) from None
    try:
        instant = None if now is None else as_of(now)
    except argparse.ArgumentTypeError as exc:
        raise _invalid("query.now", str(exc)) from None
    store = live_of(request).store
    times = response_times(store)
    contacts = first_contacts(store, seconds, instant)
    return ResponseTimesReport.model_validate(
        {**times.to_json(), "first_contact": contacts.to_json(), "names": agent_names(store)})


@router.get("/distribution", response_model=DistributionReport)
def read_distribution(request: Request, token: StoredToken = READERS) -> DistributionReport:
    """Leads per agent and queue, and every pool's rotations judged phase by phase of its
    membership against what the strategy promises."""
    store = live_of(request).store
    return DistributionReport.model_validate(
        {**distribution(store).to_json(), "names": agent_names(store)})


@router.get("/ledger", response_model=LedgerPage)
def read_ledger(request: Request, token: StoredToken = READERS,
                pool: Annotated[str | None, Query(
                    max_length=200, description="Only the turns of this pool.")] = None,
                offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                limit: Annotated[int, Query(ge=1, le=LEDGER_MAX)] = LEDGER_PAGE) -> LedgerPage:
    """The fairness ledger, oldest turn first: each turn or draw of a pool, who was chosen,
    the members and the eligible ones, and who was skipped and why."""
    store = live_of(request).store
    turns = [t for t in ledger(store) if pool in (None, t.pool)]
    page = turns[offset:offset + limit]
    more = offset + limit < len(turns)
    return LedgerPage.model_validate(
        {"items": [t.to_json() for t in page], "next_offset": offset + limit if more else None,
         "names": agent_names(store)})
