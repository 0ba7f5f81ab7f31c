"""First contact: from each assignment (direct, accepted offer, claimed broadcast, reassigned,
taken off by a missed SLA) to the assignee's first logged activity, on a SQLite store filled
through the engine at controlled times, and ``rulekit report response-times --target``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from command_line import run

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.first_contact import first_contacts
from rulekit.leadsearch import reading_store
from rulekit.model import Lead
from rulekit.storage.base import Store
from rulekit.storage.memory import MemoryStore
from rulekit.storage.url import open_store

ROOT = Path(__file__).resolve().parents[1]

RULES = """\
rulekit: 1
policy: first-contact
applies_to: {sources: [rr-site, offer-site, bc-site, sla-site]}
pools:
  trio:
    of: agents
    members: [a-avery-jones, a-blake-kim, a-casey-diaz]
rules:
  - name: rotate
    when: lead.source == "rr-site"
    steps:
      - round_robin: {pool: trio}
      - queue: {name: leftovers, reason: nobody took it}
  - name: offers
    when: lead.source == "offer-site"
    steps:
      - offer: {to: lead.site_owner, for: 30m}
      - offer: {to: lead.entered_by, for: 30m}
      - queue: {name: leftovers, reason: nobody took it}
  - name: last-chance
    when: lead.source == "bc-site"
    steps:
      - broadcast: {pool: trio, for: 1h}
      - queue: {name: leftovers, reason: nobody took it}
  - name: held-to-contact
    steps:
      - assign: lead.site_owner
      - expect_contact:
          within: 20m
          else:
            - queue: {name: missed, reason: no first contact}
