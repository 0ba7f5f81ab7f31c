"""The SQL stores' fast paths write exactly what the slow, obvious code would."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from storage_helpers import T0, engine_for, lead

from rulekit.pipeline.state import LeadState, Pending
from rulekit.storage.sql_writes import state_json
from rulekit.trace import encode_json


def test_state_json_is_to_dict(rules_dir: Path) -> None:
    engine = engine_for("memory://", rules_dir)
    states = [engine.submit(lead("S1"), T0), engine.submit(lead("S2", source="race.example"))]
    engine.tick(T0 + timedelta(hours=5))
    states += [engine.state("S1"), engine.state("S2")]
    states.append(LeadState("x", "v", "seed", position=(1, 2, "yes", 0), offered=("a1",),
                            pending=Pending("hold", None, timer_id="x:t1"), handoffs=("p",)))
    for state in states:
        assert state is not None
        assert json.loads(state_json(state)) == json.loads(encode_json(state.to_dict()))
        assert LeadState.from_dict(json.loads(state_json(state))) == state
