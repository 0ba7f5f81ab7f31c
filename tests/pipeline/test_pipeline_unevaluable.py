"""Expressions that cannot be evaluated on a lead: conditions count as not matching (said in
the trace), values stop the decision (the lead is parked); ``decide`` never crashes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pipeline_helpers import T0, build, make_lead

from rulekit.pipeline import Decision, LeadReceived, StaticFacts, decide
from rulekit.ruleset import RuleSet
from rulekit.world import World


def received(ruleset: RuleSet, world: World, **fields: Any) -> Decision:
    lead = make_lead("L1", **fields)
    return decide(ruleset, world, StaticFacts(), None, lead, LeadReceived(lead), T0)


def texts(decision: Decision) -> list[str]:
    return [entry.text for entry in decision.trace.entries]


def unevaluable(decision: Decision) -> list[str]:
    return [text for text in texts(decision) if "could not evaluate" in text]


RULE = """
policy: tags
applies_to: {sources: [test-site]}
rules:
  - name: vip
    when: 'any(t in lead.attributes.tags: t == "vip")'
    steps: [{queue: vip}]
  - name: rest
    steps: [{queue: rest}]
"""


def test_a_rule_condition_that_cannot_be_evaluated_does_not_match(tmp_path: Path) -> None:
    env = build(tmp_path, RULE)
    decision = received(env.ruleset, env.world, attributes={"tags": 3})
    assert decision.state.queue == "rest"
    when = env.ruleset.policy("tags").rules[0].when
    assert when is not None
    assert unevaluable(decision) == [
        f"Rule 'vip': could not evaluate `any(t in lead.attributes.tags: t == \"vip\")` at "
        f"{when.location}: any() needs a list, got the number 3; treated as not matching."]
    (entry,) = [e for e in decision.trace.entries if "could not evaluate" in e.text]
    assert entry.kind == "rule"
    assert entry.data is not None
    assert entry.data["rule"] == "vip" and entry.data["result"] is False
    assert entry.data["error"] == "any() needs a list, got the number 3"
    # a list still matches, and its condition is worded as usual
    decision = received(env.ruleset, env.world, attributes={"tags": ["vip"]})
    assert decision.state.queue == "vip"
    assert unevaluable(decision) == []


def test_a_policy_condition_that_cannot_be_evaluated_does_not_match(tmp_path: Path) -> None:
    env = build(tmp_path, {
        "scored": """
            policy: scored
            applies_to: {sources: [test-site], when: lead.attributes.score * 2 > 10}
            precedence: 10
            rules: [{name: hot, steps: [{queue: hot}]}]
            """,
        "fallback": """
            policy: fallback
            applies_to: {sources: [test-site]}
            rules: [{name: all, steps: [{queue: all}]}]
            """,
    })
    decision = received(env.ruleset, env.world, attributes={"score": math.nan})
    assert decision.state.queue == "all"
    (line,) = unevaluable(decision)
    assert line.startswith("Policy 'scored': could not evaluate `lead.attributes.score * 2 > 10` "
                           "at ")
    assert line.endswith(": '*' works on finite numbers, got NaN; treated as not matching.")
    assert received(env.ruleset, env.world, attributes={"score": 6}).state.queue == "hot"


WHERE = """
policy: zips
applies_to: {sources: [test-site]}
pools:
  five:
    of: agents
    members: [a-ann, a-bob, a-cat, a-dan, a-eve]
    where: 'agent.id == "a-ann" or any(z in lead.attributes.zips: z in agent.zips)'
rules:
  - name: offer
    steps:
      - offer_sequence: {pool: five, pick: round_robin, attempts: 1, each_for: 1h}
    then: continue
  - name: nobody
    steps: [{queue: nobody}]
"""


def test_a_pool_filter_that_cannot_be_evaluated_is_said_once(tmp_path: Path) -> None:
    env = build(tmp_path, WHERE)
    decision = received(env.ruleset, env.world, attributes={"zips": 28277})
    assert decision.state.pending is not None
    assert decision.state.pending.agents == ("a-ann",)  # the others failed: not matching
    (line,) = unevaluable(decision)
    assert line.startswith("Pool 'five': could not evaluate `agent.id == \"a-ann\" or any(")
    assert line.endswith(": any() needs a list, got the number 28277 (on 4 agents); "
                         "treated as not matching.")
    pool_line = next(t for t in texts(decision) if t.startswith("Pool 'five': 5 candidate"))
    assert ("4 not matching the pool's condition `agent.id == \"a-ann\" or any(z in "
            "lead.attributes.zips: z in agent.zips)`") in pool_line
    (entry,) = [e for e in decision.trace.entries if "could not evaluate" in e.text]
    assert entry.kind == "pool"
    assert entry.data is not None and entry.data["failed"] == 4
    # fitting values: no such line
    decision = received(env.ruleset, env.world, attributes={"zips": ["28277"]})
    assert unevaluable(decision) == []


OFFICES = """
policy: offices
applies_to: {sources: [test-site]}
pools:
  big:
    of: offices
    where: office.agent_count * lead.attributes.factor > 20
