"""Property tests: print/parse round trip, and compiled code against a reference interpreter."""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dsl_helpers import ARITH, COMPARE, compile_, locate, path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulekit.dsl import ast
from rulekit.dsl.ast import (
    Binary,
    Call,
    DurationLiteral,
    ListLiteral,
    Literal,
    Logical,
    Path,
    Quantifier,
    Unary,
    unparse,
)
from rulekit.dsl.duration import Duration
from rulekit.dsl.fields import Env
from rulekit.dsl.parse import parse
from rulekit.model import Agent, Lead

KEYWORDS = {
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "null",
    "any",
    "all",
    "business_hours",
    "business_hour",
    "business_minutes",
    "business_minute",
    "business_days",
    "business_day",
}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- (a) round trip -------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in KEYWORDS
)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
numbers = st.integers(0, 10**15) | st.integers(0, 10**6).map(lambda n: n / 100)
durations = st.builds(Duration, st.integers(0, 366 * 86400), st.just(False)) | st.builds(
    Duration, st.integers(0, 8784).map(lambda n: n * 60), st.just(True)
)
leaves = st.one_of(
    st.builds(Literal, texts),
    st.builds(Literal, numbers),
    st.builds(Literal, st.sampled_from([True, False, None])),
    st.builds(DurationLiteral, durations),
    st.builds(lambda s: Path(tuple(s)), st.lists(names, min_size=1, max_size=4)),
)


def compound(children: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Node]:
    return st.one_of(
        st.builds(Unary, st.sampled_from(["not", "-"]), children),
        st.builds(Binary, st.sampled_from(ARITH + COMPARE), children, children),
        st.builds(
            Logical,
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=4).map(tuple),
        ),
        st.builds(ListLiteral, st.lists(children, max_size=3).map(tuple)),
        st.builds(Call, names, st.lists(children, max_size=3).map(tuple)),
        st.builds(Quantifier, st.sampled_from(["any", "all"]), names, children, children),
    )


trees = st.recursive(leaves, compound, max_leaves=16)


@SETTINGS
@given(trees)
def test_unparse_then_parse_gives_the_same_tree(tree: ast.Node) -> None:
    text = unparse(tree)
    assert parse(text, locate=locate) == tree, text


def test_round_trip_keeps_needed_parentheses() -> None:
    a, b, c = Path(("a",)), Path(("b",)), Path(("c",))
    assert unparse(Binary("-", a, Binary("-", b, c))) == "a - (b - c)"
    assert unparse(Logical("and", (Logical("or", (a, b)), c))) == "(a or b) and c"
    assert unparse(Unary("not", Logical("and", (a, b)))) == "not (a and b)"
    assert unparse(Binary("==", Binary("<", a, b), c)) == "(a < b) == c"


# --- (b) compiled code == reference interpreter ---------------------------------------------

NUM_FIELDS = ["lead.property.price", "agent.load", "agent.capacity"]
STR_FIELDS = ["lead.source", "lead.channel", "lead.property.zip"]
WORDS = ["a", "ab", "b", "282", "28202", ""]


def num_leaf() -> st.SearchStrategy[ast.Node]:
    return st.one_of(
        st.builds(Literal, st.integers(0, 5)),
        st.builds(Literal, st.sampled_from([0.5, 2.25])),
        st.sampled_from([path(f) for f in NUM_FIELDS]),
    )


def str_leaf(var: bool) -> st.SearchStrategy[ast.Node]:
    options = [
        st.builds(Literal, st.sampled_from(WORDS)),
        st.sampled_from([path(f) for f in STR_FIELDS]),
    ]
    if var:
        options.append(st.just(path("z")))
    return st.one_of(*options)


def nums(depth: int, var: bool) -> st.SearchStrategy[ast.Node]:
    if depth == 0:
        return num_leaf()
    sub = nums(depth - 1, var)
    return st.one_of(
        num_leaf(),
        st.builds(Binary, st.sampled_from(ARITH), sub, sub),
        st.builds(Unary, st.just("-"), sub),
        st.builds(lambda a, b: Call("coalesce", (a, b)), sub, sub),
        st.builds(lambda n, a, b: Call(n, (a, b)), st.sampled_from(["min", "max"]), sub, sub),
        st.builds(lambda a: Call("abs", (a,)), sub),
        st.builds(lambda a, d: Call("round", (a, Literal(d))), sub, st.integers(0, 2)),
        st.builds(lambda s: Call("len", (s,)), strs(depth - 1, var)),
    )


def strs(depth: int, var: bool) -> st.SearchStrategy[ast.Node]:
    if depth == 0:
        return str_leaf(var)
    sub = strs(depth - 1, var)
    return st.one_of(
        str_leaf(var),
        st.builds(lambda n, a: Call(n, (a,)), st.sampled_from(["lower", "upper"]), sub),
        st.builds(lambda a, b: Call("coalesce", (a, b)), sub, sub),
    )


