"""``rulekit report response-times|distribution --db URL``: accountability reports.

Exit codes: 0 report printed, 1 the store cannot be opened, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence

from rulekit.leadsearch import StoreOpenError, reading_store
from rulekit.reports import (
    Distribution,
    ResponseTimes,
    distribution,
    duration_text,
    response_times,
)
from rulekit.storage.catalog import active_world


def _align(header: Sequence[str], rows: Sequence[Sequence[str]], right: int = 1) -> list[str]:
    """Aligned columns: the first ``right`` columns left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < right else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), *(line(r) for r in rows)]


def agent_names(store: object) -> dict[str, str]:
    """Agent id → name, from the store's active world (none when it has no catalog)."""
    world = active_world(store)
    return {} if world is None else {i: a.name or i for i, a in world.agents.items()}


def render_response_times(report: ResponseTimes, names: Mapping[str, str] | None = None) -> str:
    named = names or {}
    if not report.agents:
        return "No offers or assignments in this store."
    header = ("agent", "offers", "answered", "accepted", "declined", "late", "unanswered",
              "missed", "open", "direct", "median", "p90", "worst")
    rows = [(named.get(a.agent, a.agent), *map(str, (
                a.offers, a.answered, a.accepted, a.declined, a.late, a.unanswered, a.missed,
                a.open, a.direct)),
             duration_text(a.median), duration_text(a.p90), duration_text(a.worst))
            for a in report.agents]
    lines = ["Response times: from each offer to the agent's answer (wall-clock time)", "",
             *_align(header, rows), "",
             "answered = accepted + declined + late (accepted after the deadline or after "
             "another agent); unanswered = expired or withdrawn without an answer; missed = a "
             "broadcast another agent claimed first; direct = assigned with no offer."]
    slowest = report.slowest
    if slowest is not None:
        who = named.get(slowest.agent, slowest.agent)
        lines += ["", f"Slowest agent: {who} (median {duration_text(slowest.median)}"
                  f", 90th percentile {duration_text(slowest.p90)}, worst "
                  f"{duration_text(slowest.worst)}, {slowest.unanswered} unanswered)"]
    else:
        lines += ["", "Slowest agent: nobody has answered an offer yet."]
    return "\n".join(lines)


def render_distribution(report: Distribution, names: Mapping[str, str] | None = None) -> str:
    named = names or {}
    lines = [f"Distribution of {report.leads} lead{'s' if report.leads != 1 else ''}", ""]
    lines.append("Leads per agent (assignments):")
    if report.agents:
        lines += ["  " + x for x in _align(("agent", "leads"),
                                           [(named.get(a, a), str(n))
                                            for a, n in report.agents.items()])]
    else:
        lines.append("  none")
    lines += ["", "Leads per queue:"]
    if report.queues:
        lines += ["  " + x for x in _align(("queue", "leads"),
                                           [(q, str(n)) for q, n in report.queues.items()])]
    else:
        lines.append("  none")
    for group in report.groups:
        title = {"round_robin": "Round robin", "weighted": "Weighted picks",
                 "random": "Random picks"}.get(group.strategy, group.strategy)
        rotation = (f" (rotation {group.rotation})"
                    if group.rotation and group.rotation != group.pool else "")
        lines += ["", f"{title} from pool '{group.pool}'{rotation}: {group.picks} picks for "
                  f"{len(group.leads)} leads; promise: {group.promise}"]
        shares = sorted(group.shares.values(), key=lambda s: (-s.picks, s.name))
        if group.strategy == "weighted":
            rows = []
            for s in shares:
                weight = (f"{next(iter(s.weights)):g}" if len(s.weights) == 1
                          else "varies" if s.weights else "—")
                expected = s.expected or 0.0
                rows.append((s.name, weight, str(s.picks),
                             f"{s.picks / group.picks:.1%}" if group.picks else "—",
                             f"{expected / group.picks:.1%}" if group.picks else "—",
                             f"{expected:.1f}"))
            lines += ["  " + x for x in _align(
                ("option", "weight", "picks", "share", "expected share", "expected picks"),
                rows)]
        else:
            lines += ["  " + x for x in _align(("agent", "picks"),
                                               [(named.get(s.name, s.name), str(s.picks))
                                                for s in shares])]
            if group.strategy == "round_robin":
                verdict = "even" if group.spread <= 1 else "UNEVEN"
                lines.append(f"  spread (max − min): {group.spread} — {verdict} among the "
                             f"{len(shares)} agents picked")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="rulekit report",
        description="Accountability reports over a store: response-times (per agent, from "
        "each offer to the answer) or distribution (leads per agent, pool and queue against "
        "what each strategy promises).")
    p.add_argument("report", choices=("response-times", "distribution"))
    p.add_argument("--db", required=True, metavar="URL",
                   help="the store: sqlite:///path.db, postgresql://…, memory://")
    p.add_argument("--format", choices=("table", "json"), default="table")
    args = p.parse_args(argv)
    try:
        with reading_store(args.db) as store:
            if args.report == "response-times":
                times = response_times(store)
                out = (json.dumps(times.to_json(), indent=2) if args.format == "json"
                       else render_response_times(times, agent_names(store)))
            else:
                shares = distribution(store)
                out = (json.dumps(shares.to_json(), indent=2) if args.format == "json"
                       else render_distribution(shares, agent_names(store)))
    except StoreOpenError as exc:
        print(f"rulekit report: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0
