""""Why not me?": for one agent and one stored lead, where the agent dropped out — read from
the lead's traces in a real SQLite store, with the world the store keeps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rulekit.cli.main import main
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage.catalog import load_files
from rulekit.storage.url import open_store
from rulekit.whynot import UnknownAgent, WhyNot, explain_agent

WORLD = """\
rulekit: 1
world: whynot
agents:
  - {id: a-ann, name: Ann Avery, mls: [CMLS], zips: ["28202"]}
  - {id: a-bob, name: Bob Brown, mls: [CMLS], zips: ["28202", "28277"]}
  - {id: a-cat, name: Cat Cruz, mls: [CMLS], zips: ["28277"]}
  - {id: a-dee, name: Dee Dunn, mls: [CMLS], zips: ["28202"], tags: [spanish]}
  - {id: a-fay, name: Fay Fox, mls: [TMLS], zips: ["28202"]}
  - {id: a-pam, name: Pam Paused, mls: [CMLS], zips: ["28202"], paused: true}
"""

ZIP = """\
rulekit: 1
policy: zip
applies_to: {sources: [zip-site]}
pools:
  zip-pool:
    of: agents
    match: {mls: lead.property.mls, zip: lead.property.zip}
    where: '"spanish" not in agent.tags'
    exclude: [paused, already_offered]
  last-chance:
    of: agents
    match: {mls: lead.property.mls, zip: lead.property.zip}
    exclude: [paused]
rules:
  - name: offers
    steps:
      - offer_sequence: {pool: zip-pool, pick: round_robin, attempts: 2, each_for: 1h}
    then: continue
  - name: last-chance
    steps:
      - broadcast: {pool: last-chance, for: 1h}
    then: continue
  - name: nobody
    steps: [{queue: nobody}]
"""

DRAW = """\
rulekit: 1
policy: draw
applies_to: {sources: [draw-site]}
pools:
  cmls:
    of: agents
    match: {mls: lead.property.mls}
    exclude: [paused]
rules:
  - name: draw
    steps:
      - offer_sequence: {pool: cmls, pick: random, attempts: 1, each_for: 1h}
    then: continue
  - name: nobody
    steps: [{queue: nobody}]
"""

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
PROPERTY = {"mls": "CMLS", "zip": "28202"}


def _lead(lead_id: str, source: str, at: datetime) -> Lead:
    return Lead.model_validate({"id": lead_id, "received_at": at.isoformat(), "source": source,
                                "contact": {"email": f"{lead_id.lower()}@example.com"},
                                "property": PROPERTY})


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite store with the rules and world loaded (active), and three leads:

    Z1: offered to Ann (round robin), who has not answered;
    Z2: Bob (next in the rotation) declines, Ann lets her offer expire, then of the
        broadcast to Ann, Bob and Dee (the last-chance pool has no condition) Ann accepts;
    D1: a random draw among the CMLS agents."""
    folder = tmp_path_factory.mktemp("whynot")
    rules = folder / "rules"
    rules.mkdir()
    (rules / "zip.yaml").write_text(ZIP, encoding="utf-8")
    (rules / "draw.yaml").write_text(DRAW, encoding="utf-8")
    world_path = folder / "world.yaml"
    world_path.write_text(WORLD, encoding="utf-8")
    url = f"sqlite:///{folder / 'whynot.db'}"
    store = open_store(url)
    checked = load_files(store, rules, world_path, now=T0)
    assert checked.ok, [d.headline() for d in checked.diagnostics]
    assert checked.ruleset is not None and checked.world is not None
    clock = ManualClock(T0)
    engine = Engine(checked.ruleset, checked.world, store, clock=clock)
    engine.submit(_lead("Z1", "zip-site", T0), T0)
    engine.submit(_lead("Z2", "zip-site", T0), T0)
    offer = engine.store.offers("Z2")[-1]
    assert offer.agents == ("a-bob",)  # the round robin went on after Z1's a-ann
    engine.decline(offer.offer_id, "a-bob", T0 + timedelta(minutes=5))
    offer = engine.store.offers("Z2")[-1]
    assert offer.agents == ("a-ann",)
    later = T0 + timedelta(minutes=5, hours=1)
    clock.set(later)
    engine.tick(later)  # Ann's offer expires: the broadcast follows
    broadcast = engine.store.offers("Z2")[-1]
    assert broadcast.mode == "broadcast" and set(broadcast.agents) == {"a-ann", "a-bob",
                                                                     "a-dee"}
    engine.accept(broadcast.offer_id, "a-ann", later + timedelta(minutes=1))
    engine.submit(_lead("D1", "draw-site", T0), T0)
    close = getattr(store, "close", None)
    if close is not None:
        close()
    yield url


