"""E-mail over SMTP: the server's URL, a message builder and a sender.

The three pieces know nothing of the store or of templates: ``build_email`` takes a message
that is already rendered, ``SmtpSender.send`` delivers it or raises ``TemporaryFailure`` /
``PermanentFailure`` (``rulekit.notify.failures``).

    config = SmtpConfig.from_url("smtp://leads%40example.com:s3cret@mail.example.com"
                                 "?starttls=1&from=leads@example.com")
    message = build_email(message_id=42, sender=config.sender, to=["ana@example.com"], cc=[],
                          subject="New lead – 12 Elm St", text="…", html="<p>…</p>")
    with SmtpSender(config) as smtp:          # one connection for the whole batch
        smtp.send(message, ["ana@example.com"])

The password is kept out of ``repr()``, ``str()``, log lines and exception messages;
``SmtpConfig.redacted()`` is the URL with ``***`` in its place.
"""

from __future__ import annotations

import base64
import logging
import math
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import AddressHeader, BaseHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from types import TracebackType
from typing import Self
from urllib.parse import quote, unquote

from rulekit.notify.failures import DeliveryFailure, PermanentFailure, TemporaryFailure

__all__ = [
    "DEFAULT_TIMEOUT",
    "SmtpConfig",
    "SmtpSender",
    "build_email",
    "message_id_header",
]

log = logging.getLogger(__name__)

#: Seconds allowed for connecting and for each SMTP command, unless the URL says ``timeout=``.
DEFAULT_TIMEOUT = 10.0

_DEFAULT_PORT = {"smtp": 25, "smtps": 465}
_STARTTLS_PORT = 587
_OPTIONS = ("from", "helo", "starttls", "timeout", "tls_verify")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_HOST_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]+")
_LINE_BREAKS = ("\r", "\n", "\0")


def _bad_url(what: str) -> ValueError:
    return ValueError(f"SMTP URL: {what}")


