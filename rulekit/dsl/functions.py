"""The function whitelist: names, arity, typing rules and run-time helpers.

===============================================  ==========================================
call                                             result
===============================================  ==========================================
``lower(s)``, ``upper(s)``                       string (null for null)
``len(x)`` — string or list                      number (null for null)
``contains(haystack, needle)``                   boolean: substring, or list membership
``starts_with(s, prefix)``, ``ends_with(s, x)``  boolean (false for null)
``coalesce(a, b, ...)``                          the first non-null argument
``min(a, b, ...)``, ``max(a, b, ...)``           smallest / largest non-null argument
``abs(n)``, ``round(n)``, ``round(n, digits)``   number (null for null)
``overlaps(list, list)``                         boolean: the lists share an element
``owner_in(scope)``                              string?: the contact's owner in that scope
``is_open("cal")``, ``after_hours("cal")``       boolean, at ``now``
``is_holiday("cal")``                            boolean: ``now``'s local date is a holiday
``day_of_week("cal")``                           string ``"mon"`` .. ``"sun"``
``local_hour("cal")``                            number 0..23
``local_time_between("cal", "08:00", "12:00")``  boolean: start <= local time < end
===============================================  ==========================================

Calendar functions take the calendar name as a string literal, checked against the calendars
the caller declares (RK302 when unknown); they evaluate at ``now`` in the calendar's time zone.
``local_time_between`` wraps past midnight when the start is after the end.  At run time they
ask the :class:`Runtime` for the calendar, and ``owner_in`` asks it for the contact's owner.

Run-time checks: every helper checks the kinds of its arguments, since values typed ``any``
(``lead.attributes.*``) are only known then.  Most give null (or false) for a value that does
not fit; a value or a result that cannot be worked with (``any()`` over a number, a number
beyond :data:`MAX_INTEGER_DIGITS` digits, NaN in arithmetic, a string past
:data:`MAX_BUILT_STRING` characters) raises :class:`Unevaluable` with the reason, which the
compiled expression turns into :class:`rulekit.errors.EvaluationError` with its location.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from rulekit.suggest import did_you_mean

from . import ast
from .types import ANY, BOOLEAN, NUMBER, STRING, Kind, Type, nullable, unify


class CalendarLike(Protocol):
    """What calendar functions need from a calendar."""

    def is_open(self, t: datetime) -> bool: ...

    def local(self, t: datetime) -> datetime: ...

    def is_holiday(self, d: date) -> bool: ...


class Runtime(Protocol):
    """What compiled expressions ask the engine for at evaluation time."""

    def calendar(self, name: str) -> CalendarLike: ...

    def contact_owner(self, scope: str) -> str | None: ...


class Checking(Protocol):
    """The checker services a typing rule may use."""

    calendars: Collection[str]

    def error(self, code: str, message: str, span: ast.Span, hint: str | None = None) -> None: ...


Typer = Callable[[ast.Call, Sequence[Type], Checking], Type]


@dataclass(frozen=True)
class Function:
    """A whitelisted function."""

    name: str
    signature: str
    doc: str
    min_args: int
    max_args: int | None
    typer: Typer
    helper: Callable[..., Any]
    #: "plain": helper(*args); "runtime": helper(runtime, *args);
    #: "calendar": helper(runtime, now, *args).
    calling: str = "plain"


# --- typing rules ---------------------------------------------------------------------------


def _is(t: Type, *kinds: Kind) -> bool:
    return t.kind is Kind.ANY or t.kind in kinds


def _expect(call: ast.Call, index: int, t: Type, *, what: str, ok: bool, c: Checking) -> None:
    if not ok:
        c.error(
            "RK205",
            f"argument {index + 1} of {call.name}() must be {what}, not {t}",
            call.args[index].span,
        )


def _nullable_if(result: Type, *args: Type) -> Type:
    return nullable(result) if any(a.may_be_null for a in args) else result


def _string_to_string(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    _expect(call, 0, args[0], what="a string", ok=_is(args[0], Kind.STRING), c=c)
    return _nullable_if(STRING, args[0])


def _len(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    ok = _is(args[0], Kind.STRING, Kind.LIST, Kind.MAP)
    _expect(call, 0, args[0], what="a string or a list", ok=ok, c=c)
    return _nullable_if(NUMBER, args[0])


def _contains(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    hay, needle = args
    if hay.kind is Kind.LIST:
        assert hay.element is not None
        element = hay.element
        if not (needle.kind in (Kind.ANY, Kind.NULL) or element.kind is Kind.ANY) and (
            unify(element, needle) is None
        ):
            _expect(call, 1, needle, what=f"a {element.non_null()}", ok=False, c=c)
    else:
        _expect(call, 0, hay, what="a string or a list", ok=_is(hay, Kind.STRING), c=c)
        _expect(call, 1, needle, what="a string", ok=_is(needle, Kind.STRING), c=c)
    return BOOLEAN


def _string_pair(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    for i, t in enumerate(args):
        _expect(call, i, t, what="a string", ok=_is(t, Kind.STRING), c=c)
    return BOOLEAN


def _coalesce(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    result = args[0]
    for i, t in enumerate(args[1:], start=1):
        merged = unify(result.as_nullable(), t)
        if merged is None:
            _expect(
                call, i, t, what=f"a {result.non_null()} like the first argument", ok=False, c=c
            )
            return ANY
        result = merged
    if not args[-1].may_be_null or any(not a.may_be_null for a in args):
        return result.non_null()
    return result


def _min_max(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    result: Type | None = None
    for i, t in enumerate(args):
        if not _is(t, Kind.NUMBER, Kind.STRING, Kind.TIME, Kind.DURATION, Kind.NULL):
            _expect(call, i, t, what="a number, string, time or duration", ok=False, c=c)
            return ANY
        merged = t if result is None else unify(result, t)
        if merged is None:
            _expect(call, i, t, what=f"a {result} like the other arguments", ok=False, c=c)
            return ANY
        result = merged
    assert result is not None
    if any(not a.may_be_null for a in args):
        return result.non_null()
    return result.as_nullable()


def _number_fn(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    for i, t in enumerate(args):
        _expect(call, i, t, what="a number", ok=_is(t, Kind.NUMBER), c=c)
    return _nullable_if(NUMBER, *args)


def _overlaps(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    for i, t in enumerate(args):
        _expect(call, i, t, what="a list", ok=_is(t, Kind.LIST), c=c)
    if all(t.kind is Kind.LIST for t in args):
        a, b = (t.element for t in args)
        assert a is not None and b is not None
        if unify(a, b) is None:
            _expect(call, 1, args[1], what=f"a list<{a}> like the first argument", ok=False, c=c)
    return BOOLEAN


def _owner_in(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    _expect(call, 0, args[0], what="a string (a scope key)", ok=_is(args[0], Kind.STRING), c=c)
    return nullable(STRING)


def _calendar_name(call: ast.Call, c: Checking) -> None:
    arg = call.args[0]
    if not (isinstance(arg, ast.Literal) and isinstance(arg.value, str)):
        c.error(
            "RK205",
            f"the calendar of {call.name}() must be a string literal naming a calendar",
            arg.span,
            hint=f'write {call.name}("office-hours")',
        )
        return
    if arg.value not in c.calendars:
        c.error(
            "RK302",
            f"undefined calendar '{arg.value}'",
            arg.span,
            hint=did_you_mean(arg.value, c.calendars),
        )


def _calendar(result: Type) -> Typer:
    def typer(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
        _calendar_name(call, c)
        return result

    return typer


_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def clock_time(text: str) -> time | None:
    """``"08:30"`` → ``time(8, 30)``; ``None`` when not a valid HH:MM."""
    match = _CLOCK.fullmatch(text)
    return time(int(match.group(1)), int(match.group(2))) if match else None


def _time_between(call: ast.Call, args: Sequence[Type], c: Checking) -> Type:
    _calendar_name(call, c)
    for i in (1, 2):
        arg = call.args[i]
        if not (isinstance(arg, ast.Literal) and isinstance(arg.value, str)) or (
            clock_time(arg.value) is None
        ):
            c.error(
                "RK205",
                f'argument {i + 1} of local_time_between() must be a time literal like "08:00"',
                arg.span,
            )
    return BOOLEAN


# --- run-time helpers -----------------------------------------------------------------------

#: Longest string an expression may build (``+`` of two strings), in characters.
MAX_BUILT_STRING = 100_000
#: Most digits of a whole number that arithmetic and the number functions work with or give.
MAX_INTEGER_DIGITS = 400
#: Widest ``digits`` of ``round(n, digits)``, either way.
MAX_ROUND_DIGITS = 400
#: Numbers of at most :data:`MAX_INTEGER_DIGITS` digits are smaller than this in magnitude.
INTEGER_LIMIT = 10**MAX_INTEGER_DIGITS

#: Longest part of a string value quoted in a reason.
_QUOTED = 40


class Unevaluable(Exception):
    """Why an expression cannot be evaluated on the values it got: raised by the run-time
    helpers, turned into :class:`rulekit.errors.EvaluationError` (with the expression's text
    and location) by the compiled function."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_number(x: object) -> bool:
    """An int or a float, not a boolean."""
    return isinstance(x, int | float) and not isinstance(x, bool)


