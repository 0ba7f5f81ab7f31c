"""The loader's limits: aliases are bounded by what they expand to, a plain document only by
its size (bytes, and the values a file of that size can hold)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulekit.config import load, project
from rulekit.config.load import load_text
from rulekit.config.project import check_paths
from rulekit.errors import LoadError


def refusal(text: str) -> LoadError:
    with pytest.raises(LoadError) as info:
        load_text(text, "f.yaml")
    return info.value


@pytest.mark.slow
def test_a_plain_document_of_more_than_a_million_values_is_no_alias_bomb() -> None:
    count = 1_100_000
    doc = load_text("a: [" + "0," * count + "]\n", "big.yaml")
    assert len(doc.data["a"]) == count
    assert doc.location(("a", count - 1)).column == 5 + 2 * (count - 1)


def test_plain_values_are_bounded_by_their_own_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_NODES", 50)
    error = refusal("a: [" + "x, " * 60 + "]\n")
    assert error.code == "RK005"
    assert "alias" not in error.message
    assert "50" in error.message


def test_alias_budget_counts_the_values_reached_through_aliases(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the anchored list is 4 values (the list and its 3 items); two aliases reach 8
    text = "a: &a [1, 2, 3]\nb: *a\nc: *a\nplain: [" + "x, " * 100 + "]\n"
    monkeypatch.setattr(load, "MAX_ALIAS_NODES", 8)
    doc = load_text(text, "f.yaml")
    assert doc.data["c"] == [1, 2, 3]
    monkeypatch.setattr(load, "MAX_ALIAS_NODES", 7)
    error = refusal(text)
    assert error.code == "RK004"
    assert error.location is not None and (error.location.line, error.location.column) == (3, 4)
    assert "7" in error.message


def test_nested_aliases_count_everything_they_expand_to(monkeypatch: pytest.MonkeyPatch) -> None:
    # b is 1 + 3 * 4 = 13 values once expanded; *b reaches 13, and the three *a inside b 12
    text = "a: &a [1, 2, 3]\nb: &b [*a, *a, *a]\nc: *b\n"
    monkeypatch.setattr(load, "MAX_ALIAS_NODES", 25)
    assert load_text(text, "f.yaml").data["c"] == [[1, 2, 3]] * 3
    monkeypatch.setattr(load, "MAX_ALIAS_NODES", 24)
    assert refusal(text).code == "RK004"


def test_alias_bomb_is_refused_at_once() -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        prev, cur = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    error = refusal("\n".join(lines) + "\n")
    assert error.code == "RK004"
    assert "alias" in error.message


def test_aliased_values_are_copies_with_the_anchor_positions() -> None:
    doc = load_text("a: &a {x: [1]}\nb: *a\n", "f.yaml")
    assert doc.data["a"] == doc.data["b"]
    assert doc.data["a"] is not doc.data["b"]
    assert doc.location(("b", "x", 0)).line == 1
    assert doc.location(("b",), key=True).line == 2


def test_recursive_alias_is_refused() -> None:
    assert refusal("&a [1, *a]\n").code == "RK004"


def test_world_file_size_limit_has_its_own_message(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project, "MAX_WORLD_FILE_BYTES", 1000)
    world = tmp_path / "world.yaml"
    world.write_text("rulekit: 1\nworld: big\nagents:\n" + "- {id: a}\n" * 200)
    result = check_paths([world])
    [problem] = result.diagnostics
    assert problem.code == "RK005"
    assert problem.message.startswith("world file is 2,030 bytes, over the limit of 1,000")
    assert "alias" not in problem.message
