"""Every example of ``docs/errors.md`` produces the code of its section, run as written there.

* Each ``<!-- fixture: NAME -->`` block (a file, or the files of a folder, each after a
  ``# NAME/FILE`` line) is written to an empty folder and validated as the golden test runs
  its fixture (with ``NAME.args``): the output has the section's code, and is the page's
  ``<!-- output: NAME -->`` block when there is one.
* Each duration a section's **When:** paragraph quotes (`` `2 hours` ``) is used as the ``for:``
  of an offer (without a calendar) in a rule file, which then has the section's code.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from rulekit.cli.main import main
from rulekit.config.project import check_paths

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
FIXTURES = ROOT / "tests" / "fixtures" / "invalid"

SECTION = re.compile(r"^## (RK\d{3})\b.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
FIXTURE = re.compile(r"^<!-- fixture: ([\w.-]+) -->\n```yaml\n(.*?)^```$",
                     re.DOTALL | re.MULTILINE)
OUTPUT = re.compile(r"^<!-- output: ([\w.-]+) -->\n```text\n(.*?)^```$", re.DOTALL | re.MULTILINE)
WHEN = re.compile(r"^\*\*When:\*\*(.*?)\n\n", re.DOTALL | re.MULTILINE)
DURATION = re.compile(r"-?\d[\w ]*")


def sections() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(0)) for m in SECTION.finditer(DOC.read_text(encoding="utf-8"))]


def examples() -> list[tuple[str, str, str, str | None]]:
    """(code, fixture name, text, documented output) of every fixture block of the page."""
    found = []
    for code, body in sections():
        outputs = {m.group(1): m.group(2) for m in OUTPUT.finditer(body)}
        for match in FIXTURE.finditer(body):
            found.append((code, match.group(1), match.group(2), outputs.get(match.group(1))))
    return found


def durations() -> list[tuple[str, str]]:
    found = []
    for code, body in sections():
        when = WHEN.search(body)
        quoted = re.findall(r"`([^`]+)`", when.group(1)) if when else []
        found += [(code, text) for text in quoted if DURATION.fullmatch(text)]
    return found


def write_example(folder: Path, name: str, text: str) -> str:
    """Write an example as its fixture is laid out; the path to validate."""
    if not text.startswith(f"# {name}/"):
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        return f"{name}.yaml"
    (folder / name).mkdir()
    parts = re.split(rf"^# {re.escape(name)}/([\w.-]+)\n", text, flags=re.MULTILINE)
    for file_name, content in zip(parts[1::2], parts[2::2], strict=True):
        # the page separates the files with a blank line that is not part of either
        body = content[:-1] if content.endswith("\n\n") else content
        (folder / name / file_name).write_text(body, encoding="utf-8")
    return name


def test_the_page_has_examples() -> None:
    assert len(examples()) >= 40
    assert len(durations()) >= 4


@pytest.mark.parametrize(("code", "name", "text", "output"), examples(),
                         ids=[e[1] for e in examples()])
def test_each_example_gives_its_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     code: str, name: str, text: str,
                                     output: str | None) -> None:
    target = write_example(tmp_path, name, text)
    args_file = FIXTURES / f"{name}.args"
    extra = args_file.read_text(encoding="utf-8").split() if args_file.exists() else []
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exit_code = main(["validate", *extra, target])
    assert exit_code == 1
    assert f"[{code}]" in out.getvalue()
    if output is not None:
        assert out.getvalue() == output


@pytest.mark.parametrize(("code", "duration"), durations(),
                         ids=[f"{c}-{d}" for c, d in durations()])
def test_each_duration_of_a_when_gives_its_code(tmp_path: Path, code: str,
                                                duration: str) -> None:
    (tmp_path / "rules.yaml").write_text(
        "rulekit: 1\npolicy: p\napplies_to: {sources: [web]}\nrules:\n"
        "  - name: offer\n    when: lead.branding_agent != null\n    steps:\n"
        f"      - offer: {{to: lead.branding_agent, for: {duration}}}\n    then: continue\n"
        "  - name: rest\n    steps: [{queue: manual}]\n", encoding="utf-8")
    found = {d.code for d in check_paths([tmp_path]).diagnostics}
    assert code in found, (duration, found)