def shown(value: object) -> str:
    """A run-time value, briefly, as a reason quotes it: ``3``, ``NaN``, ``"abc"``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "infinity" if value > 0 else "-infinity"
        return repr(value)
    if isinstance(value, int):
        if not -INTEGER_LIMIT < value < INTEGER_LIMIT:
            return f"a number of more than {MAX_INTEGER_DIGITS} digits"
        text = str(value)
        digits = len(text.lstrip("-"))
        return text if digits <= 30 else f"{text[:21]}… ({digits} digits)"
    if isinstance(value, str):
        quoted = repr(value[:_QUOTED])
        return quoted if len(value) <= _QUOTED else f"{quoted[:-1]}…{quoted[-1]} " \
            f"({len(value):,} characters)"
    return describe(value)


def describe(value: object) -> str:
    """A run-time value in words, for reasons: ``the number 3``, ``a list of 2 items``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {shown(value)}"
    if isinstance(value, int | float):
        text = shown(value)
        return text if text.startswith("a number") else f"the number {text}"
    if isinstance(value, str):
        return f"the string {shown(value)}"
    if isinstance(value, list | tuple | set | frozenset):
        count = len(value)
        return f"a list of {count} item{'' if count == 1 else 's'}"
    if isinstance(value, dict):
        count = len(value)
        return f"a map of {count} key{'' if count == 1 else 's'}"
    if isinstance(value, datetime):
        return f"the time {value.isoformat()}"
    if isinstance(value, timedelta):
        return f"the duration {value}"
    return f"a {type(value).__name__} record"


