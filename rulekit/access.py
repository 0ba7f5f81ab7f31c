"""Bearer tokens: who may call a service, as what.

A token is shown once, when it is made, as ``rk_<token id>_<secret>``: ``rk_`` (so a leaked
one is easy to recognise and to search for), a public id of 12 hexadecimal digits (what the
store, the audit history and ``rulekit token list`` name it by) and a secret of 256 random
bits in URL-safe base 64.  The store keeps the id, what the token may do and the SHA-256 of the
secret — never the secret.

Each token has one role:

============== ===========================================================================
``integrator`` a system that submits leads, for the lead sources it is given (``sources``)
``agent``      one agent (``agent``): answers its offers, sees its leads
``concierge``  the people who route leads by hand
``admin``      everything, tokens and ownership transfers included
``support``    reads everything, changes nothing
============== ===========================================================================

What each role may do is the service's business; this module only makes, checks and revokes
tokens, through the store passed in (an :class:`~rulekit.storage.base.Access`).  A service
checks a token on every request through :class:`VerifiedTokens`, which remembers the tokens it
verified for a short while.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from rulekit.storage.base import Access, StoredToken
from rulekit.suggest import closest

ROLES = ("integrator", "agent", "concierge", "admin", "support")

#: How a presented token starts.
PREFIX = "rk_"
#: ``rk_``, 12 lowercase hexadecimal digits, ``_``, 43 URL-safe base-64 characters (32 bytes).
_TOKEN = re.compile(r"rk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_ID_BYTES, _SECRET_BYTES = 6, 32


def secret_hash(secret: str) -> str:
    """The hash the store keeps of a token's secret: SHA-256, in hexadecimal.

    A fast, unsalted hash is the right one here, unlike for passwords.  Password hashes are
    slow and salted because passwords are guessable: an attacker holding the hashes tries
    likely passwords, and slowness multiplies the cost of each guess.  A token's secret is 256
    bits from :mod:`secrets`: there is nothing likely to try, and no number of guesses (slow
    or fast) comes near 2**256; a salt protects against precomputed tables, which cannot
    exist for a space that large.  SHA-256 is preimage-resistant, so the stored hash does
    not give the secret back, and a fast hash keeps every request's check cheap."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def check_fields(role: str, agent: str | None, sources: Iterable[str]) -> tuple[str, ...]:
    """The sources of a token of ``role``, checked; ``ValueError`` with a message for
    people when the role is unknown or the agent and sources do not fit it."""
    chosen = tuple(sources)
    if role not in ROLES:
        near = closest(role, ROLES)
        hint = f"did you mean '{near}'? " if near else ""
        raise ValueError(f"unknown role '{role}': {hint}the roles are {', '.join(ROLES)}")
    if role == "agent" and not agent:
        raise ValueError("a token of role 'agent' needs the agent it acts as")
    if role != "agent" and agent is not None:
        raise ValueError(f"only a token of role 'agent' acts as an agent, not one of role "
                         f"'{role}'")
    if role != "integrator" and chosen:
        raise ValueError(f"only a token of role 'integrator' has lead sources, not one of "
                         f"role '{role}'")
    if role == "integrator" and not chosen:
        raise ValueError("a token of role 'integrator' needs the lead sources it may "
                         "submit leads for")
    if any(not source.strip() for source in chosen):
        raise ValueError("a lead source cannot be empty")
    return chosen


def create_token(store: Access, role: str, *, agent: str | None = None,
                 sources: Iterable[str] = (), label: str = "", by: str,
                 now: datetime) -> tuple[StoredToken, str]:
    """Make a token, store it (with the hash of its secret, and an audit entry) and return
    it with the whole token text, ``rk_<token id>_<secret>``: the only time it is seen.
    ``ValueError`` for an unknown role, or an agent or sources that do not fit the role (see
    :func:`check_fields`)."""
    chosen = check_fields(role, agent, sources)
    token_id = secrets.token_hex(_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    token = StoredToken(token_id=token_id, role=role, agent=agent, sources=chosen,
                        label=label, created_at=now, created_by=by, revoked_at=None)
    store.put_token(token, secret_hash(secret))
    return token, f"{PREFIX}{token_id}_{secret}"


def parse_token(presented: str) -> tuple[str, str] | None:
    """The (token id, secret) of a token's text; ``None`` for text that is not one."""
    match = _TOKEN.fullmatch(presented) if isinstance(presented, str) else None
    return None if match is None else (match.group(1), match.group(2))


def verify_token(store: Access, presented: str) -> StoredToken | None:
    """The token ``presented`` is, if it is a stored, unrevoked token whose secret matches;
    else ``None`` (never an exception, whatever the text).  The hashes are compared in
    constant time."""
    parsed = parse_token(presented)
    if parsed is None:
        return None
    token_id, secret = parsed
    return _verified(store, token_id, secret_hash(secret))


def _verified(store: Access, token_id: str, hashed: str) -> StoredToken | None:
    found = store.token(token_id)
    if found is None:
        return None
    token, stored_hash = found
    if not hmac.compare_digest(hashed, stored_hash):
        return None
    return token if token.revoked_at is None else None


class VerifiedTokens:
    """:func:`verify_token` for a service, which checks a token on every request: a token found
    valid is remembered for ``ttl`` seconds, so only the first request in that time reads the
    store.  A token revoked meanwhile is refused at most ``ttl`` seconds after its revocation.

    Entries are keyed by the token id and the SHA-256 of the presented secret (the secret
    itself is never kept, as in the store).  Only valid tokens are remembered: text that did
    not verify is checked against the store again each time, so a token made a moment ago
    works at once.  At most ``size`` tokens are kept; ``ttl`` of 0 remembers none."""

    def __init__(self, store: Access, ttl: float = 1.0, *, size: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._known: dict[tuple[str, str], tuple[StoredToken, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(presented: str) -> tuple[str, str] | None:
        parsed = parse_token(presented)
        return None if parsed is None else (parsed[0], secret_hash(parsed[1]))

    def remembered(self, presented: str) -> StoredToken | None:
        """The token ``presented`` is, if it was verified less than ``ttl`` seconds ago;
        ``None`` otherwise (then :meth:`verify` tells).  Never reads the store."""
        key = self._key(presented)
        known = None if key is None else self._known.get(key)
        if known is None:
            return None
        token, until = known
        return token if self._clock() < until else None

    def verify(self, presented: str) -> StoredToken | None:
        """What :func:`verify_token` says of ``presented``, from memory while a check of the
        store is less than ``ttl`` seconds old."""
        key = self._key(presented)
        if key is None:
            return None
        known = self._known.get(key)
        now = self._clock()
        if known is not None and now < known[1]:
            return known[0]
        token = _verified(self.store, *key)
        with self._lock:
            if token is None or self.ttl <= 0:
                self._known.pop(key, None)
                return token
            if len(self._known) >= self.size:
                for stale in [k for k, (_, until) in self._known.items() if until <= now]:
                    del self._known[stale]
                if len(self._known) >= self.size:
                    self._known.clear()
            self._known[key] = (token, now + self.ttl)
        return token


def revoke(store: Access, token_id: str, by: str, now: datetime) -> bool:
    """Revoke a token (audited); ``False`` if it is unknown or revoked already."""
    return store.revoke_token(token_id, by, now)


__all__ = ["PREFIX", "ROLES", "VerifiedTokens", "check_fields", "create_token", "parse_token",
           "revoke", "secret_hash", "verify_token"]
