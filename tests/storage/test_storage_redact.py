"""``redact_url`` and ``redact_text``: no password survives, everything else is unchanged."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from rulekit.storage.redact import (
    MASK,
    MIN_LITERAL,
    RedactingFormatter,
    redact_text,
    redact_url,
    url_secrets,
)

LOWER = "abcdefghijklmnopqrstuvwxyz"
NAME = LOWER + LOWER.upper() + "0123456789_-."
users = st.text(NAME, min_size=1, max_size=12) | st.text(min_size=1, max_size=8).map(
    lambda u: quote(u, safe=""))
hosts = st.lists(
    st.tuples(st.text(LOWER + "0123456789.-", min_size=1, max_size=15),
              st.none() | st.integers(1, 65535)).map(
        lambda hp: hp[0] + (f":{hp[1]}" if hp[1] is not None else "")),
    min_size=1, max_size=3).map(",".join) | st.just("[::1]:5432") | st.just("")
paths = st.just("") | st.text(NAME, max_size=12).map(lambda db: "/" + db)
queries = st.lists(st.sampled_from([
    "sslmode=require", "application_name=rulekit", "connect_timeout=5",
    "options=-csearch_path%3Dmyschema", "host=%2Fvar%2Frun%2Fpostgresql",
]), max_size=3).map(lambda qs: ("?" + "&".join(qs)) if qs else "")
schemes = st.sampled_from(["postgresql", "postgres", "POSTGRESQL", "mystore"])
passwords = st.text(min_size=1, max_size=24)
#: how a password is written in a URL: all escaped; '@' and ':' raw; every delimiter raw
#: but '/' and '?' (which end the host part); raw '/' alone.
escapes = st.sampled_from(["", "@:", "@:!$&'()*+,;=[]#", "@:/"])


def written(password: str, safe: str) -> str:
    if safe == "@:/":
        assume("?" not in password)
        return quote(password, safe="@:/")
    return quote(password, safe=safe)


@given(schemes, users, passwords, escapes, hosts, paths, queries)
@example("postgresql", "postgres", "S3cretPw", "", "127.0.0.1:5432", "/test", "")
@example("postgresql", "u", "p@ss:w@rd", "@:", "db.example.com", "/leads", "?sslmode=require")
@example("postgres", "u", "a/b@c", "@:/", "h", "/d", "")
@example("postgresql", "u", "p?x", "@:!$&'()*+,;=[]#", "h", "", "?sslmode=require")
def test_the_password_of_a_url_is_masked_and_nothing_else_changes(
        scheme: str, user: str, password: str, safe: str, host: str, path: str,
        query: str) -> None:
    secret = written(password, safe)
    url = f"{scheme}://{user}:{secret}@{host}{path}{query}"
    shown = f"{scheme}://{user}:{MASK}@{host}{path}{query}"
    assert redact_url(url) == shown
    for form in {secret, password}:
        if form not in shown:
            assert form not in redact_url(url)


@given(schemes, users, passwords, hosts, paths, queries,
       st.sampled_from(["password", "sslpassword"]))
def test_a_password_in_the_query_string_is_masked(
        scheme: str, user: str, password: str, host: str, path: str, query: str,
        key: str) -> None:
    secret = quote(password, safe="")
    tail = f"&{query[1:]}" if query else ""
    url = f"{scheme}://{user}@{host}{path}?{key}={secret}{tail}"
    assert redact_url(url) == f"{scheme}://{user}@{host}{path}?{key}={MASK}{tail}"
    both = f"{scheme}://{user}:{secret}@{host}{path}{query or '?a=b'}&{key}={secret}"
    assert redact_url(both) == (f"{scheme}://{user}:{MASK}@{host}{path}{query or '?a=b'}"
                                f"&{key}={MASK}")


def keyword_value(password: str) -> str:
    """A libpq keyword value: bare when it can be, else quoted with backslash escapes."""
    if password and not any(c.isspace() or c in "'\\" for c in password):
        return password
    return "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"


@given(passwords, st.sampled_from(["password", "sslpassword"]), st.booleans(),
       st.sampled_from(["=", " = "]))
@example("S3cret Pw", "password", False, "=")
@example("it's", "password", True, "=")
def test_a_password_in_a_keyword_string_is_masked(
        password: str, key: str, quoted: bool, equals: str) -> None:
    value = ("'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'" if quoted
             else keyword_value(password))
    conninfo = f"host=db.example.com port=5432 {key}{equals}{value} dbname=leads user=ops"
    shown = f"host=db.example.com port=5432 {key}{equals}{MASK} dbname=leads user=ops"
    assert redact_url(conninfo) == shown


@given(schemes, users, hosts, paths, queries)
def test_a_url_without_a_password_is_unchanged(
        scheme: str, user: str, host: str, path: str, query: str) -> None:
    for url in (f"{scheme}://{user}@{host}{path}{query}", f"{scheme}://{host}{path}{query}"):
        assert redact_url(url) == url


@pytest.mark.parametrize("url", [
    "memory://", "sqlite://", "sqlite:///rulekit-day.db", "sqlite:////var/lib/a:b@c.db",
    "host=localhost dbname=test", "", "postgresql://db/leads?application_name=me@home",
    "postgresql://u@db:5432/leads?application_name=me@home",
])
def test_urls_without_secrets_are_unchanged(url: str) -> None:
    assert redact_url(url) == url


@given(schemes, users, passwords, escapes, hosts, paths, queries)
@example("postgresql", "u", "pre@S3cretPw", "@:", "127.0.0.1:1", "/test", "")
def test_a_message_quoting_a_url_or_its_password_keeps_neither(
        scheme: str, user: str, password: str, safe: str, host: str, path: str,
        query: str) -> None:
    secret = written(password, safe)
    url = f"{scheme}://{user}:{secret}@{host}{path}{query}"
    shown = redact_url(url)
    # a password that is also, say, the user name is replaced there too
    assume(not any(form in shown for form in url_secrets(url)))
    message = (f"cannot open {url}: invalid percent-encoded token: \"{secret}\"; "
               f"password={password!r} {password}")
    clean = redact_text(message, url)
    assert clean.startswith(f"cannot open {shown}: ")
    for form in {secret, password}:
        if len(form) >= MIN_LITERAL and form not in shown and form not in "cannot open":
            assert form not in clean


def test_libpq_quoting_the_rest_of_a_password_after_an_at_sign_is_scrubbed() -> None:
    url = "postgresql://u:pre@S3cretPw@127.0.0.1:1/test"
    assert "S3cretPw@" in url_secrets(url)
    said = redact_text("failed to resolve host 'S3cretPw@127.0.0.1'", url)
    assert said == f"failed to resolve host '{MASK}@127.0.0.1'"


def test_urls_and_keyword_strings_in_free_text_are_redacted_without_being_named() -> None:
    text = ("lost postgresql://ops:hunter22@db/leads and 'postgres://x:y@h/d?sslpassword=z'; "
            "retrying host=db password='a b' dbname=leads")
    assert redact_text(text) == (
        "lost postgresql://ops:***@db/leads and 'postgres://x:***@h/d?sslpassword=***'; "
        "retrying host=db password=*** dbname=leads")


def test_the_formatter_scrubs_messages_and_tracebacks() -> None:
    url = "postgresql://u:S3cretPw@db/leads"
    formatter = RedactingFormatter("%(levelname)s %(message)s", urls=(url,))
    try:
        raise RuntimeError(f"cannot reach {url} (S3cretPw)")
    except RuntimeError:
        import sys

        record = logging.LogRecord("rulekit.worker", logging.ERROR, __file__, 1,
                                   "lost %s", (url,), sys.exc_info())
    line = formatter.format(record)
    assert "S3cretPw" not in line
    assert line.startswith("ERROR lost postgresql://u:***@db/leads")
    assert "RuntimeError: cannot reach postgresql://u:***@db/leads (***)" in line
