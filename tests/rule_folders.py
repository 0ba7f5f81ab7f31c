"""Rule folders shared by tests in more than one folder (``tests/`` is on ``sys.path``)."""

from __future__ import annotations

from pathlib import Path

WORLD = """\
rulekit: 1
world: tiny
agents:
  - {id: a1, name: A One}
  - {id: a2, name: A Two}
"""

ONE_AFTERNOON = """\
rulekit: 1
policy: web
applies_to: {sources: [web.example]}
calendars:
  office:
    timezone: UTC
    hours: {HOURS}
    exceptions:
      - {date: 2026-01-05, hours: "15:00-15:30"}
pools:
  everyone: {of: agents}
rules:
  - name: offers
    steps:
      - offer_sequence: {pool: everyone, pick: round_robin, each_for: 20 business_minutes,
                         calendar: office}
      - queue: {name: unclaimed}
"""


def write_one_afternoon_rules(folder: Path, hours: str = "{}") -> Path:
    """``world.yaml`` (agents a1 and a2) and ``web.yaml``: a web.example lead is offered to
    each agent in turn for 20 business minutes of the calendar ``office``, then queued in
    ``unclaimed``.  ``office`` is open on 2026-01-05 from 15:00 to 15:30 UTC, and in the
    weekly ``hours`` (none by default: a second offer made after that afternoon has no
    deadline)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "world.yaml").write_text(WORLD, encoding="utf-8")
    (folder / "web.yaml").write_text(ONE_AFTERNOON.replace("{HOURS}", hours), encoding="utf-8")
    return folder
