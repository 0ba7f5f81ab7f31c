"""The top-level API as an embedding program meets it: names importable from ``rulekit``,
``load_rules`` results and errors, and the documented example clean under ``mypy --strict``
with no project configuration (no pydantic plugin), as a user's own script would be checked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rulekit
from rulekit import RulekitErrors, load_rules

ROOT = Path(__file__).resolve().parent.parent
EMBED = re.compile(r"^```python embed\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_every_exported_name_imports() -> None:
    for name in rulekit.__all__:
        assert getattr(rulekit, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = rulekit.Nope  # type: ignore[attr-defined]


def test_load_rules_returns_the_rule_set_and_world() -> None:
    loaded = load_rules(ROOT / "rules" / "leadstreet")
    assert loaded.ruleset.policies and loaded.world.agents
    assert all(d.severity != "error" for d in loaded.diagnostics)


def test_load_rules_raises_every_problem_with_its_position(tmp_path: Path) -> None:
    (tmp_path / "world.yaml").write_text("rulekit: 1\nworld: w\nagents: []\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text("rulekit: 1\npolicy: p\napplies_to: {sources: [x]}\n"
                                     "rules:\n  - name: r\n    when: lead.nope == 1\n"
                                     "    steps: [{queue: {name: q}}]\n", encoding="utf-8")
    with pytest.raises(RulekitErrors) as raised:
        load_rules(tmp_path)
    [problem] = raised.value.diagnostics
    assert problem.location is not None and problem.location.line == 6
    assert "nope" in problem.message
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RulekitErrors, match="no rule files"):
        load_rules(empty)


def test_the_documented_example_passes_mypy_strict_without_the_plugin(tmp_path: Path) -> None:
    [example] = EMBED.findall((ROOT / "docs" / "engine.md").read_text(encoding="utf-8"))
    script = tmp_path / "embed.py"
    script.write_text(example, encoding="utf-8")
    # as for an installed package: rulekit's own modules are read, not reported on
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n\n[mypy-rulekit.*]\n"
                                       "follow_imports = silent\n", encoding="utf-8")
    # an editable install is found through an import hook that mypy does not follow
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "mypy",
                           "--config-file", str(tmp_path / "mypy.ini"),
                           "--cache-dir", str(tmp_path / ".cache"), str(script)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("decided waiting")
