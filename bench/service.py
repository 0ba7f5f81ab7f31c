"""Lead intake through the HTTP service against direct ``Engine.submit``, on SQLite and PostgreSQL.

    python bench/service.py [--leads 1000] [--repeats 3] [--clients 8] [--only sqlite|postgres]
                            [--client http.client|httpx] [--pg URL] [--ci]

For each database, in the same run, each side on a fresh database loaded with the LeadStreet
rules (``rulekit load``):

* **direct, 1 thread** — ``Engine.submit`` of new leads, one after another, on the engine a
  worker builds (``Worker(store).refresh()``), as the service does;
* **direct, C threads** — the same, from ``--clients`` threads sharing that engine (the
  concurrency of the HTTP clients);
* **HTTP, 1 process / 4 processes** — ``POST /v1/leads`` from ``--clients`` threads, one
  keep-alive connection each, against ``rulekit serve --no-worker --quiet`` with
  ``--workers 1`` and ``--workers 4`` (started by :func:`rulekit.service.process.serving`),
  with an integrator token.  The client is the standard library's ``http.client``
  (``--client http.client``, the default: one ``HTTPConnection`` per thread, each response
  read whole and its status checked) or ``httpx`` (``--client httpx``: one ``httpx.Client``
  per thread).  The client threads run on the same machine as the server and share its CPUs:
  ``httpx`` spends several times the CPU per request that ``http.client`` does, time the
  server then does not get.  Bodies are encoded to JSON before the clock starts, as the
  direct side builds its ``Lead`` objects first.

Every lead has its own contact, so each is routed fully.  Each row runs ``--repeats`` rounds
(the sides alternating within a round, so a slow spell of the machine hits all of them); the
table shows the medians of the rounds' rates and latency percentiles, and each HTTP row's rate
as a ratio of the direct rate at the same concurrency and of the single-threaded one.
Target: HTTP intake ≥ 0.5× direct submit on SQLite with one process (against direct at the
same concurrency).  ``--ci`` is a quick run (300 leads, one round).  Exit code 1 if the target
is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rulekit.access import create_token  # noqa: E402
from rulekit.model import Lead  # noqa: E402
from rulekit.service.process import serving  # noqa: E402
from rulekit.storage.url import open_store  # noqa: E402
from rulekit.worker import Worker  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/test"
RULES = ROOT / "rules" / "leadstreet"
SOURCE = "charlotteproperty.com"
TARGET = 0.5


def body(i: int, tag: str) -> dict[str, Any]:
    return {"id": f"B-{tag}-{i}", "received_at": "2026-12-02T15:00:00+00:00", "source": SOURCE,
            "contact": {"email": f"b{tag}{i}@example.com"}}


# -- databases -----------------------------------------------------------------------------------
class Databases:
    """Fresh databases of one kind; ``fresh()`` gives the URL of a new, empty one (dropped or
    deleted by ``close()``)."""

    def __init__(self, kind: str, base: Path, pg: str) -> None:
        self.kind, self.base, self.pg = kind, base, pg
        self.made: list[str] = []

    def fresh(self) -> str:
        name = f"rulekit_bench_{uuid.uuid4().hex[:10]}"
        if self.kind == "sqlite":
            return f"sqlite:///{self.base / (name + '.db')}"
        with psycopg.connect(self.pg, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        head, _, query = self.pg.partition("?")
        return head.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")

    def close(self) -> None:
        if not self.made:
            return
        with psycopg.connect(self.pg, autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()


def pg_reachable(url: str) -> str | None:
    """``None`` if PostgreSQL answers at ``url``, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


