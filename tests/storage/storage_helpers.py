"""Helpers of the storage tests: a small rule set, and the worker processes of the races.

Imported by name from spawned processes, so it must stay importable without pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.ruleset import RuleSet
from rulekit.storage.url import open_store
from rulekit.world import World

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)

WORLD = """\
rulekit: 1
world: tiny
agents:
  - {id: a1, name: A One, email: a1@example.com}
  - {id: a2, name: A Two, email: a2@example.com}
  - {id: a3, name: A Three, email: a3@example.com}
  - {id: a4, name: A Four, email: a4@example.com}
contacts:
  - {id: c-known, email: known@example.com, owner: a3, owners: {"channel:agent-site": a4}}
"""

# web.example: two offers of one hour, in rotation, then a broadcast, then a queue.
WEB = """\
rulekit: 1
policy: web
applies_to:
  sources: [web.example]
pools:
  everyone:
    of: agents
    exclude: [paused]
rules:
  - name: existing-owner
    steps:
      - attach_to_owner: global
    then: continue
  - name: offers
    steps:
      - offer_sequence:
          pool: everyone
          pick: round_robin
          attempts: 2
          each_for: 1h
          own: global
          notify: {template: pending, to: [offered]}
    then: continue
  - name: last-chance
    steps:
      - broadcast:
          pool: everyone
          for: 1h
          own: global
          notify: {template: last-chance, subject: Last chance, to: [offered]}
    then: continue
  - name: nobody
    steps:
      - queue: {name: unclaimed, reason: nobody accepted}
"""

# race.example: a broadcast to every agent at once; the first to accept wins.
RACE = """\
rulekit: 1
policy: race
applies_to:
  sources: [race.example]
rules:
  - name: first-come
    steps:
      - broadcast:
          pool: everyone
          for: 1h
          notify: {template: blast, to: [offered]}
    then: continue
  - name: nobody
    steps:
      - queue: {name: unclaimed, reason: nobody accepted}
"""


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (file name -> text) into ``folder``, made if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def write_rules(folder: Path) -> Path:
    return write_folder(folder, {"world.yaml": WORLD, "web.yaml": WEB, "race.yaml": RACE})


def compile_rules(folder: Path) -> tuple[RuleSet, World]:
    result = check_paths([folder])
    assert result.ok, result.diagnostics
    return result.rulesets[str(folder)], result.worlds[str(folder / "world.yaml")]


def lead(lead_id: str, source: str = "web.example", email: str | None = None,
         at: datetime = T0, **extra: Any) -> Lead:
    email = email or f"{lead_id.lower()}@example.com"
    return Lead(id=lead_id, received_at=at, source=source, contact={"email": email}, **extra)


def engine_for(url: str, folder: Path, now: datetime = T0) -> Engine:
    ruleset, world = compile_rules(folder)
    return Engine(ruleset, world, open_store(url), clock=ManualClock(now))


def submit_past(store: Any, folder: Path, leads: list[tuple[str, str]], at: datetime) -> None:
    """Submit ``(lead id, source)`` at ``at``, through one engine in this process."""
    ruleset, world = compile_rules(folder)
    engine = Engine(ruleset, world, store, clock=ManualClock(at))
    for lead_id, source in leads:
        engine.submit(lead(lead_id, source=source, at=at), at)


def close(store: object) -> None:
    closer = getattr(store, "close", None)
    if closer is not None:
        closer()


@contextmanager
def fresh_schema(dsn: str, prefix: str) -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema (``prefix`` + a random suffix),
    dropped afterwards."""
    import uuid

    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield dsn + ("&" if "?" in dsn else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# -- worker processes (spawned) -------------------------------------------------------------
def race_accept(url: str, folder: str, agent: str, offer_ids: list[str], barrier: Any) -> None:
    """Accept every offer as ``agent``, as fast as possible, once all racers are ready."""
    engine = engine_for(url, Path(folder))
    try:
        barrier.wait()
        for offer_id in offer_ids:
            engine.accept(offer_id, agent, T0 + timedelta(minutes=5))
    finally:
        close(engine.store)


def race_submit(url: str, folder: str, lead_ids: list[str], barrier: Any) -> None:
    """Submit the same leads as the other racers."""
    engine = engine_for(url, Path(folder))
    try:
        barrier.wait()
        for lead_id in lead_ids:
            engine.submit(lead(lead_id, source="race.example"), T0)
    finally:
        close(engine.store)


class DummyStore:
    """A stand-in third-party store for the entry point test."""

    def __init__(self, url: str) -> None:
        self.url = url


# -- the races of the concurrency tests and of bench/storage_race.py -------------------------------
# Every race returns its figures (a dict) after checking its invariant with ``assert``.

# rr.example: every lead goes round robin to the next agent of the ring.
RR = """\
rulekit: 1
policy: ring
applies_to:
  sources: [rr.example]
pools:
  ring:
    of: agents
rules:
  - name: turn
    steps:
      - round_robin: {pool: ring}
    then: continue
  - name: nobody
    steps:
      - queue: {name: unclaimed, reason: the ring was empty}
"""


def write_rr_rules(folder: Path, world: str = WORLD) -> Path:
    return write_folder(folder, {"world.yaml": world, "rr.yaml": RR})


def _spawn(target: Any, args: list[tuple[Any, ...]], timeout: float = 600) -> float:
    """Run ``target`` in one spawned process per argument tuple, all released at once by a
    barrier; the seconds from the release to the last exit."""
    import multiprocessing
    import time

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(args) + 1)
    workers = [ctx.Process(target=target, args=(*a, barrier)) for a in args]
    for worker in workers:
        worker.start()
    barrier.wait(timeout)
    started = time.perf_counter()
    for worker in workers:
        worker.join(timeout)
    elapsed = time.perf_counter() - started
    assert [w.exitcode for w in workers] == [0] * len(workers), [w.exitcode for w in workers]
    return elapsed


