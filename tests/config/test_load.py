"""The safe, bounded YAML loader: positions, limits and hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rulekit.config.load import MAX_DEPTH, load_file, load_text
from rulekit.errors import LoadError


def code_of(text: str) -> str:
    with pytest.raises(LoadError) as info:
        load_text(text, "f.yaml")
    return info.value.code


def test_values_and_positions() -> None:
    doc = load_text("a: 1\nb:\n  - x\n  - {c: true, d: null}\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"c": True, "d": None}]}
    assert doc.location(("b", 1, "c")).line == 4
    assert doc.location(("b", 1, "c")).column == 9
    assert doc.location(("b", 1, "d"), key=True).column == 15
    assert doc.location(("missing", "deeper")) == doc.location(())


def test_dates_stay_strings() -> None:
    assert load_text("d: 2026-12-24\n", "f.yaml").data == {"d": "2026-12-24"}


@pytest.mark.parametrize(
    ("text", "line", "col", "expected_char"),
    [
        ('when: lead.source == "x" and foo\n', 1, 20, "a"),
        ('q: "a \\"b\\" lead.zip"\n', 1, 9, "a"),
        ("b: |\n  lead.a and\n    lead.bad\n", 2, 3, "l"),
        ("b: >\n  lead.a and\n  lead.bad\n", 1, 12, "l"),
        ("c: 'it''s lead.x'\n", 1, 6, "l"),
    ],
)
def test_locator_maps_into_scalars(text: str, line: int, col: int, expected_char: str) -> None:
    doc = load_text(text, "f.yaml")
    key = next(iter(doc.data))
    loc = doc.locator((key,))(line, col)
    raw_line = text.splitlines()[loc.line - 1]
    assert raw_line[loc.column - 1] == expected_char


def test_duplicate_key_names_both_positions() -> None:
    with pytest.raises(LoadError) as info:
        load_text("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert info.value.code == "RK002"
    assert info.value.location is not None and info.value.location.line == 3
    assert "line 1, column 1" in info.value.message


def test_yaml_syntax_error_is_positioned() -> None:
    with pytest.raises(LoadError) as info:
        load_text("a: [1, 2\nb: 3\n", "f.yaml")
    assert info.value.code == "RK001"
    assert info.value.location is not None and info.value.location.line >= 2


@pytest.mark.parametrize(
    "text",
    [
        "x: !!python/object/apply:os.system ['echo hacked']\n",
        "x: !!python/name:os.system\n",
        "x: !custom 1\n",
        "x: !!str 1\n",
    ],
)
def test_tags_are_refused_and_nothing_runs(text: str, tmp_path: Path) -> None:
    assert code_of(text) == "RK003"


def test_merge_keys_are_refused() -> None:
    assert code_of("base: &b {x: 1}\nother:\n  <<: *b\n") == "RK003"


def test_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    assert code_of("\n".join(lines) + "\n") == "RK004"


def test_few_aliases_are_fine() -> None:
    assert load_text("a: &x [1]\nb: *x\n", "f.yaml").data == {"a": [1], "b": [1]}


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    assert code_of("[" * 10_000 + "]" * 10_000) == "RK006"
    assert code_of("a:\n" + "".join("  " * i + "- \n" for i in range(1, 200))) in {
        "RK006", "RK001"}


def test_nesting_at_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 1
    doc = load_text("[" * depth + "1" + "]" * depth, "f.yaml")
    assert doc.data is not None


def test_huge_number_is_refused() -> None:
    assert code_of("n: " + "9" * 100_000 + "\n") == "RK007"


def test_huge_scalar_is_refused() -> None:
    assert code_of("s: '" + "x" * 200_000 + "'\n") == "RK007"


def test_big_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("x: " + "y" * (10 * 1024 * 1024) + "\n")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert info.value.code == "RK005"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"a: 1\nb: \xff\xfe\n")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert info.value.code == "RK008"
    assert info.value.location is not None and info.value.location.line == 2


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as info:
        load_file(tmp_path / "nope.yaml")
    assert info.value.code == "RK008"


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text("abcdefgh_", min_size=1, max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(plain)
def test_round_trip_matches_pyyaml_safe_load(value: object) -> None:
    import yaml

    text = yaml.safe_dump({"root": value}, allow_unicode=True)
    assert load_text(text, "f.yaml").data == yaml.safe_load(text)
