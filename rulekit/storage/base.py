"""The storage Protocol: what the engine needs from a store, with its contract.

Every adapter (memory, SQLite, PostgreSQL, third-party) implements :class:`Store` and passes
the one contract test suite (``tests/storage/``).  The contract:

* **Leads are idempotent by id.** ``add_lead`` stores a lead once; adding the same id again
  changes nothing and returns ``False``.
* **One event, one transaction.** ``commit`` applies a decision — the new lead state, every
  effect and the trace — all or nothing.  It is a compare-and-set on the lead's ``serial``: if
  another worker committed an event for the lead since ``expected_serial`` was read, nothing is
  written and :class:`StaleState` is raised; the engine then decides again on fresh state.
* **Exactly one winner per offer.** Closing an offer as accepted succeeds only while it is
  open; a second winner makes the whole commit fail with :class:`StaleState`.
* **One owner per (contact, scope).** ``SetOwner`` effects insert an owner only where none is
  recorded: the first owner stays.
* **Round-robin cursors without lost updates.** ``AdvanceRotation`` applies only if the cursor
  is still where the decision read it; otherwise the commit fails with :class:`StaleState`.
* **Timers fire at least once, one worker at a time.** ``claim_due_timers`` leases due timers to
  one worker for ``lease`` seconds; a timer whose lease ran out (a crashed worker) can be claimed
  again.  Firing is idempotent: the decision ignores a timer its lead no longer waits for, and a
  committed decision deletes the timers it fired or cancelled.  Leases run on the wall clock
  (``clock_now``), due instants on the decision's clock.
* **Failing events are counted.** ``timer_failed`` records a failed attempt and holds the timer
  back until its retry instant; the engine parks the lead after a bounded number of attempts.
* **An acknowledged lead is kept.** ``add_inbox`` stores a lead whose first decision could not
  be committed together with an inbox entry that workers claim like a timer.
* **The outbox keeps every notification** until ``mark_sent``.

Stores that workers share also implement :class:`Catalog` (an extension: the engine does not
need it): the texts of rule sets by version and of worlds by content hash, which versions are
*active*, and an audit history of who changed what.  Stored texts are never changed or
deleted, so a lead in flight can always be finished under the rule set it started with.

Stores that a service exposes also implement :class:`Access` (another extension): bearer
tokens (kept as hashes of their secrets), audit entries written by the service, transfers of
contact ownership between agents, and live counts for gauges.  Each write that changes what
someone may do or own appends its audit entry in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from rulekit.model import Contact, Lead
from rulekit.pipeline.effects import Effect
from rulekit.pipeline.facts import Facts
from rulekit.pipeline.state import LeadState
from rulekit.trace import Trace

if TYPE_CHECKING:
    from rulekit.lifecycle import Conflict


class StaleState(Exception):
    """The lead (or an offer, a cursor) changed since the decision read it."""


@dataclass(frozen=True, slots=True)
class StoredOffer:
    offer_id: str
    lead_id: str
    agents: tuple[str, ...]
    mode: str
    status: str
    created_at: datetime
    deadline: datetime | None
    winner: str | None
    closed_at: datetime | None
    rule: str


@dataclass(frozen=True, slots=True)
class Assignment:
    lead_id: str
    agent: str
    how: str
    at: datetime
    rule: str


@dataclass(frozen=True, slots=True)
class QueueItem:
    lead_id: str
    queue: str
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    message_id: int
    lead_id: str
    template: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str | None
    variables: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None
    offer_id: str | None = None
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class DueTimer:
    timer_id: str
    lead_id: str
    due: datetime
    purpose: str  # offer_deadline | hold | qualify_deadline | inbox
    attempts: int = 0  # failed attempts so far (see ``timer_failed``)


#: The purpose of an inbox entry: a lead kept before its first decision (see ``add_inbox``).
INBOX = "inbox"


#: The lease holder of a timer held back after a failed attempt, until its retry instant.
RETRY_HOLDER = "(retry)"


def inbox_timer_id(lead_id: str) -> str:
    return f"{lead_id}:inbox"


class Store(Protocol):
    """A place to keep routing state.  See the module docstring for the contract."""

    def add_lead(self, lead: Lead, ruleset_version: str) -> bool:
        """Store ``lead`` if its id is new; ``False`` if it was already there."""

    def get_lead(self, lead_id: str) -> Lead | None:
        """The stored lead."""

    def get_state(self, lead_id: str) -> LeadState | None:
        """The lead's routing state, ``None`` before its first decision."""

    def commit(self, lead_id: str, expected_serial: int | None, state: LeadState,
               effects: Sequence[Effect], trace: Trace, now: datetime,
               lead: Lead | None = None) -> None:
        """Apply one decision atomically (see the contract); raise :class:`StaleState`.

        With ``lead`` (a lead's first decision, ``expected_serial`` ``None``) the lead is
        stored in the same transaction, with ``state.ruleset_version``, unless its id is
        already stored: the first decision of a lead id wins, the lead row comes with it."""

    def facts(self) -> Facts:
        """A read view of contacts and owners, rotation cursors, agent loads, offer times."""

    def offer_lead(self, offer_id: str) -> str | None:
        """The lead an offer belongs to."""

    def claim_due_timers(self, now: datetime, worker: str, lease: float,
                         limit: int = 100, *, clock_now: datetime | None = None
                         ) -> list[DueTimer]:
        """Lease up to ``limit`` timers due at ``now`` to ``worker``, for ``lease`` seconds
        from ``clock_now`` (the wall clock at the claim; ``now`` when not given).  A timer
        is claimable while nobody holds a live lease on it: never leased, leased by
        ``worker`` itself, or its lease ended by ``clock_now``."""

    def fired(self, timer_id: str) -> None:
        """The timer's event was committed (or parked): delete the timer."""

    def timer_failed(self, timer_id: str, error: str, retry_at: datetime) -> int:
        """An attempt to fire the timer failed: count it, keep ``error``, and let nobody
        claim it before ``retry_at`` (wall clock).  The number of failed attempts so far."""

    def add_inbox(self, lead: Lead, ruleset_version: str, now: datetime) -> bool:
        """Keep a lead whose first decision could not be committed now: the lead row and an
        inbox entry (a timer of purpose :data:`INBOX`, due at ``now``) in one transaction,
        so a worker decides it later.  ``False`` if the lead id already has a decision."""

    def next_timer_due(self) -> datetime | None:
        """When the earliest timer is due."""

    def traces(self, lead_id: str) -> list[Trace]:
        """Every decision trace of the lead, in order."""

    def offers(self, lead_id: str | None = None) -> list[StoredOffer]:
        """Offers (of one lead, or all), in creation order."""

    def assignments(self, lead_id: str | None = None) -> list[Assignment]:
        """Assignments (of one lead, or all), in order."""

    def queue_items(self, queue: str | None = None) -> list[QueueItem]:
        """Leads put in queues, in order."""

    def outbox(self, *, unsent_only: bool = False) -> list[OutboxMessage]:
        """Notifications, in order."""

    def mark_sent(self, message_ids: Sequence[int], at: datetime) -> None:
        """Record that notifications were delivered."""

    def lead_ids(self) -> Iterator[str]:
        """Every stored lead id, in arrival order."""


