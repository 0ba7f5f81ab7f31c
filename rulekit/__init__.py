"""rulekit: lead routing as YAML rule files, checked, compiled and explained."""

from __future__ import annotations

__version__ = "0.1.0"

from rulekit.errors import Diagnostic, RulekitError, SourceLocation

__all__ = ["Diagnostic", "RulekitError", "SourceLocation", "__version__"]
