"""``rulekit token create|revoke|list``: run as a user would, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from command_line import run

from rulekit.access import verify_token
from rulekit.storage.url import open_store

ROOT = Path(__file__).resolve().parents[2]
RULES, WORLD = ROOT / "rules/leadstreet", ROOT / "rules/leadstreet/world.yaml"
SHAPE = re.compile(r"rk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
PG_DSN = os.environ.get("RULEKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite store with the current schema and nothing else."""
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    assert run("migrate", "--db", url)[0] == 0
    return url


@pytest.fixture
def loaded(db: str) -> str:
    """The store with the LeadStreet rules and world active."""
    code, said = run("load", "--db", db, "--rules", str(RULES), "--world", str(WORLD),
                     "--by", "t")
    assert code == 0, said
    return db


@pytest.fixture
def pg_db() -> Iterator[str]:
    schema = f"rulekit_token_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield PG_DSN + ("&" if "?" in PG_DSN else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def rulekit(*argv: str) -> subprocess.CompletedProcess[str]:
    """``rulekit ARGV`` in a process of its own, standard output and error apart."""
    return subprocess.run([sys.executable, "-m", "rulekit", *argv], cwd=ROOT, text=True,
                          capture_output=True, timeout=120, check=False)


def stored(url: str) -> Any:
    return open_store(url, migrate=False)


def created(said: str) -> tuple[str, str]:
    """(token, token id) of what ``token create`` printed (stdout and stderr together)."""
    found = SHAPE.search(said)
    assert found is not None, said
    return found.group(0), found.group(1)


# -- a process of its own: what goes where -------------------------------------------------------
def test_create_prints_the_token_alone_and_says_it_is_shown_once(db: str) -> None:
    done = rulekit("token", "create", "--db", db, "--role", "integrator",
                   "--sources", "remax.com, zillow.com,,", "--label", "web forms",
                   "--by", "dana")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and SHAPE.fullmatch(lines[0]), done.stdout
    token_id = SHAPE.fullmatch(lines[0]).group(1)  # type: ignore[union-attr]
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"created token {token_id} (role integrator, sources remax.com, zillow.com)" \
        in done.stderr and "shown only once" in done.stderr
    assert lines[0] not in done.stderr
    store = stored(db)
    try:
        token = verify_token(store, lines[0])
        assert token is not None and token.token_id == token_id
        assert (token.role, token.sources, token.label, token.created_by) == (
            "integrator", ("remax.com", "zillow.com"), "web forms", "dana")
        entry = store.audit()[-1]
        assert (entry.actor, entry.action, entry.detail["token_id"]) == (
            "dana", "token_created", token_id)
    finally:
        store.close()


def test_list_and_revoke_in_processes(db: str) -> None:
    made = rulekit("token", "create", "--db", db, "--role", "admin", "--by", "dana")
    assert made.returncode == 0, made.stderr
    text = made.stdout.strip()
    token_id = created(text)[1]
    listed = rulekit("token", "list", "--db", db)
    assert listed.returncode == 0 and token_id in listed.stdout, listed.stderr
    assert text not in listed.stdout + listed.stderr
    revoked = rulekit("token", "revoke", token_id, "--db", db, "--by", "ops")
    assert (revoked.returncode, revoked.stdout) == (0, f"token {token_id} revoked\n")
    again = rulekit("token", "revoke", token_id, "--db", db)
    assert again.returncode == 1 and again.stdout == ""
    assert f"rulekit token: token '{token_id}' was revoked already at " in again.stderr


