"""Mistakes that used to pass or to read wrong: an empty folder, a zero duration, `2 hours`, a
comma inside a `{…}` mapping, problems past the GitHub annotation limit, a filter value of
`rulekit leads` that no lead can have."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from rulekit.cli.main import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def rule_file(step: str) -> str:
    return ("rulekit: 1\npolicy: p\napplies_to: {sources: [web]}\n"
            "calendars:\n  office-hours:\n    timezone: America/New_York\n"
            "    hours: {mon-fri: \"09:00-17:00\"}\n"
            "rules:\n  - name: first\n    when: lead.source == \"web\"\n    steps:\n"
            f"      - {step}\n    then: continue\n"
            "  - name: rest\n    steps: [{queue: manual}]\n")


def problems(tmp_path: Path, text: str) -> list[dict[str, object]]:
    (tmp_path / "rules.yaml").write_text(text, encoding="utf-8")
    code, out, _ = run("validate", "--format", "json", str(tmp_path / "rules.yaml"))
    found: list[dict[str, object]] = json.loads(out)
    assert code == (1 if any(p["severity"] == "error" for p in found) else 0)
    return found


# -- an empty folder ---------------------------------------------------------------------------
def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "rules"
    empty.mkdir()
    (empty / "notes.txt").write_text("not YAML\n", encoding="utf-8")
    (empty / ".hidden.yaml").write_text("rulekit: 1\n", encoding="utf-8")
    code, out, err = run("validate", str(empty))
    assert code == 1
    assert out.startswith(f"{empty}:1:1: error[RK010]: no rule files in this folder")
    assert "0 files checked: 1 error" in err


def test_a_folder_with_files_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rules.yaml").write_text(rule_file("queue: manual"), encoding="utf-8")
    code, _, _ = run("validate", str(tmp_path))
    assert code == 0


# -- durations ---------------------------------------------------------------------------------
@pytest.mark.parametrize("step", [
    "offer: {to: lead.branding_agent, for: 0 business_hours, calendar: office-hours}",
    "offer: {to: lead.branding_agent, for: 0m}",
    "offer_sequence: {pool: all, each_for: 0s}",
    "broadcast: {pool: all, for: 0h0m}",
    "qualify: {pool: all, for: 0 business_minutes, calendar: office-hours, "
    "verdicts: {ready: [{queue: manual}], nurture: [{queue: manual}], junk: [{queue: manual}]}}",
])
def test_a_zero_duration_is_an_error(tmp_path: Path, step: str) -> None:
    text = rule_file(step).replace("rules:\n", "pools:\n  all: {of: agents}\nrules:\n", 1)
    [problem] = [p for p in problems(tmp_path, text) if p["severity"] == "error"]
    assert problem["code"] == "RK207"
    assert str(problem["message"]).endswith("': a duration must be longer than zero")
    assert problem["hint"] == ("a time of zero is over at once: write a length such as 30m "
                               "or 2 business_hours")


@pytest.mark.parametrize(("text", "hint"), [
    ("-2h", "write it without the sign, like 2h"),
    ("-2 business_hours", "write it without the sign, like 2 business_hours"),
])
def test_a_negative_duration_says_so(tmp_path: Path, text: str, hint: str) -> None:
    [problem] = problems(tmp_path, rule_file(f"offer: {{to: lead.branding_agent, for: {text}}}"))
    assert (problem["code"], problem["message"], problem["hint"]) == (
        "RK207", f"invalid duration '{text}': a duration must be longer than zero", hint)


@pytest.mark.parametrize(("text", "hint"), [
    ("2 hours", "write 2h for clock time, or 2 business_hours for open hours of a calendar"),
    ("2 hour", "write 2h for clock time, or 2 business_hours for open hours of a calendar"),
    ("30 minutes", "write 30m for clock time, or 30 business_minutes for open hours of a "
     "calendar"),
    ("30 mins", "write 30m for clock time, or 30 business_minutes for open hours of a "
     "calendar"),
    ("45 seconds", "write 45s"),
    ("2 days", "write 2d for clock time (business days are not supported: count "
     "business_hours)"),
])
def test_a_duration_in_words_gets_both_spellings(tmp_path: Path, text: str, hint: str) -> None:
    [problem] = problems(tmp_path, rule_file(f"offer: {{to: lead.branding_agent, for: {text}}}"))
    assert (problem["code"], problem["message"], problem["hint"]) == (
        "RK207", f"invalid duration '{text}'", hint)


# -- a comma in a flow mapping -----------------------------------------------------------------
def test_a_comma_inside_an_expression_in_braces_says_to_quote_it(tmp_path: Path) -> None:
    step = "offer: {to: coalesce(lead.branding_agent, listing.listing_agent), for: 2h}"
    [problem] = problems(tmp_path, rule_file(step))
    assert problem["code"] == "RK102"
    assert problem["message"] == "unknown property 'listing.listing_agent)'"
    assert problem["hint"] == ("a comma ends a value inside {…}: quote the expression: "
                               "to: \"coalesce(lead.branding_agent, listing.listing_agent)\"")
    assert (problem["line"], problem["column"]) == (12, 51)


def test_the_quote_hint_keeps_the_expression_s_own_quotes(tmp_path: Path) -> None:
    step = 'offer: {to: coalesce(lead.a, "a-x", lead.b), for: 2h}'
    [problem] = problems(tmp_path, rule_file(step))
    assert problem["message"] == "unknown property 'a-x'"
    assert problem["hint"] == ("a comma ends a value inside {…}: quote the expression: "
                               "to: 'coalesce(lead.a, \"a-x\", lead.b)'")


def test_an_unknown_property_still_gets_its_did_you_mean(tmp_path: Path) -> None:
    found = problems(tmp_path, rule_file("offer: {to: lead.branding_agent, fro: 2h}"))
    assert [(p["code"], p["hint"]) for p in found] == [("RK101", None),
                                                        ("RK102", "did you mean 'for'?")]


# -- GitHub annotations past the limit ---------------------------------------------------------
def test_github_format_says_how_many_problems_it_left_out(tmp_path: Path) -> None:
    steps = "\n".join("      - offer: {to: lead.nope, for: 2h}" for _ in range(60))
    text = rule_file("queue: manual").replace("      - queue: manual\n", steps + "\n")
    (tmp_path / "rules.yaml").write_text(text, encoding="utf-8")
    code, out, _ = run("validate", "--format", "github", str(tmp_path))
    lines = out.splitlines()
    assert code == 1
    assert len(lines) == 51
    assert all(line.startswith("::error file=") for line in lines[:50])
    assert lines[50] == ("::error title=rulekit validate::… and 10 more problems not shown "
                         "(use --max-problems 60 to see them all)")
    code, out, _ = run("validate", "--format", "github", "--max-problems", "60", str(tmp_path))
    assert len(out.splitlines()) == 60
    assert "more problems" not in out


def test_github_format_left_out_warnings_are_a_warning(tmp_path: Path) -> None:
    pools = "".join(f"  unused{i}: {{of: agents}}\n" for i in range(3))
    text = rule_file("queue: manual").replace("rules:\n", f"pools:\n{pools}rules:\n", 1)
    (tmp_path / "rules.yaml").write_text(text, encoding="utf-8")
    code, out, _ = run("validate", "--format", "github", "--max-problems", "1", str(tmp_path))
    assert code == 0
    # three pools and the calendar are never used: four warnings
    assert out.splitlines()[-1] == ("::warning title=rulekit validate::… and 3 more problems "
                                    "not shown (use --max-problems 4 to see them all)")


# -- rulekit leads: values no lead can have ----------------------------------------------------
@pytest.mark.parametrize(("option", "value", "allowed"), [
    ("--status", "bogus",
     "routing, waiting, assigned, queued, dropped, unrouted, parked, kept"),
    ("--priority", "warmish", "hot, warm, cold, dead"),
    ("--activity", "activ", "active, passive"),
    ("--entry", "email", "web, manual, import"),
    ("--contact-status", "open", "agent_database, assigned, closed, pending, shared"),
    ("--lead-status", "dormant", "active, inactive"),
])
def test_leads_refuses_a_value_no_lead_can_have(tmp_path: Path, option: str, value: str,
                                                allowed: str) -> None:
    db = f"sqlite:///{tmp_path / 'missing.db'}"
    code, out, err = run("leads", "--db", db, option, "assigned" if option == "--status"
                         else value, option, value)
    assert code == 2
    assert out == ""
    assert err.startswith(f"rulekit leads: {option} {value!r} is not one of: {allowed}")


def test_leads_suggests_the_close_value(tmp_path: Path) -> None:
    code, _, err = run("leads", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--status", "queud")
    assert code == 2
    assert err.rstrip().endswith("did you mean 'queued'?")


@pytest.mark.parametrize(("option", "value"), [
    ("--status", "Assigned"), ("--lead-status", "Inactive"),
    ("--contact-status", "agent database"), ("--priority", " HOT "),
])
def test_leads_accepts_the_values_it_matches(tmp_path: Path, option: str, value: str) -> None:
    code, _, err = run("leads", "--db", f"sqlite:///{tmp_path / 'x.db'}", option, value)
    assert code == 1 and "no database at" in err  # got as far as opening the store
