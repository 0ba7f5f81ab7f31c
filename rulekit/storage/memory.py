"""The in-memory store: the reference adapter, and the one embedders use in their own tests.

All of its state is in dictionaries behind one lock, so it is safe across threads of one
process (not across processes: use SQLite or PostgreSQL for that).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from rulekit.model import Contact, Lead
from rulekit.pipeline.effects import (
    AdvanceRotation,
    AssignLead,
    CancelTimer,
    CloseOffer,
    Effect,
    EnqueueLead,
    MakeOffer,
    ReportConflict,
    ScheduleTimer,
    SendNotification,
    SetOwner,
)
from rulekit.pipeline.facts import StaticFacts, identity_key
from rulekit.pipeline.state import LeadState
from rulekit.storage.base import (
    Assignment,
    AuditEntry,
    DueTimer,
    OutboxMessage,
    QueueItem,
    StaleState,
    StoredOffer,
    StoredRuleset,
    StoredWorld,
)
from rulekit.trace import Trace


def contact_key_of(contact: Contact) -> str | None:
    """The identity key of a stored contact (the same as its leads')."""
    return identity_key(contact.email, contact.phone)


class MemoryStore:
    """Implements :class:`rulekit.storage.base.Store` in memory."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._leads: dict[str, Lead] = {}
        self._versions: dict[str, str] = {}
        self._states: dict[str, LeadState] = {}
        self._traces: dict[str, list[Trace]] = {}
        self._offers: dict[str, StoredOffer] = {}
        self._timers: dict[str, DueTimer] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._assignments: list[Assignment] = []
        self._queue: list[QueueItem] = []
        self._outbox: list[OutboxMessage] = []
        self._conflicts: list[ReportConflict] = []
        self._facts = StaticFacts()
        self._rulesets: dict[str, StoredRuleset] = {}
        self._worlds: dict[str, StoredWorld] = {}
        self._active: dict[str, str] = {}
        self._audit: list[AuditEntry] = []

    # -- seeding ---------------------------------------------------------------------------
    def add_contacts(self, contacts: Sequence[Contact]) -> None:
        """Known contacts (from the world file) with their owners."""
        with self._lock:
            for contact in contacts:
                key = contact_key_of(contact)
                if key and key not in self._facts.contacts:
                    self._facts.contacts[key] = contact

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

    def get_state(self, lead_id: str) -> LeadState | None:
        return self._states.get(lead_id)

    def lead_ids(self) -> Iterator[str]:
        return iter(list(self._leads))

    def facts(self) -> StaticFacts:
        return self._facts

    def offer_lead(self, offer_id: str) -> str | None:
        offer = self._offers.get(offer_id)
        return offer.lead_id if offer else None

    # -- one decision, atomically ----------------------------------------------------------
    def commit(self, lead_id: str, expected_serial: int | None, state: LeadState,
               effects: Sequence[Effect], trace: Trace, now: datetime,
               lead: Lead | None = None) -> None:
        with self._lock:
            current = self._states.get(lead_id)
            current_serial = current.serial if current else None
            if current_serial != expected_serial:
                raise StaleState(f"lead {lead_id} changed since it was read")
            self._check(effects)
            if lead is not None and lead.id not in self._leads:
                self._leads[lead.id] = lead
                self._versions[lead.id] = state.ruleset_version
            for effect in effects:
                self._apply(lead_id, effect, now)
            self._states[lead_id] = state
            self._traces.setdefault(lead_id, []).append(trace)

    def _check(self, effects: Sequence[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, CloseOffer):
                offer = self._offers.get(effect.offer_id)
                if offer is None or offer.status != "open":
                    raise StaleState(f"offer {effect.offer_id} is not open")
            elif isinstance(effect, AdvanceRotation):
                last, _ = self._facts.rotation(effect.pool_key)
                if last != effect.previous:
                    raise StaleState(f"rotation of {effect.pool_key} moved")

    def _apply(self, lead_id: str, effect: Effect, now: datetime) -> None:
        facts = self._facts
        if isinstance(effect, AssignLead):
            self._assignments.append(Assignment(lead_id, effect.agent, effect.how, now,
                                                effect.rule))
            facts.loads[effect.agent] = facts.loads.get(effect.agent, 0) + 1
        elif isinstance(effect, SetOwner):
            contact = facts.contacts.get(effect.contact_key)
            if contact is None:
                kind, _, value = effect.contact_key.partition(":")
                contact = Contact(id=effect.contact_key,
                                  email=value if kind == "email" else None,
                                  phone=value if kind == "phone" else None)
            if effect.scope_key == "global":
                if contact.owner is None and "global" not in contact.owners:  # first one stays
                    contact = contact.model_copy(update={"owner": effect.agent})
            elif effect.scope_key not in contact.owners:
                owners = {**contact.owners, effect.scope_key: effect.agent}
                contact = contact.model_copy(update={"owners": owners})
            facts.contacts[effect.contact_key] = contact
        elif isinstance(effect, MakeOffer):
            self._offers[effect.offer_id] = StoredOffer(
                effect.offer_id, lead_id, effect.agents, effect.mode, "open", now,
                effect.deadline, None, None, effect.rule)
            for agent in effect.agents:
                facts.offered_at[agent] = now
        elif isinstance(effect, CloseOffer):
            offer = self._offers[effect.offer_id]
            self._offers[effect.offer_id] = StoredOffer(
                offer.offer_id, offer.lead_id, offer.agents, offer.mode, effect.status,
                offer.created_at, offer.deadline, effect.winner, now, offer.rule)
        elif isinstance(effect, ScheduleTimer):
            self._timers[effect.timer_id] = DueTimer(effect.timer_id, lead_id, effect.due,
                                                     effect.purpose)
        elif isinstance(effect, CancelTimer):
            self._timers.pop(effect.timer_id, None)
            self._leases.pop(effect.timer_id, None)
        elif isinstance(effect, EnqueueLead):
            self._queue.append(QueueItem(lead_id, effect.queue, effect.reason, now))
        elif isinstance(effect, SendNotification):
            self._outbox.append(OutboxMessage(
                len(self._outbox) + 1, lead_id, effect.template, effect.to, effect.cc,
                effect.subject, dict(effect.variables), now, None))
        elif isinstance(effect, AdvanceRotation):
            facts.rotations[effect.pool_key] = (effect.agent, effect.index)
        elif isinstance(effect, ReportConflict):
            self._conflicts.append(effect)

    def fired(self, timer_id: str) -> None:
        """A timer's event was committed: it is done."""
        with self._lock:
            self._timers.pop(timer_id, None)
            self._leases.pop(timer_id, None)

    # -- timers ----------------------------------------------------------------------------
    def claim_due_timers(self, now: datetime, worker: str, lease: float,
                         limit: int = 100) -> list[DueTimer]:
        stamp = now.timestamp()
        with self._lock:
            due = sorted((t for t in self._timers.values() if t.due <= now),
                         key=lambda t: (t.due, t.timer_id))
            claimed: list[DueTimer] = []
            for timer in due:
                holder = self._leases.get(timer.timer_id)
                if holder and holder[0] != worker and holder[1] > stamp:
                    continue
                self._leases[timer.timer_id] = (worker, stamp + lease)
                claimed.append(timer)
                if len(claimed) >= limit:
                    break
            return claimed

    def next_timer_due(self) -> datetime | None:
        with self._lock:
            return min((t.due for t in self._timers.values()), default=None)

    # -- reading ---------------------------------------------------------------------------
    def traces(self, lead_id: str) -> list[Trace]:
        return list(self._traces.get(lead_id, []))

    def offers(self, lead_id: str | None = None) -> list[StoredOffer]:
        return [o for o in self._offers.values() if lead_id is None or o.lead_id == lead_id]

    def assignments(self, lead_id: str | None = None) -> list[Assignment]:
        return [a for a in self._assignments if lead_id is None or a.lead_id == lead_id]

    def queue_items(self, queue: str | None = None) -> list[QueueItem]:
        return [q for q in self._queue if queue is None or q.queue == queue]

    def outbox(self, *, unsent_only: bool = False) -> list[OutboxMessage]:
        return [m for m in self._outbox if not unsent_only or m.sent_at is None]

    def mark_sent(self, message_ids: Sequence[int], at: datetime) -> None:
        wanted = set(message_ids)
        with self._lock:
            self._outbox = [
                OutboxMessage(m.message_id, m.lead_id, m.template, m.to, m.cc, m.subject,
                              m.variables, m.created_at, at) if m.message_id in wanted else m
                for m in self._outbox
            ]

    def conflicts(self) -> list[ReportConflict]:
        return list(self._conflicts)

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

    def snapshot(self) -> dict[str, Any]:
        """Counts, for tests and reports."""
        return {"leads": len(self._leads), "offers": len(self._offers),
                "timers": len(self._timers), "outbox": len(self._outbox)}
