"""Compilation: checked AST → Python source → one function, and the public entry point.

The generated code is built only from: names of declared fields and whitelisted functions,
``repr()`` of parsed literal values, and names of constants hoisted into the namespace
(constant lists become frozensets/tuples, durations timedeltas).  It is compiled with
:func:`compile` and run once with :func:`exec` in a namespace that holds only this module's
helpers and those constants (no builtins).  User text never reaches the code otherwise.

The generated function never fails with a Python error: the helpers check the values they get
at run time (values typed ``any`` are known only then), and the function's body is wrapped so
that a run-time failure (:class:`~rulekit.dsl.functions.Unevaluable`, ``TypeError``,
``ValueError``, ``ArithmeticError``, ``MemoryError``, ``RecursionError``) is raised as one
:class:`~rulekit.errors.EvaluationError` with the expression's text and location.

Null checks are generated only where a type may be null, so a non-null field compares directly,
as hand-written Python would.  See :mod:`rulekit.dsl.fields` for the calling convention.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rulekit.errors import EvaluationError, RulekitErrors, SourceLocation

from . import ast
from .check import Checked, check
from .fields import COMPUTED, CONTEXTS, PARAMETERS, Env
from .functions import (
    FUNCTIONS,
    MAX_BUILT_STRING,
    Unevaluable,
    check_number,
    check_result,
    is_number,
    items,
    shown,
)
from .parse import located, parse
from .types import Kind, Type


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """A checked, compiled expression.

    ``function`` is the generated Python function (parameters: see
    :data:`rulekit.dsl.fields.PARAMETERS`; call it directly in hot loops); calling the object
    with an :class:`~rulekit.dsl.fields.Env` does the same.  Either raises
    :class:`~rulekit.errors.EvaluationError` when the expression cannot be evaluated on the
    values given, and no other error.
    """

    text: str
    source: str
    type: Type
    context: str
    location: SourceLocation
    fields: tuple[str, ...]
    function: Callable[..., Any]
    calendars: tuple[str, ...] = ()
    readers: tuple[tuple[str, Callable[..., Any]], ...] = ()

    def __call__(self, env: Env) -> Any:
        return self.function(*env.arguments())

    def read_fields(self, env: Env) -> dict[str, object]:
        """The values of the fields this expression reads (for decision traces)."""
        return {path: read_path(env, path) for path in self.fields}

    def read_values(self, *arguments: Any) -> dict[str, object]:
        """Like :meth:`read_fields`, from the positional arguments of :attr:`function`, with
        readers compiled once per field (fast enough for always-on traces)."""
        return {path: reader(*arguments) for path, reader in self.readers}


def read_path(env: Env, path: str) -> object:
    """The value of a dotted field path in ``env`` (slow, generic)."""
    segments = path.split(".")
    root = segments[0]
    if len(segments) >= 2 and (root, segments[1]) in COMPUTED:
        if (root, segments[1]) == ("agent", "office"):
            value: object = env.agent.offices[0] if env.agent and env.agent.offices else None
        else:
            value = getattr(env, f"{root}_{segments[1]}")
        rest = segments[2:]
    else:
        value = getattr(env, root)
        rest = segments[1:]
    for segment in rest:
        value = member(value, segment)
    return value


def member(value: object, name: str) -> object:
    """``value.name`` for records, ``value[name]`` for mappings, else null."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(name)
    declared = getattr(type(value), "model_fields", None)
    return getattr(value, name) if isinstance(declared, dict) and name in declared else None


# --- run-time helpers for null-safe and loosely typed operations -----------------------------


def _is_null(a: object, b: object) -> bool:
    return a is None or b is None


def h_lt(a: Any, b: Any) -> bool:
    try:
        return not _is_null(a, b) and bool(a < b)
    except TypeError:
        return False


def h_le(a: Any, b: Any) -> bool:
    try:
        return not _is_null(a, b) and bool(a <= b)
    except TypeError:
        return False


def h_gt(a: Any, b: Any) -> bool:
    try:
        return not _is_null(a, b) and bool(a > b)
    except TypeError:
        return False


def h_ge(a: Any, b: Any) -> bool:
    try:
        return not _is_null(a, b) and bool(a >= b)
    except TypeError:
        return False


