"""Per-agent calendars: pools keep only agents on duty now; offers count business time in the
offered agent's own calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage import MemoryStore

WORLD = """\
rulekit: 1
world: duty
calendars:
  evenings: {timezone: America/New_York, hours: {daily: "17:00-22:00"}}
  days: {timezone: America/Chicago, hours: {mon-fri: "09:00-17:00"}}
agents:
  - {id: a-evening, name: Eve, calendar: evenings}
  - {id: a-day, name: Dan, calendar: days}
  - {id: a-always, name: Al}
"""

POLICY = """\
rulekit: 1
policy: duty
applies_to: {sources: [web]}
pools:
  on-duty:
    of: agents
    calendar: agent
    exclude: [paused, already_offered, off_duty]
rules:
  - name: offer-on-duty
    steps:
      - offer_sequence:
          pool: on-duty
          pick: round_robin
          attempts: 1
          each_for: 2 business_hours
          calendar: agent
    then: continue
  - name: fallback
    steps: [{queue: manual}]
"""


def engine(tmp_path: Path, at: datetime) -> tuple[Engine, ManualClock]:
    (tmp_path / "world.yaml").write_text(WORLD)
    (tmp_path / "policy.yaml").write_text(POLICY)
    result = check_paths([tmp_path])
    assert result.ok, [d.headline() for d in result.diagnostics]
    clock = ManualClock(at)
    return Engine(result.rulesets[str(tmp_path)], result.worlds[str(tmp_path / "world.yaml")],
                  MemoryStore(), clock=clock), clock


def lead(n: int, at: datetime) -> Lead:
    return Lead(id=f"L{n}", received_at=at, source="web")


def test_only_agents_on_duty_are_offered(tmp_path: Path) -> None:
    # Tuesday 19:00 New York: the evening agent and the agent without a calendar are on duty,
    # the Chicago day agent (18:00 there) is not.
    at = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    eng, _ = engine(tmp_path, at)
    eng.submit(lead(1, at))
    text = eng.explain("L1")
    assert "1 off duty (a-day)" in text
    offered = {eng.store.offers("L1")[0].agents[0]}
    eng.submit(lead(2, at))
    offered.add(eng.store.offers("L2")[0].agents[0])
    assert offered == {"a-evening", "a-always"}


def test_offer_deadline_counts_the_agents_own_hours(tmp_path: Path) -> None:
    # Tuesday 21:30 New York: the evening agent has 30 minutes left tonight, so 2 business
    # hours end at 18:30 the next evening.
    at = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)
    eng, _ = engine(tmp_path, at)
    eng.submit(lead(1, at))
    offer = eng.store.offers("L1")[0]
    if offer.agents[0] != "a-evening":  # rotation starts with the first agent on duty
        eng.submit(lead(2, at))
        offer = eng.store.offers("L2")[0]
    assert offer.agents == ("a-evening",)
    assert offer.deadline == datetime(2026, 12, 2, 23, 30, tzinfo=UTC)


def test_agent_without_calendar_counts_wall_clock(tmp_path: Path) -> None:
    at = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)
    eng, _ = engine(tmp_path, at)
    for n in range(1, 3):
        eng.submit(lead(n, at))
    offers = [o for o in eng.store.offers() if o.agents == ("a-always",)]
    assert offers and offers[0].deadline == at + timedelta(hours=2)
