"""A real webhook endpoint for tests: ``http.server`` on 127.0.0.1 and a free port, in a thread.

It checks each request with ``rulekit.notify.webhook.verify`` and records it; a request whose
signature does not verify is answered 401.  Usable from any test under ``tests/notify``
(``from webhook_receiver import WebhookReceiver``) or as the ``webhook_receiver`` fixture::

    receiver = WebhookReceiver(secret="whsec-test").start()
    WebhookSender().post(receiver.url(), receiver.secret, 42, {"lead": "L-1"})
    [request] = receiver.wait_for(1)       # .verified, .error, .headers, .body, .json()
    receiver.respond(503, headers={"Retry-After": "30"}, times=2)  # the next two answers
    receiver.respond(410)                  # every answer from now on
    receiver.respond(200)                  # back to normal
    receiver.stop()
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from rulekit.notify.webhook import DEFAULT_TOLERANCE, InvalidSignature, Secrets, verify

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the receiver got."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]  # as sent, in order
    body: bytes
    verified: bool
    error: str | None  # why verification failed
    status: int  # what the receiver answered

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    delay: float
    remaining: int | None


@dataclass
class WebhookReceiver:
    """See the module.  ``now`` (a callable) overrides the clock ``verify`` checks against."""

    secret: Secrets = "whsec-test-secret"
    tolerance: float = DEFAULT_TOLERANCE
    host: str = HOST
    reject_invalid: bool = True
    now: Any = None
    _requests: list[ReceivedRequest] = field(default_factory=list, repr=False)
    _replies: list[_Reply] = field(default_factory=list, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> Self:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            do_PUT = do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up (timeout tests) is not a test failure

        self._stopping.clear()
        self._server = Server((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        self._stopping.set()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        port: int = self._server.server_address[1]
        return port

    def url(self, path: str = "/hooks/rulekit") -> str:
        return f"http://{self.host}:{self.port}{path}"

    # -- answers --------------------------------------------------------------------------------

    def respond(self, status: int, *, headers: Mapping[str, str] | None = None,
                body: bytes | str = b"", delay: float = 0.0, times: int | None = None) -> None:
        """Answer ``status`` (after ``delay`` seconds) to the next ``times`` requests, or to
        every request from now on (``times=None``, replacing the earlier such answers)."""
        reply = _Reply(status=status, headers=dict(headers or {}),
                       body=body.encode() if isinstance(body, str) else body, delay=delay,
                       remaining=times)
        with self._changed:
            if times is None:
                self._replies = [r for r in self._replies if r.remaining is not None]
            self._replies.append(reply)

    def _next_reply(self) -> _Reply:
        with self._changed:
            for reply in self._replies:
                if reply.remaining is not None:
                    reply.remaining -= 1
                    if reply.remaining <= 0:
                        self._replies.remove(reply)
                    return reply
            for reply in self._replies:
                return reply
        return _Reply(status=200, headers={}, body=b"", delay=0.0, remaining=None)

    # -- what arrived ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._changed:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self._requests)} request(s) arrived, expected "
                                         f"{count} within {timeout}s")
                self._changed.wait(left)
            return list(self._requests)

    def clear(self) -> None:
        with self._changed:
            self._requests.clear()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        error: str | None = None
        try:
            verify(self.secret, handler.headers, body, tolerance=self.tolerance,
                   now=self.now() if self.now is not None else None)
        except InvalidSignature as exc:
            error = str(exc)
        if error is not None and self.reject_invalid:
            reply = _Reply(status=401, headers={}, body=error.encode(), delay=0.0,
                           remaining=None)
        else:
            reply = self._next_reply()
        with self._changed:
            self._requests.append(ReceivedRequest(
                method=handler.command, path=handler.path,
                headers=tuple((k, v) for k, v in handler.headers.items()), body=body,
                verified=error is None, error=error, status=reply.status))
            self._changed.notify_all()
        if reply.delay and self._stopping.wait(reply.delay):
            return
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)
