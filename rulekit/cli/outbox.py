"""``rulekit outbox --db URL [--status S] [--lead ID]`` and ``rulekit outbox retry ID… --db URL``:
the deliveries of the notifications, and sending a dead one again.

Each notification becomes one delivery per recipient and channel (see
:mod:`rulekit.notify.dispatch`).  The listing shows, per delivery, its id, status (``pending``,
``sent`` or ``dead``), attempts, when it is due (pending) or was sent, the channel and address,
the lead and the message id receivers de-duplicate by, and the last error.  Messages the
delivery loop has not planned yet are counted on the first line.  ``retry`` makes dead
deliveries pending again (due now, attempts reset) for the next round of a worker or server.

Exit codes: 0 done, 1 unknown or sent delivery (retry) or the store cannot be opened, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rulekit.leadsearch import StoreOpenError, reading_store
from rulekit.storage.base import DEAD, PENDING, SENT, Delivery


def _row(d: Delivery) -> str:
    when = (d.sent_at if d.status == SENT else d.due)
    stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if when else ""
    error = f"  {d.last_error}" if d.last_error else ""
    target = d.address or "(log)"
    return (f"{d.delivery_id:>6}  {d.status:<7} {d.attempts:>2}  {stamp}  {d.channel:<7} "
            f"{d.role:<2} {target:<32} {d.lead_id:<16} {d.message_id}{error}")


def _list(args: argparse.Namespace) -> int:
    with reading_store(args.db) as opened:
        store: Any = opened
        found = store.deliveries(args.status)
        unplanned = len(store.outbox(unsent_only=True))
    if args.lead:
        found = [d for d in found if d.lead_id == args.lead]
    if args.format == "json":
        print(json.dumps({"unplanned": unplanned, "deliveries": [
            {"id": d.delivery_id, "status": d.status, "attempts": d.attempts,
             "due": d.due.isoformat(), "sent_at": d.sent_at.isoformat() if d.sent_at else None,
             "channel": d.channel, "role": d.role, "recipient": d.recipient,
             "address": d.address, "lead": d.lead_id, "message_id": d.message_id,
             "last_error": d.last_error} for d in found]}, indent=2))
        return 0
    counts = {s: sum(1 for d in found if d.status == s) for s in (PENDING, SENT, DEAD)}
    print(f"{len(found)} deliveries: {counts[PENDING]} pending, {counts[SENT]} sent, "
          f"{counts[DEAD]} dead; {unplanned} messages not planned yet")
    for delivery in found:
        print(_row(delivery))
    return 0


def _retry(args: argparse.Namespace) -> int:
    failed = 0
    with reading_store(args.db) as opened:
        store: Any = opened
        for delivery_id in args.ids:
            if store.requeue_delivery(delivery_id, datetime.now(UTC)):
                print(f"{delivery_id}: pending, due now")
            else:
                print(f"rulekit outbox retry: no delivery {delivery_id} that is not sent",
                      file=sys.stderr)
                failed += 1
    return 1 if failed else 0


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["retry"]:
        p = argparse.ArgumentParser(prog="rulekit outbox retry",
                                    description="Make dead deliveries pending again.")
        p.add_argument("ids", metavar="ID", type=int, nargs="+", help="delivery ids")
        p.add_argument("--db", required=True, metavar="URL", help="the store URL")
        action = _retry
        argv = argv[1:]
    else:
        p = argparse.ArgumentParser(
            prog="rulekit outbox",
            description="List the deliveries of the notifications (rulekit outbox retry ID… "
            "sends dead ones again).")
        p.add_argument("--db", required=True, metavar="URL", help="the store URL")
        p.add_argument("--status", choices=(PENDING, SENT, DEAD), help="only this status")
        p.add_argument("--lead", metavar="ID", help="only this lead's deliveries")
        p.add_argument("--format", choices=("text", "json"), default="text")
        action = _list
    args = p.parse_args(argv)
    try:
        return action(args)
    except StoreOpenError as exc:
        print(f"rulekit outbox: {exc}", file=sys.stderr)
        return 1
