"""``rulekit load --db URL [--rules DIR] [--world FILE]``: validate, store and activate.

The files are checked as ``rulekit validate`` checks them (exit 1 with the same diagnostics,
nothing stored); then their texts are stored in the database under their versions and made
active, with an entry in the audit history.  Running workers pick the new versions up at
their next poll.  ``--world FILE`` alone publishes a new world for the active rule set.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from rulekit.cli.render import render_text, summary
from rulekit.cli.validate import read_line
from rulekit.errors import Severity
from rulekit.storage.base import RULESET, WORLD
from rulekit.storage.catalog import load_files
from rulekit.storage.url import StoreOpenError, open_store_or_explain


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rulekit load",
        description="Validate rule files and a world file, store them in a database and make "
        "them the active versions (workers follow without restarting).")
    p.add_argument("--db", required=True, metavar="URL", help="the store URL")
    p.add_argument("--rules", metavar="DIR", help="the folder of rule files (one rule set)")
    p.add_argument("--world", metavar="FILE", help="the world file")
    p.add_argument("--by", metavar="NAME", default=None,
                   help="who is loading, for the audit history (default: the OS user)")
    p.add_argument("--max-problems", type=int, default=50, metavar="N",
                   help="show at most N problems (default 50)")
    return p


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if args.rules is None and args.world is None:
        parser().error("give --rules DIR, --world FILE, or both")
    for option, path, folder in (("--rules", args.rules, True), ("--world", args.world, False)):
        # checked before the store is opened: a typo creates no database
        if path is not None and not (Path(path).is_dir() if folder else Path(path).is_file()):
            what = ("no such " + ("folder" if folder else "file") if not Path(path).exists()
                    else "not a folder" if folder else "not a file")
            print(f"rulekit load: {option} {path}: {what}; nothing was stored", file=sys.stderr)
            return 1
    try:
        store = open_store_or_explain(args.db)
    except StoreOpenError as exc:
        print(f"rulekit load: {exc}", file=sys.stderr)
        return 1
    try:
        if args.rules is not None and args.world is None \
                and WORLD not in getattr(store, "active_versions", dict)():
            print("rulekit load: the store has no world yet: give --world FILE too",
                  file=sys.stderr)
            return 1
        if args.world is not None and args.rules is None \
                and RULESET not in getattr(store, "active_versions", dict)():
            print("rulekit load: the store has no rule set yet: give --rules DIR too",
                  file=sys.stderr)
            return 1
        checked = load_files(store, args.rules, args.world, by=args.by or current_user())
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()
    diags = checked.diagnostics

    def source_line(path: str, line: int) -> str | None:
        doc = checked.documents.get(path)
        return doc.line_text(line) if doc is not None else read_line(path, line)

    if diags:
        print(render_text(diags, source_line, limit=args.max_problems))
    if not checked.ok:
        print(summary(diags, len(checked.files)), file=sys.stderr)
        print("rulekit load: nothing was stored", file=sys.stderr)
        return 1
    if checked.ruleset is not None:
        print(f"ruleset {checked.ruleset.version} active")
    if checked.world is not None:
        from rulekit.storage.catalog import world_version

        print(f"world {world_version(checked.world_text)} ({checked.world.name}) active")
    return 1 if any(d.severity is Severity.ERROR for d in diags) else 0
