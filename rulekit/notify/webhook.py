"""Webhooks: one signed JSON POST per message, and the check its receiver makes.

Every request carries three headers:

- ``Rulekit-Webhook-Id``: the message's stable id, the same on every attempt (receivers use it
  to drop a delivery they already handled);
- ``Rulekit-Webhook-Timestamp``: when this attempt was signed, in unix seconds;
- ``Rulekit-Webhook-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the endpoint's
  secret, of ``"{id}.{timestamp}.{body}"`` (the body exactly as sent).  While a secret is being
  replaced the header holds one ``v1=`` value per secret, separated by spaces, and a
  receiver accepts the request when any of them matches.

A receiver calls ``verify(secret, headers, body)``, which raises ``InvalidSignature`` unless the
signature matches and the timestamp is within five minutes of its clock (so a captured request
cannot be replayed later).  ``WebhookSender.post`` sends, and raises ``TemporaryFailure`` or
``PermanentFailure`` (``rulekit.notify.failures``) when the endpoint does not take the message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol, Self

import httpx

from rulekit import __version__
from rulekit.notify.failures import PermanentFailure, TemporaryFailure

__all__ = [
    "DEFAULT_TOLERANCE",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "USER_AGENT",
    "InvalidSignature",
    "WebhookSender",
    "encode_payload",
    "sign",
    "verify",
]

log = logging.getLogger(__name__)

HEADER_ID = "Rulekit-Webhook-Id"
HEADER_TIMESTAMP = "Rulekit-Webhook-Timestamp"
HEADER_SIGNATURE = "Rulekit-Webhook-Signature"
USER_AGENT = f"rulekit/{__version__}"
#: Seconds a request's timestamp may be from the receiver's clock, either way.
DEFAULT_TOLERANCE = 300

_VERSION_PREFIX = "v1="
#: Printable ASCII without '.' (the separator of the signed content) or spaces.
_MESSAGE_ID = re.compile(r"[!-\-/-~]{1,256}")
_MAX_SIGNATURES = 16
_REDIRECTS = frozenset({301, 302, 307, 308})
_RETRY_STATUSES = frozenset({408, 429})

#: A signing secret, or several while one replaces another (every one of them signs).
Secrets = str | bytes | Sequence[str | bytes]


class InvalidSignature(Exception):
    """A webhook request whose signature is missing, wrong or too old."""


class _Headers(Protocol):
    def items(self) -> Iterable[tuple[str, str]]: ...


def _keys(secret: Secrets) -> list[bytes]:
    many = [secret] if isinstance(secret, str | bytes) else list(secret)
    keys = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in many]
    if not keys or any(not k for k in keys):
        raise ValueError("webhook secret must not be empty")
    return keys


def _message_id(message_id: str | int) -> str:
    text = str(message_id)
    if not _MESSAGE_ID.fullmatch(text):
        raise ValueError(f"webhook message id {text[:80]!r}: use 1 to 256 printable ASCII "
                         "characters, without spaces or '.'")
    return text


def _body(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _digest(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    content = f"{message_id}.{timestamp}.".encode() + body
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The request body for ``payload``: compact JSON, keys sorted, UTF-8.

    Raises ``TypeError`` for a value JSON has no form for, ``ValueError`` for NaN/infinity.
    """
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                      allow_nan=False).encode("utf-8")


def sign(secret: Secrets, message_id: str | int, timestamp: int, body: bytes | str) -> str:
    """The ``Rulekit-Webhook-Signature`` value: ``v1=<hex>``, one per secret, space-separated.

    ``<hex>`` is HMAC-SHA256 keyed with the secret (UTF-8) of ``f"{id}.{timestamp}.{body}"``.
    """
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"webhook timestamp must be unix seconds, not {timestamp!r}")
    ident, data = _message_id(message_id), _body(body)
    return " ".join(_VERSION_PREFIX + _digest(key, ident, timestamp, data)
                    for key in _keys(secret))


