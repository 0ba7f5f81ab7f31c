"""The shipped JSON Schemas: generated ones are current, every property is documented."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from rulekit.config.generated import GENERATED, dumps
from rulekit.config.schema import available_schemas, load_schema

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_schema_is_current(name: str) -> None:
    checked_in = (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
    assert checked_in == dumps(GENERATED[name]()), (
        f"schemas/{name}.schema.json is stale: run 'rulekit schema --write schemas'")


@pytest.mark.parametrize("name", available_schemas())
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(load_schema(name))


def _properties(node: Any, trail: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for key, prop in node.get("properties", {}).items():
            yield f"{trail}.{key}", prop
        for key, value in node.items():
            yield from _properties(value, f"{trail}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _properties(value, f"{trail}[{i}]")


@pytest.mark.parametrize("name", available_schemas())
def test_every_property_has_description_and_example(name: str) -> None:
    missing = [
        path for path, prop in _properties(load_schema(name), name)
        if "description" not in prop or "examples" not in prop
    ]
    assert not missing, missing


@pytest.mark.parametrize("name", available_schemas())
def test_every_schema_example_is_json(name: str) -> None:
    json.dumps(load_schema(name))
