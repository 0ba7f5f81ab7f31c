"""Calendars chosen per lead: ``calendar: {expression: …}`` on steps and pools.

Two offices with different holidays share one rule set: the Charlotte office (calendar
``nc-office``) is closed on Tuesday 2026-12-01, the Columbia office (``sc-office``) on
Wednesday 2026-12-02.  Each lead's deadlines and on-duty filter follow its own office."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.errors import Diagnostic
from rulekit.model import Lead
from rulekit.pipeline.park import ERROR_QUEUE
from rulekit.ruleset import RuleSet
from rulekit.storage import MemoryStore
from rulekit.world import World

NY = ZoneInfo("America/New_York")
#: Tuesday 2026-12-01 10:00 in New York: a holiday of the Charlotte office only.
NC_HOLIDAY = datetime(2026, 12, 1, 10, 0, tzinfo=NY)

WORLD = """\
rulekit: 1
world: carolinas
calendars:
  nc-office:
    timezone: America/New_York
    hours: {mon-fri: "09:00-17:00"}
    holidays: {dates: ["2026-12-01"]}
  sc-office:
    timezone: America/New_York
    hours: {mon-fri: "09:00-17:00"}
    holidays: {dates: ["2026-12-02"]}
offices:
  - {id: o-charlotte, city: Charlotte, calendar: nc-office}
  - {id: o-columbia, city: Columbia, calendar: sc-office}
  - {id: o-remote, city: Anywhere}
agents:
  - {id: a-nora, name: Nora North, offices: [o-charlotte]}
  - {id: a-sam, name: Sam South, offices: [o-columbia]}
  - {id: a-remy, name: Remy Remote, offices: [o-remote]}
"""

BY_OFFICE = "{expression: 'coalesce(office.calendar, \"office-hours\")'}"

DEADLINES = f"""\
rulekit: 1
policy: office-deadlines
applies_to: {{sources: [deadline-site]}}
calendars:
  office-hours:
    timezone: America/New_York
    hours: {{mon-fri: "09:00-17:00"}}
pools:
  office-agents:
    of: agents
    offices: [lead.office]
rules:
  - name: offer-in-office
    steps:
      - offer_sequence:
          pool: office-agents
          each_for: 2 business_hours
          calendar: {BY_OFFICE}
          attempts: 1
      - queue: {{name: unclaimed}}
"""

ON_DUTY = """\
rulekit: 1
policy: office-duty
applies_to: {sources: [duty-site]}
pools:
  on-duty:
    of: agents
    offices: [lead.office]
    calendar: {expression: office.calendar}
rules:
  - name: rotate
    then: continue
    steps:
      - round_robin: {pool: on-duty}
  - name: nobody
    steps: [{queue: {name: nobody-on-duty}}]
"""

CHOSEN_BY_LEAD = """\
rulekit: 1
policy: chosen-by-lead
applies_to: {sources: [attr-site]}
rules:
  - name: offer
    steps:
      - offer:
          to: '"a-sam"'
          for: 1 business_hours
          calendar: {expression: lead.attributes.calendar}
      - queue: {name: unclaimed}
"""

OFFICE_ONLY = """\
rulekit: 1
policy: office-only
applies_to: {sources: [office-site]}
rules:
  - name: offer
    steps:
      - offer:
          to: '"a-remy"'
          for: 1 business_hours
          calendar: {expression: office.calendar}
      - queue: {name: unclaimed}
