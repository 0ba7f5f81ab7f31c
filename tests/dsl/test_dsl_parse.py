"""Parser: literal and operator forms, precedence, syntax errors in plain words."""

from __future__ import annotations

import pytest
from dsl_helpers import locate

from rulekit.dsl import ast
from rulekit.dsl.ast import Binary, Call, ListLiteral, Literal, Logical, Path, Quantifier, Unary
from rulekit.dsl.duration import Duration
from rulekit.dsl.parse import parse
from rulekit.errors import RulekitErrors


def p(text: str) -> ast.Node:
    return parse(text, locate=locate)


def path(dotted: str) -> Path:
    return Path(tuple(dotted.split(".")))


def syntax_error(text: str) -> tuple[str, int, int, str | None]:
    with pytest.raises(RulekitErrors) as info:
        p(text)
    (d,) = info.value.diagnostics
    assert d.location is not None
    return d.message, d.location.line, d.location.column, d.hint


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"hello"', "hello"),
        ("'single'", "single"),
        (r'"a\"b\\c\n\t"', 'a"b\\c\n\t'),
        (r"'it\'s'", "it's"),
        (r'"\u00e9"', "é"),
        ("42", 42),
        ("3.25", 3.25),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_literals(text: str, value: object) -> None:
    node = p(text)
    assert node == Literal(value)
    assert isinstance(node, Literal)
    assert type(node.value) is type(value)


@pytest.mark.parametrize(
    ("text", "seconds", "business"),
    [
        ("45s", 45, False),
        ("30m", 1800, False),
        ("2h", 7200, False),
        ("1d", 86400, False),
        ("1h30m", 5400, False),
        ("2 business_hours", 7200, True),
        ("1 business_hour", 3600, True),
        ("30 business_minutes", 1800, True),
    ],
)
def test_durations(text: str, seconds: int, business: bool) -> None:
    assert p(text) == ast.DurationLiteral(Duration(seconds, business))


def test_lists_paths_calls_quantifiers() -> None:
    assert p("[1, 'a', null]") == ListLiteral((Literal(1), Literal("a"), Literal(None)))
    assert p("[]") == ListLiteral(())
    assert p("lead.property.zip") == path("lead.property.zip")
    assert p("lead.attributes.campaign") == path("lead.attributes.campaign")
    assert p("f()") == Call("f", ())
    assert p("starts_with(z, '282')") == Call("starts_with", (path("z"), Literal("282")))
    assert p('any(z in agent.zips: starts_with(z, "282"))') == Quantifier(
        "any", "z", path("agent.zips"), Call("starts_with", (path("z"), Literal("282")))
    )
    assert isinstance(p("all(t in agent.tags: t != 'x')"), Quantifier)


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
def test_comparison_operators(op: str) -> None:
    assert p(f"a {op} b") == Binary(op, path("a"), path("b"))


def test_arithmetic_is_left_associative_with_precedence() -> None:
    a, b, c = path("a"), path("b"), path("c")
    assert p("a - b - c") == Binary("-", Binary("-", a, b), c)
    assert p("a + b * c") == Binary("+", a, Binary("*", b, c))
    assert p("(a + b) * c") == Binary("*", Binary("+", a, b), c)
    assert p("a / b / c") == Binary("/", Binary("/", a, b), c)
    assert p("-a * b") == Binary("*", Unary("-", a), b)
    assert p("- -a") == Unary("-", Unary("-", a))


def test_boolean_precedence() -> None:
    a, b, c = path("a"), path("b"), path("c")
    # not binds tighter than and, and tighter than or
    assert p("not a and b") == Logical("and", (Unary("not", a), b))
    assert p("a or b and c") == Logical("or", (a, Logical("and", (b, c))))
    assert p("a and b or c") == Logical("or", (Logical("and", (a, b)), c))
    assert p("a and b and c") == Logical("and", (a, b, c))
    assert p("a and (b and c)") == Logical("and", (a, Logical("and", (b, c))))
    # comparisons bind tighter than not
    assert p("not a == b") == Unary("not", Binary("==", a, b))
    assert p("a + 1 > b") == Binary(">", Binary("+", a, Literal(1)), b)


def test_keywords_do_not_swallow_names() -> None:
    assert p("android == order") == Binary("==", path("android"), path("order"))
    assert p("notable in index") == Binary("in", path("notable"), path("index"))


@pytest.mark.parametrize("text", ["a < b < c", "a == b == c", "a in b in c"])
def test_comparisons_are_not_associative(text: str) -> None:
    message, line, column, hint = syntax_error(text)
    assert message.startswith("unexpected '") or message.startswith("unexpected 'in'")
    assert (line, column) == (1, text.rindex(text.split()[3]) + 1)
    assert hint == "comparisons do not chain: write 'a < b and b < c'"


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("f(a))", "unexpected ')'; expected end of expression", 5),
        (")", "unexpected ')'; expected a value", 1),
        ("a and", "unexpected end of expression; expected a value", 6),
        ("[1, 2", "unexpected end of expression; expected ']' or ','", 6),
        ("1 2", "unexpected number 2; expected an operator or end of expression", 3),
        ("any(z x)", "unexpected name 'x'; expected 'in'", 7),
        ("a.", "unexpected end of expression; expected a name", 3),
        ("a = b", "unexpected character '='", 3),
        ('"abc', "unterminated string (or a line break inside a string)", 1),
    ],
)
def test_syntax_errors_in_plain_words(text: str, message: str, column: int) -> None:
    got, line, col, _ = syntax_error(text)
    assert got == message
    assert (line, col) == (1, column)


def test_syntax_error_position_on_later_line() -> None:
    message, line, column, _ = syntax_error("lead.source == 'x'\n  and\n  )")
    assert message == "unexpected ')'; expected a value"
    assert (line, column) == (3, 3)


def test_character_hints() -> None:
    assert syntax_error("a && b")[3] == "use 'and'"
    assert syntax_error("a = b")[3] == "use '==' to compare"


def test_invalid_escape_is_reported_at_the_string() -> None:
    message, line, column, _ = syntax_error(r'lead.source == "a\qb"')
    assert message == "invalid escape '\\q' in string"
    assert (line, column) == (1, 16)


@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ("3 business_days", "RK207", 3),
        ("1h1h", "RK207", 1),
        ("1m2h", "RK207", 1),
        ("367d", "RK206", 1),
    ],
)
def test_invalid_durations(text: str, code: str, column: int) -> None:
    with pytest.raises(RulekitErrors) as info:
        p(f"x > {text}")
    (d,) = info.value.diagnostics
    assert d.code == code
    assert d.location is not None and d.location.column == column + 4


def test_business_days_hint() -> None:
    with pytest.raises(RulekitErrors) as info:
        p("2 business_days")
    assert info.value.diagnostics[0].hint == "use business_hours (e.g. 8 business_hours) instead"


def test_spans_cover_the_node() -> None:
    node = p("lead.source  ==  'x'")
    assert isinstance(node, Binary)
    assert (node.left.span.column, node.left.span.end_column) == (1, 12)
    assert node.right.span.column == 18
    assert isinstance(node.left, Path)
    assert [s.column for s in node.left.segment_spans] == [1, 6]
