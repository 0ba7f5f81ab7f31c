"""The two delivery channels, SMTP and webhooks, against real servers on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mail_server import MAIL_PASSWORD, MAIL_USER, MailServer, TlsFiles, free_port, silent_listener
from webhook_receiver import WebhookReceiver

from rulekit import __version__
from rulekit.notify.failures import DeliveryFailure, PermanentFailure, TemporaryFailure
from rulekit.notify.smtp import SmtpConfig, SmtpSender, build_email, message_id_header
from rulekit.notify.webhook import (
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    InvalidSignature,
    WebhookSender,
    encode_payload,
    retry_after_seconds,
    sign,
    verify,
)

SUBJECT = "New lead – 12 Elm St"  # an en dash
TO = "ana@agents.rulekit.test"
CC = "team@agents.rulekit.test"
FROM = "leads@rulekit.test"


def lead_email(message_id: str | int = 42, *, to: str = TO, cc: tuple[str, ...] = (CC,),
               subject: str = SUBJECT) -> EmailMessage:
    return build_email(message_id=message_id, sender=f"Rulekit <{FROM}>", to=[to], cc=list(cc),
                       subject=subject, text="Café Lumière – call within 10 minutes.",
                       html="<p>Café Lumière – <b>call within 10 minutes</b>.</p>")


def everything_said(exc: BaseException) -> str:
    """What the exception and every exception chained to it say (text, repr, arguments)."""
    said: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(said) < 100:
        said += [str(seen), repr(seen), *map(repr, seen.args),
                 *traceback.format_exception_only(seen)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(said)


# -- SmtpConfig.from_url ------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.test", dict(host="mail.example.test", port=25, starttls=False,
                                      implicit_tls=False, username=None, password=None)),
    ("smtp://mail.example.test?starttls=1", dict(port=587, starttls=True)),
    ("smtp://mail.example.test:2525?starttls=yes", dict(port=2525, starttls=True)),
    ("smtps://mail.example.test", dict(port=465, implicit_tls=True, tls_verify=True)),
    ("SMTPS://u:p@mail.example.test:1465/?tls_verify=0",
     dict(port=1465, implicit_tls=True, tls_verify=False, username="u", password="p")),
    ("smtp://leads%40example.test:p%40ss%3Aw%2Fo%3Frd@mail.example.test",
     dict(username="leads@example.test", password="p@ss:w/o?rd")),
    ("smtp://leads@example.test:pw@mail.example.test",  # an unencoded '@' in the user
     dict(username="leads@example.test", password="pw", host="mail.example.test")),
    ("smtp://only-user@mail.example.test", dict(username="only-user", password=None)),
    ("smtp://u:@mail.example.test", dict(username="u", password="")),
    ("smtp://[::1]:2525", dict(host="::1", port=2525)),
    ("smtp://h.test?timeout=2.5&from=Leads%20%3Cleads%2Brouting@x.test%3E&helo=box.test",
     dict(timeout=2.5, sender="Leads <leads+routing@x.test>", helo="box.test")),
])
def test_smtp_url_forms(url: str, expected: dict[str, Any]) -> None:
    config = SmtpConfig.from_url(url)
    for name, value in expected.items():
        assert getattr(config, name) == value, name


@pytest.mark.parametrize(("url", "names"), [
    ("http://mail.example.test", "unknown scheme 'http'"),
    ("mail.example.test:25", "no '://'"),
    ("smtp://mail.example.test:smtp", "bad port"),
    ("smtp://mail.example.test:70000", "bad port 70000"),
    ("smtp://mail.example.test:0", "bad port 0"),
    ("smtp://mail.example.test?tls=1", "unknown option 'tls'"),
    ("smtp://mail.example.test?starttls=maybe", "starttls='maybe'"),
    ("smtp://mail.example.test?timeout=0", "timeout='0'"),
    ("smtp://mail.example.test?timeout=soon", "timeout='soon'"),
    ("smtp://mail.example.test?starttls=1&starttls=1", "given twice"),
    ("smtps://mail.example.test?starttls=1", "starttls is for smtp://"),
    ("smtp://mail.example.test/inbox", "no path"),
    ("smtp://mail.example.test#x", "fragment"),
    ("smtp://", "no host"),
    ("smtp://:pw@mail.example.test", "user name is needed"),
    ("smtp://mail.example.test?from=", "from= is empty"),
])
def test_smtp_url_errors_name_the_bad_part(url: str, names: str) -> None:
    with pytest.raises(ValueError, match=re.escape(names)):
        SmtpConfig.from_url(url)


@pytest.mark.parametrize("url", [
    "smtp://leads:hunter2/x@mail.example.test",   # '/' in the password, not encoded
    "smtp://leads:hunter2?x@mail.example.test",   # '?'
    "smtp://leads:hunter2#x@mail.example.test",   # '#'
    "smtp://leads:hunter2%ff@mail.example.test",  # not UTF-8 once decoded
    "smtp://leads:hunter2",                       # no host: the password looks like a port
])
def test_smtp_url_errors_never_quote_the_password(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        SmtpConfig.from_url(url)
    assert "hunter2" not in everything_said(caught.value)


def test_from_argument_wins_over_the_query() -> None:
    config = SmtpConfig.from_url("smtp://h.test?from=a@x.test", sender="b@x.test")
    assert config.sender == "b@x.test"
    assert SmtpConfig.from_url("smtp://h.test", sender="b@x.test").sender == "b@x.test"


def test_password_is_kept_out_of_repr_str_and_redacted() -> None:
    config = SmtpConfig.from_url("smtp://leads:hunter2@mail.example.test?starttls=1")
    for shown in (repr(config), str(config), f"{config}", config.redacted(),
                  repr(SmtpSender(config))):
        assert "hunter2" not in shown
    assert config.redacted() == "smtp://leads:***@mail.example.test:587?starttls=1"
    assert "password='***'" in repr(config)
    assert config.password == "hunter2"


printable = st.characters(exclude_categories=("Cc", "Cs")).filter(str.isprintable)


@settings(max_examples=200)
@given(user=st.text(printable, min_size=1, max_size=30),
       password=st.text(printable, max_size=30))
def test_url_round_trips_any_printable_user_and_password(user: str, password: str) -> None:
    url = (f"smtp://{quote(user, safe='')}:{quote(password, safe='')}@mail.example.test:2525"
           "?starttls=1&from=leads@example.test")
    config = SmtpConfig.from_url(url)
    assert (config.username, config.password) == (user, password)
    assert (config.host, config.port, config.starttls) == ("mail.example.test", 2525, True)
    # What redacted() says does not depend on the password at all, so it cannot reveal it.
    other = replace(config, password="x")
    assert config.redacted() == other.redacted()
    assert repr(config) == repr(other) and str(config) == str(other)
    assert config.redacted().count("***") == 1
    again = SmtpConfig.from_url(config.redacted())
    assert (again.username, again.password) == (user, "***")
    assert replace(again, password=password) == config


# -- build_email --------------------------------------------------------------------------------


def test_build_email_structure() -> None:
    when = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    msg = build_email(message_id=42, sender=f"Rulekit <{FROM}>", to=[TO, '"Doe, Jane" <j@x.test>'],
                      cc=[CC], subject=SUBJECT, text="plain – text", html="<p>html</p>",
                      headers={"X-Rulekit-Lead": "ls-2026-12-02-0042"}, date=when)
    assert msg["Message-ID"] == "<42@rulekit>"
    assert msg["Date"] == format_datetime(when)
    assert msg["To"] == f'{TO}, "Doe, Jane" <j@x.test>'
    assert msg["Cc"] == CC
    assert msg["Subject"] == SUBJECT
    assert msg["X-Rulekit-Lead"] == "ls-2026-12-02-0042"
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert "=?utf-8?" in msg.as_string()  # the en dash is encoded, not sent raw
    text_only = build_email(message_id=1, sender=FROM, to=[TO], subject="s", text="t", html=None)
    assert text_only.get_content_type() == "text/plain"


@pytest.mark.parametrize(("given_id", "header"), [
    (42, "<42@rulekit>"),
    ("lead-7.offer-2", "<lead-7.offer-2@rulekit>"),
    ("<abc.123@mail.example.test>", "<abc.123@mail.example.test>"),
    ("abc@mail.example.test", "<abc@mail.example.test>"),
])
def test_message_id_is_stable(given_id: str | int, header: str) -> None:
    assert message_id_header(given_id) == header
    assert lead_email(given_id)["Message-ID"] == lead_email(given_id)["Message-ID"] == header


@pytest.mark.parametrize("changes", [
    dict(subject="Hello\r\nBcc: victim@x.test"),
    dict(subject="Hello\nX-Evil: 1"),
    dict(to=["ana@x.test\r\nBcc: victim@x.test"]),
    dict(cc=["c@x.test\nBcc: victim@x.test"]),
    dict(sender="leads@x.test\rBcc: victim@x.test"),
    dict(headers={"X-Note": "a\r\nBcc: victim@x.test"}),
    dict(headers={"Bcc": "victim@x.test"}),
    dict(headers={"Bad Name": "x"}),
    dict(to=["ana@x.test, victim@x.test"]),  # two addresses in one entry
    dict(to=["no-domain"]),
    dict(to=[]),
    dict(message_id="has space"),
])
def test_build_email_refuses_header_injection_and_bad_addresses(changes: dict[str, Any]) -> None:
    arguments: dict[str, Any] = dict(message_id=1, sender=FROM, to=[TO], cc=[], subject="s",
                                     text="t", html=None)
    arguments.update(changes)
    with pytest.raises(ValueError):
        build_email(**arguments)


# -- SMTP against a real server -----------------------------------------------------------------


def test_plain_delivery_keeps_subject_id_cc_and_both_parts(mail_server: MailServer) -> None:
    msg = lead_email()
    SmtpSender(SmtpConfig.from_url(mail_server.url(), sender=FROM)).send(msg, [TO, CC])
    [mail] = mail_server.wait_for(1)
    got = mail.message
    assert got["Subject"] == SUBJECT
    assert got["Message-ID"] == msg["Message-ID"] == "<42@rulekit>"
    assert got["To"] == TO and got["Cc"] == CC
    assert got["Date"] == msg["Date"]
    assert mail.rcpt_tos == (TO, CC) and mail.mail_from == FROM
    plain, html = got.get_body(("plain",)), got.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().strip() == "Café Lumière – call within 10 minutes."
    assert "<b>call within 10 minutes</b>" in html.get_content()
    assert not mail.tls and mail.login is None


def test_envelope_sender_defaults_to_the_from_header(mail_server: MailServer) -> None:
    SmtpSender(SmtpConfig.from_url(mail_server.url())).send(lead_email(), [TO])
    assert mail_server.wait_for(1)[0].mail_from == FROM


def test_starttls_and_login(tls_mail_server: MailServer) -> None:
    config = SmtpConfig.from_url(tls_mail_server.url(user=MAIL_USER, password=MAIL_PASSWORD),
                                 sender=FROM)
    assert config.password == MAIL_PASSWORD  # '#', ':', '@', '/' and 'ö' survived the URL
    SmtpSender(config).send(lead_email(), [TO, CC])
    [mail] = tls_mail_server.wait_for(1)
    assert mail.tls and mail.login == MAIL_USER
    assert mail.message["Subject"] == SUBJECT
    assert tls_mail_server.auth_attempts == [("PLAIN", MAIL_USER, True)]


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_login_with_each_mechanism(tls_files: TlsFiles, mechanism: str) -> None:
    with MailServer(tls=tls_files, users={"agent": "plain-ascii-pw"},
                    auth_mechanisms=(mechanism,)) as server:
        SmtpSender(SmtpConfig.from_url(server.url(user="agent", password="plain-ascii-pw")))\
            .send(lead_email(), [TO])
        assert server.wait_for(1)[0].login == "agent"
        assert server.auth_attempts == [(mechanism, "agent", True)]


def test_wrong_password_is_permanent_and_never_said(tls_mail_server: MailServer,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rulekit")
    secret = "not-the-password-4711"
    sender = SmtpSender(SmtpConfig.from_url(tls_mail_server.url(user=MAIL_USER,
                                                                password=secret)))
    with pytest.raises(PermanentFailure) as caught:
        sender.send(lead_email(), [TO])
    assert caught.value.code == 535
    assert "login" in str(caught.value) and MAIL_USER in str(caught.value)
    said = everything_said(caught.value)
    assert secret not in said and quote(secret) not in said
    assert secret not in caplog.text
    assert tls_mail_server.received == []


def test_logs_never_carry_the_password(tls_mail_server: MailServer,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rulekit")
    config = SmtpConfig.from_url(tls_mail_server.url(user=MAIL_USER, password=MAIL_PASSWORD))
    with SmtpSender(config) as smtp:
        smtp.send(lead_email(), [TO])
    assert "connected" in caplog.text
    assert MAIL_PASSWORD not in caplog.text and quote(MAIL_PASSWORD, safe="") not in caplog.text


def test_non_ascii_password_needs_plain(tls_files: TlsFiles) -> None:
    with MailServer(tls=tls_files, users={MAIL_USER: MAIL_PASSWORD},
                    auth_mechanisms=("LOGIN",)) as server:
        sender = SmtpSender(SmtpConfig.from_url(server.url(user=MAIL_USER,
                                                           password=MAIL_PASSWORD)))
        with pytest.raises(PermanentFailure, match="AUTH PLAIN") as caught:
            sender.send(lead_email(), [TO])
        assert MAIL_PASSWORD not in everything_said(caught.value)


def test_login_without_tls_is_refused_by_the_server(tls_mail_server: MailServer) -> None:
    # The server offers AUTH only after STARTTLS; without it the login cannot happen.
    url = tls_mail_server.url(user=MAIL_USER, password=MAIL_PASSWORD, starttls="0")
    with pytest.raises(PermanentFailure, match="offers no login"):
        SmtpSender(SmtpConfig.from_url(url)).send(lead_email(), [TO])


def test_certificate_is_verified_by_default(tls_mail_server: MailServer) -> None:
    url = tls_mail_server.url(user=MAIL_USER, password=MAIL_PASSWORD, tls_verify="1")
    with pytest.raises(PermanentFailure, match="certificate does not verify"):
        SmtpSender(SmtpConfig.from_url(url)).send(lead_email(), [TO])


def test_certificate_verifies_against_a_trusted_ca(tls_mail_server: MailServer,
                                                   tls_files: TlsFiles,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.cert))
    url = tls_mail_server.url(user=MAIL_USER, password=MAIL_PASSWORD, tls_verify="1")
    SmtpSender(SmtpConfig.from_url(url)).send(lead_email(), [TO])
    assert tls_mail_server.wait_for(1)[0].tls


def test_implicit_tls(tls_files: TlsFiles) -> None:
    with MailServer(tls=tls_files, implicit_tls=True) as server:
        assert server.url().startswith("smtps://")
        SmtpSender(SmtpConfig.from_url(server.url())).send(lead_email(), [TO])
        assert server.wait_for(1)[0].tls


def test_starttls_asked_but_not_offered_is_permanent(mail_server: MailServer) -> None:
    with pytest.raises(PermanentFailure, match="does not offer STARTTLS"):
        SmtpSender(SmtpConfig.from_url(mail_server.url(starttls="1"))).send(lead_email(), [TO])


def test_server_down_is_temporary_and_quick() -> None:
    config = SmtpConfig.from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2")
    started = time.monotonic()
    with pytest.raises(TemporaryFailure, match="connection refused"):
        SmtpSender(config).send(lead_email(), [TO])
    assert time.monotonic() - started < 1.0


def test_silent_server_times_out_within_the_timeout() -> None:
    with silent_listener() as port:
        config = SmtpConfig.from_url(f"smtp://127.0.0.1:{port}?timeout=0.4")
        started = time.monotonic()
        with pytest.raises(TemporaryFailure, match=r"no answer within 0\.4s"):
            SmtpSender(config).send(lead_email(), [TO])
        assert 0.3 < time.monotonic() - started < 2.0


@pytest.mark.parametrize(("code", "stage", "kind"), [
    (451, "rcpt", TemporaryFailure),
    (550, "rcpt", PermanentFailure),
    (452, "mail", TemporaryFailure),
    (553, "mail", PermanentFailure),
    (451, "data", TemporaryFailure),
    (554, "data", PermanentFailure),
])
def test_refusals_by_code(mail_server: MailServer, code: int, stage: Any,
                          kind: type[DeliveryFailure]) -> None:
    mail_server.refuse(code, stage=stage)
    with pytest.raises(kind) as caught:
        SmtpSender(SmtpConfig.from_url(mail_server.url())).send(lead_email(), [TO, CC])
    assert type(caught.value) is kind
    assert caught.value.code == code and str(code) in str(caught.value)
    if stage == "rcpt":
        assert set(caught.value.refused) == {TO, CC}
    mail_server.accept()
    SmtpSender(SmtpConfig.from_url(mail_server.url())).send(lead_email(), [TO, CC])
    assert len(mail_server.wait_for(1)) == 1


def test_some_recipients_refused(mail_server: MailServer) -> None:
    mail_server.refuse(550, recipients=[CC])
    with pytest.raises(PermanentFailure) as caught:
        SmtpSender(SmtpConfig.from_url(mail_server.url())).send(lead_email(), [TO, CC])
    assert caught.value.accepted == (TO,)
    assert list(caught.value.refused) == [CC] and caught.value.refused[CC][0] == 550
    assert mail_server.wait_for(1)[0].rcpt_tos == (TO,)


def test_a_temporary_refusal_among_permanent_ones_is_temporary(mail_server: MailServer) -> None:
    mail_server.refuse(550, recipients=[TO])
    mail_server.refuse(451, recipients=[CC])
    with pytest.raises(TemporaryFailure) as caught:
        SmtpSender(SmtpConfig.from_url(mail_server.url())).send(lead_email(), [TO, CC])
    assert caught.value.refused == {TO: (550, caught.value.refused[TO][1]),
                                    CC: (451, caught.value.refused[CC][1])}


def test_one_connection_for_a_batch(mail_server: MailServer) -> None:
    config = SmtpConfig.from_url(mail_server.url())
    with SmtpSender(config) as smtp:
        for n in range(3):
            smtp.send(lead_email(n), [TO])
    single = SmtpSender(config)
    single.send(lead_email(3), [TO])
    single.send(lead_email(4), [TO])
    connections = [m.connection for m in mail_server.wait_for(5)]
    assert connections[0] == connections[1] == connections[2]
    assert len(set(connections)) == 3


def test_a_dropped_connection_is_opened_again(mail_server: MailServer) -> None:
    with SmtpSender(SmtpConfig.from_url(mail_server.url())) as smtp:
        smtp.send(lead_email(1), [TO])
        mail_server.restart()  # closes the kept connection; same port
        smtp.send(lead_email(2), [TO])
    first, second = mail_server.wait_for(2)
    assert first.connection != second.connection
    assert second.message["Message-ID"] == "<2@rulekit>"


def test_down_then_up_again(mail_server: MailServer) -> None:
    config = SmtpConfig.from_url(mail_server.url())
    mail_server.stop()
    with pytest.raises(TemporaryFailure):
        SmtpSender(config).send(lead_email(), [TO])
    mail_server.start()
    SmtpSender(config).send(lead_email(), [TO])
    assert len(mail_server.wait_for(1)) == 1


def test_refusal_for_a_number_of_times(mail_server: MailServer) -> None:
    mail_server.refuse(451, stage="data", times=1)
    sender = SmtpSender(SmtpConfig.from_url(mail_server.url()))
    with pytest.raises(TemporaryFailure):
        sender.send(lead_email(), [TO])
    sender.send(lead_email(), [TO])
    assert len(mail_server.wait_for(1)) == 1


def test_send_checks_its_arguments(mail_server: MailServer) -> None:
    sender = SmtpSender(SmtpConfig.from_url(mail_server.url()))
    with pytest.raises(ValueError, match="no recipients"):
        sender.send(lead_email(), [])
    with pytest.raises(ValueError):
        sender.send(lead_email(), ["a@x.test\r\nRCPT TO:<victim@x.test>"])
    with pytest.raises(TypeError):
        sender.send(lead_email(), TO)


# -- webhook signatures -------------------------------------------------------------------------

SECRET = "whsec-test-secret"


def signed_headers(secret: Any, message_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {HEADER_ID: message_id, HEADER_TIMESTAMP: str(timestamp),
            HEADER_SIGNATURE: sign(secret, message_id, timestamp, body)}


def test_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    body = b'{"lead":"L-1"}'
    digest = hmac.new(SECRET.encode(), b"42.1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 42, 1700000000, body) == f"v1={digest}"
    assert sign(SECRET, "42", 1700000000, body.decode()) == f"v1={digest}"


def test_verify_accepts_any_header_case_and_rejects_what_is_wrong() -> None:
    body, now = b'{"a":1}', 1_700_000_000
    good = signed_headers(SECRET, "msg-1", body, now)
    verify(SECRET, {k.lower(): v for k, v in good.items()}, body, now=now)
    cases: list[tuple[dict[str, str], str]] = [
        ({k: v for k, v in good.items() if k != HEADER_SIGNATURE}, "missing"),
        ({k: v for k, v in good.items() if k != HEADER_TIMESTAMP}, "missing"),
        ({k: v for k, v in good.items() if k != HEADER_ID}, "missing"),
        ({**good, HEADER_SIGNATURE: "v0=abc"}, "no v1="),
        ({**good, HEADER_SIGNATURE: "v1=" + "0" * 64}, "does not match"),
        ({**good, HEADER_TIMESTAMP: "17e8"}, "unix seconds"),
        ({**good, HEADER_TIMESTAMP: str(now + 1)}, "does not match"),
        ({**good, HEADER_ID: "msg-2"}, "does not match"),
    ]
    for headers, reason in cases:
        with pytest.raises(InvalidSignature, match=reason):
            verify(SECRET, headers, body, now=now)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify("another-secret", good, body, now=now)


def test_timestamp_tolerance() -> None:
    body, signed_at = b"{}", 1_700_000_000
    headers = signed_headers(SECRET, "m", body, signed_at)
    verify(SECRET, headers, body, now=signed_at + 300)
    verify(SECRET, headers, body, now=signed_at - 300)
    with pytest.raises(InvalidSignature, match="301 s old"):
        verify(SECRET, headers, body, now=signed_at + 301)
    with pytest.raises(InvalidSignature, match="ahead"):
        verify(SECRET, headers, body, now=signed_at - 301)
    verify(SECRET, headers, body, now=signed_at + 3000, tolerance=3600)


def test_rotation_signs_with_every_secret() -> None:
    body, now = b'{"x":1}', 1_700_000_000
    headers = signed_headers(["old-secret", "new-secret"], "m-1", body, now)
    assert len(headers[HEADER_SIGNATURE].split(" ")) == 2
    verify("old-secret", headers, body, now=now)
    verify("new-secret", headers, body, now=now)
    verify(["newer", "new-secret"], headers, body, now=now)  # a receiver mid-rotation
    with pytest.raises(InvalidSignature):
        verify("third-secret", headers, body, now=now)


def test_bad_ids_and_secrets_are_refused() -> None:
    for bad_id in ("has.dot", "has space", "", "é"):
        with pytest.raises(ValueError):
            sign(SECRET, bad_id, 1, b"")
    with pytest.raises(ValueError):
        sign("", "m", 1, b"")
    with pytest.raises(ValueError):
        sign(SECRET, "m", -1, b"")


message_ids = st.from_regex(r"[!-\-/-~]{1,40}", fullmatch=True)
timestamps = st.integers(min_value=0, max_value=10**10)
secrets = st.text(min_size=1, max_size=40) | st.binary(min_size=1, max_size=40)


@given(secret=secrets, message_id=message_ids, timestamp=timestamps, body=st.binary())
def test_sign_verify_round_trip(secret: str | bytes, message_id: str, timestamp: int,
                                body: bytes) -> None:
    verify(secret, signed_headers(secret, message_id, body, timestamp), body, now=timestamp)


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(secret=secrets, message_id=message_ids, other_id=message_ids, timestamp=timestamps,
       body=st.binary(), other_body=st.binary())
def test_any_change_to_body_or_id_breaks_verification(
        secret: str | bytes, message_id: str, other_id: str, timestamp: int, body: bytes,
        other_body: bytes) -> None:
    headers = signed_headers(secret, message_id, body, timestamp)
    if other_body != body:
        with pytest.raises(InvalidSignature):
            verify(secret, headers, other_body, now=timestamp)
    if other_id != message_id:
        with pytest.raises(InvalidSignature):
            verify(secret, {**headers, HEADER_ID: other_id}, body, now=timestamp)


def test_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds("120", now=now) == 120.0
    later = datetime.fromtimestamp(now, UTC) + timedelta(seconds=90)
    assert retry_after_seconds(format_datetime(later, usegmt=True), now=now) == 90.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None


# -- webhooks against a real receiver -----------------------------------------------------------


PAYLOAD = {"subject": SUBJECT, "lead": {"id": "ls-2026-12-02-0042", "price": 415000},
           "agents": ["ana", "bo"]}


def test_post_delivers_a_signed_compact_json_body(webhook_receiver: WebhookReceiver) -> None:
    with WebhookSender() as sender:
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 42, PAYLOAD)
    [request] = webhook_receiver.wait_for(1)
    assert request.verified, request.error
    assert request.method == "POST" and request.path == "/hooks/rulekit"
    assert request.body == encode_payload(PAYLOAD)
    assert request.body == ('{"agents":["ana","bo"],"lead":{"id":"ls-2026-12-02-0042",'
                            '"price":415000},"subject":"New lead – 12 Elm St"}').encode()
    assert request.json() == PAYLOAD
    assert request.header(HEADER_ID) == "42"
    assert abs(int(request.header(HEADER_TIMESTAMP) or 0) - time.time()) < 60
    assert (request.header(HEADER_SIGNATURE) or "").startswith("v1=")
    assert request.header("User-Agent") == f"rulekit/{__version__}"
    assert request.header("Content-Type") == "application/json"


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_statuses_worth_retrying(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.respond(status, body="busy")
    with WebhookSender() as sender, pytest.raises(TemporaryFailure) as caught:
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 1, PAYLOAD)
    assert caught.value.code == status and caught.value.retry_after is None
    assert str(status) in str(caught.value) and "busy" in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_statuses_not_worth_retrying(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.respond(status)
    with WebhookSender() as sender, pytest.raises(PermanentFailure) as caught:
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 1, PAYLOAD)
    assert caught.value.code == status


def test_429_keeps_retry_after(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond(429, headers={"Retry-After": "30"}, times=1)
    with WebhookSender() as sender:
        with pytest.raises(TemporaryFailure) as caught:
            sender.post(webhook_receiver.url(), webhook_receiver.secret, 7, PAYLOAD)
        assert caught.value.retry_after == 30.0 and caught.value.code == 429
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 7, PAYLOAD)  # then 200
    first, second = webhook_receiver.wait_for(2)
    assert first.header(HEADER_ID) == second.header(HEADER_ID) == "7"


def test_retry_after_as_a_date(webhook_receiver: WebhookReceiver) -> None:
    now = 1_800_000_000.0
    later = format_datetime(datetime.fromtimestamp(now + 120, UTC), usegmt=True)
    webhook_receiver.respond(503, headers={"Retry-After": later})
    webhook_receiver.now = lambda: now
    with WebhookSender(clock=lambda: now) as sender, pytest.raises(TemporaryFailure) as caught:
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 7, PAYLOAD)
    assert caught.value.retry_after == 120.0


def test_tampered_body_fails_verification(webhook_receiver: WebhookReceiver) -> None:
    with WebhookSender() as sender:
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 9, PAYLOAD)
    [request] = webhook_receiver.wait_for(1)
    headers = dict(request.headers)
    verify(webhook_receiver.secret, headers, request.body)
    tampered = request.body.replace(b"415000", b"415001")
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(webhook_receiver.secret, headers, tampered)


def test_wrong_secret_is_rejected_by_the_receiver(webhook_receiver: WebhookReceiver) -> None:
    with WebhookSender() as sender, pytest.raises(PermanentFailure) as caught:
        sender.post(webhook_receiver.url(), "not-the-secret", 9, PAYLOAD)
    assert caught.value.code == 401
    [request] = webhook_receiver.requests
    assert not request.verified and "does not match" in (request.error or "")
    assert "not-the-secret" not in everything_said(caught.value)


def test_old_timestamp_is_rejected(webhook_receiver: WebhookReceiver) -> None:
    with WebhookSender(clock=lambda: time.time() - 3600) as sender, \
            pytest.raises(PermanentFailure):
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 9, PAYLOAD)
    [request] = webhook_receiver.requests
    assert not request.verified and "old" in (request.error or "")


def test_rotation_with_two_signatures() -> None:
    with WebhookReceiver(secret="new-secret") as new_only, \
            WebhookReceiver(secret="old-secret") as old_only, WebhookSender() as sender:
        for receiver in (new_only, old_only):
            sender.post(receiver.url(), ["old-secret", "new-secret"], "m-5", PAYLOAD)
            [request] = receiver.wait_for(1)
            assert request.verified
            assert len((request.header(HEADER_SIGNATURE) or "").split()) == 2


def test_redirect_on_the_same_host_is_followed(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond(307, headers={"Location": "/hooks/moved"}, times=1)
    with WebhookSender() as sender:
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 3, PAYLOAD)
    first, second = webhook_receiver.wait_for(2)
    assert (first.path, second.path) == ("/hooks/rulekit", "/hooks/moved")
    assert second.verified and second.method == "POST" and second.body == first.body


def test_redirect_to_another_host_is_not_followed(webhook_receiver: WebhookReceiver) -> None:
    with WebhookReceiver() as elsewhere:
        webhook_receiver.respond(302, headers={"Location": elsewhere.url()})
        with WebhookSender() as sender, pytest.raises(PermanentFailure, match="another host"):
            sender.post(webhook_receiver.url(), webhook_receiver.secret, 3, PAYLOAD)
        assert elsewhere.requests == []


def test_redirect_loop_ends(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond(308, headers={"Location": "/hooks/rulekit"})
    with WebhookSender(max_redirects=2) as sender, \
            pytest.raises(PermanentFailure, match="more than 2 redirects"):
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 3, PAYLOAD)
    assert len(webhook_receiver.requests) == 3


def test_endpoint_down_is_temporary_and_quick() -> None:
    started = time.monotonic()
    with WebhookSender(timeout=2) as sender, pytest.raises(TemporaryFailure):
        sender.post(f"http://127.0.0.1:{free_port()}/hook", SECRET, 1, PAYLOAD)
    assert time.monotonic() - started < 1.0


def test_silent_endpoint_times_out() -> None:
    with silent_listener() as port, WebhookSender(timeout=0.4) as sender:
        started = time.monotonic()
        with pytest.raises(TemporaryFailure, match=r"no answer within 0\.4s"):
            sender.post(f"http://127.0.0.1:{port}/hook", SECRET, 1, PAYLOAD)
        assert time.monotonic() - started < 2.0


def test_slow_answer_times_out(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond(200, delay=2.0)
    with WebhookSender(timeout=0.3) as sender, pytest.raises(TemporaryFailure):
        sender.post(webhook_receiver.url(), webhook_receiver.secret, 1, PAYLOAD)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/hook", "not a url", "http:///nohost"])
def test_bad_url_is_permanent(url: str) -> None:
    with WebhookSender() as sender, pytest.raises(PermanentFailure):
        sender.post(url, SECRET, 1, PAYLOAD)


def test_payload_must_be_json() -> None:
    with WebhookSender() as sender:
        with pytest.raises(TypeError):
            sender.post("http://127.0.0.1:9/hook", SECRET, 1, {"when": datetime.now(UTC)})
        with pytest.raises(ValueError):
            sender.post("http://127.0.0.1:9/hook", SECRET, 1, {"x": float("nan")})


# -- the verification recipe in the documentation -----------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs"


def channels_recipe() -> Callable[..., bool]:
    """The stdlib-only verification function from the "## Channels" section of the docs."""
    for page in (DOCS / "notifications.md", DOCS / "notifications-channels.md"):
        if not page.exists():
            continue
        text = page.read_text(encoding="utf-8")
        start = text.find("## Channels")
        if start < 0:
            continue
        end = text.find("\n## ", start + 1)
        section = text[start:end if end >= 0 else len(text)]
        for block in re.findall(r"^```python\n(.*?)^```", section, re.DOTALL | re.MULTILINE):
            if "def verify_rulekit_webhook" in block:
                namespace: dict[str, Any] = {"__name__": "docs_recipe"}
                exec(compile(block, str(page), "exec"), namespace)  # the project's own docs
                function: Callable[..., bool] = namespace["verify_rulekit_webhook"]
                return function
    raise AssertionError("no verify_rulekit_webhook recipe in the Channels section of the docs")


def test_the_documented_recipe_checks_real_requests(webhook_receiver: WebhookReceiver) -> None:
    recipe = channels_recipe()
    assert isinstance(webhook_receiver.secret, str)
    with WebhookSender() as sender:
        sender.post(webhook_receiver.url(), ["old-secret", webhook_receiver.secret], "m-1",
                    PAYLOAD)
    [request] = webhook_receiver.wait_for(1)
    headers = dict(request.headers)
    assert recipe(webhook_receiver.secret, headers, request.body) is True
    assert recipe("old-secret", headers, request.body) is True
    assert recipe("wrong-secret", headers, request.body) is False
    assert recipe(webhook_receiver.secret, headers, request.body + b" ") is False
    assert recipe(webhook_receiver.secret, {**headers, HEADER_ID: "m-2"}, request.body) is False
    old = signed_headers(webhook_receiver.secret, "m-1", request.body, int(time.time()) - 600)
    assert recipe(webhook_receiver.secret, old, request.body) is False
    lowered = {k.lower(): v for k, v in headers.items()}
    assert recipe(webhook_receiver.secret, lowered, request.body) is True
