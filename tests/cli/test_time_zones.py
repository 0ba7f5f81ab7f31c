"""Times for people are shown in the brokerage's zone, labelled; ``--tz`` chooses another.

The brokerage's zone (:func:`rulekit.world.brokerage_zone`): the world's ``timezone``, else the
zone of the world's first calendar, else that of the rule set's first calendar, else UTC.  A
store's zone is that of its active world.  JSON output keeps ISO 8601 instants with offsets.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rulekit.cli.main import main
from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage import MemoryStore
from rulekit.trace import Trace, local_time, render_history
from rulekit.world import World, brokerage_zone, zone_named

sys.path.insert(0, str(Path(__file__).parent))
from store_fixtures import build_store

ROOT = Path(__file__).resolve().parents[2]
RULES = "rules/leadstreet"
WORLD = "rules/leadstreet/world.yaml"
SCENARIO = "rules/leadstreet/scenarios/three-offers-then-last-chance.scenario.yaml"
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Two copies of the small store: without a catalog, and with LeadStreet's world loaded."""
    import os

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        bare = build_store(tmp_path_factory.mktemp("bare"))
        folder = tmp_path_factory.mktemp("loaded")
        shutil.copy(bare[len("sqlite:///"):], folder / "small.db")
        loaded = f"sqlite:///{folder / 'small.db'}"
        assert main(["load", "--db", loaded, "--rules", RULES, "--world", WORLD]) == 0
    finally:
        os.chdir(here)
    return bare, loaded


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the zone rule -----------------------------------------------------------------------------
def test_zone_named() -> None:
    assert zone_named("UTC") is UTC and zone_named("utc") is UTC
    assert zone_named("America/New_York") == NEW_YORK
    with pytest.raises(LookupError, match=r"did you mean 'America/New_York'\?"):
        zone_named("America/New_Yrok")
    with pytest.raises(LookupError, match="use an IANA zone name"):
        zone_named("Mars/Olympus")


def test_brokerage_zone_rule() -> None:
    checked = check_paths([RULES, WORLD])
    ruleset, world = checked.rulesets[RULES], checked.worlds[WORLD]
    assert brokerage_zone(world, ruleset) == NEW_YORK  # the world's first calendar
    bare = World.build("bare")
    assert brokerage_zone(bare) is UTC
    assert brokerage_zone(None) is UTC
    assert brokerage_zone(bare, ruleset) == NEW_YORK  # the rule set's first calendar
    chosen = World.build("chicago", timezone="America/Chicago",
                         calendars=dict(world.calendars))
    assert brokerage_zone(chosen, ruleset) == ZoneInfo("America/Chicago")
    with pytest.raises(LookupError):
        World.build("nowhere", timezone="Nowhere/Land")


def test_renderer_takes_the_zone_and_defaults_to_utc() -> None:
    at = datetime(2026, 11, 24, 14, 5, tzinfo=UTC)
    trace = Trace("L1", "lead_received", at, "v1", "s1")
    trace.add("event", "Lead L1 received.")
    assert local_time(at) == "2026-11-24 14:05 UTC"
    assert local_time(at, NEW_YORK) == "2026-11-24 09:05 EST"
    assert trace.render() == "2026-11-24 14:05 UTC — Lead L1 received."
    assert trace.render(NEW_YORK) == "2026-11-24 09:05 EST — Lead L1 received."
    assert render_history([trace]).splitlines()[2].startswith("2026-11-24 14:05 UTC — ")
    assert render_history([trace], NEW_YORK).splitlines()[2].startswith("2026-11-24 09:05 EST")


def test_engine_explain_uses_the_worlds_zone() -> None:
    checked = check_paths([RULES, WORLD])
    at = datetime(2026, 11, 24, 14, 5, tzinfo=UTC)
    engine = Engine(checked.rulesets[RULES], checked.worlds[WORLD], MemoryStore(),
                    clock=ManualClock(at))
    engine.receive(Lead.model_validate({"id": "Z1", "received_at": at.isoformat(),
                                        "source": "charlotteproperty.com",
                                        "contact": {"email": "z@example.com"}}), at)
    assert "\n2026-11-24 09:05 EST — Lead Z1 received" in engine.explain("Z1")
    assert "\n2026-11-24 14:05 UTC — Lead Z1 received" in engine.explain("Z1", UTC)


