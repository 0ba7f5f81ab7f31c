from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.service.live_server import LEADSTREET, load, serving, tokens

AGENTS = tuple(a["id"] for a in yaml.safe_load(
    (LEADSTREET / "world.yaml").read_text(encoding="utf-8"))["agents"])


@dataclass
class Live:
    base: str
    db: str
    secrets: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[name]}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A real server on a loaded SQLite store, with a token per role (and one per agent)."""
    folder: Path = tmp_path_factory.mktemp("serve")
    db = f"sqlite:///{folder}/serve.db"
    load(db)
    wanted: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
        "integrator": ("integrator", None, ("charlotteproperty.com",)),
        "concierge": ("concierge", None, ()), "admin": ("admin", None, ()),
        "support": ("support", None, ())}
    wanted.update({agent: ("agent", agent, ()) for agent in AGENTS})
    with serving(db, log=folder / "serve.log") as base:
        yield Live(base, db, tokens(db, wanted))
