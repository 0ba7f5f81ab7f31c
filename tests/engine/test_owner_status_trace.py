"""The trace of a decision that makes an agent a contact's owner says what routing did to the
contact's status: made it Assigned (or Agent Database for the agent's own manual entry), kept
the status people set, or left it with the agent who owned it already."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage.url import open_store

T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)

WORLD = """\
rulekit: 1
world: owners
agents:
  - {id: a1, name: A One, email: a1@example.com}
  - {id: a2, name: A Two, email: a2@example.com}
contacts:
  - {id: c-deal, email: deal@example.com, owner: a1, status: pending}
  - {id: c-taken, email: taken@example.com, owner: a2}
"""

RULES = """\
rulekit: 1
policy: desk
applies_to: {sources: [desk.example]}
rules:
  - name: entered
    when: lead.entry == "manual" and lead.entered_by != null
    steps:
      - assign: {to: lead.entered_by, own: global}
  - name: desk
    steps:
      - assign: {to: '"a1"', own: global}
"""


@pytest.fixture(params=["memory", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    folder = tmp_path / "desk"
    folder.mkdir()
    (folder / "world.yaml").write_text(WORLD, encoding="utf-8")
    (folder / "desk.yaml").write_text(RULES, encoding="utf-8")
    checked = check_paths([folder])
    assert checked.ok, checked.diagnostics
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'o.db'}"
    store: Any = open_store(url)
    return Engine(checked.rulesets[str(folder)], checked.worlds[str(folder / "world.yaml")],
                  store, clock=ManualClock(T0))


def owner_line(engine: Engine, lead_id: str, email: str, **extra: Any) -> str:
    engine.submit(Lead.model_validate({"id": lead_id, "received_at": T0.isoformat(),
                                       "source": "desk.example", "contact": {"email": email},
                                       **extra}))
    [line] = [line for line in engine.explain(lead_id).splitlines()
              if "own the contact" in line or "owns the contact" in line]
    return line.strip()


@pytest.mark.parametrize(("email", "extra", "says", "status"), [
    ("new@example.com", {},
     "A One (a1) owns the contact in any channel or market (unless another agent already "
     "does); the contact is now Assigned to them.", "assigned"),
    ("mine@example.com", {"entry": "manual", "entered_by": "a2"},
     "A Two (a2) owns the contact in any channel or market (unless another agent already "
     "does); the contact is now in their Agent Database.", "agent_database"),
    ("deal@example.com", {},
     "A One (a1) owns the contact in any channel or market (unless another agent already "
     "does); the contact is kept Pending.", "pending"),
    ("taken@example.com", {"entry": "manual", "entered_by": "a1"},
     "A One (a1) does not own the contact in any channel or market: A Two (a2) already "
     "does; the contact is kept Assigned.", "assigned"),
])
def test_the_owner_line_says_the_contact_status(engine: Engine, email: str,
                                                extra: dict[str, Any], says: str,
                                                status: str) -> None:
    assert owner_line(engine, "L1", email, **extra) == says
    contact = engine.store.facts().contact(f"email:{email}")
    assert contact is not None and contact.status == status  # what the store made of it
