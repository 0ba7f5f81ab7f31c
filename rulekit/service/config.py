"""What a running service is configured with."""

from __future__ import annotations

from dataclasses import dataclass

from rulekit.notify.dispatch import DeliveryConfig

#: Largest request body accepted, in bytes (413 beyond it).
MAX_BODY = 256 * 1024
#: Seconds a request may take before it is answered 503 (its transaction either commits or
#: not: a client retries an intake safely, intake is idempotent).
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    db: str
    #: The key one-click links are signed with (``RULEKIT_SIGNING_KEY``); every process of
    #: one system needs the same one.
    signing_key: str = ""
    #: Run the worker loop (timers, notifications) in this process.
    worker: bool = True
    poll: float = 1.0
    lease: float = 60.0
    #: Seconds between checks of the store's active versions (admin changes made by other
    #: processes take effect within this time; this process's own at once).
    refresh: float = 1.0
    max_body: int = MAX_BODY
    timeout: float = REQUEST_TIMEOUT
    #: Seconds after its due time a timer counts as late in ``/metrics``.
    late_after: float = 60.0
    #: Seconds a process remembers a token it verified, instead of reading the store for
    #: every request: a revoked token is refused within this time (0: read on every request).
    token_ttl: float = 1.0
    #: How the worker loop's delivery thread delivers notifications (``None``: from the
    #: environment, see :class:`~rulekit.notify.dispatch.DeliveryConfig`).
    delivery: DeliveryConfig | None = None
    #: What an agent a contact is shared with receives (``RULEKIT_SHARED_CONTACTS``):
    #: ``leads``, read access to the contact and to every lead of the consumer, as if they
    #: were its own; ``contact``, read access to the contact only.  Shared agents are never
    #: offered nor assigned the consumer's leads: those go to the owner.
    shared_contacts: str = "leads"
