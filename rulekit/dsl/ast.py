"""The expression syntax tree, and :func:`unparse` which prints it back as DSL text.

Every node carries a :class:`Span` (1-based line/column inside the expression text).  Spans do
not take part in equality, so two trees parsed from differently spaced text compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .duration import Duration


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


NOWHERE = Span(1, 1, 1, 1)

LiteralValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Literal:
    """A string, number, boolean or null literal."""

    value: LiteralValue
    span: Span = field(default=NOWHERE, compare=False)

    def __eq__(self, other: object) -> bool:  # True == 1 in Python; literals must not
        return (
            isinstance(other, Literal)
            and type(self.value) is type(other.value)
            and self.value == other.value
        )

    def __hash__(self) -> int:
        return hash((type(self.value), self.value))


@dataclass(frozen=True, slots=True)
class DurationLiteral:
    value: Duration
    span: Span = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class ListLiteral:
    items: tuple[Node, ...]
    span: Span = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Path:
    """A dotted name: a root (or a quantifier variable) followed by field names."""

    segments: tuple[str, ...]
    span: Span = field(default=NOWHERE, compare=False)
    segment_spans: tuple[Span, ...] = field(default=(), compare=False)

    @property
    def dotted(self) -> str:
        return ".".join(self.segments)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" or "-"
    operand: Node
    span: Span = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic (``+ - * /``) or a comparison (``== != < <= > >= in``, ``not in``)."""

    op: str
    left: Node
    right: Node
    span: Span = field(default=NOWHERE, compare=False)
    op_span: Span = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Logical:
    """``a and b and c`` or ``a or b``: one node per chain of the same operator."""

    op: str  # "and" or "or"
    operands: tuple[Node, ...]
    span: Span = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    span: Span = field(default=NOWHERE, compare=False)
    name_span: Span = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Quantifier:
    """``any(x in list: condition)`` or ``all(...)``."""

    kind: str  # "any" or "all"
    var: str
    iterable: Node
    body: Node
    span: Span = field(default=NOWHERE, compare=False)
    var_span: Span = field(default=NOWHERE, compare=False)


Node = Literal | DurationLiteral | ListLiteral | Path | Unary | Binary | Logical | Call | Quantifier

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})

# Binding strength, loosest first.
_OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _NEG, _ATOM = range(8)


def _precedence(node: Node) -> int:
    if isinstance(node, Logical):
        return _OR if node.op == "or" else _AND
    if isinstance(node, Unary):
        return _NOT if node.op == "not" else _NEG
    if isinstance(node, Binary):
        if node.op in COMPARISONS:
            return _CMP
        return _SUM if node.op in "+-" else _PRODUCT
    if isinstance(node, Literal) and isinstance(node.value, int | float) and node.value < 0:
        return _NEG
    return _ATOM


def quote(text: str) -> str:
    """A DSL string literal for ``text`` (double quotes, escapes)."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." not in text:
        text += ".0"
    return text


def unparse(node: Node) -> str:
    """DSL text for ``node``, with only the parentheses the precedence needs."""

    def wrap(child: Node, minimum: int) -> str:
        text = unparse(child)
        return f"({text})" if _precedence(child) < minimum else text

    if isinstance(node, Literal):
        v = node.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return quote(v)
        return format_number(v)
    if isinstance(node, DurationLiteral):
        return str(node.value)
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(unparse(i) for i in node.items) + "]"
    if isinstance(node, Path):
        return node.dotted
    if isinstance(node, Unary):
        if node.op == "not":
            return "not " + wrap(node.operand, _NOT)
        return "-" + wrap(node.operand, _NEG)
    if isinstance(node, Binary):
        if node.op in COMPARISONS:
            return f"{wrap(node.left, _CMP + 1)} {node.op} {wrap(node.right, _CMP + 1)}"
        level = _SUM if node.op in "+-" else _PRODUCT
        return f"{wrap(node.left, level)} {node.op} {wrap(node.right, level + 1)}"
    if isinstance(node, Logical):
        level = _OR if node.op == "or" else _AND
        return f" {node.op} ".join(wrap(o, level + 1) for o in node.operands)
    if isinstance(node, Call):
        return f"{node.name}(" + ", ".join(unparse(a) for a in node.args) + ")"
    if isinstance(node, Quantifier):
        return f"{node.kind}({node.var} in {wrap(node.iterable, _SUM)}: {unparse(node.body)})"
    raise TypeError(f"not a node: {node!r}")


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, ListLiteral):
        return node.items
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Quantifier):
        return (node.iterable, node.body)
    return ()
