"""``/v1/admin``: changes office administrators make without a deploy — an agent's paused
state, pool membership.  Each is a new version of the active world or rule set (every older
text stays stored), audited with who, when, why and before → after, and taken by new
decisions at once in this process and within ``refresh`` seconds in the others."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from rulekit.service.auth import allow
from rulekit.service.leads import engine_of, live_of
from rulekit.service.problems import Problem
from rulekit.service.views import ChangeView, MemberIn, PausedIn
from rulekit.storage.base import StoredToken
from rulekit.storage.catalog import CatalogError, pause_agent, set_pool_members

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _actor(token: StoredToken, reason: str) -> str:
    return f"admin token {token.token_id} ({token.label or 'no label'}): {reason}"


def _pool(engine: Any, pool: str) -> Any:
    found = engine.ruleset.pools.get(pool)
    if found is None:
        raise Problem(404, f"no pool {pool!r} in the active rule set", code="unknown-pool")
    return found


@router.get("/pools/{pool}")
def read_pool(pool: str, request: Request,
              token: StoredToken = allow("admin", "support")) -> dict[str, Any]:
    found = _pool(engine_of(live_of(request)), pool)
    return {"pool": pool, "members": list(found.members) if found.members is not None
            else None}


def _set_members(request: Request, token: StoredToken, pool: str, member: str, add: bool,
                 reason: str) -> ChangeView:
    live = live_of(request)
    engine = engine_of(live)
    found = _pool(engine, pool)
    if found.members is None:
        raise Problem(409, f"pool {pool!r} takes its members from the world, not a list",
                      code="pool-not-listed")
    before = list(found.members)
    world = engine.world
    if member in world.agents:
        adding = [member]
    elif member in world.teams:
        adding = list(world.teams[member].members)
    else:
        raise Problem(422, f"{member!r} is no agent or team of the active world",
                      code="invalid-input", errors=[{"field": "body.member",
                                                     "message": "unknown agent or team",
                                                     "type": "value"}])
    after = before + [m for m in adding if m not in before] if add \
        else [m for m in before if m not in adding]
    try:
        version = set_pool_members(live.store, pool, after, by=_actor(token, reason))
    except CatalogError as exc:
        raise Problem(409, str(exc), code="change-refused") from None
    live.changed()
    return ChangeView(action=f"pool {pool} {'+' if add else '-'} {member}", before=before,
                      after=after, version=version)


@router.post("/pools/{pool}/members", response_model=ChangeView)
def add_member(pool: str, body: MemberIn, request: Request,
               token: StoredToken = allow("admin")) -> ChangeView:
    """Add an agent (or every agent of a team) to a pool's rotation."""
    return _set_members(request, token, pool, body.member, True, body.reason)


@router.post("/pools/{pool}/members/remove", response_model=ChangeView)
def remove_member(pool: str, body: MemberIn, request: Request,
                  token: StoredToken = allow("admin")) -> ChangeView:
    """Take an agent (or every agent of a team) out of a pool's rotation."""
    return _set_members(request, token, pool, body.member, False, body.reason)


@router.put("/agents/{agent}/paused", response_model=ChangeView)
def set_paused(agent: str, body: PausedIn, request: Request,
               token: StoredToken = allow("admin")) -> ChangeView:
    """Pause an agent (no new offers) or make them active again."""
    live = live_of(request)
    engine = engine_of(live)
    known = engine.world.agents.get(agent)
    if known is None:
        raise Problem(404, f"no agent {agent!r} in the active world", code="unknown-agent")
    try:
        version = pause_agent(live.store, agent, body.paused, by=_actor(token, body.reason))
    except CatalogError as exc:
        raise Problem(409, str(exc), code="change-refused") from None
    live.changed()
    return ChangeView(action=f"agent {agent} {'paused' if body.paused else 'active'}",
                      before={"paused": known.paused}, after={"paused": body.paused},
                      version=version)


@router.get("/audit")
def read_audit(request: Request,
               token: StoredToken = allow("admin", "support")) -> list[dict[str, Any]]:
    """The audit history: rule and world activations, admin changes, retries, tokens."""
    store = live_of(request).store
    return [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "detail": e.detail} for e in store.audit()]