def load_rules(url: str) -> None:
    subprocess.run([sys.executable, "-m", "rulekit", "load", "--db", url, "--rules", str(RULES),
                    "--world", str(RULES / "world.yaml"), "--by", "bench"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


# -- measuring -----------------------------------------------------------------------------------
@dataclass
class Round:
    rate: float
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def in_threads(n: int, clients: int, setup: Callable[[], Any],
               call: Callable[[Any, int], None], teardown: Callable[[Any], None]) -> Round:
    """``call(context, i)`` for i in 0..n-1 from ``clients`` threads (each with the context
    ``setup()`` made for it), timing every call and the whole."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    ready = threading.Barrier(clients + 1)

    def run(k: int) -> None:
        context = setup()
        try:
            ready.wait()
            mine = latencies[k]
            for i in range(k, n, clients):
                started = time.perf_counter()
                call(context, i)
                mine.append(time.perf_counter() - started)
        except BaseException as exc:
            errors.append(exc)
        finally:
            teardown(context)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    flat = [x for part in latencies for x in part]
    return Round(n / elapsed, percentile(flat, 0.50) * 1e3, percentile(flat, 0.99) * 1e3)


def direct(url: str, n: int, clients: int, tag: str) -> Round:
    load_rules(url)
    store = open_store(url)
    worker = Worker(store)
    worker.refresh()
    engine = worker.engine
    assert engine is not None
    leads = [Lead.model_validate(body(i, tag)) for i in range(n)]
    engine.submit(Lead.model_validate(body(-1, tag)))  # warm-up
    try:
        return in_threads(n, clients, lambda: None,
                          lambda _, i: engine.submit(leads[i]), lambda _: None)
    finally:
        getattr(store, "close", lambda: None)()


@contextmanager
def server(url: str, processes: int) -> Iterator[tuple[str, str]]:
    """``rulekit serve`` on a loaded database; yields its base URL and an integrator token."""
    load_rules(url)
    store = open_store(url)
    secret = create_token(store, "integrator", sources=(SOURCE,), by="bench",
                          now=datetime.now(UTC))[1]
    getattr(store, "close", lambda: None)()
    with serving(url, "--no-worker", "--workers", str(processes), cwd=ROOT) as base:
        yield base, secret


class StdlibClient:
    """One keep-alive connection of the standard library's ``http.client``."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        where = urlsplit(base)
        assert where.hostname is not None and where.port is not None
        self.connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        self.headers = {**headers, "Content-Type": "application/json"}

    def post(self, path: str, content: bytes) -> tuple[int, bytes]:
        self.connection.request("POST", path, body=content, headers=self.headers)
        answer = self.connection.getresponse()
        return answer.status, answer.read()

    def close(self) -> None:
        self.connection.close()


class HttpxClient:
    """One keep-alive ``httpx.Client``."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=base, headers={
            **headers, "Content-Type": "application/json"}, timeout=60)

    def post(self, path: str, content: bytes) -> tuple[int, bytes]:
        answer = self.client.post(path, content=content)
        return answer.status_code, answer.content

    def close(self) -> None:
        self.client.close()


CLIENTS: dict[str, Callable[[str, dict[str, str]], StdlibClient | HttpxClient]] = {
    "http.client": StdlibClient, "httpx": HttpxClient}


def encoded(i: int, tag: str) -> bytes:
    return json.dumps(body(i, tag)).encode()


def over_http(url: str, n: int, clients: int, processes: int, tag: str,
              client: str) -> Round:
    with server(url, processes) as (base, secret):
        headers = {"Authorization": f"Bearer {secret}"}
        bodies = [encoded(i, tag) for i in range(n)]
        make = CLIENTS[client]

        def setup() -> StdlibClient | HttpxClient:
            connection = make(base, headers)
            # warm-up, and one connection per process when the kernel spreads them
            status, text = connection.post(
                "/v1/leads", encoded(-1, f"{tag}w{uuid.uuid4().hex[:8]}"))
            assert status in (200, 201), text
            return connection

        def call(connection: StdlibClient | HttpxClient, i: int) -> None:
            status, text = connection.post("/v1/leads", bodies[i])
            if status != 201:
                raise RuntimeError(f"lead {i}: {status} {text[:300]!r}")

        return in_threads(n, clients, setup, call, lambda connection: connection.close())


# -- the table -----------------------------------------------------------------------------------
def bench(kind: str, dbs: Databases, n: int, repeats: int, clients: int, client: str
          ) -> dict[str, list[Round]]:
    sides: dict[str, Callable[[str, str], Round]] = {
        "direct, 1 thread": lambda url, tag: direct(url, n, 1, tag),
        f"direct, {clients} threads": lambda url, tag: direct(url, n, clients, tag),
        "HTTP, 1 process": lambda url, tag: over_http(url, n, clients, 1, tag, client),
        "HTTP, 4 processes": lambda url, tag: over_http(url, n, clients, 4, tag, client),
    }
    rounds: dict[str, list[Round]] = {name: [] for name in sides}
    for r in range(repeats):
        for name, side in sides.items():
            rounds[name].append(side(dbs.fresh(), f"{r}"))
            dbs.close()
    return rounds


def median(rounds: list[Round], field: str) -> float:
    return statistics.median(getattr(x, field) for x in rounds)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1000, help="leads per round (default 1000)")
    p.add_argument("--repeats", type=int, default=3, help="rounds per row (default 3)")
    p.add_argument("--clients", type=int, default=8,
                   help="concurrent client threads for HTTP and threaded direct (default 8)")
    p.add_argument("--only", choices=("sqlite", "postgres"))
    p.add_argument("--client", choices=tuple(CLIENTS), default="http.client",
                   help="the HTTP client of the client threads (default http.client)")
    p.add_argument("--pg", default=PG)
    p.add_argument("--ci", action="store_true", help="quick run: 300 leads, one round")
    args = p.parse_args()
    if args.ci:
        args.leads, args.repeats = 300, 1
    started = time.perf_counter()
    print(f"{args.leads} leads per round, {args.repeats} round(s), medians; HTTP with "
          f"{args.clients} client threads ({args.client}, keep-alive); direct = Engine.submit "
          f"in-process, single-threaded and with {args.clients} threads; "
          f"{os.cpu_count()} CPUs")
    head = (f"{'database':<10} {'side':<20} {'leads/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'HTTP/direct':>12} {'HTTP/direct 1t':>15}")
    print(head)
    print("-" * len(head))
    met: bool | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgres"):
            if args.only not in (None, kind):
                continue
            if kind == "postgres":
                why = pg_reachable(args.pg)
                if why is not None:
                    print(f"{kind:<10} skipped: PostgreSQL unreachable at {args.pg} ({why})")
                    continue
            dbs = Databases(kind, Path(tmp), args.pg)
            try:
                rounds = bench(kind, dbs, args.leads, args.repeats, args.clients, args.client)
            finally:
                dbs.close()
            rates = {name: median(rs, "rate") for name, rs in rounds.items()}
            single = rates["direct, 1 thread"]
            same = rates[f"direct, {args.clients} threads"]
            for name, rs in rounds.items():
                ratios = ""
                if name.startswith("HTTP"):
                    ratios = f"{rates[name] / same:11.2f}x {rates[name] / single:14.2f}x"
                print(f"{kind:<10} {name:<20} {rates[name]:9.0f} {median(rs, 'p50_ms'):8.2f} "
                      f"{median(rs, 'p99_ms'):8.2f} {ratios}")
            if kind == "sqlite":
                met = rates["HTTP, 1 process"] / same >= TARGET
    if met is not None:
        print(f"target: HTTP intake ≥ {TARGET}× direct submit on SQLite with one process "
              f"(vs direct at {args.clients} threads): {'met' if met else 'MISSED'}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if met in (None, True) else 1


if __name__ == "__main__":
    sys.exit(main())
