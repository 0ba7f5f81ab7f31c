"""Intake is the same on every store: the lead model refuses what PostgreSQL cannot keep before
any store sees it, and ordinary unicode round-trips everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from pydantic import ValidationError
from storage_helpers import T0, compile_rules

from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead

UNICODE = {
    "contact": {"name": "Zoë Ñúñez-Łukasiewicz 😀", "email": "zoë@exämple.com",
                "phone": "+1 704 555 0142"},
    "property": {"city": "Montréal", "state": "QC", "brand": "RE/MAX ✓"},
    "inquiry_type": "שלום — مرحبا — こんにちは",
    "attributes": {"note": "e\u0301 combining, \u200f RTL mark, \U0001f3e0 house",
                   "κλειδί": ["ελληνικά", {"深い": "値"}], "tab": "a\tb\nc"},
}


def engine_on(backend: Backend, rules_dir: Path) -> Engine:
    ruleset, world = compile_rules(rules_dir)
    return Engine(ruleset, world, backend.open(), clock=ManualClock(T0))


def payload(lead_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": lead_id, "received_at": T0.isoformat(), "source": "web.example", **extra}


@pytest.mark.parametrize(("extra", "where"), [
    ({"contact": {"name": "Pat\x00Buyer"}}, ("contact", "name")),
    ({"source": "web.example\x00"}, ("source",)),
    ({"property": {"city": "\x00"}}, ("property", "city")),
    ({"attributes": {"campaign": "fall\x00"}}, ("attributes", "campaign")),
    ({"attributes": {"na\x00me": "x"}}, ("attributes", "na\x00me")),
    ({"attributes": {"deep": [{"er": ["ok", "no\x00"]}]}}, ("attributes", "deep", 0, "er", 1)),
    ({"attributes": {"emoji": "half a pair \ud83d"}}, ("attributes", "emoji")),
])
def test_unstorable_text_is_refused_before_any_store(
        backend: Backend, rules_dir: Path, extra: dict[str, Any],
        where: tuple[str | int, ...]) -> None:
    engine = engine_on(backend, rules_dir)
    with pytest.raises(ValidationError) as info:
        engine.submit(Lead.model_validate(payload("BAD", **extra)))
    errors = info.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [(where, "unstorable_character")]
    assert "databases cannot store" in errors[0]["msg"]
    assert engine.store.get_lead("BAD") is None
    assert list(engine.store.lead_ids()) == []


def test_the_json_payload_is_refused_the_same_way(backend: Backend, rules_dir: Path) -> None:
    engine = engine_on(backend, rules_dir)
    raw = ('{"id": "BAD", "received_at": "2026-01-05T15:00:00+00:00", "source": "web.example",'
           ' "contact": {"name": "Pat\\u0000"}}')
    with pytest.raises(ValidationError) as info:
        Lead.model_validate_json(raw)
    assert info.value.errors()[0]["loc"] == ("contact", "name")
    assert engine.store.get_lead("BAD") is None


def test_a_lone_surrogate_in_a_typed_field_is_refused_too() -> None:
    with pytest.raises(ValidationError) as info:
        Lead.model_validate(payload("BAD", contact={"name": "half a pair \ud83d"}))
    assert [e["loc"] for e in info.value.errors()] == [("contact", "name")]


def test_ordinary_unicode_round_trips(backend: Backend, rules_dir: Path) -> None:
    lead = Lead.model_validate(payload("U1", **UNICODE))
    engine = engine_on(backend, rules_dir)
    engine.submit(lead, T0)
    reopened = backend.open()
    stored = reopened.get_lead("U1")
    assert stored == lead
    assert stored is not None and stored.contact.name == "Zoë Ñúñez-Łukasiewicz 😀"
    assert stored.attributes["κλειδί"] == ["ελληνικά", {"深い": "値"}]
