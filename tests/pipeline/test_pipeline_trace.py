"""Traces: the plain-English explanation of a Homes Connect lead, and the JSON form."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_helpers import make_lead

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage import MemoryStore
from rulekit.trace import Trace, encode_json

FOLDER = Path(__file__).resolve().parents[2] / "rules" / "homesconnect"
#: Tuesday 2026-12-01 10:00 in New York.
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _engine() -> Engine:
    result = check_paths([FOLDER])
    assert result.ok, result.diagnostics
    ruleset = result.rulesets[str(FOLDER)]
    world = result.worlds[str(FOLDER / "world.yaml")]
    return Engine(ruleset, world, MemoryStore(),
                  clock=ManualClock(NOW))


def _market_lead(lead_id: str) -> Lead:
    """A remax.com lead with no owner and no listing: it goes to the market pool."""
    return make_lead(lead_id, received_at=NOW, source="remax.com",
                     property={"mls": "CMLS", "zip": "29730"})


def _offered_then_declined(engine: Engine, lead_id: str) -> list[Trace]:
    """The two traces of a market lead whose first offer is declined."""
    engine.submit(_market_lead(lead_id))
    offer = engine.store.offers(lead_id)[-1]
    engine.decline(offer.offer_id, offer.agents[0])
    traces = engine.store.traces(lead_id)
    assert len(traces) == 2
    return traces


def test_explain_reads_in_plain_english() -> None:
    engine = _engine()
    # Rock Hill ZIP: the market pool holds a-finley-ortiz, who is paused
    lead = make_lead("HC-1", received_at=NOW, source="remax.com", inquiry_type="info",
                     property={"mls": "CMLS", "zip": "29730", "city": "Rock Hill"})
    state = engine.submit(lead)
    assert state.status == "waiting"
    assert state.pending is not None
    (offered,) = state.pending.agents
    text = engine.explain("HC-1")
    assert "Policy 'remax-brand-sources' serves it." in text
    assert "Rule 'agent-branding': `lead.branding_agent != null` is false" in text
    assert "Rule 'market-pool' applies" in text
    # the match values, and the 20 agents of the brokerage the MLS and ZIP left out
    assert ("Pool 'market-agents' (mls = CMLS, zip = 29730): 4 candidate agents (20 agents "
            "of the brokerage left out: not in MLS CMLS or ZIP 29730 not declared), "
            "3 eligible") in text
    (pool,) = [e.data for t in engine.store.traces("HC-1") for e in t.entries
               if e.kind == "pool"]
    assert pool is not None
    assert pool["filters"] == (("match", "mls", "CMLS", 0), ("match", "zip", "29730", 20))
    assert pool["left_out"] == 20
    assert "excluded: 1 paused (a-finley-ortiz)" in text
    agent = engine.world.agents[offered]
    assert f"Offered to {agent.name} ({offered}) until Tue 2026-12-01 12:00 EST" in text
    assert "Lead HC-1 received from remax.com" in text


def test_trace_json_round_trips() -> None:
    for trace in _offered_then_declined(_engine(), "HC-2"):
        data = trace.to_json()
        again = Trace.from_json(json.loads(json.dumps(data)))
        assert again.to_json() == data
        assert again.render() == trace.render()
        assert (again.lead_id, again.at, again.seed) == (trace.lead_id, trace.at, trace.seed)


def test_stored_form_round_trips_and_words_messages_on_reading() -> None:
    for trace in _offered_then_declined(_engine(), "HC-3"):
        stored = json.loads(trace.dumps())
        assert "lines" in stored and "entries" not in stored
        # costly wordings travel as messages, not text
        assert any(isinstance(line[1], list) for line in stored["lines"])
        again = Trace.from_json(stored)
        assert again.render() == trace.render()
        assert again.to_json() == trace.to_json()


def test_unknown_message_is_shown_not_fatal() -> None:
    trace = Trace.from_json({"lead": "x", "event": "lead_received", "at": NOW.isoformat(),
                             "ruleset_version": "v", "seed": "s",
                             "lines": [["event", ["from-the-future", "a", 1], None, None]]})
    assert trace.entries[0].text == "from-the-future a 1"


def test_kept_decisions_give_the_garbage_collector_little_to_walk() -> None:
    """Trace lines and the memory store's rows are tuples of plain values: once the collector
    has seen them it stops tracking them, so keeping many leads costs little collection time
    (before rows and plain trace lines, each lead kept ~50 tracked objects alive)."""
    engine = _engine()
    leads = [_market_lead(f"HC-GC-{i}") for i in range(300)]
    for _ in range(8):
        gc.collect()
    before = len(gc.get_objects())
    for lead in leads:
        engine.submit(lead)
    for _ in range(8):  # each pass can untrack one more level of nested tuples
        gc.collect()
    per_lead = (len(gc.get_objects()) - before) / len(leads)
    assert per_lead < 3, per_lead


def test_kept_decisions_stay_out_of_the_oldest_generation() -> None:
    """What a decision leaves in the memory store is untracked by the young collections, so
    it never reaches the oldest generation: full collections stay rare and short however many
    leads are kept (with trace lines kept as nested tuples, 18 objects per lead got there)."""
    engine = _engine()
    leads = [_market_lead(f"HC-OLD-{i}") for i in range(300)]
    for _ in range(3):
        gc.collect()
    before = len(gc.get_objects(generation=2))
    enabled = gc.isenabled()
    gc.disable()
    try:
        for lead in leads:
            engine.submit(lead)
        gc.collect(0)
        gc.collect(1)
        per_lead = (len(gc.get_objects(generation=2)) - before) / len(leads)
    finally:
        if enabled:
            gc.enable()
    assert per_lead < 1, per_lead


def test_memory_store_keeps_lines_it_cannot_pack() -> None:
    """A third-party step's trace value outside the plain types still round-trips."""
    store = MemoryStore()
    engine = _engine()
    lead = _market_lead("HC-ODD")
    decision = engine.receive(lead)
    assert decision is not None
    odd = Trace(lead.id, "lead_received", NOW, "v", "s",
                [("detail", "an odd value", None, (("when", NOW), ("set", frozenset({1}))))])
    store.commit(lead.id, None, decision.state, decision.effects, odd, NOW, lead=lead)
    (kept,) = store.traces(lead.id)
    assert kept.lines == odd.lines
    assert kept.entries[0].data == {"when": NOW, "set": frozenset({1})}
    plain = engine.store.traces(lead.id)[0]
    assert plain.lines == decision.trace.lines


def _json_values(scalars: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=12)


_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text()
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(_json_values(_SCALARS))
def test_encode_json_writes_what_json_dumps_writes(value: object) -> None:
    assert encode_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@settings(max_examples=300, deadline=None)
@given(_json_values(_SCALARS | _FLOATS))
def test_encode_json_reads_back_as_json_dumps_does(value: object) -> None:
    """Floats may be spelled otherwise (``1e-7`` for ``1e-07``), never valued otherwise."""
    assert json.loads(encode_json(value)) == json.loads(json.dumps(value))


def test_encode_json_converts_other_values_like_the_json_form() -> None:
    assert encode_json({"at": NOW, "set": frozenset({"b", "a"}), 3: None}) == (
        '{"at":"2026-12-01T15:00:00+00:00","set":["a","b"],"3":null}')
    # what JSON cannot hold: floats as null; integers beyond 64 bits still written exactly
    assert encode_json([float("inf"), float("nan")]) == "[null,null]"
    assert encode_json({"big": 2**70}) == '{"big":1180591620717411303424}'
