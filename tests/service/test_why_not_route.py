"""``GET /v1/leads/{id}/agents/{agent}`` over real HTTP: "why not me?" for one agent, with
the lead's read permissions."""

from __future__ import annotations

import re

import httpx
from live_server import AGENTS, Live


def _lead(live: Live, lead_id: str) -> dict[str, object]:
    made = httpx.post(f"{live.base}/v1/leads", headers=live.auth("integrator"), json={
        "id": lead_id, "received_at": "2026-12-02T15:00:00+00:00",
        "source": "charlotteproperty.com", "contact": {"email": f"{lead_id}@example.com"}})
    assert made.status_code == 201, made.text
    body: dict[str, object] = made.json()
    return body


def test_why_not_says_where_each_agent_dropped_out(live: Live) -> None:
    made = _lead(live, "WHY-1")
    offers = made["offers"]
    assert isinstance(offers, list)
    offered = offers[0]["agents"][0]
    url = f"{live.base}/v1/leads/WHY-1/agents"
    paused = httpx.get(f"{url}/a-finley-ortiz", headers=live.auth("support"))
    assert paused.status_code == 200, paused.text
    body = paused.json()
    assert body["verdict"] == "excluded"
    assert body["moments"][0]["reason"] == "paused"
    assert body["summary"] == ("Finley Ortiz (a-finley-ortiz) was a candidate of pool "
                               "'all-agents' but was left out: paused.")
    assert body["lines"][0] == "Why not Finley Ortiz (a-finley-ortiz) for lead WHY-1?"
    # decided now, shown in the brokerage's zone
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T — Finley", body["lines"][2])
    mine = httpx.get(f"{url}/{offered}", headers=live.auth(offered))
    assert mine.status_code == 200, mine.text
    assert mine.json()["verdict"] == "offer_open"
    other = next(a for a in AGENTS if a not in (offered, "a-finley-ortiz"))
    lost = httpx.get(f"{url}/{other}", headers=live.auth("admin")).json()
    assert lost["verdict"] == "passed_over"
    assert lost["moments"][0]["reason"] == "random"
    assert lost["moments"][0]["detail"]["chosen"] == offered


def test_unknown_agent_is_a_404_and_readers_of_the_lead_only(live: Live) -> None:
    made = _lead(live, "WHY-2")
    offers = made["offers"]
    assert isinstance(offers, list)
    offered = offers[0]["agents"][0]
    url = f"{live.base}/v1/leads/WHY-2/agents"
    unknown = httpx.get(f"{url}/x-unknown-person", headers=live.auth("support"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["detail"] == "no agent 'x-unknown-person' in world 'charlotte'"
    stranger = next(a for a in AGENTS if a != offered)
    refused = httpx.get(f"{url}/{stranger}", headers=live.auth(stranger))
    assert refused.status_code == 403  # the lead is not theirs to read
    assert httpx.get(f"{url}/{offered}").status_code == 401
    missing = httpx.get(f"{live.base}/v1/leads/NO-SUCH/agents/{offered}",
                        headers=live.auth("support"))
    assert missing.status_code == 404
