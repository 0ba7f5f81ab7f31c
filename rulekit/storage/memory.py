"""The in-memory store: the reference adapter, and the one embedders use in their own tests.

All of its state is in dictionaries behind one lock, so it is safe across threads of one
process (not across processes: use SQLite or PostgreSQL for that).  Like a database, it keeps
each record as a row: a plain tuple of plain values, which the garbage collector stops
tracking, so it does not walk millions of records at every full collection.  The objects the
methods return (lead states, offers, traces, …) are built from the rows when read.
"""

from __future__ import annotations

import json
import marshal
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from rulekit.lifecycle import Conflict, change, owner_in, seeded, snapshot, transferred
from rulekit.model import Contact, ContactStatus, Lead
from rulekit.pipeline.effects import (
    AdvanceRotation,
    AssignLead,
    CancelTimer,
    CloseOffer,
    Effect,
    EnqueueLead,
    MakeOffer,
    RecordAudit,
    ReportConflict,
    ScheduleTimer,
    SendNotification,
    SetOwner,
)
from rulekit.pipeline.facts import StaticFacts, blank_contact, identity_key
from rulekit.pipeline.sla import CONTACT_MISSED, CONTACT_PAUSE
from rulekit.pipeline.state import LeadState, Pending
from rulekit.storage.base import (
    CONTACT_CHANGED,
    CONTACTS_TRANSFERRED,
    DEAD,
    INBOX,
    LEAD_STATUS_SET,
    PENDING,
    RETRY_HOLDER,
    SENT,
    TOKEN_CREATED,
    TOKEN_REVOKED,
    Assignment,
    AuditEntry,
    Delivery,
    DueTimer,
    LiveCounts,
    NewDelivery,
    OutboxMessage,
    QueueItem,
    StaleState,
    StoredOffer,
    StoredRuleset,
    StoredToken,
    StoredWorld,
    contact_change_detail,
    delivery_message_id,
    inbox_timer_id,
    lead_status_detail,
    token_created_detail,
    token_revoked_detail,
    transfer_detail,
)
from rulekit.storage.sql_schema import SCHEMA_VERSION
from rulekit.trace import Trace, encode_json

# -- rows --------------------------------------------------------------------------------------
# A row is an exact tuple of str, int, float, bool, None, datetime and tuples of those, its
# items in the order of the fields of the class it stands for.  The collector stops tracking
# such a tuple once it has stopped tracking the tuples inside it (a level per collection); it
# never stops tracking lists, dicts, dataclass instances or tuple subclasses, nor a tuple
# holding one of those (a list a caller put in a notification's variables, say: such a row
# stays tracked, and costs what it did before).
Row = tuple[Any, ...]

# Where the store looks inside rows.
_OFFER_LEAD, _OFFER_STATUS = 1, 4  # StoredOffer
_TIMER_ID, _TIMER_DUE = 0, 2  # DueTimer
_MESSAGE_ID, _MESSAGE_SENT_AT = 0, 8  # OutboxMessage
_STATE_FIELDS = tuple(f.name for f in fields(LeadState))
_STATE_SERIAL = _STATE_FIELDS.index("serial")
_STATE_PENDING = _STATE_FIELDS.index("pending")
_state_values = attrgetter(*_STATE_FIELDS)
_pending_values = attrgetter(*(f.name for f in fields(Pending)))


def _state_row(state: LeadState) -> Row:
    """A lead state as a row; its pending offer or hold is a nested row."""
    row: Row = _state_values(state)
    if state.pending is None:
        return row
    return (*row[:_STATE_PENDING], _pending_values(state.pending), *row[_STATE_PENDING + 1:])


def _state_of_row(row: Row) -> LeadState:
    pending = row[_STATE_PENDING]
    if pending is None:
        return LeadState(*row)
    return LeadState(*(*row[:_STATE_PENDING], Pending(*pending), *row[_STATE_PENDING + 1:]))


