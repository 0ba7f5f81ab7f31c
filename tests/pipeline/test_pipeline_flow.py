"""Conditions and rule flow; policy selection by applies_to and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_helpers import build, policy, queue_names, write_folder

from rulekit.config.project import check_paths

FLOW = """
policy: flow
applies_to: {sources: [test-site]}
rules:
  - name: showing
    when: lead.inquiry_type == "showing"
    steps: [{queue: {name: q-showing, reason: first}}]
  - name: any-inquiry
    when: lead.inquiry_type != "nothing"
    steps: [{queue: {name: q-any, reason: second}}]
  - name: catch-all
    steps: [{queue: q-last}]
"""


def test_first_matching_rule_wins(tmp_path: Path) -> None:
    env = build(tmp_path, FLOW)
    env.submit("L1", inquiry_type="showing")
    env.submit("L2", inquiry_type="info")
    env.submit("L3", inquiry_type="nothing")
    assert queue_names(env.store, "L1") == ["q-showing"]
    assert queue_names(env.store, "L2") == ["q-any"]
    assert queue_names(env.store, "L3") == ["q-last"]
    assert env.state("L1").status == "queued"
    assert env.state("L1").reason == "first"


CONTINUE = """
policy: flow
applies_to: {sources: [test-site]}
rules:
  - name: tell-desk
    steps:
      - notify: {template: fyi, to: [desk@example.com]}
    then: continue
  - name: owner-if-any
    steps:
      - attach_to_owner: global
    then: continue
  - name: never
    when: lead.inquiry_type == "never"
    steps: [{queue: q-never}]
  - name: last
    steps: [{queue: q-last}]
"""


def test_then_continue_goes_on_with_the_next_rule(tmp_path: Path) -> None:
    env = build(tmp_path, CONTINUE)
    state = env.submit("L1")
    assert state.status == "queued"
    assert queue_names(env.store) == ["q-last"]
    (message,) = env.store.outbox()
    assert message.template == "fyi"
    assert message.to == ("desk@example.com",)
    # a known contact: the second rule resolves, and the last rule never runs
    state = env.submit("L2", email="owned@example.com")
    assert (state.status, state.assignee) == ("assigned", "a-bob")
    assert queue_names(env.store, "L2") == []


def test_rule_that_can_pass_with_then_stop_is_rk312(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "bad", {"policy": """
        policy: flow
        applies_to: {sources: [test-site]}
        rules:
          - name: only-notify
            steps:
              - notify: {template: fyi, to: [desk@example.com]}
        """})
    result = check_paths([folder])
    assert not result.ok
    assert "RK312" in {d.code for d in result.diagnostics}


def _queue_policy(name: str, applies: str, queue: str, extra: str = "") -> str:
    return policy(f"""
        policy: {name}
        {extra}
        applies_to: {applies}
        rules:
          - name: only
            steps: [{{queue: {queue}}}]
        """)


SELECTION = {
    "by-source": _queue_policy("by-source", "{sources: [a.com]}", "q-source"),
    "by-channel": _queue_policy("by-channel", "{sources: [b.com], channels: [office-site]}",
                                "q-channel"),
    "by-brand": _queue_policy("by-brand", "{sources: [c.com], brands: [RE/MAX]}", "q-brand"),
    "by-entry": _queue_policy("by-entry", "{sources: [e.com], entries: [manual]}", "q-manual"),
    "by-when": _queue_policy("by-when", '{sources: [d.com], when: lead.attributes.vip == true}',
                             "q-vip"),
    "no-applies": policy("""
        policy: no-applies
        rules:
          - name: only
            steps: [{queue: q-never}]
        """),
}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"source": "a.com"}, "q-source"),
    ({"source": "b.com", "channel": "office-site"}, "q-channel"),
    ({"source": "b.com", "channel": "region-site"}, "unmatched"),
    ({"source": "b.com"}, "unmatched"),
    ({"source": "c.com", "property": {"brand": "RE/MAX"}}, "q-brand"),
    # the brand of the listing named by the lead counts too
    ({"source": "c.com", "property": {"listing_id": "CMLS-1"}}, "q-brand"),
    ({"source": "c.com", "property": {"listing_id": "CMLS-2"}}, "unmatched"),
    ({"source": "c.com"}, "unmatched"),
    ({"source": "e.com", "entry": "manual"}, "q-manual"),
    ({"source": "e.com", "entry": "import"}, "unmatched"),
    ({"source": "e.com", "entry": "web"}, "unmatched"),
    ({"source": "d.com", "attributes": {"vip": True}}, "q-vip"),
    ({"source": "d.com", "attributes": {"vip": False}}, "unmatched"),
    ({"source": "d.com"}, "unmatched"),
])
def test_policy_selection_by_applies_to(tmp_path: Path, fields: dict[str, object],
                                        expected: str) -> None:
    env = build(tmp_path, SELECTION)
    state = env.submit("L1", **fields)
    assert queue_names(env.store) == [expected]
    assert state.queue == expected
    if expected == "unmatched":
        assert state.policy is None
        assert "No policy serves" in env.engine.explain("L1")


@pytest.mark.parametrize("high_first", [True, False])
def test_precedence_decides_between_policies_claiming_a_lead(tmp_path: Path,
                                                              high_first: bool) -> None:
    high = _queue_policy("high", "{sources: [a.com]}", "q-high", "precedence: 10")
    low = _queue_policy("low", "{sources: [a.com]}", "q-low", "precedence: 5")
    none = _queue_policy("none", "{sources: [a.com]}", "q-none")
    files = ({"a-high": high, "b-low": low, "c-none": none} if high_first
             else {"a-none": none, "b-low": low, "c-high": high})
    env = build(tmp_path, files)
    state = env.submit("L1", source="a.com")
    assert state.policy == "high"
    assert queue_names(env.store) == ["q-high"]


def test_disabled_policy_sends_leads_to_its_disabled_queue(tmp_path: Path) -> None:
    env = build(tmp_path, """
        policy: switched-off
        enabled: false
        disabled_queue: held-for-review
        applies_to: {sources: [test-site]}
        rules:
          - name: would-assign
            steps: [{assign: '"a-ann"'}]
        """)
    state = env.submit("L1")
    assert state.status == "queued"
    assert state.queue == "held-for-review"
    assert queue_names(env.store) == ["held-for-review"]
    assert env.store.assignments() == []


def test_disabled_policy_default_queue_is_manual(tmp_path: Path) -> None:
    env = build(tmp_path, """
        policy: switched-off
        enabled: false
        applies_to: {sources: [test-site]}
        rules:
          - name: would-assign
            steps: [{assign: '"a-ann"'}]
        """)
    env.submit("L1")
    assert queue_names(env.store) == ["manual"]


def test_lead_no_policy_serves_goes_to_unmatched(tmp_path: Path) -> None:
    env = build(tmp_path, FLOW)
    state = env.submit("L1", source="elsewhere.com")
    assert state.status == "queued"
    assert state.queue == "unmatched"
    assert queue_names(env.store) == ["unmatched"]
