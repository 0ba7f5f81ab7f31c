"""Search and filter the leads of a store, by every field of a brokerage's leads tab.

A lead is one consumer action: five showing requests from one contact are five leads (five
rows).  Each row joins the stored lead with its routing state (status, assignee, queue) and the
contact the store knows for it (contact status, lead status, type, sources, priority, interest,
time frame, owner).

A :class:`LeadFilter` holds the criteria.  Different fields combine with AND; the values given
for one field combine with OR.  Text values match case-insensitively, so
``inquiry_types=("request a showing",)`` finds "Request A Showing".  Everything here is a pure
function of store reads: :func:`search` reads, :func:`matches` decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, get_args

from rulekit.model import Activity, Contact, ContactStatus, Entry, Lead
from rulekit.pipeline.facts import contact_key
from rulekit.pipeline.state import (
    ASSIGNED,
    DROPPED,
    KEPT,
    PARKED,
    QUEUED,
    ROUTING,
    UNROUTED,
    WAITING,
    LeadState,
    Pending,
)
from rulekit.storage.base import Store
from rulekit.storage.url import StoreOpenError, open_store_or_explain, sqlite_path
from rulekit.suggest import did_you_mean

#: What a lead waits for, by the mode of its pending (:class:`~rulekit.pipeline.state.Pending`).
WAITING_KINDS = {"single": "offer", "sequence": "offer", "broadcast": "broadcast",
                 "qualify": "qualification", "hold": "hold", "contact": "first_contact"}


def _iso(at: datetime) -> str:
    return at.isoformat()


def waiting_for(pending: Pending | None, when: Callable[[datetime], str] = _iso) -> str | None:
    """What a lead waits for, in words (``None``: nothing): ``first contact by a-ann until
    2026-11-24T15:30:00+00:00``, ``an answer from a-bob to offer o-1 until …``, ``a claim of
    offer o-2 by one of a-ann, a-bob until …``, ``a verdict from q-quinn until …``, ``the hold
    to end at …`` (more than three agents are counted: ``one of 12 agents``).  ``when``
    writes the deadline (ISO 8601 by default)."""
    if pending is None:
        return None
    open_to = [a for a in pending.agents if a not in pending.declined]
    agents = (", ".join(open_to) if len(open_to) <= 3 else f"{len(open_to)} agents") or "nobody"
    until = f" until {when(pending.deadline)}" if pending.deadline is not None else ""
    offer = f"offer {pending.offer_id}" if pending.offer_id else "the offer"
    if pending.mode == "contact":
        return f"first contact by {agents}{until}"
    if pending.mode == "hold":
        return (f"the hold to end at {when(pending.deadline)}" if pending.deadline is not None
                else "the hold to end")
    if pending.mode == "broadcast":
        return f"a claim of {offer} by one of {agents}{until}"
    if pending.mode == "qualify":
        return f"a verdict from {agents}{until}"
    return f"an answer from {agents} to {offer}{until}"


def waiting(pending: Pending | None) -> dict[str, Any] | None:
    """What a lead waits for, as data: ``for`` (offer, broadcast, qualification, hold,
    first_contact), the ``agents`` it waits on and the deadline ``until`` (ISO 8601)."""
    if pending is None:
        return None
    return {"for": WAITING_KINDS.get(pending.mode, pending.mode),
            "agents": [a for a in pending.agents if a not in pending.declined],
            "until": pending.deadline.isoformat() if pending.deadline is not None else None}


@dataclass(frozen=True, slots=True)
class LeadRow:
    """One lead as the leads tab shows it: the lead, its routing state and its contact."""

    lead: Lead
    state: LeadState | None
    contact: Contact | None

    @property
    def status(self) -> str:
        # a lead without a state is kept in the inbox: its first decision is pending
        return self.state.status if self.state is not None else "kept"

    @property
    def assignee(self) -> str | None:
        return self.state.assignee if self.state is not None else None

    @property
    def queue(self) -> str | None:
        return self.state.queue if self.state is not None else None

    @property
    def owners(self) -> tuple[str, ...]:
        """Every agent owning the contact: its global owner first, then per scope."""
        if self.contact is None:
            return ()
        found = [self.contact.owner] if self.contact.owner else []
        found += [a for a in self.contact.owners.values() if a not in found]
        return tuple(found)

    def to_json(self) -> dict[str, Any]:
        lead, contact = self.lead, self.contact
        pending = self.state.pending if self.state is not None else None
        return {
            "id": lead.id,
            "received_at": lead.received_at.isoformat(),
            "source": lead.source,
            "channel": lead.channel,
            "entry": str(lead.entry),
            "inquiry_type": lead.inquiry_type,
            "activity": str(lead.activity),
            "status": self.status,
            "assignee": self.assignee,
            "queue": self.queue,
            "waiting_for": waiting_for(pending),
            "waiting": waiting(pending),
            "contact": {
                "email": lead.contact.email,
                "phone": lead.contact.phone,
                "name": lead.contact.name,
                "key": contact_key(lead),
                "status": str(contact.status) if contact and contact.status else None,
                "lead_status": contact.lead_status if contact else None,
                "type": contact.type if contact else None,
                "source": contact.source if contact else None,
                "business_source": contact.business_source if contact else None,
                "priority": contact.priority if contact else None,
                "interest": contact.interest if contact else None,
                "time_frame": contact.time_frame if contact else None,
                "owners": list(self.owners),
                "shared_with": list(contact.shared_with) if contact else [],
            },
        }


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """Search criteria.  An empty tuple (or ``None``) means "any"."""

    # lead fields
    sources: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    inquiry_types: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    # routing
    statuses: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    # contact fields
    contact_statuses: tuple[str, ...] = ()
    lead_statuses: tuple[str, ...] = ()
    contact_types: tuple[str, ...] = ()
    contact_sources: tuple[str, ...] = ()
    business_sources: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    min_interest: int | None = None
    time_frames: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    # activity date (the lead's received_at): since <= received_at < until
    since: datetime | None = None
    until: datetime | None = None


def _literal_values(annotation: object) -> tuple[str, ...]:
    """The strings of a ``Literal[...]`` annotation (also inside ``... | None``)."""
    found: list[str] = []
    for arg in get_args(annotation):
        found.extend([arg] if isinstance(arg, str) else _literal_values(arg))
    return tuple(found)


#: The values the fields with a fixed set can have (the lead's entry and activity, the routing
#: status, the contact's status, lead status and priority), by :class:`LeadFilter` field: a
#: filter value outside them would match no lead, so :func:`check_values` refuses it.
FIXED_VALUES: dict[str, tuple[str, ...]] = {
    "entries": tuple(e.value for e in Entry),
    "activities": tuple(a.value for a in Activity),
    "statuses": (ROUTING, WAITING, ASSIGNED, QUEUED, DROPPED, UNROUTED, PARKED, KEPT),
    "contact_statuses": tuple(c.value for c in ContactStatus),
    "lead_statuses": _literal_values(Contact.model_fields["lead_status"].annotation),
    "priorities": _literal_values(Contact.model_fields["priority"].annotation),
}


def check_values(field: str, values: Iterable[str]) -> None:
    """``ValueError`` naming the allowed values when one of ``values`` (given for the
    :class:`LeadFilter` field ``field``) is not a value that field can have; matched as
    :func:`matches` matches (ignoring case; a contact status may have spaces for ``_``)."""
    allowed = FIXED_VALUES.get(field)
    if allowed is None:
        return
    known = {_norm(a) for a in allowed}
    for value in values:
        wanted = value.replace(" ", "_") if field == "contact_statuses" else value
        if _norm(wanted) not in known:
            close = did_you_mean(_norm(wanted), allowed)
            raise ValueError(f"{value!r} is not one of: {', '.join(allowed)}"
                             + (f"; {close}" if close else ""))


def _norm(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def _one_of(value: object | None, wanted: tuple[str, ...]) -> bool:
    """Whether ``value`` is one of ``wanted`` (no criterion: always)."""
    if not wanted:
        return True
    if value is None:
        return False
    return _norm(value) in {_norm(w) for w in wanted}


def _any_of(values: Iterable[object], wanted: tuple[str, ...]) -> bool:
    if not wanted:
        return True
    norm = {_norm(w) for w in wanted}
    return any(_norm(v) in norm for v in values)


def matches(row: LeadRow, f: LeadFilter) -> bool:
    """Whether one lead passes every criterion of ``f``."""
    lead, contact = row.lead, row.contact
    received = lead.received_at
    if f.since is not None and received < f.since:
        return False
    if f.until is not None and received >= f.until:
        return False
    if f.min_interest is not None and (contact is None or contact.interest is None
                                       or contact.interest < f.min_interest):
        return False
    contact_status = contact.status if contact is not None else None
    checks = (
        _one_of(lead.source, f.sources),
        _one_of(lead.channel, f.channels),
        _one_of(lead.entry, f.entries),
        _one_of(lead.inquiry_type, f.inquiry_types),
        _one_of(lead.activity, f.activities),
        _one_of(row.status, f.statuses),
        _one_of(row.assignee, f.assignees),
        _one_of(row.queue, f.queues),
        _one_of(contact_status, tuple(s.replace(" ", "_") for s in f.contact_statuses)),
        _one_of(contact.lead_status if contact else None, f.lead_statuses),
        _one_of(contact.type if contact else None, f.contact_types),
        _one_of(contact.source if contact else None, f.contact_sources),
        _one_of(contact.business_source if contact else None, f.business_sources),
        _one_of(contact.priority if contact else None, f.priorities),
        _one_of(contact.time_frame if contact else None, f.time_frames),
        _any_of(row.owners, f.owners),
    )
    return all(checks)


def rows(store: Store) -> Iterator[LeadRow]:
    """Every lead of the store, in arrival order, with its state and contact."""
    facts = store.facts()
    for lead_id in store.lead_ids():
        lead = store.get_lead(lead_id)
        if lead is None:
            continue
        key = contact_key(lead)
        contact = facts.contact(key) if key else None
        yield LeadRow(lead, store.get_state(lead_id), contact)


def search(store: Store, f: LeadFilter, limit: int | None = None) -> list[LeadRow]:
    """The leads of ``store`` matching ``f``, in arrival order, at most ``limit``."""
    found: list[LeadRow] = []
    for row in rows(store):
        if limit is not None and len(found) >= limit:
            break
        if matches(row, f):
            found.append(row)
    return found


# -- activity dates ----------------------------------------------------------------------------
def week_start(now: datetime, tz: tzinfo) -> datetime:
    """Monday 00:00 of the week of ``now``, in ``tz`` (an aware instant)."""
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).date()
    return datetime(monday.year, monday.month, monday.day, tzinfo=tz)


_AGE = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d`` or ``2w`` as a duration; ``ValueError`` otherwise."""
    match = _AGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an age like 30m, 12h, 7d or 2w")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])


