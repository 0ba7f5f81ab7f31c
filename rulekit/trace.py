"""Decision traces: always on, one per event, in a JSON form and a plain-English form.

A trace records the rules tried (with their source locations), each condition's result with
the field values it read, each pool's candidates and why others were excluded, the random seed
and draw or the round-robin cursor, the offers, timers and effects, and the ruleset version.
Entries are cheap to add (a tuple append); rendering happens only when someone reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rulekit.errors import SourceLocation

Text = str | Callable[[], str]
Data = dict[str, Any] | Callable[[], dict[str, Any]] | None


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One line of a trace.  ``text`` and ``data`` may be given as functions of values fixed at
    decision time (immutable snapshots), so the cost of wording them is paid only when the
    trace is read or stored."""

    kind: str  # event | policy | rule | pool | pick | offer | timer | step | effect | detail
    text_: Text  # plain English, for people
    where_: SourceLocation | str | None = None  # the rule or step in its file
    data_: Data = None

    @property
    def text(self) -> str:
        return self.text_ if isinstance(self.text_, str) else self.text_()

    @property
    def where(self) -> str | None:
        return None if self.where_ is None else str(self.where_)

    @property
    def data(self) -> dict[str, Any] | None:
        return self.data_() if callable(self.data_) else self.data_


def json_default(value: Any) -> Any:
    """What the JSON encoder calls for values it cannot write itself (``default=``)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_value(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass(slots=True)
class Trace:
    """The trace of one decision (one event of one lead)."""

    lead_id: str
    event: str
    at: datetime
    ruleset_version: str
    seed: str
    entries: list[TraceEntry] = field(default_factory=list)

    def add(self, kind: str, text: Text, where: SourceLocation | str | None = None,
            data: Data = None) -> None:
        self.entries.append(TraceEntry(kind, text, where, data))

    def _plain(self) -> dict[str, Any]:
        """The trace as a dict whose entry data still hold Python values."""
        return {
            "lead": self.lead_id,
            "event": self.event,
            "at": self.at.isoformat(),
            "ruleset_version": self.ruleset_version,
            "seed": self.seed,
            "entries": [{"kind": e.kind, "text": e.text, "where": e.where,
                         "data": e.data or None} for e in self.entries],
        }

    def dumps(self) -> str:
        """The JSON text of :meth:`to_json`, letting the encoder convert values as it meets
        them (no separate walk over the entries' data: this is what stores write)."""
        return json.dumps(self._plain(), default=json_default, ensure_ascii=False,
                          separators=(",", ":"))

    def to_json(self) -> dict[str, Any]:
        data = self._plain()
        for entry in data["entries"]:
            if entry["data"] is not None:
                entry["data"] = _json_value(entry["data"])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trace:
        return cls(
            lead_id=data["lead"],
            event=data["event"],
            at=datetime.fromisoformat(data["at"]),
            ruleset_version=data["ruleset_version"],
            seed=data["seed"],
            entries=[TraceEntry(e["kind"], e["text"], e.get("where"), e.get("data"))
                     for e in data["entries"]],
        )

    def render(self) -> str:
        """Plain English, one line per entry, indented under the event line."""
        at = self.at.astimezone(UTC)
        head = f"{at:%Y-%m-%d %H:%M} UTC — {self.entries[0].text if self.entries else ''}"
        lines = [head]
        for entry in self.entries[1:]:
            indent = "    " if entry.kind in {"pool", "pick", "detail"} else "  "
            where = f"  [{entry.where}]" if entry.where and entry.kind == "rule" else ""
            lines.append(f"{indent}{entry.text}{where}")
        return "\n".join(lines)


def render_history(traces: list[Trace]) -> str:
    """The explanation of a lead: every decision's trace, in order."""
    if not traces:
        return "No decisions recorded."
    first = traces[0]
    lines = [f"Lead {first.lead_id} (ruleset {first.ruleset_version}, seed {first.seed})"]
    for trace in traces:
        lines.append("")
        lines.append(trace.render())
    return "\n".join(lines)


def dumps(traces: list[Trace]) -> str:
    return json.dumps([t.to_json() for t in traces], indent=2, ensure_ascii=False)
