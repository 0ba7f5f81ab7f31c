"""The running service's view of the store: an engine that follows the store's active rule
set and world (checked at most every ``refresh`` seconds, and at once after this process
changes them), and the worker loop in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from rulekit.engine import Engine
from rulekit.service.config import ServiceConfig
from rulekit.storage.url import open_store_or_explain
from rulekit.worker import Worker, default_name

log = logging.getLogger("rulekit.service")


class Live:
    def __init__(self, config: ServiceConfig, store: Any | None = None) -> None:
        self.config = config
        self.store: Any = store if store is not None else open_store_or_explain(config.db)
        self._own_store = store is None
        self.name = default_name()
        self._follower = Worker(self.store, name=f"{self.name}:api")
        self._lock = threading.Lock()
        self._checked = 0.0
        self._loop: Worker | None = None
        self._thread: threading.Thread | None = None

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

    def changed(self) -> None:
        """This process changed the active versions: follow them on the next request."""
        with self._lock:
            self._checked = 0.0

    def start(self) -> None:
        if not self.config.worker:
            return
        self._loop = Worker(self.store, name=f"{self.name}:worker", poll=self.config.poll,
                            lease=self.config.lease)
        self._thread = threading.Thread(target=self._loop.run, name="rulekit-worker",
                                        kwargs={"handle_signals": False}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Let the worker finish its batch, then close the store."""
        if self._loop is not None and self._thread is not None:
            self._loop.stop()
            self._thread.join(timeout=max(30.0, self.config.lease))
        if self._own_store:
            close = getattr(self.store, "close", None)
            if close is not None:
                close()
