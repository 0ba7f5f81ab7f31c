"""Large texts are read with libyaml, the rest with PyYAML's own parser: both give the same
data, the same positions and the same refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulekit.config import load
from rulekit.config.load import load_text
from rulekit.errors import LoadError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "rules").rglob("*.yaml"))

pytestmark = pytest.mark.skipif(load._CParser is None, reason="PyYAML built without libyaml")


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> list[load.Document | str]:
    """The document (or the refusal's code) from each reader."""
    found: list[load.Document | str] = []
    for threshold in (1 << 40, 0):
        monkeypatch.setattr(load, "LIBYAML_FROM_CHARS", threshold)
        try:
            found.append(load_text(text, "f.yaml"))
        except LoadError as exc:
            found.append(exc.code)
    return found


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_files_read_the_same(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pure, fast = both(path.read_text(encoding="utf-8"), monkeypatch)
    assert isinstance(pure, load.Document) and isinstance(fast, load.Document)
    assert pure.data == fast.data
    for table in ("start", "end", "key", "after", "style"):
        assert getattr(pure._nodes, table) == getattr(fast._nodes, table), table


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a: &a [1]\nb: *a\nc: *zz\n", "RK001"),
        ("&a [1, *a]\n", "RK004"),
        ("a: &a [x]\n" + "".join(f"k{i}: *a\n" for i in range(101)), "RK004"),
        ("x: !!python/name:os.system\n", "RK003"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "RK003"),
        ("[" * 100 + "]" * 100, "RK006"),
        ("n: " + "9" * 40 + "\n", "RK007"),
        ("a: 1\nb: 2\na: 3\n", "RK002"),
        ("? [a]\n: 1\n", "RK001"),
        ('a: "x\\ud800"\n', "RK001"),
        ("a: [1, 2\nb: 3\n", "RK001"),
        ("--- a\n--- b\n", "RK001"),
        ("a: <<\n", "RK001"),
    ],
)
def test_refusals_are_the_same(text: str, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert both(text, monkeypatch) == [code, code]


def test_a_large_syntax_error_names_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_RULE_FILE_BYTES", 10)  # no second reading for the message
    monkeypatch.setattr(load, "LIBYAML_FROM_CHARS", 0)
    with pytest.raises(LoadError) as info:
        load_text("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    assert info.value.code == "RK001"
    assert info.value.location is not None and info.value.location.line == 3