# -- in this process ---------------------------------------------------------------------------
def test_the_listing_never_shows_a_secret_or_a_hash(db: str) -> None:
    tokens = [created(run("token", "create", "--db", db, "--role", role, *extra)[1])
              for role, extra in (("admin", ["--label", "ops team"]),
                                  ("agent", ["--agent", "a-avery-jones"]),
                                  ("integrator", ["--sources", "remax.com"]))]
    store = stored(db)
    try:
        hashes = [store.token(token_id)[1] for _, token_id in tokens]
    finally:
        store.close()
    code, table = run("token", "list", "--db", db)
    assert code == 0, table
    lines = table.splitlines()
    assert lines[0].split() == ["id", "role", "agent", "sources", "label", "created", "by",
                                "revoked"]
    assert lines[-1] == "3 tokens, 3 active"
    code, out = run("token", "list", "--db", db, "--json")
    assert code == 0, out
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [token_id for _, token_id in tokens]  # oldest first
    assert set(rows[0]) == {"id", "role", "agent", "sources", "label", "created", "created_by",
                            "revoked"}
    assert (rows[1]["role"], rows[1]["agent"], rows[2]["sources"], rows[0]["label"]) == (
        "agent", "a-avery-jones", ["remax.com"], "ops team")
    for text, _ in tokens:
        secret = text.split("_", 2)[2]
        assert secret not in table and secret not in out
    for stored_hash in hashes:
        assert stored_hash not in table and stored_hash not in out
    assert run("token", "revoke", tokens[0][1], "--db", db)[0] == 0
    code, out = run("token", "list", "--db", db, "--json")
    assert json.loads(out)[0]["revoked"] is not None
    assert run("token", "list", "--db", db)[1].splitlines()[-1] == "3 tokens, 2 active"


def test_an_empty_listing(db: str) -> None:
    assert run("token", "list", "--db", db) == (0, "No tokens.\n")
    assert run("token", "list", "--db", db, "--json") == (0, "[]\n")


def test_an_agent_must_be_in_the_active_world(loaded: str) -> None:
    code, said = run("token", "create", "--db", loaded, "--role", "agent",
                     "--agent", "a-avery-jones")
    assert code == 0 and "agent a-avery-jones" in said, said
    code, said = run("token", "create", "--db", loaded, "--role", "agent",
                     "--agent", "a-nobody")
    assert code == 1, said
    assert said == ("rulekit token: no agent 'a-nobody' in the store's active world "
                    "(charlotte); no token was made\n")
    store = stored(loaded)
    try:
        assert [t.agent for t in store.tokens()] == ["a-avery-jones"]
    finally:
        store.close()


def test_without_an_active_world_the_agent_is_not_checked(db: str) -> None:
    code, said = run("token", "create", "--db", db, "--role", "agent", "--agent", "a-any")
    assert code == 0, said
    assert "the store has no active world, so agent 'a-any' is not checked" in said
    created(said)


def test_by_defaults_to_the_os_user(db: str) -> None:
    import getpass

    token_id = created(run("token", "create", "--db", db, "--role", "support")[1])[1]
    assert run("token", "revoke", token_id, "--db", db)[0] == 0
    store = stored(db)
    try:
        assert [(e.actor, e.action) for e in store.audit()] == [
            (getpass.getuser(), "token_created"), (getpass.getuser(), "token_revoked")]
    finally:
        store.close()


def test_listing_changes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    code, said = run("token", "list", "--db", f"sqlite:///{empty}")
    assert code == 1 and "run `rulekit migrate" in said, said
    assert empty.stat().st_size == 0
    code, said = run("token", "create", "--db", f"sqlite:///{tmp_path / 'typo.db'}",
                     "--role", "admin")
    assert code == 1 and "no database at" in said, said
    assert not (tmp_path / "typo.db").exists()


def test_create_upgrades_an_empty_database(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    code, said = run("token", "create", "--db", f"sqlite:///{empty}", "--role", "admin")
    assert code == 0, said
    assert run("token", "list", "--db", f"sqlite:///{empty}")[0] == 0


def test_on_postgres(pg_db: str) -> None:
    code, said = run("token", "create", "--db", pg_db, "--role", "concierge", "--label", "desk",
                     "--by", "dana")
    assert code == 0, said
    text, token_id = created(said)
    code, out = run("token", "list", "--db", pg_db, "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [token_id], out
    store = stored(pg_db)
    try:
        token = verify_token(store, text)
        assert token is not None and (token.role, token.label) == ("concierge", "desk")
    finally:
        store.close()
    assert run("token", "revoke", token_id, "--db", pg_db) == (0, f"token {token_id} revoked\n")
    code, said = run("token", "revoke", token_id, "--db", pg_db)
    assert code == 1 and "revoked already" in said
    store = stored(pg_db)
    try:
        assert verify_token(store, text) is None
        assert [e.action for e in store.audit()] == ["token_created", "token_revoked"]
    finally:
        store.close()