"""

#: Tuesday 1 December 2026, 10:00 in New York.
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
#: The instant the report judges open leads at.
AS_OF = T0 + timedelta(hours=3)
AVERY, BLAKE, CASEY = "a-avery-jones", "a-blake-kim", "a-casey-diaz"
MINUTE = timedelta(minutes=1)


def fill(store: Store, tmp: Path) -> None:
    """Route leads by hand into ``store`` (minutes after T0).

    R1, R2, R3 round robin at 0 to avery, blake, casey.  avery calls R1 at 12; blake emails
    R2 at 45; casey never contacts R3, an admin reassigns it to avery at 40 (casey's late call
    at 45 is refused), avery texts it at 50.
    O1 offered to blake, accepted at 5, called at 15.  O2 offered to avery, expires at 30,
    offered to casey, accepted at 35: never contacted, still casey's.
    B1 broadcast to the trio, claimed by blake at 2, reassigned to casey at 20 with no
    contact; casey logs a showing at 100.
    S1 assigned at 60 to avery under a 20m SLA, missed at 80 (queued); reassigned to blake at
    120, who calls at 125.
    """
    folder = tmp / "rules"
    folder.mkdir()
    (folder / "first-contact.yaml").write_text(RULES, encoding="utf-8")
    world_path = ROOT / "rules/leadstreet/world.yaml"
    checked = check_paths([str(folder), str(world_path)])
    assert checked.ok, [d.headline() for d in checked.diagnostics]
    clock = ManualClock(T0)
    engine = Engine(checked.rulesets[str(folder)], checked.worlds[str(world_path)], store,
                    clock=clock)

    def at(minutes: int) -> datetime:
        when = T0 + minutes * MINUTE
        engine.tick(when)
        clock.set(when)
        return when

    def lead(lead_id: str, source: str, minutes: int, **fields: object) -> None:
        when = at(minutes)
        engine.submit(Lead.model_validate({
            "id": lead_id, "received_at": when.isoformat(), "source": source,
            "inquiry_type": "Contact", "contact": {"email": f"{lead_id.lower()}@example.com"},
            **fields}), when)

    def offer(lead_id: str) -> str:
        state = engine.state(lead_id)
        assert state is not None and state.pending is not None and state.pending.offer_id
        return state.pending.offer_id

    def activity(lead_id: str, agent: str, kind: str, minutes: int) -> None:
        engine.log_activity(lead_id, agent, kind, now=at(minutes))

    def assignee(lead_id: str) -> str | None:
        state = engine.state(lead_id)
        return None if state is None else state.assignee

    for n in (1, 2, 3):
        lead(f"R{n}", "rr-site", 0)
    assert [assignee(f"R{n}") for n in (1, 2, 3)] == [AVERY, BLAKE, CASEY]
    lead("O1", "offer-site", 0, site_owner=BLAKE, entered_by=AVERY)
    lead("O2", "offer-site", 0, site_owner=AVERY, entered_by=CASEY)
    lead("B1", "bc-site", 0)
    engine.accept(offer("B1"), BLAKE, at(2))
    engine.accept(offer("O1"), BLAKE, at(5))
    activity("R1", AVERY, "call", 12)
    activity("O1", BLAKE, "call", 15)
    engine.reassign("B1", CASEY, "admin", now=at(20))
    at(30)  # avery's offer of O2 expires: offered to casey
    engine.accept(offer("O2"), CASEY, at(35))
    engine.reassign("R3", AVERY, "admin", now=at(40))
    activity("R2", BLAKE, "email", 45)
    activity("R3", CASEY, "call", 45)  # refused: R3 is avery's now
    activity("R3", AVERY, "text", 50)
    lead("S1", "sla-site", 60, site_owner=AVERY)
    at(80)  # avery's SLA is missed: S1 queued
    assert assignee("S1") is None
    activity("B1", CASEY, "showing", 100)
    engine.reassign("S1", BLAKE, "admin", now=at(120))
    activity("S1", BLAKE, "call", 125)
    assert {lead_id: assignee(lead_id) for lead_id in ("O2", "B1", "R3", "S1")} == {
        "O2": CASEY, "B1": CASEY, "R3": AVERY, "S1": BLAKE}


def build_store(tmp: Path) -> str:
    """:func:`fill` a SQLite store; its URL."""
    url = f"sqlite:///{tmp / 'contacts.db'}"
    store = open_store(url)
    fill(store, tmp)
    close = getattr(store, "close", None)
    if close is not None:
        close()
    return url


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(tmp_path_factory.mktemp("first-contact"))


def test_each_assignment_has_its_own_first_contact(store_url: str) -> None:
    with reading_store(store_url) as store:
        report = first_contacts(store, target=1800, now=AS_OF)
    got = {(c.lead_id, c.agent): (c.how, c.outcome, c.seconds, c.activity)
           for c in report.contacts}
    assert got == {
        ("R1", AVERY): ("assigned", "contacted", 720, "call"),
        ("R2", BLAKE): ("assigned", "contacted", 2700, "email"),
        # casey's refused call and avery's text do not count for casey
        ("R3", CASEY): ("assigned", "never", None, None),
        ("R3", AVERY): ("reassigned", "contacted", 600, "text"),
        ("O1", BLAKE): ("accepted", "contacted", 600, "call"),
        ("O2", CASEY): ("accepted", "open", None, None),
        ("B1", BLAKE): ("claimed (first to accept the broadcast)", "never", None, None),
        ("B1", CASEY): ("reassigned", "contacted", 4800, "showing"),
        ("S1", AVERY): ("assigned", "never", None, None),
        ("S1", BLAKE): ("reassigned", "contacted", 300, "call"),
    }
    ended = {(c.lead_id, c.agent): c.ended_at for c in report.contacts if c.outcome == "never"}
    # S1 left avery when her SLA was missed (80), not when blake got it (120)
    assert ended == {("R3", CASEY): T0 + 40 * MINUTE, ("B1", BLAKE): T0 + 20 * MINUTE,
                     ("S1", AVERY): T0 + 80 * MINUTE}


def test_per_agent_numbers_and_target(store_url: str) -> None:
    with reading_store(store_url) as store:
        report = first_contacts(store, target=1800, now=AS_OF)
        untargeted = first_contacts(store, now=AS_OF)
    lines = {a.agent: (a.assigned, a.contacted, a.never, a.open, a.median, a.p90, a.worst,
                       a.over_target) for a in report.agents}
    assert lines == {
        # S1 was taken off avery after 20m: under the 30m target, not held against her
        AVERY: (3, 2, 1, 0, 660, 720, 720, 0),
        # R2 contacted after 45m; B1 lost after 18m without contact is within the target
        BLAKE: (4, 3, 1, 0, 600, 2700, 2700, 1),
        # R3 held 40m without contact, O2 open for 2h25m, B1 contacted after 80m
        CASEY: (3, 1, 1, 1, 4800, 4800, 4800, 3),
    }
    assert report.over_target == [(CASEY, 3), (BLAKE, 1)]
    assert report.never_contacted == [(AVERY, 1), (BLAKE, 1), (CASEY, 1)]
    assert untargeted.over_target == [] and {a.over_target for a in untargeted.agents} == {None}
    # an hour's target: only casey's open O2 and B1 (80m) are over it
    with reading_store(store_url) as store:
        hour = first_contacts(store, target=3600, now=AS_OF)
    assert hour.over_target == [(CASEY, 2)]
    # judged right after O2 was accepted, it is not over the target yet
    with reading_store(store_url) as store:
        early = first_contacts(store, target=1800, now=T0 + 36 * MINUTE)
    assert next(c for c in early.contacts if c.lead_id == "O2").over(1800, early.now) is False
    with reading_store(store_url) as store, pytest.raises(ValueError, match="target"):
        first_contacts(store, target=0)


def test_the_memory_store_gives_the_same_report(store_url: str, tmp_path: Path) -> None:
    memory = MemoryStore()
    fill(memory, tmp_path)
    with reading_store(store_url) as store:
        stored = first_contacts(store, target=1800, now=AS_OF)
    assert first_contacts(memory, target=1800, now=AS_OF) == stored


def test_report_command_names_agents_over_target(store_url: str) -> None:
    code, out = run("report", "response-times", "--db", store_url, "--target", "30m",
                    "--now", AS_OF.isoformat())
    assert code == 0, out
    assert "Response times: from each offer to the agent's answer" in out  # the offers part
    assert "as of 2026-12-01 18:00 UTC" in out
    header = next(line for line in out.splitlines() if line.split()[:2] == ["agent", "assigned"])
    assert header.split() == ["agent", "assigned", "contacted", "never", "open", "median",
                              "p90", "worst", "over", "30m"]
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.startswith("a-") and len(line.split()) == 12}
    assert rows[CASEY] == ["3", "1", "1", "1", "1h", "20m", "1h", "20m", "1h", "20m", "3"]
    assert rows[AVERY] == ["3", "2", "1", "0", "11m", "00s", "12m", "00s", "12m", "00s", "0"]
    assert f"Over the 30m target: {CASEY} 3 of 3, {BLAKE} 1 of 4" in out
    assert (f"Never made contact before the lead passed on: {AVERY} (1 lead), {BLAKE} "
            f"(1 lead), {CASEY} (1 lead)\nNo contact logged on any of their leads: nobody\n"
            "Still waiting for a first contact: 1 open lead."
            in out)


def test_report_command_without_target_and_as_json(store_url: str) -> None:
    code, out = run("report", "response-times", "--db", store_url, "--now", AS_OF.isoformat())
    assert code == 0, out
    assert "Over the" not in out and "No target given" in out
    assert "as of" not in out  # nothing depends on the report's instant without a target
    assert "Never made contact before the lead passed on: " in out
    code, out = run("report", "response-times", "--db", store_url, "--format", "json",
                    "--target", "1h30m", "--now", "2026-12-01T18:00:00")
    assert code == 0, out
    data = json.loads(out)
    assert data["slowest"] is not None  # the offers part is still there
    contact = data["first_contact"]
    assert contact["target_seconds"] == 5400
    assert contact["as_of"] == AS_OF.isoformat()
    assert contact["over_target"] == [{"agent": CASEY, "count": 1}]  # O2, open 2h25m
    assert [n["agent"] for n in contact["never_contacted"]] == [AVERY, BLAKE, CASEY]
    by_agent = {a["agent"]: a for a in contact["agents"]}
    assert by_agent[BLAKE]["median"] == 600 and by_agent[BLAKE]["over_target"] == 0
    assert run("report", "response-times", "--db", store_url, "--json", "--target", "1h30m",
               "--now", "2026-12-01T18:00:00") == (code, out)  # --json is --format json
    open_ones = [a for a in contact["assignments"] if a["outcome"] == "open"]
    assert open_ones == [{"agent": CASEY, "lead": "O2", "how": "accepted",
                          "assigned_at": (T0 + 35 * MINUTE).isoformat(), "outcome": "open",
                          "contacted_at": None, "activity": None, "seconds": None,
                          "ended_at": None, "over_target": True}]


@pytest.mark.parametrize("value", ["30x", "30", "thirty minutes", "0m", "30m2h", ""])
def test_bad_target_names_the_option(store_url: str, value: str) -> None:
    code, out = run("report", "response-times", "--db", store_url, "--target", value)
    assert code == 2
    assert "argument --target:" in out and "invalid duration" in out


def test_bad_now_names_the_option(store_url: str) -> None:
    code, out = run("report", "response-times", "--db", store_url, "--now", "yesterday")
    assert code == 2
    assert "argument --now:" in out and "ISO 8601" in out
