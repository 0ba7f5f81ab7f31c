"""``rulekit leads --db URL [filters]``: search and filter the leads of a store.

``--tz`` (default: the brokerage's zone, from the store's active world) is the zone of dates
without an offset, of weeks and of the table's times; the JSON form keeps ISO 8601 instants.

Exit codes: 0 leads listed (possibly none), 1 the store cannot be opened, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from rulekit.cli.columns import align
from rulekit.cli.zones import chosen_zone, store_zone
from rulekit.leadsearch import (
    LeadFilter,
    LeadRow,
    StoreOpenError,
    check_values,
    parse_age,
    parse_instant,
    reading_store,
    search,
    waiting_for,
    week_start,
)
from rulekit.trace import local_time

#: (option, LeadFilter field, help) of the filters that take text values (repeat to OR them).
TEXT_FILTERS = (
    ("--source", "sources", "lead source, e.g. remax.com"),
    ("--channel", "channels", "channel within the source, e.g. agent-site"),
    ("--entry", "entries", "how the lead was created: web, manual or import"),
    ("--inquiry-type", "inquiry_types", 'inquiry type, e.g. "Request A Showing"'),
    ("--activity", "activities", "active (a request) or passive (account activity)"),
    ("--status", "statuses",
     "routing status: routing, waiting, assigned, queued, dropped, unrouted, parked, kept"),
    ("--assignee", "assignees", "agent id the lead is assigned to"),
    ("--queue", "queues", "queue the lead waits in"),
    ("--contact-status", "contact_statuses",
     "contact status: agent_database, assigned, closed, pending, shared"),
    ("--lead-status", "lead_statuses", "contact's lead status: active or inactive"),
    ("--contact-type", "contact_types", "contact type: Buyer, Seller, Buyer-Seller, …"),
    ("--contact-source", "contact_sources", "contact source: Broker, Agent, Realtor.com"),
    ("--business-source", "business_sources", "business source: Open House, Referral, …"),
    ("--priority", "priorities", "contact priority: hot, warm, cold, dead"),
    ("--time-frame", "time_frames", 'contact time frame, e.g. "3-6 months"'),
    ("--owner", "owners", "agent id owning the contact (any scope)"),
)

COLUMNS = ("id", "received", "source", "inquiry", "activity", "status", "assignee/queue",
           "contact")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rulekit leads",
        description="List the leads of a store that match every filter given. A lead is one "
        "consumer action. Filters on different fields combine with AND; repeating a filter "
        "ORs its values. Text matches ignore case.")
    p.add_argument("--db", required=True, metavar="URL",
                   help="the store: sqlite:///path.db, postgresql://…, memory://")
    for option, dest, text in TEXT_FILTERS:
        p.add_argument(option, dest=dest, action="append", default=[], metavar="VALUE",
                       help=text)
    p.add_argument("--min-interest", type=int, metavar="N", choices=range(6),
                   help="contact interest level of at least N stars (0-5)")
    p.add_argument("--since", metavar="ISO", help="received at or after this date or instant")
    p.add_argument("--until", metavar="ISO", help="received before this date or instant")
    p.add_argument("--active-this-week", action="store_true",
                   help="received since Monday 00:00 (in --tz) of the week of --now")
    p.add_argument("--active-since", metavar="AGE",
                   help="received within AGE before --now: 30m, 12h, 7d, 2w")
    p.add_argument("--now", metavar="ISO", help="the current instant (default: the real clock)")
    p.add_argument("--tz", metavar="ZONE",
                   help="time zone for dates without an offset, weeks and the table's times, "
                   "e.g. America/Chicago or UTC (default: the brokerage's, from the store's "
                   "active world; UTC for a store without one)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--limit", type=int, metavar="N", help="show at most N leads")
    return p


def build_filter(args: argparse.Namespace, tz: tzinfo, now: datetime) -> LeadFilter:
    """The :class:`LeadFilter` of parsed arguments (``ValueError`` on a bad date or age, or
    on a value that a field with a fixed set of values cannot have)."""
    values = {dest: tuple(getattr(args, dest)) for _, dest, _ in TEXT_FILTERS}
    for option, dest, _ in TEXT_FILTERS:
        try:
            check_values(dest, values[dest])
        except ValueError as exc:
            raise ValueError(f"{option} {exc}") from None
    bounds = [parse_instant(args.since, tz)] if args.since else []
    if args.active_this_week:
        bounds.append(week_start(now, tz))
    if args.active_since:
        bounds.append(now - parse_age(args.active_since))
    return LeadFilter(**values, min_interest=args.min_interest,
                      since=max(bounds) if bounds else None,
                      until=parse_instant(args.until, tz) if args.until else None)


def table(rows: Sequence[LeadRow], tz: tzinfo) -> str:
    """Aligned columns, one lead a line."""
    body = []
    for row in rows:
        lead = row.lead
        where = row.assignee or (f"queue {row.queue}" if row.queue else "")
        if row.state is not None and row.state.pending is not None:
            where = waiting_for(row.state.pending, lambda at: local_time(at, tz)) or where
        body.append((lead.id, local_time(lead.received_at, tz),
                     lead.source, lead.inquiry_type, str(lead.activity), row.status, where,
                     lead.contact.email or lead.contact.phone or ""))
    return "\n".join(align(COLUMNS, body, right=len(COLUMNS)))


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    chosen = chosen_zone("rulekit leads", args.tz)
    for option in ("since", "until", "now"):
        text = getattr(args, option)
        try:
            if text is not None:
                parse_instant(text, UTC)
        except ValueError:
            print(f"rulekit leads: --{option} {text!r} is not an ISO 8601 date or date-time "
                  "(2026-12-01, 2026-12-01T10:00, 2026-12-01T10:00-05:00; without an offset "
                  "it is read in --tz)", file=sys.stderr)
            return 2
    try:  # usage errors before the store is opened (the zone does not change them)
        build_filter(args, chosen or UTC, datetime.now(UTC))
        if args.now:
            parse_instant(args.now, UTC)
    except ValueError as exc:
        print(f"rulekit leads: {exc}", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 0:
        print("rulekit leads: --limit must be 0 or more", file=sys.stderr)
        return 2
    try:
        with reading_store(args.db) as store:
            tz = chosen or store_zone(store)
            now = parse_instant(args.now, tz) if args.now else datetime.now(UTC)
            found = search(store, build_filter(args, tz, now), args.limit)
    except StoreOpenError as exc:
        print(f"rulekit leads: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps([row.to_json() for row in found], indent=2, ensure_ascii=False))
        return 0
    if not found:
        print("No lead matches.")
        return 0
    print(table(found, tz))
    print(f"\n{len(found)} lead{'s' if len(found) != 1 else ''}"
          + (f" (limited to {args.limit})" if args.limit is not None
             and len(found) == args.limit else ""))
    return 0
