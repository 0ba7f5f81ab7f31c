"""Property: a compiled expression raises nothing but ``EvaluationError``, whatever the payload.

Random expressions of the grammar (operators, calls of every function, quantifiers, lists),
built mostly from free-form attributes so that they type-check, are evaluated on random JSON
payload values: huge integers, NaN and infinities, long strings, control characters, nested
maps and lists, booleans, null.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from dsl_helpers import ARITH, COMPARE, NOW, FakeRuntime, compile_, make_lead, path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulekit.dsl import ANY, CompiledExpression, Env, ast
from rulekit.dsl.ast import (
    Binary,
    Call,
    DurationLiteral,
    ListLiteral,
    Literal,
    Logical,
    Quantifier,
    Unary,
    unparse,
)
from rulekit.dsl.duration import Duration
from rulekit.dsl.functions import FUNCTIONS
from rulekit.errors import EvaluationError, RulekitErrors
from rulekit.model import Agent, Office

SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

KEYS = ("a", "b", "c", "d")
TYPED = ("lead.source", "lead.property.price", "lead.property.zip", "now", "agent.load",
         "agent.zips", "agent.capacity", "agent.tags", "office.agent_count", "lead.attributes")
PLAIN = sorted(name for name, f in FUNCTIONS.items() if f.calling == "plain")


attribute_paths = st.sampled_from([path(f"lead.attributes.{k}") for k in KEYS])
leaves = st.one_of(
    attribute_paths,
    attribute_paths,
    attribute_paths,
    st.sampled_from([path(f"lead.attributes.{k}.{j}") for k in KEYS[:2] for j in ("x", "y")]),
    st.sampled_from([path(f) for f in TYPED]),
    st.just(path("v")),  # a quantifier's variable (does not check outside one: skipped)
    st.builds(Literal, st.integers(0, 10**29) | st.sampled_from([0, 1, 2, 0.5, 400, 401])),
    st.builds(Literal, st.text(max_size=5) | st.sampled_from(["", "x", "vip"])),
    st.builds(Literal, st.sampled_from([True, False, None])),
    st.builds(DurationLiteral, st.builds(Duration, st.sampled_from([60, 3600, 86400]),
                                         st.just(False))),
)


numbers = st.builds(Literal, st.sampled_from([0, 1, 2, 1.5, 0.25, 400, 10**29]))
#: Small shapes that work on attributes directly: the operations a loose value can break.
risky = st.one_of(
    st.builds(Quantifier, st.sampled_from(["any", "all"]), st.just("v"), attribute_paths,
              st.sampled_from([path("v"), Literal(True), Binary("==", path("v"), Literal(1))])),
    st.builds(lambda f, a, b: Call(f, (a, b)),
              st.sampled_from(["overlaps", "round", "min", "max", "contains", "coalesce"]),
              attribute_paths, attribute_paths | numbers),
    st.builds(Binary, st.sampled_from(ARITH), attribute_paths, attribute_paths | numbers),
    st.builds(Binary, st.sampled_from(ARITH), numbers, attribute_paths),
    st.builds(lambda f, a: Call(f, (a,)), st.sampled_from(["abs", "round", "len", "lower"]),
              attribute_paths),
    st.builds(Unary, st.just("-"), attribute_paths),
)
leaves = st.one_of(leaves, risky, risky)


def compound(children: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Node]:
    def call(name: str, args: list[ast.Node]) -> ast.Node:
        low, high = FUNCTIONS[name].min_args, FUNCTIONS[name].max_args or 3
        return Call(name, tuple((args * 3)[:max(low, min(len(args), high))]))

    calendar = st.sampled_from(["is_open", "after_hours", "is_holiday", "day_of_week",
                                "local_hour"]).map(lambda n: Call(n, (Literal("office-hours"),)))
    return st.one_of(
        st.builds(Unary, st.sampled_from(["not", "-"]), children),
        st.builds(Binary, st.sampled_from(ARITH + COMPARE), children, children),
        st.builds(Logical, st.sampled_from(["and", "or"]),
                  st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(ListLiteral, st.lists(children, max_size=3).map(tuple)),
        st.builds(call, st.sampled_from(PLAIN), st.lists(children, min_size=1, max_size=3)),
        st.builds(Quantifier, st.sampled_from(["any", "all"]), st.just("v"), children, children),
        calendar,
        st.builds(lambda a: Call("owner_in", (a,)), children),
    )


expressions = st.recursive(leaves, compound, max_leaves=10)

storable = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**308, 10**399, 10**400, -(10**401), 2**64, 10**4000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0]),
    st.text(storable, max_size=8),
    st.text(st.characters(min_codepoint=1, max_codepoint=0x1F), max_size=4),
    st.sampled_from(["x" * 60_000, "é" * 100_001, "vip", "28277", "a-ann"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(["x", "y", "z"]), children,
                                               max_size=3)),
    max_leaves=10,
)
attributes = st.fixed_dictionaries({k: st.one_of(scalars, values) for k in KEYS})

AGENT = Agent(id="a-ann", zips=["28277"], tags=["vip"], offices=["o-1"], capacity=3)
OFFICE = Office(id="o-1", city="Charlotte")


@SETTINGS
@given(expressions, st.lists(attributes, min_size=1, max_size=4),
       st.sampled_from(["agent", "office"]))
def test_expressions_raise_only_evaluation_errors(tree: ast.Node,
                                                  payloads: list[dict[str, Any]],
                                                  context: str) -> None:
    text = unparse(tree)
    try:
        expr = compile_(text, context, expected=None)
    except RulekitErrors:
        return  # does not check: never reaches routing
    try:  # the boolean form used by conditions, too
        condition: CompiledExpression | None = compile_(text, context)
    except RulekitErrors:
        condition = None
    for attrs in payloads:
        env = Env(make_lead(attributes=attrs), now=NOW, runtime=FakeRuntime({"global": "a-ann"}),
                  agent=AGENT, agent_load=2, office=OFFICE, office_agent_count=10**20)
        try:
            expr(env)
        except EvaluationError as error:
            assert error.expression == text
            assert error.location is not None
            assert error.reason
        if condition is not None:
            with contextlib.suppress(EvaluationError):
                bool(condition(env))  # as the engine reads a condition


def test_the_strategy_reaches_evaluation_errors() -> None:
    """A sanity check of the property's inputs: some expressions do fail on some payloads."""
    expr = compile_("any(v in lead.attributes.a: v == 1)", expected=ANY)
    try:
        expr(Env(make_lead(attributes={"a": 3})))
    except EvaluationError as error:
        assert error.reason == "any() needs a list, got the number 3"
    else:
        raise AssertionError("expected an EvaluationError")
