"""Races and crashes between real processes, on SQLite and on PostgreSQL; prints the figures.

    python bench/storage_race.py [--full] [--only sqlite|postgres] [--pg URL]

(a) N processes race to accept M broadcast offers: M winners, 0 doubles;
(b) M leads each submitted 2–5 times concurrently: M leads, 0 duplicate offers;
(c) N processes route round-robin leads: per agent, max − min ≤ 1;
(d) a worker is killed (SIGKILL) in the middle of a batch of timers: every timer fires, once
    in effect, once the lease ran out (a ``rulekit worker`` process takes over).

The default sizes are the CI sizes of ``tests/storage/test_storage_races.py``; ``--full`` runs
the full sizes (8 × 1,000 offers; 1,000 leads × 2–5; 8 × 10,000 round-robin leads; 1,000
timers).  Each race checks its invariant (exit 1 if one fails).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "storage"))

from storage_helpers import (  # noqa: E402
    fresh_schema,
    race_broadcast,
    race_duplicates,
    race_round_robin,
    race_sigkill,
    write_rr_rules,
    write_rules,
)

PG = "postgresql://postgres@127.0.0.1:5432/test"
CI = {"broadcast": (4, 40), "duplicates": (5, 40), "round_robin": (4, 120), "sigkill": 30}
FULL = {"broadcast": (8, 1000), "duplicates": (5, 1000), "round_robin": (8, 10_000),
        "sigkill": 1000}


def sqlite_urls(base: Path) -> Callable[[], str]:
    def fresh() -> str:
        return f"sqlite:///{base / (uuid.uuid4().hex[:8] + '.db')}"
    return fresh


def pg_urls(dsn: str, schemas: ExitStack) -> Callable[[], str]:
    """Fresh schemas, each dropped when ``schemas`` closes."""
    def fresh() -> str:
        return schemas.enter_context(fresh_schema(dsn, "rulekit_bench"))
    return fresh


def run(kind: str, fresh: Callable[[], str], sizes: dict[str, Any], base: Path) -> bool:
    rules = write_rules(base / "rules")
    ring = write_rr_rules(base / "rr")
    races: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("broadcast", lambda: race_broadcast(fresh(), rules, *sizes["broadcast"])),
        ("duplicates", lambda: race_duplicates(fresh(), rules, *sizes["duplicates"])),
        ("round_robin", lambda: race_round_robin(fresh(), ring, *sizes["round_robin"])),
        ("sigkill", lambda: race_sigkill(fresh(), rules, sizes["sigkill"], lease=2.0,
                                         poll=0.5, delay=0.002 if sizes is FULL else 0.05)),
    ]
    ok = True
    for name, race in races:
        try:
            figures = race()
        except AssertionError as exc:
            print(json.dumps({"store": kind, "race": name, "FAILED": str(exc)[:500]}))
            ok = False
            continue
        print(json.dumps({"store": kind, **figures}), flush=True)
    return ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true", help="the full sizes (minutes)")
    p.add_argument("--only", choices=("sqlite", "postgres"))
    p.add_argument("--pg", default=PG, help=f"PostgreSQL URL (default {PG})")
    args = p.parse_args()
    sizes = FULL if args.full else CI
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if args.only in (None, "sqlite"):
            ok &= run("sqlite", sqlite_urls(base), sizes, base / "s")
        if args.only in (None, "postgres"):
            with ExitStack() as schemas:
                ok &= run("postgres", pg_urls(args.pg, schemas), sizes, base / "p")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
