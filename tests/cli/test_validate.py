"""`rulekit validate` end to end: several problems at once, formats, exit codes, hostile input."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rulekit.cli.main import main

GOOD = """\
rulekit: 1
policy: ok
applies_to: {sources: [web]}
rules:
  - name: all
    steps: [{queue: manual}]
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a_yaml.yaml").write_text("rulekit: 1\npolicy: a\nrules: [\n")
    (folder / "b_schema.yaml").write_text(
        "rulekit: 1\npolicy: b\nrules:\n  - name: r\n    stepz: []\n")
    (folder / "c_syntax.yaml").write_text(
        "rulekit: 1\npolicy: c\nrules:\n  - name: r\n    when: lead.source ==\n"
        "    steps: [{queue: manual}]\n")
    (folder / "d_field.yaml").write_text(
        "rulekit: 1\npolicy: d\nrules:\n  - name: r\n    when: lead.sorce == \"x\"\n"
        "    steps: [{queue: manual}]\n")
    return folder


def test_all_problems_in_one_run(mixed: Path) -> None:
    code, out, _ = run("validate", "--format", "json", str(mixed))
    assert code == 1
    problems = json.loads(out)
    by_file = {Path(p["path"]).name: p for p in problems}
    assert by_file["a_yaml.yaml"]["code"] == "RK001"
    assert by_file["b_schema.yaml"]["code"] in {"RK101", "RK102"}
    assert by_file["c_syntax.yaml"]["code"] == "RK201"
    assert by_file["d_field.yaml"]["code"] == "RK202"
    assert (by_file["d_field.yaml"]["line"], by_file["d_field.yaml"]["column"]) == (5, 16)
    assert by_file["d_field.yaml"]["hint"] == "did you mean 'source'?"
    assert by_file["b_schema.yaml"]["line"] == 5
    for p in problems:
        assert set(p) == {"path", "line", "column", "code", "severity", "message", "hint"}


def test_text_format_has_caret_and_hint(mixed: Path) -> None:
    code, out, err = run("validate", str(mixed / "d_field.yaml"))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith("d_field.yaml:5:16: error[RK202]: unknown field 'sorce' of lead")
    assert lines[1] == ' 5 |     when: lead.sorce == "x"'
    assert lines[2] == "   |                ^"
    assert lines[3] == "  hint: did you mean 'source'?"
    assert "1 error" in err


def test_github_format(mixed: Path) -> None:
    code, out, _ = run("validate", "--format", "github", str(mixed / "d_field.yaml"))
    assert code == 1
    assert out.startswith("::error file=")
    assert ",line=5,col=16,title=RK202::" in out


def test_cap_with_and_n_more(mixed: Path) -> None:
    code, out, _ = run("validate", "--max-problems", "2", str(mixed))
    assert code == 1
    assert out.count("error[") == 2
    assert "… and 3 more problems" in out


def test_valid_file_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(GOOD)
    code, out, _ = run("validate", str(tmp_path / "ok.yaml"))
    assert code == 0
    assert "no problems" in out


def test_usage_errors_exit_two() -> None:
    assert run("validate")[0] == 2
    assert run("nonsense")[0] == 2
    assert run("validate", "--format", "xml", "x")[0] == 2


def test_internal_error_is_one_polite_line(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    from rulekit.cli import validate

    def boom(*_a: object, **_k: object) -> None:
        raise ZeroDivisionError("simulated")

    monkeypatch.setattr(validate, "check_paths", boom)
    code, _, err = run("validate", str(tmp_path))
    assert code == 3
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "please report" in err


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    code, out, _ = run("validate", str(tmp_path / "nope"))
    assert code == 1
    assert "RK008" in out


HOSTILE = {
    "alias_bomb": "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)),
    "deep_yaml": "[" * 10_000 + "]" * 10_000,
    "python_tag": "rulekit: 1\npolicy: !!python/object/apply:os.system ['touch PWNED']\n",
    "big_number": "rulekit: 1\nprecedence: " + "7" * 100_000 + "\n",
    "deep_dsl": "rulekit: 1\npolicy: p\nrules:\n  - name: r\n    when: '" + "(" * 10_000
    + "true" + ")" * 10_000 + "'\n    steps: [{queue: q}]\n",
    "long_dsl": "rulekit: 1\npolicy: p\nrules:\n  - name: r\n    when: '"
    + " or ".join(["lead.source == \"x\""] * 60_000)[: 1_000_000] + "'\n    steps: [{queue: q}]\n",
}
HOSTILE_CODES = {"alias_bomb": "RK004", "deep_yaml": "RK006", "python_tag": "RK003",
                 "big_number": "RK007", "deep_dsl": "RK206", "long_dsl": "RK007"}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_a_typed_error_in_a_subprocess(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HOSTILE[name])
    max_bytes = ["--max-file-bytes", "2000000"] if name == "long_dsl" else []
    proc = subprocess.run(
        [sys.executable, "-m", "rulekit", "validate", "--format", "json", *max_bytes, str(path)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    codes = {p["code"] for p in json.loads(proc.stdout)}
    assert HOSTILE_CODES[name] in codes
    assert not (tmp_path / "PWNED").exists()


def test_ten_megabyte_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("rulekit: 1\ndescription: '" + "x" * (10 << 20) + "'\n")
    code, out, _ = run("validate", "--format", "json", str(path))
    assert code == 1
    assert json.loads(out)[0]["code"] == "RK005"