# -- the catalog (an extension of Store) ------------------------------------------------------
RULESET, WORLD = "ruleset", "world"


@dataclass(frozen=True, slots=True)
class StoredRuleset:
    """A rule set's files as loaded: relative path → text."""

    version: str
    root: str
    files: dict[str, str]


@dataclass(frozen=True, slots=True)
class StoredWorld:
    version: str
    path: str
    text: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class Catalog(Protocol):
    """Rule sets and worlds kept in the store, the active versions, and the audit history.

    * ``put_ruleset`` / ``put_world`` store texts under a version once (``False`` if that
      version was already stored: versions are content hashes, so the texts are the same).
    * ``activate`` sets the active version of each kind given (``"ruleset"``, ``"world"``) and
      appends one audit entry, in one transaction.
    """

    def put_ruleset(self, version: str, files: Mapping[str, str], root: str, by: str,
                    now: datetime) -> bool:
        """Store a rule set's file texts under ``version``."""

    def ruleset_files(self, version: str) -> StoredRuleset | None:
        """The stored files of a rule set version."""

    def put_world(self, version: str, path: str, text: str, by: str, now: datetime) -> bool:
        """Store a world file's text under ``version``."""

    def world_text(self, version: str) -> StoredWorld | None:
        """The stored text of a world version."""

    def activate(self, versions: Mapping[str, str], by: str, action: str,
                 detail: Mapping[str, Any], now: datetime) -> None:
        """Make versions active and record it (``action``, ``detail``) in the audit history."""

    def active_versions(self) -> dict[str, str]:
        """The active version of each kind (``{"ruleset": …, "world": …}``)."""

    def audit(self) -> list[AuditEntry]:
        """The audit history, oldest first."""