def check_number(x: int | float, what: str) -> None:
    """Raise :class:`Unevaluable` unless ``x`` is finite and has at most
    :data:`MAX_INTEGER_DIGITS` digits (``what``: the operation, as in ``'*'``, ``abs()``)."""
    if isinstance(x, float):
        if not math.isfinite(x):
            raise Unevaluable(f"{what} works on finite numbers, got {shown(x)}")
    elif not -INTEGER_LIMIT < x < INTEGER_LIMIT:
        raise Unevaluable(f"{what} works on numbers of at most {MAX_INTEGER_DIGITS} digits, "
                          f"got {shown(x)}")


def check_result(result: int | float, what: str) -> int | float:
    """``result`` when it is finite with at most :data:`MAX_INTEGER_DIGITS` digits; else
    :class:`Unevaluable` (``what``: the computation, as in ``1e+308 * 10.0``)."""
    if isinstance(result, float):
        if not math.isfinite(result):
            raise Unevaluable(f"the result of {what} is {shown(result)}, not a finite number")
    elif not -INTEGER_LIMIT < result < INTEGER_LIMIT:
        raise Unevaluable(f"the result of {what} has more than {MAX_INTEGER_DIGITS} digits")
    return result


def items(value: object, what: str) -> Sequence[Any]:
    """``value`` when it is a list (null: no items); else :class:`Unevaluable`."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return value
    if isinstance(value, set | frozenset):
        return tuple(value)
    raise Unevaluable(f"{what} needs a list, got {describe(value)}")


def frozen(value: object) -> object:
    """A hashable stand-in for a value, equal when the values are (lists as tuples, maps as
    sets of pairs): so lists of lists or maps can be compared in linear time."""
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    if isinstance(value, dict):
        return frozenset((k, frozen(v)) for k, v in value.items())
    if isinstance(value, set):
        return frozenset(value)
    return value


def rt_lower(x: object) -> str | None:
    return x.lower() if isinstance(x, str) else None


def rt_upper(x: object) -> str | None:
    return x.upper() if isinstance(x, str) else None


def rt_len(x: Any) -> int | None:
    return len(x) if isinstance(x, str | list | tuple | dict | set | frozenset) else None


def rt_contains(haystack: Any, needle: Any) -> bool:
    if haystack is None or needle is None:
        return False
    if isinstance(haystack, str):
        return isinstance(needle, str) and needle in haystack
    if not isinstance(haystack, list | tuple | dict | set | frozenset):
        return False
    try:
        return bool(needle in haystack)
    except TypeError:  # an unhashable needle in a map's keys
        return False


def rt_starts_with(s: object, prefix: object) -> bool:
    return isinstance(s, str) and isinstance(prefix, str) and s.startswith(prefix)


def rt_ends_with(s: object, suffix: object) -> bool:
    return isinstance(s, str) and isinstance(suffix, str) and s.endswith(suffix)


def rt_coalesce(*args: object) -> object:
    for arg in args:
        if arg is not None:
            return arg
    return None


def rt_min(*args: Any) -> Any:
    values = [a for a in args if a is not None]
    try:
        return min(values) if values else None
    except TypeError:
        return None


def rt_max(*args: Any) -> Any:
    values = [a for a in args if a is not None]
    try:
        return max(values) if values else None
    except TypeError:
        return None


def rt_abs(x: Any) -> Any:
    if not is_number(x):
        return None
    check_number(x, "abs()")
    return abs(x)


def rt_round(x: Any, digits: Any = 0) -> Any:
    if not is_number(x) or not is_number(digits):
        return None
    check_number(x, "round()")
    if not -MAX_ROUND_DIGITS <= digits <= MAX_ROUND_DIGITS:  # false for NaN too
        raise Unevaluable(f"round() needs digits from -{MAX_ROUND_DIGITS} to "
                          f"{MAX_ROUND_DIGITS}, got {shown(digits)}")
    return round(x, int(digits))


def rt_overlaps(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    first = items(a, "overlaps()")
    second = items(b, "overlaps()")
    return not {frozen(x) for x in first}.isdisjoint(frozen(y) for y in second)


def rt_owner_in(runtime: Runtime, scope: object) -> str | None:
    if not isinstance(scope, str):
        return None
    return runtime.contact_owner(scope)


def rt_is_open(runtime: Runtime, now: datetime, name: str) -> bool:
    return runtime.calendar(name).is_open(now)


def rt_after_hours(runtime: Runtime, now: datetime, name: str) -> bool:
    return not runtime.calendar(name).is_open(now)


def rt_is_holiday(runtime: Runtime, now: datetime, name: str) -> bool:
    cal = runtime.calendar(name)
    return cal.is_holiday(cal.local(now).date())


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def rt_day_of_week(runtime: Runtime, now: datetime, name: str) -> str:
    return DAYS[runtime.calendar(name).local(now).weekday()]


def rt_local_hour(runtime: Runtime, now: datetime, name: str) -> int:
    return runtime.calendar(name).local(now).hour


def rt_local_time_between(runtime: Runtime, now: datetime, name: str, start: str, end: str) -> bool:
    t = runtime.calendar(name).local(now).time().replace(tzinfo=None)
    lo, hi = clock_time(start), clock_time(end)
    if lo is None or hi is None:
        return False
    if lo <= hi:
        return lo <= t < hi
    return t >= lo or t < hi


def _f(
    signature: str,
    doc: str,
    arity: tuple[int, int | None],
    typer: Typer,
    helper: Callable[..., Any],
    *,
    calling: str = "plain",
) -> Function:
    name = signature.split("(", 1)[0]
    return Function(name, signature, doc, arity[0], arity[1], typer, helper, calling)


#: The whitelist, by name.
FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        _f(
            "lower(s: string) -> string",
            "Lower-case.",
            (1, 1),
            _string_to_string,
            rt_lower,
        ),
        _f(
            "upper(s: string) -> string",
            "Upper-case.",
            (1, 1),
            _string_to_string,
            rt_upper,
        ),
        _f("len(x: string | list) -> number", "Length.", (1, 1), _len, rt_len),
        _f(
            "contains(haystack: string | list, needle) -> boolean",
            "Substring test for strings, membership for lists.",
            (2, 2),
            _contains,
            rt_contains,
        ),
        _f(
            "starts_with(s: string, prefix: string) -> boolean",
            "Prefix test.",
            (2, 2),
            _string_pair,
            rt_starts_with,
        ),
        _f(
            "ends_with(s: string, suffix: string) -> boolean",
            "Suffix test.",
            (2, 2),
            _string_pair,
            rt_ends_with,
        ),
        _f(
            "coalesce(a, b, ...) -> T",
            "The first non-null argument.",
            (2, None),
            _coalesce,
            rt_coalesce,
        ),
        _f(
            "min(a, b, ...) -> T",
            "The smallest non-null argument.",
            (2, None),
            _min_max,
            rt_min,
        ),
        _f(
            "max(a, b, ...) -> T",
            "The largest non-null argument.",
            (2, None),
            _min_max,
            rt_max,
        ),
        _f("abs(n: number) -> number", "Absolute value.", (1, 1), _number_fn, rt_abs),
        _f(
            "round(n: number, digits: number = 0) -> number",
            "Round half to even.",
            (1, 2),
            _number_fn,
            rt_round,
        ),
        _f(
            "overlaps(a: list, b: list) -> boolean",
            "Whether the lists share an element.",
            (2, 2),
            _overlaps,
            rt_overlaps,
        ),
        _f(
            "owner_in(scope: string) -> string?",
            "The contact's owner in an exclusivity scope (global, channel, market or custom).",
            (1, 1),
            _owner_in,
            rt_owner_in,
            calling="runtime",
        ),
        _f(
            'is_open("cal") -> boolean',
            "The calendar is open at now.",
            (1, 1),
            _calendar(BOOLEAN),
            rt_is_open,
            calling="calendar",
        ),
        _f(
            'after_hours("cal") -> boolean',
            "not is_open(cal).",
            (1, 1),
            _calendar(BOOLEAN),
            rt_after_hours,
            calling="calendar",
        ),
        _f(
            'is_holiday("cal") -> boolean',
            "now's local date is a holiday.",
            (1, 1),
            _calendar(BOOLEAN),
            rt_is_holiday,
            calling="calendar",
        ),
        _f(
            'day_of_week("cal") -> string',
            "mon, tue, ... sun at now.",
            (1, 1),
            _calendar(STRING),
            rt_day_of_week,
            calling="calendar",
        ),
        _f(
            'local_hour("cal") -> number',
            "The local hour (0-23) at now.",
            (1, 1),
            _calendar(NUMBER),
            rt_local_hour,
            calling="calendar",
        ),
        _f(
            'local_time_between("cal", "HH:MM", "HH:MM") -> boolean',
            "start <= local time < end (wraps past midnight).",
            (3, 3),
            _time_between,
            rt_local_time_between,
            calling="calendar",
        ),
    )
}
