"""``rulekit day`` for a broker: the summary first, agents by name, plain words, offers numbered
in order, a short timeline unless ``--timeline``, a fixed default date; and a store holding
anything but its own simulated days is refused."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from rulekit.cli.day import DEFAULT_DATE, TIMELINE_HEAD
from rulekit.cli.main import main
from rulekit.config.project import check_paths

ROOT = Path(__file__).resolve().parents[2]
RULES = "rules/leadstreet"
WORLD = "rules/leadstreet/world.yaml"

#: The first lines the README's command prints (rules/leadstreet, every default).
README_FIRST_LINES = ("A day of 150 leads through rules/leadstreet on Tue 2026-11-24, seed 1; "
                      "times in EST (America/New_York)\n") + """
Summary
=======
Leads: 150 (remax.com 62, charlotteproperty.com 33, agent-site 32, rims-import 13, agent-entry 10)
At the end of the day: 127 assigned, 13 waiting for an agent, 10 queued, 0 unrouted
Leads per queue: manual 7, ownership-conflicts 3
Offers to one agent: 128 made, 62 accepted, 10 declined, 43 expired, 13 still open
"""


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 60-lead day with its whole timeline."""
    import contextlib
    import io
    import os

    here = os.getcwd()
    os.chdir(ROOT)
    out = io.StringIO()
    url = f"sqlite:///{tmp_path_factory.mktemp('full') / 'day.db'}"
    try:
        with contextlib.redirect_stdout(out):
            assert main(["day", RULES, "--db", url, "--leads", "60", "--timeline"]) == 0
    finally:
        os.chdir(here)
    return out.getvalue()


