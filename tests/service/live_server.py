"""A real ``rulekit serve`` process on 127.0.0.1 and a free port, for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

from rulekit.access import create_token
from rulekit.storage.url import open_store

ROOT = Path(__file__).resolve().parents[2]
LEADSTREET = ROOT / "rules" / "leadstreet"


AGENTS = tuple(a["id"] for a in yaml.safe_load(
    (LEADSTREET / "world.yaml").read_text(encoding="utf-8"))["agents"])


@dataclass
class Live:
    base: str
    db: str
    secrets: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[name]}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(db: str, rules: Path = LEADSTREET) -> None:
    subprocess.run([sys.executable, "-m", "rulekit", "load", "--db", db, "--rules", str(rules),
                    "--world", str(rules / "world.yaml"), "--by", "tests"],
                   check=True, capture_output=True, cwd=ROOT)


def tokens(db: str, wanted: dict[str, tuple[str, str | None, tuple[str, ...]]]) -> dict[str, str]:
    """Secrets by name, for ``{name: (role, agent, sources)}``."""
    store = open_store(db)
    try:
        return {name: create_token(store, role, agent=agent, sources=sources, label=name,
                                   by="tests", now=datetime.now(UTC))[1]
                for name, (role, agent, sources) in wanted.items()}
    finally:
        getattr(store, "close", lambda: None)()


@contextmanager
def serving(db: str, *extra: str, log: Path | None = None) -> Iterator[str]:
    """``rulekit serve`` on a free port until the block ends (then SIGTERM); the base URL."""
    port = free_port()
    env = {**os.environ, "RULEKIT_SIGNING_KEY": "test-signing-key"}
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "rulekit", "serve", "--db", db, "--port",
                             str(port), "--quiet", *extra], cwd=ROOT, env=env,
                            stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rulekit serve did not start (exit {proc.poll()})")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]