def _header_values(headers: _Headers | Mapping[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in headers.items():
        found.setdefault(str(name).lower(), []).append(str(value))
    return found


def _single(values: dict[str, list[str]], name: str) -> str:
    given = {v.strip() for v in values.get(name.lower(), [])}
    if not given:
        raise InvalidSignature(f"missing {name} header")
    if len(given) > 1:
        raise InvalidSignature(f"{name} header given more than once, with different values")
    return given.pop()


def verify(secret: Secrets, headers: _Headers | Mapping[str, str], body: bytes | str, *,
           tolerance: float = DEFAULT_TOLERANCE, now: float | None = None) -> None:
    """Check a received webhook request; raise ``InvalidSignature`` unless it is genuine.

    ``headers`` is the request's headers (any mapping, or an object with ``items()``, names
    in any case); ``body`` is the raw body as received, before any JSON parsing.  Several
    secrets may be given while one replaces another.  The request passes when one of its
    ``v1=`` signatures matches (compared in constant time) and its timestamp is within
    ``tolerance`` seconds of ``now`` (default: the clock).
    """
    values = _header_values(headers)
    ident = _single(values, HEADER_ID)
    if not _MESSAGE_ID.fullmatch(ident):
        raise InvalidSignature(f"{HEADER_ID} header is not a valid message id")
    stamp = _single(values, HEADER_TIMESTAMP)
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise InvalidSignature(f"{HEADER_TIMESTAMP} header is not unix seconds")
    timestamp = int(stamp)
    parts = [part for value in values.get(HEADER_SIGNATURE.lower(), [])
             for part in re.split(r"[\s,]+", value) if part]
    if not parts:
        raise InvalidSignature(f"missing {HEADER_SIGNATURE} header")
    offered = [p[len(_VERSION_PREFIX):].lower().encode("utf-8", "replace")
               for p in parts if p.startswith(_VERSION_PREFIX)][:_MAX_SIGNATURES]
    if not offered:
        raise InvalidSignature(f"{HEADER_SIGNATURE} header has no {_VERSION_PREFIX} signature")
    data = _body(body)
    expected = [_digest(key, ident, timestamp, data).encode("ascii") for key in _keys(secret)]
    matched = False
    for candidate in offered:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise InvalidSignature("signature does not match the body (wrong secret, or the body "
                               "was changed)")
    clock = time.time() if now is None else now
    if timestamp < clock - tolerance:
        raise InvalidSignature(f"timestamp is {int(clock - timestamp)} s old, more than the "
                               f"{tolerance:g} s allowed")
    if timestamp > clock + tolerance:
        raise InvalidSignature(f"timestamp is {int(timestamp - clock)} s ahead of this clock, "
                               f"more than the {tolerance:g} s allowed")


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` value (seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    clock = time.time() if now is None else now
    return max(0.0, when.timestamp() - clock)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default


def _where(url: httpx.URL) -> str:
    """Scheme, host and port: the path and query may hold a token, so they are not shown."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{host}{port}"


def _snippet(data: bytes) -> str:
    text = " ".join(data.decode("utf-8", "replace").split())
    return text if len(text) <= 200 else text[:200] + "…"


class WebhookSender:
    """Posts signed webhooks with one ``httpx.Client`` (its connections are reused).

    ``timeout`` bounds connecting and each read and write, in seconds.  Redirects (301, 302,
    307, 308) are followed only to the same scheme, host and port, posting the same signed
    body again, at most ``max_redirects`` times; a redirect elsewhere is a ``PermanentFailure``.
    ``clock`` gives the unix time that signs each request.
    """

    def __init__(self, timeout: float = 10, *, max_redirects: int = 3,
                 clock: Callable[[], float] = time.time,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.timeout = float(timeout)
        self.max_redirects = max_redirects
        self._clock = clock
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                    transport=transport, headers={"User-Agent": USER_AGENT})

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def post(self, url: str, secret: Secrets, message_id: str | int,
             payload: Mapping[str, Any]) -> None:
        """POST ``payload`` as signed JSON to ``url``; return when the endpoint answers 2xx.

        Raises ``TemporaryFailure`` for 408, 429, 5xx, a timeout or a connection error
        (``retry_after`` holds the endpoint's ``Retry-After`` in seconds, when it sent one),
        ``PermanentFailure`` for the other statuses, a redirect to another host or a URL
        that is not http(s).  ``ValueError``/``TypeError`` for a bad id, secret or payload.
        """
        ident = _message_id(message_id)
        body = encode_payload(payload)
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            HEADER_ID: ident,
            HEADER_TIMESTAMP: str(timestamp),
            HEADER_SIGNATURE: sign(secret, ident, timestamp, body),
        }
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise PermanentFailure("webhook: the URL does not parse") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise PermanentFailure("webhook: the URL is not an http:// or https:// URL "
                                   "with a host")
        for _ in range(self.max_redirects + 1):
            status, location = self._attempt(target, headers, body)
            if status is None:
                log.debug("webhook %s: delivered %s", _where(target), ident)
                return
            try:
                following = target.join(location)
            except httpx.InvalidURL:
                raise PermanentFailure(f"webhook {_where(target)}: answered {status} with a "
                                       "Location that does not parse", code=status) from None
            if _origin(following) != _origin(target):
                raise PermanentFailure(
                    f"webhook {_where(target)}: answered {status}, a redirect to "
                    f"{_where(following)}; redirects to another host are not followed",
                    code=status)
            log.info("webhook %s: %d redirect on the same host, following", _where(target),
                     status)
            target = following
        raise PermanentFailure(f"webhook {_where(target)}: more than {self.max_redirects} "
                               "redirects")

    def _attempt(self, target: httpx.URL, headers: dict[str, str],
                 body: bytes) -> tuple[int | None, str]:
        """POST once: ``(None, "")`` on 2xx, ``(status, location)`` for a redirect to follow."""
        where = _where(target)
        try:
            with self._client.stream("POST", target, content=body, headers=headers) as response:
                status = response.status_code
                if 200 <= status < 300:
                    return None, ""
                location = response.headers.get("Location")
                if status in _REDIRECTS and location:
                    return status, location
                head = b""
                for chunk in response.iter_bytes():
                    head += chunk
                    if len(head) >= 1024:
                        break
                retry_after = retry_after_seconds(response.headers.get("Retry-After"),
                                                  now=self._clock())
                reason = response.reason_phrase
        except httpx.TimeoutException as exc:
            raise TemporaryFailure(f"webhook {where}: no answer within {self.timeout:g}s "
                                   f"({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TemporaryFailure(f"webhook {where}: {type(exc).__name__}: {exc}") from exc
        text = f"webhook {where}: answered {status} {reason}".rstrip()
        detail = _snippet(head)
        if detail:
            text += f": {detail}"
        if status in _RETRY_STATUSES or status >= 500:
            raise TemporaryFailure(text, code=status, retry_after=retry_after)
        raise PermanentFailure(text, code=status)
