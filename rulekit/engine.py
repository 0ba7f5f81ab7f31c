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

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol, TypeVar

from rulekit.agent_pauses import apply_pauses
from rulekit.changes import explanation
from rulekit.lifecycle import (
    CONFLICT_RESOLVED,
    TRANSFER,
    Conflict,
    ConflictLead,
    ContactChange,
    change_contact,
    resolution_reason,
    resolved,
)
from rulekit.model import Lead
from rulekit.pipeline import (
    ACTIVITY_KINDS,
    ERROR_QUEUE,
    ActivityLogged,
    AdminReassign,
    AdminRetry,
    Decision,
    Event,
    LeadReceived,
    LeadState,
    OfferAccepted,
    OfferDeclined,
    QualifierVerdict,
    TimerFired,
    decide,
    lead_seed,
    park,
)
from rulekit.pipeline.effects import AdvanceRotation, Effect, PauseAgent
from rulekit.pipeline.events import Verdict
from rulekit.pipeline.park import describe
from rulekit.pipeline.state import ASSIGNED, KEPT
from rulekit.ruleset import RuleSet
from rulekit.storage.base import (
    INBOX,
    DueTimer,
    OutboxMessage,
    StaleState,
    Store,
    inbox_timer_id,
)
from rulekit.world import World, brokerage_zone

#: How many times an event is decided again after losing a race, before giving up.
MAX_RETRIES = 20
#: Bound on claim rounds in one tick (each round fires up to ``limit`` timers).
MAX_TIMER_ROUNDS = 10_000
#: Failed attempts of a timer or an inbox entry before its lead is parked.
MAX_ATTEMPTS = 5
#: The wait after a first failed attempt (seconds); it doubles with each attempt, up to
#: :data:`RETRY_CAP`, with jitter.
RETRY_BASE = 2.0
RETRY_CAP = 300.0

#: What :meth:`Engine.intake` did with a lead.
DECIDED, DUPLICATE = "decided", "duplicate"  # and KEPT (a lead kept in the inbox)

log = logging.getLogger("rulekit.engine")

T = TypeVar("T")


_jitter = random.Random()


def _backoff(attempt: int) -> None:
    """After repeated conflicts, wait a little (with jitter) so racing workers spread out."""
    if attempt >= 1:
        time.sleep(_jitter.uniform(0, min(0.05, 0.0005 * 2 ** attempt)))


def retry_delay(attempts: int) -> float:
    """Seconds to wait after ``attempts`` failed attempts: exponential, capped, jittered."""
    growth: float = RETRY_BASE * 2.0 ** min(attempts - 1, 30)
    return min(RETRY_CAP, growth) * _jitter.uniform(0.5, 1.0)


def rotation_keys(effects: Sequence[Effect]) -> frozenset[str]:
    """The round-robin cursors a decision moves."""
    return frozenset(e.pool_key for e in effects if isinstance(e, AdvanceRotation))


@dataclass(frozen=True, slots=True)
class Receipt:
    """What :meth:`Engine.intake` did with a lead: ``decided`` (with the decision, committed
    at ``at``: the time of its offers, assignments and queue entries), ``duplicate`` (the lead
    id was received before; its first decision stands) or ``kept`` (stored in the inbox for a
    worker; ``error`` says why it could not be decided now)."""

    lead_id: str
    outcome: str
    decision: Decision | None
    error: str | None = None
    at: datetime | None = None


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