def bools(depth: int, var: bool = False) -> st.SearchStrategy[ast.Node]:
    base = st.one_of(
        st.builds(Literal, st.booleans()),
        st.just(path("agent.paused")),
        st.just(path("lead.attributes.vip")),
        st.builds(
            Binary, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), nums(0, var), nums(0, var)
        ),
        st.builds(Binary, st.sampled_from(["==", "!="]), str_leaf(var), str_leaf(var)),
    )
    if depth == 0:
        return base
    sub = bools(depth - 1, var)
    s, n = strs(depth - 1, var), nums(depth - 1, var)
    str_list = st.lists(st.builds(Literal, st.sampled_from([*WORDS, None])), max_size=3)
    quantifiers = st.builds(
        lambda k, body: Quantifier(k, "z", path("agent.zips"), body),
        st.sampled_from(["any", "all"]),
        bools(depth - 1, True),
    )
    return st.one_of(
        base,
        *([] if var else [quantifiers]),
        st.builds(Binary, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), n, n),
        st.builds(Binary, st.sampled_from(["==", "!=", "<", ">="]), s, s),
        st.builds(
            lambda op, a, items: Binary(op, a, ListLiteral(tuple(items))),
            st.sampled_from(["in", "not in"]),
            s,
            str_list,
        ),
        st.builds(Binary, st.sampled_from(["in", "not in"]), s, st.just(path("agent.zips"))),
        st.builds(Binary, st.sampled_from(["in", "not in"]), s, s),
        st.builds(
            lambda f, a, b: Call(f, (a, b)),
            st.sampled_from(["contains", "starts_with", "ends_with"]),
            s,
            s,
        ),
        st.builds(Unary, st.just("not"), sub),
        st.builds(
            Logical,
            st.sampled_from(["and", "or"]),
            st.lists(sub, min_size=2, max_size=3).map(tuple),
        ),
    )


def truth(x: object) -> bool:
    return x is True


ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def reference(node: ast.Node, values: dict[str, Any]) -> Any:
    """A tiny, independent interpreter of the documented semantics."""
    ev = lambda n: reference(n, values)  # noqa: E731
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ListLiteral):
        return [ev(i) for i in node.items]
    if isinstance(node, Path):
        return values[node.dotted]
    if isinstance(node, Unary):
        v = ev(node.operand)
        if node.op == "not":
            return not truth(v)
        return None if v is None else -v
    if isinstance(node, Logical):
        results = [truth(ev(o)) for o in node.operands]
        return all(results) if node.op == "and" else any(results)
    if isinstance(node, Binary):
        a, b = ev(node.left), ev(node.right)
        if node.op == "==":
            return a == b
        if node.op == "!=":
            return a != b
        if node.op in ORDER:
            return a is not None and b is not None and ORDER[node.op](a, b)
        if node.op in ("in", "not in"):
            found = a is not None and b is not None and a in b
            return found if node.op == "in" else not found
        if a is None or b is None:
            return None
        if node.op == "/":
            return None if b == 0 else a / b
        return {"+": operator.add, "-": operator.sub, "*": operator.mul}[node.op](a, b)
    if isinstance(node, Call):
        args = [ev(a) for a in node.args]
        name = node.name
        if name == "coalesce":
            return next((a for a in args if a is not None), None)
        if name in ("min", "max"):
            present = [a for a in args if a is not None]
            return (min if name == "min" else max)(present) if present else None
        if name in ("contains", "starts_with", "ends_with"):
            h, x = args
            if h is None or x is None:
                return False
            return {"contains": x in h, "starts_with": h.startswith(x), "ends_with": h.endswith(x)}[
                name
            ]
        (a, *rest) = args
        if a is None:
            return None
        if name == "round":
            return round(a, rest[0])
        return {"lower": str.lower, "upper": str.upper, "abs": abs, "len": len}[name](a)
    if isinstance(node, Quantifier):
        items = ev(node.iterable) or []
        results = [truth(reference(node.body, {**values, "z": z})) for z in items]
        return any(results) if node.kind == "any" else all(results)
    raise AssertionError(node)


maybe_word = st.none() | st.sampled_from(WORDS[:-1])
worlds = st.fixed_dictionaries(
    {
        "lead.source": st.sampled_from(WORDS[:-1]),
        "lead.channel": maybe_word,
        "lead.property.zip": maybe_word,
        "lead.property.price": st.none() | st.integers(0, 5).map(float),
        "agent.load": st.integers(0, 5),
        "agent.capacity": st.none() | st.integers(0, 5),
        "agent.zips": st.lists(st.sampled_from(WORDS[:-1]), max_size=3),
        "agent.paused": st.booleans(),
        "lead.attributes.vip": st.sampled_from([None, True, False, "yes", 1]),
    }
)


@SETTINGS
@given(bools(3), worlds)
def test_compiled_code_matches_the_reference_interpreter(
    tree: ast.Node, values: dict[str, Any]
) -> None:
    lead = Lead(
        id="l",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        source=values["lead.source"],
        channel=values["lead.channel"],
        property={"zip": values["lead.property.zip"], "price": values["lead.property.price"]},
        attributes={}
        if values["lead.attributes.vip"] is None
        else {"vip": values["lead.attributes.vip"]},
    )
    agent = Agent(
        id="a",
        zips=values["agent.zips"],
        paused=values["agent.paused"],
        capacity=values["agent.capacity"],
    )
    text = unparse(tree)
    expr = compile_(text, "agent")
    got = expr(Env(lead, agent=agent, agent_load=values["agent.load"]))
    want = reference(tree, values)
    assert got is want, (text, expr.source)