"""


def write(folder: Path, files: dict[str, str], world: str = WORLD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text))
    (folder / "world.yaml").write_text(world)
    return folder


def compile_folder(folder: Path) -> tuple[RuleSet, World, list[Diagnostic]]:
    result = check_paths([folder])
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return (result.rulesets[str(folder)], result.worlds[str(folder / "world.yaml")],
            list(result.diagnostics))


def problems(folder: Path) -> list[Diagnostic]:
    result = check_paths([folder])
    assert not result.ok
    return [d for d in result.diagnostics if d.severity == "error"]


def engine(tmp_path: Path, *files: str) -> Engine:
    ruleset, world, _ = compile_folder(
        write(tmp_path, {f"policy{i}": text for i, text in enumerate(files)}))
    return Engine(ruleset, world, MemoryStore(), clock=ManualClock(NC_HOLIDAY.astimezone(UTC)))


def lead(lead_id: str, source: str, received_at: datetime = NC_HOLIDAY, **fields: Any) -> Lead:
    return Lead.model_validate({"id": lead_id, "received_at": received_at, "source": source,
                                "contact": {"email": f"{lead_id.lower()}@example.com"},
                                **fields})


def test_each_office_s_lead_gets_a_deadline_by_its_own_calendar(tmp_path: Path) -> None:
    eng = engine(tmp_path, DEADLINES)
    nc = eng.receive(lead("NC1", "deadline-site", office="o-charlotte"))
    sc = eng.receive(lead("SC1", "deadline-site", office="o-columbia"))
    remote = eng.receive(lead("RM1", "deadline-site", office="o-remote"))
    assert nc is not None and sc is not None and remote is not None
    assert nc.state.pending is not None and sc.state.pending is not None
    assert remote.state.pending is not None
    # Charlotte is closed on its holiday: 2 business hours run Wednesday 09:00-11:00
    assert nc.state.pending.deadline == datetime(2026, 12, 2, 11, 0, tzinfo=NY)
    # Columbia is open on Tuesday: 10:00 + 2h
    assert sc.state.pending.deadline == datetime(2026, 12, 1, 12, 0, tzinfo=NY)
    # an office without a calendar of its own: the rule set's default
    assert remote.state.pending.deadline == datetime(2026, 12, 1, 12, 0, tzinfo=NY)
    nc_text = nc.trace.render(NY)
    assert ("2 business_hours of calendar 'nc-office' (the lead's office's calendar, office "
            "o-charlotte)") in nc_text
    assert "Calendar 'nc-office' (the lead's office's calendar, office o-charlotte), chosen " \
        "by `coalesce(office.calendar, \"office-hours\")`." in nc_text
    assert "until Wed 2026-12-02 11:00 EST" in nc_text
    assert ("calendar 'office-hours' (the default: the lead's office o-remote has no calendar)"
            in remote.trace.render(NY))


def test_pool_on_duty_by_the_lead_s_office_calendar(tmp_path: Path) -> None:
    eng = engine(tmp_path, ON_DUTY)
    nc = eng.receive(lead("NC1", "duty-site", office="o-charlotte"))
    sc = eng.receive(lead("SC1", "duty-site", office="o-columbia"))
    assert nc is not None and sc is not None
    # Nora is off duty on the Charlotte office's holiday; Sam works in Columbia
    assert (nc.state.status, nc.state.queue) == ("queued", "nobody-on-duty")
    assert (sc.state.status, sc.state.assignee) == ("assigned", "a-sam")
    assert "Calendar 'nc-office' (the lead's office's calendar, office o-charlotte)" in \
        nc.trace.render(NY)
    # the next day Columbia is closed and Charlotte open
    next_day = NC_HOLIDAY + timedelta(days=1)
    nc2 = eng.receive(lead("NC2", "duty-site", next_day, office="o-charlotte"), next_day)
    sc2 = eng.receive(lead("SC2", "duty-site", next_day, office="o-columbia"), next_day)
    assert nc2 is not None and sc2 is not None
    assert (nc2.state.status, nc2.state.assignee) == ("assigned", "a-nora")
    assert (sc2.state.status, sc2.state.queue) == ("queued", "nobody-on-duty")


def test_a_rule_set_calendar_used_only_by_an_expression_is_used(tmp_path: Path) -> None:
    _, _, diagnostics = compile_folder(write(tmp_path, {"deadlines": DEADLINES}))
    assert not [d for d in diagnostics if d.code == "RK309"], diagnostics


def test_a_calendar_expression_that_is_not_text_is_a_type_error(tmp_path: Path) -> None:
    text = DEADLINES.replace(BY_OFFICE, "{expression: office.agent_count}")
    (problem,) = problems(write(tmp_path, {"deadlines": text}))
    written = "          calendar: {expression: office.agent_count}"
    line = text.splitlines().index(written) + 1
    column = written.index("office.agent_count") + 1
    assert problem.code == "RK203"
    assert problem.message == "this expression is a number?, a string is required here"
    assert str(problem.location).startswith(f"{tmp_path}/deadlines.yaml:{line}:{column}")


def test_an_unknown_calendar_name_is_still_an_undefined_calendar(tmp_path: Path) -> None:
    text = DEADLINES.replace(BY_OFFICE, "ofice-hours")
    (problem,) = problems(write(tmp_path, {"deadlines": text}))
    assert (problem.code, problem.message) == ("RK302", "undefined calendar 'ofice-hours'")
    assert problem.hint == "did you mean 'office-hours'?"


def test_an_unknown_calendar_literal_in_an_expression_is_an_undefined_calendar(
        tmp_path: Path) -> None:
    text = DEADLINES.replace('"office-hours"', '"ofice-hours"')
    (problem,) = problems(write(tmp_path, {"deadlines": text}))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "ofice-hours" in t)
    column = text.splitlines()[line - 1].index('"ofice-hours"') + 1
    assert (problem.code, problem.message) == ("RK302", "undefined calendar 'ofice-hours'")
    assert problem.hint == "did you mean 'office-hours'?"
    assert str(problem.location).startswith(f"{tmp_path}/deadlines.yaml:{line}:{column}")


def test_an_expression_giving_an_unknown_calendar_parks_the_lead(tmp_path: Path) -> None:
    eng = engine(tmp_path, CHOSEN_BY_LEAD)
    decision = eng.receive(lead("L1", "attr-site", attributes={"calendar": "moon"}))
    assert decision is not None
    state = decision.state
    assert (state.status, state.queue) == ("parked", ERROR_QUEUE)
    assert state.reason is not None
    assert state.reason.endswith(
        "could not evaluate `lead.attributes.calendar`: it gives calendar 'moon', "
        "which is not defined (defined calendars: nc-office, sc-office)")
    assert "policy0.yaml:" in state.reason
    # a defined name works
    ok = eng.receive(lead("L2", "attr-site", attributes={"calendar": "nc-office"}))
    assert ok is not None and ok.state.pending is not None
    assert ok.state.pending.deadline == datetime(2026, 12, 2, 10, 0, tzinfo=NY)


def test_a_lead_without_office_parks_when_the_calendar_is_its_office_s(tmp_path: Path) -> None:
    eng = engine(tmp_path, OFFICE_ONLY)
    decision = eng.receive(lead("L1", "office-site"))
    assert decision is not None
    assert decision.state.status == "parked"
    assert decision.state.reason is not None
    assert decision.state.reason.endswith(
        "could not evaluate `office.calendar`: it gives null, not a calendar's name (the lead "
        "has no office)")
    remote = eng.receive(lead("L2", "office-site", office="o-remote"))
    assert remote is not None and remote.state.reason is not None
    assert remote.state.reason.endswith("(the lead's office o-remote has no calendar)")
    charlotte = eng.receive(lead("L3", "office-site", office="o-charlotte"))
    assert charlotte is not None and charlotte.state.status == "waiting"


PICKED = f"""\
rulekit: 1
policy: picked-office
applies_to: {{sources: [pick-site]}}
calendars:
  office-hours:
    timezone: America/New_York
    hours: {{mon-fri: "09:00-17:00"}}
pools:
  carolina-offices:
    of: offices
    where: office.calendar == "nc-office"
  office-agents:
    of: agents
    offices: [lead.office]
rules:
  - name: pick-then-offer
    steps:
      - pick_office: {{pool: carolina-offices}}
      - offer_sequence:
          pool: office-agents
          each_for: 2 business_hours
          calendar: {BY_OFFICE}
          attempts: 1
      - queue: {{name: unclaimed}}
"""


def test_the_calendar_follows_the_office_a_pick_gave_the_lead(tmp_path: Path) -> None:
    eng = engine(tmp_path, PICKED)
    decision = eng.receive(lead("P1", "pick-site"))  # no office when it arrives
    assert decision is not None and decision.state.pending is not None
    assert decision.state.pending.agents == ("a-nora",)
    assert decision.state.pending.deadline == datetime(2026, 12, 2, 11, 0, tzinfo=NY)
    assert "Calendar 'nc-office' (the lead's office's calendar, office o-charlotte)" in \
        decision.trace.render(NY)
