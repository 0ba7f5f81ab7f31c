"""Shared helpers for the DSL tests."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from rulekit.dsl import BOOLEAN, CompiledExpression, Type, compile_expression
from rulekit.dsl.ast import Path
from rulekit.errors import Diagnostic, RulekitErrors, SourceLocation
from rulekit.model import Lead

NOW = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)  # a Tuesday, 14:30 in New York

#: The binary operators of generated expressions: arithmetic, and comparisons (membership too).
ARITH = ["+", "-", "*", "/"]
COMPARE = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]


def path(dotted: str) -> Path:
    """The AST node of the field path ``dotted`` (``lead.property.zip``)."""
    return Path(tuple(dotted.split(".")))


def locate(line: int, column: int) -> SourceLocation:
    return SourceLocation("rules.yaml", line, column)


def compile_(
    text: str,
    context: str = "condition",
    expected: Type | None = BOOLEAN,
    calendars: Collection[str] = ("office-hours", "evenings"),
) -> CompiledExpression:
    return compile_expression(text, context, expected=expected, locate=locate, calendars=calendars)


def errors(
    text: str,
    context: str = "condition",
    expected: Type | None = BOOLEAN,
    calendars: Collection[str] = ("office-hours", "evenings"),
) -> list[Diagnostic]:
    with pytest.raises(RulekitErrors) as info:
        compile_(text, context, expected, calendars)
    return info.value.diagnostics


def make_lead(**overrides: Any) -> Lead:
    data: dict[str, Any] = {
        "id": "lead-1",
        "received_at": datetime(2026, 11, 24, 14, 5, tzinfo=timezone(timedelta(hours=-5))),
        "source": "remax.com",
        "inquiry_type": "Schedule Showing",
        "property": {
            "brand": "RE/MAX",
            "status": "active",
            "price": 325000,
            "zip": "28202",
            "city": "Charlotte",
            "mls": "CMLS",
        },
        "attributes": {"campaign": "fall-open-house", "score": 7},
    }
    data.update(overrides)
    return Lead.model_validate(data)


class FakeCalendar:
    """Open 09:00-17:00 local, Monday to Friday, UTC-5; 2026-12-25 is a holiday."""

    offset = timezone(timedelta(hours=-5))

    def local(self, t: datetime) -> datetime:
        return t.astimezone(self.offset)

    def is_holiday(self, d: date) -> bool:
        return d == date(2026, 12, 25)

    def is_open(self, t: datetime) -> bool:
        local = self.local(t)
        return local.weekday() < 5 and not self.is_holiday(local.date()) and 9 <= local.hour < 17


class FakeRuntime:
    def __init__(self, owners: dict[str, str] | None = None) -> None:
        self.owners = owners or {}
        self.asked: list[str] = []

    def calendar(self, name: str) -> FakeCalendar:
        self.asked.append(name)
        return FakeCalendar()

    def contact_owner(self, scope: str) -> str | None:
        return self.owners.get(scope)
