"""The store-facing commands on SQLite stores filled by the engine: explain, leads, report,
day.  The small store (``store_fixtures.build_store``) has hand-computed answers."""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rulekit.cli.main import main
from rulekit.fairness import distribution
from rulekit.leadsearch import LeadFilter, parse_age, reading_store, search, week_start
from rulekit.ledger import weighted_choice
from rulekit.reports import percentile, response_times

sys.path.insert(0, str(Path(__file__).parent))
from store_fixtures import AVERY, BLAKE, CASEY, build_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> str:
    import os

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        return build_store(tmp_path_factory.mktemp("small"))
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    import contextlib
    import io
    import os

    here = os.getcwd()
    os.chdir(ROOT)
    url = f"sqlite:///{tmp_path_factory.mktemp('day') / 'day.db'}"
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = main(["day", "rules/leadstreet", "--db", url, "--date", "2026-11-24",
                         "--leads", "40", "--seed", "7"])
    finally:
        os.chdir(here)
    assert code == 0
    return url, out.getvalue()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ids(out: str) -> list[str]:
    return [row["id"] for row in json.loads(out)]


# -- explain -----------------------------------------------------------------------------------
def test_explain_text(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "L3", "--db", small)
    assert code == 0
    assert out.startswith("Lead L3 (ruleset ")
    assert "Offered to Avery Jones (a-avery-jones) until Tue 2026-12-01 16:30 UTC." in out
    assert "The offer's deadline passed with no acceptance." in out
    assert "cannot accept offer L3:o1: another agent already has the lead" in out


def test_explain_json(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "L1", "--db", small, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["lead"]["id"] == "L1"
    assert data["state"]["assignee"] == AVERY
    assert [d["event"] for d in data["decisions"]] == ["lead_received", "offer_accepted"]


def test_explain_unknown_lead_and_missing_store(small: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "explain", "nope", "--db", small)
    assert code == 1 and "no lead 'nope'" in err
    missing = tmp_path / "missing.db"
    code, _, err = run(capsys, "explain", "L1", "--db", f"sqlite:///{missing}")
    assert code == 1 and "no database at" in err
    assert not missing.exists()  # reading never creates a database


# -- leads -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "expected"), [
    ([], ["L1", "L2", "L3", "L4", "R1", "R2", "R3", "R4", "R5", "R6", "R7"]),
    (["--source", "test-site"], ["L1", "L2", "L3", "L4"]),
    (["--channel", "agent-site"], ["L2"]),
    (["--entry", "manual"], ["L4"]),
    (["--inquiry-type", "Request A Showing"], ["L1", "L2"]),
    (["--inquiry-type", "request a showing", "--inquiry-type", "Contact"], ["L1", "L2", "L4"]),
    (["--activity", "passive"], ["L3"]),
    (["--status", "queued"], ["L4"]),
    (["--assignee", CASEY], ["R3", "R6"]),
    (["--queue", "leftovers"], ["L4"]),
    (["--contact-status", "closed"], ["L3"]),
    (["--lead-status", "Inactive"], ["L3"]),
    (["--contact-type", "Buyer"], ["L1", "L2"]),
    (["--contact-source", "Realtor.com"], ["L1", "L2"]),
    (["--business-source", "Referral"], ["L3"]),
    (["--priority", "hot"], ["L1", "L2"]),
    (["--min-interest", "2"], ["L1", "L2"]),
    (["--time-frame", "12+ months"], ["L3"]),
    (["--owner", BLAKE], ["L3"]),
    (["--owner", AVERY], []),  # this round robin has no `own:`: it records no owner
    (["--source", "test-site", "--status", "assigned", "--priority", "hot"], ["L1", "L2"]),
    (["--since", "2026-12-01T16:00:00+00:00", "--until", "2026-12-01T18:03:00+00:00"],
     ["L3", "L4", "R1"]),
    (["--active-since", "30m", "--now", "2026-12-01T18:35:00+00:00"], ["R4", "R5", "R6", "R7"]),
    (["--limit", "2"], ["L1", "L2"]),
])
def test_leads_filters(small: str, capsys: pytest.CaptureFixture[str], args: list[str],
                       expected: list[str]) -> None:
    code, out, _ = run(capsys, "leads", "--db", small, "--format", "json", *args)
    assert code == 0
    assert ids(out) == expected