# -- access (an extension of Store, for a service) -----------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredToken:
    """A bearer token as stored, without its secret (the store keeps only a hash of it).

    ``agent`` is the agent a token of role ``agent`` acts as; ``sources`` are the lead sources
    a token of role ``integrator`` may submit leads for."""

    token_id: str
    role: str
    agent: str | None
    sources: tuple[str, ...]
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class LiveCounts:
    """What a store holds now, for gauges: open offers, timers due (and those due for longer
    than the lateness threshold: workers are behind), stored leads."""

    offers_open: int
    timers_due: int
    timers_late: int
    leads: int


#: Actions of the audit entries that :class:`Access` writes.
TOKEN_CREATED, TOKEN_REVOKED = "token_created", "token_revoked"
CONTACTS_TRANSFERRED = "contacts_transferred"
LEAD_STATUS_SET = "lead_status_set"
CONTACT_CHANGED = "contact_changed"


def token_created_detail(token: StoredToken) -> dict[str, Any]:
    """The detail of a ``token_created`` audit entry: never the secret nor its hash."""
    return {"token_id": token.token_id, "role": token.role, "agent": token.agent,
            "sources": list(token.sources), "label": token.label}


def token_revoked_detail(token_id: str, role: str, agent: str | None,
                         label: str) -> dict[str, Any]:
    """The detail of a ``token_revoked`` audit entry."""
    return {"token_id": token_id, "role": role, "agent": agent, "label": label}


