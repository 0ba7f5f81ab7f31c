"""Store URLs without their secrets, for messages and logs.

:func:`redact_url` shows a store URL (or a libpq ``key=value`` connection string) with every
password replaced by ``***``; :func:`redact_text` scrubs a message that may quote one (an
exception text, a log line); :class:`RedactingFormatter` does the same to every log record.

>>> redact_url("postgresql://ops:hunter2@db.example.com/leads?sslmode=require")
'postgresql://ops:***@db.example.com/leads?sslmode=require'
>>> redact_url("host=db.example.com user=ops password='hunter 2' dbname=leads")
'host=db.example.com user=ops password=*** dbname=leads'
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

MASK = "***"

#: Secrets shorter than this are not replaced wherever they occur in a message (they would
#: match ordinary words); their structural places (``user:…@``, ``password=…``) still are.
MIN_LITERAL = 4

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
#: ``?password=…`` / ``&sslpassword=…`` in a URL's query string.
_QUERY_SECRET = re.compile(r"([?&](?:ssl)?password=)([^&]*)", re.IGNORECASE)
#: ``password=…`` / ``sslpassword = '…'`` in a libpq keyword string (values may be quoted,
#: with ``\\'`` and ``\\\\`` escapes); not the query parameters of a URL.
_KEYWORD_SECRET = re.compile(
    r"(?<![?&\w])((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE)
#: A URL quoted in free text: from its scheme to the next blank or quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]*")


def _userinfo_end(rest: str) -> int:
    """Where the ``user:password`` part of a URL (after ``scheme://``) ends: its last ``@``
    before the path, so that a password with raw ``@``, ``:``, ``?`` or ``/`` in it is
    still all inside; -1 when there is none."""
    slash = rest.find("/")
    head = rest if slash < 0 else rest[:slash]
    query = head.find("?")
    if query >= 0 and (at := head.rfind("@", 0, query)) >= 0:
        return at  # an '@' in a query value (?application_name=a@b) is not the host's
    at = head.rfind("@")
    if at < 0 and slash > 0:  # a raw '/' in the password: its '@' comes after the slash
        query = rest.find("?")
        at = rest.rfind("@", 0, query if query >= 0 else len(rest))
    return at


def _split_url(url: str) -> tuple[str, str, str | None, str] | None:
    """``(scheme://, user, password or None, rest after '@')`` of a URL with a userinfo."""
    scheme = _SCHEME.match(url)
    if scheme is None:
        return None
    rest = url[scheme.end():]
    at = _userinfo_end(rest)
    if at < 0:
        return None
    user, colon, password = rest[:at].partition(":")
    return scheme.group(0), user, password if colon else None, rest[at + 1:]


def _mask_keyword(match: re.Match[str]) -> str:
    return match.group(1) + MASK


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: the ``user:password@`` of a URL (any
    scheme, e.g. ``postgresql://``, ``postgres://``), its ``password=`` and ``sslpassword=``
    query parameters, and the ``password=`` / ``sslpassword=`` keywords of a libpq
    ``key=value`` string.  Everything else is unchanged."""
    parts = _split_url(url)
    if parts is None:
        if _SCHEME.match(url) is None:
            return _KEYWORD_SECRET.sub(_mask_keyword, url)
        return _QUERY_SECRET.sub(_mask_keyword, url)
    scheme, user, password, rest = parts
    userinfo = user if password is None else f"{user}:{MASK}"
    return f"{scheme}{userinfo}@{_QUERY_SECRET.sub(_mask_keyword, rest)}"


def _unquote_keyword(value: str) -> str:
    if value.startswith("'"):
        value = value[1:-1] if len(value) > 1 and value.endswith("'") else value[1:]
        return re.sub(r"\\(.)", r"\1", value)
    return value


def url_secrets(url: str) -> list[str]:
    """The passwords in ``url``, as written and decoded, and the pieces of them that libpq
    may quote in its messages (the text after an ``@`` inside a password, which libpq reads
    as part of the host name).  Longest first."""
    found: list[str] = []
    parts = _split_url(url)
    if parts is not None and parts[2]:
        password = parts[2]
        found += [password, unquote(password)]
        found += [password[i + 1:] + "@" for i, char in enumerate(password) if char == "@"]
    pattern = _KEYWORD_SECRET if _SCHEME.match(url) is None else _QUERY_SECRET
    for match in pattern.finditer(url):
        value = match.group(2)
        found += [value, unquote(value), _unquote_keyword(value)]
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact_text(text: str, *urls: str) -> str:
    """``text`` (a message, an exception text, a log line) with no password left in it:
    each of ``urls`` it quotes is shown by :func:`redact_url`, any other URL or libpq keyword
    string in it is redacted the same way, and the passwords of ``urls`` are replaced
    wherever they still occur (when at least :data:`MIN_LITERAL` characters long)."""
    secrets: list[str] = []
    for url in urls:
        if url:
            text = text.replace(url, redact_url(url))
            secrets += url_secrets(url)
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    text = _KEYWORD_SECRET.sub(_mask_keyword, text)
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= MIN_LITERAL or secret.endswith("@"):
            text = text.replace(secret, MASK if not secret.endswith("@") else MASK + "@")
    return text


class RedactingFormatter(logging.Formatter):
    """A :class:`logging.Formatter` whose output (the message, and any traceback) goes
    through :func:`redact_text` with the given store URLs."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, *,
                 urls: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(fmt, datefmt, **kwargs)
        self.urls = urls

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record), *self.urls)


__all__ = ["MASK", "RedactingFormatter", "redact_text", "redact_url", "url_secrets"]