def test_leads_active_this_week(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Tuesday 1 December 2026: the week began Monday 30 November
    code, out, _ = run(capsys, "leads", "--db", small, "--format", "json",
                       "--active-this-week", "--now", "2026-12-03T12:00:00",
                       "--tz", "America/New_York")
    assert code == 0 and len(ids(out)) == 11
    code, out, _ = run(capsys, "leads", "--db", small, "--format", "json",
                       "--active-this-week", "--now", "2026-12-08T12:00:00+00:00")
    assert code == 0 and ids(out) == []


def test_leads_table(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "leads", "--db", small, "--status", "queued", "--source",
                       "test-site", "--tz", "America/New_York")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "received", "source", "inquiry", "activity", "status",
                                "assignee/queue", "contact"]
    assert lines[1].split() == ["L4", "2026-12-01", "12:00", "EST", "test-site", "Contact",
                                "active",
                                "queued", "queue", "leftovers", "nobody@example.com"]
    assert lines[0].index("status") == lines[1].index("queued")
    assert out.rstrip().endswith("1 lead")


def test_leads_usage_errors(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "leads", "--db", small, "--active-since", "soon")[0] == 2
    assert run(capsys, "leads", "--db", small, "--tz", "Mars/Olympus")[0] == 2
    assert run(capsys, "leads")[0] == 2


def test_leadsearch_directly(small: str) -> None:
    with reading_store(small) as store:
        rows = search(store, LeadFilter(statuses=("assigned",), min_interest=4))
        assert [r.lead.id for r in rows] == ["L1", "L2"]
        assert rows[0].owners == (CASEY,)
        assert search(store, LeadFilter(), limit=0) == []
    assert parse_age("2w") == timedelta(days=14)
    monday = week_start(datetime(2026, 12, 6, 23, 0, tzinfo=UTC), UTC)
    assert monday == datetime(2026, 11, 30, tzinfo=UTC)


# -- reports -----------------------------------------------------------------------------------
def test_response_times_hand_computed(small: str) -> None:
    with reading_store(small) as store:
        report = response_times(store)
    by = {a.agent: a for a in report.agents}
    avery, blake, casey = by[AVERY], by[BLAKE], by[CASEY]
    # avery: accepted L1 after 10m, declined L2 after 4m, accepted L3 60m late, L4 no answer
    assert (avery.offers, avery.answered, avery.accepted, avery.declined, avery.late,
            avery.unanswered, avery.direct) == (4, 3, 1, 1, 1, 1, 3)
    assert (avery.median, avery.p90, avery.worst) == (600, 3600, 3600)
    # blake: accepted L2 after 20m and L3 after 6m; L4 no answer
    assert (blake.offers, blake.answered, blake.unanswered) == (3, 2, 1)
    assert (blake.median, blake.p90, blake.worst) == (780, 1200, 1200)
    assert (casey.offers, casey.direct, casey.median) == (0, 2, None)
    assert report.slowest is not None and report.slowest.agent == BLAKE


def test_report_response_times_cli(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "response-times", "--db", small)
    assert code == 0
    assert "a-avery-jones       4         3" in out
    assert "10m 00s   1h 00m   1h 00m" in out
    assert "\nSlowest agent: a-blake-kim (median 13m" in out
    code, out, _ = run(capsys, "report", "response-times", "--db", small, "--format", "json")
    data = json.loads(out)
    assert data["slowest"] == BLAKE
    assert {r["outcome"] for r in data["responses"] if r["agent"] == AVERY} == {
        "accepted", "declined", "late", "no answer", "direct"}