def transfer_detail(from_agent: str, to_agent: str, reason: str, contact_key: str | None,
                    scope: str | None, moved: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The detail of a ``contacts_transferred`` audit entry."""
    return {"from": from_agent, "to": to_agent, "reason": reason, "contact": contact_key,
            "scope": scope, "moved": [[key, scope_key] for key, scope_key in moved]}


def lead_status_detail(lead_id: str | None, contact_key: str, before: str, after: str,
                       reason: str) -> dict[str, Any]:
    """The detail of a ``lead_status_set`` audit entry."""
    return {"lead": lead_id, "contact": contact_key, "before": before, "after": after,
            "reason": reason}


def contact_change_detail(lead_id: str | None, contact_key: str, action: str,
                          agent: str | None, before: Mapping[str, Any],
                          after: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """The detail of a ``contact_changed`` audit entry: the action (see
    :mod:`rulekit.lifecycle`), its agent, and the contact's status, owner, owners per scope
    and shared agents before and after (:func:`rulekit.lifecycle.snapshot`)."""
    return {"lead": lead_id, "contact": contact_key, "action": action, "agent": agent,
            "before": dict(before), "after": dict(after), "reason": reason}


class Access(Protocol):
    """Tokens, audit entries, ownership transfers and live counts, for a service.

    * ``put_token`` stores a token with the hash of its secret (a token id is stored once:
      ``ValueError`` for an id already stored) and ``revoke_token`` marks it revoked; each
      appends an audit entry (``token_created``, ``token_revoked``) in the same transaction,
      which never holds the secret or its hash.
    * ``transfer_contacts`` moves contact ownership rows from one agent to another and appends
      one ``contacts_transferred`` audit entry, in one transaction; new decisions read the new
      owners (``facts().contact(key)``).
    * ``set_lead_status`` sets a contact's lead status (``active`` or ``inactive``) and appends
      one ``lead_status_set`` audit entry, in one transaction.
    * ``change_contact`` runs one contact lifecycle action (:mod:`rulekit.lifecycle`) on the
      contact as stored and appends one ``contact_changed`` audit entry, in one transaction;
      an action the contact cannot take raises
      :class:`~rulekit.lifecycle.ContactChangeError` and writes nothing.
    """

    def put_token(self, token: StoredToken, secret_hash: str) -> None:
        """Store a token and the hash of its secret; audit ``token_created``."""

    def token(self, token_id: str) -> tuple[StoredToken, str] | None:
        """A stored token (revoked or not) and the hash of its secret."""

    def tokens(self) -> list[StoredToken]:
        """Every stored token, revoked ones too, by creation instant then id."""

    def revoke_token(self, token_id: str, by: str, at: datetime) -> bool:
        """Revoke a token; ``False`` if it is unknown or revoked already (nothing written)."""

    def record_audit(self, actor: str, action: str, detail: Mapping[str, Any],
                     at: datetime) -> None:
        """Append one entry to the audit history."""

    def transfer_contacts(self, from_agent: str, to_agent: str, *, by: str, reason: str,
                          at: datetime, contact_key: str | None = None,
                          scope: str | None = None) -> list[tuple[str, str]]:
        """Give ``to_agent`` every (contact, scope) ownership ``from_agent`` holds — of one
        contact and/or one scope key when given — and audit it, in one transaction; the
        ``(contact key, scope key)`` pairs moved, sorted (none: the audit entry is written
        all the same)."""

    def set_lead_status(self, contact_key: str, status: str, *, by: str, reason: str,
                        at: datetime, lead_id: str | None = None) -> str:
        """Set the lead status of the contact ``contact_key`` (a contact the store does not
        hold yet is stored, with no owner) and audit it; the status before (``active``, the
        default, for a contact that was not stored)."""

    def change_contact(self, contact_key: str, action: str, *, by: str, reason: str,
                       at: datetime, agent: str | None = None, status: str | None = None,
                       lead_id: str | None = None) -> tuple[Contact | None, Contact]:
        """Run ``action`` on the contact ``contact_key`` and audit it; the contact before
        and after."""

    def contact_conflicts(self, contact_key: str) -> list[Conflict]:
        """The ownership conflicts reported on the contact ``contact_key``, oldest first,
        each with the lead that reported it."""

    def live_counts(self, now: datetime, late_after: float) -> LiveCounts:
        """Open offers, timers due at ``now`` (inbox entries and timers held back for a retry
        included), timers due more than ``late_after`` seconds before ``now``, stored leads."""

    def schema_version(self) -> int:
        """The schema version of the store's data."""


# -- deliveries ---------------------------------------------------------------------------------
#: Delivery statuses: waiting for a (first or next) attempt, delivered, given up.
PENDING, SENT, DEAD = "pending", "sent", "dead"


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One recipient of an outbox message on one channel, as the dispatcher plans it."""

    recipient: str  # as the rule named it: an agent id, or an address
    role: str  # "to" or "cc"
    channel: str  # "email", "webhook" or "log"
    address: str  # the email address or the webhook URL ("" for the log)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery of an outbox message: its stable ``message_id`` (the email Message-ID, the
    webhook id header) lets receivers drop the duplicates at-least-once delivery may make."""

    delivery_id: int
    outbox_id: int
    lead_id: str
    recipient: str
    role: str
    channel: str
    address: str
    message_id: str
    status: str
    attempts: int
    due: datetime
    last_error: str | None
    sent_at: datetime | None


def delivery_message_id(outbox_id: int, index: int) -> str:
    """The stable id of the ``index``-th delivery of outbox message ``outbox_id``."""
    return f"rk-{outbox_id}-{index}"


class Deliveries(Protocol):
    """Delivery state of the outbox, kept in the store so that it survives restarts.

    * ``plan_deliveries`` turns one unsent outbox message into its deliveries and marks the
      message sent (handed over), in one transaction; only one caller wins a message.
    * ``claim_deliveries`` leases pending deliveries that are due and not leased (a lease that
      ran out may be claimed by any process, the same one too: delivery is at least once).
    * ``delivery_sent`` / ``delivery_failed`` end an attempt; a failed one is due again at
      ``retry_at``, or dead when ``retry_at`` is ``None``.
    """

    def plan_deliveries(self, outbox_id: int, planned: Sequence[NewDelivery],
                        now: datetime) -> bool:
        """Store the deliveries of an unsent message and mark it sent; ``False`` (nothing
        written) when it was planned already."""

    def claim_deliveries(self, now: datetime, worker: str, lease: float,
                         limit: int = 50) -> list[Delivery]:
        """Lease up to ``limit`` pending deliveries due at ``now``, oldest first."""

    def delivery_sent(self, delivery_id: int, at: datetime) -> None:
        """Mark a delivery sent."""

    def delivery_failed(self, delivery_id: int, error: str,
                        retry_at: datetime | None) -> int:
        """Count a failed attempt: pending again at ``retry_at``, or dead; the attempts."""

    def deliveries(self, status: str | None = None,
                   outbox_id: int | None = None) -> list[Delivery]:
        """Deliveries (of one status, of one message), by id."""

    def outbox_message(self, message_id: int) -> OutboxMessage | None:
        """One outbox message."""

    def delivery_counts(self) -> dict[str, int]:
        """How many deliveries there are of each status."""

    def requeue_delivery(self, delivery_id: int, now: datetime) -> bool:
        """A dead (or pending) delivery due again at ``now``, its attempts reset; ``False``
        for an unknown or sent delivery."""

