"""The test session's PostgreSQL.

With ``RULEKIT_TEST_POSTGRES_DSN`` set, the PostgreSQL tests use that server.  Without it, the
session starts a throwaway server from the system's PostgreSQL binaries (``tests/pg_server.py``)
before any test module is collected, exports its DSN in ``RULEKIT_TEST_POSTGRES_DSN`` (so test
modules and the processes they start find it), and removes it at the end.  Missing binaries
fail the session with the line to install them: the PostgreSQL tests never skip silently.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pg_server

DSN_VARIABLE = "RULEKIT_TEST_POSTGRES_DSN"
_started: list[pg_server.Server] = []


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(DSN_VARIABLE):
        return
    try:
        server = pg_server.start()
    except pg_server.NoServerBinaries as exc:
        raise pytest.UsageError(str(exc)) from None
    _started.append(server)
    os.environ[DSN_VARIABLE] = server.dsn


def pytest_unconfigure(config: pytest.Config) -> None:
    while _started:
        _started.pop().stop()
        os.environ.pop(DSN_VARIABLE, None)


def pytest_report_header(config: pytest.Config) -> str:
    where = "a throwaway server started for this session" if _started else "the given server"
    return f"PostgreSQL: {os.environ.get(DSN_VARIABLE)} ({where})"