def test_distribution_hand_computed(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    with reading_store(small) as store:
        report = distribution(store)
    assert report.leads == 11
    assert report.agents == {AVERY: 4, BLAKE: 4, CASEY: 2}
    assert report.queues == {"leftovers": 1}
    (rotation,) = report.rotations
    assert (rotation.strategy, rotation.pool, rotation.turns) == ("round_robin", "trio", 7)
    (phase,) = rotation.phases
    assert {n: s.picks for n, s in phase.shares.items()} == {AVERY: 3, BLAKE: 2, CASEY: 2}
    assert phase.spread == 1 and rotation.fair
    code, out, _ = run(capsys, "report", "distribution", "--db", small)
    assert code == 0
    assert "spread (max − min) 1 among the 3 members eligible on every turn — even" in out
    assert "Verdict: even in its one phase" in out
    code, out, _ = run(capsys, "report", "distribution", "--db", small, "--format", "json")
    assert json.loads(out)["rotations"][0]["phases"][0]["spread"] == 1


def test_weighted_distribution_on_a_day(day: tuple[str, str]) -> None:
    url, _ = day
    with reading_store(url) as store:
        report = distribution(store)
        offices = [r for r in report.rotations if r.strategy == "weighted"]
        assert offices and offices[0].pool == "city-offices"
        shares = [s for p in offices[0].phases for s in p.shares.values()]
        expected = sum(s.expected or 0 for s in shares)
        assert expected == pytest.approx(offices[0].turns)
        assert sum(s.picks for s in shares) == offices[0].turns
        assert {w for s in shares if s.name == "rmx-ballantyne" for w in s.weights} == {200.0}
        states = [store.get_state(i) for i in store.lead_ids()]
        picked = sum(1 for s in states if s is not None and s.office is not None)
        assert picked == offices[0].turns


def test_percentile_and_weighted_choice() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5, 1, 3], 0.9) == 5
    assert percentile(range(1, 11), 0.9) == 9
    assert weighted_choice({"a": 200, "b": 100}, 199.9) == "a"
    assert weighted_choice({"a": 200, "b": 100}, 200.0) == "b"


def test_report_usage(capsys: pytest.CaptureFixture[str], small: str) -> None:
    assert run(capsys, "report", "speed", "--db", small)[0] == 2