def _trace_row(trace: Trace) -> Row:
    """A trace as a flat row whose lines are one ``marshal`` blob.

    Lines nest tuples four or five deep; the collector stops tracking a nested tuple only a
    level per collection, so kept as tuples they would reach the oldest generation and make
    every full collection walk them.  A blob is one untracked object, written in C (about
    3 µs for a ten-line trace).  Lines that ``marshal`` cannot write (a value outside the
    plain types of ``rulekit.trace.Pairs``, from a third-party step) are kept as tuples."""
    lines = tuple(trace.lines)
    try:
        blob: bytes | tuple[Any, ...] = marshal.dumps(lines)
    except ValueError:
        blob = lines
    return (trace.lead_id, trace.event, trace.at, trace.ruleset_version, trace.seed, blob)


def _trace_of_row(row: Row) -> Trace:
    blob = row[5]
    lines = marshal.loads(blob) if isinstance(blob, bytes) else blob
    return Trace(lead_id=row[0], event=row[1], at=row[2], ruleset_version=row[3],
                 seed=row[4], lines=list(lines))


def _message_of_row(row: Row) -> OutboxMessage:
    """An outbox message; its row keeps the variables as a tuple of (name, value) pairs."""
    return OutboxMessage(row[0], row[1], row[2], row[3], row[4], row[5], dict(row[6]),
                         row[7], row[8], row[9], row[10])


def contact_key_of(contact: Contact) -> str | None:
    """The identity key of a stored contact (the same as its leads')."""
    return identity_key(contact.email, contact.phone)


#: The scope key of a contact's global owner (``Contact.owner``).
_GLOBAL = "global"


def _owner_pairs(contact: Contact) -> list[tuple[str, str]]:
    """A contact's (scope key, agent) ownerships, as the SQL stores keep them: the global
    owner is ``Contact.owner``, or else ``owners["global"]``."""
    pairs = [(scope, agent) for scope, agent in contact.owners.items() if scope != _GLOBAL]
    owner = contact.owner or contact.owners.get(_GLOBAL)
    if owner:
        pairs.insert(0, (_GLOBAL, owner))
    return pairs


