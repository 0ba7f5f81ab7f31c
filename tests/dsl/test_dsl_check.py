"""Checker: names, types, functions, calendars — every error, positioned, with hints."""

from __future__ import annotations

import pytest
from dsl_helpers import compile_, errors

from rulekit.dsl import BOOLEAN, CONTEXTS, NUMBER, STRING, Kind, nullable
from rulekit.dsl.fields import UnknownField, type_of_annotation


def where(text: str, **kw: object) -> list[tuple[str, int, int]]:
    out = []
    for d in errors(text, **kw):  # type: ignore[arg-type]
        assert d.location is not None
        out.append((d.code, d.location.line, d.location.column))
    return out


def test_unknown_field_points_at_the_segment_with_a_hint() -> None:
    (d,) = errors('lead.property.zipp == "28202"')
    assert d.code == "RK202"
    assert d.message == "unknown field 'zipp' of lead.property"
    assert d.hint == "did you mean 'zip'?"
    assert d.location is not None
    assert (d.location.line, d.location.column) == (1, 15)
    assert (d.location.end_line, d.location.end_column) == (1, 19)


def test_unknown_root_and_root_of_another_context() -> None:
    (d,) = errors("leed.source == 'x'")
    assert (d.code, d.hint) == ("RK202", "did you mean 'lead'?")
    (d,) = errors("'x' in agent.zips")
    assert d.message == "'agent' is not available in condition expressions"
    assert d.hint == "'agent' can be used in agent expressions"
    assert d.location is not None and d.location.column == 8


def test_all_errors_of_one_expression_are_collected() -> None:
    text = 'lead.sorce == "a" and foo(1) and lower(1, 2) and lead.property.price > "abc"'
    assert where(text) == [
        ("RK202", 1, 6),
        ("RK204", 1, 23),
        ("RK205", 1, 34),
        ("RK203", 1, 72),
    ]


@pytest.mark.parametrize(
    "text",
    [
        '"x" in lead.source',
        'lead.source in ["a", "b"]',
        "lead.property.zip in agent.zips",
        "lead.property.price > 100 and lead.property.price < 1e3".replace("1e3", "1000"),
        "lead.received_at > now - 2h",
        "now - lead.received_at < 1d",
        "lead.channel == null or contact.owner != null",
        "not lead.attributes.vip",
        "lead.attributes.score > 3",
        "'fall' in lead.attributes.campaign",
        "overlaps(agent.tags, ['eteam', 'trusted'])",
        "any(z in agent.zips: starts_with(z, '282'))",
        "all(o in agent.offices: o != lead.office)",
        "agent.load < coalesce(agent.capacity, 25)",
        "'global' in contact.owners",
        "len(agent.zips) > 0 and agent.office != null",
    ],
)
def test_valid_agent_expressions(text: str) -> None:
    assert compile_(text, "agent").type == BOOLEAN


