"""Benchmark: `rulekit validate` on hostile input must fail fast, with a typed error.

    python bench/hostile.py [--repeat 3]

Writes each hostile file to a temporary folder, runs ``rulekit validate --format json`` on it
in-process (``rulekit.cli.main.main``, output captured) and prints, per case, the error codes
returned and the slowest of ``--repeat`` runs in milliseconds.  A small valid file is checked
first so one-time start-up costs (building the expression parser) are not charged to a case.

Exits 1 if any case takes 1 s or more, returns no error code of the catalogue, or exits with a
code other than 1 (problems found).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rulekit.cli.main import main
from rulekit.errors import CODES

LIMIT_SECONDS = 1.0

HEADER = "rulekit: 1\npolicy: hostile\napplies_to:\n  sources: [remax.com]\n"
CATCH_ALL = "  - name: unrouted\n    steps:\n      - queue: {name: unrouted, reason: none}\n"


def rule_file(when: str = "true", extra: str = "") -> str:
    return (f"{HEADER}{extra}rules:\n  - name: hostile\n    when: {when}\n"
            "    steps:\n      - queue: manual\n" + CATCH_ALL)


def alias_bomb() -> str:
    """The "billion laughs": nine levels of nine aliases each, 9**9 values once expanded."""
    lines = [HEADER.rstrip("\n"), "description: ok", "x0: &x0 [lol, lol, lol, lol, lol, lol, "
             "lol, lol, lol]"]
    for level in range(1, 10):
        items = ", ".join([f"*x{level - 1}"] * 9)
        lines.append(f"x{level}: &x{level} [{items}]")
    return "\n".join(lines) + "\nrules: []\n"


def deep_yaml() -> str:
    return f"{HEADER}description: " + "[" * 10_000 + "]" * 10_000 + "\nrules: []\n"


def python_tag() -> str:
    return (f"{HEADER}description: !!python/object/apply:os.system "
            "['echo pwned > /tmp/rulekit-pwned']\nrules: []\n")


def long_number() -> str:
    return f"{HEADER}precedence: " + "9" * 100_000 + "\nrules: []\n"


def ten_megabytes() -> str:
    filler = "# " + "x" * 98 + "\n"
    return rule_file() + filler * (10 * 1024 * 1024 // len(filler))


def deep_expression() -> str:
    return rule_file("(" * 10_000 + 'lead.source == "remax.com"' + ")" * 10_000)


def megabyte_expression() -> str:
    term = 'lead.source == "remax.com" or '
    count = (1 << 20) // len(term)
    return rule_file("'" + term * count + "false'")


#: name → (file text, extra command-line options)
CASES: dict[str, tuple[Callable[[], str], list[str]]] = {
    "YAML alias bomb (9 levels x 9 aliases)": (alias_bomb, []),
    "YAML nested 10,000 deep": (deep_yaml, []),
    "!!python/object/apply tag": (python_tag, []),
    "100,000-digit number": (long_number, []),
    "10 MB file": (ten_megabytes, []),
    "DSL expression nested 10,000 deep": (deep_expression, []),
    "1 MB expression (--max-file-bytes 2000000)": (megabyte_expression,
                                                   ["--max-file-bytes", "2000000"]),
}


def validate(path: Path, extra: list[str]) -> tuple[int, list[str], float]:
    """Exit code, diagnostic codes and seconds of one in-process ``rulekit validate``."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        exit_code = main(["validate", "--format", "json", *extra, str(path)])
    elapsed = time.perf_counter() - start
    try:
        codes = [str(d["code"]) for d in json.loads(out.getvalue() or "[]")]
    except (json.JSONDecodeError, TypeError, KeyError):
        codes = []
    return exit_code, codes, elapsed


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (the slowest "
                        "counts; default 3)")
    args = parser.parse_args(argv)
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="rulekit-hostile-") as tmp:
        folder = Path(tmp)
        warm = folder / "warm-up.yaml"
        warm.write_text(rule_file('lead.source == "remax.com"'), encoding="utf-8")
        exit_code, codes, elapsed = validate(warm, [])
        print(f"{'warm-up (valid file)':<45} exit {exit_code}  {elapsed * 1000:8.1f} ms  "
              f"{', '.join(codes) or '-'}")
        for index, (name, (make, extra)) in enumerate(CASES.items()):
            path = folder / f"case{index}.yaml"
            path.write_text(make(), encoding="utf-8")
            worst = 0.0
            for _ in range(max(1, args.repeat)):
                exit_code, codes, elapsed = validate(path, extra)
                worst = max(worst, elapsed)
            typed = [code for code in codes if code in CODES]
            print(f"{name:<45} exit {exit_code}  {worst * 1000:8.1f} ms  "
                  f"{', '.join(codes) or 'no error'}")
            if worst >= LIMIT_SECONDS:
                failures.append(f"{name}: {worst:.2f} s")
            if not typed:
                failures.append(f"{name}: no typed error")
            if exit_code != 1:
                failures.append(f"{name}: exit code {exit_code}")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main_())
