"""The stress suite of ``bench/stress.py`` at its CI sizes, on SQLite and on PostgreSQL.

Real processes: submitters racing on one round-robin cursor, accepters racing on broadcast
offers, timer workers one of which is killed with SIGKILL, a worker meeting a timer that cannot
fire, a submitter killed mid-burst.  Each scenario checks its invariants; a failure shows the
scenario's table.  ``python bench/stress.py`` runs the full sizes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import Backend

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import stress


@pytest.mark.slow
@pytest.mark.parametrize("scenario", stress.SCENARIOS)
def test_stress_scenario_holds_its_invariants(scenario: str, durable: Backend,
                                               tmp_path: Path) -> None:
    result = stress.run_scenario(scenario, durable.url, tmp_path / scenario, stress.CI)
    result.store = durable.kind
    assert result.checks, "the scenario checked nothing"
    if not result.ok:
        failed = "; ".join(c.invariant for c in result.failures())
        pytest.fail(f"{failed}\n{stress.render([result])}", pytrace=False)