def race_accept_all(url: str, folder: str, agent: str, offer_ids: list[str],
                    barrier: Any) -> None:
    """Accept every offer as ``agent`` once all racers (and the parent) are ready."""
    engine = engine_for(url, Path(folder))
    try:
        barrier.wait()
        for offer_id in offer_ids:
            engine.accept(offer_id, agent, T0 + timedelta(minutes=5))
    finally:
        close(engine.store)


def race_broadcast(url: str, folder: Path, processes: int, offers: int) -> dict[str, Any]:
    """(a) ``processes`` racers accept the same ``offers`` broadcast offers: one winner each."""
    engine = engine_for(url, folder)
    store: Any = engine.store
    ids = [f"B{i:05d}" for i in range(offers)]
    offer_ids = []
    for lead_id in ids:
        state = engine.submit(lead(lead_id, source="race.example"), T0)
        assert state.pending is not None and state.pending.offer_id is not None
        offer_ids.append(state.pending.offer_id)
    agents = ["a1", "a2", "a3", "a4"]
    elapsed = _spawn(race_accept_all, [
        (url, str(folder), agents[i % len(agents)],
         offer_ids[i * offers // processes:] + offer_ids[:i * offers // processes])
        for i in range(processes)])
    stored = store.offers()
    winners = [o.winner for o in stored if o.status == "accepted"]
    assignments = store.assignments()
    doubles = len(assignments) - len({a.lead_id for a in assignments})
    close(store)
    assert len(winners) == offers and len(assignments) == offers and doubles == 0
    return {"race": "broadcast", "processes": processes, "offers": offers,
            "winners": len(winners), "doubles": doubles, "seconds": round(elapsed, 2),
            "accepts_per_s": round(processes * offers / elapsed)}


def race_submit_some(url: str, folder: str, lead_ids: list[str], barrier: Any) -> None:
    engine = engine_for(url, Path(folder))
    try:
        barrier.wait()
        for lead_id in lead_ids:
            engine.submit(lead(lead_id, source="race.example"), T0)
    finally:
        close(engine.store)


def race_duplicates(url: str, folder: Path, processes: int, leads: int) -> dict[str, Any]:
    """(b) each of ``leads`` leads is submitted 2–5 times, concurrently: no duplicate offers."""
    engine_for(url, folder).store.close()  # the schema exists before the race
    ids = [f"D{i:05d}" for i in range(leads)]
    copies = {lead_id: 2 + i % 4 for i, lead_id in enumerate(ids)}  # 2, 3, 4, 5, 2, …
    shares: list[list[str]] = [[] for _ in range(processes)]
    for i, lead_id in enumerate(ids):
        for k in range(min(copies[lead_id], processes)):
            shares[(i + k) % processes].append(lead_id)
    elapsed = _spawn(race_submit_some, [(url, str(folder), share) for share in shares])
    store: Any = open_store(url)
    offers = store.offers()
    per_lead: dict[str, int] = {}
    for offer in offers:
        per_lead[offer.lead_id] = per_lead.get(offer.lead_id, 0) + 1
    stored = sorted(store.lead_ids())
    outbox = len(store.outbox())
    close(store)
    duplicates = sum(n - 1 for n in per_lead.values())
    assert stored == ids and sorted(per_lead) == ids and duplicates == 0 and outbox == leads
    return {"race": "duplicates", "processes": processes, "leads": leads,
            "submissions": sum(len(s) for s in shares), "duplicate_offers": duplicates,
            "seconds": round(elapsed, 2)}


def race_rr_submit(url: str, folder: str, lead_ids: list[str], retries: Any,
                   barrier: Any) -> None:
    """Submit round-robin leads; a lead that lost 20 races in a row is submitted again."""
    from rulekit.storage.base import StaleState

    engine = engine_for(url, Path(folder))
    try:
        barrier.wait()
        for lead_id in lead_ids:
            while True:
                try:
                    engine.submit(lead(lead_id, source="rr.example"), T0)
                    break
                except StaleState:
                    with retries.get_lock():
                        retries.value += 1
    finally:
        close(engine.store)


def race_round_robin(url: str, folder: Path, processes: int, leads: int) -> dict[str, Any]:
    """(c) ``processes`` workers route ``leads`` round-robin leads: per agent max − min ≤ 1."""
    import multiprocessing

    engine_for(url, folder).store.close()
    ids = [f"RR{i:06d}" for i in range(leads)]
    retries = multiprocessing.get_context("spawn").Value("i", 0)
    elapsed = _spawn(race_rr_submit, [(url, str(folder), ids[i::processes], retries)
                                      for i in range(processes)])
    store: Any = open_store(url)
    per_agent: dict[str, int] = {}
    for assignment in store.assignments():
        per_agent[assignment.agent] = per_agent.get(assignment.agent, 0) + 1
    close(store)
    spread = max(per_agent.values()) - min(per_agent.values())
    assert sum(per_agent.values()) == leads and len(per_agent) == 4 and spread <= 1, per_agent
    return {"race": "round_robin", "processes": processes, "leads": leads,
            "per_agent": dict(sorted(per_agent.items())), "max_minus_min": spread,
            "gave_up_and_resubmitted": retries.value, "seconds": round(elapsed, 2),
            "leads_per_s": round(leads / elapsed)}


class _SlowCommits:
    """A store whose commits take ``delay`` seconds, counting them in ``done``."""

    def __init__(self, store: Any, delay: float, done: Any) -> None:
        self._store, self._delay, self._done = store, delay, done

    def commit(self, *args: Any, **kwargs: Any) -> None:
        import time

        time.sleep(self._delay)  # deciding is slow: most kills land before a commit
        self._store.commit(*args, **kwargs)
        with self._done.get_lock():
            self._done.value += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def victim_worker(url: str, lease: float, delay: float, done: Any, barrier: Any) -> None:
    """A worker that claims every due timer in one batch and fires them slowly."""
    from rulekit.worker import Worker

    worker = Worker(open_store(url), name="victim", lease=lease, limit=100_000)
    worker.refresh()
    assert worker.engine is not None
    worker.engine.store = _SlowCommits(worker.store, delay, done)  # type: ignore[assignment]
    barrier.wait()
    worker.run_once()


def race_sigkill(url: str, folder: Path, leads: int, *, lease: float = 2.0, poll: float = 0.5,
                 delay: float = 0.05) -> dict[str, Any]:
    """(d) a worker is killed (SIGKILL) in the middle of a batch of timers; a second worker
    (``rulekit worker``) fires the rest once the lease ran out: each timer once, in effect."""
    import multiprocessing
    import os
    import signal
    import subprocess
    import sys
    import time

    from rulekit.engine import SystemClock
    from rulekit.storage.catalog import load_files

    store: Any = open_store(url)
    load_files(store, folder, folder / "world.yaml", by="test")
    past = SystemClock().now() - timedelta(hours=2)  # every broadcast ran out an hour ago
    ids = [f"K{i:05d}" for i in range(leads)]
    submit_past(store, folder, [(lead_id, "race.example") for lead_id in ids], past)
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Value("i", 0)
    barrier = ctx.Barrier(2)
    victim = ctx.Process(target=victim_worker, args=(url, lease, delay, done, barrier))
    victim.start()
    barrier.wait(120)
    claimed_at = time.monotonic()
    while done.value < max(1, leads // 4) and victim.is_alive():
        time.sleep(0.005)
    assert victim.pid is not None and victim.is_alive()
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    fired_by_victim = done.value
    killed_at = time.monotonic()
    rescuer = subprocess.Popen(
        [sys.executable, "-m", "rulekit", "worker", "--db", url, "--poll", str(poll),
         "--lease", str(lease), "--name", "rescuer", "-q"],
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = claimed_at + lease + poll + 30
        while store.next_timer_due() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        recovered_at = time.monotonic()
        remaining = store.next_timer_due()
    finally:
        rescuer.send_signal(signal.SIGTERM)
        _, errors = rescuer.communicate(timeout=30)
    assert rescuer.returncode == 0, errors
    assert remaining is None
    expired = ignored = 0
    for lead_id in ids:
        offers = store.offers(lead_id)
        queue = [q for q in store.queue_items("unclaimed") if q.lead_id == lead_id]
        state = store.get_state(lead_id)
        assert [o.status for o in offers] == ["expired"], offers  # expired once
        assert len(queue) == 1 and state.status == "queued"  # queued once
        fired = [t for t in store.traces(lead_id) if t.event == "timer_fired"]
        expired += 1
        ignored += len(fired) - 1  # a replay after a crash between commit and delete
    close(store)
    recovery = recovered_at - claimed_at
    assert recovery <= lease + poll + 5.0, recovery
    return {"race": "sigkill", "leads": leads, "fired_before_kill": fired_by_victim,
            "expired_once": expired, "ignored_replays": ignored, "lease_s": lease,
            "poll_s": poll, "recovered_after_claim_s": round(recovery, 2),
            "after_kill_s": round(recovered_at - killed_at, 2)}
