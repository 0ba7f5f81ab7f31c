"""Every pool filter in a trace: its condition with the values it used, and how many agents
(offices) of the brokerage it left out — offices, the lead's office, teams, tags, members,
``match`` keys, ``where`` — counted from the world's indexes, once per world and values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline_helpers import T0, build, make_lead

from rulekit.pipeline import LeadReceived, StaticFacts, decide
from rulekit.pipeline.pools import pool_filters
from rulekit.ruleset import RuleSet
from rulekit.world import World

POOLS = """
policy: pools
applies_to: {sources: [test-site]}
pools:
  big-trusted: {of: agents, offices: [o-big], tags: [trusted]}
  own-office: {of: agents, offices: [lead.office], match: {zip: lead.property.zip}}
  pair: {of: agents, members: [a-ann, a-bob]}
  charlotte: {of: offices, match: {city: lead.property.city}}
rules:
  - {name: big-trusted, when: 'lead.attributes.pool == "big-trusted"',
     steps: [{broadcast: {pool: big-trusted}}], then: continue}
  - {name: own-office, when: 'lead.attributes.pool == "own-office"',
     steps: [{broadcast: {pool: own-office}}], then: continue}
  - {name: pair, when: 'lead.attributes.pool == "pair"',
     steps: [{broadcast: {pool: pair}}], then: continue}
  - {name: charlotte, when: 'lead.attributes.pool == "charlotte"',
     steps: [{pick_office: {pool: charlotte}}], then: continue}
  - name: rest
    steps: [{queue: rest}]
"""


def _pools(ruleset: RuleSet, world: World, **fields: Any) -> dict[str, tuple[str, Any]]:
    """Each pool's trace text and data, for a lead with these fields (one lead per pool)."""
    found = {}
    for name in ("big-trusted", "own-office", "pair", "charlotte"):
        lead = make_lead("L1", attributes={"pool": name}, **fields)
        decision = decide(ruleset, world, StaticFacts(), None, lead, LeadReceived(lead), T0)
        (entry,) = [e for e in decision.trace.entries if e.kind == "pool"]
        assert entry.data is not None
        found[name] = (entry.text, entry.data)
    return found


def test_offices_tags_members_and_the_lead_office_say_who_they_left_out(
        tmp_path: Path) -> None:
    env = build(tmp_path, POOLS)
    pools = _pools(env.ruleset, env.world, office="o-small",
                   property={"zip": "28277", "city": "Charlotte"})
    text, data = pools["big-trusted"]
    # 10 agents: o-big has a-ann, a-bob, a-pam; of them only a-ann is tagged trusted
    assert text == ("Pool 'big-trusted': 1 candidate agent (9 agents of the brokerage left "
                    "out: not in office o-big or not tagged trusted), 1 eligible")
    assert data["filters"] == (("office", "", "o-big", 7), ("tag", "", "trusted", 9))
    assert data["left_out"] == 9
    text, data = pools["own-office"]
    assert text == ("Pool 'own-office' (lead.office = o-small, zip = 28277): 2 candidate "
                    "agents (8 agents of the brokerage left out: not in the lead's office "
                    "o-small or ZIP 28277 not declared), 2 eligible")
    assert data["filters"] == (("office", "lead.office", "o-small", 8),
                               ("match", "zip", "28277", 5))
    text, data = pools["pair"]
    assert text == ("Pool 'pair': 2 candidate agents (8 agents of the brokerage left out: "
                    "not a member), 2 eligible")
    assert data["filters"] == (("members", "", "a-ann, a-bob", 8),)


def test_an_office_pool_and_a_lead_without_the_value(tmp_path: Path) -> None:
    env = build(tmp_path, POOLS)
    pools = _pools(env.ruleset, env.world, office="o-small", property={"city": "Charlotte"})
    text, data = pools["charlotte"]
    assert text.startswith("Pool 'charlotte' (city = Charlotte): 3 candidate offices (1 office "
                           "of the brokerage left out: not in or specialising in city "
                           "Charlotte), ")
    assert data["filters"] == (("match", "city", "Charlotte", 1),)
    text, data = pools["own-office"]  # the lead has no ZIP: nobody is a candidate
    assert text == ("Pool 'own-office' (lead.office = o-small, zip = (none)): 0 candidate "
                    "agents (10 agents of the brokerage left out: not in the lead's office "
                    "o-small or the lead has no zip), 0 eligible")
    assert data["filters"][1] == ("match", "zip", None, 10)
    text, data = _pools(env.ruleset, env.world, office="o-small")["charlotte"]
    assert text.startswith("Pool 'charlotte' (city = (none)): 0 candidate offices (4 offices "
                           "of the brokerage left out: the lead has no city), 0 eligible")
    assert data["filters"] == (("match", "city", None, 4),)


def test_filters_are_counted_once_per_world_and_values(tmp_path: Path) -> None:
    env = build(tmp_path, POOLS)
    pool = env.ruleset.pools["own-office"]
    first = pool_filters(env.world, pool, ("o-small", "28277"))
    assert pool_filters(env.world, pool, ("o-small", "28277")) is first
    assert pool_filters(env.world, pool, ("o-big", "28277")) == (
        ("office", "lead.office", "o-big", 7), ("match", "zip", "28277", 5))
