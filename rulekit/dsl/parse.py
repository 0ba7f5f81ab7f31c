"""Parsing: expression text → :mod:`rulekit.dsl.ast` tree, with limits and plain-word errors.

The grammar (``grammar.lark``) is loaded with :mod:`importlib.resources` and compiled once into
a Lark LALR parser.  Hostile input is bounded before any recursion happens: the text length is
checked first, bracket nesting is counted by a linear scan, and the depth of the parse tree is
measured iteratively before the tree is converted (recursively) into AST nodes.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Callable

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from rulekit.errors import Diagnostic, RulekitErrors, SourceLocation

from . import ast
from .duration import DurationProblem, business_duration, clock_duration

#: Longest expression text, in characters (checked before parsing).
MAX_EXPRESSION_LENGTH = 4096
#: Deepest nesting of brackets, and of operators / calls / lists (each level counts one).
MAX_DEPTH = 32
#: Longest string literal, in characters (after escapes are decoded).
MAX_STRING_LENGTH = 1000
#: Most items in one list literal.
MAX_LIST_ITEMS = 1000
#: Most digits in one numeric literal.
MAX_NUMBER_DIGITS = 30

Locate = Callable[[int, int], SourceLocation]


@functools.cache
def parser() -> Lark:
    """The LALR parser, built once."""
    text = importlib.resources.files("rulekit.dsl").joinpath("grammar.lark").read_text("utf-8")
    return Lark(
        text,
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=False,
    )


def position_of(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset in ``text``."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def located(locate: Locate, span: ast.Span) -> SourceLocation:
    """The file location of a span, with its end when ``locate`` gives one on the same file."""
    start = locate(span.line, span.column)
    end = locate(span.end_line, span.end_column)
    if end.path != start.path:
        return start
    return SourceLocation(start.path, start.line, start.column, end.line, end.column)


class _Problems:
    def __init__(self, locate: Locate) -> None:
        self.locate = locate
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, span: ast.Span, hint: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, located(self.locate, span), hint=hint))


def _fail(code: str, message: str, location: SourceLocation, hint: str | None = None) -> None:
    raise RulekitErrors([Diagnostic(code, message, location, hint=hint)])


def parse(text: str, *, locate: Locate) -> ast.Node:
    """Parse one expression.  Raises :class:`RulekitErrors` (RK201, RK206, RK207)."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        _fail(
            "RK206",
            f"expression too long: {len(text)} characters, the limit is {MAX_EXPRESSION_LENGTH}",
            locate(1, 1),
            "move parts of the condition into separate rules or definitions",
        )
    _check_brackets(text, locate)
    try:
        tree = parser().parse(text)
    except UnexpectedInput as error:
        raise RulekitErrors([_syntax_diagnostic(text, error, locate)]) from None
    _check_depth(tree, locate)
    problems = _Problems(locate)
    node = _Builder(problems).build(tree)
    if problems.items:
        raise RulekitErrors(problems.items)
    return node


def _check_brackets(text: str, locate: Locate) -> None:
    """Linear scan of bracket nesting outside string literals."""
    depth = 0
    quote: str | None = None
    escaped = False
    for offset, ch in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch in (quote, "\n"):
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
            if depth > MAX_DEPTH:
                _fail(
                    "RK206",
                    f"expression nested too deeply: more than {MAX_DEPTH} levels of brackets",
                    locate(*position_of(text, offset)),
                )
        elif ch in ")]":
            depth = max(0, depth - 1)


_TRANSPARENT = frozenset({"group", "comp_op", "business_unit"})


