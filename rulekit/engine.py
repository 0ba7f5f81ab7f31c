"""The Engine: the imperative shell around :func:`~rulekit.pipeline.decide`.

It reads the lead's state and facts from the store, asks ``decide`` what an event does, and
commits the new state, effects and trace in one storage transaction.  When another worker
committed first (:class:`~rulekit.storage.StaleState`), it decides again on fresh state.

Rule sets by version: a lead is routed to the end by the rule set it started with, so loading
new rule files never changes a decision half-way through (``add_ruleset`` keeps older versions
for leads in flight).  A lead whose version this engine has not seen (another worker loaded
newer rules, or this one restarted) is routed by the version ``ruleset_loader`` returns — a
worker compiles it from the texts kept in the store (:mod:`rulekit.storage.catalog`).  Only
when no loader is given, or it knows no such version, does the current rule set stand in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from rulekit.model import Lead
from rulekit.pipeline import (
    AdminReassign,
    Decision,
    Event,
    LeadReceived,
    LeadState,
    OfferAccepted,
    OfferDeclined,
    QualifierVerdict,
    TimerFired,
    decide,
)
from rulekit.pipeline.events import Verdict
from rulekit.ruleset import RuleSet
from rulekit.storage.base import OutboxMessage, StaleState, Store
from rulekit.trace import render_history
from rulekit.world import World

#: How many times an event is decided again after losing a race, before giving up.
MAX_RETRIES = 20
#: Bound on claim rounds in one tick (each round fires up to ``limit`` timers).
MAX_TIMER_ROUNDS = 10_000


_jitter = random.Random()


def _backoff(attempt: int) -> None:
    """After repeated conflicts, wait a little (with jitter) so racing workers spread out."""
    if attempt >= 1:
        time.sleep(_jitter.uniform(0, min(0.05, 0.0005 * 2 ** attempt)))


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant (aware)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock that moves only when told to (scenarios, tests)."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        if instant < self.current:
            raise ValueError("a manual clock does not go back")
        self.current = instant


class Notifier(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Deliver one notification; raise to leave it in the outbox for a later try."""


class LogNotifier:
    """The default notifier: delivery is the outbox record itself (kept, marked sent)."""

    def __init__(self, sink: Callable[[str], None] | None = None) -> None:
        self.sink = sink

    def send(self, message: OutboxMessage) -> None:
        if self.sink is not None:
            subject = f" “{message.subject}”" if message.subject else ""
            self.sink(f"notify {message.template}{subject} to {', '.join(message.to)}"
                      + (f" cc {', '.join(message.cc)}" if message.cc else ""))


class UnknownLead(KeyError):
    """No lead (or offer) with that id in the store."""