# -- explain -----------------------------------------------------------------------------------
def test_explain_shows_the_stores_zone(stores: tuple[str, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bare, loaded = stores
    code, out, _ = run(capsys, "explain", "L1", "--db", loaded)
    assert code == 0 and "\n2026-12-01 10:00 EST — Lead L1 received" in out
    code, out, _ = run(capsys, "explain", "L1", "--db", bare)  # no world: UTC, labelled
    assert code == 0 and "\n2026-12-01 15:00 UTC — Lead L1 received" in out
    code, out, _ = run(capsys, "explain", "L1", "--db", loaded, "--tz", "Europe/Berlin")
    assert code == 0 and "\n2026-12-01 16:00 CET — Lead L1 received" in out


def test_explain_json_and_bad_zone(stores: tuple[str, str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    _, loaded = stores
    _, plain, _ = run(capsys, "explain", "L1", "--db", loaded, "--format", "json")
    _, berlin, _ = run(capsys, "explain", "L1", "--db", loaded, "--format", "json", "--tz",
                       "Europe/Berlin")
    assert plain == berlin
    assert json.loads(plain)["decisions"][0]["at"] == "2026-12-01T15:00:00+00:00"
    code, out, err = run(capsys, "explain", "L1", "--db", loaded, "--tz", "Europe/Berlni")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "rulekit explain: unknown time zone 'Europe/Berlni' (did you mean 'Europe/Berlin'? use "
        "an IANA zone name such as America/New_York, or UTC)"]


# -- leads -------------------------------------------------------------------------------------
def test_leads_table_shows_the_stores_zone(stores: tuple[str, str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bare, loaded = stores
    code, out, _ = run(capsys, "leads", "--db", loaded, "--status", "queued")
    assert code == 0 and out.splitlines()[1].split()[1:4] == ["2026-12-01", "12:00", "EST"]
    code, out, _ = run(capsys, "leads", "--db", bare, "--status", "queued")
    assert code == 0 and out.splitlines()[1].split()[1:4] == ["2026-12-01", "17:00", "UTC"]
    code, out, _ = run(capsys, "leads", "--db", loaded, "--status", "queued", "--tz", "UTC")
    assert code == 0 and out.splitlines()[1].split()[1:4] == ["2026-12-01", "17:00", "UTC"]


def test_leads_dates_without_offset_are_in_the_stores_zone(
        stores: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, loaded = stores
    # L4 arrived 12:00 in New York (17:00 UTC): before 13:00 there, after 12:00 UTC
    code, out, _ = run(capsys, "leads", "--db", loaded, "--format", "json", "--source",
                       "test-site", "--until", "2026-12-01T12:30:00")
    assert code == 0 and [r["id"] for r in json.loads(out)] == ["L1", "L2", "L3", "L4"]
    code, out, _ = run(capsys, "leads", "--db", loaded, "--format", "json", "--source",
                       "test-site", "--until", "2026-12-01T12:30:00", "--tz", "UTC")
    assert code == 0 and [r["id"] for r in json.loads(out)] == []


def test_leads_json_unchanged_and_bad_zone(stores: tuple[str, str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _, loaded = stores
    _, plain, _ = run(capsys, "leads", "--db", loaded, "--format", "json")
    _, other, _ = run(capsys, "leads", "--db", loaded, "--format", "json", "--tz",
                      "Asia/Tokyo")
    assert plain == other
    assert json.loads(plain)[0]["received_at"] == "2026-12-01T15:00:00+00:00"
    code, _, err = run(capsys, "leads", "--db", loaded, "--tz", "Mars/Olympus")
    assert code == 2 and "unknown time zone 'Mars/Olympus'" in err and "IANA" in err


# -- simulate and route ------------------------------------------------------------------------
def test_simulate_shows_the_brokerage_zone(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "simulate", SCENARIO, "--explain", "L1")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("2026-12-01 09:00 EST lead ")
    assert "offer to a-blake-kim until Tue 2026-12-01 11:00 EST" in out
    assert "\n2026-12-01 09:00 EST — Lead L1 received" in out
    assert " UTC" not in out
    code, out, _ = run(capsys, "simulate", SCENARIO, "--tz", "UTC", "--explain", "L1")
    assert code == 0 and out.startswith("2026-12-01 14:00 UTC lead ")
    assert "until Tue 2026-12-01 16:00 UTC" in out
    assert "\n2026-12-01 14:00 UTC — Lead L1 received" in out


def test_simulate_json_unchanged_and_bad_zone(capsys: pytest.CaptureFixture[str]) -> None:
    _, plain, _ = run(capsys, "simulate", SCENARIO, "--format", "json")
    _, other, _ = run(capsys, "simulate", SCENARIO, "--format", "json", "--tz",
                      "Europe/Berlin")
    assert plain == other
    assert json.loads(plain.splitlines()[0])["at"] == "2026-12-01T09:00:00-05:00"
    code, _, err = run(capsys, "simulate", SCENARIO, "--tz", "Nowhere")
    assert code == 2 and "unknown time zone 'Nowhere'" in err


def test_route_shows_the_brokerage_zone(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"id": "R1", "received_at": "2026-11-24T14:05:00+00:00",
                                "source": "charlotteproperty.com",
                                "contact": {"email": "r1@example.com"}}), encoding="utf-8")
    args = ["route", str(lead), "--rules", RULES, "--world", WORLD]
    code, out, _ = run(capsys, *args)
    assert code == 0 and "\n2026-11-24 09:05 EST — Lead R1 received" in out
    code, out, _ = run(capsys, *args, "--tz", "America/Los_Angeles")
    assert code == 0 and "\n2026-11-24 06:05 PST — Lead R1 received" in out
    _, plain, _ = run(capsys, *args, "--format", "json")
    _, other, _ = run(capsys, *args, "--format", "json", "--tz", "America/Los_Angeles")
    assert plain == other and json.loads(plain)["trace"]["at"] == "2026-11-24T14:05:00+00:00"
    code, _, err = run(capsys, *args, "--tz", "EST5EDTX")
    assert code == 2 and "unknown time zone" in err