class MemoryStore:
    """Implements :class:`rulekit.storage.base.Store` in memory."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._leads: dict[str, Lead] = {}
        self._versions: dict[str, str] = {}
        self._states: dict[str, Row] = {}  # LeadState rows
        self._traces: dict[str, tuple[Row, ...]] = {}  # Trace rows of each lead, in order
        self._offers: dict[str, Row] = {}  # StoredOffer rows
        self._timers: dict[str, Row] = {}  # DueTimer rows
        self._leases: dict[str, tuple[str, float]] = {}
        self._attempts: dict[str, tuple[int, str]] = {}  # failed attempts, last error
        self._assignments: list[Row] = []  # Assignment rows
        self._queue: list[Row] = []  # QueueItem rows
        self._outbox: list[Row] = []  # OutboxMessage rows
        self._conflicts: list[Row] = []  # ReportConflict rows, then the lead id
        self._facts = StaticFacts()
        self._rulesets: dict[str, StoredRuleset] = {}
        self._worlds: dict[str, StoredWorld] = {}
        self._active: dict[str, str] = {}
        self._audit: list[AuditEntry] = []
        self._tokens: dict[str, tuple[StoredToken, str]] = {}  # token, hash of its secret
        self._deliveries: dict[int, Delivery] = {}
        self._delivery_leases: dict[int, tuple[str, datetime]] = {}

    # -- seeding ---------------------------------------------------------------------------
    def add_contacts(self, contacts: Sequence[Contact]) -> None:
        """Known contacts (from the world file) with their owners."""
        with self._lock:
            for contact in contacts:
                key = contact_key_of(contact)
                if key and key not in self._facts.contacts:
                    self._facts.contacts[key] = seeded(contact)

    # -- leads -----------------------------------------------------------------------------
    def add_lead(self, lead: Lead, ruleset_version: str) -> bool:
        with self._lock:
            if lead.id in self._leads:
                return False
            self._leads[lead.id] = lead
            self._versions[lead.id] = ruleset_version
            return True

    def get_lead(self, lead_id: str) -> Lead | None:
        return self._leads.get(lead_id)

    def ruleset_version(self, lead_id: str) -> str | None:
        """The rule set version the lead was stored with."""
        return self._versions.get(lead_id)

    def get_state(self, lead_id: str) -> LeadState | None:
        row = self._states.get(lead_id)
        return None if row is None else _state_of_row(row)

    def lead_ids(self) -> Iterator[str]:
        return iter(list(self._leads))

    def facts(self) -> StaticFacts:
        return self._facts

    def offer_lead(self, offer_id: str) -> str | None:
        offer = self._offers.get(offer_id)
        if offer is None:
            return None
        lead: str = offer[_OFFER_LEAD]
        return lead

    # -- one decision, atomically ----------------------------------------------------------
    def commit(self, lead_id: str, expected_serial: int | None, state: LeadState,
               effects: Sequence[Effect], trace: Trace, now: datetime,
               lead: Lead | None = None) -> None:
        with self._lock:
            current = self._states.get(lead_id)
            current_serial = None if current is None else current[_STATE_SERIAL]
            if current_serial != expected_serial:
                raise StaleState(f"lead {lead_id} changed since it was read")
            self._check(effects)
            if lead is not None and lead.id not in self._leads:
                self._leads[lead.id] = lead
                self._versions[lead.id] = state.ruleset_version
            for effect in effects:
                self._apply(lead_id, effect, now)
            self._states[lead_id] = _state_row(state)
            self._traces[lead_id] = (*self._traces.get(lead_id, ()), _trace_row(trace))

    def _check(self, effects: Sequence[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, CloseOffer):
                offer = self._offers.get(effect.offer_id)
                if offer is None or offer[_OFFER_STATUS] != "open":
                    raise StaleState(f"offer {effect.offer_id} is not open")
            elif isinstance(effect, AdvanceRotation):
                last, _ = self._facts.rotation(effect.pool_key)
                if last != effect.previous:
                    raise StaleState(f"rotation of {effect.pool_key} moved")

    def _apply(self, lead_id: str, effect: Effect, now: datetime) -> None:
        facts = self._facts
        if isinstance(effect, AssignLead):
            self._assignments.append((lead_id, effect.agent, effect.how, now, effect.rule))
            facts.loads[effect.agent] = facts.loads.get(effect.agent, 0) + 1
        elif isinstance(effect, SetOwner):
            contact = facts.contacts.get(effect.contact_key)
            if contact is None:
                contact = blank_contact(effect.contact_key)
            if effect.scope_key == "global":
                if contact.owner is None and "global" not in contact.owners:  # first one stays
                    contact = contact.model_copy(update={"owner": effect.agent})
            elif effect.scope_key not in contact.owners:
                owners = {**contact.owners, effect.scope_key: effect.agent}
                contact = contact.model_copy(update={"owners": owners})
            if contact.status is None and owner_in(contact, effect.scope_key) == effect.agent:
                contact = contact.model_copy(update={"status": ContactStatus(effect.status)})
            facts.contacts[effect.contact_key] = contact
        elif isinstance(effect, MakeOffer):
            self._offers[effect.offer_id] = (
                effect.offer_id, lead_id, effect.agents, effect.mode, "open", now,
                effect.deadline, None, None, effect.rule)
            for agent in effect.agents:
                facts.offered_at[agent] = now
        elif isinstance(effect, CloseOffer):
            offer_id, offer_lead, agents, mode, _, created_at, deadline, _, _, rule = (
                self._offers[effect.offer_id])
            self._offers[effect.offer_id] = (offer_id, offer_lead, agents, mode, effect.status,
                                             created_at, deadline, effect.winner, now, rule)
        elif isinstance(effect, ScheduleTimer):
            self._timers[effect.timer_id] = (effect.timer_id, lead_id, effect.due,
                                             effect.purpose)
        elif isinstance(effect, CancelTimer):
            self._drop_timer(effect.timer_id)
        elif isinstance(effect, EnqueueLead):
            self._queue.append((lead_id, effect.queue, effect.reason, now))
        elif isinstance(effect, SendNotification):
            self._outbox.append((
                len(self._outbox) + 1, lead_id, effect.template, effect.to, effect.cc,
                effect.subject, tuple(dict(effect.variables).items()), now, None,
                effect.offer_id, effect.deadline))
        elif isinstance(effect, AdvanceRotation):
            facts.rotations[effect.pool_key] = (effect.agent, effect.index)
        elif isinstance(effect, ReportConflict):
            self._conflicts.append((effect.contact_key, effect.owner, effect.entered_by,
                                    effect.scope_key, lead_id))
        elif isinstance(effect, RecordAudit):
            self._audit.append(AuditEntry(len(self._audit) + 1, now, effect.actor,
                                          effect.action, dict(effect.detail)))
            self._count_misses(effect.action, dict(effect.detail))

    def fired(self, timer_id: str) -> None:
        """A timer's event was committed: it is done."""
        with self._lock:
            self._drop_timer(timer_id)

    def _drop_timer(self, timer_id: str) -> None:
        """Forget a timer with its lease and failed attempts (the caller holds the lock)."""
        self._timers.pop(timer_id, None)
        self._leases.pop(timer_id, None)
        self._attempts.pop(timer_id, None)

    # -- timers ----------------------------------------------------------------------------
    def claim_due_timers(self, now: datetime, worker: str, lease: float,
                         limit: int = 100, *, clock_now: datetime | None = None
                         ) -> list[DueTimer]:
        stamp = (now if clock_now is None else clock_now).timestamp()
        with self._lock:
            due = sorted((t for t in self._timers.values() if t[_TIMER_DUE] <= now),
                         key=lambda t: (t[_TIMER_DUE], t[_TIMER_ID]))
            claimed: list[DueTimer] = []
            for timer in due:
                timer_id = timer[_TIMER_ID]
                holder = self._leases.get(timer_id)
                if holder and holder[0] != worker and holder[1] > stamp:
                    continue
                self._leases[timer_id] = (worker, stamp + lease)
                claimed.append(DueTimer(timer_id, timer[1], timer[_TIMER_DUE], timer[3],
                                        self._attempts.get(timer_id, (0, ""))[0]))
                if len(claimed) >= limit:
                    break
            return claimed

    def timer_failed(self, timer_id: str, error: str, retry_at: datetime) -> int:
        with self._lock:
            if timer_id not in self._timers:
                return 0
            attempts = self._attempts.get(timer_id, (0, ""))[0] + 1
            self._attempts[timer_id] = (attempts, error)
            self._leases[timer_id] = (RETRY_HOLDER, retry_at.timestamp())
            return attempts

    def add_inbox(self, lead: Lead, ruleset_version: str, now: datetime) -> bool:
        with self._lock:
            if lead.id in self._states:
                return False
            if lead.id not in self._leads:
                self._leads[lead.id] = lead
                self._versions[lead.id] = ruleset_version
            timer_id = inbox_timer_id(lead.id)
            self._timers.setdefault(timer_id, (timer_id, lead.id, now, INBOX))
            return True

    def next_timer_due(self) -> datetime | None:
        with self._lock:
            return min((t[_TIMER_DUE] for t in self._timers.values()), default=None)

    # -- reading ---------------------------------------------------------------------------
    def traces(self, lead_id: str) -> list[Trace]:
        return [_trace_of_row(row) for row in self._traces.get(lead_id, ())]

    def offers(self, lead_id: str | None = None) -> list[StoredOffer]:
        return [StoredOffer(*o) for o in list(self._offers.values())
                if lead_id is None or o[_OFFER_LEAD] == lead_id]

    def assignments(self, lead_id: str | None = None) -> list[Assignment]:
        return [Assignment(*a) for a in self._assignments
                if lead_id is None or a[0] == lead_id]

    def queue_items(self, queue: str | None = None) -> list[QueueItem]:
        return [QueueItem(*q) for q in self._queue if queue is None or q[1] == queue]

    def outbox(self, *, unsent_only: bool = False) -> list[OutboxMessage]:
        return [_message_of_row(m) for m in self._outbox
                if not unsent_only or m[_MESSAGE_SENT_AT] is None]

    # -- deliveries ------------------------------------------------------------------------
    def plan_deliveries(self, outbox_id: int, planned: Sequence[NewDelivery],
                        now: datetime) -> bool:
        with self._lock:
            index = outbox_id - 1
            if not 0 <= index < len(self._outbox) or self._outbox[index][_MESSAGE_SENT_AT]:
                return False
            row = self._outbox[index]
            self._outbox[index] = (*row[:_MESSAGE_SENT_AT], now, *row[_MESSAGE_SENT_AT + 1:])
            for n, new in enumerate(planned, 1):
                delivery_id = len(self._deliveries) + 1
                self._deliveries[delivery_id] = Delivery(
                    delivery_id, outbox_id, row[1], new.recipient, new.role, new.channel,
                    new.address, delivery_message_id(outbox_id, n), PENDING, 0, now, None, None)
            return True

    def claim_deliveries(self, now: datetime, worker: str, lease: float,
                         limit: int = 50) -> list[Delivery]:
        with self._lock:
            due = sorted((d for d in self._deliveries.values()
                          if d.status == PENDING and d.due <= now),
                         key=lambda d: (d.due, d.delivery_id))
            claimed = []
            for delivery in due:
                holder = self._delivery_leases.get(delivery.delivery_id)
                if holder and holder[1] > now:
                    continue
                self._delivery_leases[delivery.delivery_id] = (
                    worker, now + timedelta(seconds=lease))
                claimed.append(delivery)
                if len(claimed) >= limit:
                    break
            return claimed

    def delivery_sent(self, delivery_id: int, at: datetime) -> None:
        with self._lock:
            found = self._deliveries.get(delivery_id)
            if found is not None:
                self._deliveries[delivery_id] = replace(found, status=SENT, sent_at=at)
                self._delivery_leases.pop(delivery_id, None)

    def delivery_failed(self, delivery_id: int, error: str,
                        retry_at: datetime | None) -> int:
        with self._lock:
            found = self._deliveries.get(delivery_id)
            if found is None or found.status != PENDING:
                return 0
            self._deliveries[delivery_id] = replace(
                found, attempts=found.attempts + 1, last_error=error[:2000],
                status=PENDING if retry_at is not None else DEAD,
                due=retry_at if retry_at is not None else found.due)
            self._delivery_leases.pop(delivery_id, None)
            return found.attempts + 1

    def deliveries(self, status: str | None = None,
                   outbox_id: int | None = None) -> list[Delivery]:
        with self._lock:
            return [d for _, d in sorted(self._deliveries.items())
                    if (status is None or d.status == status)
                    and (outbox_id is None or d.outbox_id == outbox_id)]

    def outbox_message(self, message_id: int) -> OutboxMessage | None:
        with self._lock:
            if 0 < message_id <= len(self._outbox):
                return _message_of_row(self._outbox[message_id - 1])
            return None

    def delivery_counts(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for delivery in self._deliveries.values():
                counts[delivery.status] = counts.get(delivery.status, 0) + 1
            return counts

    def requeue_delivery(self, delivery_id: int, now: datetime) -> bool:
        with self._lock:
            found = self._deliveries.get(delivery_id)
            if found is None or found.status == SENT:
                return False
            self._deliveries[delivery_id] = replace(found, status=PENDING, due=now, attempts=0)
            self._delivery_leases.pop(delivery_id, None)
            return True

    def mark_sent(self, message_ids: Sequence[int], at: datetime) -> None:
        wanted = set(message_ids)
        with self._lock:
            self._outbox = [(*m[:_MESSAGE_SENT_AT], at, *m[_MESSAGE_SENT_AT + 1:])
                            if m[_MESSAGE_ID] in wanted else m
                            for m in self._outbox]

    def conflicts(self) -> list[ReportConflict]:
        return [ReportConflict(*c[:4]) for c in self._conflicts]

    def contact_conflicts(self, contact_key: str) -> list[Conflict]:
        with self._lock:
            return [Conflict(c[1], c[2], c[3], c[4]) for c in self._conflicts
                    if c[0] == contact_key]

    def contact(self, key: str) -> Contact | None:
        return self._facts.contact(key)

    # -- the catalog -----------------------------------------------------------------------
    def put_ruleset(self, version: str, files: Mapping[str, str], root: str, by: str,
                    now: datetime) -> bool:
        with self._lock:
            if version in self._rulesets:
                return False
            self._rulesets[version] = StoredRuleset(version, root, dict(sorted(files.items())))
            return True

    def ruleset_files(self, version: str) -> StoredRuleset | None:
        return self._rulesets.get(version)

    def put_world(self, version: str, path: str, text: str, by: str, now: datetime) -> bool:
        with self._lock:
            if version in self._worlds:
                return False
            self._worlds[version] = StoredWorld(version, path, text)
            return True

    def world_text(self, version: str) -> StoredWorld | None:
        return self._worlds.get(version)

    def activate(self, versions: Mapping[str, str], by: str, action: str,
                 detail: Mapping[str, Any], now: datetime) -> None:
        with self._lock:
            self._active.update(versions)
            self._audit.append(AuditEntry(len(self._audit) + 1, now, by, action, dict(detail)))

    def active_versions(self) -> dict[str, str]:
        return dict(self._active)

    def audit(self) -> list[AuditEntry]:
        return list(self._audit)

    def schema_version(self) -> int:
        """The schema version whose data this store holds (always the current one)."""
        return SCHEMA_VERSION

    # -- access: tokens, audit entries, ownership transfers, live counts ----------------------
    def _append_audit(self, at: datetime, actor: str, action: str,
                      detail: Mapping[str, Any]) -> None:
        """An audit entry whose detail reads back as from a SQL store: as JSON values (the
        caller holds the lock)."""
        self._audit.append(AuditEntry(len(self._audit) + 1, at, actor, action,
                                      json.loads(encode_json(dict(detail)))))
        self._count_misses(action, detail)

    def _count_misses(self, action: str, detail: Mapping[str, Any]) -> None:
        """An audit entry of a missed first contact counts one more miss of its agent, one of
        a pause for missing them starts the count again (what a SQL store counts in its audit
        table, :meth:`~rulekit.pipeline.facts.Facts.contact_misses`)."""
        if action in (CONTACT_MISSED, CONTACT_PAUSE):
            agent = str(detail["agent"])
            misses = self._facts.misses
            misses[agent] = misses.get(agent, 0) + 1 if action == CONTACT_MISSED else 0

    def put_token(self, token: StoredToken, secret_hash: str) -> None:
        with self._lock:
            if token.token_id in self._tokens:
                raise ValueError(f"token {token.token_id} is stored already")
            token = replace(token, sources=tuple(token.sources))
            self._tokens[token.token_id] = (token, secret_hash)
            self._append_audit(token.created_at, token.created_by, TOKEN_CREATED,
                               token_created_detail(token))

    def token(self, token_id: str) -> tuple[StoredToken, str] | None:
        return self._tokens.get(token_id)

    def tokens(self) -> list[StoredToken]:
        with self._lock:
            stored = [token for token, _ in self._tokens.values()]
        return sorted(stored, key=lambda t: (t.created_at, t.token_id))

    def revoke_token(self, token_id: str, by: str, at: datetime) -> bool:
        with self._lock:
            found = self._tokens.get(token_id)
            if found is None or found[0].revoked_at is not None:
                return False
            token, secret_hash = found
            self._tokens[token_id] = (replace(token, revoked_at=at), secret_hash)
            self._append_audit(at, by, TOKEN_REVOKED, token_revoked_detail(
                token_id, token.role, token.agent, token.label))
            return True

    def record_audit(self, actor: str, action: str, detail: Mapping[str, Any],
                     at: datetime) -> None:
        with self._lock:
            self._append_audit(at, actor, action, detail)

    def transfer_contacts(self, from_agent: str, to_agent: str, *, by: str, reason: str,
                          at: datetime, contact_key: str | None = None,
                          scope: str | None = None) -> list[tuple[str, str]]:
        with self._lock:
            contacts = self._facts.contacts
            keys = (list(contacts) if contact_key is None
                    else [contact_key] if contact_key in contacts else [])
            moved: list[tuple[str, str]] = []
            for key in keys:
                contact = contacts[key]
                scopes = [s for s, agent in _owner_pairs(contact)
                          if agent == from_agent and (scope is None or s == scope)]
                if not scopes:
                    continue
                owner, owners = contact.owner, dict(contact.owners)
                for scope_key in scopes:
                    if scope_key == _GLOBAL:
                        owner = to_agent
                        owners.pop(_GLOBAL, None)
                    else:
                        owners[scope_key] = to_agent
                contact = contact.model_copy(update={"owner": owner, "owners": owners})
                contacts[key] = transferred(contact, to_agent) if _GLOBAL in scopes else contact
                moved += [(key, scope_key) for scope_key in scopes]
            moved.sort()
            self._append_audit(at, by, CONTACTS_TRANSFERRED, transfer_detail(
                from_agent, to_agent, reason, contact_key, scope, moved))
            return moved

    def set_lead_status(self, contact_key: str, status: str, *, by: str, reason: str,
                        at: datetime, lead_id: str | None = None) -> str:
        with self._lock:
            contacts = self._facts.contacts
            contact = contacts.get(contact_key) or blank_contact(contact_key)
            before = contact.lead_status
            contacts[contact_key] = contact.model_copy(update={"lead_status": status})
            self._append_audit(at, by, LEAD_STATUS_SET, lead_status_detail(
                lead_id, contact_key, before, status, reason))
            return before

    def change_contact(self, contact_key: str, action: str, *, by: str, reason: str,
                       at: datetime, agent: str | None = None, status: str | None = None,
                       lead_id: str | None = None) -> tuple[Contact | None, Contact]:
        with self._lock:
            contacts = self._facts.contacts
            before = contacts.get(contact_key)
            after = change(before, contact_key, action, agent=agent, status=status,
                           conflicts=self.contact_conflicts(contact_key))
            contacts[contact_key] = after
            self._append_audit(at, by, CONTACT_CHANGED, contact_change_detail(
                lead_id, contact_key, action, agent, snapshot(before), snapshot(after),
                reason))
            return before, after

    def live_counts(self, now: datetime, late_after: float) -> LiveCounts:
        late = now - timedelta(seconds=late_after)
        with self._lock:
            offers_open = sum(1 for o in self._offers.values() if o[_OFFER_STATUS] == "open")
            due = [t[_TIMER_DUE] for t in self._timers.values() if t[_TIMER_DUE] <= now]
            return LiveCounts(offers_open=offers_open, timers_due=len(due),
                              timers_late=sum(1 for d in due if d < late),
                              leads=len(self._leads))

    def snapshot(self) -> dict[str, Any]:
        """Counts, for tests and reports."""
        return {"leads": len(self._leads), "offers": len(self._offers),
                "timers": len(self._timers), "outbox": len(self._outbox)}
