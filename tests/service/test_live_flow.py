"""The live system as its users drive it, over real HTTP: intake, an agent's answer, another
agent refused, the explanation, an admin pausing an agent."""

from __future__ import annotations

import itertools

import httpx
from live_server import AGENTS, Live

_ids = itertools.count(1)


def lead(**extra: object) -> dict[str, object]:
    n = next(_ids)
    return {"id": f"F-{n}", "received_at": "2026-12-02T15:00:00+00:00",
            "source": "charlotteproperty.com",
            "contact": {"email": f"buyer{n}@example.com"}, **extra}


def submit(live: Live, body: dict[str, object]) -> httpx.Response:
    return httpx.post(f"{live.base}/v1/leads", json=body, headers=live.auth("integrator"))


def test_intake_is_idempotent_by_id_and_refuses_another_body(live: Live) -> None:
    body = lead()
    first = submit(live, body)
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "decided"
    again = submit(live, body)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["offers"] == first.json()["offers"]
    other = submit(live, {**body, "inquiry_type": "showing"})
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert "different body" in other.json()["detail"]


def test_bad_input_names_the_field_and_is_never_a_server_error(live: Live) -> None:
    bad = submit(live, {**lead(), "received_at": "yesterday"})
    assert bad.status_code == 422
    problem = bad.json()
    assert problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == ["body.received_at"]
    not_json = httpx.post(f"{live.base}/v1/leads", content=b"{not json",
                          headers={**live.auth("integrator"),
                                   "content-type": "application/json"})
    assert not_json.status_code == 422
    too_big = httpx.post(f"{live.base}/v1/leads", content=b"x" * 300_000,
                         headers=live.auth("integrator"))
    assert too_big.status_code == 413
    assert too_big.json()["title"] == "Request body too large"


def test_an_integrator_submits_only_for_its_sources(live: Live) -> None:
    refused = submit(live, lead(source="remax.com"))
    assert refused.status_code == 403
    assert "charlotteproperty.com" in refused.json()["detail"]


def test_the_offered_agent_accepts_and_another_is_refused(live: Live) -> None:
    made = submit(live, lead()).json()
    offer = made["offers"][0]
    offered = offer["agents"][0]
    other = next(a for a in AGENTS if a != offered)
    refused = httpx.post(f"{live.base}/v1/offers/{offer['id']}/accept",
                         headers=live.auth(other))
    assert refused.status_code == 403
    assert "not made to you" in refused.json()["detail"]
    accepted = httpx.post(f"{live.base}/v1/offers/{offer['id']}/accept",
                          headers=live.auth(offered))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["result"] == "yours"
    assert accepted.json()["lead"]["assignee"] == offered
    late = httpx.post(f"{live.base}/v1/offers/{offer['id']}/decline",
                      headers=live.auth(offered))
    assert late.status_code == 409
    read = httpx.get(f"{live.base}/v1/leads/{made['id']}", headers=live.auth("support"))
    assert read.status_code == 200
    assert "answered offer" in read.json()["explanation"]
    assert read.json()["status"] == "assigned"
    logged = httpx.post(f"{live.base}/v1/leads/{made['id']}/activity",
                        json={"activity": "call", "note": "left a voicemail"},
                        headers=live.auth(offered))
    assert logged.status_code == 200, logged.text
    assert "logged a call with the consumer: left a voicemail" in logged.json()["explanation"]
    stranger = httpx.post(f"{live.base}/v1/leads/{made['id']}/activity",
                          json={"activity": "call"}, headers=live.auth(other))
    assert stranger.status_code == 403


def test_a_paused_agent_is_skipped_by_the_next_leads(live: Live) -> None:
    first = submit(live, lead()).json()
    paused = first["offers"][0]["agents"][0]
    change = httpx.put(f"{live.base}/v1/admin/agents/{paused}/paused",
                       json={"paused": True, "reason": "on vacation"},
                       headers=live.auth("admin"))
    assert change.status_code == 200, change.text
    assert change.json()["before"] == {"paused": False}
    offered = set()
    for _ in range(12):
        offered.update(submit(live, lead()).json()["offers"][0]["agents"])
    assert paused not in offered
    assert len(offered) > 1
    audit = httpx.get(f"{live.base}/v1/admin/audit", headers=live.auth("support")).json()
    assert any(e["action"].startswith(f"agent {paused} paused") and "on vacation" in e["actor"]
               for e in audit)
    back = httpx.put(f"{live.base}/v1/admin/agents/{paused}/paused",
                     json={"paused": False, "reason": "back"}, headers=live.auth("admin"))
    assert back.status_code == 200


def test_signed_links_confirm_on_get_and_act_only_on_post(live: Live) -> None:
    made = submit(live, lead()).json()
    offer = made["offers"][0]
    agent = offer["agents"][0]
    links = httpx.get(f"{live.base}/links/offers/{offer['id']}", headers=live.auth(agent))
    assert links.status_code == 200, links.text
    accept = links.json()["accept"]
    page = httpx.get(accept)
    assert page.status_code == 200
    assert "Accept this lead?" in page.text
    still = httpx.get(f"{live.base}/v1/offers/{offer['id']}", headers=live.auth(agent))
    assert still.json()["status"] == "open"  # a prefetch changes nothing
    done = httpx.post(accept)
    assert done.status_code == 200
    assert "The lead is yours." in done.text
    again = httpx.post(accept)
    assert "The lead is yours." in again.text
    forged = httpx.get(accept[:-3] + "abc")
    assert forged.status_code == 404


def test_health_readiness_and_metrics(live: Live) -> None:
    assert httpx.get(f"{live.base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{live.base}/readyz").json()["status"] == "ready"
    submit(live, lead())
    text = httpx.get(f"{live.base}/metrics").text
    assert 'rulekit_leads_received_total{outcome="decided",source="charlotteproperty.com"}' \
        in text
    assert "rulekit_offers_open" in text
    assert "rulekit_request_seconds_bucket" in text
