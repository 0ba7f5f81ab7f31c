"""Run-time failures: values from a lead's payload never crash an expression.

Each case raised a Python error (or hung, or tried to allocate gigabytes) out of the compiled
function; now it gives a documented value, or one ``EvaluationError`` naming the expression,
its location and the reason.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dsl_helpers import NOW, compile_, make_lead

import rulekit
from rulekit.dsl import ANY, NUMBER, Env
from rulekit.dsl.functions import MAX_BUILT_STRING, MAX_INTEGER_DIGITS, MAX_ROUND_DIGITS
from rulekit.errors import EvaluationError, RulekitError
from rulekit.model import Agent

HUGE = 10**MAX_INTEGER_DIGITS  # 401 digits


def evaluate(text: str, attributes: dict[str, Any], *, expected: Any = None,
             context: str = "condition", **env: Any) -> object:
    expr = compile_(text, context, expected=expected)
    return expr(Env(make_lead(attributes=attributes), now=NOW, **env))


def failure(text: str, attributes: dict[str, Any], **env: Any) -> EvaluationError:
    with pytest.raises(EvaluationError) as info:
        evaluate(text, attributes, **env)
    return info.value


# --- the crashes seen in the field ----------------------------------------------------------


def test_any_over_a_number() -> None:
    error = failure("any(x in lead.attributes.tags: x == 'vip')", {"tags": 3})
    assert error.reason == "any() needs a list, got the number 3"
    assert error.expression == "any(x in lead.attributes.tags: x == 'vip')"
    assert str(error.location) == "rules.yaml:1:1"
    assert str(error) == ("rules.yaml:1:1: could not evaluate "
                          "`any(x in lead.attributes.tags: x == 'vip')`: "
                          "any() needs a list, got the number 3")
    assert isinstance(error, RulekitError)


def test_all_over_a_number() -> None:
    error = failure("all(x in lead.attributes.tags: x != 'spam')", {"tags": 2.5})
    assert error.reason == "all() needs a list, got the number 2.5"


def test_quantifier_over_a_string_or_a_map() -> None:
    assert failure("any(x in lead.attributes.t: x == 'a')", {"t": "abc"}).reason == \
        "any() needs a list, got the string 'abc'"
    assert failure("any(x in lead.attributes.t: x == 'a')", {"t": {"a": 1}}).reason == \
        "any() needs a list, got a map of 1 key"
    # null is still no items, and a list still works
    assert evaluate("any(x in lead.attributes.missing: x == 'a')", {}) is False
    assert evaluate("all(x in lead.attributes.missing: x == 'a')", {}) is True
    assert evaluate("any(x in lead.attributes.t: x == 'a')", {"t": ["b", "a"]}) is True


def test_overlaps_over_a_number() -> None:
    error = failure("overlaps(lead.attributes.zips, ['28202'])", {"zips": 28202})
    assert error.reason == "overlaps() needs a list, got the number 28202"
    error = failure("overlaps(['28202'], lead.attributes.zips)", {"zips": True})
    assert error.reason == "overlaps() needs a list, got the boolean true"


def test_overlaps_of_lists_of_maps_is_linear_and_correct() -> None:
    many = [{"k": i} for i in range(20_000)]
    assert evaluate("overlaps(lead.attributes.a, lead.attributes.b)",
                    {"a": many, "b": [{"k": 19_999}]}) is True
    assert evaluate("overlaps(lead.attributes.a, lead.attributes.b)",
                    {"a": many, "b": [{"k": -1}, [1, 2]]}) is False
    assert evaluate("overlaps(lead.attributes.a, lead.attributes.b)",
                    {"a": [[1, 2]], "b": [[1, 2]]}) is True


def test_a_401_digit_integer_times_a_float() -> None:
    error = failure("lead.attributes.n * 1.5 > 0", {"n": HUGE})
    assert error.reason == (f"'*' works on numbers of at most {MAX_INTEGER_DIGITS} digits, "
                            f"got a number of more than {MAX_INTEGER_DIGITS} digits")


def test_integer_results_are_bounded() -> None:
    big = 10**(MAX_INTEGER_DIGITS - 1)
    error = failure("lead.attributes.n * lead.attributes.n > 0", {"n": big})
    assert error.reason.endswith(f"has more than {MAX_INTEGER_DIGITS} digits")
    assert evaluate("lead.attributes.n + 1 > lead.attributes.n", {"n": big}) is True


def test_float_overflow_and_non_finite_numbers() -> None:
    error = failure("lead.attributes.n * 10 > 0", {"n": 1e308})
    assert error.reason == "the result of 1e+308 * 10 is infinity, not a finite number"
    error = failure("lead.attributes.n / 3 > 0", {"n": 10**399})
    assert "is too large" in error.reason  # an integer division beyond the float range
    assert failure("lead.attributes.n + 1 > 0", {"n": math.nan}).reason == \
        "'+' works on finite numbers, got NaN"
    assert failure("-lead.attributes.n < 0", {"n": math.inf}).reason == \
        "'-' works on finite numbers, got infinity"
    assert failure("abs(lead.attributes.n) > 0", {"n": -math.inf}).reason == \
        "abs() works on finite numbers, got -infinity"
    # comparisons take such numbers as they are
    assert evaluate("lead.attributes.n > 5", {"n": math.inf}) is True
    assert evaluate("lead.attributes.n > 5 or lead.attributes.n <= 5", {"n": math.nan}) is False
    assert evaluate("lead.attributes.n > 5", {"n": HUGE}) is True


def test_round_with_nan_digits() -> None:
    error = failure("round(lead.attributes.x, lead.attributes.d) > 0", {"x": 1.5, "d": math.nan})
    assert error.reason == (f"round() needs digits from -{MAX_ROUND_DIGITS} to "
                            f"{MAX_ROUND_DIGITS}, got NaN")
    assert failure("round(lead.attributes.x) > 0", {"x": math.inf}).reason == \
        "round() works on finite numbers, got infinity"
    assert evaluate("round(lead.attributes.x, 1)", {"x": 2.25}, expected=NUMBER) == 2.2
    assert evaluate("round(lead.attributes.x, -2)", {"x": 1234}, expected=NUMBER) == 1200


def test_durations_and_times_out_of_range() -> None:
    error = failure("now + 1h * lead.attributes.n > now", {"n": 10**20})
    assert "out of the range of times and durations" in error.reason
    error = failure("now + 1d * lead.attributes.n > now", {"n": 10**7})
    assert "out of the range of times and durations" in error.reason
    assert evaluate("now + 1h * lead.attributes.n > now", {"n": 2}) is True


def test_strings_built_by_plus_are_bounded() -> None:
    half = "x" * (MAX_BUILT_STRING // 2 + 1)
    error = failure("lead.attributes.s + lead.attributes.s == ''", {"s": half})
    assert error.reason == (f"'+' would build a string of {2 * len(half):,} characters, "
                            f"more than {MAX_BUILT_STRING:,}")
    # the typed fast path is bounded too: a lead's own strings may be long
    lead = make_lead(source=half)
    expr = compile_("lead.source + lead.source == ''")
    with pytest.raises(EvaluationError):
        expr(Env(lead))
    assert evaluate("lead.attributes.a + lead.attributes.b == 'ab'", {"a": "a", "b": "b"})


def test_repetition_and_list_joining_do_not_fit() -> None:
    # not operations of the DSL (string * number, list + list): null, like other misfits
    assert evaluate("lead.attributes.s * 3", {"s": "ab"}, expected=ANY) is None
    assert evaluate("lead.attributes.l * 3", {"l": [1]}, expected=ANY) is None
    assert evaluate("lead.attributes.l + lead.attributes.l", {"l": [1]}, expected=ANY) is None
    assert evaluate("lead.attributes.b * 3", {"b": True}, expected=ANY) is None


def test_a_list_never_equals_a_string() -> None:
    agent = Agent(id="a", zips=["a", "b"])
    assert evaluate("agent.zips == lead.attributes.s", {"s": "ab"}, context="agent",
                    agent=agent, agent_load=0) is False
    assert evaluate("agent.zips == lead.attributes.s", {"s": ["a", "b"]}, context="agent",
                    agent=agent, agent_load=0) is True


def test_deeply_nested_values_are_an_evaluation_error() -> None:
    deep: list[Any] = []
    for _ in range(5_000):
        deep = [deep]
    other: list[Any] = []
    for _ in range(5_000):
        other = [other]
    error = failure("lead.attributes.a == lead.attributes.b", {"a": deep, "b": other})
    assert error.reason == "a value is nested too deeply"


def test_the_typed_fast_path_is_wrapped_too() -> None:
    # agent.load and literals are non-null numbers: their arithmetic is plain Python
    big = " * ".join(["100000000000000000000000000000"] * 11)
    expr = compile_(f"agent.load * {big} * 1.5 > 0", "agent")
    assert "_h_mul" not in expr.source
    with pytest.raises(EvaluationError) as info:
        expr(Env(make_lead(), agent=Agent(id="a"), agent_load=1))
    assert info.value.reason.startswith("a number is out of range (")


def test_errors_quote_long_expressions_briefly() -> None:
    text = " or ".join(["lead.source == 'x'"] * 40) + " or any(x in lead.attributes.n: x)"
    error = failure(text, {"n": 1})
    assert error.expression == text
    assert len(error.quoted) == EvaluationError.QUOTED and error.quoted.endswith("…")


def test_reasons_quote_values_briefly() -> None:
    long = "y" * 5000
    error = failure("any(x in lead.attributes.t: x == 'a')", {"t": long})
    assert error.reason == "any() needs a list, got the string " \
        f"'{'y' * 40}…' (5,000 characters)"
    error = failure("any(x in lead.attributes.t: x == 'a')", {"t": 10**100})
    assert error.reason == "any() needs a list, got the number " \
        f"{'1' + '0' * 20}… (101 digits)"
    error = failure("any(x in lead.attributes.t: x == 'a')", {"t": "a\x1bb"})
    assert error.reason == r"any() needs a list, got the string 'a\x1bb'"


def test_durations_typed_any_still_work() -> None:
    expr = compile_("lead.attributes.d * 2", expected=ANY)
    lead = make_lead(attributes={"d": timedelta(hours=1)})
    assert expr(Env(lead)) == timedelta(hours=2)


# --- cases that hang or allocate gigabytes: checked in a bounded child process ---------------

CHILD = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
from rulekit.dsl import ANY, Env, compile_expression
from rulekit.errors import SourceLocation
from rulekit.model import Lead
expr = compile_expression({text!r}, "condition", expected=ANY,
                          locate=lambda line, column: SourceLocation("rules.yaml", line, column))
lead = Lead.model_validate({{"id": "l", "received_at": "2026-11-24T14:05:00-05:00",
                            "source": "s", "attributes": {attributes}}})
try:
    value = expr(Env(lead))
except BaseException as error:
    print(json.dumps(["error", type(error).__name__, getattr(error, "reason", str(error))]))
else:
    print(json.dumps(["value", repr(value)]))
"""


def bounded(text: str, attributes: str) -> list[str]:
    """Evaluate in a child process with 1.5 GB of address space and 60 s."""
    code = "import json\n" + textwrap.dedent(CHILD).format(text=text, attributes=attributes)
    package = str(Path(rulekit.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": package}
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60, env=env, check=False)
    except subprocess.TimeoutExpired:
        return ["timeout"]
    assert done.stdout, done.stderr
    result: list[str] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_round_big_by_minus_big_returns() -> None:
    result = bounded("round(lead.attributes.x, lead.attributes.d)",
                     '{"x": 10**300, "d": -10**300}')
    assert result[:2] == ["error", "EvaluationError"], result
    assert result[2] == (f"round() needs digits from -{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}, "
                         f"got -{'1' + '0' * 19}… (301 digits)")


def test_string_times_a_trillion_allocates_nothing() -> None:
    result = bounded("lead.attributes.s * lead.attributes.n", '{"s": "x", "n": 10**12}')
    assert result == ["value", "None"], result


def test_list_times_a_billion_allocates_nothing() -> None:
    result = bounded("lead.attributes.l * lead.attributes.n", '{"l": [1], "n": 10**9}')
    assert result == ["value", "None"], result
