"""The YAML examples of docs/scenarios.md are scenario files that pass, each run from the rule
folder it names."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rulekit.scenario import run_scenario

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "scenarios.md"
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.DOTALL | re.MULTILINE)
LABEL = re.compile(r"`(rules/[\w./-]+\.scenario\.yaml)`[^\n]*\n\n$")


def examples() -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        label = LABEL.search(text[:match.start()])
        found.append((label.group(1) if label else "", match.group(1)))
    return found


def test_every_yaml_example_names_its_file() -> None:
    assert examples()
    assert all(path for path, _ in examples()), "a YAML example without its file name"


@pytest.mark.parametrize(("path", "text"), examples(), ids=[p for p, _ in examples()])
def test_yaml_example_passes(path: str, text: str, tmp_path: Path) -> None:
    system = Path(path).parts[1]
    shutil.copytree(ROOT / "rules" / system, tmp_path / "rules" / system)
    scenario = tmp_path / path
    scenario.write_text(text, encoding="utf-8")
    result = run_scenario(scenario)
    failures = [d.headline() for d in result.problems]
    failures += [f"{c.text}: {c.detail}" for c in result.checks if not c.ok]
    assert result.ok, "\n".join(failures)
    assert result.checks
