"""The two ways a delivery channel fails: worth retrying later, or not.

Every channel (``rulekit.notify.smtp``, ``rulekit.notify.webhook``) either delivers the message
it was handed or raises one of these.  The delivery loop decides what to do with them:

- ``TemporaryFailure``: the same message may well go through later (connection refused, a
  timeout, an SMTP 4xx reply, HTTP 408/429/5xx).  ``retry_after`` carries the delay the other
  side asked for, in seconds, when it gave one (HTTP ``Retry-After``).
- ``PermanentFailure``: sending the same message again will fail the same way until someone
  changes the message or the configuration (an SMTP 5xx reply such as an unknown recipient or
  refused credentials, an HTTP 4xx other than 408/429, a certificate that does not verify).

Messages never carry a password or a signing secret.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["DeliveryFailure", "PermanentFailure", "TemporaryFailure"]


class DeliveryFailure(Exception):
    """A message was not delivered (the base class of the two kinds below).

    ``code`` is the protocol's status when there was one: the SMTP reply code or the HTTP
    status.  ``refused`` maps each refused SMTP envelope recipient to its ``(code, reply)``;
    ``accepted`` lists the recipients the server took when it refused only some of them (a
    retry should then go to the refused ones only, or they get the message twice).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        refused: Mapping[str, tuple[int, str]] | None = None,
        accepted: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.refused: dict[str, tuple[int, str]] = dict(refused or {})
        self.accepted = accepted

    def __str__(self) -> str:
        return self.message


class TemporaryFailure(DeliveryFailure):
    """Not delivered this time; trying the same message again later may work."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        retry_after: float | None = None,
        refused: Mapping[str, tuple[int, str]] | None = None,
        accepted: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, code=code, refused=refused, accepted=accepted)
        #: Seconds the receiving side asked us to wait before the next attempt, if it said.
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailure):
    """Not delivered, and trying the same message again will not help."""
