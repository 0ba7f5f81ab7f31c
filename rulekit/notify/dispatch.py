"""The delivery loop: outbox messages become deliveries, and deliveries are sent.

Routing writes a notification to the outbox in the decision's transaction; from there this
loop, apart from routing (its own thread or process, its own timeouts), does two things:

1. **plans** each unsent message: one delivery per recipient and channel (an agent's or a
   staff member's email and webhook, a literal address or URL, else the log), each with a
   stable message id, written with the message marked handed over in one transaction — one
   process wins each message;
2. **delivers** the due deliveries it leases: renders the template for that recipient (a copy
   gets no link), sends it (SMTP, a signed webhook, or a log line) and marks it sent; a
   temporary failure is due again after an exponential backoff with jitter, a permanent one —
   or the last of :attr:`DeliveryConfig.max_attempts` — leaves it dead, kept for
   ``rulekit outbox retry``.

Delivery is at least once: a process killed after sending and before marking sent leaves the
delivery leased; when the lease runs out it is sent again with the same message id (the email
``Message-ID``, the webhook id header), by which receivers drop the duplicate.  A slow or down
server delays only this loop: decisions and timers never wait for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rulekit.notify.failures import DeliveryFailure, PermanentFailure, TemporaryFailure
from rulekit.notify.links import offer_links, work_link
from rulekit.notify.recipients import DEFAULT_SECRET_ENV, Address, display_name, resolve
from rulekit.notify.smtp import SmtpConfig, SmtpSender, build_email
from rulekit.notify.templates import LinkVars, RecipientVars, Rendered, Templates, make_context
from rulekit.notify.webhook import WebhookSender
from rulekit.storage.base import Delivery, NewDelivery, OutboxMessage
from rulekit.world import World, brokerage_zone

log = logging.getLogger("rulekit.notify")

#: The environment variables that configure delivery (``rulekit serve`` and ``rulekit worker``).
ENV_SMTP, ENV_FROM, ENV_BASE = "RULEKIT_SMTP_URL", "RULEKIT_MAIL_FROM", "RULEKIT_BASE_URL"
ENV_TEMPLATES = "RULEKIT_TEMPLATES"


@dataclass(frozen=True)
class DeliveryConfig:
    """How notifications are delivered.  Without ``smtp_url`` email deliveries are written
    to the log; without ``base_url`` and ``signing_key`` messages carry no links."""

    smtp_url: str | None = None
    sender: str | None = None
    base_url: str | None = None
    signing_key: str = ""
    templates: Path | None = None
    max_attempts: int = 8
    first_retry: float = 30.0
    max_retry: float = 3600.0
    lease: float = 120.0
    batch: int = 50
    timeout: float = 10.0
    poll: float = 1.0

    @classmethod
    def from_environment(cls, **overrides: Any) -> DeliveryConfig:
        folder = os.environ.get(ENV_TEMPLATES)
        values: dict[str, Any] = {
            "smtp_url": os.environ.get(ENV_SMTP) or None,
            "sender": os.environ.get(ENV_FROM) or None,
            "base_url": os.environ.get(ENV_BASE) or None,
            "signing_key": os.environ.get("RULEKIT_SIGNING_KEY", ""),
            "templates": Path(folder) if folder else None}
        values.update(overrides)
        return cls(**values)


def backoff(attempts: int, first: float, ceiling: float, rng: random.Random) -> float:
    """Seconds before the next try after ``attempts`` failed ones: ``first`` doubling up to
    ``ceiling``, with "full jitter" between half and all of it (tries of many messages that
    failed together spread out)."""
    delay = min(ceiling, first * 2.0 ** max(0, attempts - 1))
    return delay * (0.5 + rng.random() / 2)


@dataclass
class Tally:
    """What one round of the loop did."""

    planned: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0

    def __bool__(self) -> bool:
        """Whether the round moved anything forward (a round of failures only is not: the
        loop then waits ``poll`` before the next)."""
        return bool(self.planned or self.sent or self.dead)


@dataclass
class Dispatcher:
    """Plans and delivers the outbox of ``store``; ``world`` gives the active world (for
    addresses, names and the brokerage's zone)."""

    store: Any
    config: DeliveryConfig
    world: Callable[[], World | None]
    name: str = "rulekit-delivery"
    zone_name: Callable[[], str] = lambda: "UTC"
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    on_result: Callable[[str, str], None] = lambda channel, result: None

    def __post_init__(self) -> None:
        self.templates = Templates.for_folder(self.config.templates)
        self.smtp = (SmtpConfig.from_url(self.config.smtp_url, sender=self.config.sender)
                     if self.config.smtp_url else None)
        self._stop = threading.Event()

    # -- planning --------------------------------------------------------------------------
    def plan(self, now: datetime | None = None) -> int:
        """Plan the unsent outbox messages; how many this process planned.  Nothing is planned
        before a world is active (or loaded by the worker followed): without it no agent's
        address is known."""
        at = now or self.clock()
        world = self.world()
        if world is None:
            return 0
        planned = 0
        for message in self.store.outbox(unsent_only=True)[:self.config.batch * 4]:
            deliveries = [NewDelivery(name, role, address.channel, address.address)
                          for role, names in (("to", message.to), ("cc", message.cc))
                          for name in names for address in resolve(world, name)]
            if self.store.plan_deliveries(message.message_id, deliveries, at):
                planned += 1
        return planned

    # -- delivering ------------------------------------------------------------------------
    def deliver(self, now: datetime | None = None) -> Tally:
        """Send the due deliveries this process leases."""
        at = now or self.clock()
        tally = Tally()
        batch = self.store.claim_deliveries(at, self.name, self.config.lease,
                                            self.config.batch)
        if not batch:
            return tally
        messages: dict[int, OutboxMessage | None] = {}
        world = self.world()
        smtp = SmtpSender(self.smtp) if self.smtp else None
        if smtp is not None and any(d.channel == "email" for d in batch):
            with contextlib.suppress(DeliveryFailure):  # else each send says why it fails
                smtp.open()  # one connection for the batch
        webhooks = WebhookSender(timeout=self.config.timeout)
        try:
            for delivery in batch:
                if delivery.outbox_id not in messages:
                    messages[delivery.outbox_id] = self.store.outbox_message(delivery.outbox_id)
                self._one(delivery, messages[delivery.outbox_id], world, smtp, webhooks,
                          tally)
        finally:
            if smtp is not None:
                smtp.close()
            webhooks.close()
        return tally

    def _one(self, delivery: Delivery, message: OutboxMessage | None, world: World | None,
             smtp: SmtpSender | None, webhooks: WebhookSender, tally: Tally) -> None:
        try:
            if message is None:
                raise PermanentFailure(f"outbox message {delivery.outbox_id} is gone")
            rendered = self.render(delivery, message, world)
            self._send(delivery, message, rendered, world, smtp, webhooks)
        except TemporaryFailure as exc:
            attempts = delivery.attempts + 1
            if attempts >= self.config.max_attempts:
                self._dead(delivery, f"{exc} (gave up after {attempts} attempts)", tally)
                return
            wait = backoff(attempts, self.config.first_retry, self.config.max_retry, self.rng)
            if exc.retry_after is not None:
                wait = max(wait, min(exc.retry_after, self.config.max_retry))
            self.store.delivery_failed(delivery.delivery_id, str(exc),
                                       self.clock() + timedelta(seconds=wait))
            tally.retried += 1
            self.on_result(delivery.channel, "retried")
            log.warning("delivery %s to %s failed, retry in %.0f s: %s", delivery.message_id,
                        delivery.address or delivery.recipient, wait, exc)
        except Exception as exc:  # a permanent refusal, or a template that cannot render
            self._dead(delivery, f"{type(exc).__name__}: {exc}", tally)
        else:
            self.store.delivery_sent(delivery.delivery_id, self.clock())
            tally.sent += 1
            self.on_result(delivery.channel, "sent")

    def _dead(self, delivery: Delivery, error: str, tally: Tally) -> None:
        self.store.delivery_failed(delivery.delivery_id, error, None)
        tally.dead += 1
        self.on_result(delivery.channel, "dead")
        log.error("delivery %s to %s is dead: %s", delivery.message_id,
                  delivery.address or delivery.recipient, error)

    def links(self, delivery: Delivery, message: OutboxMessage) -> LinkVars | None:
        """The links of one rendering: accept and decline for an offered agent, "work with
        this lead" for the other direct recipients, none for a copy or without a base URL."""
        base, key = self.config.base_url, self.config.signing_key
        if delivery.role != "to" or not base or not key:
            return None
        if message.offer_id is not None:
            offered = self.store.offers(message.lead_id)
            agents = next((o.agents for o in offered if o.offer_id == message.offer_id), ())
            if delivery.recipient in agents:
                made = offer_links(base, key, message.offer_id, delivery.recipient,
                                   message.deadline)
                return {"accept": made["accept"], "decline": made["decline"], "work": None}
            return None
        return {"accept": None, "decline": None,
                "work": work_link(base, key, message.lead_id, delivery.recipient)}

    def render(self, delivery: Delivery, message: OutboxMessage,
               world: World | None) -> Rendered:
        lead = self.store.get_lead(message.lead_id)
        if lead is None:
            raise PermanentFailure(f"lead {message.lead_id} is gone")
        recipient: RecipientVars = {
            "id": delivery.recipient, "name": display_name(world, delivery.recipient),
            "email": delivery.address if delivery.channel == "email" else None,
            "role": "cc" if delivery.role == "cc" else "to"}
        context = make_context(
            lead, recipient=recipient,
            brokerage={"name": world.name if world else "", "timezone": self.zone_name()},
            offer_id=message.offer_id, deadline=message.deadline,
            links=self.links(delivery, message), subject=message.subject,
            variables=message.variables)
        return self.templates.render(message.template, context)

    def _send(self, delivery: Delivery, message: OutboxMessage, rendered: Rendered,
              world: World | None, smtp: SmtpSender | None, webhooks: WebhookSender) -> None:
        if delivery.channel == "email" and smtp is not None:
            assert self.smtp is not None and self.smtp.sender is not None
            email = build_email(message_id=delivery.message_id, sender=self.smtp.sender,
                                to=[delivery.address], subject=rendered.subject,
                                text=rendered.text, html=rendered.html,
                                headers={"X-Rulekit-Lead": message.lead_id})
            smtp.send(email, [delivery.address])
        elif delivery.channel == "webhook":
            variable = self._secret_env(world, delivery)
            secret = os.environ.get(variable, "")
            if not secret:
                raise PermanentFailure(f"no webhook secret in ${variable}")
            webhooks.post(delivery.address, secret, delivery.message_id, {
                "id": delivery.message_id, "kind": message.template, "lead": message.lead_id,
                "offer": message.offer_id,
                "deadline": message.deadline.isoformat() if message.deadline else None,
                "recipient": delivery.recipient, "role": delivery.role,
                "subject": rendered.subject, "text": rendered.text})
        else:  # the log channel, and email while no SMTP server is configured
            log.info("notify %s %r to %s (%s, %s)", message.template, rendered.subject,
                     delivery.address or delivery.recipient, delivery.role,
                     delivery.message_id)

    @staticmethod
    def _secret_env(world: World | None, delivery: Delivery) -> str:
        found: Sequence[Address] = resolve(world, delivery.recipient)
        for address in found:
            if address.channel == "webhook" and address.address == delivery.address:
                return address.secret_env or DEFAULT_SECRET_ENV
        return DEFAULT_SECRET_ENV

    # -- the loop --------------------------------------------------------------------------
    def run_once(self) -> Tally:
        planned = self.plan()
        tally = self.deliver()
        tally.planned = planned
        return tally

    def run(self) -> None:
        """Plan and deliver until :meth:`stop`; a failing round is logged and retried."""
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("%s: delivery round failed", self.name)
                busy = Tally()
            if not busy:
                self._stop.wait(self.config.poll)

    def stop(self) -> None:
        self._stop.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="rulekit-delivery", daemon=True)
        thread.start()
        return thread


