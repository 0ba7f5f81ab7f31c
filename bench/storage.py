"""Leads per second through the Engine on SQLite and PostgreSQL, against raw driver writes.

    python bench/storage.py [--leads 2000] [--repeat 3] [--only sqlite|postgres] [--pg URL]
                            [--profile]

For each database, in the same run:

* **engine** — ``Engine.submit`` of new leads (a broadcast to four agents: per lead the
  engine writes the lead, its state, the offer, the deadline timer, the outbox message, four
  agent rows and the decision trace, and reads the state, the lead and the facts it needs);
* **raw** — the same rows written straight through ``sqlite3`` / psycopg, one transaction per
  lead, with JSON prepared beforehand (the floor: no deciding, no reading, no serialising).

Each side runs ``--repeat`` rounds, alternating, on fresh databases; the best round of each
counts.  Prints both rates and their ratio (target: engine ≥ 60% of raw), and — from a separate
instrumented run — where the engine's time goes (deciding, the store's reads, its writes).
``--profile`` adds a cProfile top 25.  Exit code 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "storage"))

from storage_helpers import T0, compile_rules, lead, write_rules  # noqa: E402

import rulekit.engine as engine_module  # noqa: E402
from rulekit.engine import Engine, ManualClock  # noqa: E402
from rulekit.storage.url import open_store  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/test"
TARGET = 0.60


# -- raw writes ----------------------------------------------------------------------------------
def sample_rows(folder: Path) -> dict[str, str]:
    """JSON of one lead's rows, taken from a real decision (ids are substituted per lead)."""
    ruleset, world = compile_rules(folder)
    from rulekit.storage.memory import MemoryStore

    store = MemoryStore()
    engine = Engine(ruleset, world, store, clock=ManualClock(T0))
    decision = engine.receive(lead("LEADID", source="race.example"), T0)
    assert decision is not None
    from rulekit.trace import encode_json

    return {"lead": lead("LEADID", source="race.example").model_dump_json(),
            "state": encode_json(decision.state.to_dict()),
            "trace": encode_json(decision.trace.to_json()),
            "agents": json.dumps(["a1", "a2", "a3", "a4"]),
            "vars": "{}"}


RAW_SQL = [
    ("INSERT INTO leads (id, ruleset_version, lead) VALUES (?, 'v', {j})", "lead"),
    ("INSERT INTO lead_states (lead_id, serial, state) VALUES (?, 1, {j})", "state"),
    ("INSERT INTO offers (id, lead_id, agents, mode, status, created_at, deadline, rule)"
     " VALUES (?, ?, {j}, 'broadcast', 'open', ?, ?, 'first-come')", "offer"),
    ("INSERT INTO timers (id, lead_id, due, purpose) VALUES (?, ?, ?, 'broadcast_deadline')",
     "timer"),
    ("INSERT INTO outbox (lead_id, template, recipients, cc, subject, variables, created_at)"
     " VALUES (?, 'blast', {j}, {j}, NULL, {j}, ?)", "outbox"),
    ("INSERT INTO agents (agent, load, last_offered) VALUES (?, 0, ?) ON CONFLICT (agent) DO"
     " UPDATE SET load = agents.load + excluded.load, last_offered = excluded.last_offered",
     "agent"),
    ("INSERT INTO traces (lead_id, trace) VALUES (?, {j})", "trace"),
]


def raw_params(kind: str, lead_id: str, rows: dict[str, str], at: Any, due: Any
               ) -> list[tuple[Any, ...]]:
    if kind == "lead":
        return [(lead_id, rows["lead"].replace("LEADID", lead_id))]
    if kind == "state":
        return [(lead_id, rows["state"].replace("LEADID", lead_id))]
    if kind == "offer":
        return [(lead_id + ":o1", lead_id, rows["agents"], at, due)]
    if kind == "timer":
        return [(lead_id + ":t2", lead_id, due)]
    if kind == "outbox":
        return [(lead_id, rows["agents"], "[]", rows["vars"], at)]
    if kind == "agent":
        return [(agent, at) for agent in ("a1", "a2", "a3", "a4")]
    return [(lead_id, rows["trace"].replace("LEADID", lead_id))]