def _ask(db: str, lead_id: str, agent: str) -> WhyNot:
    store = open_store(db)
    try:
        return explain_agent(store, lead_id, agent)
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


def test_an_agent_outside_the_mls_is_told_which_filter_left_them_out(db: str) -> None:
    answer = _ask(db, "Z1", "a-fay")
    assert answer.verdict == "not_in_pool"
    assert answer.summary == ("Fay Fox (a-fay) was not in pool 'zip-pool' at all: not in MLS "
                              "CMLS (their MLS: TMLS).")
    moment = answer.moments[0]  # and again when Ann's offer expired
    assert [m.kind for m in answer.moments] == ["not_in_pool", "not_in_pool"]
    assert moment.reason == "mls" and moment.pool == "zip-pool"
    assert answer.to_json()["moments"][0]["detail"]["filters"]["mls"] == "CMLS"


def test_an_agent_who_did_not_declare_the_zip(db: str) -> None:
    answer = _ask(db, "Z1", "a-cat")
    assert answer.verdict == "not_in_pool"
    assert answer.summary == ("Cat Cruz (a-cat) was not in pool 'zip-pool' at all: ZIP 28202 "
                              "not declared (their ZIP codes: 28277).")
    assert answer.moments[0].reason == "zip"


def test_a_paused_agent_and_one_not_matching_the_condition(db: str) -> None:
    paused = _ask(db, "Z1", "a-pam")
    assert paused.verdict == "excluded"
    assert paused.summary == ("Pam Paused (a-pam) was a candidate of pool 'zip-pool' but was "
                              "left out: paused.")
    dee = _ask(db, "Z1", "a-dee")
    assert dee.summary == ("Dee Dunn (a-dee) was a candidate of pool 'zip-pool' but was left "
                           "out: not matching the pool's condition "
                           "`\"spanish\" not in agent.tags`.")


def test_an_agent_whose_turn_had_not_come(db: str) -> None:
    answer = _ask(db, "Z1", "a-bob")
    first = answer.moments[0]
    assert first.kind == "passed_over" and first.detail["chosen"] == "a-ann"
    assert first.text == ("Bob Brown (a-bob) was eligible in pool 'zip-pool' (2 eligible), "
                          "but the round robin chose Ann Avery (a-ann), next after the "
                          "start: their turn had not come.")
    # Ann's offer expired at 16:00: Bob's turn came, and his offer is open
    assert [m.kind for m in answer.moments[1:]] == ["picked", "offered"]
    assert answer.moments[1].text == ("Bob Brown (a-bob) was eligible in pool 'zip-pool' and "
                                      "was picked, next in the rotation of 'zip-pool' after "
                                      "a-ann.")
    assert answer.verdict == "offer_open"
    assert answer.summary == ("Bob Brown (a-bob) has an open offer of the lead (Z1:o4): it is "
                              "theirs to answer.")


