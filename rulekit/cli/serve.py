"""``rulekit serve --db URL [--host 127.0.0.1] [--port 8080] [--workers N] [--no-worker]``:
the live service (FastAPI under uvicorn).  By default each process also runs the worker loop,
so one command gives a live system; several ``serve`` and ``worker`` processes on one
PostgreSQL behave as one system.  SIGTERM finishes in-flight requests and the worker's batch.

Notifications are delivered by a delivery loop beside the worker loop, configured by
``RULEKIT_SMTP_URL``, ``RULEKIT_MAIL_FROM``, ``RULEKIT_BASE_URL`` and ``RULEKIT_TEMPLATES``
(docs/notifications.md).  One-click links are signed with ``RULEKIT_SIGNING_KEY``; without it
a random key is made for this run (links then stop working when it ends) and a warning says
so.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence

from rulekit.notify.dispatch import ENV_FROM, ENV_SMTP
from rulekit.notify.smtp import SmtpConfig
from rulekit.storage.redact import RedactingFormatter, redact_url
from rulekit.storage.url import StoreOpenError, open_store_or_explain

ENV_DB = "RULEKIT_DB"
ENV_KEY = "RULEKIT_SIGNING_KEY"
ENV_WORKER = "RULEKIT_SERVE_WORKER"
ENV_SHARED = "RULEKIT_SHARED_CONTACTS"
SHARED_CONTACTS = ("leads", "contact")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rulekit serve",
        description="Serve the HTTP API (lead intake, offers, admin changes, reads) and, "
        "unless --no-worker, run the worker loop in each process.")
    p.add_argument("--db", required=True, metavar="URL", help="the store URL")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="server processes (default 1)")
    p.add_argument("--no-worker", action="store_true",
                   help="do not run the worker loop here (run 'rulekit worker' apart)")
    p.add_argument("--shared-contacts", choices=SHARED_CONTACTS,
                   default=os.environ.get(ENV_SHARED) or "leads",
                   help="what an agent a contact is shared with reads: the consumer's leads "
                   "and the contact (leads, the default), or the contact only")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    return p


def app_from_environment() -> object:
    """The application of one server process, configured by the parent through the
    environment (uvicorn's factory, for ``--workers``)."""
    from rulekit.service import ServiceConfig, create_app

    return create_app(ServiceConfig(db=os.environ[ENV_DB],
                                    signing_key=os.environ.get(ENV_KEY, ""),
                                    worker=os.environ.get(ENV_WORKER, "1") == "1",
                                    shared_contacts=os.environ.get(ENV_SHARED) or "leads"))


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser().error("--port must be between 0 and 65535")
    if args.workers < 1:
        parser().error("--workers must be at least 1")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(message)s",
                                            urls=(args.db,)))
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        handlers=[handler], force=True)
    smtp = os.environ.get(ENV_SMTP)
    if smtp:
        try:  # a malformed URL stops here, not in each server process
            SmtpConfig.from_url(smtp, sender=os.environ.get(ENV_FROM) or None)
        except ValueError as exc:  # the message never holds the password
            print(f"rulekit serve: {ENV_SMTP}: {exc}", file=sys.stderr)
            return 2
    try:  # create or upgrade the schema once, before any server process starts
        store = open_store_or_explain(args.db)
    except StoreOpenError as exc:
        print(f"rulekit serve: {exc}", file=sys.stderr)
        return 1
    close = getattr(store, "close", None)
    if close is not None:
        close()
    if not os.environ.get(ENV_KEY):
        logging.getLogger("rulekit.service").warning(
            "no %s set: one-click links are signed with a key made for this run", ENV_KEY)
        os.environ[ENV_KEY] = secrets.token_urlsafe(32)
    os.environ[ENV_DB] = args.db
    os.environ[ENV_WORKER] = "0" if args.no_worker else "1"
    os.environ[ENV_SHARED] = args.shared_contacts
    import uvicorn

    from rulekit.service.metrics import MULTIPROCESS_DIR

    shared = None
    if args.workers > 1 and not os.environ.get(MULTIPROCESS_DIR):
        shared = tempfile.mkdtemp(prefix="rulekit-metrics-")  # the processes' counts, summed
        os.environ[MULTIPROCESS_DIR] = shared
    logging.getLogger("rulekit.service").info(
        "serving %s on http://%s:%s (%d process%s)", redact_url(args.db), args.host,
        args.port, args.workers, "" if args.workers == 1 else "es")
    try:
        uvicorn.run("rulekit.cli.serve:app_from_environment", factory=True, host=args.host,
                    port=args.port, workers=args.workers, log_level="warning" if args.quiet
                    else "info", timeout_graceful_shutdown=30, limit_concurrency=1000,
                    server_header=False, access_log=not args.quiet)
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)
    return 0
