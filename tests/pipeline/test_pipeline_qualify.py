"""qualify: verdict branches, verdicts from non-qualifiers, timeout."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pipeline_helpers import T0, Env, build, queue_names

from rulekit.pipeline.effects import RejectAction

QUALIFY = """
policy: qualify
applies_to: {sources: [test-site]}
pools:
  desk: {of: agents, tags: [qualifier], exclude: [paused]}
rules:
  - name: qualify
    steps:
      - qualify:
          pool: desk
          for: 30m
          verdicts:
            ready:
              - assign: {to: '"a-ann"', own: global}
            nurture:
              - queue: {name: incubation, reason: nurture}
            junk:
              - drop: {reason: junk}
          on_timeout:
            - queue: {name: incubation, reason: not qualified in time}
"""


def _start(tmp_path: Path) -> Env:
    env = build(tmp_path, QUALIFY)
    state = env.submit("L1")
    assert state.status == "waiting"
    assert state.pending is not None
    assert state.pending.mode == "qualify"
    assert set(state.pending.agents) == {"q-quinn", "q-quill"}
    return env


def test_ready_runs_its_branch(tmp_path: Path) -> None:
    env = _start(tmp_path)
    decision = env.engine.verdict("L1", "ready", "q-quill")
    assert (decision.state.status, decision.state.assignee) == ("assigned", "a-ann")
    assert env.last_offer().status == "verdict:ready"
    assert env.store.next_timer_due() is None


@pytest.mark.parametrize(("verdict", "status", "queue"), [
    ("nurture", "queued", "incubation"),
    ("junk", "dropped", None),
])
def test_other_verdicts_run_their_branch(tmp_path: Path, verdict: str, status: str,
                                         queue: str | None) -> None:
    env = _start(tmp_path)
    decision = env.engine.verdict("L1", verdict, "q-quinn")  # type: ignore[arg-type]
    assert decision.state.status == status
    assert decision.state.queue == queue
    assert env.store.assignments() == []
    # the deadline passing later changes nothing
    env.engine.tick(T0 + timedelta(hours=1))
    assert env.state().status == status


def test_verdict_from_a_non_qualifier_is_rejected(tmp_path: Path) -> None:
    env = _start(tmp_path)
    decision = env.engine.verdict("L1", "junk", "a-bob")
    assert [type(e) for e in decision.effects] == [RejectAction]
    assert env.state().status == "waiting"
    # a qualifier cannot accept the qualification like an offer either
    accept = env.engine.accept(env.last_offer().offer_id, "q-quinn")
    assert [type(e) for e in accept.effects] == [RejectAction]
    assert env.state().status == "waiting"


def test_second_verdict_is_rejected(tmp_path: Path) -> None:
    env = _start(tmp_path)
    env.engine.verdict("L1", "nurture", "q-quinn")
    late = env.engine.verdict("L1", "ready", "q-quill")
    assert [type(e) for e in late.effects] == [RejectAction]
    assert env.state().queue == "incubation"
    assert env.store.assignments() == []


def test_timeout_runs_on_timeout(tmp_path: Path) -> None:
    env = _start(tmp_path)
    assert env.engine.tick(T0 + timedelta(minutes=29)) == []
    env.engine.tick(T0 + timedelta(minutes=30))
    state = env.state()
    assert (state.status, state.queue, state.reason) == (
        "queued", "incubation", "not qualified in time")
    assert queue_names(env.store) == ["incubation"]
    late = env.engine.verdict("L1", "ready", "q-quinn")
    assert [type(e) for e in late.effects] == [RejectAction]
