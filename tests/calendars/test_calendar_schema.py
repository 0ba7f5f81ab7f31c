"""schemas/calendar.schema.json: valid draft 2020-12, documented, in step with the Python checks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from rulekit.calendars import build_calendar

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "calendar.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)

FULL: dict[str, Any] = {
    "timezone": "America/New_York",
    "hours": {"mon-fri": "09:00-17:00", "sat": ["10:00-12:00", "13:00-15:00"], "sun": "closed"},
    "holidays": {"country": "US", "subdivision": "NC", "dates": ["2026-12-24"]},
    "exceptions": [{"date": "2026-12-05", "hours": "10:00-14:00"},
                   {"date": "2026-12-31", "hours": "closed"}],
    "windows": [{"cron": "0 8 * * mon-fri", "duration": "2h"}],
}


def properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for key, sub in node.items():
            yield from properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from properties(sub, f"{where}[{i}]")


def test_schema_is_valid_2020_12_without_id() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in SCHEMA


def test_every_property_has_description_and_examples() -> None:
    found = list(properties(SCHEMA))
    assert len(found) >= 10
    for where, prop in found:
        assert prop.get("description"), where
        assert prop.get("examples"), where


def test_examples_validate() -> None:
    for where, prop in properties(SCHEMA):
        if "$ref" in prop:
            continue
        sub = Draft202012Validator({**prop, "$defs": SCHEMA["$defs"]})
        for example in prop["examples"]:
            assert not list(sub.iter_errors(example)), (where, example)
    for example in SCHEMA["examples"]:
        VALIDATOR.validate(example)


def test_full_definition_is_valid_in_schema_and_python() -> None:
    VALIDATOR.validate(FULL)
    build_calendar("office", FULL)


@pytest.mark.parametrize("bad", [
    {},  # no timezone
    {"timezone": "UTC", "colour": "blue"},
    {"timezone": "UTC", "hours": {"mon": "9:00-17:00"}},
    {"timezone": "UTC", "hours": {"mon": "09:00-24:30"}},
    {"timezone": "UTC", "hours": {"monday": "09:00-17:00"}},
    {"timezone": "UTC", "hours": {"mon": "open"}},
    {"timezone": "UTC", "holidays": {"dates": ["24.12.2026"]}},
    {"timezone": "UTC", "exceptions": [{"date": "2026-12-05"}]},
    {"timezone": "UTC", "windows": [{"cron": "0 8 * * *", "duration": "2 hours"}]},
])
def test_structural_errors_are_caught_by_the_schema(bad: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors(bad))


@pytest.mark.parametrize("key", ["mon", "mon-fri", "sat,sun", "daily", "weekdays", "weekends",
                                 "fri-mon", "mon-wed,fri"])
def test_day_keys_agree(key: str) -> None:
    spec = {"timezone": "UTC", "hours": {key: "09:00-17:00"}}
    VALIDATOR.validate(spec)
    build_calendar("x", spec)


def test_docs_yaml_example_is_valid() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "calendars.md").read_text("utf-8")
    block = re.search(r"^```yaml\n(.*?)^```", page, re.DOTALL | re.MULTILINE)
    assert block
    for name, spec in yaml.safe_load(block.group(1))["calendars"].items():
        VALIDATOR.validate(spec)
        build_calendar(name, spec)


def test_calendars_in_shipped_rule_files_build() -> None:
    root = Path(__file__).resolve().parents[2] / "rules"
    seen = 0
    for path in sorted(root.rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("calendars"), dict):
            continue
        for name, spec in doc["calendars"].items():
            assert not list(VALIDATOR.iter_errors(spec)), (path, name)
            build_calendar(name, spec)
            seen += 1
    if root.is_dir() and seen == 0:
        pytest.skip("no calendars in the shipped rule files yet")
