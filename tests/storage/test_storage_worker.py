"""``rulekit worker`` as a real process: fires timers on the real clock, delivers the outbox,
follows rule updates without a restart, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest import Backend
from storage_helpers import compile_rules, lead

from rulekit.engine import Engine, ManualClock, SystemClock
from rulekit.storage.catalog import load_files, set_pool_members
from rulekit.worker import Iteration, Worker


def wait_for(check: Callable[[], bool], seconds: float = 20.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_the_worker_process_routes_follows_updates_and_stops_on_sigterm(
        durable: Backend, rules_dir: Path) -> None:
    store: Any = durable.open()
    load_files(store, rules_dir, rules_dir / "world.yaml", by="test")
    worker = subprocess.Popen(
        [sys.executable, "-m", "rulekit", "worker", "--db", durable.url, "--poll", "0.2",
         "--lease", "5", "--name", "w-test"], stderr=subprocess.PIPE, text=True)
    try:
        ruleset, world = compile_rules(rules_dir)
        then = SystemClock().now() - timedelta(minutes=61)  # a1's hour is over
        Engine(ruleset, world, store, clock=ManualClock(then)).submit(lead("L1", at=then))

        def moved_on() -> bool:
            state = store.get_state("L1")
            return state.pending is not None and state.pending.agents == ("a2",)

        wait_for(moved_on)
        wait_for(lambda: len(store.outbox()) == 2 and not store.outbox(unsent_only=True))
        new = set_pool_members(store, "everyone", ["a1", "a2"], by="test")
        time.sleep(0.8)  # a few polls
    finally:
        worker.send_signal(signal.SIGTERM)
        _, log = worker.communicate(timeout=30)
    assert worker.returncode == 0, log
    assert "w-test: fired 1 timers, delivered 2 notifications" in log or (
        "fired 1 timers" in log and "delivered" in log), log
    assert f"w-test: rule set {new}" in log  # followed the update without a restart
    assert "received SIGTERM" in log and "stopped cleanly" in log


def test_the_loop_sleeps_until_the_next_timer_or_the_poll(rules_dir: Path) -> None:
    from rulekit.storage.memory import MemoryStore

    store = MemoryStore()
    load_files(store, rules_dir, rules_dir / "world.yaml", by="test")
    now = SystemClock().now()
    worker = Worker(store, poll=2.0, clock=ManualClock(now), limit=10)
    assert worker.sleep_time(Iteration(0, 0, False, None)) == 2.0
    assert worker.sleep_time(Iteration(0, 0, False, now + timedelta(seconds=0.5))) == 0.5
    assert worker.sleep_time(Iteration(0, 0, False, now - timedelta(seconds=9))) == 0.0
    assert worker.sleep_time(Iteration(10, 0, False, None)) == 0.0  # a full batch
    seen: list[Iteration] = []

    def once(iteration: Iteration) -> None:
        seen.append(iteration)
        worker.stop()

    worker.run(handle_signals=False, on_iteration=once)
    assert len(seen) == 1 and seen[0].reloaded and worker.stopping
