"""Evaluation contexts: the roots each kind of expression may read, derived from the models.

The declared fields are computed from the pydantic models of :mod:`rulekit.model` by
introspection, so a field added to a model is usable in expressions at once:

========================================  ==================
model annotation                          DSL type
========================================  ==================
``str``, ``StrEnum``, ``Literal[...]``    ``string``
``int``, ``float``                        ``number``
``bool``                                  ``boolean``
``datetime``, ``AwareDatetime``           ``time``
``list[X]``                               ``list<X>``
``dict[str, X]``                          ``map<X>`` (``Any`` → ``any``)
a nested model                            a record
``X | None``                              nullable ``X``
========================================  ==================

Contexts (:data:`CONTEXTS`):

* ``condition`` — a rule's ``when:``: ``lead``, ``contact`` (nullable: the existing contact
  record), ``listing`` (nullable: the listing named by ``lead.property.listing_id``), ``now``.
* ``agent`` — a pool filter or weight over agents: the above plus ``agent``, with the computed
  fields ``agent.load`` (number of open leads) and ``agent.office`` (first office id, nullable).
* ``office`` — a pool filter or weight over offices: the above plus ``office``, whose
  ``agent_count`` is a non-null number computed by the engine.
* ``calendar`` — a ``calendar: {expression: …}`` step or pool option: the roots of
  ``condition`` plus ``office``, the lead's office (nullable: a lead with no office).

Run-time convention
-------------------
A compiled expression is a Python function of these parameters, always in this order
(:data:`PARAMETERS`)::

    (lead, contact=None, listing=None, now=None, runtime=None,
     agent=None, agent_load=None, office=None, office_agent_count=None)

``lead``/``contact``/``listing``/``agent``/``office`` are the model instances (or ``None`` for
a nullable root that is absent), ``now`` an aware :class:`~datetime.datetime`, ``runtime`` an
object following :class:`rulekit.dsl.functions.Runtime` (calendars and contact owners).  The
engine supplies the computed values as plain parameters: ``agent_load`` (an int) for
``agent.load`` and ``office_agent_count`` (an int) for ``office.agent_count``; ``agent.office``
is computed from ``agent.offices``.  :class:`Env` bundles the same values for callers that prefer
one object.
"""

from __future__ import annotations

import enum
import types as pytypes
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, NaiveDatetime

from rulekit.model import Agent, Contact, Lead, Listing, Office
from rulekit.suggest import did_you_mean

from .types import (
    ANY,
    BOOLEAN,
    NUMBER,
    STRING,
    TIME,
    Kind,
    Type,
    list_of,
    map_of,
    nullable,
    record,
)

#: Parameter names of every compiled expression function, in order.
PARAMETERS: tuple[str, ...] = (
    "lead",
    "contact",
    "listing",
    "now",
    "runtime",
    "agent",
    "agent_load",
    "office",
    "office_agent_count",
)


@dataclass(frozen=True, slots=True)
class Env:
    """The values an expression is evaluated against (see the module docstring)."""

    lead: Lead
    contact: Contact | None = None
    listing: Listing | None = None
    now: datetime | None = None
    runtime: Any = None
    agent: Agent | None = None
    agent_load: int | None = None
    office: Office | None = None
    office_agent_count: int | None = None

    def arguments(self) -> tuple[Any, ...]:
        """The positional arguments of a compiled expression function."""
        return (
            self.lead,
            self.contact,
            self.listing,
            self.now,
            self.runtime,
            self.agent,
            self.agent_load,
            self.office,
            self.office_agent_count,
        )


