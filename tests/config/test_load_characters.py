"""Characters YAML does not allow are refused with their own position, before parsing.

Control characters, U+FFFE/U+FFFF, lone surrogates, NUL and a byte order mark inside the text
are each reported as RK008 at the line and column of the first offending character (columns
count characters, not bytes); a leading UTF-8 byte order mark is accepted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rulekit.config.load import load_file, load_text
from rulekit.errors import LoadError


def refusal(text: str) -> LoadError:
    with pytest.raises(LoadError) as info:
        load_text(text, "f.yaml")
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "column", "said"),
    [
        ("a: 1\nb: x\x01y\n", 2, 5, "U+0001"),
        ("a: \x1b[1mbold\x1b[0m\n", 1, 4, "U+001B (ESC)"),
        ("a: b\ufffe\n", 1, 5, "U+FFFE"),
        ("a: b\uffff\n", 1, 5, "U+FFFF"),
        ("a: 1\nb: 'x\x00'\n", 2, 6, "NUL"),
        ("a: Don\x92t\n", 1, 7, "U+0092"),
        ("a: é\x7f\n", 1, 5, "U+007F (DEL)"),
        ("a: x\ud800\n", 1, 5, "U+D800"),
        ("a: 1\n\ufeffb: 2\n", 2, 1, "U+FEFF"),
        ("é: [ü, \x08]\n", 1, 8, "U+0008"),
        ("a: 1\r\nb: \x02\n", 2, 4, "U+0002"),
        ("a: 1\rb: \x02\n", 2, 4, "U+0002"),
        ("a: 1\x85b: \x02\n", 2, 4, "U+0002"),
        ("# comment \x0c\na: 1\n", 1, 11, "U+000C"),
        ("a: |\n  line\n  \x1f\n", 3, 3, "U+001F"),
    ],
)
def test_first_offending_character_is_positioned(text: str, line: int, column: int,
                                                 said: str) -> None:
    error = refusal(text)
    assert error.code == "RK008"
    assert error.location is not None
    assert (error.location.line, error.location.column) == (line, column)
    assert said in error.message


def test_allowed_whitespace_and_unicode_load() -> None:
    doc = load_text("a: 'x\ty'\r\nb: [é, 😀, \u00a0z]\x85c: \u2028\n", "f.yaml")
    assert doc.data["a"] == "x\ty"
    assert doc.data["b"][1] == "😀"
    assert doc.location(("c",), key=True).line == 3


def test_leading_bom_is_accepted_and_positions_are_unchanged() -> None:
    doc = load_text("\ufeffa: 1\nb: [x, y]\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", "y"]}
    loc = doc.location(("b", 1))
    assert (loc.line, loc.column) == (2, 8)
    assert doc.location(("a",), key=True).column == 1
    assert doc.line_text(1) == "a: 1"


def test_leading_bom_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\nb: x\x01\n")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (2, 5)


def test_surrogate_escape_is_refused_with_a_position() -> None:
    error = refusal('a: 1\nb: "x\\ud800"\n')
    assert error.code == "RK001"
    assert error.location is not None and error.location.line == 2
    assert "surrogate" in error.message


@pytest.mark.parametrize(
    ("raw", "line", "column"),
    [
        (b"a: 1\nb: \x00\n", 2, 4),
        (b"a: \xc3\xa9\xc3\xa9\xff\n", 1, 6),
        (b"a: 1\r\nb: \xc3\xa9\xed\xa0\x80\n", 2, 5),
        (b"a: x\x1b[0m\n", 1, 5),
    ],
)
def test_file_problems_are_positioned_in_characters(raw: bytes, line: int, column: int,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(raw)
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert info.value.code == "RK008"
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (line, column)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_files_are_named(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "wide.yaml"
    path.write_bytes("rulekit: 1\n".encode(encoding))
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert info.value.code == "RK008"
    assert encoding.upper() in info.value.message
    assert info.value.hint is not None and "UTF-8" in info.value.hint
