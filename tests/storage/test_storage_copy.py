"""``copy_store``: moving a store from SQLite to PostgreSQL (and back) keeps everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from storage_helpers import T0, compile_rules, lead
from test_storage_engine import story

from rulekit.engine import Engine, ManualClock
from rulekit.storage.catalog import load_files, pause_agent
from rulekit.storage.transfer import copy_store
from rulekit.storage.url import open_store


def everything(store: Any) -> dict[str, Any]:
    ids = list(store.lead_ids())
    return {
        "leads": ids,
        "lead": [store.get_lead(i) for i in ids],
        "states": [store.get_state(i) for i in ids],
        "traces": [[t.to_json() for t in store.traces(i)] for i in ids],
        "offers": store.offers(),
        "assignments": store.assignments(),
        "queue": store.queue_items(),
        "outbox": store.outbox(),
        "conflicts": store.conflicts(),
        "timers": store.next_timer_due(),
        "rotation": store.facts().rotation("everyone"),
        "loads": [store.facts().load(a) for a in ("a1", "a2", "a3", "a4")],
        "contacts": [store.contact(k) for k in ("email:known@example.com",
                                                 "email:l1@example.com")],
        "active": store.active_versions(),
        "audit": store.audit(),
    }


def test_copy_sqlite_to_postgres_and_back(tmp_path: Path, pg_url: str,
                                          rules_dir: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'from.db'}"
    ruleset, world = compile_rules(rules_dir)
    source: Any = open_store(sqlite_url)
    load_files(source, rules_dir, rules_dir / "world.yaml", by="ana", now=T0)
    pause_agent(source, "a4", by="ana", now=T0)
    story(Engine(ruleset, world, source, clock=ManualClock(T0)))
    expected = everything(source)
    source.close()

    copied = copy_store(sqlite_url, pg_url)
    assert copied["leads"] == 3 and copied["traces"] == len(
        [t for ts in expected["traces"] for t in ts])
    target: Any = open_store(pg_url)
    assert everything(target) == expected
    # the copy goes on where the original stopped: generated ids continue
    Engine(ruleset, world, target, clock=ManualClock(T0)).submit(lead("L4"))
    assert [m.message_id for m in target.outbox()][-1] == expected["outbox"][-1].message_id + 1
    target.close()

    back_url = f"sqlite:///{tmp_path / 'back.db'}"
    copy_store(pg_url, back_url)
    back: Any = open_store(back_url)
    again = everything(back)
    assert again["leads"] == [*expected["leads"], "L4"]
    assert again["offers"][:len(expected["offers"])] == expected["offers"]
    back.close()
    with pytest.raises(ValueError, match="not empty"):
        copy_store(sqlite_url, back_url)
    with pytest.raises(ValueError, match="SQL stores"):
        copy_store("memory://", back_url)
