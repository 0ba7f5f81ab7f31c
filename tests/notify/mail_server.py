"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 and a free port, in a thread.

For any test under ``tests/notify`` (the folder is on ``sys.path``: ``from mail_server import
MailServer``), or through the fixtures of ``tests/notify/conftest.py`` (``mail_server``,
``tls_mail_server``, ``tls_files``)::

    server = MailServer().start()             # or: with MailServer() as server: ...
    config = SmtpConfig.from_url(server.url())
    ...
    [mail] = server.wait_for(1)                # Received: .message (an EmailMessage),
    mail.message["Subject"], mail.rcpt_tos     #   .rcpt_tos (envelope), .mail_from, .login
    server.refuse(451)                         # RCPT TO answered 451 from now on
    server.refuse(550, stage="data", times=1)  # the next DATA answered 550, once
    server.accept()                            # no more refusals
    server.stop()                              # down: connections are refused...
    server.start()                             # ...and up again on the same port
    server.stop()

``MailServer(tls=tls_files)`` offers STARTTLS (and requires it before MAIL);
``MailServer(tls=tls_files, implicit_tls=True)`` is an ``smtps://`` server;
``users={"name": "password"}`` requires AUTH (LOGIN or PLAIN, over TLS) with those
(``auth_mechanisms=("LOGIN",)`` offers only LOGIN).  ``Received.connection`` numbers the
SMTP sessions, to tell whether two messages came over one connection.
``silent_listener()`` is a port that takes connections and never answers, for timeouts.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# aiosmtpd logs each session from the server's thread; after a test ends pytest has closed
# the stream its handler writes to, so the server's own log is kept quiet.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)

HOST = "127.0.0.1"
#: The account the ``tls_mail_server`` fixture accepts (a password with URL-special characters).
MAIL_USER = "leads@rulekit.test"
MAIL_PASSWORD = "s3cr#t:p@ss/wörd"

Stage = Literal["mail", "rcpt", "data"]

_DEFAULT_TEXT = {
    4: "4.3.0 Try again later (test server refusal)",
    5: "5.7.1 Refused (test server refusal)",
}


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def silent_listener(host: str = HOST) -> Iterator[int]:
    """A port that accepts TCP connections (in the kernel's backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((host, 0))
        listener.listen(8)
        yield listener.getsockname()[1]


# -- a self-signed certificate ------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """A self-signed certificate for ``localhost`` and ``127.0.0.1``, and its key (PEM files)."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_self_signed(folder: Path) -> TlsFiles:
    """Write ``cert.pem`` and ``key.pem`` in ``folder``: valid for a day, from 5 minutes ago."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(identifier, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(cert=folder / "cert.pem", key=folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return files


# -- the server ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message the server took."""

    message: EmailMessage  # parsed with email.policy.default
    mail_from: str  # envelope sender
    rcpt_tos: tuple[str, ...]  # envelope recipients, in order
    raw: bytes  # the DATA as received
    login: str | None  # the authenticated user, if any
    tls: bool  # whether the session was encrypted
    connection: int  # numbers the SMTP sessions: messages sent on one connection share it


@dataclass
class _Refusal:
    code: int
    stage: Stage
    text: str
    recipients: frozenset[str] | None
    remaining: int | None


def _encrypted(server: SMTP, session: Session) -> bool:
    """After STARTTLS, or on an smtps:// server (where aiosmtpd leaves ``session.ssl`` unset)."""
    transport = server.transport
    return session.ssl is not None or (
        transport is not None and transport.get_extra_info("ssl_object") is not None)


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        refusal = self.server._refusal("mail", address)
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        refusal = self.server._refusal("rcpt", address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self.server._refusal("data", None)
        if refusal:
            return refusal
        raw = envelope.original_content or envelope.content or b""
        assert isinstance(raw, bytes)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data,
                                                               LoginPassword) else None
        number = getattr(session, "_test_connection", None)
        if number is None:
            number = next(self.server._connection_numbers)
            session._test_connection = number  # type: ignore[attr-defined]
        self.server._record(Received(message=message, mail_from=envelope.mail_from or "",
                                     rcpt_tos=tuple(envelope.rcpt_tos), raw=raw, login=login,
                                     tls=_encrypted(server, session), connection=number))
        return "250 OK: queued"


