"""Benchmark: a compiled DSL condition against a hand-written lambda on the same leads.

    python bench/dsl_eval.py [--n 100000] [--repeat 7]

Prints both rates (evaluations per second) and the ratio DSL/native (target >= 0.8).  Exits 1
if the two disagree on any lead.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rulekit.dsl import BOOLEAN, compile_expression
from rulekit.errors import SourceLocation
from rulekit.model import Lead

CONDITION = (
    'lead.source in ["remax.com","spaw","homes.com"] and lead.property.brand == "RE/MAX" '
    'and lead.property.status == "active" and lead.property.price >= 250000 '
    'and lead.inquiry_type != "general"'
)
SOURCES = ["remax.com", "spaw", "homes.com", "zillow.com", "realtor.com"]
BRANDS = ["RE/MAX", "RE/MAX", "Keller Williams", None]
STATUSES = ["active", "active", "pending", "sold", None]
INQUIRIES = ["general", "Schedule Showing", "Request Info", "Make Offer"]
SOURCES_SET = frozenset({"remax.com", "spaw", "homes.com"})


def make_leads(n: int, seed: int = 20261124) -> list[Lead]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    leads = []
    for i in range(n):
        price = None if rng.random() < 0.2 else float(rng.randrange(50_000, 900_000, 1000))
        leads.append(
            Lead(
                id=f"lead-{i}",
                received_at=start + timedelta(minutes=i),
                source=rng.choice(SOURCES),
                inquiry_type=rng.choice(INQUIRIES),
                property={
                    "brand": rng.choice(BRANDS),
                    "status": rng.choice(STATUSES),
                    "price": price,
                },
            )
        )
    return leads


def native(lead: Lead) -> bool:
    prop = lead.property
    price = prop.price
    return (
        lead.source in SOURCES_SET
        and prop.brand == "RE/MAX"
        and prop.status == "active"
        and price is not None
        and price >= 250000
        and lead.inquiry_type != "general"
    )


def best_rate(fn: Callable[[Any], object], leads: list[Lead], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for lead in leads:
            fn(lead)
        best = min(best, time.perf_counter() - t0)
    return len(leads) / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    expr = compile_expression(
        CONDITION,
        "condition",
        expected=BOOLEAN,
        locate=lambda line, col: SourceLocation("bench", line, col),
    )
    leads = make_leads(args.n)
    dsl = expr.function  # the generated function, as the engine calls it in hot loops

    dsl_results = [dsl(lead) for lead in leads]
    native_results = [native(lead) for lead in leads]
    if dsl_results != native_results:
        wrong = sum(a != b for a, b in zip(dsl_results, native_results, strict=True))
        print(f"MISMATCH: {wrong} of {len(leads)} results differ", file=sys.stderr)
        return 1

    dsl_rate = best_rate(dsl, leads, args.repeat)
    native_rate = best_rate(native, leads, args.repeat)
    matches = sum(dsl_results)
    print(f"leads:        {len(leads)} ({matches} match)")
    print(f"dsl:          {dsl_rate:,.0f} evaluations/s")
    print(f"native:       {native_rate:,.0f} evaluations/s")
    print(f"ratio:        {dsl_rate / native_rate:.2f} (target >= 0.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
