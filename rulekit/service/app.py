"""The application: routers, problem handlers, limits, and the live engine's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from rulekit.service import admin, health, leads, links, offers, problems
from rulekit.service.auth import route_roles
from rulekit.service.config import ServiceConfig
from rulekit.service.limits import Limits
from rulekit.service.live import Live
from rulekit.service.metrics import Metrics

VERSION = "1"
ROUTERS = (leads, offers, admin, links, health)


def role_matrix() -> list[tuple[str, str, tuple[str, ...] | None]]:
    """Every route as (method, path, the roles it admits; ``None``: no token needed)."""
    found = []
    for module in ROUTERS:
        for route in module.router.routes:
            for method in sorted(getattr(route, "methods", ()) or ()):
                found.append((method, getattr(route, "path", ""),
                              route_roles(getattr(route, "endpoint", None))))
    return found


def create_app(config: ServiceConfig, *, store: Any | None = None) -> FastAPI:
    """The service for ``config``; ``store`` (already open) instead of opening
    ``config.db``.  The worker loop runs while the application is started."""
    live = Live(config, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        live.start()
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
    problems.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
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
