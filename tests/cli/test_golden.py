"""Golden corpus: each invalid fixture's exact `rulekit validate` output, byte for byte.

A fixture is ``tests/fixtures/invalid/NAME.yaml`` (or a folder ``NAME/``) with ``NAME.expected``
holding the exact output and, optionally, ``NAME.args`` with extra options.  Every error code
has at least one fixture named after it.  Regenerate an expectation after a deliberate message
change with ``RULEKIT_REGOLD=1 pytest tests/cli/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from rulekit.cli.main import main
from rulekit.errors import CODES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"
CASES = sorted(p.stem for p in FIXTURES.glob("*.expected"))


def run_validate(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(FIXTURES)
    target = name if (FIXTURES / name).is_dir() else f"{name}.yaml"
    args_file = FIXTURES / f"{name}.args"
    extra = args_file.read_text().split() if args_file.exists() else []
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["validate", *extra, target])
    return code, out.getvalue()


@pytest.mark.parametrize("name", CASES)
def test_golden_output(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run_validate(name, monkeypatch)
    expected_path = FIXTURES / f"{name}.expected"
    if os.environ.get("RULEKIT_REGOLD"):
        expected_path.write_text(output, encoding="utf-8")
    assert output == expected_path.read_text(encoding="utf-8")
    assert code == 1


def test_every_code_has_a_fixture() -> None:
    named = {case.split("-", 1)[0] for case in CASES}
    assert sorted(set(CODES) - named) == []


def test_every_fixture_shows_its_code() -> None:
    for case in CASES:
        code = case.split("-", 1)[0]
        assert f"[{code}]" in (FIXTURES / f"{case}.expected").read_text(encoding="utf-8"), case