def parse_instant(text: str, tz: tzinfo) -> datetime:
    """An ISO date or date-time; naive values are read in ``tz``."""
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


# -- opening a store to read -------------------------------------------------------------------
@contextmanager
def reading_store(url: str) -> Iterator[Store]:
    """The store a URL names, closed afterwards.  Unlike :func:`open_store` it never creates a
    SQLite file (a missing file is a :class:`StoreOpenError`, most likely a typo) and never
    creates or upgrades a schema: a database without rulekit's schema, or with an older one,
    is a :class:`StoreOpenError` that says to run ``rulekit migrate``."""
    if url.startswith("sqlite:"):
        try:
            path = sqlite_path(url)
        except ValueError as exc:
            raise StoreOpenError(str(exc)) from exc
        if path != ":memory:" and not Path(path).is_file():
            raise StoreOpenError(
                f"no database at {path} (from {url}); sqlite:///relative/path.db is relative to "
                "the current folder, sqlite:////absolute/path.db is absolute")
    store = open_store_or_explain(url, migrate=False)
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


__all__ = [
    "FIXED_VALUES",
    "LeadFilter",
    "LeadRow",
    "StoreOpenError",
    "check_values",
    "matches",
    "parse_age",
    "parse_instant",
    "reading_store",
    "rows",
    "search",
    "waiting",
    "waiting_for",
    "week_start",
]
