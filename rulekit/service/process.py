"""A ``rulekit serve`` process of its own, for tests and benchmarks: started on 127.0.0.1 and a
free port, used once ``/healthz`` answers, stopped with SIGTERM (as an operator stops one).

    with serving("sqlite:///rulekit.db", "--no-worker") as base:
        ...  # base is "http://127.0.0.1:PORT"
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on at ``host`` now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def answers(host: str, port: int, path: str = "/healthz", timeout: float = 1.0) -> bool:
    """Whether ``GET path`` on ``host:port`` answers 200."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextmanager
def serving(db: str, *args: str, signing_key: str | None = None, log: Path | None = None,
            cwd: Path | str | None = None, startup: float = 30.0,
            stop: float = 30.0) -> Iterator[str]:
    """``rulekit serve --db DB --host 127.0.0.1 --port <free port> --quiet ARGS`` until the
    block ends; yields its base URL once ``/healthz`` answers 200.

    ``signing_key`` is its ``RULEKIT_SIGNING_KEY`` (by default one made for this run); its
    output goes to ``log`` (by default a temporary file, whose end is in the error when the
    server exits or does not answer within ``startup`` seconds).  At the end it gets SIGTERM,
    and is killed if it has not stopped ``stop`` seconds later.  ``cwd``: where it runs (its
    ``rulekit`` is imported from there first)."""
    port = free_port()
    env = {**os.environ, "RULEKIT_SIGNING_KEY": signing_key or secrets.token_urlsafe(32)}
    out: IO[bytes] = open(log, "wb") if log is not None else tempfile.TemporaryFile()  # noqa: SIM115
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "rulekit", "serve", "--db", db, "--host", HOST, "--port",
             str(port), "--quiet", *args],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + startup
            while not answers(HOST, port):
                if process.poll() is not None or time.monotonic() > deadline:
                    why = (f"exited {process.returncode}" if process.poll() is not None
                           else f"did not answer /healthz within {startup:g} s")
                    raise RuntimeError(f"rulekit serve {why}: {_tail(out, log)}")
                time.sleep(0.05)
            yield f"http://{HOST}:{port}"
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=stop)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        out.close()


def _tail(out: IO[bytes], log: Path | None, size: int = 2000) -> str:
    """The end of what the server printed."""
    try:
        out.flush()
        if log is not None:
            text = Path(log).read_bytes()
        else:
            out.seek(0)
            text = out.read()
    except OSError:
        return "(its output could not be read)"
    return text[-size:].decode(errors="replace").strip() or "(no output)"
