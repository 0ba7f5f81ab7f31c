"""Which audit entries bear on a lead, and how an explanation tells them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rulekit.changes import bearing, describe, is_edit, render_changes
from rulekit.storage.base import AuditEntry
from rulekit.trace import Trace

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def entry(seq: int, at: datetime, action: str, **detail: object) -> AuditEntry:
    return AuditEntry(seq, at, "admin token t1 (ops)", action, dict(detail))


HISTORY = [
    entry(1, T0, "ruleset r1 activated and world w1 activated",
          ruleset={"version": "r1", "files": ["a.yaml"]}, world={"version": "w1"}),
    entry(2, T0 + M, "agent a1 paused; world w2 activated", agent="a1", paused=True,
          reason="vacation", world="w2"),
    entry(3, T0 + 2 * M, "pool p members set; ruleset r2 activated", pool="p",
          members=["a2"], ruleset="r2"),
    entry(4, T0 + 3 * M, "lead_status_set", lead="L0", contact="email:pat@x.org",
          before="active", after="inactive", reason="asked"),
    entry(5, T0 + 4 * M, "contacts_transferred", **{
        "from": "a1", "to": "a2", "reason": "left", "contact": None, "scope": None,
        "moved": [["email:sam@x.org", "global"], ["email:pat@x.org", "global"]]}),
    entry(6, T0 + 5 * M, "lead_parked", lead="L1", error="boom"),
    entry(7, T0 + 6 * M, "agent a1 unpaused; world w3 activated", agent="a1", paused=False,
          world="w3"),
    entry(8, T0 + 7 * M, "world w4 activated", world={"version": "w4"}),
]


def trace(at: datetime, version: str = "r1") -> Trace:
    return Trace("L1", "lead_received", at, version, "seed")


def seqs(entries: list[AuditEntry]) -> list[int]:
    return [e.seq for e in entries]


def test_loads_are_not_changes_but_edits_are() -> None:
    assert [is_edit(e) for e in HISTORY[:3]] == [False, True, True]


def test_the_world_edit_in_effect_at_each_decision_bears_on_the_lead() -> None:
    assert seqs(bearing(HISTORY, [trace(T0 + M + M / 2)], None)) == [2]
    # a decision before any edit sees the loaded world: nothing to tell
    assert seqs(bearing(HISTORY, [trace(T0 + M / 2)], None)) == []
    # two decisions, each in another world edit's time; a later load hides none of them
    assert seqs(bearing(HISTORY, [trace(T0 + M), trace(T0 + 6 * M)], None)) == [2, 7]
    assert seqs(bearing(HISTORY, [trace(T0 + 8 * M)], None)) == []


def test_the_rule_set_edit_a_decision_used_bears_on_the_lead() -> None:
    assert seqs(bearing(HISTORY, [trace(T0 + 3 * M, "r2")], None)) == [2, 3]


def test_changes_of_the_consumer_bear_on_every_lead_of_theirs() -> None:
    found = bearing(HISTORY, [trace(T0 + M / 2)], "email:pat@x.org")
    assert seqs(found) == [4, 5]
    assert seqs(bearing(HISTORY, [trace(T0 + M / 2)], "email:other@x.org")) == []
    assert describe(found[0]) == ("the consumer's lead status was set from active to "
                                  "inactive (why: asked)")
    assert describe(found[1]) == "the consumer's contact was transferred from a1 to a2 (why: left)"


def test_entries_the_decisions_wrote_are_not_repeated() -> None:
    assert 6 not in seqs(bearing(HISTORY, [trace(T0 + 5 * M, "r2")], "email:pat@x.org"))


def test_the_section_of_the_explanation() -> None:
    assert render_changes([]) == ""
    assert render_changes([HISTORY[1]]).splitlines() == [
        "Changes people made that bear on this lead:",
        "  2026-12-02 15:01 UTC — admin token t1 (ops): agent a1 paused; world w2 activated "
        "(why: vacation)"]
