"""pick_office: offices in proportion to their weight, then hand_to another policy."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from pipeline_helpers import build

FILES = {
    "by-office": """
        policy: by-office
        applies_to: {sources: [test-site]}
        pools:
          city-offices:
            of: offices
            match: {city: lead.property.city}
        rules:
          - name: office-by-size
            steps:
              - pick_office:
                  pool: city-offices
                  weight: office.agent_count
                  hand_to: office-routing
            then: continue
          - name: no-office
            steps: [{queue: no-office}]
        """,
    "office-routing": """
        policy: office-routing
        pools:
          office-agents:
            of: agents
            offices: [lead.office]
        rules:
          - name: office-rotation
            steps:
              - round_robin: {pool: office-agents}
              - queue: {name: office-desk, reason: nobody in the office}
        """,
}

SIZES = {"o-big": 60, "o-mid": 30, "o-small": 10}
MEMBERS = {"o-big": {"a-ann", "a-bob"}, "o-mid": {"a-cat"}, "o-small": {"a-dan", "a-eve"}}


def test_offices_are_picked_in_proportion_to_agent_count(tmp_path: Path) -> None:
    env = build(tmp_path, FILES)
    n = 5000
    for i in range(n):
        env.submit(f"P{i}", property={"city": "Charlotte"})
    picked = Counter(env.state(f"P{i}").office for i in range(n))
    assert set(picked) == set(SIZES)  # o-far (Raleigh) is never picked
    total = sum(SIZES.values())
    for office, size in SIZES.items():
        share = size / total
        # 5 standard deviations of a binomial share: a false failure has odds below 1e-6
        tolerance = 5 * math.sqrt(share * (1 - share) / n)
        assert abs(picked[office] / n - share) < tolerance, picked


def test_hand_to_routes_the_lead_in_the_chosen_office(tmp_path: Path) -> None:
    env = build(tmp_path, FILES)
    for i in range(60):
        state = env.submit(f"H{i}", property={"city": "Pineville"})  # only o-mid serves it
        assert state.office == "o-mid"
        assert state.policy == "office-routing"
        assert (state.status, state.assignee) == ("assigned", "a-cat")
    explanation = env.engine.explain("H0")
    assert "office-routing" in explanation


def test_every_handed_lead_goes_to_an_agent_of_its_office(tmp_path: Path) -> None:
    env = build(tmp_path, FILES)
    for i in range(200):
        state = env.submit(f"A{i}", property={"city": "Charlotte"})
        assert state.office in MEMBERS
        assert state.assignee in MEMBERS[state.office], (state.office, state.assignee)


def test_no_office_in_the_city_passes_to_the_next_rule(tmp_path: Path) -> None:
    env = build(tmp_path, FILES)
    state = env.submit("N1", property={"city": "Nowhere"})
    assert state.queue == "no-office"
    assert state.office is None
