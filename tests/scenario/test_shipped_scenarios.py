"""Every shipped scenario passes, and every documented behaviour has a scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulekit.cli.test import find_scenarios
from rulekit.scenario import run_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = find_scenarios([str(ROOT / "rules")])


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_passes(path: Path) -> None:
    result = run_scenario(path)
    failures = [d.headline() for d in result.problems]
    failures += [f"{c.text}: {c.detail}" for c in result.checks if not c.ok]
    assert result.ok, "\n".join(failures)
    assert result.checks
    assert result.behaviour, "each shipped scenario names the behaviour it proves"


def test_every_seed_system_has_scenarios() -> None:
    systems = {p.relative_to(ROOT / "rules").parts[0] for p in SCENARIOS}
    assert systems == {"leadstreet", "homesconnect", "realleads", "prospectconverter", "smith"}