class NotDecidedYet(LookupError):
    """The lead is kept in the inbox: it has no decision yet for an event to act on."""


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
    def _decide_commit(self, lead: Lead, event: Event, at: datetime, *, first: bool,
                       store_lead: bool, ruleset: RuleSet | None) -> Decision:
        """Read, decide and commit once; :class:`StaleState` when another writer came first.

        A decision that moves a round-robin cursor is the one kind that truly conflicts
        between leads: on a store that can serialise it (``exclusive``), it is decided again
        and committed while holding the lock of its pools, so racing submitters take turns
        instead of retrying blindly."""
        store = self.store
        state = None if first else store.get_state(lead.id)
        chosen = ruleset or (self.ruleset_for(state.ruleset_version) if state else self.ruleset)
        decision = decide(chosen, self.world, store.facts(), state, lead, event, at)
        keys = rotation_keys(decision.effects)
        exclusive = getattr(store, "exclusive", None) if keys else None
        if exclusive is None:
            self._commit(lead, state, decision, at, store_lead)
            return decision
        with exclusive(keys):
            state = None if first else store.get_state(lead.id)
            decision = decide(chosen, self.world, store.facts(), state, lead, event, at)
            if not rotation_keys(decision.effects) <= set(keys):
                raise StaleState(f"lead {lead.id}: its decision moved to another pool")
            self._commit(lead, state, decision, at, store_lead)
        return decision

    def _commit(self, lead: Lead, state: LeadState | None, decision: Decision, at: datetime,
                store_lead: bool) -> None:
        self.store.commit(lead.id, state.serial if state else None, decision.state,
                          decision.effects, decision.trace, at,
                          lead=lead if store_lead else None)
        if any(isinstance(effect, PauseAgent) for effect in decision.effects):
            self.world = apply_pauses(self.store, self.world, decision.effects, at)

    @staticmethod
    def _retrying(lead_id: str, attempt: Callable[[], T]) -> T:
        """``attempt()`` until it does not lose a race (:class:`StaleState`), backing off
        between tries, at most :data:`MAX_RETRIES` times."""
        for tried in range(MAX_RETRIES):
            try:
                return attempt()
            except StaleState:
                _backoff(tried)
        raise StaleState(f"lead {lead_id}: gave up after {MAX_RETRIES} conflicting updates")

    def _handle(self, lead_id: str, event: Event, now: datetime | None = None, *,
                ruleset: RuleSet | None = None) -> Decision:
        lead = self.store.get_lead(lead_id)
        if lead is None:
            raise UnknownLead(lead_id)
        if self.store.get_state(lead_id) is None:
            raise NotDecidedYet(f"lead {lead_id} is kept for a worker and not decided yet")
        found = lead
        return self._retrying(lead_id, lambda: self._decide_commit(
            found, event, now or self.clock.now(), first=False, store_lead=False,
            ruleset=ruleset))

    def submit(self, lead: Lead, now: datetime | None = None) -> LeadState:
        """Route a new lead.  Idempotent: a lead id seen before returns its existing state.

        When the lead returns, it is stored: decided, or — when its decision could not be
        committed now — kept for a worker, returned as a state of status ``"kept"``."""
        receipt = self.intake(lead, now)
        if receipt.decision is not None:
            return receipt.decision.state
        state = self.store.get_state(lead.id)
        if state is not None:
            return state
        return LeadState(lead.id, self.ruleset.version, lead_seed(lead.id), status=KEPT)

    def receive(self, lead: Lead, now: datetime | None = None) -> Decision | None:
        """Like :meth:`submit`, returning the decision — or ``None`` when there is none to
        return: the lead id was already received (a replayed webhook), whose first decision
        stands, or the lead was kept for a worker to decide (see :meth:`intake`)."""
        return self.intake(lead, now).decision

    def intake(self, lead: Lead, now: datetime | None = None) -> Receipt:
        """Receive a lead; when this returns, the lead is durable.

        The lead is stored in the same transaction as its first decision: one write per
        lead, and no lead without a decision.  New leads are the common case, so the store is
        not asked first: a replayed lead's decision is refused by the store (its state row
        exists), and only then is the lead looked up.  A decision that cannot be committed
        (it kept losing races, or deciding or storing it failed) does not lose the lead: it
        is kept in the store's inbox (:meth:`Store.add_inbox`) and decided by a worker's
        :meth:`tick`.  Only when even that fails does ``intake`` raise — the lead was not
        acknowledged."""
        event = LeadReceived(lead)
        error: BaseException | None = None
        for attempt in range(MAX_RETRIES):
            at = now or self.clock.now()
            try:
                decision = self._decide_commit(lead, event, at, first=True, store_lead=True,
                                               ruleset=None)
            except StaleState as exc:  # a replay, another submitter's decision, a moved cursor
                if self.store.get_state(lead.id) is not None:
                    return Receipt(lead.id, DUPLICATE, None)
                error = exc
                _backoff(attempt)
                continue
            except Exception as exc:  # deciding or storing failed: keep the lead instead
                error = exc
                break
            return Receipt(lead.id, DECIDED, decision, at=at)
        assert error is not None
        at = now or self.clock.now()
        if not self.store.add_inbox(lead, self.ruleset.version, at):
            return Receipt(lead.id, DUPLICATE, None)
        log.warning("lead %s kept in the inbox for a worker: %s", lead.id, describe(error))
        return Receipt(lead.id, KEPT, None, describe(error))

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

    def log_activity(self, lead_id: str, agent: str, activity: str, note: str = "",
                     now: datetime | None = None) -> Decision:
        """The lead's agent logged contact with the consumer (one of
        :data:`~rulekit.pipeline.ACTIVITY_KINDS`); kept as an event of the lead."""
        if activity not in ACTIVITY_KINDS:
            raise ValueError(f"{activity!r} is not one of: {', '.join(ACTIVITY_KINDS)}")
        return self._handle(lead_id, ActivityLogged(agent, activity, note), now)

    def change_contact(self, contact_key: str, action: str, *, by: str, reason: str = "",
                       agent: str | None = None, status: str | None = None,
                       lead_id: str | None = None, now: datetime | None = None
                       ) -> ContactChange:
        """Run a contact lifecycle action (:mod:`rulekit.lifecycle`: share, unshare,
        transfer, delete, status) as ``by``, audited, its agent checked against the world.
        The store must keep an audit history (:class:`~rulekit.storage.base.Access`).

        When the change resolves an ownership conflict — the agent who entered a conflicting
        lead owns the contact now — that lead, still waiting, is reassigned to them as ``by``
        (an :class:`~rulekit.pipeline.AdminReassign` decision whose reason names the
        resolution, and a ``conflict_resolved`` audit entry); one already assigned is left
        as it is.  The result has the contact before and after and those leads."""
        at = now or self.clock.now()
        before, after = change_contact(self.store, contact_key, action, by=by, reason=reason,
                                       at=at, agent=agent, status=status, lead_id=lead_id,
                                       agents=self.world.agents)
        listed = getattr(self.store, "contact_conflicts", None)
        conflicts: list[Conflict] = [] if listed is None else listed(contact_key)
        leads = tuple(self._resolve_conflict(c, contact_key, action, by, reason, at)
                      for c in resolved(before, after, conflicts))
        return ContactChange(before, after, leads)

    def transfer_contacts(self, from_agent: str, to_agent: str, *, by: str, reason: str = "",
                          contact_key: str | None = None, scope: str | None = None,
                          now: datetime | None = None
                          ) -> tuple[list[tuple[str, str]], tuple[ConflictLead, ...]]:
        """An admin's bulk transfer (:meth:`~rulekit.storage.base.Access.transfer_contacts`):
        ``to_agent`` takes every (contact, scope) ownership ``from_agent`` holds — of one
        contact and/or one scope when given.  Where ``to_agent`` had entered one of those
        contacts by hand and the conflict's lead still waits, it is given to them as in
        :meth:`change_contact`.  The ``(contact key, scope key)`` pairs moved, and those
        leads."""
        at = now or self.clock.now()
        transfer = getattr(self.store, "transfer_contacts", None)
        if transfer is None:
            raise TypeError("this store keeps no audit history, so it transfers no contacts")
        moved: list[tuple[str, str]] = transfer(from_agent, to_agent, by=by, reason=reason,
                                                at=at, contact_key=contact_key, scope=scope)
        listed = getattr(self.store, "contact_conflicts", None)
        leads: list[ConflictLead] = []
        seen: set[str] = set()
        for key, scope_key in moved:
            for conflict in [] if listed is None else listed(key):
                if (conflict.lead_id is None or conflict.lead_id in seen
                        or (conflict.owner, conflict.entered_by, conflict.scope_key)
                        != (from_agent, to_agent, scope_key)):
                    continue
                seen.add(conflict.lead_id)
                leads.append(self._resolve_conflict(conflict, key, TRANSFER, by, reason, at))
        return moved, tuple(leads)

    def _resolve_conflict(self, conflict: Conflict, contact_key: str, action: str, by: str,
                          reason: str, at: datetime) -> ConflictLead:
        """Give a resolved conflict's lead to the agent who entered it, unless it is
        assigned already."""
        assert conflict.lead_id is not None  # resolved() keeps conflicts with a lead only
        lead_id, agent = conflict.lead_id, conflict.entered_by
        state = self.store.get_state(lead_id)
        if state is not None and state.status == ASSIGNED:
            whom = "them" if state.assignee == agent else state.assignee
            return ConflictLead(lead_id, agent, False, f"left as it is: already assigned to "
                                f"{whom}")
        why = resolution_reason(conflict, action, reason)
        decision = self.reassign(lead_id, agent, by, why, at)
        if decision.state.status != ASSIGNED or decision.state.assignee != agent:
            return ConflictLead(lead_id, agent, False, f"not routed: {decision.state.status}")
        record = getattr(self.store, "record_audit", None)
        if record is not None:
            record(by, CONFLICT_RESOLVED, {"lead": lead_id, "contact": contact_key,
                                           "agent": agent, "owner": conflict.owner,
                                           "action": action, "reason": why}, at)
        return ConflictLead(lead_id, agent, True, f"assigned to {agent}: {why}")

    def retry(self, lead_id: str, by: str, reason: str | None = None,
              now: datetime | None = None) -> Decision:
        """Route a parked lead again from the start of its policy, with the current rule set
        (after the rule files or the world were fixed).  A lead still in the inbox is decided
        at once.  The retry of a parked lead is audited; a lead that is not parked is left as
        it is."""
        if self.store.get_state(lead_id) is None:
            lead = self.store.get_lead(lead_id)
            if lead is None:
                raise UnknownLead(lead_id)
            decision = self._handle_first(lead, now or self.clock.now())
            if decision is not None:
                self.store.fired(inbox_timer_id(lead_id))
                return decision
        event = AdminRetry(by, reason) if reason else AdminRetry(by)
        return self._handle(lead_id, event, now, ruleset=self.ruleset)

    # -- timers and the inbox --------------------------------------------------------------
    def _handle_first(self, lead: Lead, at: datetime) -> Decision | None:
        """The first decision of a lead kept in the inbox; ``None`` if it has one already."""
        stored_version = getattr(self.store, "ruleset_version", None)
        version = stored_version(lead.id) if stored_version is not None else None
        ruleset = self.ruleset_for(version) if version else self.ruleset

        def attempt() -> Decision | None:
            if self.store.get_state(lead.id) is not None:
                return None  # decided meanwhile (the lead was sent again)
            return self._decide_commit(lead, LeadReceived(lead), at, first=True,
                                       store_lead=False, ruleset=ruleset)

        return self._retrying(lead.id, attempt)

    def _fire(self, timer: DueTimer, at: datetime) -> Decision | None:
        """Fire one claimed timer (or decide one inbox entry); a failure is counted and the
        timer held back (:meth:`_failed`) — it never stops the other timers."""
        try:
            if timer.purpose == INBOX:
                lead = self.store.get_lead(timer.lead_id)
                decision = None if lead is None else self._handle_first(lead, at)
            else:
                # a timer fires at its due instant, so a late tick replays the chain exactly
                decision = self._handle(timer.lead_id, TimerFired(timer.timer_id), timer.due)
            self.store.fired(timer.timer_id)
        except Exception as error:
            self._failed(timer, error, at)
            return None
        return decision

    def _failed(self, timer: DueTimer, error: Exception, at: datetime) -> None:
        attempts = timer.attempts + 1
        reason = describe(error)
        if attempts >= MAX_ATTEMPTS:
            try:
                self._park(timer, error, attempts, at)
                self.store.fired(timer.timer_id)
                log.error("lead %s parked in queue '%s' after %d failed attempts: %s",
                          timer.lead_id, ERROR_QUEUE, attempts, reason)
                return
            except Exception:
                log.exception("lead %s: could not park it; holding its timer back",
                              timer.lead_id)
        delay = retry_delay(attempts)
        self.store.timer_failed(timer.timer_id, reason,
                                self.clock.now() + timedelta(seconds=delay))
        log.warning("timer %s of lead %s failed (attempt %d of %d), retrying in %.1f s: %s",
                    timer.timer_id, timer.lead_id, attempts, MAX_ATTEMPTS, delay, reason)

    def _park(self, timer: DueTimer, error: Exception, attempts: int, at: datetime) -> None:
        state = self.store.get_state(timer.lead_id)
        first = state is None
        if state is None:
            state = LeadState(timer.lead_id, self.ruleset.version, lead_seed(timer.lead_id))
        kind = "lead_received" if timer.purpose == INBOX else "timer_fired"
        decision = park(state, kind, at if first else timer.due, error, attempts=attempts)
        self.store.commit(timer.lead_id, None if first else state.serial, decision.state,
                          decision.effects, decision.trace, decision.trace.at)

    def tick(self, now: datetime | None = None, *, worker: str = "engine",
             lease: float = 60.0, limit: int = 1000) -> list[Decision]:
        """Fire every timer due at ``now`` (offer deadlines, holds) and decide the leads kept
        in the inbox; return the decisions.

        Timers are claimed in rounds of ``limit``, each leased for ``lease`` seconds from the
        clock's reading at the claim.  A timer is fired only while at least half of its lease
        is left; the rest of a round that runs longer is claimed again (its leases renewed)
        in the next round — so this worker never fires a timer whose lease has ended."""
        at = now or self.clock.now()
        decisions: list[Decision] = []
        # Firing a timer can create timers that are already due (the next offer of a
        # sequence, when the tick is late): keep claiming until none is due.
        for _ in range(MAX_TIMER_ROUNDS):
            claimed_at = self.clock.now()
            timers = self.store.claim_due_timers(at, worker, lease, limit,
                                                 clock_now=claimed_at)
            if not timers:
                break
            renew_at = claimed_at + timedelta(seconds=lease / 2)
            for index, timer in enumerate(sorted(timers, key=lambda t: (t.due, t.timer_id))):
                if index and self.clock.now() >= renew_at:
                    break  # the rest are claimed again, with fresh leases
                decision = self._fire(timer, at)
                if decision is not None:
                    decisions.append(decision)
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

    def explain(self, lead_id: str, zone: tzinfo | None = None) -> str:
        """Why the lead went where it went, in plain English, and the changes people made
        that bear on it (:mod:`rulekit.changes`); times in ``zone``, by default the
        brokerage's (:func:`~rulekit.world.brokerage_zone` of the world and rule set)."""
        if self.store.get_lead(lead_id) is None:
            raise UnknownLead(lead_id)
        return explanation(self.store, lead_id, zone or brokerage_zone(self.world, self.ruleset))
