"""A world file's optional ``timezone:``: the brokerage's zone, checked like a calendar's."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from rulekit.config.project import check_paths
from rulekit.world import brokerage_zone

WORLD = """\
rulekit: 1
world: tokyo
timezone: {zone}
calendars: {{evenings: {{timezone: America/New_York, hours: {{daily: "17:00-22:00"}}}}}}
agents: [{{id: a-one, name: A One}}]
"""


def test_world_timezone_comes_before_the_calendars(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(WORLD.format(zone="Asia/Tokyo"), encoding="utf-8")
    checked = check_paths([path])
    assert checked.ok, [d.headline() for d in checked.diagnostics]
    world = checked.worlds[str(path)]
    assert world.timezone == "Asia/Tokyo"
    assert brokerage_zone(world) == ZoneInfo("Asia/Tokyo")


def test_unknown_world_timezone_is_rk401_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(WORLD.format(zone="Asia/Tokio"), encoding="utf-8")
    checked = check_paths([path])
    (diag,) = [d for d in checked.diagnostics if d.severity == "error"]
    assert diag.code == "RK401" and diag.location is not None
    assert (diag.location.line, diag.location.column) == (3, 11)
    assert diag.hint == "did you mean 'Asia/Tokyo'?"
