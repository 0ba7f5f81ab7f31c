"""Limits on hostile input, and no-eval safety of the generated code."""

from __future__ import annotations

import pytest
from dsl_helpers import compile_, errors, locate, make_lead

from rulekit.dsl import (
    MAX_DEPTH,
    MAX_EXPRESSION_LENGTH,
    MAX_LIST_ITEMS,
    MAX_STRING_LENGTH,
    STRING,
    Env,
    parse_duration,
)
from rulekit.errors import RulekitErrors


def limit_error(text: str) -> str:
    with pytest.raises(RulekitErrors) as info:
        compile_(text)
    codes = {d.code for d in info.value.diagnostics}
    assert codes == {"RK206"}, info.value.diagnostics
    return info.value.diagnostics[0].message


def test_one_megabyte_expression() -> None:
    message = limit_error("lead.source == 'x' and " * 45_000 + "true")
    assert message.startswith("expression too long:")
    assert str(MAX_EXPRESSION_LENGTH) in message


def test_ten_thousand_nested_parentheses() -> None:
    assert "expression too long" in limit_error("(" * 10_000 + "true" + ")" * 10_000)


def test_deep_nesting_within_the_length_limit() -> None:
    text = "(" * 1000 + "true" + ")" * 1000
    assert "nested too deeply" in limit_error(text)
    assert "nested too deeply" in limit_error("[" * 40 + "]" * 40 + " == null")
    assert "nested too deeply" in limit_error("not " * 1000 + "true")
    assert "nested too deeply" in limit_error("- " * 1000 + "1 == 1")
    assert "nested too deeply" in limit_error(" + ".join(["1"] * 1000) + " == 1")


def test_nesting_at_the_limit_is_fine() -> None:
    assert compile_("(" * MAX_DEPTH + "true" + ")" * MAX_DEPTH)
    # a long chain of 'and' is one level, not one per operand
    assert compile_(" and ".join(["lead.source == 'x'"] * 100))


def test_huge_number() -> None:
    assert "expression too long" in limit_error("1" * 100_000 + " == 1")
    assert limit_error("1" * 31 + " == 1").startswith("number too long: 31 digits")
    assert compile_("1" * 30 + " > 1")


def test_long_string_and_list() -> None:
    assert limit_error(f"lead.source == '{'x' * (MAX_STRING_LENGTH + 1)}'").startswith(
        "string literal too long"
    )
    assert compile_(f"lead.source == '{'x' * MAX_STRING_LENGTH}'")
    items = ", ".join(["1"] * (MAX_LIST_ITEMS + 1))
    assert limit_error(f"1 in [{items}]").startswith("list literal too long: 1001 items")


def test_long_duration() -> None:
    assert limit_error("now - lead.received_at > 367d").startswith("duration too long")
    assert compile_("now - lead.received_at > 366d")


def test_every_limit_is_positioned() -> None:
    (d,) = errors("lead.source == 'x' or " + "1" * 40 + " > 0")
    assert d.location is not None and d.location.column == 23


@pytest.mark.parametrize(
    "payload",
    [
        "__import__('os').system('x')",
        '"); __import__("os").system("x"); ("',
        "' + __import__('os').getcwd() + '",
        "\\\\\n\"'\t\x00{}",
        "lead.__class__",
    ],
)
def test_string_literals_are_plain_data(payload: str) -> None:
    from rulekit.dsl.ast import quote

    expr = compile_(quote(payload), expected=STRING)
    assert expr(Env(make_lead())) == payload
    lead = make_lead(source=payload.replace("\x00", ""))  # intake refuses NUL (model.py)
    payload = lead.source
    assert compile_(f"lead.source == {quote(payload)}")(Env(lead)) is True


def test_generated_code_has_no_builtins() -> None:
    expr = compile_("lead.source == 'x'")
    assert expr.function.__globals__["__builtins__"] == {}
    assert "__import__" not in expr.function.__globals__


def test_dunder_names_are_unknown_fields() -> None:
    (d,) = errors("lead.__class__ == null")
    assert d.code == "RK202"


def test_parse_duration() -> None:
    d = parse_duration("2 business_hours", locate=locate)
    assert (d.seconds, d.business, str(d)) == (7200, True, "2 business_hours")
    d = parse_duration("90m", locate=locate)
    assert (d.seconds, d.business, str(d)) == (5400, False, "1h30m")
    assert str(parse_duration("30 business_minutes", locate=locate)) == "30 business_minutes"
    assert str(parse_duration("1 business_hour", locate=locate)) == "1 business_hour"
    assert str(parse_duration("1d2h3m4s", locate=locate)) == "1d2h3m4s"


@pytest.mark.parametrize(
    ("text", "code", "hint"),
    [
        ("1 business_day", "RK207", "use business_hours (e.g. 8 business_hours) instead"),
        ("soon", "RK207", "write it like 45s, 30m, 2h, 1d or 1h30m"),
        ("1.5h", "RK207", "write it like 45s, 30m, 2h, 1d or 1h30m"),
        ("30m1h", "RK207", "write it like 1d2h30m"),
        ("400d", "RK206", None),
        ("10000 business_hours", "RK206", None),
    ],
)
def test_parse_duration_errors(text: str, code: str, hint: str | None) -> None:
    with pytest.raises(RulekitErrors) as info:
        parse_duration(f"  {text}", locate=locate)
    (d,) = info.value.diagnostics
    assert (d.code, d.hint) == (code, hint)
    assert d.location is not None and d.location.column == 3
