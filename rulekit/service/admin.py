"""``/v1/admin``: changes office administrators make without a deploy — an agent's paused
state, pool membership, a policy's distribution switch, a rule's carbon-copy list, and the
transfer of contacts between agents.  Each of the first four is a new version of the active
world or rule set (every older text stays stored); each is audited with who, when, why and
before → after, and taken by new decisions at once in this process and within ``refresh``
seconds in the others."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from rulekit.pipeline.facts import contact_key_of_text
from rulekit.pipeline.teams import is_team
from rulekit.service.auth import allow
from rulekit.service.leads import engine_of, live_of
from rulekit.service.problems import Problem
from rulekit.service.views import (
    CcIn,
    ChangeView,
    EnabledIn,
    MemberIn,
    PausedIn,
    TransferIn,
    conflict_lead_views,
)
from rulekit.storage.base import StoredToken
from rulekit.storage.catalog import (
    CatalogError,
    InvalidEdit,
    UnknownRule,
    pause_agent,
    rule_cc,
    set_policy_enabled,
    set_pool_members,
    set_rule_cc,
)

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def actor(token: StoredToken) -> str:
    """Who made a change, as the audit history names them."""
    return f"{token.role} token {token.token_id} ({token.label or 'no label'})"


def refused(exc: CatalogError, field: str | None = None) -> Problem:
    """A refused edit: 422 naming ``field`` when the edited rules do not compile, else 409."""
    if field is not None and isinstance(exc, InvalidEdit):
        return Problem(422, str(exc), code="invalid-input",
                       errors=[{"field": field, "message": str(exc), "type": "value"}])
    return Problem(409, str(exc), code="change-refused")


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
    if member not in world.agents and not is_team(world, member):
        message = f"{member!r} is no agent or team of the active world"
        raise Problem(422, message, code="invalid-input",
                      errors=[{"field": "body.member", "message": message, "type": "value"}])
    # an agent or a team is one member: a team takes one turn (docs/rules.md, "Teams in a
    # rotation")
    after = (before if member in before else [*before, member]) if add \
        else [m for m in before if m != member]
    try:
        version = set_pool_members(live.store, pool, after, by=actor(token), reason=reason)
    except CatalogError as exc:  # a team the rotation cannot use (RK316) names body.member
        raise refused(exc, "body.member") from None
    live.changed()
    return ChangeView(action=f"pool {pool} {'+' if add else '-'} {member}", before=before,
                      after=after, version=version)


@router.post("/pools/{pool}/members", response_model=ChangeView)
def add_member(pool: str, body: MemberIn, request: Request,
               token: StoredToken = allow("admin")) -> ChangeView:
    """Add an agent, or a team as one member (it takes one turn), to a pool's rotation."""
    return _set_members(request, token, pool, body.member, True, body.reason)


@router.post("/pools/{pool}/members/remove", response_model=ChangeView)
def remove_member(pool: str, body: MemberIn, request: Request,
                  token: StoredToken = allow("admin")) -> ChangeView:
    """Take an agent or a team (the member, not the team's agents) out of a pool's
    rotation."""
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
        version = pause_agent(live.store, agent, body.paused, by=actor(token),
                              reason=body.reason)
    except CatalogError as exc:
        raise refused(exc) from None
    live.changed()
    return ChangeView(action=f"agent {agent} {'paused' if body.paused else 'active'}",
                      before={"paused": known.paused}, after={"paused": body.paused},
                      version=version)


def _policy(engine: Any, policy: str) -> Any:
    try:
        return engine.ruleset.policy(policy)
    except KeyError:
        raise Problem(404, f"no policy {policy!r} in the active rule set",
                      code="unknown-policy") from None


@router.put("/policies/{policy}/enabled", response_model=ChangeView)
def set_enabled(policy: str, body: EnabledIn, request: Request,
                token: StoredToken = allow("admin")) -> ChangeView:
    """Switch a policy's automatic distribution off (its leads wait in its disabled queue)
    or on again."""
    live = live_of(request)
    before = _policy(engine_of(live), policy).enabled
    try:
        version = set_policy_enabled(live.store, policy, body.enabled, by=actor(token),
                                     reason=body.reason)
    except CatalogError as exc:
        raise refused(exc, "body.enabled") from None
    live.changed()
    return ChangeView(action=f"policy {policy} {'enabled' if body.enabled else 'disabled'}",
                      before={"enabled": before}, after={"enabled": body.enabled},
                      version=version)


@router.put("/policies/{policy}/rules/{rule}/cc", response_model=ChangeView)
def set_cc(policy: str, rule: str, body: CcIn, request: Request,
           token: StoredToken = allow("admin")) -> ChangeView:
    """Set who is copied on the notifications of one rule (managers, office admins); an
    empty list stops the copies."""
    live = live_of(request)
    _policy(engine_of(live), policy)
    try:
        before = rule_cc(live.store, policy, rule)
        version = set_rule_cc(live.store, policy, rule, body.cc, by=actor(token),
                              reason=body.reason)
    except CatalogError as exc:
        if isinstance(exc, UnknownRule):
            raise Problem(404, str(exc), code="unknown-rule") from None
        raise refused(exc, "body.cc") from None
    live.changed()
    return ChangeView(action=f"policy {policy} rule {rule} cc set", before={"cc": before},
                      after={"cc": [list(body.cc) for _ in before]}, version=version)


@router.post("/contacts/transfer", response_model=ChangeView)
def transfer(body: TransferIn, request: Request,
             token: StoredToken = allow("admin")) -> ChangeView:
    """Give another agent the contacts an agent owns — all of them, one contact, and/or one
    ownership scope; new decisions route those consumers to the new owner."""
    live = live_of(request)
    world = engine_of(live).world
    errors = [{"field": f"body.{name}", "message": f"no agent {agent!r} in the active world",
               "type": "value"}
              for name, agent in (("from_agent", body.from_agent), ("to_agent", body.to_agent))
              if agent not in world.agents]
    if body.from_agent == body.to_agent:
        errors.append({"field": "body.to_agent", "message": "the same agent as from_agent",
                       "type": "value"})
    key = None if body.contact is None else contact_key_of_text(body.contact)
    if body.contact is not None and key is None:
        errors.append({"field": "body.contact", "message": "not an email, phone or contact key",
                       "type": "value"})
    if errors:
        raise Problem(422, "; ".join(e["message"] for e in errors), code="invalid-input",
                      errors=errors)
    moved, leads = engine_of(live).transfer_contacts(
        body.from_agent, body.to_agent, by=actor(token), reason=body.reason,
        contact_key=key, scope=body.scope, now=datetime.now(UTC))
    return ChangeView(action=f"contacts of {body.from_agent} transferred to {body.to_agent}",
                      before={"owner": body.from_agent},
                      after={"owner": body.to_agent,
                             "moved": [{"contact": k, "scope": s} for k, s in moved]},
                      conflict_leads=conflict_lead_views(leads))


@router.get("/audit")
def read_audit(request: Request,
               token: StoredToken = allow("admin", "support")) -> list[dict[str, Any]]:
    """The audit history: rule and world activations, admin changes, retries, tokens."""
    store = live_of(request).store
    return [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "detail": e.detail} for e in store.audit()]
