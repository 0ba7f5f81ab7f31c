"""Running ``rulekit`` in the test process, as a user would from a shell."""

from __future__ import annotations

import contextlib
import io

from rulekit.cli.main import main


def run(*argv: str) -> tuple[int, str]:
    """``rulekit ARGV…``: its exit code and what it printed (stdout and stderr together)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(argv))
    return code, out.getvalue()