# -- day ---------------------------------------------------------------------------------------
def test_day_is_reproducible(day: tuple[str, str], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    _, first = day
    url = f"sqlite:///{tmp_path / 'again.db'}"
    code, again, _ = run(capsys, "day", "rules/leadstreet", "--db", url, "--date",
                         "2026-11-24", "--leads", "40", "--seed", "7")
    assert code == 0
    assert again.replace(url, "URL") == first.replace(day[0], "URL")
    code, other, _ = run(capsys, "day", "rules/leadstreet", "--db", url, "--date",
                         "2026-11-24", "--leads", "40", "--seed", "8")
    assert code == 0 and other.replace(url, "URL") != first.replace(day[0], "URL")


def test_day_summary_matches_the_store(day: tuple[str, str]) -> None:
    url, out = day
    lines = out.splitlines()
    assert lines[0].startswith("A day of 40 leads through rules/leadstreet on Tue 2026-11-24")
    summary = out[out.index("\nSummary\n"):]
    path = url[len("sqlite:///"):]
    db = sqlite3.connect(path)
    try:
        leads = db.execute("SELECT count(*) FROM leads").fetchone()[0]
        assignments = db.execute("SELECT count(*) FROM assignments").fetchone()[0]
        single = db.execute("SELECT status, count(*) FROM offers WHERE mode != 'broadcast'"
                            " GROUP BY status").fetchall()
        broadcasts = db.execute("SELECT count(*) FROM offers WHERE mode = 'broadcast'"
                                ).fetchone()[0]
    finally:
        db.close()
    counts = dict(single)
    assert leads == 40 and f"Leads: {leads} (" in summary
    assert f"Assignments: {assignments} to " in summary
    assert (f"Offers to one agent: {sum(counts.values())} made, {counts.get('accepted', 0)} "
            f"accepted, {counts.get('declined', 0)} declined, {counts.get('expired', 0)} "
            f"expired, {counts.get('open', 0)} still open") in summary
    assert f"Broadcasts: {broadcasts}, " in summary
    with reading_store(url) as store:
        waiting = [i for i in store.lead_ids()
                   if (s := store.get_state(i)) is not None and s.status == "waiting"]
    assert f"Still waiting at the end of the day: {len(waiting)}" in summary
    # the timeline shows its first events (every one with --timeline: test_day_output.py)
    assert "more events: run with --timeline to see them all" in out


def test_day_rerun_replaces_its_own_database(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    args = ["day", "rules/leadstreet", "--db", url, "--date", "2026-11-24", "--leads", "5",
            "--quiet"]
    code, first, err = run(capsys, *args)
    assert code == 0 and err == "" and "Leads: 5 (" in first
    assert "[day-" not in first.split("Summary")[0]  # --quiet: no timeline
    code, second, err = run(capsys, *args)
    assert code == 0 and "a previous simulated day, 5 leads" in err
    assert second == first


def test_day_refuses_a_foreign_database(small: str, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    code, _, err = run(capsys, "day", "rules/leadstreet", "--db", small, "--leads", "3")
    assert code == 1 and "did not make" in err and "--replace" in err


def test_day_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run(capsys, "day", "rules/nowhere", "--db", url)[0] == 2
    assert run(capsys, "day", "rules/leadstreet", "--db", url, "--date", "someday")[0] == 2


def test_response_times_name_the_agents_who_never_answered_or_contacted(
        small: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The small store logs no activity: every assignee made no contact at all; every agent
    offered a lead answered at least one offer (so nobody is named for offers)."""
    from rulekit.first_contact import first_contacts

    with reading_store(small) as store:
        times = response_times(store)
        contacts = first_contacts(store, 30 * 60, datetime(2026, 12, 2, tzinfo=UTC))
    assert times.silent == []
    assert [a for a, _ in contacts.silent] == [AVERY, BLAKE, CASEY]
    code, out, _ = run(capsys, "report", "response-times", "--db", small, "--target", "30m",
                       "--now", "2026-12-02T00:00:00Z")
    assert code == 0
    assert "Never answered an offer: nobody" in out
    assert (f"No contact logged on any of their leads: {AVERY} (4 leads), {BLAKE} (4 leads), "
            f"{CASEY} (2 leads)") in out
    data = json.loads(run(capsys, "report", "response-times", "--db", small, "--format",
                          "json")[1])
    assert data["never_answered"] == []
    assert [x["agent"] for x in data["first_contact"]["no_contact_at_all"]] == [
        AVERY, BLAKE, CASEY]


def test_an_agent_who_never_answered_an_offer_is_named() -> None:
    from rulekit.cli.report import render_response_times
    from rulekit.reports import AgentTimes, ResponseTimes

    def line(agent: str, offers: int, answered: int) -> AgentTimes:
        return AgentTimes(agent, offers, answered, answered, 0, 0, offers - answered, 0, 0, 0,
                          60.0 if answered else None, None, None)

    report = ResponseTimes([line("a-quiet", 3, 0), line("a-quick", 2, 2),
                            line("a-quieter", 5, 0)], [])
    assert [a.agent for a in report.silent] == ["a-quieter", "a-quiet"]
    text = render_response_times(report, {"a-quiet": "Quiet One"})
    assert ("Never answered an offer: a-quieter (5 offers, 5 unanswered, 0 missed), "
            "Quiet One (3 offers, 3 unanswered, 0 missed)") in text