@dataclass
class MailServer:
    """An aiosmtpd server on ``host`` and ``port`` (a free one unless given); see the module."""

    tls: TlsFiles | None = None
    implicit_tls: bool = False
    users: Mapping[str, str] | None = None
    #: The AUTH mechanisms offered (default: LOGIN and PLAIN).
    auth_mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN")
    port: int = 0
    host: str = HOST
    #: Every AUTH attempt: (mechanism, login, succeeded). Passwords are not kept.
    auth_attempts: list[tuple[str, str, bool]] = field(default_factory=list)
    _received: list[Received] = field(default_factory=list, repr=False)
    _refusals: list[_Refusal] = field(default_factory=list, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _controller: Controller | None = field(default=None, repr=False)
    _connection_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1),
                                               repr=False)

    def __post_init__(self) -> None:
        if self.implicit_tls and self.tls is None:
            raise ValueError("implicit_tls needs tls=")
        if self.users is not None and self.tls is None:
            raise ValueError("users= needs tls= (AUTH is offered over TLS only)")
        if not self.port:
            self.port = free_port(self.host)

    # -- running --------------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen (again) on the same port; returns the server."""
        if self._controller is not None:
            return self
        options: dict[str, Any] = {}
        if self.tls is not None:
            if self.implicit_tls:
                options["ssl_context"] = self.tls.server_context()
            else:
                options["tls_context"] = self.tls.server_context()
                options["require_starttls"] = True
        if self.users is not None:
            options["authenticator"] = self._authenticate
            options["auth_required"] = True
            options["auth_exclude_mechanism"] = [
                m for m in ("LOGIN", "PLAIN") if m not in self.auth_mechanisms]
        controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                server_hostname="mail.rulekit.test", ready_timeout=5.0,
                                **options)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening and close every open connection (a no-op when already stopped)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def restart(self) -> None:
        """Stop, then start again on the same port (connections from before are closed)."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, *, user: str | None = None, password: str | None = None,
            **options: str) -> str:
        """An ``smtp://`` (or ``smtps://``) URL for this server.

        With ``tls`` the URL asks for STARTTLS and ``tls_verify=0`` (self-signed), unless
        ``options`` say otherwise; user and password are percent-encoded.
        """
        scheme = "smtps" if self.implicit_tls else "smtp"
        query: dict[str, str] = {}
        if self.tls is not None:
            if not self.implicit_tls:
                query["starttls"] = "1"
            query["tls_verify"] = "0"
        query.update(options)
        userinfo = ""
        if user is not None:
            userinfo = quote(user, safe="")
            if password is not None:
                userinfo += ":" + quote(password, safe="")
            userinfo += "@"
        text = "&".join(f"{k}={quote(v, safe='@')}" for k, v in query.items())
        return f"{scheme}://{userinfo}{self.host}:{self.port}" + (f"?{text}" if text else "")

    # -- what arrived ---------------------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        """What arrived so far, oldest first (a copy)."""
        with self._changed:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until at least ``count`` messages arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self._received)} message(s) arrived, "
                                         f"expected {count} within {timeout}s")
                self._changed.wait(left)
            return list(self._received)

    def clear(self) -> None:
        with self._changed:
            self._received.clear()
            self.auth_attempts.clear()

    # -- refusing -------------------------------------------------------------------------------

    def refuse(self, code: int = 550, *, stage: Stage = "rcpt", text: str | None = None,
               recipients: Iterable[str] | None = None, times: int | None = None) -> None:
        """Answer ``code`` at ``stage`` (MAIL FROM, RCPT TO or DATA).

        ``recipients`` limits a ``rcpt`` refusal to those addresses; ``times`` to the next
        so many commands (default: until ``accept()``).  Refusals added first are checked first.
        """
        if not 400 <= code < 600:
            raise ValueError("a refusal is a 4xx or 5xx code")
        with self._changed:
            self._refusals.append(_Refusal(
                code=code, stage=stage, text=text or _DEFAULT_TEXT[code // 100],
                recipients=None if recipients is None else frozenset(recipients),
                remaining=times))

    def accept(self) -> None:
        """Take everything again: forget every refusal."""
        with self._changed:
            self._refusals.clear()

    def _refusal(self, stage: Stage, address: str | None) -> str | None:
        with self._changed:
            for refusal in self._refusals:
                if refusal.stage != stage:
                    continue
                if refusal.recipients is not None and address not in refusal.recipients:
                    continue
                if refusal.remaining is not None:
                    refusal.remaining -= 1
                    if refusal.remaining <= 0:
                        self._refusals.remove(refusal)
                return f"{refusal.code} {refusal.text}"
        return None

    def _record(self, received: Received) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: object) -> AuthResult:
        assert self.users is not None
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        expected = self.users.get(login)
        ok = expected is not None and auth_data.password == expected.encode("utf-8")
        with self._changed:
            self.auth_attempts.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
