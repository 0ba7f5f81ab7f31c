"""Every command, given each kind of wrong argument that applies to it, says what is wrong in
one line and exits 1 or 2 as documented — never 3 ("This is a bug in rulekit"), never a
traceback.  A reader that goes away (``rulekit … | head``) ends the command quietly.

Kinds: a missing required argument, an unknown option, a value of the wrong type, a missing
file or folder, an unknown store URL scheme, an unreachable database, a database without
rulekit's schema, a time that cannot be read, an unknown name, an output path that cannot be
written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rulekit.cli.main import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
RULES, WORLD = "rules/leadstreet", "rules/leadstreet/world.yaml"
SCENARIO = "rules/leadstreet/scenarios/manual-entry.scenario.yaml"  # a SQLite-backed scenario
UNREACHABLE = "postgresql://ops:S3cret@127.0.0.1:1/test"
SHOWN = "postgresql://ops:***@127.0.0.1:1/test"
KNOWN_SCHEMES = "known schemes are memory://, sqlite://, postgresql://"
LEAD = {"id": "W1", "received_at": "2026-12-01T15:00:00+00:00", "source": "remax.com",
        "inquiry_type": "general", "contact": {"email": "w1@example.com"}}


@dataclass(frozen=True)
class Case:
    kind: str
    argv: tuple[str, ...]
    code: int  # 1 or 2, as docs/commands.md says
    says: str  # a fragment of the one line that names the problem


def case(kind: str, argv: str | list[str], code: int, says: str) -> Case:
    return Case(kind, tuple(argv.split() if isinstance(argv, str) else argv), code, says)


#: Placeholders: {tmp} a scratch folder, {missing} a path that does not exist, {lead} a lead
#: file, {db} a SQLite store with the LeadStreet rules loaded, {empty} an empty SQLite file.
CASES: dict[str, list[Case]] = {
    "validate": [
        case("missing required", "validate", 2, "the following arguments are required: PATH"),
        case("unknown option", f"validate {RULES} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", f"validate {RULES} --max-problems many", 2,
             "argument --max-problems: invalid int value: 'many'"),
        case("missing folder", "validate {missing}", 1,
             "{missing}:1:1: error[RK008]: no such file or folder"),
    ],
    "test": [
        case("missing required", "test", 2, "the following arguments are required: PATH"),
        case("unknown option", f"test {SCENARIO} --bogus", 2, "unrecognized arguments: --bogus"),
        case("missing file", "test {missing}/x.scenario.yaml", 2,
             "rulekit test: no such file or folder: {missing}/x.scenario.yaml"),
        case("unwritable output", f"test {SCENARIO} --junit-xml {{missing}}/report.xml", 2,
             "rulekit test: cannot write --junit-xml {missing}/report.xml: folder {missing} "
             "does not exist"),
    ],
    "simulate": [
        case("missing required", "simulate", 2,
             "the following arguments are required: scenario"),
        case("unknown option", f"simulate {SCENARIO} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", f"simulate {SCENARIO} --format xml", 2,
             "argument --format: invalid choice: 'xml'"),
        case("missing file", "simulate {missing}/x.scenario.yaml", 1,
             "{missing}/x.scenario.yaml:1:1: error[RK008]: cannot read file"),
        case("unknown name", f"simulate {SCENARIO} --explain NOPE", 2,
             "rulekit simulate: --explain 'NOPE': no such lead in the scenario; its leads: M1, "
             "M2"),
        case("unknown name", f"simulate {SCENARIO} --tz Mars/Base", 2,
             "rulekit simulate: unknown time zone 'Mars/Base'"),
    ],
    "route": [
        case("missing required", "route {lead}", 2,
             "the following arguments are required: --rules, --world"),
        case("unknown option", f"route {{lead}} --rules {RULES} --world {WORLD} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", f"route {{lead}} --rules {RULES} --world {WORLD} --format xml",
             2, "argument --format: invalid choice: 'xml'"),
        case("missing folder", f"route {{lead}} --rules {{missing}} --world {WORLD}", 1,
             "{missing}:1:1: error[RK008]: no such file or folder"),
        case("missing file", f"route {{lead}} --rules {RULES} --world {{missing}}/world.yaml",
             1, "{missing}/world.yaml:1:1: error[RK008]: no such file or folder"),
        case("missing file", f"route {{missing}}/lead.json --rules {RULES} --world {WORLD}", 1,
             "rulekit route: cannot read {missing}/lead.json: no such file"),
        case("bad time", f"route {{lead}} --rules {RULES} --world {WORLD} --at tomorrow", 2,
             "rulekit route: --at 'tomorrow' is not an ISO 8601 date-time with a UTC offset"),
        case("bad time",
             f"route {{lead}} --rules {RULES} --world {WORLD} --at 2026-12-01T10:00", 2,
             "rulekit route: --at '2026-12-01T10:00' has no UTC offset: add one, e.g. "
             "2026-12-01T10:00-05:00"),
        case("unknown name", f"route {{lead}} --rules {RULES} --world {WORLD} --tz Mars/Base",
             2, "rulekit route: unknown time zone 'Mars/Base'"),
    ],
    "explain": [
        case("missing required", "explain L1", 2, "the following arguments are required: --db"),
        case("unknown option", "explain L1 --db {db} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", "explain L1 --db {db} --format xml", 2,
             "argument --format: invalid choice: 'xml'"),
        case("missing file", "explain L1 --db sqlite:///{missing}.db", 1,
             "rulekit explain: no database at {missing}.db"),
        case("bad URL scheme", "explain L1 --db mongodb://db/leads", 1,
             f"rulekit explain: cannot open mongodb://db/leads: unknown store URL "
             f"'mongodb://db/leads': {KNOWN_SCHEMES}"),
        case("unreachable database", f"explain L1 --db {UNREACHABLE}", 1,
             f"rulekit explain: cannot open {SHOWN}: connection failed"),
        case("no schema", "explain L1 --db sqlite:///{empty}", 1,
             "rulekit explain: cannot open sqlite:///{empty}: this database has no rulekit "
             "schema: run `rulekit migrate --db sqlite:///{empty}`"),
        case("unknown name", "explain NOPE --db {db}", 1,
             "rulekit explain: no lead 'NOPE' in {db}"),
        case("unknown name", "explain L1 --db {db} --tz Mars/Base", 2,
             "rulekit explain: unknown time zone 'Mars/Base'"),
    ],
    "leads": [
        case("missing required", "leads", 2, "the following arguments are required: --db"),
        case("unknown option", "leads --db {db} --bogus", 2, "unrecognized arguments: --bogus"),
        case("bad value type", "leads --db {db} --limit many", 2,
             "argument --limit: invalid int value: 'many'"),
        case("bad value type", "leads --db {db} --min-interest 9", 2,
             "argument --min-interest: invalid choice: 9"),
        case("missing file", "leads --db sqlite:///{missing}.db", 1,
             "rulekit leads: no database at {missing}.db"),
        case("bad URL scheme", "leads --db mongodb://db/leads", 1,
             "rulekit leads: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"leads --db {UNREACHABLE}", 1,
             f"rulekit leads: cannot open {SHOWN}: connection failed"),
        case("no schema", "leads --db sqlite:///{empty}", 1,
             "rulekit leads: cannot open sqlite:///{empty}: this database has no rulekit "
             "schema: run `rulekit migrate"),
        case("bad time", "leads --db {db} --since tomorrow", 2,
             "rulekit leads: --since 'tomorrow' is not an ISO 8601 date or date-time"),
        case("bad time", "leads --db {db} --now later", 2,
             "rulekit leads: --now 'later' is not an ISO 8601 date or date-time"),
        case("bad time", "leads --db {db} --active-since soon", 2,
             "rulekit leads: 'soon' is not an age like 30m, 12h, 7d or 2w"),
        case("unknown name", "leads --db {db} --tz Mars/Base", 2,
             "rulekit leads: unknown time zone 'Mars/Base'"),
    ],
    "report": [
        case("missing required", "report --db {db}", 2,
             "the following arguments are required: report"),
        case("unknown option", "report distribution --db {db} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", "report distribution --db {db} --format xml", 2,
             "argument --format: invalid choice: 'xml'"),
        case("unknown name", "report speed --db {db}", 2,
             "argument report: invalid choice: 'speed' (choose from "),
        case("missing file", "report distribution --db sqlite:///{missing}.db", 1,
             "rulekit report: no database at {missing}.db"),
        case("bad URL scheme", "report distribution --db mongodb://db/leads", 1,
             "rulekit report: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"report distribution --db {UNREACHABLE}", 1,
             f"rulekit report: cannot open {SHOWN}: connection failed"),
        case("no schema", "report distribution --db sqlite:///{empty}", 1,
             "rulekit report: cannot open sqlite:///{empty}: this database has no rulekit "
             "schema"),
    ],
    "day": [
        case("missing required", "day", 2, "the following arguments are required: RULES_DIR"),
        case("unknown option", f"day {RULES} --bogus", 2, "unrecognized arguments: --bogus"),
        case("bad value type", f"day {RULES} --leads many", 2,
             "argument --leads: invalid int value: 'many'"),
        case("missing folder", "day {missing}", 2,
             "rulekit day: {missing} is not a folder of rule files"),
        case("missing file", f"day {RULES} --world {{missing}}/world.yaml", 2,
             "rulekit day: no world file at {missing}/world.yaml"),
        case("bad URL scheme", f"day {RULES} --leads 1 --db mongodb://db/leads", 1,
             "rulekit day: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"day {RULES} --leads 1 --db {UNREACHABLE}", 1,
             f"rulekit day: cannot open {SHOWN}: connection failed"),
        case("bad time", f"day {RULES} --date tomorrow", 2, "rulekit day: --date 'tomorrow'"),
        case("unknown name", f"day {RULES} --tz Mars/Base", 2,
             "rulekit day: unknown time zone 'Mars/Base'"),
        case("unwritable output", f"day {RULES} --leads 1 --db sqlite:///{{missing}}/day.db", 1,
             "{missing} does not exist"),
    ],
    "retry": [
        case("missing required", "retry L1 --db {db}", 2,
             "the following arguments are required: --by"),
        case("unknown option", "retry L1 --db {db} --by ops --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("missing file", "retry L1 --db sqlite:///{missing}.db --by ops", 1,
             "rulekit retry: no database at {missing}.db"),
        case("bad URL scheme", "retry L1 --db mongodb://db/leads --by ops", 1,
             "rulekit retry: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"retry L1 --db {UNREACHABLE} --by ops", 1,
             f"rulekit retry: cannot open {SHOWN}: connection failed"),
        case("no schema", "retry L1 --db sqlite:///{empty} --by ops", 1,
             "rulekit retry: cannot open sqlite:///{empty}: this database has no rulekit "
             "schema"),
        case("unknown name", "retry NOPE --db {db} --by ops", 1,
             "rulekit retry: no lead 'NOPE' in the store"),
    ],
    "contacts": [
        case("missing required", "contacts share x@example.com --db {db} --agent a1", 2,
             "the following arguments are required: --by"),
        case("unknown option", "contacts show x@example.com --db {db} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", "contacts status x@example.com open --db {db} --by ops", 2,
             "argument status: invalid choice: 'open'"),
        case("missing file", "contacts show x@example.com --db sqlite:///{missing}.db", 1,
             "rulekit contacts: no database at {missing}.db"),
        case("bad URL scheme", "contacts show x@example.com --db mongodb://db/leads", 1,
             "rulekit contacts: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"contacts show x@example.com --db {UNREACHABLE}", 1,
             f"rulekit contacts: cannot open {SHOWN}: connection failed"),
        case("no schema", "contacts show x@example.com --db sqlite:///{empty}", 1,
             "rulekit contacts: cannot open sqlite:///{empty}: this database has no rulekit "
             "schema"),
        case("unknown name", "contacts show nobody@example.com --db {db}", 1,
             "rulekit contacts: CONTACT: no contact 'email:nobody@example.com' in the store"),
    ],
    "load": [
        case("missing required", f"load --rules {RULES}", 2,
             "the following arguments are required: --db"),
        case("missing required", "load --db {db}", 2, "give --rules DIR, --world FILE, or both"),
        case("unknown option", f"load --db {{db}} --rules {RULES} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", f"load --db {{db}} --rules {RULES} --max-problems many", 2,
             "argument --max-problems: invalid int value: 'many'"),
        case("missing folder", f"load --db {{db}} --rules {{missing}} --world {WORLD}", 1,
             "rulekit load: --rules {missing}: no such folder; nothing was stored"),
        case("missing file", f"load --db {{db}} --rules {RULES} --world {{missing}}/w.yaml", 1,
             "rulekit load: --world {missing}/w.yaml: no such file; nothing was stored"),
        case("bad URL scheme", f"load --db mongodb://db/leads --rules {RULES}", 1,
             "rulekit load: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"load --db {UNREACHABLE} --rules {RULES}", 1,
             f"rulekit load: cannot open {SHOWN}: connection failed"),
        case("unwritable output", f"load --db sqlite:///{{missing}}/l.db --rules {RULES}", 1,
             "rulekit load: cannot open sqlite:///{missing}/l.db: the folder {missing} of "
             "{missing}/l.db does not exist"),
    ],
    "worker": [
        case("missing required", "worker --once", 2,
             "the following arguments are required: --db"),
        case("unknown option", "worker --db {db} --once --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", "worker --db {db} --once --poll soon", 2,
             "argument --poll: 'soon' is not a number of seconds"),
        case("bad value type", "worker --db {db} --once --lease -5", 2,
             "argument --lease: must be more than 0"),
        case("bad value type", "worker --db {db} --once --batch 0", 2,
             "--batch must be at least 1"),
        case("missing file", "worker --db sqlite:///{missing}.db --once", 1,
             "rulekit worker: cannot open sqlite:///{missing}.db: no database at {missing}.db; "
             "create it with `rulekit migrate"),
        case("bad URL scheme", "worker --db mongodb://db/leads --once", 1,
             "rulekit worker: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"worker --db {UNREACHABLE} --once", 1,
             f"rulekit worker: cannot open {SHOWN}: connection failed"),
        case("unwritable output", "worker --db sqlite:///{missing}/w.db --once --create", 1,
             "rulekit worker: cannot open sqlite:///{missing}/w.db: the folder {missing} of "
             "{missing}/w.db does not exist"),
    ],
    "schema": [
        case("unknown name", "schema rulebook", 2, "argument name: invalid choice: 'rulebook'"),
        case("unknown option", "schema --bogus", 2, "unrecognized arguments: --bogus"),
        case("unwritable output", "schema --write {missing}", 2,
             "rulekit schema: --write {missing}: no such folder"),
        case("unwritable output", "schema --write {lead}", 2,
             "rulekit schema: --write {lead}: not a folder"),
    ],
    "migrate": [
        case("missing required", "migrate", 2, "the following arguments are required: --db"),
        case("unknown option", "migrate --db {db} --bogus", 2, "unrecognized arguments: --bogus"),
        case("bad URL scheme", "migrate --db mongodb://db/leads", 1,
             "rulekit migrate: cannot open mongodb://db/leads: unknown store URL"),
        case("bad URL scheme", "migrate --db sqlite:/x.db", 1,
             "rulekit migrate: 'sqlite:/x.db': a SQLite URL is sqlite:///relative/path.db"),
        case("unreachable database", f"migrate --db {UNREACHABLE}", 1,
             f"rulekit migrate: cannot open {SHOWN}: connection failed"),
        case("unwritable output", "migrate --db sqlite:///{missing}/m.db", 1,
             "rulekit migrate: cannot open sqlite:///{missing}/m.db: the folder {missing} of "
             "{missing}/m.db does not exist"),
    ],
    "serve": [
        case("missing required", "serve --port 8080", 2,
             "the following arguments are required: --db"),
        case("unknown option", "serve --db {db} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", "serve --db {db} --port soon", 2,
             "argument --port: invalid int value: 'soon'"),
        case("bad value type", "serve --db {db} --port 70000", 2,
             "--port must be between 0 and 65535"),
        case("bad value type", "serve --db {db} --workers 0", 2,
             "--workers must be at least 1"),
        case("bad URL scheme", "serve --db mongodb://db/leads", 1,
             "rulekit serve: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"serve --db {UNREACHABLE}", 1,
             f"rulekit serve: cannot open {SHOWN}: connection failed"),
        case("unwritable output", "serve --db sqlite:///{missing}/s.db", 1,
             "rulekit serve: cannot open sqlite:///{missing}/s.db: the folder {missing} of "
             "{missing}/s.db does not exist"),
    ],
    "token": [
        case("missing required", "token", 2,
             "the following arguments are required: {create,revoke,list}"),
        case("missing required", "token create --role admin", 2,
             "the following arguments are required: --db"),
        case("missing required", "token revoke --db {db}", 2,
             "the following arguments are required: TOKEN_ID"),
        case("missing required", "token create --db {db} --role agent", 2,
             "rulekit token: a token of role 'agent' needs the agent it acts as"),
        case("missing required", "token create --db {db} --role integrator", 2,
             "rulekit token: a token of role 'integrator' needs the lead sources"),
        case("unknown option", "token list --db {db} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("bad value type", "token make --db {db}", 2,
             "argument {create,revoke,list}: invalid choice: 'make'"),
        case("bad value type", "token create --db {db} --role integrator --sources ,", 2,
             "rulekit token: --sources names no lead source"),
        case("bad value type", "token create --db {db} --role admin --agent a-avery-jones", 2,
             "rulekit token: only a token of role 'agent' acts as an agent, not one of role "
             "'admin'"),
        case("bad value type", "token create --db {db} --role support --sources remax.com", 2,
             "rulekit token: only a token of role 'integrator' has lead sources"),
        case("missing file", "token list --db sqlite:///{missing}.db", 1,
             "rulekit token: no database at {missing}.db"),
        case("missing file", "token create --db sqlite:///{missing}.db --role admin", 1,
             "rulekit token: cannot open sqlite:///{missing}.db: no database at {missing}.db; "
             "create it with `rulekit migrate"),
        case("missing file", "token revoke 0123456789ab --db sqlite:///{missing}.db", 1,
             "rulekit token: cannot open sqlite:///{missing}.db: no database at {missing}.db"),
        case("bad URL scheme", "token list --db mongodb://db/leads", 1,
             "rulekit token: cannot open mongodb://db/leads: unknown store URL"),
        case("bad URL scheme", "token create --db mongodb://db/leads --role admin", 1,
             "rulekit token: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"token create --db {UNREACHABLE} --role admin", 1,
             f"rulekit token: cannot open {SHOWN}: connection failed"),
        case("unreachable database", f"token list --db {UNREACHABLE}", 1,
             f"rulekit token: cannot open {SHOWN}: connection failed"),
        case("no schema", "token list --db sqlite:///{empty}", 1,
             "rulekit token: cannot open sqlite:///{empty}: this database has no rulekit "
             "schema: run `rulekit migrate --db sqlite:///{empty}`"),
        case("unknown name", "token create --db {db} --role admn", 2,
             "rulekit token: unknown role 'admn': did you mean 'admin'? the roles are "
             "integrator, agent, concierge, admin, support"),
        case("unknown name", "token create --db {db} --role agent --agent a-avery-jone", 1,
             "rulekit token: no agent 'a-avery-jone' in the store's active world (charlotte): "
             "did you mean 'a-avery-jones'?; no token was made"),
        case("unknown name", "token revoke NOPE --db {db}", 1,
             "rulekit token: no token 'NOPE' in {db}"),
    ],
    "outbox": [
        case("missing required", "outbox", 2, "the following arguments are required: --db"),
        case("missing required", "outbox retry --db {db}", 2,
             "the following arguments are required: ID"),
        case("bad value type", "outbox retry x --db {db}", 2,
             "argument ID: invalid int value: 'x'"),
        case("bad value type", "outbox --db {db} --status lost", 2,
             "argument --status: invalid choice: 'lost'"),
        case("unknown option", "outbox --db {db} --bogus", 2,
             "unrecognized arguments: --bogus"),
        case("missing file", "outbox --db sqlite:///{missing}.db", 1,
             "rulekit outbox: no database at {missing}.db"),
        case("bad URL scheme", "outbox --db mongodb://db/leads", 1,
             "rulekit outbox: cannot open mongodb://db/leads: unknown store URL"),
        case("unreachable database", f"outbox retry 1 --db {UNREACHABLE}", 1,
             f"rulekit outbox: cannot open {SHOWN}: connection failed"),
        case("no schema", "outbox --db sqlite:///{empty}", 1,
             "rulekit outbox: cannot open sqlite:///{empty}: this database has no rulekit "
             "schema: run `rulekit migrate --db sqlite:///{empty}`"),
    ],
}

#: Commands and the kinds of wrong argument that do not apply to them.
NOT_APPLICABLE = {
    "validate": {"bad URL scheme", "unreachable database", "no schema", "bad time",
                 "unknown name", "unwritable output"},
    "test": {"bad URL scheme", "unreachable database", "no schema", "bad time", "unknown name"},
}

ALL_CASES = [(name, c) for name, cases in CASES.items() for c in cases]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The placeholders' values: scratch files and a SQLite store with rules loaded."""
    tmp = tmp_path_factory.mktemp("wrong")
    lead = tmp / "lead.json"
    lead.write_text(json.dumps(LEAD), encoding="utf-8")
    empty = tmp / "empty.db"
    empty.touch()
    db = f"sqlite:///{tmp / 'loaded.db'}"
    here = Path.cwd()
    try:
        os.chdir(ROOT)
        assert main(["load", "--db", db, "--rules", RULES, "--world", WORLD, "--by", "t"]) == 0
    finally:
        os.chdir(here)
    return {"{tmp}": str(tmp), "{missing}": str(tmp / "missing"), "{lead}": str(lead),
            "{db}": db, "{empty}": str(empty)}