def test_an_agent_who_lost_the_random_draw(db: str) -> None:
    store = open_store(db)
    try:
        (pick,) = [e.data for t in store.traces("D1") for e in t.entries if e.kind == "pick"]
    finally:
        store.close()
    assert pick is not None
    loser = next(a for a in ("a-ann", "a-bob", "a-cat", "a-dee") if a != pick["chosen"])
    answer = _ask(db, "D1", loser)
    assert answer.verdict == "passed_over" and answer.moments[-1].reason == "random"
    assert f"the random draw chose {pick['chosen']}" not in answer.summary  # named, not an id
    assert re.search(r"the random draw chose .+ \(a-\w+\) \(draw \d of 4\); they were one "
                     r"of the 4\.$", answer.summary), answer.summary


def test_declined_expired_and_beaten_to_the_broadcast(db: str) -> None:
    bob = _ask(db, "Z2", "a-bob")
    kinds = [m.kind for m in bob.moments]
    assert kinds == ["picked", "offered", "declined", "excluded", "offered", "beaten"]
    assert bob.verdict == "beaten"
    assert bob.summary == ("Ann Avery (a-ann) accepted offer Z2:o7 first; Bob Brown (a-bob) "
                           "was too late.")
    assert bob.moments[3].text == ("Bob Brown (a-bob) was a candidate of pool 'zip-pool' but "
                                   "was left out: already offered this lead.")
    ann = _ask(db, "Z2", "a-ann")
    assert [m.kind for m in ann.moments][:4] == ["passed_over", "picked", "offered", "expired"]
    assert ann.verdict == "got_lead"
    assert ann.moments[-1].text == ("Ann Avery (a-ann) got the lead: claimed (first to "
                                    "accept the broadcast).")
    assert ann.summary == "Ann Avery (a-ann) got the lead."


def test_the_lines_read_in_order_with_times(db: str) -> None:
    lines = _ask(db, "Z1", "a-fay").lines()
    assert lines[0] == "Why not Fay Fox (a-fay) for lead Z1?"
    assert lines[2].startswith("2026-12-01 15:00 UTC — Fay Fox (a-fay) was not in pool")
    assert lines[-1].startswith("In short: Fay Fox (a-fay) was not in pool 'zip-pool'")


def test_an_unknown_agent_is_an_error_with_a_hint(db: str) -> None:
    with pytest.raises(UnknownAgent, match=r"no agent 'a-fey' in world 'whynot'; did you "
                       r"mean 'a-fay'\?"):
        _ask(db, "Z1", "a-fey")


def test_the_pick_text_and_its_json_agree_on_the_draw(db: str) -> None:
    store = open_store(db)
    try:
        entries = [e for t in store.traces("D1") for e in t.entries]
    finally:
        store.close()
    (pick,) = [e for e in entries if e.kind == "pick"]
    (pool,) = [e.data for e in entries if e.kind == "pool"]
    data: dict[str, Any] | None = pick.data
    assert data is not None and pool is not None
    found = re.search(r"draw (\d+) of (\d+)", pick.text)
    assert found is not None, pick.text
    assert (int(found.group(1)), int(found.group(2))) == (data["draw"], data["of"])
    assert pool["eligible_ids"][data["draw"] - 1] == data["chosen"]


def test_the_pool_line_names_its_values_and_who_it_left_out(db: str) -> None:
    store = open_store(db)
    try:
        (entry,) = [e for e in store.traces("Z1")[0].entries if e.kind == "pool"]
    finally:
        store.close()
    assert entry.text == (
        "Pool 'zip-pool' (mls = CMLS, zip = 28202): 4 candidate agents (2 agents of the "
        "brokerage left out: not in MLS CMLS or ZIP 28202 not declared), 2 eligible; "
        "excluded: 1 not matching the pool's condition `\"spanish\" not in agent.tags` "
        "(a-dee); 1 paused (a-pam)")
    assert entry.data is not None
    assert entry.data["filters"] == (("match", "mls", "CMLS", 1), ("match", "zip", "28202", 1),
                                     ("where", "", '"spanish" not in agent.tags', 1))
    assert entry.data["left_out"] == 2


