"""Bearer tokens (``rulekit.access``): made, shown once, checked, revoked."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulekit.access import (
    PREFIX,
    ROLES,
    create_token,
    parse_token,
    revoke,
    secret_hash,
    verify_token,
)
from rulekit.storage.memory import MemoryStore
from rulekit.storage.sqlite import SQLiteStore

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
SHAPE = re.compile(r"rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


def test_a_token_is_shown_once_and_stored_as_a_hash() -> None:
    store = MemoryStore()
    token, text = create_token(store, "agent", agent="a1", label="phone", by="dana", now=NOW)
    assert SHAPE.fullmatch(text) and text.startswith(f"{PREFIX}{token.token_id}_")
    secret = text[len(PREFIX) + 13:]
    stored = store.token(token.token_id)
    assert stored == (token, hashlib.sha256(secret.encode()).hexdigest())
    assert (token.role, token.agent, token.sources, token.label, token.created_at,
            token.created_by, token.revoked_at) == ("agent", "a1", (), "phone", NOW, "dana",
                                                     None)
    audit = repr(store.audit())
    assert secret not in audit and secret_hash(secret) not in audit
    assert [e.action for e in store.audit()] == ["token_created"]


def test_each_token_is_new() -> None:
    store = MemoryStore()
    made = [create_token(store, "support", by="t", now=NOW) for _ in range(50)]
    assert len({t.token_id for t, _ in made}) == 50 and len({s for _, s in made}) == 50
    assert len(store.tokens()) == 50


def test_verify_gives_the_token_until_it_is_revoked() -> None:
    store = MemoryStore()
    token, text = create_token(store, "integrator", sources=["remax.com", "zillow.com"],
                               by="dana", now=NOW)
    assert token.sources == ("remax.com", "zillow.com")
    assert verify_token(store, text) == token
    assert revoke(store, token.token_id, "ops", NOW + timedelta(hours=1)) is True
    assert verify_token(store, text) is None
    assert revoke(store, token.token_id, "ops", NOW) is False  # revoked already
    assert revoke(store, "ffffffffffff", "ops", NOW) is False  # unknown
    assert [e.action for e in store.audit()] == ["token_created", "token_revoked"]


def test_verify_on_a_sqlite_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    try:
        token, text = create_token(store, "admin", label="ops", by="dana", now=NOW)
        assert verify_token(store, text) == token
        assert verify_token(store, text[:-1] + ("A" if text[-1] != "A" else "B")) is None
        assert revoke(store, token.token_id, "dana", NOW)
        assert verify_token(store, text) is None
    finally:
        store.close()


def test_a_wrong_secret_with_the_right_id_is_refused() -> None:
    store = MemoryStore()
    token, text = create_token(store, "admin", by="dana", now=NOW)
    _, other = create_token(store, "admin", by="dana", now=NOW)
    forged = f"{PREFIX}{token.token_id}_{other[len(PREFIX) + 13:]}"  # a real secret, not its
    assert verify_token(store, forged) is None
    flipped = text[:-1] + ("a" if text[-1] != "a" else "b")
    assert verify_token(store, flipped) is None
    assert verify_token(store, text) == token


@pytest.mark.parametrize("presented", [
    "", "rk_", "rk__", "Bearer rk_0123456789ab_" + "a" * 43, "rk_0123456789ab_" + "a" * 42,
    "rk_0123456789ab_" + "a" * 44, "rk_0123456789AB_" + "a" * 43, "rk_0123456789a_" + "a" * 44,
    "RK_0123456789ab_" + "a" * 43, "rk-0123456789ab-" + "a" * 43, "rk_0123456789ab_" + "=" * 43,
    "rk_0123456789ab_" + "a" * 42 + "\n", "rk_0123456789ab_" + "é" * 43,
    "rk_0123456789ab_" + "a" * 42 + "\x00", " rk_0123456789ab_" + "a" * 43,
    "rk_０１２３４５６７８９ab_" + "a" * 43,
])
def test_malformed_tokens_are_refused(presented: str) -> None:
    store = MemoryStore()
    assert parse_token(presented) is None
    assert verify_token(store, presented) is None


def test_an_unknown_token_is_refused() -> None:
    assert verify_token(MemoryStore(), "rk_0123456789ab_" + "a" * 43) is None


def test_the_roles() -> None:
    assert ROLES == ("integrator", "agent", "concierge", "admin", "support")
    store = MemoryStore()
    for role in ("concierge", "admin", "support"):
        assert create_token(store, role, by="t", now=NOW)[0].role == role


@pytest.mark.parametrize(("role", "agent", "sources", "says"), [
    ("admn", None, (), r"unknown role 'admn': did you mean 'admin'\? the roles are "
                       r"integrator, agent, concierge, admin, support"),
    ("owner", None, (), r"unknown role 'owner': the roles are integrator"),
    ("agent", None, (), r"role 'agent' needs the agent it acts as"),
    ("agent", "", (), r"role 'agent' needs the agent it acts as"),
    ("admin", "a1", (), r"only a token of role 'agent' acts as an agent, not one of role "
                        r"'admin'"),
    ("integrator", "a1", ("remax.com",), r"only a token of role 'agent' acts as an agent"),
    ("agent", "a1", ("remax.com",), r"only a token of role 'integrator' has lead sources"),
    ("support", None, ("remax.com",), r"only a token of role 'integrator' has lead sources"),
    ("integrator", None, (), r"role 'integrator' needs the lead sources"),
    ("integrator", None, ("remax.com", " "), r"a lead source cannot be empty"),
])
def test_a_token_that_does_not_fit_its_role_is_refused(
        role: str, agent: str | None, sources: tuple[str, ...], says: str) -> None:
    store = MemoryStore()
    with pytest.raises(ValueError, match=says):
        create_token(store, role, agent=agent, sources=sources, by="t", now=NOW)
    assert store.tokens() == [] and store.audit() == []


def test_the_stored_hash_is_sha256_of_the_secret_part() -> None:
    assert secret_hash("abc") == hashlib.sha256(b"abc").hexdigest()


# -- whatever the text, verify answers ------------------------------------------------------------
_STORE = MemoryStore()
_TOKEN, _TEXT = create_token(_STORE, "admin", by="t", now=NOW)
_ID = _TOKEN.token_id


def near_misses() -> st.SearchStrategy[str]:
    """Text shaped like a token, or a real token changed a little."""
    real = st.builds(lambda cut, extra: _TEXT[:cut] + extra,
                     st.integers(0, len(_TEXT)), st.text(max_size=50))
    shaped = st.builds(lambda a, b: f"rk_{a}_{b}", st.text(max_size=20), st.text(max_size=60))
    with_id = st.builds(lambda b: f"rk_{_ID}_{b}",
                        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789-_=+/é\x00", min_size=40, max_size=46))
    return st.one_of(st.text(), real, shaped, with_id)


@settings(max_examples=400, deadline=None)
@given(near_misses())
def test_verify_never_raises(presented: str) -> None:
    found = verify_token(_STORE, presented)
    assert found is None or (presented == _TEXT and found == _TOKEN)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=80))
def test_verify_never_raises_on_decoded_bytes(raw: bytes) -> None:
    assert verify_token(_STORE, raw.decode("utf-8", errors="surrogateescape")) is None
