"""Notification delivery: deliveries/s to a local SMTP server, and decisions/s while the
delivery loop runs against an SMTP server that is up and one that is down, in the same run.

    python bench/notify.py [--leads 400] [--repeats 3] [--ci]

Each round, on fresh SQLite stores loaded with the LeadStreet rules:

* **deliveries** — ``--leads`` leads are routed first (each makes one pending-lead email), then
  one delivery loop sends them all to an aiosmtpd server on 127.0.0.1; deliveries/s and the
  number received;
* **routing, SMTP up / down** — ``Engine.submit`` of ``--leads`` new leads while a delivery
  loop thread delivers the notifications they make, to a server that is up, then to a port
  where nothing listens (every attempt fails and is retried).  The two sides alternate within
  each round.

The table gives medians over ``--repeats`` rounds and the ratio decisions/s (down) /
decisions/s (up).  Target: ≥ 0.9× — a down mail server never slows routing.  Exit code 1 if
it is missed.  ``--ci`` is a quick run (150 leads, one round).
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rulekit.engine import Engine  # noqa: E402
from rulekit.model import Lead  # noqa: E402
from rulekit.notify.dispatch import DeliveryConfig, following_dispatcher  # noqa: E402
from rulekit.storage.catalog import active, load_files  # noqa: E402
from rulekit.storage.sqlite import SQLiteStore  # noqa: E402

RULES = ROOT / "rules" / "leadstreet"
TARGET = 0.9
T0 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


class _Count:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _store(folder: Path, name: str) -> tuple[Any, Engine]:
    store = SQLiteStore(folder / f"{name}.db")
    assert load_files(store, RULES, RULES / "world.yaml", by="bench").ok
    current = active(store)
    assert current.ruleset is not None and current.world is not None
    return store, Engine(current.ruleset, current.world, store)


def _leads(prefix: str, count: int) -> list[Lead]:
    return [Lead(id=f"{prefix}-{n}", received_at=T0, source="charlotteproperty.com",
                 contact={"email": f"{prefix}-{n}@example.com"}) for n in range(count)]


def _config(port: int) -> DeliveryConfig:
    return DeliveryConfig(smtp_url=f"smtp://127.0.0.1:{port}?timeout=2",
                          sender="leads@remax-executive.example",
                          base_url="http://127.0.0.1:8080", signing_key="bench-key",
                          poll=0.01, batch=50)  # the default retry delays


def deliveries(folder: Path, count: int, port: int, handler: _Count) -> float:
    store, engine = _store(folder, f"deliver-{random.random():.8f}")
    for lead in _leads("d", count):
        engine.submit(lead)
    loop = following_dispatcher(store, _config(port), name="bench")
    before = handler.received
    started = time.perf_counter()
    while store.outbox(unsent_only=True) or store.deliveries("pending"):
        loop.run_once()
    took = time.perf_counter() - started
    store.close()
    assert handler.received - before == count, (handler.received - before, count)
    return count / took


def routing(folder: Path, count: int, port: int, name: str) -> float:
    store, engine = _store(folder, f"{name}-{random.random():.8f}")
    loop = following_dispatcher(store, _config(port), name=f"bench-{name}")
    thread = loop.start_thread()
    leads = _leads(name, count)
    started = time.perf_counter()
    for lead in leads:
        engine.submit(lead)
    took = time.perf_counter() - started
    loop.stop()
    thread.join(10)
    store.close()
    return count / took


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=400)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--ci", action="store_true")
    args = p.parse_args()
    if args.ci:
        args.leads, args.repeats = 150, 1
    handler = _Count()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    down = _free_port()  # nothing listens here
    rates: dict[str, list[float]] = {"deliveries": [], "up": [], "down": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for _ in range(args.repeats):
                rates["deliveries"].append(deliveries(folder, args.leads, controller.port,
                                                      handler))
                rates["up"].append(routing(folder, args.leads, controller.port, "up"))
                rates["down"].append(routing(folder, args.leads, down, "down"))
    finally:
        controller.stop()
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med["down"] / med["up"]
    print(f"notifications, {args.leads} leads x {args.repeats} rounds (medians)")
    print(f"  deliveries to local SMTP     {med['deliveries']:8.0f} /s")
    print(f"  decisions/s, SMTP up         {med['up']:8.0f} /s")
    print(f"  decisions/s, SMTP down       {med['down']:8.0f} /s")
    print(f"  down / up                    {ratio:8.2f}x  (target >= {TARGET}x: "
          f"{'met' if ratio >= TARGET else 'MISSED'})")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