def fill(text: str, places: dict[str, str]) -> str:
    for key, value in places.items():
        text = text.replace(key, value)
    return text


def message_lines(out: str, err: str) -> list[str]:
    """What a command printed, less argparse's usage lines (printed before its error line)."""
    lines = [line for line in (out + err).splitlines() if line.strip()]
    kept: list[str] = []
    in_usage = False
    for line in lines:
        if line.startswith("usage: "):
            in_usage = True
        elif in_usage and not line.startswith(" "):
            in_usage = False
        if not in_usage:
            kept.append(line)
    return kept


def test_every_command_is_in_the_table() -> None:
    assert sorted(CASES) == sorted(COMMANDS)
    for name, cases in CASES.items():
        kinds = {c.kind for c in cases}
        assert {"missing required", "unknown option"} & kinds or name == "schema", name


def test_the_table_covers_each_kind_that_applies() -> None:
    """Each kind is tried on every command it applies to (a command that takes --db takes
    URLs; one that takes files takes missing ones)."""
    for name, cases in CASES.items():
        kinds = {c.kind for c in cases}
        if "--db" in " ".join(" ".join(c.argv) for c in cases) and name != "day":
            assert {"bad URL scheme", "unreachable database"} <= kinds, name
        assert not (kinds & NOT_APPLICABLE.get(name, set())), name


