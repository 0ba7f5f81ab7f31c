"""The ``rulekit`` command: dispatches to one module per subcommand.

Exit codes: 0 success, 1 problems found (or tests failed), 2 usage error, 3 internal error;
141 when the reader of the output went away (``rulekit … | head``), as for a Unix tool ended by
SIGPIPE, without a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from rulekit import __version__
from rulekit.storage.redact import redact_text

COMMANDS = {
    "validate": ("rulekit.cli.validate", "check rule and world files; report every problem"),
    "test": ("rulekit.cli.test", "run scenario files on a virtual clock; check expectations"),
    "simulate": ("rulekit.cli.simulate", "print a scenario's timeline (text or JSON lines)"),
    "route": ("rulekit.cli.route", "route one lead through rule files and explain it"),
    "explain": ("rulekit.cli.explain", "why a stored lead went where it went (--db URL)"),
    "leads": ("rulekit.cli.leads", "search and filter the leads of a store (--db URL)"),
    "report": ("rulekit.cli.report", "response-times or distribution reports (--db URL)"),
    "day": ("rulekit.cli.day", "route a day of leads through a policy folder and summarise"),
    "retry": ("rulekit.cli.retry", "route parked leads again after a fix (--db URL)"),
    "contacts": ("rulekit.cli.contacts", "show, share, transfer, close contacts (--db URL)"),
    "load": ("rulekit.cli.load", "load rule files and a world into a store (--db URL)"),
    "worker": ("rulekit.cli.worker", "fire due timers and deliver notifications (--db URL)"),
    "migrate": ("rulekit.cli.migrate", "create or upgrade a store's schema (--db URL)"),
    "serve": ("rulekit.cli.serve", "serve the HTTP API and run the worker loop (--db URL)"),
    "token": ("rulekit.cli.token", "create, revoke and list bearer tokens (--db URL)"),
    "outbox": ("rulekit.cli.outbox", "list notification deliveries; retry dead ones (--db URL)"),
    "schema": ("rulekit.cli.schema", "print a JSON Schema (rulefile, world, lead, calendar)"),
}

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
#: The reader of the output went away: the status of a process ended by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141

USAGE = "usage: rulekit [--version] <command> [options]\n\ncommands:\n" + "\n".join(
    f"  {name:<10} {summary}" for name, (_, summary) in COMMANDS.items()
) + "\n\nrun 'rulekit <command> --help' for a command's options"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # `rulekit … | head`: the reader has all it wanted
        return EXIT_BROKEN_PIPE


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return EXIT_OK if args else EXIT_USAGE
    if args[0] == "--version":
        print(f"rulekit {__version__}")
        return EXIT_OK
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"rulekit: unknown command '{name}'\n\n{USAGE}", file=sys.stderr)
        return EXIT_USAGE
    module = importlib.import_module(COMMANDS[name][0])
    try:
        code: int = module.main(rest)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # not a bug: see main
    except Exception as exc:  # the one place that turns a bug into a polite exit
        print(
            f"rulekit: internal error ({type(exc).__name__}: {redact_text(str(exc))}). This is "
            "a bug in rulekit; please report it with the command you ran and the files involved.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return code


def _discard_output() -> None:
    """After a broken pipe: point standard output (and standard error, if it broke too) at
    the null device, so that the interpreter's last flush does not fail again ("Exception
    ignored … BrokenPipeError")."""
    for stream in (sys.stdout, sys.stderr):
        if stream is sys.stderr:
            try:
                stream.flush()
                continue
            except (OSError, ValueError):
                pass
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass  # not a real file (captured, closed or missing): nothing to flush at exit


def entry() -> None:
    """Console-script entry point (and ``python -m rulekit``)."""
    code = main()
    try:
        sys.stdout.flush()  # output still buffered is written now, not at exit
    except BrokenPipeError:
        code = EXIT_BROKEN_PIPE
    except (OSError, ValueError, AttributeError):
        pass
    if code == EXIT_BROKEN_PIPE:
        _discard_output()
    sys.exit(code)