class _Following:
    """The active world and brokerage zone of a worker's engine.  The worker is refreshed here
    at most every ``refresh`` seconds, or never (``None``) when it is a running worker loop,
    which follows the store's active versions itself."""

    def __init__(self, worker: Any, refresh: float | None) -> None:
        self.worker = worker
        self.refresh = refresh
        self.checked = -(refresh or 0.0)
        self.lock = threading.Lock()

    def _engine(self) -> Any:
        from rulekit.worker import NothingLoaded

        if self.refresh is None:
            return self.worker.engine
        with self.lock:
            if time.monotonic() - self.checked >= self.refresh:
                with contextlib.suppress(NothingLoaded):
                    self.worker.refresh()
                self.checked = time.monotonic()
            return self.worker.engine

    def world(self) -> World | None:
        engine = self._engine()
        return engine.world if engine is not None else None

    def zone_name(self) -> str:
        engine = self._engine()
        if engine is None:
            return "UTC"
        return str(getattr(brokerage_zone(engine.world, engine.ruleset), "key", "UTC"))


def following_dispatcher(store: Any, config: DeliveryConfig, *, name: str,
                         refresh: float = 5.0, worker: Any | None = None,
                         **extra: Any) -> Dispatcher:
    """A dispatcher for ``store`` that follows its active world: that of the running worker
    loop ``worker`` (a :class:`~rulekit.worker.Worker` of the same store, so the process
    compiles the active versions once), or else of a follower of its own, refreshed every
    ``refresh`` seconds."""
    if worker is None:
        from rulekit.worker import Worker

        follow = _Following(Worker(store, name=f"{name}:follow"), refresh)
    else:
        follow = _Following(worker, None)
    return Dispatcher(store, config, follow.world, name=name, zone_name=follow.zone_name,
                      **extra)
