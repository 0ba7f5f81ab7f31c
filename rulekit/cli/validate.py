"""``rulekit validate PATH…``: check rule and world files, report every problem at once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rulekit.cli.render import render_github, render_json, render_text, summary
from rulekit.config.project import check_paths
from rulekit.errors import Diagnostic, Severity


def read_line(path: str, line: int, max_bytes: int = 1 << 20) -> str | None:
    """Line ``line`` of a file that could not be loaded (for its caret excerpt)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes)
    except OSError:
        return None
    lines = raw.decode("utf-8", errors="replace").splitlines()
    return lines[line - 1][:500] if 0 < line <= len(lines) else None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rulekit validate",
        description="Check rule files and world files: YAML, schema, expressions, calendars, "
        "references, reachability and termination. Every problem is reported in one run.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (searched "
                   "recursively for *.yaml / *.yml)")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="text (default), json (a list of objects), or github (annotations)")
    p.add_argument("--max-problems", type=int, default=50, metavar="N",
                   help="show at most N problems (default 50)")
    p.add_argument("--warnings-as-errors", action="store_true",
                   help="exit 1 on warnings too")
    p.add_argument("--max-file-bytes", type=int, default=None, metavar="N",
                   help="refuse files over N bytes (default: 1 MiB for rule files, "
                   "16 MiB for world files)")
    p.add_argument("-q", "--quiet", action="store_true", help="text format: no summary line")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if args.max_problems < 1:
        parser().error("--max-problems must be at least 1")
    result = check_paths(args.paths, max_bytes=args.max_file_bytes)
    diags: list[Diagnostic] = result.diagnostics

    def source_line(path: str, line: int) -> str | None:
        doc = result.documents.get(path)
        if doc is not None:
            return doc.line_text(line)
        return read_line(path, line)

    if args.format == "json":
        print(render_json(diags, limit=args.max_problems))
    elif args.format == "github":
        if diags:
            print(render_github(diags, limit=args.max_problems))
    else:
        if diags:
            print(render_text(diags, source_line, limit=args.max_problems))
        if not args.quiet:
            print(summary(diags, len(result.files)), file=sys.stderr if diags else sys.stdout)
    failing = [d for d in diags
               if d.severity is Severity.ERROR or args.warnings_as_errors]
    return 1 if failing else 0
