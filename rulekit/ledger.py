"""The fairness ledger: one row per turn (round robin) or draw (weighted, random) of a pool.

The rows come from the stored decision traces, which are written in the same transaction as
each decision, so they are the durable record of who was picked and who was passed over::

    from rulekit.ledger import ledger
    for turn in ledger(store):
        turn.chosen, turn.members, turn.skipped

A turn is a "pick" trace entry and the "pool" entry before it.  The pool entry names the
rotation key (``key``), every candidate in the pool's order (``order``), the eligible ones
(``eligible_ids``) and each excluded candidate with the reason (``skipped``).  When the pool
lists teams, a team is one member of the rotation: the pick keeps the rotation's members
(``members``, a team by its id), the eligible ones and the member whose turn it was, and those
are the turn's.  Traces written
before the pool entry kept those keys give only counts: their turns have ``members`` and
``eligible`` of ``None`` (the phase of the rotation they belong to is unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rulekit.pipeline.pools import REASON_TEXT
from rulekit.pipeline.teams import TEAM_UNAVAILABLE
from rulekit.storage.base import Store


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a pool: who was chosen, who was there, and who was passed over and why."""

    lead_id: str
    at: datetime
    pool: str
    key: str  # the rotation key (the pool, and the lead values its membership depends on)
    strategy: str  # round_robin | weighted | random | least_recently_offered | …
    chosen: str | None
    members: tuple[str, ...] | None  # the pool's full candidate order; None: not recorded
    eligible: tuple[str, ...] | None
    skipped: tuple[tuple[str, str], ...]  # (member, reason) for each excluded candidate
    data: dict[str, Any]  # the pick entry's data (weights, draw, cursor, …)

    def to_json(self) -> dict[str, Any]:
        return {"lead": self.lead_id, "at": self.at.isoformat(), "pool": self.pool,
                "key": self.key, "strategy": self.strategy, "chosen": self.chosen,
                "members": None if self.members is None else list(self.members),
                "eligible": None if self.eligible is None else list(self.eligible),
                "skipped": [{"agent": a, "reason": r} for a, r in self.skipped]}


def reason_text(reason: str) -> str:
    """``paused``, ``already offered this lead``, …: a skip reason in plain English."""
    if reason == TEAM_UNAVAILABLE:
        return "team with nobody eligible"
    return REASON_TEXT.get(reason, reason.replace("_", " "))


def _ids(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return None


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple((str(p[0]), str(p[1])) for p in value
                 if isinstance(p, (list, tuple)) and len(p) == 2)


def weighted_choice(weights: dict[str, float], draw: float) -> str | None:
    """The option a weighted pick chose, from its recorded weights and draw (the same walk
    as the strategy: the first option whose running total exceeds the draw)."""
    running = 0.0
    last = None
    for name, weight in weights.items():
        running += float(weight)
        last = name
        if draw < running:
            return name
    return last


def pick_weights(data: dict[str, Any]) -> dict[str, float] | None:
    """The recorded weights of a weighted pick (option → weight), if any."""
    raw = data.get("weights")
    if not isinstance(raw, (dict, list, tuple)):
        return None
    pairs = raw.items() if isinstance(raw, dict) else raw
    return {str(k): float(v) for k, v in pairs}


def _chosen_after(entries: Sequence[Any], index: int) -> str | None:
    """The agent an old pick (no ``chosen`` key) chose: the next offer's or assignment's."""
    for entry in entries[index + 1:]:
        data = entry.data
        if not data:
            continue
        if entry.kind == "offer" and data.get("agents"):
            return str(data["agents"][0])
        if entry.kind == "effect" and "agent" in data and "how" in data:
            return str(data["agent"])
        if entry.kind == "pick":
            return None
    return None


def _chosen(entries: Sequence[Any], index: int, data: dict[str, Any]) -> str | None:
    """The option a pick chose: recorded since picks keep ``chosen``; before that, a weighted
    pick's is walked again from its weights and draw, any other's is the next offer's or
    assignment's agent."""
    if data.get("chosen") is not None:
        return str(data["chosen"])
    weights = pick_weights(data) if data.get("strategy") == "weighted" else None
    if weights is not None:
        return weighted_choice(weights, float(data.get("draw", 0.0)))
    return _chosen_after(entries, index)


def _member_skips(pool_data: dict[str, Any], data: dict[str, Any],
                  members: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The skips of a rotation's members: the listed agents the pool excluded, and the teams
    passed over (every member of theirs excluded)."""
    inside = set(members)
    agents = tuple(p for p in _pairs(pool_data.get("skipped")) if p[0] in inside)
    teams = tuple((team, TEAM_UNAVAILABLE) for team, _ in _pairs(data.get("passed_over")))
    return agents + teams


def lead_turns(store: Store, lead_id: str) -> list[Turn]:
    """The turns of the pools recorded in one lead's traces, in order."""
    out: list[Turn] = []
    for trace in store.traces(lead_id):
        entries = list(trace.entries)
        pool_data: dict[str, Any] = {}
        for i, entry in enumerate(entries):
            data = dict(entry.data or {})
            if entry.kind == "pool" and "pool" in data:
                pool_data = data
            if entry.kind != "pick" or "strategy" not in data:
                continue
            pool = str(pool_data.get("pool", "?"))
            strategy = str(data["strategy"])
            key = str(data.get("rotation") or pool_data.get("key") or pool)
            if "members" in data:  # a rotation listing teams: a team is one member
                members = _ids(data["members"])
                out.append(Turn(lead_id, trace.at, pool, key, strategy,
                                str(data.get("member") or data.get("chosen")), members,
                                _ids(data.get("eligible_members")),
                                _member_skips(pool_data, data, members or ()), data))
                continue
            out.append(Turn(lead_id, trace.at, pool, key, strategy, _chosen(entries, i, data),
                            _ids(pool_data.get("order")), _ids(pool_data.get("eligible_ids")),
                            _pairs(pool_data.get("skipped")), data))
    return out


def ledger(store: Store, lead_ids: Iterable[str] | None = None) -> list[Turn]:
    """Every turn of every pool in ``store`` (or of ``lead_ids``), oldest first."""
    ids = store.lead_ids() if lead_ids is None else lead_ids
    turns = [t for lead_id in ids for t in lead_turns(store, lead_id)]
    return sorted(turns, key=lambda t: t.at)  # stable: a lead's turns keep their order


__all__ = ["Turn", "lead_turns", "ledger", "pick_weights", "reason_text", "weighted_choice"]
