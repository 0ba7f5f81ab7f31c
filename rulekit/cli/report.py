"""``rulekit report response-times|distribution --db URL``: accountability reports.

Exit codes: 0 report printed, 1 the store cannot be opened, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence

from rulekit.cli.columns import align as _align
from rulekit.cli.fairness_text import render_distribution, render_ledger
from rulekit.cli.first_contact_text import as_of, render_first_contacts, target_duration
from rulekit.fairness import distribution
from rulekit.first_contact import first_contacts
from rulekit.leadsearch import StoreOpenError, reading_store
from rulekit.ledger import ledger
from rulekit.reports import ResponseTimes, duration_text, response_times
from rulekit.storage.catalog import agent_names


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
    silent = report.silent
    lines.append("Never answered an offer: " + (", ".join(
        f"{named.get(a.agent, a.agent)} ({a.offers} offer{'s' if a.offers != 1 else ''}, "
        f"{a.unanswered} unanswered, {a.missed} missed)" for a in silent) or "nobody"))
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="rulekit report",
        description="Accountability reports over a store: response-times (per agent, from "
        "each offer to the answer) or distribution (leads per agent, pool and queue against "
        "what each strategy promises).")
    p.add_argument("report", choices=("response-times", "distribution", "ledger"))
    p.add_argument("--db", required=True, metavar="URL",
                   help="the store: sqlite:///path.db, postgresql://…, memory://")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--json", dest="format", action="store_const", const="json",
                   help="the same as --format json")
    p.add_argument("--target", type=target_duration, metavar="DURATION",
                   help="response-times: the first-contact target, like 30m, 2h, 45s or "
                   "1h30m; names the agents over it (default: no target)")
    p.add_argument("--now", type=as_of, metavar="ISO",
                   help="response-times: the instant open leads are judged at (default: the "
                   "real clock)")
    p.add_argument("--pool", metavar="NAME",
                   help="ledger: only the turns of this pool (default: every pool)")
    args = p.parse_args(argv)
    try:
        with reading_store(args.db) as store:
            if args.report == "response-times":
                times = response_times(store)
                contacts = first_contacts(store, args.target, args.now)
                out = (json.dumps({**times.to_json(), "first_contact": contacts.to_json()},
                                  indent=2) if args.format == "json"
                       else render_response_times(times, agent_names(store)) + "\n\n"
                       + render_first_contacts(contacts, agent_names(store)))
            elif args.report == "ledger":
                turns = [t for t in ledger(store) if args.pool in (None, t.pool)]
                out = (json.dumps([t.to_json() for t in turns], indent=2)
                       if args.format == "json"
                       else render_ledger(turns, agent_names(store), args.pool))
            else:
                shares = distribution(store)
                out = (json.dumps(shares.to_json(), indent=2) if args.format == "json"
                       else render_distribution(shares, agent_names(store)))
    except StoreOpenError as exc:
        print(f"rulekit report: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0
