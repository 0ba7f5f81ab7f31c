"""``rulekit contacts show|share|unshare|transfer|delete-record|status CONTACT --db URL``: a
contact's status, owner and shared agents, and the lifecycle actions on it.

``CONTACT`` is a contact key (``email:…``, ``phone:…``), an email address, or the id of a
stored lead (its consumer).  Each action needs ``--by NAME`` (who, kept in the audit history
with ``--reason`` and the before → after of the contact) and is shown in ``rulekit explain``
of the consumer's leads.  Agents are checked against the store's active world, when it has
one.  See :mod:`rulekit.lifecycle` for what each action does and which transitions it refuses.
Actions go through the engine of the store's active rule set and world, so one that resolves
an ownership conflict routes the waiting lead to the agent who entered it (a line per lead).

Exit codes: 0 done, 1 unknown contact, a refused action, or a store that cannot be opened,
2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from rulekit.engine import Engine
from rulekit.leadsearch import StoreOpenError, reading_store
from rulekit.lifecycle import (
    DELETE,
    SETTABLE,
    SHARE,
    STATUS,
    TRANSFER,
    UNSHARE,
    ContactChange,
    ContactChangeError,
    change_contact,
    contact_view,
)
from rulekit.pipeline.facts import contact_key, contact_key_of_text
from rulekit.storage.base import Store
from rulekit.storage.catalog import CatalogError
from rulekit.worker import NothingLoaded, Worker

PROG = "rulekit contacts"
#: Subcommand → (lifecycle action, the option that names its agent).
ACTIONS = {"share": (SHARE, "agent"), "unshare": (UNSHARE, "agent"),
           "transfer": (TRANSFER, "to"), "delete-record": (DELETE, "agent"),
           "status": (STATUS, None)}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Show a contact, or share it with an agent, stop sharing it, transfer it, "
        "delete an agent's record of it, or mark it pending, closed or assigned again. Every "
        "action is audited; each subcommand takes the store as --db URL.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        one = sub.add_parser(name, help=text, description=text)
        one.add_argument("contact", metavar="CONTACT",
                         help="a contact key (email:…, phone:…), an email, or a lead id")
        one.add_argument("--db", required=True, metavar="URL", help="the store URL")
        return one

    show = command("show", "show a contact: status, owner, owners per scope, shared agents")
    show.add_argument("--json", action="store_true", help="print JSON")
    for name, text, agent_help in (
            ("share", "share the contact with an agent (status shared)", "the agent to share "
             "it with"),
            ("unshare", "stop sharing the contact with an agent", "the agent it is shared "
             "with"),
            ("transfer", "give the contact to another agent (status assigned)", None),
            ("delete-record", "delete an agent's record of the contact (an ownership conflict "
             "is resolved in favour of the agent who entered it)", "whose record"),
            ("status", "mark the contact pending (under contract), closed, or assigned again",
             None)):
        one = command(name, text)
        if name == "transfer":
            one.add_argument("--to", required=True, metavar="AGENT", help="the new owner")
        elif name == "status":
            one.add_argument("status", choices=[s.value for s in SETTABLE],
                             help="the new status")
        else:
            one.add_argument("--agent", required=True, metavar="AGENT", help=agent_help)
        one.add_argument("--by", required=True, metavar="NAME",
                         help="who does it (kept in the audit history)")
        one.add_argument("--reason", default="", help="why (kept in the audit history)")
        one.add_argument("--lead", default=None, metavar="LEAD_ID",
                         help="the lead the action is about (kept in the audit history)")
    return p


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 1


def _resolve(store: Store, text: str) -> tuple[str | None, str | None]:
    """The contact key ``text`` names and the lead id it named (``None`` when it named a key
    or an email)."""
    if ":" not in text and "@" not in text:
        lead = store.get_lead(text)
        if lead is not None:
            return contact_key(lead), lead.id
    return contact_key_of_text(text), None


def _engine(store: Store) -> Engine | None:
    """The engine of the store's active rule set and world (``None``: nothing is loaded, so
    there is no world to check agents against and no rule set to route with)."""
    worker = Worker(store, name="contacts")
    try:
        worker.refresh()
    except (NothingLoaded, CatalogError):
        return None
    return worker.engine


def _change(store: Store, key: str, action: str, *, by: str, reason: str,
            agent: str | None, status: str | None, lead_id: str | None) -> ContactChange:
    """The action through the engine; on a store with nothing loaded, on the store alone
    (no lead can be routed there)."""
    engine = _engine(store)
    if engine is not None:
        return engine.change_contact(key, action, by=by, reason=reason, agent=agent,
                                     status=status, lead_id=lead_id, now=datetime.now(UTC))
    before, after = change_contact(store, key, action, by=by, reason=reason,
                                   at=datetime.now(UTC), agent=agent, status=status,
                                   lead_id=lead_id)
    return ContactChange(before, after)


def _show(view: dict[str, object]) -> str:
    owners = view["owners"]
    lines = [f"Contact {view['key']}" + (f" ({view['name']})" if view["name"] else ""),
             f"  status:      {view['status'] or '(none)'}",
             f"  owner:       {view['owner'] or '(none)'}"]
    if isinstance(owners, dict) and owners:
        lines.append("  owners:      " + ", ".join(f"{s}: {a}" for s, a in owners.items()))
    shared = view["shared_with"]
    lines.append("  shared with: " + (", ".join(map(str, shared))
                                      if isinstance(shared, list) and shared else "(nobody)"))
    lines.append(f"  lead status: {view['lead_status']}")
    if view["entered_by"]:
        lines.append(f"  entered by:  {view['entered_by']}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    try:
        with reading_store(args.db) as store:
            key, lead_id = _resolve(store, args.contact)
            if key is None:
                return _fail(f"CONTACT: {args.contact!r} is no contact key, email, phone "
                             "or stored lead id")
            if args.command == "show":
                contact = store.facts().contact(key)
                if contact is None:
                    return _fail(f"CONTACT: no contact {key!r} in the store")
                view = contact_view(key, contact)
                print(json.dumps(view, indent=2) if args.json else _show(view))
                return 0
            if getattr(store, "change_contact", None) is None:
                return _fail("this store keeps no contact actions")
            action, agent_option = ACTIONS[args.command]
            agent = getattr(args, agent_option) if agent_option else None
            try:
                change = _change(store, key, action, by=args.by, reason=args.reason,
                                 agent=agent, status=getattr(args, "status", None),
                                 lead_id=args.lead or lead_id)
            except ContactChangeError as exc:
                option = {"agent": f"--{agent_option or 'agent'}", "status": "STATUS",
                          "contact": "CONTACT"}.get(exc.field, exc.field)
                return _fail(f"{option}: {exc.message}")
            before, after = change.before, change.after
            was = before.status.value if before is not None and before.status else "(none)"
            now = after.status.value if after.status else "(none)"
            print(f"{key}: {args.command} done; status {was} → {now}")
            print(_show(contact_view(key, after)))
            for lead in change.leads:
                print(f"  conflict resolved, lead {lead.lead_id}: {lead.note}")
            return 0
    except StoreOpenError as exc:
        return _fail(str(exc))