@pytest.mark.parametrize(
    ("text", "code", "column", "message"),
    [
        ('lead.property.price > "abc"', "RK203", 23, "cannot compare number? with string"),
        (
            'agent.zips in ["28202"]',
            "RK203",
            1,
            "'in' looks for a list<string> in a list<string>: the types do not match",
        ),
        ("lead.source in 3", "RK203", 16, "'in' needs a list or a string on its right, not number"),
        (
            "3 in lead.source",
            "RK203",
            1,
            "'in' on a string is a substring test: the left side must be a string, not number",
        ),
        ("lead.source and true", "RK203", 1, "the operands of 'and' must be boolean, not string"),
        ("not lead.source", "RK203", 5, "the operand of 'not' must be boolean, not string"),
        ("lead.source + 1 == 'x'", "RK203", 13, "cannot compute string + number"),
        ("agent.zips < 3", "RK203", 1, "cannot order a list<string> with '<'"),
        (
            "[1, 'a'] == [1]",
            "RK203",
            5,
            "list items must have one type: this is a string, earlier items are number",
        ),
        ("any(z in agent.load: z)", "RK203", 10, "any() iterates over a list, not a number"),
        (
            "any(z in agent.zips: z)",
            "RK203",
            22,
            "the condition of any() must be boolean, not string",
        ),
        (
            "any(agent in agent.zips: true)",
            "RK201",
            5,
            "the variable 'agent' would hide 'agent'; choose another name",
        ),
        (
            "lead.received_at > 2 business_hours",
            "RK203",
            20,
            "a business duration cannot be used in an expression: it needs a calendar to count "
            "against",
        ),
        ("lower(3) == 'x'", "RK205", 7, "argument 1 of lower() must be a string, not number"),
        ("round(1, 2, 3) == 1", "RK205", 1, "round() takes 1 to 2 arguments, got 3"),
        ("coalesce(1) == 1", "RK205", 1, "coalesce() takes at least 2 arguments, got 1"),
        (
            "contains(agent.zips, 3)",
            "RK205",
            22,
            "argument 2 of contains() must be a string, not number",
        ),
        (
            "is_open(lead.source)",
            "RK205",
            9,
            "the calendar of is_open() must be a string literal naming a calendar",
        ),
        (
            'local_time_between("office-hours", "8am", "12:00")',
            "RK205",
            36,
            'argument 2 of local_time_between() must be a time literal like "08:00"',
        ),
        ("strats_with(lead.source, 'r')", "RK204", 1, "unknown function 'strats_with'"),
    ],
)
def test_type_errors(text: str, code: str, column: int, message: str) -> None:
    diagnostics = errors(text, "agent")
    assert [(d.code, d.message) for d in diagnostics] == [(code, message)]
    location = diagnostics[0].location
    assert location is not None and location.column == column


def test_unknown_function_hint() -> None:
    (d,) = errors("strats_with(lead.source, 'r')")
    assert d.hint == "did you mean 'starts_with'?"


def test_unknown_calendar_is_rk302_with_hint() -> None:
    (d,) = errors('is_open("ofice-hours")')
    assert (d.code, d.message, d.hint) == (
        "RK302",
        "undefined calendar 'ofice-hours'",
        "did you mean 'office-hours'?",
    )
    assert d.location is not None and d.location.column == 9
    assert errors('is_open("office-hours")', calendars=())[0].code == "RK302"


def test_expected_type() -> None:
    (d,) = errors("lead.property.price")
    assert (d.code, d.message) == (
        "RK203",
        "this expression is a number?, a boolean is required here",
    )
    assert compile_("agent.load * 2 + 1", "agent", expected=NUMBER).type == NUMBER
    text = "coalesce(contact.owner, lead.site_owner, 'a-x')"
    assert compile_(text, expected=STRING).type == STRING
    assert compile_("contact.owner", expected=STRING).type == nullable(STRING)
    assert errors("agent.load", "agent", expected=STRING)[0].code == "RK203"


def test_office_context() -> None:
    expr = compile_("office.agent_count > 10 and 'luxury' in office.tags", "office")
    assert expr.fields == ("office.agent_count", "office.tags")
    assert CONTEXTS["office"].lookup("office.agent_count") == NUMBER
    assert errors("agent.load > 1", "office")[0].code == "RK202"


def test_lookup_api() -> None:
    ctx = CONTEXTS["agent"]
    assert ctx.lookup("agent.load") == NUMBER
    assert ctx.lookup("agent.office") == nullable(STRING)
    assert ctx.lookup("contact.owner") == nullable(STRING)
    assert ctx.lookup("lead.attributes.anything").kind is Kind.ANY
    with pytest.raises(UnknownField) as info:
        ctx.lookup("agent.zip")
    assert info.value.index == 1
    assert info.value.hint == "did you mean 'zips'?"


def test_fields_follow_the_models() -> None:
    from pydantic import BaseModel

    class Extra(BaseModel):
        flag: bool
        when: list[int] | None = None

    t = type_of_annotation(Extra)
    assert str(t.field("flag")) == "boolean"
    assert str(t.field("when")) == "list<number>?"


def test_unknown_context_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown expression context 'pool'"):
        compile_("true", "pool")
