"""The DSL's static types.

A :class:`Type` is a kind (string, number, boolean, time, duration, null, list, map, record or
any) plus a ``nullable`` flag.  Lists and maps carry an element type; records carry named fields.
``any`` is the type of values whose shape is not declared (free-form attributes): it is accepted
wherever a value is expected and checked at run time instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class Kind(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TIME = "time"
    DURATION = "duration"
    NULL = "null"
    LIST = "list"
    MAP = "map"
    RECORD = "record"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Type:
    """A static type.  Build them with the constants and helpers of this module."""

    kind: Kind
    nullable: bool = False
    element: Type | None = None
    name: str = ""
    fields: tuple[tuple[str, Type], ...] = ()

    def __str__(self) -> str:
        if self.kind in (Kind.LIST, Kind.MAP):
            base = f"{self.kind.value}<{self.element}>"
        elif self.kind is Kind.RECORD:
            base = self.name or "record"
        else:
            base = self.kind.value
        if self.nullable and self.kind not in (Kind.NULL, Kind.ANY):
            return f"{base}?"
        return base

    def field(self, name: str) -> Type | None:
        """The type of a record field, or ``None``."""
        for key, value in self.fields:
            if key == name:
                return value
        return None

    @property
    def field_names(self) -> list[str]:
        return [key for key, _ in self.fields]

    def as_nullable(self) -> Type:
        return self if self.nullable else replace(self, nullable=True)

    def non_null(self) -> Type:
        return replace(self, nullable=False) if self.nullable else self

    @property
    def may_be_null(self) -> bool:
        """Whether a value of this type can be ``None`` at run time."""
        return self.nullable or self.kind in (Kind.NULL, Kind.ANY)


STRING = Type(Kind.STRING)
NUMBER = Type(Kind.NUMBER)
BOOLEAN = Type(Kind.BOOLEAN)
TIME = Type(Kind.TIME)
DURATION = Type(Kind.DURATION)
NULL = Type(Kind.NULL, nullable=True)
ANY = Type(Kind.ANY, nullable=True)


def list_of(element: Type) -> Type:
    return Type(Kind.LIST, element=element)


def map_of(element: Type) -> Type:
    return Type(Kind.MAP, element=element)


def record(name: str, fields: dict[str, Type]) -> Type:
    return Type(Kind.RECORD, name=name, fields=tuple(fields.items()))


def nullable(t: Type) -> Type:
    return t.as_nullable()


def compatible(a: Type, b: Type) -> bool:
    """Whether values of ``a`` and ``b`` may be compared for equality (null aside)."""
    if a.kind in (Kind.ANY, Kind.NULL) or b.kind in (Kind.ANY, Kind.NULL):
        return True
    if a.kind is not b.kind:
        return False
    if a.kind in (Kind.LIST, Kind.MAP):
        assert a.element is not None and b.element is not None
        return compatible(a.element, b.element)
    if a.kind is Kind.RECORD:
        return a.name == b.name
    return True


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two values (list elements, coalesce arguments), or ``None``."""
    if a.kind is Kind.NULL:
        return b.as_nullable()
    if b.kind is Kind.NULL:
        return a.as_nullable()
    if a.kind is Kind.ANY or b.kind is Kind.ANY:
        return ANY
    if not compatible(a, b):
        return None
    if a.kind in (Kind.LIST, Kind.MAP):
        assert a.element is not None and b.element is not None
        element = unify(a.element, b.element)
        if element is None:
            return None
        base = Type(a.kind, element=element)
    else:
        base = a.non_null()
    return base.as_nullable() if (a.nullable or b.nullable) else base
