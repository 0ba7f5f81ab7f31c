"""What the lead model refuses at intake: unstorable characters anywhere, instants outside the
years 1970 to 2200."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from rulekit.model import LEAD_EARLIEST, LEAD_END, ContactInfo, Lead, PropertyRef

BASE: dict[str, Any] = {"id": "L1", "received_at": "2026-11-24T14:05:00-05:00",
                        "source": "remax.com"}


def errors(**changes: Any) -> list[tuple[tuple[str | int, ...], str]]:
    try:
        Lead.model_validate({**BASE, **changes})
    except ValidationError as exc:
        return [(e["loc"], e["type"]) for e in exc.errors()]
    return []


def string_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items()
            if info.annotation in (str, str | None)]


@pytest.mark.parametrize("name", string_fields(Lead))
def test_nul_is_refused_in_every_text_field_of_the_lead(name: str) -> None:
    assert errors(**{name: "a\x00b"}) == [((name,), "unstorable_character")]


@pytest.mark.parametrize(("part", "model"), [("contact", ContactInfo), ("property", PropertyRef)])
def test_nul_is_refused_in_every_text_field_of_nested_models(part: str,
                                                             model: type[BaseModel]) -> None:
    for name in string_fields(model):
        assert errors(**{part: {name: "\x00"}}) == [((part, name), "unstorable_character")]


def test_every_problem_is_reported_with_its_path() -> None:
    found = errors(contact={"name": "P\x00t", "email": "ok@example.com"},
                   attributes={"k\x00": {"list": ["fine", "b\x00d", {"\x00": 1}]}})
    assert found == [
        (("contact", "name"), "unstorable_character"),
        (("attributes", "k\x00"), "unstorable_character"),  # the key, then what it holds
        (("attributes", "k\x00", "list", 1), "unstorable_character"),
        (("attributes", "k\x00", "list", 2, "\x00"), "unstorable_character"),
    ]


def test_a_deeply_nested_attribute_is_checked_without_recursion() -> None:
    deep: Any = "bad\x00"
    for _ in range(5000):
        deep = {"d": deep}
    (loc, kind), = errors(attributes={"x": deep})
    assert kind == "unstorable_character" and len(loc) == 5002


def test_the_message_names_the_character() -> None:
    with pytest.raises(ValidationError) as info:
        Lead.model_validate({**BASE, "attributes": {"e": "\ud83d"}})
    text = str(info.value)
    assert "attributes.e" in text
    assert "a lone surrogate (U+D83D), which databases cannot store" in text


def test_ordinary_unicode_and_control_characters_are_kept() -> None:
    lead = Lead.model_validate({**BASE, "contact": {"name": "Zoë 😀 \u202eRTL"},
                                "attributes": {"t": "a\tb\r\n\x1f\x7f\uffff"}})
    assert lead.contact.name == "Zoë 😀 \u202eRTL"
    assert lead.attributes["t"] == "a\tb\r\n\x1f\x7f\uffff"


@pytest.mark.parametrize("when", [
    "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2201-01-01T00:00:00Z",
    "2200-12-31T20:00:00-05:00", "9999-12-31T23:59:59Z",
])
def test_instants_outside_the_sane_range_are_refused(when: str) -> None:
    assert errors(received_at=when) == [(("received_at",), "instant_out_of_range")]
    with pytest.raises(ValidationError, match="years 1970 to 2200"):
        Lead.model_validate({**BASE, "received_at": when})


@pytest.mark.parametrize("when", [
    LEAD_EARLIEST, LEAD_END - timedelta(microseconds=1),
    datetime(1970, 1, 1, 5, tzinfo=timezone(timedelta(hours=5))),
])
def test_the_ends_of_the_range_are_accepted(when: datetime) -> None:
    assert errors(received_at=when) == []


def test_instants_inside_free_form_attributes_are_checked_too() -> None:
    assert errors(attributes={"seen": datetime(9999, 1, 1, tzinfo=UTC)}) == [
        (("attributes", "seen"), "instant_out_of_range")]
