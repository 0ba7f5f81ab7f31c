"""RFC 9457 problem details: every error the service answers is ``application/problem+json``
with ``type``, ``title``, ``status``, ``detail`` and, for bad input, the ``errors`` that name
each field."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("rulekit.service")

PROBLEM = "application/problem+json"

TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Request body too large",
          415: "Unsupported media type", 422: "Invalid input", 500: "Internal error",
          503: "Service unavailable", 504: "Request timed out"}


class Problem(Exception):
    """An error answered as problem+json."""

    def __init__(self, status: int, detail: str, *, code: str | None = None,
                 errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or TITLES.get(status, "error").lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers
        self.extra = extra


def problem_body(status: int, detail: str, code: str, instance: str,
                 errors: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": f"https://rulekit.dev/problems/{code}",
                            "title": TITLES.get(status, "Error"), "status": status,
                            "detail": detail, "instance": instance}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(status: int, detail: str, code: str, instance: str,
                     errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(problem_body(status, detail, code, instance, errors, **extra),
                        status_code=status, media_type=PROBLEM, headers=headers)


def field_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors as ``{"field": "body.contact.email", "message": ...}``."""
    found = []
    for error in errors:
        loc = ".".join(str(part) for part in error.get("loc", ()))
        found.append({"field": loc, "message": str(error.get("msg", "invalid")),
                      "type": str(error.get("type", "invalid"))})
    return found


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.detail, exc.code, request.url.path,
                                exc.errors, exc.headers, **exc.extra)

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc.errors())
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        return problem_response(422, detail or "invalid input", "invalid-input",
                                request.url.path, errors)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(exc.status_code, str(exc.detail),
                                TITLES.get(exc.status_code, "error").lower().replace(" ", "-"),
                                request.url.path, headers=dict(exc.headers or {}))

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed: %s", request.method, request.url.path,
                  type(exc).__name__, exc_info=exc)
        return problem_response(500, "the service failed to answer; nothing was changed "
                                "unless the response said so", "internal-error",
                                request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_error)
