from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import AGENTS, Live, load, serving, tokens


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