def h_in(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if isinstance(b, str):
        return isinstance(a, str) and a in b
    try:
        return bool(a in b)
    except TypeError:
        return False


#: The operations of the arithmetic table (``docs/dsl.md``) by the run-time kinds of their
#: operands: any other pair (a string times a number, two lists added) does not fit: null.
_FITTING: frozenset[tuple[str, str, str]] = frozenset({
    ("number", "+", "number"), ("number", "-", "number"), ("number", "*", "number"),
    ("number", "/", "number"), ("string", "+", "string"), ("time", "+", "duration"),
    ("duration", "+", "time"), ("time", "-", "duration"), ("time", "-", "time"),
    ("duration", "+", "duration"), ("duration", "-", "duration"), ("duration", "*", "number"),
    ("number", "*", "duration"), ("duration", "/", "number"),
})
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
}


def value_kind(x: object) -> str:
    """The DSL kind of a run-time value for arithmetic: number, string, time, duration or
    other (booleans, lists, maps, records)."""
    if is_number(x):
        return "number"
    if isinstance(x, str):
        return "string"
    if isinstance(x, datetime):
        return "time"
    if isinstance(x, timedelta):
        return "duration"
    return "other"


def _numbers(op: str, a: int | float, b: int | float) -> int | float | None:
    what = f"'{op}'"
    check_number(a, what)
    check_number(b, what)
    if op == "/" and b == 0:
        return None
    try:
        result: int | float = _OPERATORS[op](a, b)
    except OverflowError:
        raise Unevaluable(f"the result of {shown(a)} {op} {shown(b)} is too large") from None
    return check_result(result, f"{shown(a)} {op} {shown(b)}")


def _join(a: str, b: str) -> str:
    size = len(a) + len(b)
    if size > MAX_BUILT_STRING:
        raise Unevaluable(f"'+' would build a string of {size:,} characters, more than "
                          f"{MAX_BUILT_STRING:,}")
    return a + b


def _temporal(op: str, a: Any, b: Any) -> Any:
    for x in (a, b):
        if is_number(x):
            check_number(x, f"'{op}'")
    if op == "/" and not b:
        return None
    try:
        return _OPERATORS[op](a, b)
    except TypeError:  # a time with an offset and one without
        return None
    except (OverflowError, ValueError):
        raise Unevaluable(f"the result of {shown(a)} {op} {shown(b)} is out of the range of "
                          "times and durations") from None


def h_arith(op: str) -> Callable[[Any, Any], Any]:
    """The null-safe, run-time checked helper of an arithmetic operator."""
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        left, right = value_kind(a), value_kind(b)
        if (left, op, right) not in _FITTING:
            return None
        if left == right == "number":
            return _numbers(op, a, b)
        if left == "string":
            return _join(a, b)
        return _temporal(op, a, b)

    return apply


def h_neg(a: Any) -> Any:
    if is_number(a):
        check_number(a, "'-'")
        return -a
    if isinstance(a, timedelta):
        try:
            return -a
        except OverflowError:
            raise Unevaluable(f"-({a}) is out of the range of durations") from None
    return None


