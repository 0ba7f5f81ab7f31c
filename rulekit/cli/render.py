"""Render diagnostics for people (text with a caret), machines (JSON) and CI (GitHub)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from rulekit.errors import Diagnostic, Severity

SourceLines = Callable[[str, int], str | None]


def _excerpt(diag: Diagnostic, source_line: SourceLines) -> list[str]:
    loc = diag.location
    if loc is None:
        return []
    text = source_line(loc.path, loc.line)
    if text is None or not text.strip():
        return []
    gutter = str(loc.line)
    pad = " " * len(gutter)
    visible = text.expandtabs(1)
    caret_col = max(1, min(loc.column, len(visible) + 1))
    return [f" {gutter} | {visible}", f" {pad} | {' ' * (caret_col - 1)}^"]


def render_text(diagnostics: Sequence[Diagnostic], source_line: SourceLines, *,
                limit: int) -> str:
    """The human form: headline, source line with caret, hint; capped at ``limit``."""
    lines: list[str] = []
    for diag in diagnostics[:limit]:
        lines.append(diag.headline())
        lines.extend(_excerpt(diag, source_line))
        if diag.hint:
            lines.append(f"  hint: {diag.hint}")
    hidden = len(diagnostics) - limit
    if hidden > 0:
        lines.append(f"… and {hidden} more problem{'s' if hidden != 1 else ''} "
                     "(use --max-problems to see more)")
    return "\n".join(lines)


def summary(diagnostics: Sequence[Diagnostic], files: int) -> str:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = len(diagnostics) - errors
    noun = "file" if files == 1 else "files"
    if not diagnostics:
        return f"{files} {noun} checked: no problems"
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"{files} {noun} checked: " + ", ".join(parts)


def as_json(diag: Diagnostic) -> dict[str, object]:
    loc = diag.location
    return {
        "path": loc.path if loc else None,
        "line": loc.line if loc else None,
        "column": loc.column if loc else None,
        "code": diag.code,
        "severity": diag.severity.value,
        "message": diag.message,
        "hint": diag.hint,
    }


def render_json(diagnostics: Sequence[Diagnostic], *, limit: int) -> str:
    return json.dumps([as_json(d) for d in diagnostics[:limit]], indent=2, ensure_ascii=False)


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostics: Sequence[Diagnostic], *, limit: int) -> str:
    """GitHub Actions workflow commands (``::error file=…,line=…,col=…::message``), at most
    ``limit``; then one annotation that says how many were left out."""
    out = []
    for diag in diagnostics[:limit]:
        level = "error" if diag.severity is Severity.ERROR else "warning"
        props = [f"title={_gh_escape(diag.code, prop=True)}"]
        if diag.location:
            props = [
                f"file={_gh_escape(diag.location.path, prop=True)}",
                f"line={diag.location.line}",
                f"col={diag.location.column}",
                *props,
            ]
        message = diag.message + (f" (hint: {diag.hint})" if diag.hint else "")
        out.append(f"::{level} {','.join(props)}::{_gh_escape(message)}")
    hidden = diagnostics[limit:]
    if hidden:  # an error among them makes the line an error: the run fails because of it
        level = "error" if any(d.severity is Severity.ERROR for d in hidden) else "warning"
        noun = "problem" if len(hidden) == 1 else "problems"
        out.append(f"::{level} title=rulekit validate::… and {len(hidden)} more {noun} not "
                   f"shown (use --max-problems {len(diagnostics)} to see them all)")
    return "\n".join(out)