def timeline_of(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Timeline: "))
    return [line for line in lines[start + 2:] if line and not line.startswith("Stored in ")]


# -- the same day every day ----------------------------------------------------------------------
def test_readme_command_prints_the_same_day_twice(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'rulekit-day.db'}"
    code, first, err = run(capsys, "day", RULES, "--db", url)
    assert code == 0 and err == ""
    code, second, err = run(capsys, "day", RULES, "--db", url)  # replaces its own day
    assert code == 0 and "a previous simulated day, 150 leads" in err
    assert second == first
    assert first.startswith(README_FIRST_LINES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```text\n", readme.index("The start of its output:")) + 8
    sample = readme[start:readme.index("\n```", start)].splitlines()
    printed = first.splitlines()
    assert len(sample) > 10
    for line in sample:
        assert line == "…" or line in printed, line  # the README shows real output


def test_default_date_is_a_fixed_tuesday() -> None:
    assert DEFAULT_DATE.isoformat() == "2026-11-24" and DEFAULT_DATE.strftime("%A") == "Tuesday"


# -- what the output says ------------------------------------------------------------------------
def test_summary_comes_first_with_agents_by_name(full: str) -> None:
    assert full.index("\nSummary\n") < full.index("\nTimeline: ")
    world = check_paths([WORLD]).worlds[WORLD]
    for agent in world.agents.values():
        assert agent.id not in full, agent.id  # every agent is named, never shown by id
    summary = full[full.index("\nSummary\n"):full.index("\nTimeline: ")]
    assert re.search(r"At the end of the day: \d+ assigned, \d+ waiting for an agent, \d+ "
                     r"queued, \d+ unrouted", summary)
    assert re.search(r"Response time, from offer to answer: median \d", summary)
    header = next(line for line in summary.splitlines() if line.strip().startswith("agent "))
    assert header.split() == ["agent", "leads", "offers", "accepted", "declined", "expired",
                              "open", "median", "answer"]
    names = {a.name for a in world.agents.values()}
    rows = summary[summary.index(header):].splitlines()[1:]
    named = [r for r in rows if r.strip() and any(r.strip().startswith(n) for n in names)]
    assert named, summary


def test_timeline_in_plain_words(full: str) -> None:
    for word in ("offer_declined", "offer_expired", "offer_accepted", "timer", "accepted to",
                 "accepts offer", ":o1", "[day-"):
        assert word not in full, word
    lines = timeline_of(full)
    assert sum(1 for line in lines if "  New lead " in line) == 60  # every arrival
    assert all(re.match(r"2026-11-2[45] \d\d:\d\d EST  day-20261124-\d{3}  [A-Z]", line)
               for line in lines), [x for x in lines if not re.match(r"2026-11-2[45] ", x)]
    text = "\n".join(lines)
    assert re.search(r"  [A-Z][a-z]+ [A-Z][a-z]+ accepted offer \d+$", text, re.MULTILINE)
    assert re.search(r"  [A-Z][a-z]+ [A-Z][a-z]+ declined offer \d+$", text, re.MULTILINE)
    assert re.search(r"  Offer \d+ to [A-Z][a-z]+ [A-Z][a-z]+ expired with no answer$", text,
                     re.MULTILINE)


def test_offers_are_numbered_in_order_of_appearance(full: str) -> None:
    seen: list[int] = []
    for number in re.findall(r"[Oo]ffer (\d+)", "\n".join(timeline_of(full))):
        if int(number) not in seen:
            seen.append(int(number))
    assert seen and seen == list(range(1, len(seen) + 1))


def test_short_timeline_by_default(full: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "day", RULES, "--db", f"sqlite:///{tmp_path / 'd.db'}",
                       "--leads", "60")
    assert code == 0
    every = timeline_of(full)
    shown = timeline_of(out)
    assert shown[:-1] == every[:TIMELINE_HEAD]
    assert shown[-1] == (f"… {len(every) - TIMELINE_HEAD} more events: run with --timeline "
                         "to see them all")
    assert f"\nTimeline: the first {TIMELINE_HEAD} of {len(every)} events\n" in out
    assert out[:out.index("\nTimeline: ")] == full[:full.index("\nTimeline: ")]


def test_quiet_prints_the_summary_only(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "day", RULES, "--db", f"sqlite:///{tmp_path / 'd.db'}",
                       "--leads", "5", "--quiet")
    assert code == 0 and out.startswith("Summary\n") and "Timeline" not in out


def test_tz_changes_the_times_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "day", RULES, "--db", f"sqlite:///{tmp_path / 'd.db'}",
                       "--leads", "5", "--tz", "UTC")
    assert code == 0 and out.splitlines()[0].endswith("; times in UTC")
    assert all(line.startswith("2026-11-24 ") and " UTC  day-" in line
               for line in timeline_of(out)[:-1])
    code, _, err = run(capsys, "day", RULES, "--db", f"sqlite:///{tmp_path / 'd.db'}",
                       "--tz", "America/Chicgo")
    assert code == 2 and "did you mean 'America/Chicago'?" in err


def test_explain_and_leads_on_a_day_show_its_zone(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert run(capsys, "day", RULES, "--db", url, "--leads", "3", "--quiet")[0] == 0
    code, out, _ = run(capsys, "explain", "day-20261124-001", "--db", url)
    assert code == 0 and re.search(r"\n2026-11-24 \d\d:\d\d EST — Lead day-20261124-001", out)
    code, out, _ = run(capsys, "leads", "--db", url)
    assert code == 0 and out.splitlines()[1].split()[1:4][2] == "EST"


# -- the store -----------------------------------------------------------------------------------
def test_refuses_a_store_with_loaded_rules(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "loaded.db"
    url = f"sqlite:///{path}"
    assert run(capsys, "load", "--db", url, "--rules", RULES, "--world", WORLD,
               "--by", "dana")[0] == 0
    code, out, err = run(capsys, "day", RULES, "--db", url, "--leads", "3")
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "a rule set and a world loaded by dana (1 audit entry)" in err
    assert "choose another --db" in err
    db = sqlite3.connect(path)  # nothing was deleted
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        audit = next(t for t in tables if "audit" in t)
        assert db.execute(f"SELECT count(*) FROM {audit}").fetchone()[0] == 1
    finally:
        db.close()


def test_folder_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'nodir' / 'x.db'}"
    code, out, err = run(capsys, "day", RULES, "--db", url, "--leads", "3")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "nodir").exists()
    code, _, err = run(capsys, "day", RULES, "--db", f"sqlite:///{tmp_path}", "--leads", "3")
    assert code == 1 and "is a folder" in err


def test_reports_on_a_day_name_the_agents(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from rulekit.cli.main import main as rulekit

    db = f"sqlite:///{tmp_path / 'day.db'}"
    assert rulekit(["day", "rules/leadstreet", "--db", db, "--leads", "30", "--quiet"]) == 0
    capsys.readouterr()
    for report in ("response-times", "distribution"):
        assert rulekit(["report", report, "--db", db]) == 0
        table = capsys.readouterr().out
        rows = [line for line in table.splitlines() if line.strip().startswith("a-")]
        assert rows == [], rows  # agents are shown by name, not id
        assert "Gray Patel" in table or "Harper Nguyen" in table