class Engine:
    """Routes leads with a rule set and a world, keeping state in a store."""

    def __init__(self, ruleset: RuleSet, world: World, store: Store, *,
                 clock: Clock | None = None, notifier: Notifier | None = None,
                 ruleset_loader: Callable[[str], RuleSet | None] | None = None) -> None:
        self.world = world
        self.ruleset_loader = ruleset_loader
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.notifier: Notifier = notifier or LogNotifier()
        self.rulesets: dict[str, RuleSet] = {}
        self.ruleset = ruleset
        self.add_ruleset(ruleset)
        seed = getattr(store, "add_contacts", None)
        if seed is not None:
            seed(list(world.contacts.values()))

    def add_ruleset(self, ruleset: RuleSet) -> None:
        """Route new leads with ``ruleset``; leads in flight keep the version they started on."""
        self.rulesets[ruleset.version] = ruleset
        self.ruleset = ruleset

    def ruleset_for(self, version: str) -> RuleSet:
        """The rule set of ``version``: known, else from ``ruleset_loader``, else the current."""
        known = self.rulesets.get(version)
        if known is None and self.ruleset_loader is not None:
            known = self.ruleset_loader(version)
            if known is not None:
                self.rulesets[version] = known
        return known or self.ruleset

    # -- the event loop for one lead -------------------------------------------------------
    def _handle(self, lead_id: str, event: Event, now: datetime | None = None) -> Decision:
        lead = self.store.get_lead(lead_id)
        if lead is None:
            raise UnknownLead(lead_id)
        for attempt in range(MAX_RETRIES):
            at = now or self.clock.now()
            state = self.store.get_state(lead_id)
            ruleset = self.ruleset_for(state.ruleset_version) if state else self.ruleset
            decision = decide(ruleset, self.world, self.store.facts(), state, lead, event, at)
            try:
                self.store.commit(lead_id, state.serial if state else None, decision.state,
                                  decision.effects, decision.trace, at)
            except StaleState:
                _backoff(attempt)
                continue
            return decision
        raise StaleState(f"lead {lead_id}: gave up after {MAX_RETRIES} conflicting updates")

    def submit(self, lead: Lead, now: datetime | None = None) -> LeadState:
        """Route a new lead.  Idempotent: a lead id seen before returns its existing state."""
        decision = self.receive(lead, now)
        if decision is not None:
            return decision.state
        state = self.store.get_state(lead.id)
        assert state is not None
        return state

    def receive(self, lead: Lead, now: datetime | None = None) -> Decision | None:
        """Like :meth:`submit`, returning the decision — or ``None`` when the lead id was
        already received (a replayed webhook), whose first decision stands.

        The lead is stored in the same transaction as its first decision: one write per
        lead, and no lead without a decision.  New leads are the common case, so the store is
        not asked first: a replayed lead's decision is refused by the store (its state row
        exists), and only then is the lead looked up."""
        event = LeadReceived(lead)
        for attempt in range(MAX_RETRIES):
            at = now or self.clock.now()
            decision = decide(self.ruleset, self.world, self.store.facts(), None, lead, event,
                              at)
            try:
                self.store.commit(lead.id, None, decision.state, decision.effects,
                                  decision.trace, at, lead=lead)
            except StaleState:  # a replay, another submitter's decision, or a moved cursor
                if self.store.get_state(lead.id) is not None:
                    return None
                _backoff(attempt)
                continue
            return decision
        raise StaleState(f"lead {lead.id}: gave up after {MAX_RETRIES} conflicting updates")

    def _offer_lead(self, offer_id: str) -> str:
        lead_id = self.store.offer_lead(offer_id)
        if lead_id is None:
            raise UnknownLead(offer_id)
        return lead_id

    def accept(self, offer_id: str, agent: str, now: datetime | None = None) -> Decision:
        """``agent`` accepts an offer; the decision says whether they got the lead."""
        return self._handle(self._offer_lead(offer_id),
                            OfferAccepted(offer_id, agent), now)

    def decline(self, offer_id: str, agent: str, now: datetime | None = None) -> Decision:
        return self._handle(self._offer_lead(offer_id),
                            OfferDeclined(offer_id, agent), now)

    def verdict(self, lead_id: str, verdict: Verdict, qualifier: str,
                now: datetime | None = None) -> Decision:
        return self._handle(lead_id, QualifierVerdict(verdict, qualifier), now)

    def reassign(self, lead_id: str, agent: str, by: str, reason: str | None = None,
                 now: datetime | None = None) -> Decision:
        event = AdminReassign(agent, by, reason or "reassigned by an administrator")
        return self._handle(lead_id, event, now)

    def tick(self, now: datetime | None = None, *, worker: str = "engine",
             lease: float = 60.0, limit: int = 1000) -> list[Decision]:
        """Fire every timer due at ``now`` (offer deadlines, holds); return the decisions."""
        at = now or self.clock.now()
        decisions: list[Decision] = []
        # Firing a timer can create timers that are already due (the next offer of a
        # sequence, when the tick is late): keep claiming until none is due.
        for _ in range(MAX_TIMER_ROUNDS):
            timers = self.store.claim_due_timers(at, worker, lease, limit)
            if not timers:
                break
            for timer in sorted(timers, key=lambda t: (t.due, t.timer_id)):
                # a timer fires at its due instant, so a late tick replays the chain exactly
                decisions.append(self._handle(timer.lead_id, TimerFired(timer.timer_id),
                                              timer.due))
                done = getattr(self.store, "fired", None)
                if done is not None:
                    done(timer.timer_id)
        return decisions

    def deliver(self, now: datetime | None = None) -> int:
        """Hand unsent notifications to the notifier; return how many were delivered."""
        sent: list[int] = []
        for message in self.store.outbox(unsent_only=True):
            self.notifier.send(message)
            sent.append(message.message_id)
        if sent:
            self.store.mark_sent(sent, now or self.clock.now())
        return len(sent)

    def state(self, lead_id: str) -> LeadState | None:
        return self.store.get_state(lead_id)

    def explain(self, lead_id: str) -> str:
        """Why the lead went where it went, in plain English."""
        if self.store.get_lead(lead_id) is None:
            raise UnknownLead(lead_id)
        return render_history(self.store.traces(lead_id))
