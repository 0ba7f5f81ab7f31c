"""``rulekit explain LEAD_ID --db URL``: why a stored lead went where it went.

Times are shown in the brokerage's zone (that of the store's active world, see
:func:`~rulekit.cli.zones.store_zone`) or in ``--tz ZONE``; the JSON form keeps ISO 8601
instants with offsets.

``--agent ID`` answers "why not me?" for one agent instead (:mod:`rulekit.whynot`): where
that agent dropped out of the lead's routing — not in the pool and which filter left them out,
paused, already offered, lost the turn or the draw, beaten to the offer — or that they got it.

Exit codes: 0 explained, 1 unknown lead or agent (or the store cannot be opened), 2 usage
error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, tzinfo

from rulekit.changes import changes_json, lead_changes, render_changes
from rulekit.cli.zones import chosen_zone, store_zone
from rulekit.leadsearch import StoreOpenError, reading_store
from rulekit.storage.redact import redact_url
from rulekit.trace import render_history
from rulekit.whynot import UnknownAgent, explain_agent

TZ_HELP = ("time zone of the times shown, e.g. America/Chicago or UTC (default: the "
           "brokerage's, from the store's active world; UTC for a store without one)")


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="rulekit explain",
        description="Print every decision recorded for a lead, in order, in plain English "
        "(or as JSON): the policy, the rules and their conditions with the field values "
        "read, pools and exclusions, picks and seeds, offers and deadlines, timers and "
        "notifications.")
    p.add_argument("lead", metavar="LEAD_ID", help="the lead's id")
    p.add_argument("--db", required=True, metavar="URL",
                   help="the store: sqlite:///path.db, postgresql://…, memory://")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--tz", metavar="ZONE", help=TZ_HELP)
    p.add_argument("--agent", metavar="ID",
                   help="say for this agent where they dropped out of the lead's routing "
                   "(why they did not get it), or that they got it")
    args = p.parse_args(argv)
    chosen = chosen_zone("rulekit explain", args.tz)
    try:
        with reading_store(args.db) as store:
            lead = store.get_lead(args.lead)
            if lead is None:
                db = redact_url(args.db)
                print(f"rulekit explain: no lead '{args.lead}' in {db} (list the leads "
                      f"with: rulekit leads --db {db})", file=sys.stderr)
                return 1
            if args.agent is not None:
                return _why_not(store, args.lead, args.agent, args.format, chosen)
            traces = store.traces(args.lead)
            state = store.get_state(args.lead)
            zone = chosen or (store_zone(store) if args.format == "text" else UTC)
            changes = lead_changes(store, args.lead, traces)
    except StoreOpenError as exc:
        print(f"rulekit explain: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps({"lead": lead.model_dump(mode="json"),
                          "state": state.to_dict() if state is not None else None,
                          "decisions": [t.to_json() for t in traces],
                          "changes": changes_json(changes)},
                         indent=2, ensure_ascii=False, default=str))
        return 0
    if state is None:
        print(f"Lead {args.lead} was received and is kept in the inbox: its first decision "
              "could not be committed yet, and a worker ('rulekit worker') will decide it.")
        return 0
    print(render_history(traces, zone))
    if changes:
        print()
        print(render_changes(changes, zone))
    return 0


def _why_not(store: object, lead_id: str, agent_id: str, form: str,
             chosen: tzinfo | None) -> int:
    """``--agent``: the answer for one agent, as text or JSON."""
    try:
        answer = explain_agent(store, lead_id, agent_id)
    except UnknownAgent as exc:
        print(f"rulekit explain: {exc}", file=sys.stderr)
        return 1
    if form == "json":
        print(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    else:
        print(answer.render(chosen or store_zone(store)))
    return 0
