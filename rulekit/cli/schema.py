"""``rulekit schema [NAME]``: print a shipped JSON Schema; ``--write`` regenerates the
generated ones (lead, world) into a folder."""

from __future__ import annotations

import argparse
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
        for name, make in GENERATED.items():
            target = Path(args.write) / f"{name}.schema.json"
            target.write_text(dumps(make()), encoding="utf-8")
            print(f"wrote {target}")
        return 0
    print(schema_text(args.name), end="")
    return 0
