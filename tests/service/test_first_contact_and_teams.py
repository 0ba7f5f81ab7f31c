"""Over real HTTP, on LeadStreet's rules with a first-contact SLA on an agent site's leads and
the ``all-agents`` pool listing its members: a lead's views say what it waits for (the same
words in ``GET /v1/leads/{id}``, ``GET /v1/leads`` and ``rulekit leads``), and the admin
pool-member endpoints take a team id as one member."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import AGENTS, LEADSTREET, ROOT, Live, load, serving, tokens

_ids = itertools.count(1)
OWNER = "a-kai-morgan"
POOL = "/v1/admin/pools/all-agents"


def _rules(folder: Path) -> None:
    shutil.copytree(LEADSTREET, folder)
    pools = folder / "charlotteproperty.yaml"
    marker = "    description: Every agent of RE/MAX Executive, whatever their office.\n"
    text = pools.read_text(encoding="utf-8")
    assert marker in text
    members = "    members: [" + ", ".join(AGENTS) + "]\n"
    pools.write_text(text.replace(marker, marker + members, 1), encoding="utf-8")
    site = folder / "agent-site.yaml"
    marker = "          notify: {template: new-lead-assigned, to: [assignee]}\n"
    text = site.read_text(encoding="utf-8")
    assert marker in text
    site.write_text(text.replace(marker, marker + "      - expect_contact: {within: 30m}\n"
                                 "    then: continue\n", 1), encoding="utf-8")
    world = folder / "world.yaml"
    marker = "- {id: lead-department, name: Lead department}\n"
    text = world.read_text(encoding="utf-8")
    assert marker in text
    world.write_text(text.replace(marker, marker + "- {id: team-empty, name: Empty team}\n", 1),
                     encoding="utf-8")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("sla-teams")
    _rules(folder / "rules")
    db = f"sqlite:///{folder}/sla-teams.db"
    load(db, folder / "rules")
    wanted: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
        "admin": ("admin", None, ()), "support": ("support", None, ()),
        OWNER: ("agent", OWNER, ())}
    with serving(db, log=folder / "serve.log") as base:
        yield Live(base, db, tokens(db, wanted))


def _post(live: Live, path: str, who: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live.base}{path}", headers=live.auth(who), json=body)


def _lead(live: Live, **extra: Any) -> dict[str, Any]:
    body = {"id": f"FC-{next(_ids)}", "received_at": "2026-12-02T15:00:00+00:00",
            "contact": {"email": f"fc{next(_ids)}@example.com"}, **extra}
    answer = _post(live, "/v1/leads", "admin", body)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _listed(live: Live, lead_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{live.base}/v1/leads", headers=live.auth("support"),
                       params={"limit": 500})
    assert answer.status_code == 200, answer.text
    (item,) = [i for i in answer.json()["items"] if i["id"] == lead_id]
    found: dict[str, Any] = item
    return found


def _cli_leads(live: Live, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "rulekit", "leads", "--db", live.db, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_a_lead_waiting_for_first_contact_says_so_in_every_view(live: Live) -> None:
    before = datetime.now(UTC)
    made = _lead(live, source="agent-site", site_owner=OWNER)
    assert (made["status"], made["assignee"]) == ("assigned", OWNER)
    text = made["waiting_for"]
    prefix = f"first contact by {OWNER} until "
    assert text.startswith(prefix), text
    deadline = datetime.fromisoformat(text.removeprefix(prefix))
    assert before + timedelta(minutes=29) < deadline < datetime.now(UTC) + timedelta(minutes=31)
    read = httpx.get(f"{live.base}/v1/leads/{made['id']}", headers=live.auth("support"))
    assert read.json()["waiting_for"] == text
    item = _listed(live, made["id"])
    assert item["waiting_for"] == text
    assert item["waiting"] == {"for": "first_contact", "agents": [OWNER],
                               "until": deadline.isoformat()}
    (row,) = [r for r in json.loads(_cli_leads(live, "--format", "json"))
              if r["id"] == made["id"]]
    assert (row["waiting_for"], row["waiting"]) == (text, item["waiting"])
    table = _cli_leads(live, "--assignee", OWNER, "--tz", "UTC")
    assert f"first contact by {OWNER} until {deadline:%Y-%m-%d %H:%M} UTC" in table
    # the contact meets the SLA: nothing to wait for any more
    called = _post(live, f"/v1/leads/{made['id']}/activity", OWNER, {"activity": "call"})
    assert called.status_code == 200, called.text
    assert called.json()["waiting_for"] is None
    assert (_listed(live, made["id"])["waiting_for"], _listed(live, made["id"])["waiting"]) == (
        None, None)


def test_an_offered_lead_says_whose_answer_it_waits_for(live: Live) -> None:
    made = _lead(live, source="charlotteproperty.com")
    (offer,) = made["offers"]
    (agent,) = offer["agents"]
    expected = f"an answer from {agent} to offer {offer['id']} until {offer['deadline']}"
    assert made["waiting_for"] == expected
    item = _listed(live, made["id"])
    assert item["waiting_for"] == expected
    assert item["waiting"] == {"for": "offer", "agents": [agent], "until": offer["deadline"]}


def test_a_team_joins_and_leaves_a_pool_as_one_member(live: Live) -> None:
    before = httpx.get(f"{live.base}{POOL}", headers=live.auth("admin")).json()["members"]
    added = _post(live, f"{POOL}/members", "admin", {"member": "eteam", "reason": "eTeam turns"})
    assert added.status_code == 200, added.text
    assert (added.json()["before"], added.json()["after"]) == (before, [*before, "eteam"])
    assert httpx.get(f"{live.base}{POOL}",
                     headers=live.auth("admin")).json()["members"] == [*before, "eteam"]
    audit = httpx.get(f"{live.base}/v1/admin/audit", headers=live.auth("admin")).json()
    assert audit[-1]["detail"]["members"] == [*before, "eteam"]
    again = _post(live, f"{POOL}/members", "admin", {"member": "eteam", "reason": "twice"})
    assert again.json()["after"] == [*before, "eteam"]  # still one member
    routed = _lead(live, source="charlotteproperty.com")  # the edited rotation routes
    assert routed["status"] == "waiting" and routed["offers"]
    removed = _post(live, f"{POOL}/members/remove", "admin",
                    {"member": "eteam", "reason": "back to agents"})
    assert removed.status_code == 200, removed.text
    # the team leaves; its agents listed on their own stay
    assert removed.json()["after"] == before


def test_an_unknown_member_is_refused_naming_the_field(live: Live) -> None:
    for path in (f"{POOL}/members", f"{POOL}/members/remove"):
        answer = _post(live, path, "admin", {"member": "team-nobody", "reason": "typo"})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        (error,) = answer.json()["errors"]
        assert error["field"] == "body.member"
        assert "'team-nobody' is no agent or team of the active world" in error["message"]


def test_a_team_the_rotation_cannot_use_is_refused_naming_the_field(live: Live) -> None:
    before = httpx.get(f"{live.base}{POOL}", headers=live.auth("admin")).json()["members"]
    answer = _post(live, f"{POOL}/members", "admin", {"member": "team-empty", "reason": "new"})
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert error["field"] == "body.member"
    assert "RK316" in error["message"] and "team-empty" in error["message"]
    assert httpx.get(f"{live.base}{POOL}",
                     headers=live.auth("admin")).json()["members"] == before
