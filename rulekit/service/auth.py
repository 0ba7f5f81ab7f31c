"""Bearer tokens and roles.  Every ``/v1`` route declares the roles it admits with
:func:`allow`; a request with no token, or one that is malformed, unknown or revoked, is 401;
a valid token whose role the route does not admit is 403.

Tokens are checked through the process's :class:`~rulekit.access.VerifiedTokens` (a token
verified less than ``token_ttl`` seconds ago is taken from memory, on the event loop; any other
is checked against the store in a worker thread)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from rulekit.access import ROLES, VerifiedTokens
from rulekit.service.problems import Problem
from rulekit.storage.base import StoredToken

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="rulekit"'}


async def principal(request: Request) -> StoredToken:
    """The token of the request (401 when there is none that is valid)."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        raise Problem(401, "a bearer token is required (Authorization: Bearer <token>)",
                      code="unauthorized", headers=_CHALLENGE)
    tokens: VerifiedTokens = request.app.state.live.tokens
    token = tokens.remembered(presented)
    if token is None:
        token = await run_in_threadpool(tokens.verify, presented)
    if token is None:
        raise Problem(401, "the token is not valid (unknown, malformed or revoked)",
                      code="unauthorized", headers=_CHALLENGE)
    return token


def allow(*roles: str) -> Any:
    """A dependency admitting tokens of ``roles``; the roles are kept on it for the matrix."""
    assert set(roles) <= set(ROLES), roles

    async def check(request: Request) -> StoredToken:
        token = await principal(request)
        if token.role not in roles:
            raise Problem(403, f"the {token.role} role may not do this (allowed: "
                          f"{', '.join(roles)})", code="forbidden")
        return token

    check.roles = roles  # type: ignore[attr-defined]
    return Depends(check)


def route_roles(endpoint: Callable[..., Any] | None) -> tuple[str, ...] | None:
    """The roles a route admits (``None``: no token needed)."""
    if endpoint is None:
        return None
    for parameter in inspect.signature(endpoint).parameters.values():
        dependency = getattr(parameter.default, "dependency", None)
        roles = getattr(dependency, "roles", None)
        if roles is not None:
            return tuple(roles)
    return None
