"""No command prints a store password: every error path of every command that takes ``--db``
runs with a password in the URL, and all it prints (standard output, standard error, log
records) is searched for it.  Where the URL is named, it is named with ``***`` instead.

PostgreSQL is the local server (``RULEKIT_TEST_POSTGRES_DSN``, default the ``test`` database
with trust authentication, so the password given is ignored by the server).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from rulekit.cli.main import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "S3cretPw"
ADMIN_DSN = os.environ.get("RULEKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
#: host, port and database of the real server, e.g. ``127.0.0.1:5432/test``.
SERVER = ADMIN_DSN.split("@", 1)[1].split("?", 1)[0]
HOST = SERVER.split("/", 1)[0]
RULES, WORLD = "rules/leadstreet", "rules/leadstreet/world.yaml"


def with_password(schema: str) -> tuple[str, str]:
    """A URL of the real server, tables in ``schema``, with a password; and how it is shown."""
    tail = f"@{SERVER}?options=-csearch_path%3D{schema}"
    return f"postgresql://postgres:{PASSWORD}{tail}", f"postgresql://postgres:***{tail}"


#: (case, URL, how the URL is shown): every one fails to open as a store.
BAD_URLS = [
    ("unreachable", f"postgresql://u:{PASSWORD}@127.0.0.1:1/test",
     "postgresql://u:***@127.0.0.1:1/test"),
    ("postgres-scheme", f"postgres://u:{PASSWORD}@127.0.0.1:1/test",
     "postgres://u:***@127.0.0.1:1/test"),
    ("unknown-role", f"postgresql://rulekit_no_such_role:{PASSWORD}@{SERVER}",
     f"postgresql://rulekit_no_such_role:***@{SERVER}"),
    ("unknown-database", f"postgresql://postgres:{PASSWORD}@{HOST}/rulekit_no_such_db",
     f"postgresql://postgres:***@{HOST}/rulekit_no_such_db"),
    ("query-password", f"postgresql://u@127.0.0.1:1/test?password={PASSWORD}",
     "postgresql://u@127.0.0.1:1/test?password=***"),
    ("sslpassword", f"postgresql://u:{PASSWORD}@127.0.0.1:1/test?sslpassword={PASSWORD}"
     "&sslmode=disable", "postgresql://u:***@127.0.0.1:1/test?sslpassword=***&sslmode=disable"),
    # libpq echoes a bad %-escape, password and all
    ("bad-escape", f"postgresql://u:{PASSWORD}%zz@127.0.0.1:1/test",
     "postgresql://u:***@127.0.0.1:1/test"),
    # libpq splits at the first '@' and names the rest of the password as part of the host
    ("at-sign", f"postgresql://u:pre@{PASSWORD}@127.0.0.1:1/test",
     "postgresql://u:***@127.0.0.1:1/test"),
    ("colon-and-escapes", f"postgresql://u:a%3A{PASSWORD}%40:x@127.0.0.1:1/test",
     "postgresql://u:***@127.0.0.1:1/test"),
    ("unknown-scheme", f"postgresqlx://u:{PASSWORD}@127.0.0.1/test",
     "postgresqlx://u:***@127.0.0.1/test"),
    ("keywords", f"host=127.0.0.1 port=1 password={PASSWORD} dbname=test",
     "host=127.0.0.1 port=1 password=*** dbname=test"),
    ("missing-schema", *with_password("rulekit_no_such_schema")),
]


def argv_for(command: str, url: str) -> list[str]:
    """An invocation of ``command`` on the store ``url``."""
    return {
        "explain": ["explain", "L-nobody", "--db", url],
        "leads": ["leads", "--db", url],
        "report": ["report", "distribution", "--db", url],
        "day": ["day", RULES, "--db", url, "--leads", "3", "--quiet"],
        "load": ["load", "--db", url, "--rules", RULES, "--world", WORLD],
        "worker": ["worker", "--db", url, "--once"],
        "retry": ["retry", "L-nobody", "--db", url, "--by", "tester"],
        "contacts": ["contacts", "show", "x@example.com", "--db", url],
        "migrate": ["migrate", "--db", url],
        "token": ["token", "create", "--db", url, "--role", "admin", "--by", "tester"],
        "serve": ["serve", "--db", url],
        "outbox": ["outbox", "--db", url],
    }[command]


STORE_COMMANDS = ["explain", "leads", "report", "day", "load", "worker", "retry", "migrate",
                  "token", "serve", "outbox", "contacts"]


def run(argv: list[str]) -> tuple[int, str]:
    """``rulekit ARGV`` in this process: the exit code and everything printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


