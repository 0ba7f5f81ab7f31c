"""Type checking: resolve every name against a context, check operators and calls, infer types.

The checker collects every problem of one expression (RK202 unknown field, RK203 type
mismatch, RK204 unknown function, RK205 wrong arguments, RK302 undefined calendar) instead of
stopping at the first.  Its result, :class:`Checked`, records the type of every node and the
field paths the expression reads; the compiler works from it.

Null semantics (enforced by the compiler, relied upon here):

* ``==`` / ``!=`` compare with null like any other value (``null == null`` is true);
* ``<`` ``<=`` ``>`` ``>=`` with a null operand are false;
* ``x in list`` is false when ``x`` or the list is null; ``not in`` is its negation;
* arithmetic with a null operand gives null, and so does division by zero;
* ``not null`` is true; ``and`` / ``or`` treat null as false.

A nullable value is accepted wherever its non-null type is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from rulekit.errors import Diagnostic, SourceLocation
from rulekit.suggest import did_you_mean

from . import ast
from .fields import CONTEXTS, Context, UnknownField, walk
from .functions import FUNCTIONS
from .parse import located
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
    compatible,
    list_of,
    nullable,
    unify,
)

_ORDERED = (Kind.NUMBER, Kind.STRING, Kind.TIME, Kind.DURATION)
_LOOSE = (Kind.ANY, Kind.NULL)

# (left kind, op, right kind) → result type, for arithmetic on non-null operands.
_ARITHMETIC: dict[tuple[Kind, str, Kind], Type] = {
    (Kind.NUMBER, "+", Kind.NUMBER): NUMBER,
    (Kind.NUMBER, "-", Kind.NUMBER): NUMBER,
    (Kind.NUMBER, "*", Kind.NUMBER): NUMBER,
    (Kind.NUMBER, "/", Kind.NUMBER): NUMBER,
    (Kind.STRING, "+", Kind.STRING): STRING,
    (Kind.TIME, "+", Kind.DURATION): TIME,
    (Kind.DURATION, "+", Kind.TIME): TIME,
    (Kind.TIME, "-", Kind.DURATION): TIME,
    (Kind.TIME, "-", Kind.TIME): DURATION,
    (Kind.DURATION, "+", Kind.DURATION): DURATION,
    (Kind.DURATION, "-", Kind.DURATION): DURATION,
    (Kind.DURATION, "*", Kind.NUMBER): DURATION,
    (Kind.NUMBER, "*", Kind.DURATION): DURATION,
    (Kind.DURATION, "/", Kind.NUMBER): DURATION,
}


@dataclass
class Checked:
    """A checked expression: the tree, the type of each node (by ``id``), the fields read."""

    node: ast.Node
    type: Type
    context: Context
    types: dict[int, Type] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)

    def type_of(self, node: ast.Node) -> Type:
        return self.types[id(node)]


def assignable(actual: Type, expected: Type) -> bool:
    """Whether a value of type ``actual`` may be used where ``expected`` is required."""
    if actual.kind in _LOOSE or expected.kind is Kind.ANY:
        return True
    return compatible(actual, expected)


class Checker:
    """Checks one expression in one context; see :func:`check`."""

    def __init__(
        self,
        context: Context,
        locate: Callable[[int, int], SourceLocation],
        calendars: Collection[str] = (),
    ) -> None:
        self.context = context
        self.locate = locate
        self.calendars = calendars
        self.diagnostics: list[Diagnostic] = []
        self.types: dict[int, Type] = {}
        self.fields: list[str] = []
        self.scopes: list[dict[str, Type]] = []

    def error(self, code: str, message: str, span: ast.Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, located(self.locate, span), hint=hint))

    def visit(self, node: ast.Node) -> Type:
        t = self._visit(node)
        self.types[id(node)] = t
        return t

    def _visit(self, node: ast.Node) -> Type:
        if isinstance(node, ast.Literal):
            return _literal_type(node.value)
        if isinstance(node, ast.DurationLiteral):
            if node.value.business:
                self.error(
                    "RK203",
                    "a business duration cannot be used in an expression: "
                    "it needs a calendar to count against",
                    node.span,
                    "business durations are for step options such as 'for:'",
                )
                return ANY
            return DURATION
        if isinstance(node, ast.ListLiteral):
            return self._list(node)
        if isinstance(node, ast.Path):
            return self._path(node)
        if isinstance(node, ast.Unary):
            return self._unary(node)
        if isinstance(node, ast.Logical):
            for operand in node.operands:
                self._boolean(operand, f"the operands of '{node.op}'")
            return BOOLEAN
        if isinstance(node, ast.Binary):
            if node.op in ast.COMPARISONS:
                return self._comparison(node)
            return self._arithmetic(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        return self._quantifier(node)

    def _boolean(self, node: ast.Node, what: str) -> None:
        t = self.visit(node)
        if not assignable(t, BOOLEAN):
            self.error("RK203", f"{what} must be boolean, not {t}", node.span)

    def _list(self, node: ast.ListLiteral) -> Type:
        element: Type | None = None
        for item in node.items:
            t = self.visit(item)
            if element is None:
                element = t
                continue
            merged = unify(element, t)
            if merged is None:
                self.error(
                    "RK203",
                    f"list items must have one type: this is a {t}, earlier items are {element}",
                    item.span,
                )
            else:
                element = merged
        return list_of(element if element is not None else ANY)

    def _path(self, node: ast.Path) -> Type:
        head = node.segments[0]
        for scope in reversed(self.scopes):
            if head in scope:
                return self._walk(node, scope[head], head)
        try:
            t = self.context.lookup(node.segments)
        except UnknownField as unknown:
            spans = node.segment_spans or (node.span,) * len(node.segments)
            candidates = list(unknown.candidates)
            if unknown.index == 0:
                candidates += [name for scope in self.scopes for name in scope]
            hint = did_you_mean(unknown.name, candidates)
            if hint is None and unknown.index == 0 and head in FUNCTIONS:
                hint = f"{head} is a function: write {head}(...)"
            if hint is None and unknown.index == 0 and unknown.message.startswith("'"):
                where = [c.name for c in CONTEXTS.values() if head in c.roots]
                hint = f"'{head}' can be used in {' and '.join(where)} expressions"
            self.error("RK202", unknown.message, spans[unknown.index], hint)
            return ANY
        dotted = node.dotted
        if dotted not in self.fields:
            self.fields.append(dotted)
        return t

    def _walk(self, node: ast.Path, start: Type, head: str) -> Type:
        try:
            return walk(start, node.segments, 1, head)
        except UnknownField as unknown:
            spans = node.segment_spans or (node.span,) * len(node.segments)
            self.error("RK202", unknown.message, spans[unknown.index], unknown.hint)
            return ANY

    def _unary(self, node: ast.Unary) -> Type:
        if node.op == "not":
            self._boolean(node.operand, "the operand of 'not'")
            return BOOLEAN
        t = self.visit(node.operand)
        if t.kind in _LOOSE or t.kind in (Kind.NUMBER, Kind.DURATION):
            return t if t.kind is not Kind.NULL else nullable(NUMBER)
        self.error("RK203", f"cannot negate a {t}", node.operand.span)
        return ANY

    def _comparison(self, node: ast.Binary) -> Type:
        left = self.visit(node.left)
        right = self.visit(node.right)
        op = node.op
        if op in ("==", "!="):
            if not compatible(left, right):
                self.error("RK203", f"cannot compare {left} with {right}", node.right.span)
        elif op in ("in", "not in"):
            self._membership(node, left, right)
        elif not (left.kind in _LOOSE or left.kind in _ORDERED):
            self.error("RK203", f"cannot order a {left} with '{op}'", node.left.span)
        elif not (right.kind in _LOOSE or right.kind in _ORDERED):
            self.error("RK203", f"cannot order a {right} with '{op}'", node.right.span)
        elif not compatible(left, right):
            self.error("RK203", f"cannot compare {left} with {right}", node.right.span)
        return BOOLEAN

    def _membership(self, node: ast.Binary, left: Type, right: Type) -> None:
        op = node.op
        if right.kind in _LOOSE:
            return
        if right.kind is Kind.LIST:
            assert right.element is not None
            if not compatible(left, right.element):
                hint = "use overlaps(a, b) to test two lists" if left.kind is Kind.LIST else None
                self.error(
                    "RK203",
                    f"'{op}' looks for a {left} in a {right}: the types do not match",
                    node.left.span,
                    hint,
                )
        elif right.kind in (Kind.STRING, Kind.MAP):
            if not (left.kind in _LOOSE or left.kind is Kind.STRING):
                what = "a substring test" if right.kind is Kind.STRING else "a key test"
                self.error(
                    "RK203",
                    f"'{op}' on a {right} is {what}: the left side must be a string, not {left}",
                    node.left.span,
                )
        else:
            self.error(
                "RK203",
                f"'{op}' needs a list or a string on its right, not {right}",
                node.right.span,
            )

    def _arithmetic(self, node: ast.Binary) -> Type:
        left = self.visit(node.left)
        right = self.visit(node.right)
        op = node.op
        may_be_null = left.may_be_null or right.may_be_null or op == "/"
        if left.kind in _LOOSE or right.kind in _LOOSE:
            known = right if left.kind in _LOOSE else left
            if known.kind in _LOOSE:
                return ANY if Kind.ANY in (left.kind, right.kind) else nullable(NUMBER)
            if known.kind not in (Kind.NUMBER, Kind.STRING, Kind.TIME, Kind.DURATION):
                self.error("RK203", f"cannot use '{op}' on a {known}", node.span)
                return ANY
            return ANY if Kind.ANY in (left.kind, right.kind) else nullable(known)
        result = _ARITHMETIC.get((left.kind, op, right.kind))
        if result is None:
            self.error("RK203", f"cannot compute {left} {op} {right}", node.op_span)
            return ANY
        return nullable(result) if may_be_null else result

    def _call(self, node: ast.Call) -> Type:
        args = [self.visit(a) for a in node.args]
        function = FUNCTIONS.get(node.name)
        if function is None:
            hint = did_you_mean(node.name, FUNCTIONS)
            if node.name in ("any", "all"):
                hint = f"write {node.name}(x in list: condition)"
            self.error("RK204", f"unknown function '{node.name}'", node.name_span, hint)
            return ANY
        n = len(args)
        top = function.max_args
        if n < function.min_args or (top is not None and n > top):
            if top == function.min_args:
                wanted = f"{top} argument{'s' if top != 1 else ''}"
            elif top is None:
                wanted = f"at least {function.min_args} arguments"
            else:
                wanted = f"{function.min_args} to {top} arguments"
            self.error(
                "RK205",
                f"{node.name}() takes {wanted}, got {n}",
                node.name_span,
                f"signature: {function.signature}",
            )
            return ANY
        return function.typer(node, args, self)

    def _quantifier(self, node: ast.Quantifier) -> Type:
        iterable = self.visit(node.iterable)
        element = ANY
        if iterable.kind is Kind.LIST:
            assert iterable.element is not None
            element = iterable.element
        elif iterable.kind not in _LOOSE:
            self.error(
                "RK203", f"{node.kind}() iterates over a list, not a {iterable}", node.iterable.span
            )
        taken = node.var in self.context.roots or any(node.var in s for s in self.scopes)
        if taken:
            self.error(
                "RK201",
                f"the variable '{node.var}' would hide '{node.var}'; choose another name",
                node.var_span,
            )
        self.scopes.append({node.var: element})
        try:
            self._boolean(node.body, f"the condition of {node.kind}()")
        finally:
            self.scopes.pop()
        return BOOLEAN


def _literal_type(value: ast.LiteralValue) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, str):
        return STRING
    return NUMBER


def check(
    node: ast.Node,
    context: Context,
    *,
    expected: Type | None,
    locate: Callable[[int, int], SourceLocation],
    calendars: Collection[str] = (),
) -> tuple[Checked, list[Diagnostic]]:
    """Check ``node``; returns the result and every diagnostic found (empty when valid)."""
    checker = Checker(context, locate, calendars)
    result = checker.visit(node)
    if expected is not None and not checker.diagnostics and not assignable(result, expected):
        checker.error(
            "RK203",
            f"this expression is a {result}, a {expected.non_null()} is required here",
            node.span,
        )
    checked = Checked(node, result, context, checker.types, checker.fields)
    return checked, checker.diagnostics
