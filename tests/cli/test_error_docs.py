"""``docs/errors.md`` documents every error code, and its examples are the golden corpus.

Conventions of the page, enforced here:

* each code of :data:`rulekit.errors.CODES` has a section headed ``## RKnnn — title`` (the
  catalogue's title, optionally followed by `` (warning)``), in catalogue order;
* every ``RKnnn`` the page mentions exists in the catalogue;
* ``<!-- output: NAME -->`` followed by a ```` ```text ```` block shows the exact output of the
  golden fixture ``tests/fixtures/invalid/NAME`` (its ``NAME.expected``), and each code's section
  shows at least one output of a fixture of that code;
* ``<!-- fixture: NAME -->`` followed by a ```` ```yaml ```` block shows that fixture's file (for
  a folder fixture, each ``*.yaml`` file in name order, preceded by a ``# NAME/FILE`` line and
  separated by a blank line).
"""

from __future__ import annotations

import re
from pathlib import Path

from rulekit.errors import CODES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
FIXTURES = ROOT / "tests" / "fixtures" / "invalid"

HEADING = re.compile(r"^## (RK\d{3})\b(.*)$", re.MULTILINE)
OUTPUT = re.compile(r"^<!-- output: ([\w.-]+) -->\n```text\n(.*?)^```$", re.DOTALL | re.MULTILINE)
FIXTURE = re.compile(r"^<!-- fixture: ([\w.-]+) -->\n```yaml\n(.*?)^```$",
                     re.DOTALL | re.MULTILINE)
MARKER = re.compile(r"^<!-- (output|fixture): ([\w.-]+) -->$", re.MULTILINE)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def sections(text: str) -> dict[str, str]:
    """Each code's section: from its heading to the next ``## `` heading."""
    found: dict[str, str] = {}
    headings = list(re.finditer(r"^## .*$", text, re.MULTILINE))
    for index, heading in enumerate(headings):
        match = HEADING.match(heading.group(0))
        if match is None:
            continue
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        assert match.group(1) not in found, f"two sections for {match.group(1)}"
        found[match.group(1)] = text[heading.start():end]
    return found


def fixture_text(name: str) -> str:
    path = FIXTURES / name
    if path.is_dir():
        return "\n".join(f"# {name}/{file.name}\n" + file.read_text(encoding="utf-8")
                         for file in sorted(path.glob("*.yaml")))
    return (FIXTURES / f"{name}.yaml").read_text(encoding="utf-8")


def test_every_code_has_a_section_with_its_title() -> None:
    text = doc_text()
    headings = [(m.group(1), m.group(2)) for m in HEADING.finditer(text)]
    assert [code for code, _ in headings] == list(CODES)
    for code, rest in headings:
        info = CODES[code]
        suffix = " (warning)" if info.severity == "warning" else ""
        assert rest == f" — {info.title}{suffix}", code


def test_every_code_mentioned_exists() -> None:
    mentioned = set(re.findall(r"\bRK\d{3}\b", doc_text()))
    assert sorted(mentioned - set(CODES)) == []


def test_every_marker_has_its_block() -> None:
    text = doc_text()
    markers = [(m.group(1), m.group(2)) for m in MARKER.finditer(text)]
    blocks = [("output", m.group(1)) for m in OUTPUT.finditer(text)]
    blocks += [("fixture", m.group(1)) for m in FIXTURE.finditer(text)]
    assert sorted(markers) == sorted(blocks)


def test_outputs_are_the_golden_expectations() -> None:
    outputs = list(OUTPUT.finditer(doc_text()))
    assert outputs
    for match in outputs:
        name = match.group(1)
        expected = FIXTURES / f"{name}.expected"
        assert expected.is_file(), f"{name}: no golden expectation"
        assert match.group(2) == expected.read_text(encoding="utf-8"), name


def test_fixture_examples_are_the_fixture_files() -> None:
    for match in FIXTURE.finditer(doc_text()):
        assert match.group(2) == fixture_text(match.group(1)), match.group(1)


def test_each_section_shows_output_of_its_code() -> None:
    for code, body in sections(doc_text()).items():
        shown = [m.group(1) for m in OUTPUT.finditer(body)]
        assert any(name.split("-", 1)[0] == code for name in shown), code
        for name in shown:
            assert f"[{code}]" in (FIXTURES / f"{name}.expected").read_text(encoding="utf-8")
