"""Admin reassignment of a waiting lead."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline_helpers import T0, assignees, build

from rulekit.pipeline.effects import RejectAction

OFFER = """
policy: offer
applies_to: {sources: [test-site]}
rules:
  - name: listing-agent
    steps:
      - offer: {to: '"a-ann"', for: 1h}
      - queue: after-offer
"""


def test_reassign_cancels_the_pending_offer_and_assigns(tmp_path: Path) -> None:
    env = build(tmp_path, OFFER)
    env.submit("L1")
    offer = env.last_offer()
    decision = env.engine.reassign("L1", "a-cat", by="admin@example.com", reason="VIP client")
    assert (decision.state.status, decision.state.assignee) == ("assigned", "a-cat")
    assert decision.state.pending is None
    assert env.last_offer().status == "withdrawn"
    assert assignees(env.store) == [("a-cat", "reassigned")]
    assert env.store.next_timer_due() is None
    # the offered agent can no longer accept; the old deadline does nothing
    late = env.engine.accept(offer.offer_id, "a-ann")
    assert [type(e) for e in late.effects] == [RejectAction]
    env.engine.tick(T0 + timedelta(hours=2))
    assert env.state().assignee == "a-cat"
    assert env.store.queue_items() == []
    assert "VIP client" in env.engine.explain("L1")


def test_reassign_to_an_unknown_agent_is_rejected(tmp_path: Path) -> None:
    env = build(tmp_path, OFFER)
    env.submit("L1")
    decision = env.engine.reassign("L1", "a-nobody", by="admin")
    assert [type(e) for e in decision.effects] == [RejectAction]
    assert env.state().status == "waiting"
    assert env.last_offer().status == "open"
