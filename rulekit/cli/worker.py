"""``rulekit worker --db URL``: fire due timers and deliver notifications, until stopped.

Notifications are delivered by the delivery loop (:mod:`rulekit.notify.dispatch`) in a thread
of its own, configured by the environment: ``RULEKIT_SMTP_URL`` (``smtp://user:pass@host:587
?starttls=1``; without it email is written to the log), ``RULEKIT_MAIL_FROM``,
``RULEKIT_BASE_URL`` and ``RULEKIT_SIGNING_KEY`` (for the links), ``RULEKIT_TEMPLATES`` (a
folder of template overrides).

SIGTERM or SIGINT finishes the current batch and exits 0.  ``--once`` runs one iteration
(for tests and cron) and exits 1 if the store has no active rule set and world.  A SQLite file
that does not exist is refused (exit 1: most likely a typo) unless ``--create`` is given; the
worker creates or upgrades the schema of the database it opens.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rulekit.notify.dispatch import ENV_SMTP, DeliveryConfig, following_dispatcher
from rulekit.storage.redact import RedactingFormatter, redact_url
from rulekit.storage.url import StoreOpenError, missing_sqlite_file, open_store_or_explain
from rulekit.worker import NothingLoaded, Worker, default_name


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rulekit worker",
        description="Fire due timers (offer deadlines, holds) with the real clock and deliver "
        "notifications; follow rule and world updates loaded with 'rulekit load'.")
    p.add_argument("--db", required=True, metavar="URL", help="the store URL")
    p.add_argument("--poll", type=_positive, default=5.0, metavar="SECONDS",
                   help="longest sleep between iterations (default 5)")
    p.add_argument("--lease", type=_positive, default=60.0, metavar="SECONDS",
                   help="how long claimed timers stay this worker's (default 60)")
    p.add_argument("--name", default=None, help="this worker's name (default host:pid)")
    p.add_argument("--batch", type=int, default=100, metavar="N",
                   help="timers claimed at a time (default 100)")
    p.add_argument("--once", action="store_true", help="run one iteration and exit")
    p.add_argument("--create", action="store_true",
                   help="create the SQLite file if it does not exist (default: refuse it)")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if args.batch < 1:
        parser().error("--batch must be at least 1")
    handler = logging.StreamHandler(sys.stderr)  # every line scrubbed of the store's password
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(message)s",
                                            urls=(args.db,)))
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        handlers=[handler])
    name = args.name or default_name()
    logging.getLogger("rulekit.worker").info("%s: store %s", name, redact_url(args.db))
    missing = missing_sqlite_file(args.db)
    if missing is not None and not args.create:
        db = redact_url(args.db)
        print(f"rulekit worker: cannot open {db}: no database at {missing}; create it with "
              f"`rulekit migrate --db {db}` or `rulekit load --db {db} --rules DIR --world "
              "FILE`, or give --create", file=sys.stderr)
        return 1
    try:
        store = open_store_or_explain(args.db)
    except StoreOpenError as exc:
        print(f"rulekit worker: {exc}", file=sys.stderr)
        return 1
    worker = Worker(store, name=name, poll=args.poll, lease=args.lease, limit=args.batch,
                    deliver=False)
    try:
        config = DeliveryConfig.from_environment(lease=max(args.lease, 1.0))
        dispatcher = following_dispatcher(store, config, name=f"{name}:delivery",
                                          worker=worker)
    except ValueError as exc:  # a malformed RULEKIT_SMTP_URL (the message hides a password)
        print(f"rulekit worker: {ENV_SMTP}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.once:
            try:
                result = worker.run_once()
            except NothingLoaded as exc:
                print(f"rulekit worker: {exc}", file=sys.stderr)
                return 1
            tally = dispatcher.run_once()
            print(f"fired {result.fired} timers, delivered {tally.sent} notifications"
                  + (f" ({tally.retried} to retry, {tally.dead} dead)"
                     if tally.retried or tally.dead else ""))
            return 0
        thread = dispatcher.start_thread()  # delivery never holds up timers
        try:
            worker.run()
        finally:
            dispatcher.stop()
            thread.join(timeout=config.timeout * 3)
        return 0
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()