@pytest.mark.parametrize(("command", "wrong"), ALL_CASES,
                         ids=[f"{n}-{c.kind.replace(' ', '-')}-{i}"
                              for i, (n, c) in enumerate(ALL_CASES)])
def test_a_wrong_argument_is_one_clear_line(command: str, wrong: Case,
                                            places: dict[str, str],
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    argv = [fill(a, places) for a in wrong.argv]
    code = main(argv)
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert code == wrong.code, said
    assert "Traceback" not in said and "internal error" not in said, said
    expected = fill(wrong.says, places)
    lines = message_lines(captured.out, captured.err)
    named = [line for line in lines if expected in line]
    assert len(named) == 1, f"{expected!r} not on one line of:\n{said}"
    if wrong.kind in ("missing file", "missing folder") and command in ("validate", "test"):
        return  # reports: the diagnostic line, then the summary line
    if command == "simulate" and wrong.kind == "missing file":
        return
    assert len(lines) == 1, said
    assert "S3cret" not in said


def test_an_unknown_command_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "rulekit: unknown command 'frobnicate'"
    assert "migrate" in err  # the list of commands follows


def test_a_broken_pipe_in_a_command_ends_quietly(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def closed(_argv: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("rulekit.cli.schema.main", closed)
    assert main(["schema"]) == 141
    assert capsys.readouterr().err == ""


# -- real processes: a reader that goes away ------------------------------------------------------
def rulekit(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "rulekit", *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("argv", [["--help"], ["schema", "rulefile"],
                                  ["validate", RULES, "--format", "json"]],
                         ids=["help", "schema", "validate"])
def test_output_into_head_ends_quietly(argv: list[str]) -> None:
    """``rulekit ARGV | head -1``: read one line, close the pipe."""
    process = rulekit(*argv)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    process.wait(timeout=60)
    assert first
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert process.returncode in (0, 141), err


@pytest.mark.parametrize("argv", [["--help"], ["schema", "rulefile"]], ids=["help", "schema"])
def test_a_reader_gone_before_any_output_ends_quietly(argv: list[str]) -> None:
    """The reader closes the pipe before the command writes: its first write fails."""
    process = rulekit(*argv)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    process.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert process.returncode == 141, err
