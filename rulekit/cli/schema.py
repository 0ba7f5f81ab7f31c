"""``rulekit schema [NAME]``: print a shipped JSON Schema; ``--write`` regenerates the
generated ones (lead, world) into a folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rulekit.config.generated import GENERATED, dumps
from rulekit.config.schema import available_schemas, schema_text


def main(argv: Sequence[str]) -> int:
    names = available_schemas()
    p = argparse.ArgumentParser(prog="rulekit schema",
                                description="Print a JSON Schema shipped with rulekit.")
    p.add_argument("name", nargs="?", choices=names, default="rulefile",
                   help="which schema (default: rulefile)")
    p.add_argument("--write", metavar="DIR",
                   help="regenerate the schemas derived from the models (lead, world) into DIR")
    args = p.parse_args(argv)
    if args.write:
        folder = Path(args.write)
        if not folder.is_dir():  # checked before anything is written
            what = "not a folder" if folder.exists() else "no such folder"
            print(f"rulekit schema: --write {args.write}: {what}", file=sys.stderr)
            return 2
        for name, make in GENERATED.items():
            target = folder / f"{name}.schema.json"
            try:
                target.write_text(dumps(make()), encoding="utf-8")
            except OSError as exc:
                print(f"rulekit schema: cannot write {target}: {exc.strerror or exc}",
                      file=sys.stderr)
                return 2
            print(f"wrote {target}")
        return 0
    print(schema_text(args.name), end="")
    return 0
