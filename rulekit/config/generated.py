"""JSON Schemas generated from the pydantic models: the lead payload and the world file.

The checked-in copies in ``schemas/`` are compared against these by the test suite, so a model
change that is not regenerated fails the build.  Regenerate with ``rulekit schema --write``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from rulekit.model import Agent, Contact, Lead, Listing, Office, Staff, Team

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    schema.pop("title", None)
    return schema


def lead_schema() -> dict[str, Any]:
    """The JSON Schema of a lead payload."""
    schema = _model_schema(Lead)
    return {"$schema": DRAFT, "title": "rulekit lead", **schema}


def world_schema() -> dict[str, Any]:
    """The JSON Schema of a world file: offices, teams, agents, listings, contacts, staff,
    calendars."""
    defs: dict[str, Any] = {}
    items: dict[str, dict[str, Any]] = {}
    for key, model in (
        ("offices", Office),
        ("teams", Team),
        ("agents", Agent),
        ("listings", Listing),
        ("contacts", Contact),
        ("staff", Staff),
    ):
        schema = _model_schema(model)
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
        items[key] = {
            "type": "array",
            "items": {"$ref": f"#/$defs/{model.__name__}"},
            "description": f"The world's {key}.",
            "examples": [[_first_example(model)]],
        }
    return {
        "$schema": DRAFT,
        "title": "rulekit world",
        "description": "The people and things routing decides over: offices, teams, agents, "
        "listings, known contacts, the agents' own calendars, and the staff notifications "
        "can name.",
        "type": "object",
        "additionalProperties": False,
        "required": ["rulekit", "world"],
        "properties": {
            "rulekit": {"const": 1, "description": "World-file format version.", "examples": [1]},
            "world": {
                "type": "string",
                "minLength": 1,
                "description": "Name of this world.",
                "examples": ["charlotte"],
            },
            "description": {
                "type": "string",
                "description": "What this world holds.",
                "examples": ["RE/MAX Executive, Charlotte area"],
            },
            "timezone": {
                "type": "string",
                "minLength": 1,
                "description": "The brokerage's time zone (an IANA name, or UTC), in which "
                "commands show times to people; default: the zone of the world's first "
                "calendar, else of the rule set's first calendar, else UTC.",
                "examples": ["America/New_York"],
            },
            "calendars": {
                "type": "object",
                "description": "Calendars by name, for agents' and offices' own hours.",
                "examples": [{"evenings": {"timezone": "America/New_York",
                                           "hours": {"daily": "17:00-22:00"}}}],
                "additionalProperties": {"$ref": "calendar.schema.json"},
            },
            **items,
        },
        "$defs": defs,
    }


def _first_example(model: type[BaseModel]) -> dict[str, Any]:
    example: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required() and info.examples:
            example[name] = info.examples[0]
    return example


def dumps(schema: dict[str, Any]) -> str:
    """The canonical text of a schema file."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


GENERATED = {"lead": lead_schema, "world": world_schema}
