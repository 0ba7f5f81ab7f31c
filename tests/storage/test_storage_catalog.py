"""Rule sets and worlds in the store: load, compile back, activate, audit, admin edits, and
leads in flight finishing under the rule set they started with."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from storage_helpers import T0, compile_rules, lead, write_rules

from rulekit.cli.main import main as cli
from rulekit.engine import Engine, ManualClock
from rulekit.storage.base import RULESET, WORLD
from rulekit.storage.catalog import (
    CatalogError,
    active,
    load_files,
    load_ruleset,
    pause_agent,
    rule_cc,
    set_policy_enabled,
    set_pool_members,
    set_rule_cc,
    world_version,
)
from rulekit.storage.memory import MemoryStore
from rulekit.storage.sql import SCHEMA_VERSION
from rulekit.worker import NothingLoaded, Worker

H = timedelta(hours=1)


def test_loaded_files_compile_back_to_the_same_versions(backend: Backend,
                                                        rules_dir: Path) -> None:
    store: Any = backend.open()
    checked = load_files(store, rules_dir, rules_dir / "world.yaml", by="ana", now=T0)
    assert checked.ok and checked.ruleset is not None
    ruleset, world = compile_rules(rules_dir)
    assert checked.ruleset.version == ruleset.version  # the same hash as `validate` gives
    versions = store.active_versions()
    text = (rules_dir / "world.yaml").read_text(encoding="utf-8")
    assert versions == {RULESET: ruleset.version, WORLD: world_version(text)}
    stored = store.ruleset_files(ruleset.version)
    assert sorted(stored.files) == ["race.yaml", "web.yaml"]  # the world is not a rule file
    assert stored.files["web.yaml"] == (rules_dir / "web.yaml").read_text(encoding="utf-8")
    if backend.kind != "memory":
        store.close()
        store = backend.open()
    current = active(store)
    assert current.ruleset is not None and current.ruleset.version == ruleset.version
    assert current.world is not None and sorted(current.world.agents) == sorted(world.agents)
    assert [p.name for p in current.ruleset.policies] == [p.name for p in ruleset.policies]
    (entry,) = store.audit()
    assert (entry.actor, entry.at) == ("ana", T0)
    assert entry.action == (f"ruleset {ruleset.version} activated and world "
                            f"{world_version(text)} activated")
    assert entry.detail["ruleset"]["files"] == ["race.yaml", "web.yaml"]
    # loading the same files again changes nothing, and writes no audit entry
    assert load_files(store, rules_dir, rules_dir / "world.yaml", by="ana").ok
    assert len(store.audit()) == 1
    assert load_ruleset(store, "0000000000000000") is None


def test_admin_edits_make_new_versions_with_audit_entries(backend: Backend,
                                                          rules_dir: Path) -> None:
    store: Any = backend.open()
    load_files(store, rules_dir, rules_dir / "world.yaml", by="ana", now=T0)
    before = store.active_versions()
    new_world = pause_agent(store, "a1", by="bo", now=T0 + H)
    assert store.active_versions() == {**before, WORLD: new_world}
    current = active(store)
    assert current.world is not None and current.world.agents["a1"].paused
    unpaused = pause_agent(store, "a1", False, by="bo", now=T0 + 2 * H)
    assert unpaused not in (before[WORLD], new_world)  # rewritten YAML: a third version
    current = active(store)
    assert current.world is not None and not current.world.agents["a1"].paused
    new_rules = set_pool_members(store, "everyone", ["a2", "a3"], by="cy", now=T0 + 3 * H)
    assert new_rules != before[RULESET]
    rules = active(store).ruleset
    assert rules is not None and rules.pools["everyone"].members == ("a2", "a3")
    assert load_ruleset(store, before[RULESET]) is not None  # older versions stay stored
    assert [(e.actor, e.action) for e in store.audit()[1:]] == [
        ("bo", f"agent a1 paused; world {new_world} activated"),
        ("bo", f"agent a1 unpaused; world {unpaused} activated"),
        ("cy", f"pool everyone members set; ruleset {new_rules} activated"),
    ]
    with pytest.raises(CatalogError, match="no agent 'zz'"):
        pause_agent(store, "zz", by="bo")
    with pytest.raises(CatalogError, match="no pool 'nope'"):
        set_pool_members(store, "nope", ["a1"], by="bo")
    with pytest.raises(CatalogError, match="not agents or teams of the active world: ghost"):
        set_pool_members(store, "everyone", ["ghost"], by="bo")  # not an agent of the world


def test_a_lead_in_flight_finishes_under_its_rule_set(backend: Backend,
                                                      rules_dir: Path) -> None:
    store: Any = backend.open()
    load_files(store, rules_dir, rules_dir / "world.yaml", by="ana", now=T0)
    old = store.active_versions()[RULESET]
    clock = ManualClock(T0)
    worker = Worker(store, name="w1", clock=clock)
    worker.refresh()
    assert worker.engine is not None
    first = worker.engine.submit(lead("L1"), T0)  # offered to a1, then a2 in sequence
    assert first.ruleset_version == old and first.pending is not None
    # the admin takes a2 out of the pool: a new rule set; a1 pauses: a new world
    new = set_pool_members(store, "everyone", ["a1", "a3", "a4"], by="cy", now=T0)
    pause_agent(store, "a3", by="cy", now=T0)
    # a brand-new worker (it never saw the old version) fires L1's deadline
    clock2 = ManualClock(T0 + 61 * timedelta(minutes=1))
    other = Worker(store, name="w2", clock=clock2)
    assert other.run_once().fired == 1
    assert other.engine is not None and other.engine.ruleset.version == new
    assert old in other.engine.rulesets  # compiled from the store for L1
    state = store.get_state("L1")
    assert state.ruleset_version == old
    assert state.pending is not None and state.pending.agents == ("a2",)  # old pool: a2 next
    # a new lead goes by the new rule set and the new world: a1 (a2 left, a3 paused)
    fresh = other.engine.submit(lead("L2"), clock2.now())
    assert fresh.ruleset_version == new and fresh.pending is not None
    assert fresh.pending.agents == ("a4",)  # after a2 on the ring: a3 is paused
    assert "a3" not in fresh.pending.agents
    # the first worker follows the new versions at its next iteration
    clock.set(clock2.now())
    assert worker.run_once().reloaded
    assert worker.engine.ruleset.version == new and worker.engine.world.agents["a3"].paused


def test_an_engine_without_a_loader_falls_back_to_the_current_rule_set(
        rules_dir: Path) -> None:
    from rulekit.storage.memory import MemoryStore

    ruleset, world = compile_rules(rules_dir)
    asked: list[str] = []

    def loader(version: str) -> None:
        asked.append(version)

    engine = Engine(ruleset, world, MemoryStore(), ruleset_loader=loader)
    assert engine.ruleset_for("unknown") is ruleset and asked == ["unknown"]
    assert engine.ruleset_for(ruleset.version) is ruleset and asked == ["unknown"]


def test_a_worker_needs_something_loaded(durable: Backend) -> None:
    store: Any = durable.open()
    with pytest.raises(NothingLoaded, match="rulekit load"):
        Worker(store).run_once()
    assert cli(["worker", "--db", durable.url, "--once"]) == 1


def test_schema_has_the_catalog(durable: Backend) -> None:
    store: Any = durable.open()
    assert store.schema_version() == SCHEMA_VERSION == 6
    assert store.active_versions() == {} and store.audit() == []


# -- the CLI -----------------------------------------------------------------------------------
def test_cli_load_and_worker(durable: Backend, rules_dir: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    world = tmp_path / "world.yaml"
    world.write_text((rules_dir / "world.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (rules_dir / "world.yaml").unlink()  # a world kept apart from the rules
    assert cli(["load", "--db", durable.url, "--rules", str(rules_dir)]) == 1
    assert "no world yet" in capsys.readouterr().err
    assert cli(["load", "--db", durable.url, "--rules", str(rules_dir), "--world", str(world),
                "--by", "ops"]) == 0
    out = capsys.readouterr().out
    assert "ruleset " in out and "world " in out and "(tiny) active" in out
    # a broken world: the same diagnostics as `rulekit validate`, nothing stored
    broken = tmp_path / "broken.yaml"
    broken.write_text(world.read_text(encoding="utf-8").replace("owner: a3", "owner: a9"),
                      encoding="utf-8")
    assert cli(["validate", str(broken)]) == 1
    expected = capsys.readouterr().out
    before = durable.open().active_versions()
    assert cli(["load", "--db", durable.url, "--world", str(broken)]) == 1
    captured = capsys.readouterr()
    assert "RK310" in captured.out and captured.out.strip() in expected
    assert "nothing was stored" in captured.err
    assert durable.open().active_versions() == before
    # a new world alone
    world.write_text(world.read_text(encoding="utf-8").replace("A One", "A. One"),
                     encoding="utf-8")
    assert cli(["load", "--db", durable.url, "--world", str(world), "--by", "ops"]) == 0
    store: Any = durable.open()
    assert store.active_versions()[WORLD] != before[WORLD]
    assert [e.actor for e in store.audit()] == ["ops", "ops"]
    assert cli(["worker", "--db", durable.url, "--once", "--name", "cron"]) == 0
    assert "fired 0 timers" in capsys.readouterr().out


def test_a_rule_set_is_one_folder(rules_dir: Path, tmp_path: Path) -> None:
    from rulekit.storage.memory import MemoryStore

    (rules_dir / "more").mkdir()
    (rules_dir / "more" / "race.yaml").write_text(
        (rules_dir / "race.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    store = MemoryStore()
    checked = load_files(store, rules_dir, rules_dir / "world.yaml", by="ana")
    assert not checked.ok and store.active_versions() == {}
    assert any(d.code == "RK008" and "subfolder" in d.message for d in checked.diagnostics)


def test_load_refuses_a_pool_member_the_world_does_not_have(tmp_path: Path) -> None:
    folder = write_rules(tmp_path / "rules")
    web = folder / "web.yaml"
    web.write_text(web.read_text(encoding="utf-8").replace(
        "    of: agents\n    exclude: [paused]\n",
        "    of: agents\n    members: [a1, a2, a-typo]\n    exclude: [paused]\n"),
        encoding="utf-8")
    store = MemoryStore()
    checked = load_files(store, folder, folder / "world.yaml", by="test")
    assert not checked.ok
    [problem] = [d for d in checked.diagnostics if d.code == "RK313"]
    assert "a-typo" in problem.message and problem.location is not None
    assert store.active_versions() == {}  # nothing stored


def test_a_pool_that_lists_a_team_stays_editable(tmp_path: Path) -> None:
    """A team id among a pool's members (it takes one turn of the rotation) is kept when an
    admin edits the members; before, every edit of such a pool was refused."""
    folder = write_rules(tmp_path / "rules")
    world = folder / "world.yaml"
    world.write_text(world.read_text(encoding="utf-8").replace(
        "agents:\n", "teams:\n  - {id: t-desk, members: [a3, a4]}\nagents:\n"),
        encoding="utf-8")
    store = MemoryStore()
    assert load_files(store, folder, world, by="ana", now=T0).ok
    set_pool_members(store, "everyone", ["a1", "t-desk"], by="bo", now=T0)
    set_pool_members(store, "everyone", ["a1", "a2", "t-desk"], by="bo", now=T0)
    rules = active(store).ruleset
    assert rules is not None and rules.pools["everyone"].members == ("a1", "a2", "t-desk")


def test_a_policy_switched_off_and_on_again(backend: Backend, rules_dir: Path) -> None:
    store: Any = backend.open()
    load_files(store, rules_dir, rules_dir / "world.yaml", by="ana", now=T0)
    first = store.active_versions()[RULESET]
    off = set_policy_enabled(store, "race", False, by="bo", now=T0 + H, reason="audit week")
    rules = active(store).ruleset
    assert rules is not None and not rules.policy("race").enabled
    assert rules.policy("web").enabled
    on = set_policy_enabled(store, "race", True, by="bo", now=T0 + 2 * H)
    rules = active(store).ruleset
    assert rules is not None and rules.policy("race").enabled and len({first, off, on}) == 3
    entry = store.audit()[1]
    assert (entry.actor, entry.action) == ("bo", f"policy race disabled; ruleset {off} "
                                                 "activated")
    assert entry.detail == {"policy": "race", "enabled": False, "reason": "audit week",
                            "ruleset": off}
    with pytest.raises(CatalogError, match="no policy 'nope'"):
        set_policy_enabled(store, "nope", False, by="bo")


def test_a_rule_cc_list_is_set_and_removed(backend: Backend, rules_dir: Path) -> None:
    store: Any = backend.open()
    load_files(store, rules_dir, rules_dir / "world.yaml", by="ana", now=T0)
    assert rule_cc(store, "web", "last-chance") == [[]]
    version = set_rule_cc(store, "web", "last-chance", ["manager@example.com", "a2"],
                          by="bo", now=T0 + H, reason="copy the manager")
    assert rule_cc(store, "web", "last-chance") == [["manager@example.com", "a2"]]
    assert rule_cc(store, "web", "offers") == [[]]  # only the named rule changed
    rules = active(store).ruleset
    assert rules is not None and rules.version == version
    (detail,) = [e.detail for e in store.audit() if e.action.startswith("policy web rule")]
    assert detail == {"policy": "web", "rule": "last-chance",
                      "cc": ["manager@example.com", "a2"], "reason": "copy the manager",
                      "ruleset": version}
    set_rule_cc(store, "web", "last-chance", [], by="bo", now=T0 + 2 * H)
    assert rule_cc(store, "web", "last-chance") == [[]]
    with pytest.raises(CatalogError, match="policy 'web' has no rule 'nope'"):
        set_rule_cc(store, "web", "nope", ["x@example.com"], by="bo")
    with pytest.raises(CatalogError, match="rule 'existing-owner' of policy 'web' sends no"):
        set_rule_cc(store, "web", "existing-owner", ["x@example.com"], by="bo")
    with pytest.raises(CatalogError, match="the edited rule set has problems"):
        set_rule_cc(store, "web", "last-chance", [""], by="bo")  # not a recipient