def _decode(raw: str, what: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        pass  # raised below, outside this block: the decode error holds the bytes
    raise _bad_url(f"the {what} is not valid percent-encoded UTF-8")


def _flag(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _bad_url(f"option {name}={value!r} is not a yes/no value (use 1 or 0)")


def _host_and_port(hostport: str) -> tuple[str, int | None]:
    port_text: str | None
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise _bad_url("the host has '[' without ']'")
        host, after = hostport[1:close], hostport[close + 1:]
        if not _IPV6.fullmatch(host):
            raise _bad_url("the host in [...] is not an IPv6 address")
        if after and not after.startswith(":"):
            raise _bad_url("unexpected text after the host's ']'")
        port_text = after[1:] if after else None
    else:
        host, colon, rest = hostport.partition(":")
        port_text = rest if colon else None
        if not host:
            raise _bad_url("no host (expected smtp://[user[:password]@]host[:port])")
        if not _HOST_NAME.fullmatch(host):
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise _bad_url("the host is not a valid host name") from None
    if port_text is None:
        return host, None
    # The text before the host is never quoted back: a malformed URL may carry the password
    # anywhere, so the port is only named, unless it is plainly a number.
    if not (port_text.isascii() and port_text.isdigit()):
        raise _bad_url("bad port: not a number from 1 to 65535")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise _bad_url(f"bad port {port}: not in 1-65535")
    return host, port


def _at_only_in_option_values(tail: str) -> bool:
    """Whether every '@' after the host is in an option's value (``?from=leads@example.com``).

    Any other '@' there means a '/', '?' or '#' in the password cut the URL short.
    """
    path, _, query = tail.partition("?")
    return "@" not in path and all("@" not in piece.partition("=")[0]
                                   for piece in query.split("&"))


def _check_line(what: str, value: str) -> None:
    if any(ch in value for ch in _LINE_BREAKS):
        raise ValueError(f"{what} must be one line (no CR, LF or NUL characters)")


@dataclass(frozen=True, slots=True, repr=False)
class SmtpConfig:
    """Where and how to send mail: one SMTP server, parsed from a URL by ``from_url``.

    ``implicit_tls`` is TLS from the first byte (``smtps://``); ``starttls`` upgrades a plain
    connection (``smtp://…?starttls=1``).  ``sender`` is the default From address and the
    envelope sender.  ``tls_verify=False`` accepts any certificate (self-signed test servers
    only).  ``helo`` is the name given in EHLO (default: this machine's name).
    """

    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    tls_verify: bool = True
    helo: str | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("SmtpConfig: no host")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"SmtpConfig: bad port {self.port}: not in 1-65535")
        if self.implicit_tls and self.starttls:
            raise ValueError("SmtpConfig: starttls is for smtp://; smtps:// is TLS from the start")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"SmtpConfig: timeout must be a positive number of seconds, "
                             f"not {self.timeout!r}")
        if self.password is not None and not self.username:
            raise ValueError("SmtpConfig: a password needs a user name")
        if self.sender is not None:
            _check_line("SmtpConfig: the from address", self.sender)
            if not parseaddr(self.sender)[1]:
                raise ValueError(f"SmtpConfig: from address {self.sender!r} does not parse")
        if self.helo is not None and not _HOST_NAME.fullmatch(self.helo):
            raise ValueError(f"SmtpConfig: helo {self.helo!r} is not a host name")

    @classmethod
    def from_url(cls, url: str, *, sender: str | None = None) -> SmtpConfig:
        """Parse ``smtp://[user[:password]@]host[:port][?options]`` or ``smtps://…``.

        The default port is 25 (587 with ``starttls=1``) for ``smtp://`` and 465 for
        ``smtps://``.  User and password are percent-decoded (write ``@`` as ``%40``, ``:`` as
        ``%3A``, ``/`` as ``%2F``).  Options: ``starttls=1``, ``timeout=SECONDS``,
        ``from=ADDRESS``, ``tls_verify=0``, ``helo=NAME``.  ``sender``, when given, is the
        from address and wins over ``from=``.  A malformed URL raises ``ValueError`` naming
        the bad part, never quoting the password.
        """
        scheme, sep, rest = url.strip().partition("://")
        if not sep:
            raise _bad_url("expected smtp://… or smtps://… (no '://' found)")
        scheme = scheme.lower()
        if scheme not in _DEFAULT_PORT:
            shown = scheme if len(scheme) <= 20 else scheme[:20] + "…"
            raise _bad_url(f"unknown scheme {shown!r} (expected smtp or smtps)")
        end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        authority, tail = rest[:end], rest[end:]
        if not _at_only_in_option_values(tail):
            raise _bad_url("a '/', '?' or '#' in the user name or password must be "
                           "percent-encoded (%2F, %3F, %23)")
        userinfo, at, hostport = authority.rpartition("@")
        username: str | None = None
        password: str | None = None
        if at:
            raw_user, colon, raw_password = userinfo.partition(":")
            username = _decode(raw_user, "user name")
            if not username:
                raise _bad_url("a user name is needed before '@'")
            password = _decode(raw_password, "password") if colon else None
        host, port = _host_and_port(hostport)

        if "#" in tail:
            raise _bad_url("a '#' fragment is not allowed")
        path, _, query = tail.partition("?")
        if path not in ("", "/"):
            raise _bad_url("no path is allowed after the host")
        options: dict[str, str] = {}
        for piece in query.split("&"):
            if not piece:
                continue
            raw_name, _, raw_value = piece.partition("=")
            name = unquote(raw_name)
            if name not in _OPTIONS:
                raise _bad_url(f"unknown option {name!r} (known: {', '.join(_OPTIONS)})")
            if name in options:
                raise _bad_url(f"option {name!r} is given twice")
            options[name] = unquote(raw_value)

        starttls = _flag("starttls", options["starttls"]) if "starttls" in options else False
        if starttls and scheme == "smtps":
            raise _bad_url("starttls is for smtp://; smtps:// is TLS from the start")
        timeout = DEFAULT_TIMEOUT
        if "timeout" in options:
            try:
                timeout = float(options["timeout"])
            except ValueError:
                timeout = math.nan
            if not (math.isfinite(timeout) and timeout > 0):
                raise _bad_url(f"option timeout={options['timeout']!r} is not a positive "
                               "number of seconds")
        tls_verify = _flag("tls_verify", options["tls_verify"]) if "tls_verify" in options \
            else True
        from_address = sender if sender is not None else options.get("from")
        if from_address is not None and not from_address.strip():
            raise _bad_url("option from= is empty")
        helo = options.get("helo")
        if helo is not None and not _HOST_NAME.fullmatch(helo):
            raise _bad_url(f"option helo={helo!r} is not a host name")
        if port is None:
            port = _STARTTLS_PORT if starttls else _DEFAULT_PORT[scheme]
        return cls(host=host, port=port, implicit_tls=scheme == "smtps", starttls=starttls,
                   username=username, password=password, sender=from_address,
                   timeout=timeout, tls_verify=tls_verify, helo=helo)

    @property
    def scheme(self) -> str:
        return "smtps" if self.implicit_tls else "smtp"

    @property
    def where(self) -> str:
        """``host:port``, for messages."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def redacted(self) -> str:
        """The URL of this configuration with ``***`` for the password (safe to show)."""
        userinfo = ""
        if self.username is not None:
            userinfo = quote(self.username, safe="")
            if self.password is not None:
                userinfo += ":***"
            userinfo += "@"
        options = []
        if self.starttls:
            options.append("starttls=1")
        if self.timeout != DEFAULT_TIMEOUT:
            shown = str(int(self.timeout)) if self.timeout.is_integer() else repr(self.timeout)
            options.append(f"timeout={shown}")
        if self.sender is not None:
            options.append("from=" + quote(self.sender, safe="@"))
        if not self.tls_verify:
            options.append("tls_verify=0")
        if self.helo is not None:
            options.append(f"helo={self.helo}")
        query = "?" + "&".join(options) if options else ""
        return f"{self.scheme}://{userinfo}{self.where}{query}"

    def __str__(self) -> str:
        return self.redacted()

    def __repr__(self) -> str:
        password = None if self.password is None else "***"
        return (f"SmtpConfig(host={self.host!r}, port={self.port!r}, "
                f"implicit_tls={self.implicit_tls!r}, starttls={self.starttls!r}, "
                f"username={self.username!r}, password={password!r}, "
                f"sender={self.sender!r}, timeout={self.timeout!r}, "
                f"tls_verify={self.tls_verify!r}, helo={self.helo!r})")


# -- building a message -------------------------------------------------------------------------

_ID_LEFT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_FULL_ID = re.compile(r"<?([^<>@\s]+@[^<>@\s]+)>?")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII but ':' (RFC 5322 field name)
#: Headers build_email writes itself; ``headers=`` may not set them.
_OWN_HEADERS = frozenset({
    "bcc", "cc", "content-transfer-encoding", "content-type", "date", "from", "message-id",
    "mime-version", "subject", "to",
})


def message_id_header(message_id: str | int, *, domain: str = "rulekit") -> str:
    """The ``Message-ID`` for a message id: ``<{message_id}@{domain}>``.

    An id already of the form ``<left@right>`` (or ``left@right``) is kept as it is, so
    the same outbox message always gets the same header, whichever attempt sends it.
    """
    text = str(message_id)
    full = _FULL_ID.fullmatch(text)
    if full and text.startswith("<") == text.endswith(">"):
        return f"<{full.group(1)}>"
    if _ID_LEFT.fullmatch(text) and _ID_LEFT.fullmatch(domain):
        return f"<{text}@{domain}>"
    raise ValueError(f"message id {text[:80]!r} cannot make a Message-ID: use letters, digits "
                     "and -._ (or a whole <left@right> id)")


def _set_addresses(msg: EmailMessage, name: str, addresses: Sequence[str]) -> None:
    for address in addresses:
        _check_line(f"{name} address {address[:80]!r}", address)
        if not address.strip():
            raise ValueError(f"{name}: an empty address")
    msg[name] = ", ".join(addresses)
    header = msg[name]
    assert isinstance(header, AddressHeader) and isinstance(header, BaseHeader)
    parsed = header.addresses
    if len(parsed) != len(addresses) or header.defects \
            or any(not a.username or not a.domain for a in parsed):
        raise ValueError(f"{name}: an address does not parse as one address with a domain: "
                         f"{', '.join(addresses)[:200]!r}")


def build_email(
    *,
    message_id: str | int,
    sender: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str,
    text: str,
    html: str | None,
    headers: Mapping[str, str] | None = None,
    date: datetime | None = None,
    id_domain: str = "rulekit",
) -> EmailMessage:
    """A rendered message as an ``EmailMessage`` ready for ``SmtpSender.send``.

    multipart/alternative with the text part first and the HTML part second (text only when
    ``html`` is None); ``Message-ID`` from ``message_id_header(message_id)``; ``Date`` is
    ``date`` (an aware datetime) or now.  The subject may hold any Unicode (it is encoded
    per RFC 2047).  A CR or LF in the subject, an address or a header value raises
    ``ValueError`` (no header injection), and so does an address that does not parse.
    ``headers`` adds further headers (``Reply-To``, ``X-…``), not the ones set here.
    """
    if isinstance(to, str) or isinstance(cc, str):
        raise TypeError("build_email: to and cc are sequences of addresses, not one string")
    if not to:
        raise ValueError("build_email: no To address")
    _check_line("the subject", subject)
    if date is None:
        date = datetime.now(UTC)
    elif date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("build_email: date must be an aware datetime")
    msg = EmailMessage(policy=policy.default)
    msg["Message-ID"] = message_id_header(message_id, domain=id_domain)
    msg["Date"] = format_datetime(date)
    _set_addresses(msg, "From", [sender])
    _set_addresses(msg, "To", to)
    if cc:
        _set_addresses(msg, "Cc", cc)
    msg["Subject"] = subject
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"header name {name[:80]!r} is not a valid field name")
        if name.lower() in _OWN_HEADERS:
            raise ValueError(f"header {name!r} is set by build_email, not by headers=")
        _check_line(f"header {name!r}", value)
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


# -- sending ------------------------------------------------------------------------------------


class _ConnectionLost(TemporaryFailure):
    """The server closed a connection: on one kept from an earlier send, reconnect once."""


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:300] + "…"


def _timed_out(exc: BaseException) -> bool:
    """smtplib reports a reply that did not come in time as a closed connection."""
    return isinstance(exc.__context__, TimeoutError) or isinstance(exc.__cause__, TimeoutError)


def _by_code(message: str, code: int, *, refused: dict[str, tuple[int, str]] | None = None,
             accepted: tuple[str, ...] = ()) -> DeliveryFailure:
    """5xx is permanent; 4xx (and anything odd) is worth another try."""
    if code >= 500:
        return PermanentFailure(message, code=code, refused=refused, accepted=accepted)
    return TemporaryFailure(message, code=code, refused=refused, accepted=accepted)


class SmtpSender:
    """Sends built messages through one SMTP server.

    ``send`` on its own connects, sends and says QUIT.  Between ``open()`` and ``close()``
    (or in ``with sender:``) one connection serves every ``send``, and one the server has
    dropped since is opened again.  STARTTLS and login happen on connecting when the
    configuration asks for them.  Not for use by several threads at once.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._batch = False

    def __repr__(self) -> str:
        return f"SmtpSender({self.config.redacted()!r})"

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def open(self) -> Self:
        """Connect now and keep the connection for the following sends, until ``close()``."""
        if self._smtp is None:
            self._smtp = self._connect()
        self._batch = True
        return self

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        self._batch = False
        self._drop(polite=True)

    def send(self, msg: EmailMessage, recipients: Sequence[str]) -> None:
        """Deliver ``msg`` to the envelope ``recipients`` (To, Cc and Bcc addresses).

        Raises ``TemporaryFailure`` (refused connection, timeout, dropped connection, a 4xx
        reply) or ``PermanentFailure`` (a 5xx reply: recipient or sender refused, login
        refused; STARTTLS or AUTH not offered; a certificate that does not verify).  When the
        server takes some recipients and refuses others, the failure's ``accepted`` names the
        ones that got the message and ``refused`` the others with their replies.
        """
        if isinstance(recipients, str):
            raise TypeError("send: recipients is a sequence of addresses, not one string")
        recipients = list(recipients)
        if not recipients:
            raise ValueError("send: no recipients")
        for address in recipients:
            _check_line(f"recipient {address[:80]!r}", address)
        if self.config.sender is None and msg["From"] is None:
            raise ValueError("send: the message has no From and the configuration no from=")
        try:
            self._deliver(msg, recipients)
        finally:
            if not self._batch:
                self._drop(polite=True)

    # -- inside ---------------------------------------------------------------------------------

    def _deliver(self, msg: EmailMessage, recipients: list[str]) -> None:
        reused = self._smtp is not None
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._transmit(self._smtp, msg, recipients)
        except _ConnectionLost as lost:
            self._drop(polite=False)
            if not reused:
                raise TemporaryFailure(lost.message, code=lost.code) from lost.__cause__
            log.info("SMTP %s: the kept connection was closed (%s); reconnecting",
                     self.config.where, lost.message)
            self._smtp = self._connect()
            try:
                self._transmit(self._smtp, msg, recipients)
            except _ConnectionLost as again:
                self._drop(polite=False)
                raise TemporaryFailure(again.message, code=again.code) from again.__cause__

    def _transmit(self, smtp: smtplib.SMTP, msg: EmailMessage, recipients: list[str]) -> None:
        where = self.config.where
        envelope_from = parseaddr(self.config.sender)[1] if self.config.sender else None
        try:
            refused = smtp.send_message(msg, from_addr=envelope_from, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            found = {str(k): (code, _reply_text(text)) for k, (code, text) in
                     exc.recipients.items()}
            raise self._refusal(found, ()) from exc
        except smtplib.SMTPSenderRefused as exc:
            text = f"SMTP {where}: sender refused: {exc.smtp_code} {_reply_text(exc.smtp_error)}"
            if exc.smtp_code == 421:
                raise _ConnectionLost(text, code=421) from exc
            raise _by_code(text, exc.smtp_code) from exc
        except smtplib.SMTPResponseException as exc:  # SMTPDataError and the rest
            text = f"SMTP {where}: message refused: {exc.smtp_code} {_reply_text(exc.smtp_error)}"
            if exc.smtp_code == 421:
                raise _ConnectionLost(text, code=421) from exc
            raise _by_code(text, exc.smtp_code) from exc
        except smtplib.SMTPServerDisconnected as exc:
            if _timed_out(exc):
                self._drop(polite=False)
                raise TemporaryFailure(f"SMTP {where}: no answer within "
                                       f"{self.config.timeout:g}s while sending") from exc
            raise _ConnectionLost(f"SMTP {where}: the server closed the connection") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(f"SMTP {where}: {exc}") from exc
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
            raise _ConnectionLost(f"SMTP {where}: connection lost ({exc.strerror})") from exc
        except TimeoutError as exc:
            self._drop(polite=False)
            raise TemporaryFailure(f"SMTP {where}: no answer within {self.config.timeout:g}s "
                                   "while sending") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop(polite=False)
            raise TemporaryFailure(f"SMTP {where}: sending failed: "
                                   f"{type(exc).__name__}: {exc}") from exc
        if refused:
            found = {str(k): (code, _reply_text(text)) for k, (code, text) in refused.items()}
            accepted = tuple(r for r in recipients if r not in found)
            raise self._refusal(found, accepted)
        log.debug("SMTP %s: sent %s to %d recipient(s)", where, msg["Message-ID"],
                  len(recipients))

    def _refusal(self, refused: dict[str, tuple[int, str]],
                 accepted: tuple[str, ...]) -> DeliveryFailure:
        details = "; ".join(f"{rcpt}: {code} {text}" for rcpt, (code, text) in refused.items())
        some = f" (accepted for {len(accepted)} other recipient(s))" if accepted else ""
        text = f"SMTP {self.config.where}: recipient(s) refused{some}: {details}"
        # Temporary when one of the refusals is: trying again can still reach someone.
        code = min((c for c, _ in refused.values() if 400 <= c < 500),
                   default=max(c for c, _ in refused.values()))
        return _by_code(text, code, refused=refused, accepted=accepted)

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.config.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        where = config.where
        context = self._tls_context() if (config.implicit_tls or config.starttls) else None
        smtp: smtplib.SMTP | None = None
        stage = "connect"
        try:
            # Connecting in the constructor: it is where smtplib learns the host name that
            # STARTTLS and smtps:// check the certificate against.
            if config.implicit_tls:
                smtp = smtplib.SMTP_SSL(config.host, config.port, local_hostname=config.helo,
                                        timeout=config.timeout, context=context)
            else:
                smtp = smtplib.SMTP(config.host, config.port, local_hostname=config.helo,
                                    timeout=config.timeout)
            stage = "EHLO"
            smtp.ehlo_or_helo_if_needed()
            if config.starttls:
                stage = "STARTTLS"
                smtp.starttls(context=context)
                stage = "EHLO"
                smtp.ehlo()
            if config.username is not None:
                stage = "login"
                self._login(smtp, config.username, config.password or "")
        except BaseException as exc:
            if smtp is not None:
                smtp.close()
            if isinstance(exc, DeliveryFailure):
                raise
            if isinstance(exc, Exception):
                failure = self._connect_failure(stage, exc)
                if failure is not None:
                    raise failure from exc
            raise
        log.debug("SMTP %s: connected (%s)", where, config.redacted())
        return smtp

    def _connect_failure(self, stage: str, exc: Exception) -> DeliveryFailure | None:
        config = self.config
        where = f"SMTP {config.where}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            text = (f"{where}: login as {config.username!r} refused: {exc.smtp_code} "
                    f"{_reply_text(exc.smtp_error)}")
            return _by_code(text, exc.smtp_code)
        if isinstance(exc, smtplib.SMTPResponseException):
            text = f"{where}: {stage} refused: {exc.smtp_code} {_reply_text(exc.smtp_error)}"
            return _by_code(text, exc.smtp_code)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            if stage == "STARTTLS":
                return PermanentFailure(f"{where}: the server does not offer STARTTLS")
            if stage == "login":
                return PermanentFailure(f"{where}: the server offers no login (AUTH); many "
                                        "servers offer it only over TLS (starttls=1, smtps://)")
            return PermanentFailure(f"{where}: {stage}: {exc}")
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            if _timed_out(exc):
                return TemporaryFailure(f"{where}: no answer within {config.timeout:g}s "
                                        f"({stage})")
            return TemporaryFailure(f"{where}: the server closed the connection during {stage}")
        if isinstance(exc, smtplib.SMTPException):
            if stage == "login":  # "No suitable authentication method found."
                return PermanentFailure(f"{where}: login: {exc}")
            return TemporaryFailure(f"{where}: {stage} failed: {exc}")
        if isinstance(exc, ConnectionRefusedError):
            return TemporaryFailure(f"{where}: connection refused")
        if isinstance(exc, TimeoutError):
            return TemporaryFailure(f"{where}: no answer within {config.timeout:g}s ({stage})")
        if isinstance(exc, socket.gaierror):
            return TemporaryFailure(f"{where}: the host name does not resolve ({exc.strerror})")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return PermanentFailure(f"{where}: the server's certificate does not verify "
                                    f"({exc.verify_message}); for a test server with a "
                                    "self-signed certificate use tls_verify=0")
        if isinstance(exc, ssl.SSLError):
            return TemporaryFailure(f"{where}: TLS failed during {stage}: {exc.reason or exc}")
        if isinstance(exc, OSError):
            return TemporaryFailure(f"{where}: {stage} failed: {exc.strerror or exc}")
        return None

    def _login(self, smtp: smtplib.SMTP, username: str, password: str) -> None:
        if username.isascii() and password.isascii():
            smtp.login(username, password)
            return
        # smtplib encodes credentials as ASCII; AUTH PLAIN carries UTF-8 (RFC 4616).
        if not smtp.has_extn("auth"):
            raise smtplib.SMTPNotSupportedError("AUTH")
        if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
            raise PermanentFailure(f"SMTP {self.config.where}: the user name or password has "
                                   "non-ASCII characters, which need AUTH PLAIN, and the "
                                   "server does not offer it")
        token = b"\0" + username.encode() + b"\0" + password.encode()
        code, reply = smtp.docmd("AUTH", "PLAIN " + base64.b64encode(token).decode("ascii"))
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)

    def _drop(self, *, polite: bool) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if polite:
                smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()
