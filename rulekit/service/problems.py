"""RFC 9457 problem details: every error the service answers is ``application/problem+json``
with ``type``, ``title``, ``status``, ``detail``, ``instance`` and, for bad input, the
``errors`` that name each field.  :func:`document` declares them in the OpenAPI document."""

from __future__ import annotations

import ast
import copy
import inspect
import logging
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

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


def install(app: FastAPI, routes: Sequence[BaseRoute]) -> None:
    """Answer every error of ``app`` as a problem; ``routes`` (all of the app's) name the
    methods a 405 allows."""

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
        headers = dict(exc.headers or {})
        methods = allowed_methods(routes, request) if exc.status_code == 405 else []
        if methods:
            headers["Allow"] = ", ".join(methods)
        return problem_response(exc.status_code, str(exc.detail),
                                TITLES.get(exc.status_code, "error").lower().replace(" ", "-"),
                                request.url.path, headers=headers)

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


def allowed_methods(routes: Sequence[BaseRoute], request: Request) -> list[str]:
    """Every method one of ``routes`` serves at the request's path (the router's own 405 names
    only those of the first route whose path matches)."""
    found: set[str] = set()
    for route in routes:
        match, _ = route.matches({**request.scope, "method": ""})
        if match != Match.NONE:
            found.update(getattr(route, "methods", None) or ())
    return sorted(found)


# The OpenAPI document.

REF = "#/components/schemas/"

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "FieldError", "type": "object", "required": ["field", "message", "type"],
    "properties": {
        "field": {"type": "string", "description": "Where: body.contact.email, query.limit.",
                  "examples": ["body.received_at"]},
        "message": {"type": "string"},
        "type": {"type": "string", "description": "The kind of error (missing, value, ...)."}},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object",
    "description": "RFC 9457 problem details.  The last segment of `type` is a stable code "
                   "(unknown-lead, lead-conflict, ...); `errors` comes with bad input.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "examples": ["https://rulekit.dev/problems/unknown-lead"]},
        "title": {"type": "string", "examples": ["Not found"]},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The path of the request."},
        "errors": {"type": "array", "items": {"$ref": REF + "FieldError"}},
        "result": {"type": "string",
                   "description": "Why an offer was not answered: taken, expired or closed."}},
}

#: What each error status means, where a route says no more.
MEANINGS = {
    400: "The body could not be read",
    401: "No token, or one that is malformed, unknown or revoked",
    403: "The token's role, agent or sources may not do this",
    404: "No such resource",
    409: "Conflicts with the current state",
    413: "The body is larger than the service accepts",
    422: "Invalid input: `errors` names each field",
    503: "Cannot answer now (nothing loaded yet, the store unreachable, or the request took "
         "longer than the service's timeout): try again",
}

#: Calls whose first argument is the status of the problem they raise or answer.
_MAKERS = frozenset({"Problem", "problem_response"})


def raised_statuses(function: Callable[..., Any]) -> set[int]:
    """The statuses of the problems ``function`` raises or answers, read from its source and
    that of the service's functions it calls (its parameters' defaults included, so the
    dependencies it declares count)."""
    found: set[int] = set()
    _scan(function, set(), found)
    return found


def _scan(function: Any, seen: set[Any], found: set[int]) -> None:
    function = inspect.unwrap(function) if callable(function) else function
    if not inspect.isfunction(function) or function in seen \
            or not function.__module__.startswith("rulekit.service"):
        return
    seen.add(function)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else \
            node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name in _MAKERS:
            if node.args:
                found.update(_constants(node.args[0]))
        elif isinstance(node.func, ast.Name):
            _scan(function.__globals__.get(node.func.id), seen, found)


def _constants(node: ast.expr) -> Iterable[int]:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def problem_responses(statuses: Iterable[int], declared: dict[str, Any]) -> dict[str, Any]:
    """The responses of an operation with each of ``statuses`` answered as a Problem:
    ``declared`` (the operation's responses so far) keeps its descriptions, and a response it
    gives its own content keeps that; FastAPI's own 422 body is replaced."""
    responses = {code: response for code, response in declared.items()
                 if not code.isdigit() or int(code) < 400}
    for status in sorted(statuses):
        response = dict(declared.get(str(status)) or {})
        content = response.get("content")
        if content and _fastapi_validation(content):
            response.pop("description", None)
        if not content or _fastapi_validation(content):
            response["content"] = {PROBLEM: {"schema": {"$ref": REF + "Problem"}}}
        if not response.get("description"):
            response["description"] = MEANINGS.get(status, TITLES.get(status, "Error"))
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {
                "description": "The scheme to authenticate with: Bearer.", "required": True,
                "schema": {"type": "string"}}}
        responses[str(status)] = response
    return responses


def _fastapi_validation(content: dict[str, Any]) -> bool:
    schema = content.get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == REF + "HTTPValidationError")


def document(openapi: dict[str, Any], statuses: dict[tuple[str, str], set[int]]) -> None:
    """Declare in ``openapi`` the problems each operation answers (``statuses`` by method and
    path) with the Problem schema, in place of FastAPI's validation error."""
    for (method, path), wanted in statuses.items():
        operation = openapi["paths"][path][method.lower()]
        operation["responses"] = problem_responses(wanted, operation.get("responses", {}))
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = copy.deepcopy(PROBLEM_SCHEMA)
    schemas["FieldError"] = copy.deepcopy(FIELD_ERROR_SCHEMA)
    if "HTTPValidationError" not in repr(openapi["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