def _check_depth(tree: Tree[Token], locate: Locate) -> None:
    """Iterative depth measure of the parse tree (no recursion)."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            line = getattr(meta, "line", 1)
            column = getattr(meta, "column", 1)
            _fail(
                "RK206",
                f"expression nested too deeply: more than {MAX_DEPTH} levels of operators",
                locate(line, column),
                "split the condition into simpler parts",
            )
        for child in node.children:
            if isinstance(child, Tree):
                extra = 0 if child.data in _TRANSPARENT else 1
                stack.append((child, depth + extra))


# --- syntax errors in plain words ---------------------------------------------------------

_PUNCTUATION = {
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "DOT": "'.'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "EQ": "'=='",
    "NE": "'!='",
    "LT": "'<'",
    "LE": "'<='",
    "GT": "'>'",
    "GE": "'>='",
}
_VALUE_STARTS = frozenset({"NAME", "NUMBER", "STRING", "TRUE", "FALSE", "NULL", "DURATION"})
_OPERATORS = frozenset(
    {"PLUS", "STAR", "SLASH", "EQ", "NE", "LT", "LE", "GT", "GE", "AND", "OR", "IN"}
)
_COMPARISON_TOKENS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE", "IN"})
_CHAR_HINTS = {
    "=": "use '==' to compare",
    "&": "use 'and'",
    "|": "use 'or'",
    "!": "use 'not' (or '!=' to compare)",
}


def _describe_token(token: Token) -> str:
    kind = token.type
    if kind == "$END":
        return "end of expression"
    if kind == "NAME":
        return f"name '{token.value}'"
    if kind == "NUMBER":
        return f"number {token.value}"
    if kind == "STRING":
        value = token.value if len(token.value) <= 20 else token.value[:17] + "..."
        return f"string {value}"
    if kind == "DURATION":
        return f"duration {token.value}"
    if kind in _PUNCTUATION:
        return _PUNCTUATION[kind]
    return f"'{token.value}'"


def describe_expected(expected: set[str] | frozenset[str]) -> str:
    """Plain words for a set of grammar terminal names."""
    words: list[str] = []
    if expected & _VALUE_STARTS:
        words.append("a name" if expected & _VALUE_STARTS == {"NAME"} else "a value")
    if expected & _OPERATORS:
        words.append("an operator")
    for name in ("RPAR", "RSQB", "COMMA", "COLON"):
        if name in expected:
            words.append(_PUNCTUATION[name])
    if "IN" in expected and not expected & (_OPERATORS - {"IN"}):
        words = [w for w in words if w != "an operator"] + ["'in'"]
    if "$END" in expected:
        words.append("end of expression")
    if not words:
        words.append(" or ".join(sorted(_PUNCTUATION.get(e, e.lower()) for e in expected)))
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _syntax_diagnostic(text: str, error: UnexpectedInput, locate: Locate) -> Diagnostic:
    hint: str | None = None
    if isinstance(error, UnexpectedCharacters):
        line, column = error.line, error.column
        offset = error.pos_in_stream or 0
        ch = text[offset] if offset < len(text) else ""
        if ch in "\"'":
            message = "unterminated string (or a line break inside a string)"
            hint = "close the string with the same quote; write a line break as \\n"
        else:
            message = f"unexpected character {ch!r}"
            hint = _CHAR_HINTS.get(ch)
        return Diagnostic("RK201", message, locate(line, column), hint=hint)
    if isinstance(error, UnexpectedToken):
        token = error.token
        expected = set(error.expected)
        if error.interactive_parser is not None:
            accepted: set[str] = error.interactive_parser.accepts()  # type: ignore[no-untyped-call]
            expected = accepted or expected
        if token.type == "$END":
            line, column = position_of(text, len(text.rstrip()))
        else:
            line, column = token.line or 1, token.column or 1
        found = _describe_token(token)
        if token.type == "BUSINESS_HOURS" or token.type.startswith("BUSINESS_"):
            hint = "a business duration is a number followed by the unit, e.g. 2 business_hours"
        elif (
            token.type in _COMPARISON_TOKENS
            and expected & _OPERATORS
            and not expected & _COMPARISON_TOKENS
        ):
            hint = "comparisons do not chain: write 'a < b and b < c'"
        message = f"unexpected {found}; expected {describe_expected(expected)}"
        return Diagnostic("RK201", message, locate(line, column), hint=hint)
    if isinstance(error, UnexpectedEOF):
        line, column = position_of(text, len(text.rstrip()))
        message = f"unexpected end of expression; expected {describe_expected(set(error.expected))}"
        return Diagnostic("RK201", message, locate(line, column))
    return Diagnostic("RK201", "syntax error", locate(1, 1))


# --- parse tree → AST -----------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


def _span(item: Tree[Token] | Token) -> ast.Span:
    if isinstance(item, Token):
        line = item.line or 1
        column = item.column or 1
        return ast.Span(line, column, item.end_line or line, item.end_column or column)
    meta = item.meta
    if meta.empty:
        return ast.NOWHERE
    return ast.Span(meta.line, meta.column, meta.end_line, meta.end_column)


class _Builder:
    def __init__(self, problems: _Problems) -> None:
        self.problems = problems

    def build(self, item: Tree[Token] | Token) -> ast.Node:
        if isinstance(item, Token):  # pragma: no cover - the grammar wraps every token
            raise TypeError(f"unexpected token {item!r}")
        method: Callable[[Tree[Token]], ast.Node] = getattr(self, "_" + str(item.data))
        return method(item)

    def _tokens(self, tree: Tree[Token]) -> list[Token]:
        return [c for c in tree.children if isinstance(c, Token)]

    def _subtrees(self, tree: Tree[Token]) -> list[ast.Node]:
        return [self.build(c) for c in tree.children if isinstance(c, Tree)]

    def _group(self, tree: Tree[Token]) -> ast.Node:
        return self._subtrees(tree)[0]

    def _or_chain(self, tree: Tree[Token]) -> ast.Node:
        return ast.Logical("or", tuple(self._subtrees(tree)), _span(tree))

    def _and_chain(self, tree: Tree[Token]) -> ast.Node:
        return ast.Logical("and", tuple(self._subtrees(tree)), _span(tree))

    def _not_op(self, tree: Tree[Token]) -> ast.Node:
        return ast.Unary("not", self._subtrees(tree)[0], _span(tree))

    def _neg(self, tree: Tree[Token]) -> ast.Node:
        return ast.Unary("-", self._subtrees(tree)[0], _span(tree))

    def _compare(self, tree: Tree[Token]) -> ast.Node:
        left, op_tree, right = tree.children
        assert isinstance(op_tree, Tree)
        op = op_tree.children[0]
        assert isinstance(op, Token)
        return ast.Binary(
            str(op.value), self.build(left), self.build(right), _span(tree), _span(op)
        )

    def _in_op(self, tree: Tree[Token]) -> ast.Node:
        left, right = self._subtrees(tree)
        return ast.Binary("in", left, right, _span(tree), _span(self._tokens(tree)[0]))

    def _not_in_op(self, tree: Tree[Token]) -> ast.Node:
        left, right = self._subtrees(tree)
        tokens = self._tokens(tree)
        first, last = _span(tokens[0]), _span(tokens[-1])
        op_span = ast.Span(first.line, first.column, last.end_line, last.end_column)
        return ast.Binary("not in", left, right, _span(tree), op_span)

    def _arith(self, tree: Tree[Token]) -> ast.Node:
        left, right = self._subtrees(tree)
        op = self._tokens(tree)[0]
        return ast.Binary(str(op.value), left, right, _span(tree), _span(op))

    def _string(self, tree: Tree[Token]) -> ast.Node:
        token = self._tokens(tree)[0]
        span = _span(token)
        value = self._unescape(token.value[1:-1], span)
        if len(value) > MAX_STRING_LENGTH:
            self.problems.add(
                "RK206",
                f"string literal too long: {len(value)} characters, "
                f"the limit is {MAX_STRING_LENGTH}",
                span,
            )
        return ast.Literal(value, span)

    def _unescape(self, body: str, span: ast.Span) -> str:
        if "\\" not in body:
            return body
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt == "u" and len(body) >= i + 6 and _is_hex(body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
            else:
                self.problems.add(
                    "RK201",
                    f"invalid escape '\\{nxt}' in string",
                    span,
                    "valid escapes: \\\\ \\\" \\' \\n \\t \\r \\0 \\uXXXX",
                )
                out.append(nxt)
                i += 2
        return "".join(out)

    def _number(self, tree: Tree[Token]) -> ast.Node:
        token = self._tokens(tree)[0]
        return ast.Literal(self._number_value(token), _span(token))

    def _number_value(self, token: Token) -> int | float:
        text = str(token.value)
        digits = sum(c.isdigit() for c in text)
        if digits > MAX_NUMBER_DIGITS:
            self.problems.add(
                "RK206",
                f"number too long: {digits} digits, the limit is {MAX_NUMBER_DIGITS}",
                _span(token),
            )
            return 0
        return float(text) if "." in text else int(text)

    def _true(self, tree: Tree[Token]) -> ast.Node:
        return ast.Literal(True, _span(tree))

    def _false(self, tree: Tree[Token]) -> ast.Node:
        return ast.Literal(False, _span(tree))

    def _null(self, tree: Tree[Token]) -> ast.Node:
        return ast.Literal(None, _span(tree))

    def _duration(self, tree: Tree[Token]) -> ast.Node:
        token = self._tokens(tree)[0]
        try:
            value = clock_duration(str(token.value))
        except DurationProblem as problem:
            self.problems.add(problem.code, problem.message, _span(token), problem.hint)
            value = clock_duration("0s")
        return ast.DurationLiteral(value, _span(tree))

    def _business_duration(self, tree: Tree[Token]) -> ast.Node:
        number = self._tokens(tree)[0]
        unit_tree = tree.children[1]
        assert isinstance(unit_tree, Tree)
        unit = unit_tree.children[0]
        assert isinstance(unit, Token)
        try:
            value = business_duration(str(number.value), str(unit.value))
        except DurationProblem as problem:
            self.problems.add(problem.code, problem.message, _span(unit), problem.hint)
            value = clock_duration("0s")
        return ast.DurationLiteral(value, _span(tree))

    def _list(self, tree: Tree[Token]) -> ast.Node:
        items = self._subtrees(tree)
        if len(items) > MAX_LIST_ITEMS:
            self.problems.add(
                "RK206",
                f"list literal too long: {len(items)} items, the limit is {MAX_LIST_ITEMS}",
                _span(tree),
            )
        return ast.ListLiteral(tuple(items), _span(tree))

    def _path(self, tree: Tree[Token]) -> ast.Node:
        names = [t for t in self._tokens(tree) if t.type == "NAME"]
        return ast.Path(
            tuple(str(t.value) for t in names), _span(tree), tuple(_span(t) for t in names)
        )

    def _call(self, tree: Tree[Token]) -> ast.Node:
        name = self._tokens(tree)[0]
        return ast.Call(str(name.value), tuple(self._subtrees(tree)), _span(tree), _span(name))

    def _quantifier(self, tree: Tree[Token]) -> ast.Node:
        tokens = self._tokens(tree)
        kind, var = tokens[0], tokens[2]
        iterable, body = self._subtrees(tree)
        return ast.Quantifier(
            str(kind.value), str(var.value), iterable, body, _span(tree), _span(var)
        )


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