def type_of_annotation(annotation: Any) -> Type:
    """The DSL type of a model field annotation (see the table in the module docstring)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return type_of_annotation(get_args(annotation)[0])
    if origin in (Union, pytypes.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        has_none = len(members) < len(get_args(annotation))
        if len(members) != 1:
            return ANY
        inner = type_of_annotation(members[0])
        return nullable(inner) if has_none else inner
    if origin is Literal:
        values = get_args(annotation)
        return STRING if all(isinstance(v, str) for v in values) else ANY
    if origin is list:
        (element,) = get_args(annotation) or (Any,)
        return list_of(type_of_annotation(element))
    if origin is dict:
        args = get_args(annotation)
        return map_of(type_of_annotation(args[1]) if args else ANY)
    if annotation is Any:
        return ANY
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return BOOLEAN
        if issubclass(annotation, (int, float)):
            return NUMBER
        if issubclass(annotation, str):  # includes StrEnum
            return STRING
        if issubclass(annotation, enum.Enum):
            return ANY
        if issubclass(annotation, (datetime, AwareDatetime, NaiveDatetime)):
            return TIME
        if issubclass(annotation, BaseModel):
            return model_type(annotation)
    return ANY


def model_type(model: type[BaseModel], extra: dict[str, Type] | None = None) -> Type:
    """The record type of a pydantic model, plus ``extra`` computed fields."""
    fields = {
        name: type_of_annotation(info.annotation) for name, info in model.model_fields.items()
    }
    fields.update(extra or {})
    return record(model.__name__, fields)


#: Computed fields: (root, field) → Python code over the parameters, and the field's type.
COMPUTED: dict[tuple[str, str], tuple[str, Type]] = {
    ("agent", "load"): ("agent_load", NUMBER),
    ("agent", "office"): ("(agent.offices[0] if agent.offices else None)", nullable(STRING)),
    ("office", "agent_count"): ("office_agent_count", NUMBER),
}


def _root_type(model: type[BaseModel], root: str) -> Type:
    extra = {f: t for (r, f), (_, t) in COMPUTED.items() if r == root}
    return model_type(model, extra)


class UnknownField(LookupError):
    """A path names a field that does not exist; ``index`` is the failing segment."""

    def __init__(self, index: int, name: str, candidates: Sequence[str], message: str) -> None:
        super().__init__(message)
        self.index = index
        self.name = name
        self.candidates = list(candidates)
        self.message = message

    @property
    def hint(self) -> str | None:
        return did_you_mean(self.name, self.candidates)


@dataclass(frozen=True)
class Context:
    """The roots one kind of expression may read."""

    name: str
    roots: dict[str, Type]
    description: str

    def lookup(self, path: str | Sequence[str]) -> Type:
        """The type of a dotted field path; raises :class:`UnknownField`."""
        segments = path.split(".") if isinstance(path, str) else list(path)
        root = segments[0]
        if root not in self.roots:
            where = [c.name for c in CONTEXTS.values() if root in c.roots]
            message = f"unknown name '{root}'"
            if where:
                message = f"'{root}' is not available in {self.name} expressions"
            raise UnknownField(0, root, list(self.roots), message)
        return walk(self.roots[root], segments, 1, ".".join(segments[:1]))


def walk(current: Type, segments: Sequence[str], start: int, prefix: str) -> Type:
    """Follow ``segments[start:]`` from a value of type ``current``."""
    for index in range(start, len(segments)):
        name = segments[index]
        if current.kind is Kind.RECORD:
            found = current.field(name)
            if found is None:
                raise UnknownField(
                    index, name, current.field_names, f"unknown field '{name}' of {prefix}"
                )
            current = nullable(found) if current.nullable else found
        elif current.kind is Kind.MAP:
            assert current.element is not None
            current = nullable(current.element)
        elif current.kind is Kind.ANY:
            current = ANY
        else:
            raise UnknownField(
                index, name, [], f"{prefix} is a {current}, it has no field '{name}'"
            )
        prefix = f"{prefix}.{name}"
    return current


def _make_contexts() -> dict[str, Context]:
    condition = {
        "lead": model_type(Lead),
        "contact": nullable(model_type(Contact)),
        "listing": nullable(model_type(Listing)),
        "now": TIME,
    }
    return {
        "condition": Context("condition", condition, "a rule's when: condition"),
        "agent": Context(
            "agent",
            {**condition, "agent": _root_type(Agent, "agent")},
            "a pool filter or weight over agents",
        ),
        "office": Context(
            "office",
            {**condition, "office": _root_type(Office, "office")},
            "a pool filter or weight over offices",
        ),
        "calendar": Context(
            "calendar",
            {**condition, "office": nullable(_root_type(Office, "office"))},
            "a calendar chosen per lead (office: the lead's office, null when it has none)",
        ),
    }


#: The evaluation contexts by name.
CONTEXTS: dict[str, Context] = _make_contexts()


def field_table(context: str) -> list[tuple[str, str]]:
    """Every (path, type) readable in a context, records expanded (for documentation)."""
    rows: list[tuple[str, str]] = []

    def visit(path: str, t: Type) -> None:
        if t.kind is Kind.RECORD:
            for name, sub in t.fields:
                visit(f"{path}.{name}", nullable(sub) if t.nullable else sub)
        else:
            rows.append((path, str(t)))

    for root, t in CONTEXTS[context].roots.items():
        visit(root, t)
    return rows
