"""A real ``rulekit serve`` process on 127.0.0.1 and a free port, for tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from rulekit.access import create_token
from rulekit.service import process
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
    with process.serving(db, *extra, signing_key="test-signing-key", log=log,
                         cwd=ROOT) as base:
        yield base
