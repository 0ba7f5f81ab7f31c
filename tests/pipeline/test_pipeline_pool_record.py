"""A pool's trace entry records its whole membership for that decision: the rotation key,
every candidate in order, the eligible ones, and each excluded candidate with the reason, not
only the counts and the first few ids the text shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline_helpers import compile_folder, engine_for, write_folder
from test_pipeline_round_robin import ROTATION, with_paused

from rulekit.pipeline.pools import LISTED_PER_REASON


def pool_data(store: Any, lead_id: str) -> dict[str, Any]:
    entries = [e for t in store.traces(lead_id) for e in t.entries if e.kind == "pool"]
    assert len(entries) == 1
    return dict(entries[0].data)


def test_pool_entry_keeps_members_and_every_skip(tmp_path: Path) -> None:
    ruleset, world = compile_folder(write_folder(tmp_path, {"rotation": ROTATION}))
    env = engine_for(ruleset, with_paused(world, {"a-bob"}))
    state = env.submit("L1", email=None)
    data = pool_data(env.store, "L1")
    assert data["pool"] == "rot" and data["key"] == "rot"
    assert data["order"] == ("a-ann", "a-bob", "a-cat")
    assert data["eligible_ids"] == ("a-ann", "a-cat")
    assert data["skipped"] == (("a-bob", "paused"),)
    assert state.assignee in data["eligible_ids"]


def test_skips_are_all_kept_beyond_what_the_text_lists(tmp_path: Path) -> None:
    count = LISTED_PER_REASON + 4
    agents = [f"a-{i:02d}" for i in range(count)]
    world = ("rulekit: 1\nworld: big\nagents:\n"
             + "".join(f"  - {{id: {a}, paused: true}}\n" for a in agents)
             + "  - {id: a-free}\n")
    rules = ROTATION.replace("members: [a-ann, a-bob, a-cat]",
                             f"members: [{', '.join([*agents, 'a-free'])}]")
    ruleset, built = compile_folder(write_folder(tmp_path, {"rotation": rules}, world))
    env = engine_for(ruleset, built)
    assert env.submit("L1", email=None).assignee == "a-free"
    data = pool_data(env.store, "L1")
    reason, shown_count, shown = data["excluded"][0]
    assert (reason, shown_count, len(shown)) == ("paused", count, LISTED_PER_REASON)
    assert data["skipped"] == tuple((a, "paused") for a in agents)
    assert data["order"] == (*agents, "a-free")


def test_random_pick_text_and_json_give_the_same_draw(tmp_path: Path) -> None:
    from pipeline_helpers import build
    from test_pipeline_offer_sequence import _sequence

    for n in range(8):
        env = build(tmp_path / str(n), _sequence("1"))
        env.submit(f"L{n}", email=None)
        picks = [e for t in env.store.traces(f"L{n}") for e in t.entries if e.kind == "pick"]
        assert len(picks) == 1
        data, text = picks[0].data, picks[0].text
        assert data["strategy"] == "random"
        assert f"(draw {data['draw']} of {data['of']}," in text
        assert 1 <= data["draw"] <= data["of"]
        eligible = pool_data(env.store, f"L{n}")["eligible_ids"]
        assert eligible[data["draw"] - 1] == data["chosen"]
