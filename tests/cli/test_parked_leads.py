"""A parked lead as an administrator meets it: listed in the error queue, explained with the
error and its rule-file position, and routed again with ``rulekit retry`` after a fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rule_folders import write_one_afternoon_rules

from rulekit.cli.main import main
from rulekit.model import Lead
from rulekit.storage.url import open_store
from rulekit.worker import Worker

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_park_list_explain_fix_and_retry(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    rules, db = tmp_path / "rules", f"sqlite:///{tmp_path / 'live.db'}"
    write_one_afternoon_rules(rules)  # open only on one afternoon in the past
    assert main(["load", "--db", db, "--rules", str(rules), "--world",
                 str(rules / "world.yaml")]) == 0
    store = open_store(db)
    worker = Worker(store, name="w")
    worker.refresh()
    assert worker.engine is not None
    worker.engine.submit(Lead(id="L1", received_at=T0, source="web.example",
                              contact={"email": "l1@example.com"}), T0)
    worker.run_once()  # the first offer's deadline passed long ago; the next cannot be given
    store.close()
    capsys.readouterr()

    assert main(["leads", "--db", db, "--queue", "errors", "--format", "json"]) == 0
    listed = capsys.readouterr().out
    assert '"L1"' in listed and '"parked"' in listed

    assert main(["explain", "L1", "--db", db]) == 0
    explained = capsys.readouterr().out
    assert "Could not route the lead:" in explained
    assert "web.yaml:" in explained  # the calendar's position in the rule file
    assert "parked in queue 'errors'" in explained

    assert main(["retry", "L1", "--db", db, "--by", "ops@example.com"]) == 1  # not fixed
    assert "parked" in capsys.readouterr().out  # parked again, with the same error

    write_one_afternoon_rules(rules, '{mon-sun: "00:00-24:00"}')
    assert main(["load", "--db", db, "--rules", str(rules)]) == 0
    capsys.readouterr()
    assert main(["retry", "L1", "--db", db, "--by", "ops@example.com",
                 "--reason", "opened the office calendar"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("L1: waiting")
    assert "ops@example.com retried the parked lead: opened the office calendar." in out

    store = open_store(db)
    try:
        actions = [entry.action for entry in store.audit()]
        assert actions.count("lead_parked") == 2 and "lead_retried" in actions
    finally:
        store.close()

    assert main(["retry", "L1", "--db", db, "--by", "ops@example.com"]) == 1
    assert "is waiting, not parked" in capsys.readouterr().err
    assert main(["retry", "NOPE", "--db", db, "--by", "ops@example.com"]) == 1
    assert "no lead 'NOPE'" in capsys.readouterr().err


def test_a_kept_lead_is_explained_as_waiting_for_a_worker(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules, db = tmp_path / "rules", f"sqlite:///{tmp_path / 'live.db'}"
    write_one_afternoon_rules(rules, '{mon-sun: "00:00-24:00"}')
    assert main(["load", "--db", db, "--rules", str(rules), "--world",
                 str(rules / "world.yaml")]) == 0
    store = open_store(db)
    lead = Lead(id="K1", received_at=T0, source="web.example",
                contact={"email": "k1@example.com"})
    assert store.add_inbox(lead, "v-any", T0 + timedelta(days=9999))  # not due for long
    store.close()
    capsys.readouterr()
    assert main(["explain", "K1", "--db", db]) == 0
    assert "kept in the inbox" in capsys.readouterr().out
    assert main(["leads", "--db", db, "--status", "kept", "--format", "json"]) == 0
    assert '"K1"' in capsys.readouterr().out
