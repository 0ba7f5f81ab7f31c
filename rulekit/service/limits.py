"""ASGI middleware: a cap on request bodies (413), a request timeout (503), and latency
metrics.  Pure ASGI, so a streamed body is counted as it arrives."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rulekit.service.problems import problem_body
from rulekit.trace import encode_json


class TooLarge(Exception):
    pass


async def _problem(send: Send, status: int, detail: str, code: str, path: str) -> None:
    body = encode_json(problem_body(status, detail, code, path)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Limits:
    def __init__(self, app: ASGIApp, *, max_body: int, timeout: float, metrics: Any) -> None:
        self.app = app
        self.max_body = max_body
        self.timeout = timeout
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        started = time.perf_counter()
        status = [500]
        sent = [False]
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                await _problem(send, 413, f"the body is larger than {self.max_body} bytes",
                               "body-too-large", path)
                self._observe(scope, 413, started)
                return
        seen = [0]

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.max_body:
                    raise TooLarge
            return message

        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                sent[0] = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, limited_receive, watched_send),
                                   self.timeout)
        except TooLarge:
            if not sent[0]:
                status[0] = 413
                await _problem(send, 413, f"the body is larger than {self.max_body} bytes",
                               "body-too-large", path)
        except TimeoutError:
            if not sent[0]:
                status[0] = 503
                await _problem(send, 503, f"the request took longer than {self.timeout} s; "
                               "what it committed stays (intake is idempotent: send it again)",
                               "timeout", path)
        self._observe(scope, status[0], started)

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        route = scope.get("route")
        name = getattr(route, "path", None) or "unmatched"
        self.metrics.observe(scope.get("method", ""), name, status,
                             time.perf_counter() - started)