def h_seq_eq(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return tuple(a) == tuple(b)
    return bool(a == b)


def h_items(value: object, quantifier: str) -> Any:
    """The items a quantifier iterates over (null: none); anything but a list is an error."""
    return items(value, f"{quantifier}()")


HELPERS: dict[str, object] = {
    "_h_lt": h_lt,
    "_h_le": h_le,
    "_h_gt": h_gt,
    "_h_ge": h_ge,
    "_h_in": h_in,
    "_h_add": h_arith("+"),
    "_h_sub": h_arith("-"),
    "_h_mul": h_arith("*"),
    "_h_div": h_arith("/"),
    "_h_neg": h_neg,
    "_h_member": member,
    "_h_seq_eq": h_seq_eq,
    "_h_items": h_items,
    "_b_any": any,
    "_b_all": all,
    **{f"_f_{name}": function.helper for name, function in FUNCTIONS.items()},
}

_ORDER_HELPERS = {"<": "_h_lt", "<=": "_h_le", ">": "_h_gt", ">=": "_h_ge"}
_ARITH_HELPERS = {"+": "_h_add", "-": "_h_sub", "*": "_h_mul", "/": "_h_div"}


class CodeGenerator:
    """Generates the Python expression for a checked tree."""

    def __init__(self, checked: Checked) -> None:
        self.checked = checked
        self.constants: dict[str, object] = {}
        self._constant_names: dict[tuple[type, object], str] = {}
        self.temps = 0
        self.in_iterable = 0
        self._bindings: list[tuple[str, Type]] = []
        self.locals: dict[str, str] = {}

    def constant(self, value: object) -> str:
        key = (type(value), value)
        name = self._constant_names.get(key)
        if name is None:
            name = f"_c{len(self.constants)}"
            self.constants[name] = value
            self._constant_names[key] = name
        return name

    def type_of(self, node: ast.Node) -> Type:
        return self.checked.type_of(node)

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def gen(self, node: ast.Node) -> str:
        if isinstance(node, ast.Literal):
            return repr(node.value)
        if isinstance(node, ast.DurationLiteral):
            return self.constant(timedelta(seconds=node.value.seconds))
        if isinstance(node, ast.ListLiteral):
            if all(isinstance(i, ast.Literal) for i in node.items):
                values = tuple(i.value for i in node.items if isinstance(i, ast.Literal))
                return self.constant(values)
            if not node.items:
                return "()"
            return "(" + "".join(self.gen(i) + ", " for i in node.items) + ")"
        if isinstance(node, ast.Path):
            return self.path(node)
        if isinstance(node, ast.Unary):
            if node.op == "not":
                return f"(not {self.truth(node.operand)})"
            operand_type = self.type_of(node.operand)
            if operand_type.may_be_null:
                return f"_h_neg({self.gen(node.operand)})"
            return f"(-{self.gen(node.operand)})"
        if isinstance(node, ast.Logical):
            return "(" + f" {node.op} ".join(self.truth(o) for o in node.operands) + ")"
        if isinstance(node, ast.Binary):
            if node.op in ("==", "!="):
                return self.equality(node)
            if node.op in _ORDER_HELPERS:
                return self.ordering(node)
            if node.op in ("in", "not in"):
                code = self.membership(node)
                return f"(not {code})" if node.op == "not in" else code
            return self.arithmetic(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        return self.quantifier(node)

    def truth(self, node: ast.Node) -> str:
        """Code that is a real bool: null (and anything not a boolean) counts as false."""
        t = self.type_of(node)
        code = self.gen(node)
        if t.kind is Kind.BOOLEAN and not t.nullable:
            return code
        return f"({code} is True)"

    def path(self, node: ast.Path) -> str:
        segments = node.segments
        head = segments[0]
        scopes = self.checked.context.roots
        if head not in scopes:  # a quantifier variable
            code, t, rest = f"_v_{head}", None, 1
        elif len(segments) >= 2 and (head, segments[1]) in COMPUTED:
            code, t = COMPUTED[(head, segments[1])]
            rest = 2
        else:
            code, t, rest = head, scopes[head], 1
        if t is None:
            t = self._variable_type(node)
        # A chain of non-null records from a root (``lead.property``) is read once, into a
        # local at the top of the function, as hand-written code would.
        hoistable = code == head and head in scopes
        for segment in segments[rest:]:
            if t.kind is Kind.RECORD:
                sub = t.field(segment)
                assert sub is not None
                if t.nullable:
                    code = f"(None if {code} is None else {code}.{segment})"
                    sub = sub.as_nullable()
                    hoistable = False
                else:
                    code = f"{code}.{segment}"
                    if hoistable and sub.kind is Kind.RECORD and not sub.nullable:
                        code = self.local(code)
                t = sub
            elif t.kind is Kind.MAP and not t.nullable:
                assert t.element is not None
                code = f"{code}.get({segment!r})"
                t = t.element.as_nullable()
            else:
                code = f"_h_member({code}, {segment!r})"
                t = t.element.as_nullable() if t.element is not None else t
        return code

    def local(self, code: str) -> str:
        """A local variable holding ``code``, assigned before the ``return``."""
        name = self.locals.get(code)
        if name is None:
            name = f"_r{len(self.locals)}"
            self.locals[code] = name
        return name

    def _variable_type(self, node: ast.Path) -> Type:
        # The element type of the innermost quantifier binding this name.
        for quantifier, element in self._bindings:
            if quantifier == node.segments[0]:
                return element
        raise AssertionError(f"unbound variable {node.segments[0]}")

    def equality(self, node: ast.Binary) -> str:
        left, right = self.type_of(node.left), self.type_of(node.right)
        a, b = self.gen(node.left), self.gen(node.right)
        if Kind.LIST in (left.kind, right.kind):
            code = f"_h_seq_eq({a}, {b})"
            return code if node.op == "==" else f"(not {code})"
        if Kind.NULL in (left.kind, right.kind):
            test = "is" if node.op == "==" else "is not"
            return f"({a} {test} {b})"
        return f"({a} {node.op} {b})"

    def ordering(self, node: ast.Binary) -> str:
        left, right = self.type_of(node.left), self.type_of(node.right)
        a, b = self.gen(node.left), self.gen(node.right)
        if Kind.NULL in (left.kind, right.kind):
            return "False"
        if Kind.ANY in (left.kind, right.kind) or self.in_iterable:
            if left.may_be_null or right.may_be_null:
                return f"{_ORDER_HELPERS[node.op]}({a}, {b})"
            return f"({a} {node.op} {b})"
        guards: list[str] = []
        if left.nullable:
            if not a.isidentifier():
                name = self.temp()
                guards.append(f"({name} := {a}) is not None")
                a = name
            else:
                guards.append(f"{a} is not None")
        if right.nullable:
            if not b.isidentifier():
                name = self.temp()
                guards.append(f"({name} := {b}) is not None")
                b = name
            else:
                guards.append(f"{b} is not None")
        return "(" + " and ".join([*guards, f"{a} {node.op} {b}"]) + ")"

    def membership(self, node: ast.Binary) -> str:
        left, right = self.type_of(node.left), self.type_of(node.right)
        a = self.gen(node.left)
        if isinstance(node.right, ast.ListLiteral) and all(
            isinstance(i, ast.Literal) for i in node.right.items
        ):
            values = [i.value for i in node.right.items if isinstance(i, ast.Literal)]
            container = self.constant(frozenset(values))
            if left.may_be_null and None in values:
                return f"_h_in({a}, {container})"
            if left.kind is Kind.ANY:
                return f"_h_in({a}, {container})"
            return f"({a} in {container})"
        b = self.gen(node.right)
        element = right.element
        if left.kind is not Kind.ANY and not right.may_be_null:
            if right.kind is Kind.LIST and element is not None and not element.may_be_null:
                return f"({a} in {b})"  # null is never an element: no guard needed
            if right.kind in (Kind.STRING, Kind.MAP) and not left.may_be_null:
                return f"({a} in {b})"
        return f"_h_in({a}, {b})"

    def arithmetic(self, node: ast.Binary) -> str:
        left, right = self.type_of(node.left), self.type_of(node.right)
        a, b = self.gen(node.left), self.gen(node.right)
        # strings go through the helper too: it bounds the length of what they build
        if node.op == "/" or left.may_be_null or right.may_be_null or Kind.STRING in (
                left.kind, right.kind):
            return f"{_ARITH_HELPERS[node.op]}({a}, {b})"
        return f"({a} {node.op} {b})"

    def call(self, node: ast.Call) -> str:
        function = FUNCTIONS[node.name]
        args = [self.gen(a) for a in node.args]
        if function.calling == "calendar":
            args = ["runtime", "now", *args]
        elif function.calling == "runtime":
            args = ["runtime", *args]
        return f"_f_{node.name}({', '.join(args)})"

    def quantifier(self, node: ast.Quantifier) -> str:
        iterable_type = self.type_of(node.iterable)
        self.in_iterable += 1
        try:
            iterable = self.gen(node.iterable)
        finally:
            self.in_iterable -= 1
        if iterable_type.kind is not Kind.LIST:  # any: checked at run time
            iterable = f"_h_items({iterable}, {node.kind!r})"
        elif iterable_type.may_be_null:
            iterable = f"({iterable} or ())"
        element = iterable_type.element if iterable_type.element is not None else ANY_TYPE
        self._bindings.insert(0, (node.var, element))
        try:
            body = self.truth(node.body)
        finally:
            self._bindings.pop(0)
        builtin = "_b_any" if node.kind == "any" else "_b_all"
        return f"{builtin}({body} for _v_{node.var} in {iterable})"


ANY_TYPE = Type(Kind.ANY, nullable=True)

_SIGNATURE = ", ".join(PARAMETERS[:1] + tuple(f"{p}=None" for p in PARAMETERS[1:]))


def generate(checked: Checked) -> tuple[str, dict[str, object]]:
    """Python source of the function for ``checked``, and the constants it needs."""
    generator = CodeGenerator(checked)
    t = checked.type
    body = generator.truth(checked.node) if t.kind is Kind.BOOLEAN else generator.gen(checked.node)
    lines = [f"def _rk_expression({_SIGNATURE}):", "    try:"]
    lines += [f"        {name} = {code}" for code, name in generator.locals.items()]
    lines.append(f"        return {body}")
    lines.append("    except _rk_failures as _rk_error:")
    lines.append("        raise _rk_fail(_rk_error) from _rk_error")
    source = "\n".join(lines) + "\n"
    return source, generator.constants


#: The errors a compiled expression turns into :class:`~rulekit.errors.EvaluationError`.
FAILURES: tuple[type[BaseException], ...] = (
    Unevaluable, TypeError, ValueError, ArithmeticError, MemoryError, RecursionError)


def reason(error: BaseException) -> str:
    """A run-time failure in plain words."""
    if isinstance(error, Unevaluable):
        return error.reason
    if isinstance(error, RecursionError):
        return "a value is nested too deeply"
    if isinstance(error, MemoryError):
        return "a value is too large to work with"
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, ArithmeticError):
        return f"a number is out of range ({error})"
    return f"a value does not fit ({error})"


def failing(text: str, location: SourceLocation | None) -> Callable[[BaseException],
                                                                     EvaluationError]:
    """What the compiled function of ``text`` raises for a run-time failure."""
    def fail(error: BaseException) -> EvaluationError:
        return EvaluationError(text, reason(error), location)

    return fail


def build(source: str, constants: dict[str, object],
          fail: Callable[[BaseException], EvaluationError] | None = None) -> Callable[..., Any]:
    """Compile generated source in a namespace of helpers and constants only; ``fail``
    makes the :class:`~rulekit.errors.EvaluationError` of a run-time failure."""
    namespace: dict[str, Any] = {"__builtins__": {}, **HELPERS, **constants,
                                 "_rk_failures": FAILURES,
                                 "_rk_fail": fail or failing("", None)}
    code = compile(source, "<rulekit expression>", "exec")
    exec(code, namespace)  # generated from a checked tree, never from user text
    function: Callable[..., Any] = namespace["_rk_expression"]
    return function


def compile_expression(
    text: str,
    context: str,
    *,
    expected: Type | None,
    locate: Callable[[int, int], SourceLocation],
    calendars: Collection[str] = (),
    readers: bool = True,
) -> CompiledExpression:
    """Parse, check and compile one expression.

    ``context`` is a key of :data:`~rulekit.dsl.fields.CONTEXTS`; ``expected`` the type the
    caller needs (``BOOLEAN`` for conditions, ``NUMBER`` for weights, ...) or ``None``;
    ``locate(line, column)`` maps a 1-based position inside ``text`` to the file;
    ``calendars`` the names calendar functions may use.  Raises
    :class:`~rulekit.errors.RulekitErrors` with every diagnostic of the expression.
    """
    if context not in CONTEXTS:
        raise ValueError(f"unknown expression context {context!r}; one of {sorted(CONTEXTS)}")
    node = parse(text, locate=locate)
    checked, diagnostics = check(
        node, CONTEXTS[context], expected=expected, locate=locate, calendars=calendars
    )
    if diagnostics:
        raise RulekitErrors(diagnostics)
    source, constants = generate(checked)
    location = located(locate, node.span)
    return CompiledExpression(
        text=text,
        source=source,
        type=checked.type,
        context=context,
        location=location,
        fields=tuple(checked.fields),
        function=build(source, constants, failing(text, location)),
        calendars=calendars_named(node),
        readers=_readers(checked.fields, context, locate) if readers else (),
    )


Readers = tuple[tuple[str, Callable[..., Any]], ...]


def _readers(fields: Collection[str], context: str,
             locate: Callable[[int, int], SourceLocation]) -> Readers:
    """One compiled reader per field path the expression reads (for traces)."""
    out: list[tuple[str, Callable[..., Any]]] = []
    for path in fields:
        try:
            reader = compile_expression(path, context, expected=None, locate=locate,
                                        readers=False)
        except RulekitErrors:
            continue  # a field only a quantifier's variable reaches: not readable alone
        out.append((path, reader.function))
    return tuple(out)


def calendars_named(node: ast.Node) -> tuple[str, ...]:
    """The calendar names that calendar functions in ``node`` refer to, in order."""
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call) and FUNCTIONS[current.name].calling == "calendar":
            first = current.args[0] if current.args else None
            if isinstance(first, ast.Literal) and isinstance(first.value, str):
                found.append(first.value)
        stack.extend(ast.children(current))
    return tuple(dict.fromkeys(found))
