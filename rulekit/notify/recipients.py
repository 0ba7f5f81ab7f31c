"""Who a notification's recipient is, and where each channel reaches them.

The outbox keeps each recipient as decided: an agent id or a staff id (the roles ``assignee``,
``owner``, ``offered``, ``listing_agent`` and ``entered_by`` are agent ids by then), an email
address, or a webhook URL, as the rule file gives them.  :func:`resolve` turns one into the
concrete addresses to deliver to, one :class:`Address` per channel:

* an agent or staff id: its ``email`` (channel ``email``) and its ``webhook`` (channel
  ``webhook``, signed with the secret in the environment variable its ``webhook_secret_env``
  names); a person with neither is only logged;
* an email address: that address;
* a webhook URL (``https://``; ``http://`` to ``localhost`` or ``127.0.0.1``): that URL,
  signed with the service-wide secret in :data:`DEFAULT_SECRET_ENV`;
* anything else (an unknown name, which ``rulekit validate`` reports as RK313): only logged.

Pure: no I/O, no environment lookups; the secret's variable is named, never read, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rulekit.model import WEBHOOK_URL, Agent, Staff
from rulekit.world import World

__all__ = [
    "CHANNELS",
    "DEFAULT_SECRET_ENV",
    "EMAIL_ADDRESS",
    "Address",
    "display_name",
    "is_email_address",
    "is_webhook_url",
    "looks_like_url",
    "resolve",
]

#: The environment variable holding the secret that signs a webhook with no secret of its own:
#: a URL named as a recipient, or a person's ``webhook`` without ``webhook_secret_env``.
DEFAULT_SECRET_ENV = "RULEKIT_WEBHOOK_SECRET"
#: The channels an :class:`Address` can be for.
CHANNELS = ("email", "webhook", "log")

_ATOM = r"[^\s@<>()\[\],;:\"\\]"
#: A bare email address: a local part and a domain of dot-separated labels, with no space,
#: no display name and no angle brackets (``pat@example.com``, ``lead-desk@localhost``).
EMAIL_ADDRESS = re.compile(rf"^{_ATOM}+@[^\s@<>()\[\],;:\"\\.]+(?:\.[^\s@<>()\[\],;:\"\\.]+)*$")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class Address:
    """Where one channel reaches a recipient."""

    #: ``email``, ``webhook`` or ``log`` (nowhere to send: the notification is only logged).
    channel: str
    #: The email address, the webhook URL, or ``""`` for the log channel.
    address: str
    #: For a webhook: the environment variable holding its signing secret; ``None`` for
    #: :data:`DEFAULT_SECRET_ENV`.
    secret_env: str | None = None
    #: The person's display name, when the world knows it.
    name: str | None = None


def is_email_address(text: str) -> bool:
    """Whether ``text`` is a bare email address (see :data:`EMAIL_ADDRESS`)."""
    return EMAIL_ADDRESS.match(text) is not None


def is_webhook_url(text: str) -> bool:
    """Whether ``text`` is a URL notifications can be posted to: ``https://`` with a host, or
    ``http://`` to ``localhost`` or ``127.0.0.1`` (see :data:`rulekit.model.WEBHOOK_URL`)."""
    return WEBHOOK_URL.match(text) is not None


def looks_like_url(text: str) -> bool:
    """Whether ``text`` starts as a URL does (``scheme://``), valid as a webhook or not."""
    return _URL_SCHEME.match(text) is not None


def _person(world: World | None, recipient: str) -> Agent | Staff | None:
    return world.person(recipient) if world is not None else None


def resolve(world: World | None, recipient: str) -> list[Address]:
    """The addresses that reach ``recipient`` (an agent or staff id of ``world``, an email
    address, or a webhook URL): an email and a webhook address for a person who has both, one
    address otherwise; ``[Address("log", "")]`` when nothing reaches them."""
    person = _person(world, recipient)
    if person is not None:
        name = person.name or None
        found: list[Address] = []
        if person.email:
            found.append(Address("email", person.email, name=name))
        if person.webhook:
            found.append(Address("webhook", person.webhook, person.webhook_secret_env, name))
        return found or [Address("log", "", name=name)]
    if is_email_address(recipient):
        return [Address("email", recipient)]
    if is_webhook_url(recipient):
        return [Address("webhook", recipient)]
    return [Address("log", "")]


def display_name(world: World | None, recipient: str) -> str | None:
    """The display name of the agent or staff member ``recipient`` names; ``None`` for an
    address, an unknown name, or a person without one."""
    person = _person(world, recipient)
    return person.name or None if person is not None else None
