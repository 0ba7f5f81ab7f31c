"""``rulekit retry LEAD_ID --db URL --by NAME``: route a parked lead again.

A lead is parked (status ``parked``, queue ``errors``) when routing it failed: an expression
that could not be evaluated on it, a deadline no calendar could give, or an event that kept
failing.  After fixing the rule files or the world (and ``rulekit load``-ing them), retry it:
it is routed again from the start of its policy with the store's active rule set, and the
retry is recorded in the audit history and in its explanation.  A lead still in the inbox
(received, its first decision not yet committed) is decided at once.  Retrying writes
decisions but never creates or upgrades the store's schema: on an empty or older database it
says to run ``rulekit migrate``.

Exit codes: 0 retried, 1 unknown lead, a lead that is not parked or failed again, a store
without active rules or without the current schema, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rulekit.engine import UnknownLead
from rulekit.leadsearch import StoreOpenError, reading_store
from rulekit.pipeline import PARKED
from rulekit.trace import render_history
from rulekit.worker import NothingLoaded, Worker
from rulekit.world import brokerage_zone


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="rulekit retry",
        description="Route parked leads again with the store's active rule set and world "
        "(after fixing what made them fail); each retry is audited.")
    p.add_argument("leads", metavar="LEAD_ID", nargs="+", help="the parked leads' ids")
    p.add_argument("--db", required=True, metavar="URL", help="the store URL")
    p.add_argument("--by", required=True, metavar="NAME",
                   help="who retries (kept in the audit history)")
    p.add_argument("--reason", default=None, help="why (kept in the audit history)")
    args = p.parse_args(argv)
    failed = 0
    try:
        with reading_store(args.db) as store:
            worker = Worker(store, name=f"retry:{args.by}")
            try:
                worker.refresh()
            except NothingLoaded as exc:
                print(f"rulekit retry: {exc}", file=sys.stderr)
                return 1
            engine = worker.engine
            assert engine is not None
            for lead_id in args.leads:
                state = store.get_state(lead_id)
                if state is not None and state.status != PARKED:
                    print(f"rulekit retry: lead '{lead_id}' is {state.status}, not parked; "
                          "left as it is", file=sys.stderr)
                    failed += 1
                    continue
                try:
                    decision = engine.retry(lead_id, args.by, args.reason)
                except UnknownLead:
                    print(f"rulekit retry: no lead '{lead_id}' in the store",
                          file=sys.stderr)
                    failed += 1
                    continue
                print(f"{lead_id}: {decision.state.status}")
                print(render_history([decision.trace],
                                     brokerage_zone(engine.world, engine.ruleset)))
                if decision.state.status == PARKED:
                    print(f"rulekit retry: lead '{lead_id}' failed again and is still parked",
                          file=sys.stderr)
                    failed += 1
    except StoreOpenError as exc:
        print(f"rulekit retry: {exc}", file=sys.stderr)
        return 1
    return 1 if failed else 0
