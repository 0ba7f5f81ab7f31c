"""``/healthz`` (the process answers), ``/readyz`` (the store is reachable and its schema
current), ``/metrics`` (Prometheus text).  None needs a token: put them behind the proxy's
own access rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from rulekit.service.problems import problem_response
from rulekit.storage.sql_schema import SCHEMA_VERSION

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Store unreachable or not migrated"}})
def readyz(request: Request) -> Any:
    store = request.app.state.live.store
    try:
        version = store.schema_version()
    except Exception as exc:
        return problem_response(503, f"the store cannot be read: {type(exc).__name__}",
                                "store-unreachable", request.url.path)
    if version != SCHEMA_VERSION:
        return problem_response(503, f"the store's schema is version {version}, this "
                                f"service needs {SCHEMA_VERSION}: run rulekit migrate",
                                "schema-not-current", request.url.path)
    return {"status": "ready", "schema_version": version}


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(),
                    media_type="text/plain; version=0.0.4; charset=utf-8")
