"""JSON Schema validation of loaded documents, reported as positioned diagnostics.

The schemas ship inside the package (``rulekit/schemas`` is the repository's ``schemas/``) and
reference each other by file name (``calendar.schema.json``), so editors resolve them from disk
and this module resolves them from a registry of the shipped files.

Each schema problem becomes one diagnostic at the offending key or value, with a message in
plain words (``unknown property 'ofer'``) and a hint where one helps (``did you mean 'offer'?``).
For alternatives (``oneOf``) the most relevant branch's problem is reported, chosen by
:func:`jsonschema.exceptions.best_match`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from rulekit.config.load import Document
from rulekit.errors import Diagnostic
from rulekit.suggest import did_you_mean

SCHEMA_NAMES = ("rulefile", "world", "lead", "calendar", "scenario")
BASE_URI = "https://rulekit.invalid/schemas/"


def schema_text(name: str) -> str:
    """The text of a shipped schema (``rulefile``, ``world``, ``lead``, ``calendar``...)."""
    return resources.files("rulekit").joinpath("schemas", f"{name}.schema.json").read_text(
        encoding="utf-8"
    )


def available_schemas() -> list[str]:
    folder = resources.files("rulekit").joinpath("schemas")
    return sorted(
        entry.name.removesuffix(".schema.json")
        for entry in folder.iterdir()
        if entry.name.endswith(".schema.json")
    )


@cache
def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_text(name))
    return data


@cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry()
    for name in available_schemas():
        resource = Resource.from_contents(load_schema(name), default_specification=DRAFT202012)
        registry = registry.with_resource(f"{BASE_URI}{name}.schema.json", resource)
    return registry


@cache
def validator(name: str) -> Draft202012Validator:
    schema = dict(load_schema(name))
    schema["$id"] = f"{BASE_URI}{name}.schema.json"
    return Draft202012Validator(schema, registry=_registry())


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _expected_types(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_WORDS.get(str(n), str(n)) for n in names)


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


#: Among the alternatives of a oneOf/anyOf, how telling each kind of failure is (lower wins):
#: a branch of the wrong type says least, an exact-value branch (``closed``) less than a
#: branch whose format the value nearly has.
_BRANCH_RANK = {"type": 3, "const": 2, "enum": 2}


def _best_branch(errors: list[ValidationError]) -> ValidationError | None:
    same_type = [e for e in errors if e.validator != "type" or e.path]
    if not same_type:
        chosen: ValidationError | None = best_match(errors)
        return chosen
    ranked = sorted(same_type, key=lambda e: (_BRANCH_RANK.get(str(e.validator), 0),
                                              -len(e.path)))
    best_rank = _BRANCH_RANK.get(str(ranked[0].validator), 0)
    top: ValidationError | None = best_match(
        [e for e in ranked if _BRANCH_RANK.get(str(e.validator), 0) == best_rank])
    return top


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """For oneOf/anyOf, descend into the most telling branch; otherwise the error itself.

    A step written in short form (a string) and long form (a mapping), or calendar hours given
    as ``closed``, an interval or a list of intervals, fail in every branch; the branch whose
    type fits the value and whose problem is nearest to the value's intent is reported.
    """
    while error.validator in ("oneOf", "anyOf") and error.context:
        chosen = _best_branch(list(error.context))
        if chosen is None or chosen is error:
            break
        error = chosen
    yield error


def _diagnostic(doc: Document, error: ValidationError) -> Diagnostic:
    path = tuple(error.absolute_path)
    field = _dotted(path)
    validator_name = error.validator
    value = error.instance
    rule: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator_name == "required":
        missing = [p for p in rule if isinstance(value, dict) and p not in value]
        name = missing[0] if missing else str(rule)
        where = f" in '{field}'" if path else ""
        return Diagnostic("RK101", f"missing required property '{name}'{where}",
                          doc.location(path, key=True), field_path=field)
    if validator_name in ("additionalProperties", "unevaluatedProperties"):
        allowed = list(schema.get("properties", {}))
        extras = [k for k in value if k not in allowed] if isinstance(value, dict) else []
        key = extras[0] if extras else "?"
        hint = _flow_tail_hint(doc, path, value, key) if extras and isinstance(value, dict) \
            else None
        if hint is None and allowed:
            hint = did_you_mean(key, allowed) or "allowed here: " + ", ".join(allowed)
        return Diagnostic("RK102", f"unknown property '{key}'",
                          doc.location((*path, key), key=True), hint=hint,
                          field_path=_dotted((*path, key)))
    if validator_name in ("maxProperties", "minProperties") and "properties" in schema:
        keys = list(value) if isinstance(value, dict) else []
        if validator_name == "maxProperties":
            message = "a step has exactly one step key; found " + ", ".join(
                f"'{k}'" for k in keys)
            hint = "split it into separate steps, or move options inside the step's mapping"
        else:
            message = "empty step"
            hint = "use one of: " + ", ".join(schema["properties"])
        return Diagnostic("RK105", message, doc.location(path), hint=hint, field_path=field)
    if validator_name == "type":
        return Diagnostic("RK103",
                          f"'{field}' should be {_expected_types(rule)}, "
                          f"found {_kind(value)}",
                          doc.location(path), field_path=field)
    if validator_name in ("enum", "const"):
        options = rule if validator_name == "enum" else [rule]
        shown = ", ".join(json.dumps(o, ensure_ascii=False) for o in options)
        hint = did_you_mean(str(value), [str(o) for o in options]) if isinstance(value, str) \
            else None
        return Diagnostic("RK104", f"'{field}' is {json.dumps(value, ensure_ascii=False)}; "
                                   f"allowed: {shown}",
                          doc.location(path), hint=hint, field_path=field)
    if validator_name == "pattern":
        desc = schema.get("description")
        hint = None
        examples = schema.get("examples")
        if examples:
            hint = f"for example {json.dumps(examples[0], ensure_ascii=False)}"
        message = f"'{field}' has an invalid value {json.dumps(value, ensure_ascii=False)}"
        if desc:
            message += f" ({_first_sentence(desc)})"
        return Diagnostic("RK105", message, doc.location(path), hint=hint, field_path=field)
    if validator_name == "propertyNames":
        return Diagnostic("RK105", f"invalid name in '{field}': {error.message}",
                          doc.location(path), field_path=field)
    return Diagnostic("RK105", f"'{field}': {_plain(error)}", doc.location(path),
                      field_path=field)


def _bracket_depths(text: str) -> Iterator[tuple[int, int]]:
    """``(offset, depth)`` after each character of ``text``: how many ``(`` and ``[`` are open
    (brackets inside string literals do not count)."""
    depth = 0
    quote: str | None = None
    for offset, ch in enumerate(text):
        if quote is not None:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        yield offset, depth


def _open_brackets(text: str) -> int:
    """How many ``(`` and ``[`` of ``text`` are left open (outside string literals)."""
    depths = [depth for _, depth in _bracket_depths(text)]
    return depths[-1] if depths else 0


def _flow_tail_hint(doc: Document, path: tuple[str | int, ...], mapping: dict[str, Any],
                    key: str) -> str | None:
    """For a key that is the tail of an expression cut at a comma of a ``{…}`` mapping.

    ``{to: coalesce(lead.a, listing.mls), for: 2h}`` reads as ``to: "coalesce(lead.a"`` and a
    key ``listing.mls)`` without a value: the value before the key (past other keys without a
    value) leaves a bracket open.  The hint quotes the whole expression, as written."""
    keys = list(mapping)
    index = keys.index(key)
    if mapping[key] is not None:
        return None
    head = index - 1
    while head >= 0 and mapping[keys[head]] is None:
        head -= 1
    if head < 0 or not isinstance(mapping[keys[head]], str) \
            or _open_brackets(mapping[keys[head]]) <= 0:
        return None
    name = keys[head]
    start = doc.location((*path, name))
    line = doc.line_text(start.line)
    written = line[start.column - 1:]
    text = None
    opened = False
    for offset, depth in _bracket_depths(written):  # the expression as written
        if depth > 0:
            opened = True
        elif opened and depth == 0:
            text = written[:offset + 1]
            break
    if text is None:  # over several lines: joined again from the keys
        text = ", ".join([mapping[name], *keys[head + 1:index + 1]])
    if '"' not in text:
        quoted = f'"{text}"'
    elif "'" not in text:
        quoted = f"'{text}'"
    else:
        quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"a comma ends a value inside {{…}}: quote the expression: {name}: {quoted}"


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    sentence = text if end < 0 else text[:end]
    sentence = sentence.rstrip(".")
    return sentence[:1].lower() + sentence[1:]


def _plain(error: ValidationError) -> str:
    name = error.validator
    v = error.validator_value
    messages = {
        "minItems": f"needs at least {v} item{'s' if v != 1 else ''}",
        "maxItems": f"has more than {v} items",
        "minLength": "must not be empty" if v == 1 else f"needs at least {v} characters",
        "maxLength": f"is longer than {v} characters",
        "minimum": f"must be at least {v}",
        "maximum": f"must be at most {v}",
        "uniqueItems": "has duplicate items",
    }
    return messages.get(str(name), str(error.message))


def validate_document(doc: Document, schema_name: str) -> list[Diagnostic]:
    """All schema problems of ``doc`` as diagnostics, in document order."""
    found: list[Diagnostic] = []
    for error in validator(schema_name).iter_errors(doc.data):
        for leaf in _leaf_errors(error):
            found.append(_diagnostic(doc, leaf))
    unique = {(d.code, d.message, d.location): d for d in found}
    return sorted(unique.values(), key=Diagnostic.sort_key)