def raw_sqlite(path: str, leads: list[str], rows: dict[str, str]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    at = T0.isoformat(timespec="microseconds")
    due = T0.replace(hour=16).isoformat(timespec="microseconds")
    statements = [(sql.replace("{j}", "?"), kind) for sql, kind in RAW_SQL]
    started = time.perf_counter()
    for lead_id in leads:
        conn.execute("BEGIN IMMEDIATE")
        for sql, kind in statements:
            for params in raw_params(kind, lead_id, rows, at, due):
                conn.execute(sql, params)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_postgres(url: str, leads: list[str], rows: dict[str, str]) -> float:
    at, due = T0, T0.replace(hour=16)
    statements = [(sql.replace("{j}", "CAST(%s AS JSONB)").replace("?", "%s"), kind)
                  for sql, kind in RAW_SQL]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        started = time.perf_counter()
        with conn.cursor() as cur:
            for lead_id in leads:
                with conn.transaction():
                    for sql, kind in statements:
                        for params in raw_params(kind, lead_id, rows, at, due):
                            cur.execute(sql, params)
        return time.perf_counter() - started


# -- the engine ----------------------------------------------------------------------------------
class Timed:
    """A store wrapper that adds up the time spent in each method."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.seconds: dict[str, float] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if not callable(method):
            return method

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        return timed


@contextmanager
def timed_decide(into: dict[str, float]) -> Iterator[None]:
    original = engine_module.decide

    def decide(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args)
        finally:
            into["decide"] = into.get("decide", 0.0) + time.perf_counter() - started
    engine_module.decide = decide  # type: ignore[assignment]
    try:
        yield
    finally:
        engine_module.decide = original


def through_engine(url: str, folder: Path, leads: list[str], *, timed: bool = False,
                   profile: bool = False) -> tuple[float, dict[str, float]]:
    """Seconds to submit the leads through an Engine on a fresh store at ``url``; with
    ``timed``, also where the time went (the wrappers that measure it cost time, so the rate
    comes from a run without them)."""
    ruleset, world = compile_rules(folder)
    store = open_store(url)
    wrapper = Timed(store) if timed else None
    engine = Engine(ruleset, world, wrapper or store,  # type: ignore[arg-type]
                    clock=ManualClock(T0))
    made = [lead(lead_id, source="race.example") for lead_id in leads]
    engine.submit(lead("warm-up", source="race.example"), T0)
    parts: dict[str, float] = {}
    profiler = cProfile.Profile() if profile else None
    with timed_decide(parts) if timed else nullcontext():
        if wrapper:
            wrapper.seconds.clear()
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        for item in made:
            engine.submit(item, T0)
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
    getattr(store, "close", lambda: None)()
    if wrapper:
        parts.update({f"store.{k}": v for k, v in wrapper.seconds.items()})
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return elapsed, parts


def bench(kind: str, fresh: Callable[[], str], raw: Callable[[str, list[str], dict[str, str]],
          float], folder: Path, n: int, repeat: int, profile: bool) -> bool:
    """Best of ``repeat`` rounds for each side, the sides alternating within a round (so a
    slow spell of the machine hits both), each round on fresh databases."""
    rows = sample_rows(folder)
    ids = [f"L{i:06d}" for i in range(n)]
    raw_s = engine_s = float("inf")
    for _ in range(repeat):
        raw_url = fresh()
        open_store(raw_url).close()  # type: ignore[attr-defined]  # the schema
        target = raw_url.removeprefix("sqlite:///") if kind == "sqlite" else raw_url
        raw_s = min(raw_s, raw(target, ids, rows))
        engine_s = min(engine_s, through_engine(fresh(), folder, ids)[0])
    _, parts = through_engine(fresh(), folder, ids, timed=True, profile=profile)
    engine_rate, raw_rate = n / engine_s, n / raw_s
    ratio = engine_rate / raw_rate
    print(f"{kind:<9} engine {engine_rate:8.0f} leads/s   raw {raw_rate:8.0f} leads/s   "
          f"ratio {ratio:5.1%}   (target ≥ {TARGET:.0%}: {'met' if ratio >= TARGET else 'MISSED'})")
    shown = sorted(parts.items(), key=lambda kv: -kv[1])
    print("          engine time per lead (a separate, instrumented run): " + ", ".join(
        f"{name} {seconds / n * 1e3:.3f} ms" for name, seconds in shown if seconds / n > 5e-6)
        + f"; best total {engine_s / n * 1e3:.3f} ms (raw {raw_s / n * 1e3:.3f} ms)")
    return ratio >= TARGET


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3,
                   help="rounds per database; each side's best round counts (default 3)")
    p.add_argument("--only", choices=("sqlite", "postgres"))
    p.add_argument("--pg", default=PG)
    p.add_argument("--profile", action="store_true")
    args = p.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        folder = write_rules(base / "rules")
        if args.only in (None, "sqlite"):
            ok &= bench("sqlite", lambda: f"sqlite:///{base / (uuid.uuid4().hex[:8] + '.db')}",
                        raw_sqlite, folder, args.leads, args.repeat, args.profile)
        if args.only in (None, "postgres"):
            schemas: list[str] = []

            def fresh() -> str:
                schema = f"rulekit_bench_{uuid.uuid4().hex[:10]}"
                with psycopg.connect(args.pg, autocommit=True) as conn:
                    conn.execute(f'CREATE SCHEMA "{schema}"')
                schemas.append(schema)
                return args.pg + ("&" if "?" in args.pg else "?") + \
                    f"options=-csearch_path%3D{schema}"
            try:
                ok &= bench("postgres", fresh, raw_postgres, folder, args.leads, args.repeat,
                            args.profile)
            finally:
                with psycopg.connect(args.pg, autocommit=True) as conn:
                    for schema in schemas:
                        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
