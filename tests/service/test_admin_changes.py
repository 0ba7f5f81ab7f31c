"""Admin and concierge changes over real HTTP: a policy's switch, a rule's cc list, contact
transfers, a consumer's lead status — each refused with a clear problem when it cannot be made,
each taking effect for the next decision, audited, and told in the explanations it bears on
(over HTTP and by ``rulekit explain``)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import httpx
from live_server import ROOT, Live

_ids = itertools.count(1)


def lead(email: str | None = None, **extra: object) -> dict[str, object]:
    n = next(_ids)
    contact = {"email": email or f"admin-buyer{n}@example.com"}
    return {"id": f"A-{n}", "received_at": "2026-12-02T15:00:00+00:00",
            "source": "charlotteproperty.com", "contact": contact, **extra}


def submit(live: Live, body: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(f"{live.base}/v1/leads", json=body, headers=live.auth("integrator"))
    assert answer.status_code == 201, answer.text
    result: dict[str, object] = answer.json()
    return result


def put(live: Live, path: str, body: dict[str, object], who: str = "admin") -> httpx.Response:
    return httpx.put(f"{live.base}{path}", json=body, headers=live.auth(who))


def problem_fields(answer: httpx.Response) -> list[str]:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    return [e["field"] for e in answer.json().get("errors", [])]


def explain(live: Live, lead_id: str) -> str:
    done = subprocess.run([sys.executable, "-m", "rulekit", "explain", lead_id, "--db",
                           live.db], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    return done.stdout


def test_a_disabled_policy_sends_the_next_leads_to_its_queue(live: Live) -> None:
    path = "/v1/admin/policies/charlotteproperty/enabled"
    off = put(live, path, {"enabled": False, "reason": "office meeting"})
    assert off.status_code == 200, off.text
    assert (off.json()["before"], off.json()["after"]) == ({"enabled": True}, {"enabled": False})
    waiting = submit(live, lead())
    assert (waiting["status"], waiting["queue"]) == ("queued", "manual")
    assert "charlotteproperty disabled" in str(waiting["explanation"])
    assert "(why: office meeting)" in explain(live, str(waiting["id"]))
    on = put(live, path, {"enabled": True, "reason": "meeting over"})
    assert on.status_code == 200, on.text
    routed = submit(live, lead())
    assert routed["status"] == "waiting" and routed["offers"]
    assert put(live, "/v1/admin/policies/nope/enabled",
               {"enabled": False, "reason": "x"}).status_code == 404
    assert put(live, path, {"enabled": False, "reason": "x"}, who="support").status_code == 403


def test_a_rule_cc_list_is_set_checked_and_audited(live: Live) -> None:
    path = "/v1/admin/policies/charlotteproperty/rules/random-offers/cc"
    done = put(live, path, {"cc": ["manager@remax-executive.example"], "reason": "copies"})
    assert done.status_code == 200, done.text
    assert done.json()["after"] == {"cc": [["manager@remax-executive.example"]]}
    audit = httpx.get(f"{live.base}/v1/admin/audit", headers=live.auth("support")).json()
    last = audit[-1]
    assert last["action"].startswith("policy charlotteproperty rule random-offers cc set")
    assert last["detail"]["reason"] == "copies" and last["actor"].startswith("admin token ")
    assert last["detail"]["cc"] == ["manager@remax-executive.example"]
    missing = put(live, "/v1/admin/policies/charlotteproperty/rules/nope/cc",
                  {"cc": [], "reason": "x"})
    assert missing.status_code == 404, missing.text
    quiet = put(live, "/v1/admin/policies/charlotteproperty/rules/existing-owner/cc",
                {"cc": ["x@example.com"], "reason": "x"})
    assert quiet.status_code == 409 and "sends no notification" in quiet.json()["detail"]
    blank = put(live, path, {"cc": [""], "reason": "x"})
    assert blank.status_code == 422 and problem_fields(blank) == ["body.cc.0"]
    cleared = put(live, path, {"cc": [], "reason": "no copies"})
    assert cleared.json()["after"] == {"cc": [[]]}


def test_a_contact_transfer_moves_the_next_lead_and_is_explained(live: Live) -> None:
    first = submit(live, lead("transfer-me@example.com"))
    offer = first["offers"][0]  # type: ignore[index]
    agent = offer["agents"][0]
    accepted = httpx.post(f"{live.base}/v1/offers/{offer['id']}/accept",
                          headers=live.auth(agent))
    assert accepted.status_code == 200, accepted.text
    other = next(a for a in ("a-blake-kim", "a-parker-bell") if a != agent)
    body = {"from_agent": agent, "to_agent": other, "contact": "Transfer-Me@example.com",
            "reason": "agent left"}
    moved = httpx.post(f"{live.base}/v1/admin/contacts/transfer", json=body,
                       headers=live.auth("admin"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["after"]["moved"] == [
        {"contact": "email:transfer-me@example.com", "scope": "global"}]
    assert moved.json()["conflict_leads"] == []  # nobody had entered the contact by hand
    again = submit(live, lead("transfer-me@example.com"))
    assert (again["status"], again["assignee"]) == ("assigned", other)
    text = explain(live, str(first["id"]))
    assert (f"the consumer's contact was transferred from {agent} to {other} "
            "(why: agent left)") in text
    explained = json.loads(subprocess.run(
        [sys.executable, "-m", "rulekit", "explain", str(first["id"]), "--db", live.db,
         "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=True).stdout)
    assert explained["changes"][-1]["action"] == "contacts_transferred"
    bad = httpx.post(f"{live.base}/v1/admin/contacts/transfer",
                     json={**body, "from_agent": "ghost", "to_agent": "ghost"},
                     headers=live.auth("admin"))
    assert bad.status_code == 422
    assert problem_fields(bad) == ["body.from_agent", "body.to_agent", "body.to_agent"]
    nobody = httpx.post(f"{live.base}/v1/admin/contacts/transfer",
                        json={**body, "contact": "no contact at all"},
                        headers=live.auth("admin"))
    assert nobody.status_code == 422 and problem_fields(nobody) == ["body.contact"]


def test_only_the_concierge_sets_a_lead_status(live: Live) -> None:
    first = submit(live, lead("status@example.com"))
    path = f"/v1/leads/{first['id']}/status"
    body = {"status": "inactive", "reason": "bought elsewhere"}
    for who in ("admin", "support", "integrator", "a-blake-kim"):
        assert put(live, path, body, who=who).status_code == 403, who
    done = put(live, path, body, who="concierge")
    assert done.status_code == 200, done.text
    assert done.json()["before"] == {"lead_status": "active"}
    listed = httpx.get(f"{live.base}/v1/leads", params={"lead_status": "inactive"},
                       headers=live.auth("support")).json()["items"]
    assert [item["id"] for item in listed] == [first["id"]]
    wrong = put(live, path, {"status": "sleeping", "reason": "x"}, who="concierge")
    assert wrong.status_code == 422 and problem_fields(wrong) == ["body.status"]
    assert put(live, "/v1/leads/none/status", body, who="concierge").status_code == 404
    read = httpx.get(f"{live.base}/v1/leads/{first['id']}", headers=live.auth("support"))
    assert ("the consumer's lead status was set from active to inactive "
            "(why: bought elsewhere)") in read.json()["explanation"]
