"""The application: routers, problem handlers, limits, the live engine's lifespan, and the
OpenAPI document with the problems each route answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from rulekit.service import (
    admin,
    contact_actions,
    contacts,
    health,
    leads,
    links,
    offers,
    problems,
    reports,
)
from rulekit.service.auth import route_roles
from rulekit.service.config import ServiceConfig
from rulekit.service.limits import Limits
from rulekit.service.live import Live
from rulekit.service.metrics import Metrics

VERSION = "1"
ROUTERS = (leads, contacts, contact_actions, offers, admin, reports, links, health)


def role_matrix() -> list[tuple[str, str, tuple[str, ...] | None]]:
    """Every route as (method, path, the roles it admits; ``None``: no token needed)."""
    found = []
    for module in ROUTERS:
        for route in module.router.routes:
            for method in sorted(getattr(route, "methods", ()) or ()):
                found.append((method, getattr(route, "path", ""),
                              route_roles(getattr(route, "endpoint", None))))
    return found


def api_routes() -> list[APIRoute]:
    """Every route of the service."""
    return [route for module in ROUTERS for route in module.router.routes
            if isinstance(route, APIRoute)]


def error_statuses(route: APIRoute) -> set[int]:
    """The error statuses the service may answer ``route`` with, each a problem: those its
    code raises (see :func:`problems.raised_statuses`) or it declares; 401 and 403 where it
    needs a token; 404 where its path names something; 400, 413 and 422 where it takes a body;
    422 where it takes parameters that can be invalid; 503 everywhere (the request timeout)."""
    statuses = {503} | problems.raised_statuses(route.endpoint)
    statuses |= {int(code) for code in route.responses
                 if str(code).isdigit() and int(code) >= 400}
    if route_roles(route.endpoint) is not None:
        statuses |= {401, 403}
    if route.dependant.path_params:
        statuses.add(404)
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if any(_checked(dependant) for dependant in _dependants(route.dependant)):
        statuses.add(422)
    return statuses


def _dependants(dependant: Dependant) -> list[Dependant]:
    return [dependant, *(d for sub in dependant.dependencies for d in _dependants(sub))]


def _checked(dependant: Dependant) -> bool:
    """Whether a request's parameters can fail ``dependant``'s validation (a path segment
    read as text cannot)."""
    return bool(dependant.query_params or dependant.header_params or dependant.cookie_params
                or any(field.field_info.annotation is not str
                       for field in dependant.path_params))


def create_app(config: ServiceConfig, *, store: Any | None = None) -> FastAPI:
    """The service for ``config``; ``store`` (already open) instead of opening
    ``config.db``.  The worker loop runs while the application is started."""
    live = Live(config, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        live.start(on_delivery=app.state.metrics.delivered)
        try:
            yield
        finally:
            live.stop()

    app = FastAPI(title="rulekit", version=VERSION, lifespan=lifespan,
                  description="Lead intake, offers, admin changes and reads of a rulekit "
                  "system.  Errors are RFC 9457 problem+json.")
    app.state.live = live
    app.state.config = config
    app.state.metrics = Metrics(live.store, config.late_after)
    problems.install(app, api_routes())
    for module in ROUTERS:
        app.include_router(module.router)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            problems.document(generate(), {
                (method, route.path): error_statuses(route)
                for route in api_routes() for method in route.methods or ()})
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(Limits, max_body=config.max_body, timeout=config.timeout,
                       metrics=app.state.metrics)
    return app


def render_matrix() -> str:
    """The role matrix as the Markdown table docs/service.md prints."""
    from rulekit.access import ROLES

    lines = ["| route | " + " | ".join(ROLES) + " |",
             "|---|" + "---|" * len(ROLES)]
    for method, path, roles in role_matrix():
        if method == "HEAD":
            continue
        cells = ["open" if roles is None else ("yes" if role in roles else "403")
                 for role in ROLES]
        lines.append(f"| `{method} {path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the service (committed as schemas/openapi.json)."""
    from rulekit.storage.memory import MemoryStore

    document: dict[str, Any] = create_app(ServiceConfig(db="memory://"),
                                          store=MemoryStore()).openapi()
    return document
