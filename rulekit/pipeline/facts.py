"""What a decision may read besides the lead's own state: facts kept by the store.

:class:`Facts` is read-only; a decision changes facts only through effects.  The engine gives
:func:`~rulekit.pipeline.decide` a view over its storage; tests give a :class:`StaticFacts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from rulekit.model import Contact, Lead


def identity_key(email: str | None, phone: str | None) -> str | None:
    """A consumer's identity: ``email:<lower-case email>``, else ``phone:<digits>``."""
    if email:
        return "email:" + email.strip().lower()
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return f"phone:{digits}" if digits else None


def contact_key_of_text(text: str) -> str | None:
    """The identity key a person means by ``text``: a key as given (``email:…``,
    ``phone:…``), else an email (it has an ``@``), else a phone number; ``None`` if it is
    none of these."""
    text = text.strip()
    kind, sep, value = text.partition(":")
    if sep and kind in ("email", "phone"):
        return identity_key(value if kind == "email" else None,
                            value if kind == "phone" else None)
    if "@" in text:
        return identity_key(text, None)
    return identity_key(None, text)


def blank_contact(key: str) -> Contact:
    """A contact known only by its identity key (``email:…`` or ``phone:…``)."""
    kind, _, value = key.partition(":")
    return Contact(id=key, email=value if kind == "email" else None,
                   phone=value if kind == "phone" else None)


def contact_key(lead: Lead) -> str | None:
    """The identity of the consumer behind a lead."""
    return identity_key(lead.contact.email, lead.contact.phone)


class Facts(Protocol):
    def contact(self, key: str) -> Contact | None:
        """The stored contact with this identity key, with its owners per scope."""

    def rotation(self, pool_key: str) -> tuple[str | None, int]:
        """The round-robin cursor of a pool: the last agent served and its index."""

    def load(self, agent: str) -> int:
        """How many leads the agent holds open now."""

    def last_offered(self, agent: str) -> datetime | None:
        """When the agent was last offered a lead."""

    def contact_misses(self, agent: str) -> int:
        """How many first-contact SLAs the agent missed since they were last paused for
        missing them (the ``contact_missed`` and ``contact_pause`` audit entries)."""


@dataclass
class StaticFacts:
    """Facts from plain dictionaries (tests, scenarios, the in-memory store)."""

    contacts: dict[str, Contact] = field(default_factory=dict)
    rotations: dict[str, tuple[str | None, int]] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)
    offered_at: dict[str, datetime] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)

    def contact(self, key: str) -> Contact | None:
        return self.contacts.get(key)

    def rotation(self, pool_key: str) -> tuple[str | None, int]:
        return self.rotations.get(pool_key, (None, -1))

    def load(self, agent: str) -> int:
        return self.loads.get(agent, 0)

    def last_offered(self, agent: str) -> datetime | None:
        return self.offered_at.get(agent)

    def contact_misses(self, agent: str) -> int:
        return self.misses.get(agent, 0)
