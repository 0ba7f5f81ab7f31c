"""``rulekit token create|revoke|list --db URL``: the bearer tokens of a store's service.

``create`` prints the new token alone on standard output, one line — the only time it is
shown: the store keeps a hash of its secret, never the secret — and on standard error a line
naming its id and role.  With an active world in the store, an ``--agent`` that is not one of
its agents is refused.  ``revoke TOKEN_ID`` revokes a token at once.  Both are recorded in the
audit history (``--by``, default: the OS user), create or upgrade the store's schema, and
refuse a SQLite file that does not exist (most likely a typo in ``--db``; create it with
``rulekit migrate``).  ``list`` shows every token (ids, roles, never a secret or a hash) and
changes nothing: on an empty or older database it says to run ``rulekit migrate``.

Exit codes: 0 done, 1 the store cannot be opened, an unknown agent, an unknown or already
revoked token, 2 usage error (an unknown role, an agent or sources that do not fit the role).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from rulekit.access import ROLES, check_fields, create_token, revoke
from rulekit.cli.columns import align
from rulekit.cli.load import current_user
from rulekit.cli.zones import store_zone
from rulekit.leadsearch import reading_store
from rulekit.storage.base import Access, StoredToken
from rulekit.storage.catalog import active_world
from rulekit.storage.redact import redact_url
from rulekit.storage.url import StoreOpenError, missing_sqlite_file, open_store_or_explain
from rulekit.suggest import did_you_mean
from rulekit.trace import local_time

PROG = "rulekit token"
COLUMNS = ("id", "role", "agent", "sources", "label", "created", "by", "revoked")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Create, revoke and list the bearer tokens of a store (--db URL). A new "
        "token is shown once; the store keeps only a hash of its secret.")
    actions = p.add_subparsers(dest="action", required=True, metavar="{create,revoke,list}")
    create = actions.add_parser(
        "create", help="make a token and print it, once (--db URL --role ROLE)",
        description="Make a token, store the hash of its secret and print the token, once.")
    create.add_argument("--db", required=True, metavar="URL", help="the store URL")
    create.add_argument("--role", required=True, metavar="ROLE",
                        help=f"what the token may do: {', '.join(ROLES)}")
    create.add_argument("--agent", metavar="ID",
                        help="the agent a token of role agent acts as (required for it)")
    create.add_argument("--sources", metavar="A,B,…",
                        help="the lead sources a token of role integrator may submit leads "
                        "for, separated by commas (required for it)")
    create.add_argument("--label", default="", metavar="TEXT",
                        help="what the token is for, e.g. the system that uses it")
    create.add_argument("--by", metavar="NAME",
                        help="who creates it, for the audit history (default: the OS user)")
    rev = actions.add_parser("revoke", help="revoke a token at once (--db URL TOKEN_ID)",
                             description="Revoke a token: it is refused from now on.")
    rev.add_argument("token_id", metavar="TOKEN_ID", help="the token's id (12 hex digits)")
    rev.add_argument("--db", required=True, metavar="URL", help="the store URL")
    rev.add_argument("--by", metavar="NAME",
                     help="who revokes it, for the audit history (default: the OS user)")
    listing = actions.add_parser("list", help="list the tokens, never their secrets "
                                 "(--db URL)", description="List every token of a store.")
    listing.add_argument("--db", required=True, metavar="URL", help="the store URL")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


@contextmanager
def _writing_store(url: str) -> Iterator[object]:
    """The store, schema created or upgraded, closed afterwards; :class:`StoreOpenError` for
    a SQLite file that does not exist (no file is created) or a store that cannot be opened."""
    missing = missing_sqlite_file(url)
    if missing is not None:
        db = redact_url(url)
        raise StoreOpenError(f"cannot open {db}: no database at {missing}; create it with "
                             f"`rulekit migrate --db {db}`")
    store = open_store_or_explain(url)
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


def _access(store: object, url: str) -> Access:
    if not all(hasattr(store, name) for name in ("put_token", "token", "tokens",
                                                 "revoke_token")):
        raise StoreOpenError(f"{redact_url(url)} cannot keep tokens")
    return cast(Access, store)


def _sources(text: str | None) -> tuple[str, ...]:
    return () if text is None else tuple(s.strip() for s in text.split(",") if s.strip())


def _create(args: argparse.Namespace) -> int:
    sources = _sources(args.sources)
    if args.sources is not None and not sources:
        _say("--sources names no lead source: give them separated by commas, e.g. "
             "--sources remax.com,zillow.com")
        return 2
    try:  # usage errors before the store is opened
        check_fields(args.role, args.agent, sources)
    except ValueError as exc:
        _say(str(exc))
        return 2
    by = args.by or current_user()
    with _writing_store(args.db) as opened:
        store = _access(opened, args.db)
        if args.agent is not None:
            world = active_world(opened)
            if world is None:
                _say(f"note: the store has no active world, so agent '{args.agent}' is not "
                     "checked")
            elif args.agent not in world.agents:
                hint = did_you_mean(args.agent, world.agents)
                _say(f"no agent '{args.agent}' in the store's active world ({world.name})"
                     + (f": {hint}" if hint else "") + "; no token was made")
                return 1
        token, text = create_token(store, args.role, agent=args.agent, sources=sources,
                                   label=args.label, by=by, now=datetime.now(UTC))
    print(text)
    what = f"role {token.role}" + (f", agent {token.agent}" if token.agent else "") + (
        f", sources {', '.join(token.sources)}" if token.sources else "")
    _say(f"created token {token.token_id} ({what}); the token above is shown only once: "
         "keep it now, the store cannot show it again")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with _writing_store(args.db) as opened:
        store = _access(opened, args.db)
        if revoke(store, args.token_id, args.by or current_user(), datetime.now(UTC)):
            print(f"token {args.token_id} revoked")
            return 0
        found = store.token(args.token_id)
    if found is None:
        _say(f"no token '{args.token_id}' in {redact_url(args.db)} (see `rulekit token list "
             f"--db {redact_url(args.db)}`)")
    else:
        revoked_at = found[0].revoked_at
        when = f" at {revoked_at.isoformat()}" if revoked_at is not None else ""
        _say(f"token '{args.token_id}' was revoked already{when}")
    return 1


def token_json(token: StoredToken) -> dict[str, Any]:
    """A token as ``rulekit token list --json`` shows it: never its secret or hash."""
    return {"id": token.token_id, "role": token.role, "agent": token.agent,
            "sources": list(token.sources), "label": token.label,
            "created": token.created_at.isoformat(), "created_by": token.created_by,
            "revoked": token.revoked_at.isoformat() if token.revoked_at else None}


def _list(args: argparse.Namespace) -> int:
    with reading_store(args.db) as opened:
        tokens = _access(opened, args.db).tokens()
        zone = store_zone(opened) if tokens and not args.json else UTC
    if args.json:
        print(json.dumps([token_json(t) for t in tokens], indent=2, ensure_ascii=False))
        return 0
    if not tokens:
        print("No tokens.")
        return 0
    body = [(t.token_id, t.role, t.agent or "", ",".join(t.sources), t.label,
             local_time(t.created_at, zone), t.created_by,
             local_time(t.revoked_at, zone) if t.revoked_at else "") for t in tokens]
    print("\n".join(align(COLUMNS, body, right=len(COLUMNS))))
    active = sum(1 for t in tokens if t.revoked_at is None)
    print(f"\n{len(tokens)} token{'s' if len(tokens) != 1 else ''}, {active} active")
    return 0


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    run = {"create": _create, "revoke": _revoke, "list": _list}[args.action]
    try:
        return run(args)
    except StoreOpenError as exc:
        _say(str(exc))
        return 1
