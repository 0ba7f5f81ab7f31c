"""The running service's view of the store: an engine that follows the store's active rule
set and world (checked at most every ``refresh`` seconds, and at once after this process
changes them), the tokens it verified lately (remembered ``token_ttl`` seconds), leads'
explanations, and the worker loop in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, tzinfo
from typing import Any, cast

from rulekit.access import VerifiedTokens
from rulekit.changes import explanation
from rulekit.engine import Engine
from rulekit.model import Lead
from rulekit.notify.dispatch import DeliveryConfig, Dispatcher, following_dispatcher
from rulekit.service.config import ServiceConfig
from rulekit.storage.base import Access
from rulekit.storage.url import open_store_or_explain
from rulekit.trace import Trace
from rulekit.worker import Worker, default_name
from rulekit.world import brokerage_zone

log = logging.getLogger("rulekit.service")


class Live:
    def __init__(self, config: ServiceConfig, store: Any | None = None) -> None:
        self.config = config
        self.store: Any = store if store is not None else open_store_or_explain(config.db)
        self._own_store = store is None
        self.name = default_name()
        self._follower = Worker(self.store, name=f"{self.name}:api")
        self.tokens = VerifiedTokens(cast(Access, self.store), ttl=config.token_ttl)
        self._lock = threading.Lock()
        self._checked = 0.0
        self._loop: Worker | None = None
        self._thread: threading.Thread | None = None
        self._dispatcher: Dispatcher | None = None
        self._delivery: threading.Thread | None = None

    def engine(self) -> Engine:
        """The engine for the store's active versions (raises
        :class:`~rulekit.worker.NothingLoaded` when nothing is loaded yet)."""
        with self._lock:
            if self._follower.engine is None or time.monotonic() - self._checked \
                    >= self.config.refresh:
                self._follower.refresh()
                self._checked = time.monotonic()
            engine = self._follower.engine
        assert engine is not None
        return engine

    def zone(self) -> tzinfo:
        """The zone people are shown times in: the brokerage's, of the engine followed now
        (UTC before anything is loaded)."""
        engine = self._follower.engine
        return UTC if engine is None else brokerage_zone(engine.world, engine.ruleset)

    def explain(self, lead_id: str) -> str:
        """A stored lead's explanation, as ``rulekit explain`` gives it: its decisions, then
        the changes people made that bear on it; times in :meth:`zone`."""
        return explanation(self.store, lead_id, self.zone())

    def explain_first(self, lead: Lead, trace: Trace) -> str:
        """The explanation :meth:`explain` gives of ``lead`` right after its first decision,
        whose trace is ``trace``: worded from that trace, without reading the lead and its
        traces back from the store."""
        return explanation(self.store, lead.id, self.zone(), lead=lead, traces=[trace])

    def changed(self) -> None:
        """This process changed the active versions: follow them on the next request."""
        with self._lock:
            self._checked = 0.0

    def start(self, on_delivery: Callable[[str, str], None] | None = None) -> None:
        """Start the worker loop and, in a thread of its own, the delivery loop."""
        if not self.config.worker:
            return
        self._loop = Worker(self.store, name=f"{self.name}:worker", poll=self.config.poll,
                            lease=self.config.lease, deliver=False)
        self._thread = threading.Thread(target=self._loop.run, name="rulekit-worker",
                                        kwargs={"handle_signals": False}, daemon=True)
        self._thread.start()
        delivery = self.config.delivery or DeliveryConfig.from_environment(
            signing_key=self.config.signing_key)
        self._dispatcher = following_dispatcher(
            self.store, delivery, name=f"{self.name}:delivery", worker=self._loop,
            on_result=on_delivery or (lambda channel, result: None))
        self._delivery = self._dispatcher.start_thread()

    def stop(self) -> None:
        """Let the worker finish its batch (and the delivery loop its message), then close
        the store."""
        if self._dispatcher is not None and self._delivery is not None:
            self._dispatcher.stop()
        if self._loop is not None and self._thread is not None:
            self._loop.stop()
            self._thread.join(timeout=max(30.0, self.config.lease))
        if self._dispatcher is not None and self._delivery is not None:
            self._delivery.join(timeout=3 * self._dispatcher.config.timeout)
        if self._own_store:
            close = getattr(self.store, "close", None)
            if close is not None:
                close()