rules:
  - name: office
    steps:
      - pick_office: {pool: big}
      - queue: picked
  - name: never
    steps: [{queue: never}]
"""


def test_an_office_filter_that_cannot_be_evaluated(tmp_path: Path) -> None:
    env = build(tmp_path, OFFICES)
    decision = received(env.ruleset, env.world, attributes={"factor": math.inf})
    assert decision.state.queue == "picked"
    assert decision.state.office is None  # no office matched
    (line,) = unevaluable(decision)
    assert line.endswith("(on 4 offices); treated as not matching.")
    assert received(env.ruleset, env.world, attributes={"factor": 1}).state.office is not None


ASSIGN = """
policy: assign
applies_to: {sources: [test-site]}
rules:
  - name: named
    steps: [{assign: {to: lead.attributes.first + lead.attributes.last}}]
"""


def test_a_value_that_cannot_be_evaluated_parks_the_lead(tmp_path: Path) -> None:
    env = build(tmp_path, ASSIGN)
    half = "x" * 60_000
    decision = received(env.ruleset, env.world, attributes={"first": half, "last": half})
    assert decision.state.status == "parked"
    assert decision.state.reason is not None
    assert "could not evaluate `lead.attributes.first + lead.attributes.last`" in \
        decision.state.reason
    assert "'+' would build a string of 120,000 characters" in decision.state.reason


def _weighted(weight: str) -> str:
    return f"""
policy: weighted
applies_to: {{sources: [test-site]}}
pools:
  five: {{of: agents, members: [a-ann, a-bob, a-cat, a-dan, a-eve]}}
rules:
  - name: offer
    steps:
      - offer_sequence: {{pool: five, pick: weighted, weight: {weight}, attempts: 1,
                          each_for: 1h}}
      - queue: nobody
"""


def test_a_weight_that_is_not_a_number_parks_the_lead(tmp_path: Path) -> None:
    env = build(tmp_path, _weighted("lead.attributes.w"))
    for value, said in [("abc", "the string 'abc'"), (10**400, "a number of more than"),
                        (math.nan, "the number NaN"), ([1], "a list of 1 item")]:
        decision = received(env.ruleset, env.world, attributes={"w": value})
        assert decision.state.status == "parked", value
        assert decision.state.reason is not None
        assert f"a weight must be a finite number, got {said}" in decision.state.reason
    decision = received(env.ruleset, env.world, attributes={"w": 2})
    assert decision.state.status == "waiting"
    decision = received(env.ruleset, env.world, attributes={})  # null: weight 0
    assert decision.state.status == "waiting"


def test_a_weight_overflowing_inside_the_expression_parks_the_lead(tmp_path: Path) -> None:
    env = build(tmp_path, _weighted("lead.attributes.w * 1.5"))
    decision = received(env.ruleset, env.world, attributes={"w": 10**399})
    assert decision.state.status == "parked"
    assert decision.state.reason is not None
    assert "is too large" in decision.state.reason


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"k": [value]}
    return value


def test_targets_and_keys_that_are_no_text_are_worded_safely(tmp_path: Path) -> None:
    env = build(tmp_path, {
        "targets": """
            policy: targets
            applies_to: {sources: [test-site]}
            pools:
              by-zip: {of: agents, match: {zip: lead.attributes.zip}}
            rules:
              - name: offer
                steps:
                  - offer: {to: lead.attributes.agent, for: 1h}
                  - round_robin: {pool: by-zip}
                  - assign: {to: lead.attributes.agent}
            """})
    decision = received(env.ruleset, env.world, attributes={"agent": _deep(5_000),
                                                            "zip": _deep(5_000)})
    assert decision.state.queue == "unroutable"
    assert decision.state.reason == "assign target a map of 1 key, not an agent id"
    decision = received(env.ruleset, env.world, attributes={"agent": 7, "zip": 10**500})
    assert decision.state.reason == "assign target the number 7, not an agent id"
    decision = received(env.ruleset, env.world, attributes={"zip": 28277})
    assert decision.state.status == "assigned"  # a number matches the ZIP code's text


def test_deep_values_read_by_a_condition_are_kept_briefly(tmp_path: Path) -> None:
    env = build(tmp_path, """
        policy: deep
        applies_to: {sources: [test-site]}
        rules:
          - name: has
            when: lead.attributes.deep != null
            steps: [{queue: has}]
          - name: rest
            steps: [{queue: rest}]
        """)
    decision = received(env.ruleset, env.world, attributes={"deep": _deep(5_000)})
    assert decision.state.queue == "has"
    decision.trace.to_json()
    assert "a map of 1 key" in decision.trace.dumps()
