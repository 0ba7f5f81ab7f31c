"""The worker loop: fire due timers, deliver the outbox, follow rule and world updates.

Each iteration

1. reloads the active rule set and world from the store if their versions changed (the new
   rule set routes new leads; leads in flight keep theirs, compiled from the store on demand);
2. fires the timers due now through :meth:`Engine.tick` (leased to this worker for
   ``lease`` seconds; a crashed worker's timers are claimed by another once the lease ends);
3. hands unsent notifications to the notifier — unless ``deliver=False``: the delivery loop
   (:mod:`rulekit.notify.dispatch`) then delivers them in a thread of its own;
4. sleeps until the next timer is due or ``poll`` seconds have passed, whichever is first.

:meth:`Worker.stop` (SIGTERM / SIGINT in :meth:`Worker.run`) lets the current iteration
finish, then the loop returns: nothing is left half-done, and the leases of timers not yet
claimed are untouched.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from rulekit.engine import Clock, Engine, Notifier, SystemClock
from rulekit.storage.base import RULESET, WORLD
from rulekit.storage.catalog import as_catalog, load_ruleset, load_world, ruleset_loader
from rulekit.world import World

log = logging.getLogger("rulekit.worker")


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Iteration:
    """What one iteration did."""

    fired: int
    delivered: int
    reloaded: bool
    next_due: datetime | None


class NothingLoaded(RuntimeError):
    """The store has no active rule set or world yet (run ``rulekit load``)."""


class Worker:
    """Runs the engine against a shared store, following its active versions."""

    def __init__(self, store: Any, *, name: str | None = None, poll: float = 5.0,
                 lease: float = 60.0, limit: int = 100, clock: Clock | None = None,
                 notifier: Notifier | None = None, deliver: bool = True) -> None:
        self.store = store
        self.name = name or default_name()
        self.poll = poll
        self.lease = lease
        self.limit = limit
        self.clock: Clock = clock or SystemClock()
        self.notifier = notifier
        self.deliver = deliver
        self.engine: Engine | None = None
        self.versions: dict[str, str] = {}
        self._stop = threading.Event()

    # -- versions --------------------------------------------------------------------------
    def _world(self) -> World | None:
        return self.engine.world if self.engine else None

    def refresh(self) -> bool:
        """Follow the store's active versions; ``True`` if anything changed."""
        versions = as_catalog(self.store).active_versions()
        if versions == self.versions and self.engine is not None:
            return False
        if RULESET not in versions or WORLD not in versions:
            raise NothingLoaded("no active rule set and world in the store: run "
                                "'rulekit load --db URL --rules DIR --world FILE' first")
        engine = self.engine
        if engine is None or versions[WORLD] != self.versions.get(WORLD):
            world = load_world(self.store, versions[WORLD])
            assert world is not None
            if engine is not None:
                engine.world = world
                seed = getattr(self.store, "add_contacts", None)
                if seed is not None:
                    seed(list(world.contacts.values()))
        else:
            world = engine.world
        if engine is None or versions[RULESET] != engine.ruleset.version:
            ruleset = (engine.rulesets.get(versions[RULESET]) if engine else None) \
                or load_ruleset(self.store, versions[RULESET], world)
            assert ruleset is not None
            if engine is None:
                self.engine = Engine(ruleset, world, self.store, clock=self.clock,
                                     notifier=self.notifier,
                                     ruleset_loader=ruleset_loader(self.store, self._world))
            else:
                engine.add_ruleset(ruleset)
        log.info("%s: rule set %s, world %s", self.name, versions[RULESET], versions[WORLD])
        self.versions = versions
        return True

    # -- one iteration ---------------------------------------------------------------------
    def run_once(self) -> Iteration:
        reloaded = self.refresh()
        engine = self.engine
        assert engine is not None
        now = self.clock.now()
        fired = len(engine.tick(now, worker=self.name, lease=self.lease, limit=self.limit))
        delivered = engine.deliver() if self.deliver else 0
        next_due = self.store.next_timer_due()
        if fired or delivered:
            log.info("%s: fired %d timers, delivered %d notifications", self.name, fired,
                     delivered)
        return Iteration(fired, delivered, reloaded, next_due)

    def sleep_time(self, iteration: Iteration) -> float:
        if iteration.fired >= self.limit:
            return 0.0  # a full batch: more may be due
        if iteration.next_due is None:
            return self.poll
        wait = (iteration.next_due - self.clock.now()).total_seconds()
        return max(0.0, min(self.poll, wait))

    # -- the loop --------------------------------------------------------------------------
    def stop(self, *_: object) -> None:
        """Finish the current iteration, then leave :meth:`run`."""
        if not self._stop.is_set():
            log.info("%s: stopping after the current batch", self.name)
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, handle_signals: bool = True,
            on_iteration: Callable[[Iteration], None] | None = None) -> None:
        """Loop until :meth:`stop` (or SIGTERM / SIGINT when ``handle_signals``)."""
        previous: dict[int, Any] = {}
        if handle_signals:
            def on_signal(signum: int, _frame: FrameType | None) -> None:
                log.info("%s: received %s", self.name, signal.Signals(signum).name)
                self.stop()
            for wanted in (signal.SIGTERM, signal.SIGINT):
                previous[wanted] = signal.signal(wanted, on_signal)
        log.info("%s: started (poll %ss, lease %ss)", self.name, self.poll, self.lease)
        try:
            while not self._stop.is_set():
                try:
                    iteration = self.run_once()
                except NothingLoaded as exc:
                    log.warning("%s: %s", self.name, exc)
                    iteration = Iteration(0, 0, False, None)
                except Exception:  # a lost connection, a bad stored version: retry next poll
                    log.exception("%s: iteration failed; trying again in %ss", self.name,
                                  self.poll)
                    iteration = Iteration(0, 0, False, None)
                if on_iteration is not None:
                    on_iteration(iteration)
                self._stop.wait(self.sleep_time(iteration))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("%s: stopped cleanly at %s", self.name, datetime.now(UTC).isoformat())
