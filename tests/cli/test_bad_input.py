"""Commands given unreadable input say what is wrong and exit 1 — never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
from command_line import run


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["route", "--rules", "rules/leadstreet", "--world", "rules/leadstreet/world.yaml",
          "{missing}/lead.json"], "rulekit route: cannot read"),
        (["worker", "--db", "sqlite:///{missing}/sub/w.db", "--once"],
         "rulekit worker: cannot open sqlite:///"),
        (["load", "--db", "sqlite:///{missing}/sub/l.db", "--rules", "rules/leadstreet",
          "--world", "rules/leadstreet/world.yaml"], "rulekit load: cannot open sqlite:///"),
        (["explain", "L1", "--db", "sqlite:///{missing}/e.db"], "no database at"),
        (["simulate", "{missing}/s.scenario.yaml"], "error[RK008]"),
        (["validate", "{missing}/rules"], "error[RK008]"),
    ],
)
def test_unreadable_input_exits_one_with_a_message(argv: list[str], said: str,
                                                   tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    code, out = run(*[a.replace("{missing}", missing) for a in argv])
    assert code == 1, out
    assert said in out
    assert "internal error" not in out
