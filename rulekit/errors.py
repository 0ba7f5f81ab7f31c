"""Errors and diagnostics.

Every problem rulekit reports carries a stable code (``RKnnn``), a message, an optional
:class:`SourceLocation` and an optional hint.  Stages raise a subclass of :class:`RulekitError`
when they must stop, and collect :class:`Diagnostic` objects when they can go on (``validate``
reports every problem in one run).

The catalogue of codes lives in :data:`CODES`; ``docs/errors.md`` documents each one and the
golden corpus under ``tests/fixtures/invalid/`` has a file for each.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A position in a source file: 1-based line and column, optional end position."""

    path: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    _text: str = field(default="", init=False, repr=False, compare=False)

    def __str__(self) -> str:
        """``path:line:column`` (worded once: traces quote a rule's location every time it
        is tried)."""
        text = self._text
        if not text:
            text = f"{self.path}:{self.line}:{self.column}"
            object.__setattr__(self, "_text", text)
        return text

    def shifted(self, line_offset: int, column: int, *, same_line: bool) -> SourceLocation:
        """A position inside text that starts at this location.

        ``line_offset`` is 0 for the first line of the embedded text; ``column`` is the 1-based
        column inside that line.  On the first line the columns add up when ``same_line`` is set
        (an inline scalar); otherwise the text's own column is used as is.
        """
        if line_offset == 0 and same_line:
            return SourceLocation(self.path, self.line, self.column + column - 1)
        return SourceLocation(self.path, self.line + line_offset, column)


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One reported problem."""

    code: str
    message: str
    location: SourceLocation | None = None
    severity: Severity = Severity.ERROR
    hint: str | None = None
    field_path: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        if loc is None:
            return ("", 0, 0, self.code)
        return (loc.path, loc.line, loc.column, self.code)

    def headline(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity.value}[{self.code}]: {self.message}"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    title: str
    severity: Severity = Severity.ERROR


def _catalogue(*entries: CodeInfo) -> dict[str, CodeInfo]:
    return {entry.code: entry for entry in entries}


W = Severity.WARNING

#: Every diagnostic code rulekit can emit.  Codes are stable: never renumber, only add.
CODES: dict[str, CodeInfo] = _catalogue(
    # 0xx: reading files
    CodeInfo("RK001", "YAML syntax error"),
    CodeInfo("RK002", "duplicate mapping key"),
    CodeInfo("RK003", "YAML tag not allowed"),
    CodeInfo("RK004", "too many YAML aliases"),
    CodeInfo("RK005", "file too large"),
    CodeInfo("RK006", "nesting too deep"),
    CodeInfo("RK007", "scalar too large"),
    CodeInfo("RK008", "file cannot be read"),
    CodeInfo("RK009", "unknown document kind"),
    CodeInfo("RK010", "nothing to check"),
    # 1xx: structure (JSON Schema)
    CodeInfo("RK101", "missing required property"),
    CodeInfo("RK102", "unknown property"),
    CodeInfo("RK103", "wrong type"),
    CodeInfo("RK104", "value not allowed"),
    CodeInfo("RK105", "invalid value"),
    # 2xx: expressions (DSL)
    CodeInfo("RK201", "expression syntax error"),
    CodeInfo("RK202", "unknown field"),
    CodeInfo("RK203", "type mismatch"),
    CodeInfo("RK204", "unknown function"),
    CodeInfo("RK205", "wrong arguments to a function"),
    CodeInfo("RK206", "expression limit exceeded"),
    CodeInfo("RK207", "invalid duration"),
    # 3xx: references and rule semantics
    CodeInfo("RK301", "undefined pool"),
    CodeInfo("RK302", "undefined calendar"),
    CodeInfo("RK303", "undefined policy"),
    CodeInfo("RK304", "duplicate rule name"),
    CodeInfo("RK305", "unreachable rule", W),
    CodeInfo("RK306", "source claimed by several policies without precedence"),
    CodeInfo("RK307", "duplicate policy name"),
    CodeInfo("RK308", "duplicate definition"),
    CodeInfo("RK309", "unused definition", W),
    CodeInfo("RK310", "undefined reference in the world"),
    CodeInfo("RK311", "policy hand-off cycle"),
    CodeInfo("RK312", "a lead can leave the policy unrouted"),
    CodeInfo("RK313", "name not in the world"),
    CodeInfo("RK314", "world names not checked", W),
    CodeInfo("RK315", "recipient cannot be notified"),
    CodeInfo("RK316", "invalid team"),
    # 4xx: calendars and time
    CodeInfo("RK401", "unknown time zone"),
    CodeInfo("RK402", "unknown holiday country or region"),
    CodeInfo("RK403", "overlapping opening hours"),
    CodeInfo("RK404", "calendar never open"),
    CodeInfo("RK405", "invalid time or interval"),
    CodeInfo("RK406", "invalid cron expression"),
    CodeInfo("RK407", "invalid date"),
    # 5xx: notification templates
    CodeInfo("RK501", "template syntax error"),
    CodeInfo("RK502", "unknown template variable or field"),
    CodeInfo("RK503", "unknown notification template"),
    CodeInfo("RK504", "incomplete notification template"),
    CodeInfo("RK505", "misnamed template file", W),
)


def code_info(code: str) -> CodeInfo:
    return CODES[code]


class RulekitError(Exception):
    """Root of every error rulekit raises on purpose.

    ``str(error)`` is ``path:line:col: message`` when a location is known.
    """

    code: str = "RK000"

    def __init__(
        self,
        message: str,
        location: SourceLocation | None = None,
        *,
        hint: str | None = None,
        code: str | None = None,
        field_path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        self.field_path = field_path
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.message}"

    @property
    def severity(self) -> Severity:
        info = CODES.get(self.code)
        return info.severity if info else Severity.ERROR

    def to_diagnostic(self) -> Diagnostic:
        return Diagnostic(
            code=self.code,
            message=self.message,
            location=self.location,
            severity=self.severity,
            hint=self.hint,
            field_path=self.field_path,
        )


class LoadError(RulekitError):
    """A file could not be read as safe, bounded YAML."""

    code = "RK001"


class SchemaError(RulekitError):
    """A document does not match its JSON Schema."""

    code = "RK103"


class DslError(RulekitError):
    """An expression does not parse, names an unknown field, or mistypes."""

    code = "RK201"


class EvaluationError(RulekitError):
    """An expression could not be evaluated on a lead (a value of the payload that does not
    fit, such as ``any()`` over a number, or a result past a bound of ``docs/dsl.md``).

    ``expression`` is the expression's text, ``location`` its position in the rule file and
    ``reason`` the plain-words cause: ``str(error)`` is ``path:line:col: could not evaluate
    `text`: reason``.  It is a run-time problem, so it has no code of the catalogue."""

    #: Longest expression text quoted in the message (the full text is in ``expression``).
    QUOTED = 200

    def __init__(self, expression: str, reason: str,
                 location: SourceLocation | None = None) -> None:
        self.expression = expression
        self.reason = reason
        quoted = " ".join(expression.split())
        if len(quoted) > self.QUOTED:
            quoted = quoted[:self.QUOTED - 1] + "…"
        self.quoted = quoted
        super().__init__(f"could not evaluate `{quoted}`: {reason}", location)


class CalendarError(RulekitError):
    """A calendar definition is invalid."""

    code = "RK405"


class SemanticError(RulekitError):
    """A reference or rule-level problem found after the structure is valid."""

    code = "RK301"


class RulekitErrors(RulekitError):
    """Several problems at once (raised when a whole document or set fails)."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        message = first.message if first else "invalid input"
        more = len(self.diagnostics) - 1
        if more > 0:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        super().__init__(
            message,
            first.location if first else None,
            hint=first.hint if first else None,
            code=first.code if first else "RK000",
        )


@dataclass
class DiagnosticSink:
    """Collects diagnostics; stages append to it instead of raising where they can go on."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def error(
        self,
        code: str,
        message: str,
        location: SourceLocation | None,
        *,
        hint: str | None = None,
        field_path: str | None = None,
    ) -> None:
        info = CODES.get(code)
        severity = info.severity if info else Severity.ERROR
        self.items.append(Diagnostic(code, message, location, severity, hint, field_path))

    def extend_from(self, error: RulekitError) -> None:
        if isinstance(error, RulekitErrors):
            self.items.extend(error.diagnostics)
        else:
            self.items.append(error.to_diagnostic())

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)
