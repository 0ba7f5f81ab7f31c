"""The rulekit expression DSL: parse, type-check and compile routing expressions.

Entry points: :func:`compile_expression` (text → :class:`CompiledExpression`) and
:func:`parse_duration` (step options such as ``for: 2 business_hours``).  See ``docs/dsl.md``.
"""

from __future__ import annotations

from .compile import CompiledExpression, compile_expression
from .duration import Duration, parse_duration
from .fields import CONTEXTS, PARAMETERS, Context, Env
from .functions import FUNCTIONS, CalendarLike, Runtime
from .parse import (
    MAX_DEPTH,
    MAX_EXPRESSION_LENGTH,
    MAX_LIST_ITEMS,
    MAX_NUMBER_DIGITS,
    MAX_STRING_LENGTH,
    parse,
)
from .types import (
    ANY,
    BOOLEAN,
    DURATION,
    NULL,
    NUMBER,
    STRING,
    TIME,
    Kind,
    Type,
    list_of,
    map_of,
    nullable,
)

__all__ = [
    "ANY",
    "BOOLEAN",
    "CONTEXTS",
    "DURATION",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_LIST_ITEMS",
    "MAX_NUMBER_DIGITS",
    "MAX_STRING_LENGTH",
    "NULL",
    "NUMBER",
    "PARAMETERS",
    "STRING",
    "TIME",
    "CalendarLike",
    "CompiledExpression",
    "Context",
    "Duration",
    "Env",
    "Kind",
    "Runtime",
    "Type",
    "compile_expression",
    "list_of",
    "map_of",
    "nullable",
    "parse",
    "parse_duration",
]
