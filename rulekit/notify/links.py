"""The links a notification carries, signed with the service's key (itsdangerous).

* **accept / decline** — bound to (offer, agent, action), expiring with the offer; the service
  shows a confirmation page on ``GET`` and acts only on ``POST`` (mail scanners fetch links).
* **work** — "work with this lead", bound to (lead, recipient), for assignment and
  manual-queue emails; it opens the lead's page.  It is valid for :data:`WORK_TTL`.

Copies (``cc``) carry no link at all; that is the dispatcher's rule, not this module's."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

OFFER_ACTIONS = ("accept", "decline")
WORK = "work"
#: How long a link of an offer without a deadline stays valid (seconds).
NO_DEADLINE_TTL = 7 * 24 * 3600
#: How long a "work with this lead" link stays valid (seconds).
WORK_TTL = 30 * 24 * 3600
_SALT = "rulekit.offer-link"


class NoSigningKey(RuntimeError):
    """Links cannot be made or read without the service's signing key."""


class BadLink(ValueError):
    """A link that was not signed with this key, or does not say what it is for."""


def _serializer(key: str) -> URLSafeSerializer:
    if not key:
        raise NoSigningKey("no signing key: set RULEKIT_SIGNING_KEY")
    return URLSafeSerializer(key, salt=_SALT)


def sign(key: str, offer_id: str, agent: str, action: str,
         deadline: datetime | None) -> str:
    """The token of an offer link; it expires with the offer."""
    assert action in OFFER_ACTIONS
    expires = int(deadline.timestamp()) if deadline else int(time.time()) + NO_DEADLINE_TTL
    return str(_serializer(key).dumps({"o": offer_id, "a": agent, "x": action, "e": expires}))


def sign_work(key: str, lead_id: str, recipient: str) -> str:
    """The token of a "work with this lead" link."""
    return str(_serializer(key).dumps({"l": lead_id, "r": recipient, "x": WORK,
                                       "e": int(time.time()) + WORK_TTL}))


def read(key: str, token: str) -> dict[str, Any]:
    """What a token says (``x``: the action; ``e``: when it expires, unix seconds)."""
    try:
        data = _serializer(key).loads(token)
    except BadSignature:
        raise BadLink("this link is not valid") from None
    if not isinstance(data, dict) or data.get("x") not in (*OFFER_ACTIONS, WORK) \
            or not isinstance(data.get("e"), int):
        raise BadLink("this link is not valid")
    return data


def offer_links(base_url: str, key: str, offer_id: str, agent: str,
                deadline: datetime | None) -> dict[str, str]:
    """The accept and decline links of an offer for one offered agent."""
    base = base_url.rstrip("/")
    return {action: f"{base}/links/{sign(key, offer_id, agent, action, deadline)}"
            for action in OFFER_ACTIONS}


def work_link(base_url: str, key: str, lead_id: str, recipient: str) -> str:
    return f"{base_url.rstrip('/')}/links/{sign_work(key, lead_id, recipient)}"