class Recorder(logging.Handler):
    """Every log record, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Recorder]:
    recorder = Recorder()
    root = logging.getLogger()
    level = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(level)


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def check(said: str, shown: str | None) -> None:
    assert PASSWORD not in said, said
    if shown is not None:
        assert shown in said, said


@contextlib.contextmanager
def schema() -> Iterator[str]:
    """A fresh schema of the test database, dropped afterwards."""
    name = f"rulekit_redact_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture
def pg() -> Iterator[tuple[str, str]]:
    """A store URL with a password (ignored by trust authentication) and how it is shown."""
    with schema() as name:
        yield with_password(name)


@pytest.fixture(scope="module")
def too_new() -> Iterator[tuple[str, str]]:
    """A store whose schema is newer than this rulekit: it cannot be opened."""
    with schema() as name:
        url, shown = with_password(name)
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT INTO meta VALUES ('schema_version', '99'), "
                         "('rulekit_version', '99.0.0')")
        yield url, shown


def test_the_table_covers_every_command_that_takes_a_store() -> None:
    takes_db = []
    for name in COMMANDS:
        code, said = run([name, "--help"])
        assert code == 0, said
        if "--db" in said:
            takes_db.append(name)
    assert sorted(takes_db) == sorted(STORE_COMMANDS)


@pytest.mark.parametrize("command", STORE_COMMANDS)
@pytest.mark.parametrize(("url", "shown"), [case[1:] for case in BAD_URLS],
                         ids=[case[0] for case in BAD_URLS])
def test_a_store_that_cannot_be_opened_is_named_without_its_password(
        command: str, url: str, shown: str, logs: Recorder) -> None:
    code, said = run(argv_for(command, url))
    assert code == 1, said
    assert "cannot open" in said and "internal error" not in said, said
    check(said, shown)
    check("\n".join(logs.lines), None)


@pytest.mark.parametrize("command", STORE_COMMANDS)
def test_a_store_with_a_newer_schema_is_named_without_its_password(
        command: str, too_new: tuple[str, str], logs: Recorder) -> None:
    url, shown = too_new
    code, said = run(argv_for(command, url))
    assert code == 1, said
    assert "schema version 99" in said, said
    check(said, shown)
    check("\n".join(logs.lines), None)


def test_an_unknown_lead_names_the_store_without_its_password(pg: tuple[str, str]) -> None:
    url, shown = pg
    code, said = run(argv_for("migrate", url))  # the readers never create the schema
    assert code == 0, said
    check(said, shown)
    code, said = run(["explain", "L-nobody", "--db", url])
    assert code == 1, said
    assert "no lead 'L-nobody'" in said and f"rulekit leads --db {shown}" in said, said
    check(said, shown)
    for command in ("leads", "report"):
        code, said = run(argv_for(command, url))
        assert code == 0, said
        check(said, None)


def test_day_names_its_store_without_its_password(pg: tuple[str, str]) -> None:
    url, shown = pg
    code, said = run(argv_for("day", url))
    assert code == 0, said
    assert f"Stored in {shown}." in said, said
    check(said, shown)
    code, said = run(argv_for("day", url))  # the store is not empty any more
    assert code == 1, said
    assert "already holds leads" in said, said
    check(said, shown)


def test_load_the_worker_and_retry_never_print_or_log_the_password(
        pg: tuple[str, str], logs: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    url, shown = pg
    caplog.set_level(logging.DEBUG)
    code, said = run(["worker", "--db", url, "--once"])  # nothing loaded yet
    assert code == 1 and "no active rule set" in said, said
    check(said, None)
    code, said = run(argv_for("load", url))
    assert code == 0 and "active" in said, said
    check(said, None)
    code, said = run(argv_for("worker", url))
    assert code == 0 and "fired 0 timers" in said, said
    check(said, None)
    code, said = run(argv_for("retry", url))
    assert code == 1 and "no lead 'L-nobody'" in said, said
    check(said, None)
    logged = "\n".join(logs.lines)
    check(logged, shown)
    check(caplog.text, shown)


@pytest.mark.parametrize("action", [["list"], ["revoke", "0123456789ab"]])
def test_token_reading_and_revoking_never_print_the_password(
        action: list[str], logs: Recorder) -> None:
    url, shown = BAD_URLS[0][1:]
    code, said = run(["token", *action, "--db", url])
    assert code == 1 and f"cannot open {shown}" in said, said
    check(said, shown)
    check("\n".join(logs.lines), None)


def test_token_commands_never_print_or_log_the_password(
        pg: tuple[str, str], logs: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    url, shown = pg
    caplog.set_level(logging.DEBUG)
    code, said = run(["token", "list", "--db", url])  # reading never creates the schema
    assert code == 1 and f"run `rulekit migrate --db {shown}`" in said, said
    check(said, shown)
    code, said = run(argv_for("token", url))  # creating does
    assert code == 0 and "shown only once" in said, said
    check(said, None)
    token_id = said.split("created token ", 1)[1].split(" ", 1)[0]
    code, said = run(["token", "list", "--db", url, "--json"])
    assert code == 0 and token_id in said, said
    check(said, None)
    code, said = run(["token", "revoke", token_id, "--db", url, "--by", "tester"])
    assert code == 0, said
    code, said = run(["token", "revoke", "0123456789ab", "--db", url])
    assert code == 1 and f"no token '0123456789ab' in {shown}" in said, said
    check(said, shown)
    check("\n".join(logs.lines), None)
    check(caplog.text, None)


def test_an_internal_error_does_not_print_a_password(
        monkeypatch: pytest.MonkeyPatch, pg: tuple[str, str]) -> None:
    url, shown = pg

    def broken(_store: object) -> None:
        raise RuntimeError(f"lost the connection to {url} (password={PASSWORD})")

    monkeypatch.setattr("rulekit.cli.report.distribution", broken)
    assert run(argv_for("migrate", url))[0] == 0
    code, said = run(argv_for("report", url))
    assert code == 3 and "internal error" in said, said
    check(said, shown)


def test_the_store_repr_hides_the_password(pg: tuple[str, str]) -> None:
    from rulekit.storage.postgres import PostgresStore

    url, shown = pg
    store = PostgresStore(url)
    try:
        assert repr(store) == f"PostgresStore({shown!r})"
    finally:
        store.close()


# -- real processes ---------------------------------------------------------------------------
def rulekit(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "rulekit", *argv], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize(("url", "shown"), [case[1:] for case in BAD_URLS[:2]],
                         ids=[case[0] for case in BAD_URLS[:2]])
@pytest.mark.parametrize("command", ["explain", "worker"])
def test_a_process_does_not_print_the_password(command: str, url: str, shown: str) -> None:
    process = rulekit(*argv_for(command, url))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, out + err
    check(out + err, shown)


def wait_for(check: Callable[[], bool], seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_a_worker_process_logs_its_store_without_the_password(
        pg: tuple[str, str], tmp_path: Path) -> None:
    url, shown = pg
    code, said = run(argv_for("load", url))
    assert code == 0, said
    # stderr goes to a file, read while the worker runs (a pipe could fill up)
    log_path = tmp_path / "worker.log"
    with log_path.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "rulekit", "worker", "--db", url, "--poll", "0.2",
             "--name", "w-redact"], cwd=ROOT, text=True, stdout=subprocess.PIPE,
            stderr=log_file)
        try:
            wait_for(lambda: "started" in log_path.read_text(encoding="utf-8"))
        finally:
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=30)
    log = log_path.read_text(encoding="utf-8")
    assert process.returncode == 0, log
    assert "stopped cleanly" in log, log
    check(out + log, shown)
