"""Helpers of the storage tests: a small rule set, and the worker processes of the races.

Imported by name from spawned processes, so it must stay importable without pytest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.ruleset import RuleSet
from rulekit.storage.url import open_store
from rulekit.world import World

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)

WORLD = """\
rulekit: 1
world: tiny
agents:
  - {id: a1, name: A One, email: a1@example.com}
  - {id: a2, name: A Two, email: a2@example.com}
  - {id: a3, name: A Three, email: a3@example.com}
  - {id: a4, name: A Four, email: a4@example.com}
contacts:
  - {id: c-known, email: known@example.com, owner: a3, owners: {"channel:agent-site": a4}}
"""

# web.example: two offers of one hour, in rotation, then a broadcast, then a queue.
WEB = """\
rulekit: 1
policy: web
applies_to:
  sources: [web.example]
pools:
  everyone:
    of: agents
    exclude: [paused]
rules:
  - name: existing-owner
    steps:
      - attach_to_owner: global
    then: continue
  - name: offers
    steps:
      - offer_sequence:
          pool: everyone
          pick: round_robin
          attempts: 2
          each_for: 1h
          own: global
          notify: {template: pending, to: [offered]}
    then: continue
  - name: last-chance
    steps:
      - broadcast:
          pool: everyone
          for: 1h
          own: global
          notify: {template: last-chance, subject: Last chance, to: [offered]}
    then: continue
  - name: nobody
    steps:
      - queue: {name: unclaimed, reason: nobody accepted}
"""

# race.example: a broadcast to every agent at once; the first to accept wins.
RACE = """\
rulekit: 1
policy: race
applies_to:
  sources: [race.example]
rules:
  - name: first-come
    steps:
      - broadcast:
          pool: everyone
          for: 1h
          notify: {template: blast, to: [offered]}
    then: continue
  - name: nobody
    steps:
      - queue: {name: unclaimed, reason: nobody accepted}
"""


def write_rules(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "world.yaml").write_text(WORLD, encoding="utf-8")
    (folder / "web.yaml").write_text(WEB, encoding="utf-8")
    (folder / "race.yaml").write_text(RACE, encoding="utf-8")
    return folder


def compile_rules(folder: Path) -> tuple[RuleSet, World]:
    result = check_paths([folder])
    assert result.ok, result.diagnostics
    return result.rulesets[str(folder)], result.worlds[str(folder / "world.yaml")]


def lead(lead_id: str, source: str = "web.example", email: str | None = None,
         at: datetime = T0, **extra: Any) -> Lead:
    email = email or f"{lead_id.lower()}@example.com"
    return Lead(id=lead_id, received_at=at, source=source, contact={"email": email}, **extra)


def engine_for(url: str, folder: Path, now: datetime = T0) -> Engine:
    ruleset, world = compile_rules(folder)
    return Engine(ruleset, world, open_store(url), clock=ManualClock(now))


def close(store: object) -> None:
    closer = getattr(store, "close", None)
    if closer is not None:
        closer()


# -- worker processes (spawned) -------------------------------------------------------------
def race_accept(url: str, folder: str, agent: str, offer_ids: list[str], barrier: Any) -> None:
    """Accept every offer as ``agent``, as fast as possible, once all racers are ready."""
    engine = engine_for(url, Path(folder))
    try:
        barrier.wait()
        for offer_id in offer_ids:
            engine.accept(offer_id, agent, T0 + timedelta(minutes=5))
    finally:
        close(engine.store)


def race_submit(url: str, folder: str, lead_ids: list[str], barrier: Any) -> None:
    """Submit the same leads as the other racers."""
    engine = engine_for(url, Path(folder))
    try:
        barrier.wait()
        for lead_id in lead_ids:
            engine.submit(lead(lead_id, source="race.example"), T0)
    finally:
        close(engine.store)


class DummyStore:
    """A stand-in third-party store for the entry point test."""

    def __init__(self, url: str) -> None:
        self.url = url