def test_explain_agent_on_the_command_line(db: str, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    assert main(["explain", "Z1", "--agent", "a-cat", "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Why not Cat Cruz (a-cat) for lead Z1?\n")
    assert "In short: Cat Cruz (a-cat) was not in pool 'zip-pool' at all: ZIP 28202 not " \
           "declared" in out
    assert main(["explain", "Z1", "--agent", "a-cat", "--db", db, "--format", "json"]) == 0
    import json
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "not_in_pool" and data["agent"] == "a-cat"
    assert main(["explain", "Z1", "--agent", "x-unknown-person", "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "rulekit explain: no agent 'x-unknown-person' in world 'whynot'"


def test_each_kind_of_filter_names_the_agents_own_values() -> None:
    from rulekit.model import Agent, Team
    from rulekit.whynot import left_out_by
    from rulekit.world import World

    world = World.build("w", agents=[
        Agent(id="a1", offices=["o1"], tags=["spanish"], cities=["Charlotte"]),
        Agent(id="a2", offices=["o2"])], teams=[Team(id="t1", members=["a1"])])
    a1, a2 = world.agents["a1"], world.agents["a2"]
    assert left_out_by(("office", "", "o1", 1), a2, world) == \
        "not in office o1 (their offices: o2)"
    assert left_out_by(("office", "", "o1, o3", 1), a2, world) == \
        "not in offices o1, o3 (their offices: o2)"
    assert left_out_by(("office", "lead.office", "o1", 1), a2, world) == \
        "not in the lead's office o1 (their offices: o2)"
    assert left_out_by(("office", "", "o1", 1), a1, world) is None
    assert left_out_by(("team", "", "t1", 1), a2, world) == "not in team t1"
    assert left_out_by(("team", "", "t1", 1), a1, world) is None  # listed by the team
    assert left_out_by(("tag", "", "spanish", 1), a2, world) == "not tagged spanish"
    assert left_out_by(("members", "", "t1", 1), a1, world) is None  # a team of the members
    assert left_out_by(("members", "", "t1", 1), a2, world) == "not a member"
    assert left_out_by(("match", "city", "charlotte", 1), a1, world) is None
    assert left_out_by(("match", "city", "Concord", 1), a1, world) == \
        "city Concord not declared (their cities: Charlotte)"
    assert left_out_by(("match", "zip", None, 2), a1, world) == "the lead has no zip"
    assert left_out_by(("match", "mls", "CMLS", 2), a1, world) == \
        "not in MLS CMLS (they have no MLS)"


def test_a_decision_recorded_before_pools_listed_their_filters() -> None:
    from rulekit.model import Agent
    from rulekit.trace import Trace
    from rulekit.whynot import why_not
    from rulekit.world import World

    world = World.build("w", agents=[Agent(id="a1", name="A One"), Agent(id="a2")])
    trace = Trace("L9", "lead_received", T0, "v1", "s")
    trace.add("event", "Lead L9 received from web.")
    trace.add("pool", ("pool",), data={"pool": "p", "of": "agents", "candidates": 1,
                                       "eligible": 1, "excluded": (), "key": "p",
                                       "order": ("a2",), "eligible_ids": ("a2",),
                                       "skipped": ()})
    answer = why_not("L9", [trace], "a1", world)
    assert answer.verdict == "not_in_pool"
    assert answer.summary == ("A One (a1) was not in pool 'p' at all (this decision was "
                              "recorded before traces listed a pool's filters).")
    assert trace.entries[1].text == "Pool 'p': 1 candidate agent, 1 eligible"


def test_a_weighted_draw_says_the_agents_chance() -> None:
    from rulekit.model import Agent
    from rulekit.trace import Trace
    from rulekit.whynot import why_not
    from rulekit.world import World

    world = World.build("w", agents=[Agent(id="a1", name="A One"),
                                     Agent(id="a2", name="A Two")])
    trace = Trace("L8", "lead_received", T0, "v1", "s")
    trace.add("event", "Lead L8 received from web.")
    trace.add("pool", ("pool",), data={"pool": "p", "of": "agents", "candidates": 2,
                                       "eligible": 2, "excluded": (), "key": "p",
                                       "order": ("a1", "a2"), "eligible_ids": ("a1", "a2"),
                                       "skipped": (), "filters": (), "left_out": 0})
    trace.add("pick", "Picked A Two (a2) by weight (75% chance; draw 2.50 of 4, seed s)",
              data={"strategy": "weighted", "chosen": "a2", "draw": 2.5, "total": 4.0,
                    "weights": (("a1", 1.0), ("a2", 3.0))})
    answer = why_not("L8", [trace], "a1", world)
    assert answer.verdict == "passed_over"
    assert answer.summary == ("A One (a1) was eligible in pool 'p' (2 eligible), but the "
                              "weighted draw chose A Two (a2); they had a 25% chance.")
    winner = why_not("L8", [trace], "a2", world)
    assert winner.moments[0].text == ("A Two (a2) was eligible in pool 'p' and was picked by "
                                      "weight (75% chance; draw 2.50 of 4, seed s).")


OFFICE_WORLD = """\
rulekit: 1
world: offices
offices:
  - {id: o-north, name: North, city: Charlotte}
  - {id: o-south, name: South, city: Charlotte}
  - {id: o-far, name: Far, city: Asheville}
agents:
  - {id: a-nia, name: Nia North, offices: [o-north]}
  - {id: a-ned, name: Ned North, offices: [o-north]}
  - {id: a-sal, name: Sal South, offices: [o-south]}
  - {id: a-fin, name: Fin Far, offices: [o-far]}
"""
OFFICE_RULES = """\
rulekit: 1
policy: offices
applies_to: {sources: [site]}
pools:
  city-offices: {of: offices, match: {city: lead.property.city}}
  office-agents: {of: agents, offices: [lead.office]}
rules:
  - name: by-office
    steps:
      - pick_office: {pool: city-offices, weight: office.agent_count}
      - round_robin: {pool: office-agents}
      - queue: {name: desk}
"""


def test_an_agent_whose_office_lost_the_weighted_draw(tmp_path: Any) -> None:
    (tmp_path / "world.yaml").write_text(OFFICE_WORLD, encoding="utf-8")
    (tmp_path / "offices.yaml").write_text(OFFICE_RULES, encoding="utf-8")
    store: Any = open_store(f"sqlite:///{tmp_path / 'o.db'}")
    load_files(store, tmp_path, tmp_path / "world.yaml", by="ana", now=T0)
    from rulekit.storage.catalog import active

    current = active(store)
    assert current.ruleset is not None and current.world is not None
    engine = Engine(current.ruleset, current.world, store, clock=ManualClock(T0))
    for n in range(12):
        engine.submit(Lead.model_validate({
            "id": f"O{n}", "received_at": T0.isoformat(), "source": "site",
            "property": {"city": "Charlotte"}}), T0)
    offices = {n: engine.state(f"O{n}").office for n in range(12)}  # type: ignore[union-attr]
    north = next(n for n, o in offices.items() if o == "o-north")
    south = next(n for n, o in offices.items() if o == "o-south")
    lost = explain_agent(store, f"O{north}", "a-sal")
    assert lost.verdict == "office_passed_over"
    assert lost.summary == (
        "The office of Sal South (a-sal) (o-south) was eligible in office pool 'city-offices', "
        "but the weighted draw chose office o-north; o-south had a 33% chance. Then: Sal South "
        "(a-sal) was not in pool 'office-agents' at all: not in the lead's office o-north (their "
        "offices: o-south).")
    won = explain_agent(store, f"O{south}", "a-sal")
    assert won.verdict == "got_lead"
    assert [m.kind for m in won.moments][:2] == ["office_picked", "picked"]
    far = explain_agent(store, f"O{north}", "a-fin")
    assert far.moments[0].kind == "office_not_in_pool"
    assert far.moments[0].text == ("No office of Fin Far (a-fin) (o-far) was a candidate of "
                                   "office pool 'city-offices' (city = Charlotte).")
    store.close()
