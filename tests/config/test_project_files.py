"""The repository's promises: the README's commands, CI, and the shipped rules."""

from __future__ import annotations

import re
from pathlib import Path

from rulekit.config.project import check_paths

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", quick, re.DOTALL)


def test_quick_start_is_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)


def test_ci_runs_the_readme_test_command_as_written() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()


def test_shipped_rules_are_valid() -> None:
    result = check_paths([ROOT / "rules"])
    assert result.ok, "\n".join(d.headline() for d in result.diagnostics)
    assert not result.diagnostics, [d.headline() for d in result.diagnostics]
    assert len(result.rulesets) == 9  # prospectconverter/accountability: expect_contact
    assert len(result.worlds) == 5
