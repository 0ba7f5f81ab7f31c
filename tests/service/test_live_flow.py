"""The live system as its users drive it, over real HTTP: intake, an agent's answer, another
agent refused, the explanation, an admin pausing an agent."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from live_server import AGENTS, LEADSTREET, Live, load, tokens
from storage.storage_helpers import fresh_schema

from rulekit.access import VerifiedTokens, create_token, revoke
from rulekit.service import ServiceConfig, create_app
from rulekit.storage.catalog import load_files
from rulekit.storage.memory import MemoryStore
from rulekit.storage.url import open_store

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
    assert any(e["action"].startswith(f"agent {paused} paused")
               and e["detail"]["reason"] == "on vacation" and e["actor"].startswith("admin token")
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


# -- the answer to an intake is what a read of the lead shows ------------------------------------
def shapes(tag: str) -> list[dict[str, object]]:
    """Leads of each LeadStreet policy: offered, assigned at once (listing, agent site,
    import), queued as an ownership conflict."""
    at = "2026-12-02T15:00:00+00:00"
    return [
        {"id": f"{tag}-web", "received_at": at, "source": "charlotteproperty.com",
         "contact": {"email": f"{tag}.web@example.com"}},
        {"id": f"{tag}-phone", "received_at": at, "source": "charlotteproperty.com",
         "contact": {"phone": "704-555-0142"}},
        {"id": f"{tag}-listing", "received_at": at, "source": "remax.com",
         "inquiry_type": "listing", "office": "rmx-rock-hill",
         "contact": {"email": f"{tag}.listing@example.com"},
         "property": {"listing_id": "CMLS-4021977", "city": "Charlotte", "mls": "CMLS"}},
        {"id": f"{tag}-site", "received_at": at, "source": "agent-site",
         "site_owner": "a-kai-morgan", "contact": {"email": f"{tag}.site@example.com"},
         "property": {"city": "Charlotte"}},
        {"id": f"{tag}-import", "received_at": at, "source": "rims-import", "entry": "import",
         "entered_by": "a-jordan-lee", "contact": {"email": f"{tag}.import@example.com"}},
        {"id": f"{tag}-conflict", "received_at": at, "source": "leadstreet", "entry": "manual",
         "entered_by": "a-jordan-lee", "contact": {"email": "pat.buyer@example.com"}},
    ]


def assert_answers_as_read(post: Callable[..., httpx.Response],
                           get: Callable[..., httpx.Response], tag: str) -> None:
    for body in shapes(tag):
        made = post("/v1/leads", json=body)
        assert made.status_code == 201, made.text
        answered = made.json()
        assert answered["outcome"] == "decided"
        read = get(f"/v1/leads/{body['id']}")
        assert read.status_code == 200, read.text
        assert {**answered, "outcome": None} == read.json()


def test_a_decided_lead_is_answered_as_a_read_shows_it(live: Live) -> None:
    admin = live.auth("admin")
    paused = "a-avery-jones"  # a change of the world that the explanations name
    for flag, why in ((True, "at a closing"), (False, "back")):
        change = httpx.put(f"{live.base}/v1/admin/agents/{paused}/paused",
                           json={"paused": flag, "reason": why}, headers=admin)
        assert change.status_code == 200, change.text
    assert_answers_as_read(
        lambda path, **kw: httpx.post(live.base + path, headers=admin, **kw),
        lambda path: httpx.get(live.base + path, headers=live.auth("support")), "E")


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_each_store_answers_an_intake_as_a_read_shows_it(kind: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        store: object | None = None
        if kind == "memory":
            store = MemoryStore()
            assert load_files(store, LEADSTREET, LEADSTREET / "world.yaml", by="tests").ok
            db = "memory://"
            secret = create_token(store, "admin", by="tests",  # type: ignore[arg-type]
                                  now=datetime.now(UTC))[1]
        else:
            db = (f"sqlite:///{tmp_path}/answers.db" if kind == "sqlite" else stack.enter_context(
                fresh_schema(os.environ["RULEKIT_TEST_POSTGRES_DSN"], "answers")))
            load(db)
            secret = tokens(db, {"admin": ("admin", None, ())})["admin"]
        app = create_app(ServiceConfig(db=db, worker=False), store=store)
        stack.callback(app.state.live.stop)
        loop = stack.enter_context(closing(asyncio.new_event_loop()))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                   headers={"Authorization": f"Bearer {secret}"})
        stack.callback(lambda: loop.run_until_complete(client.aclose()))
        assert_answers_as_read(
            lambda path, **kw: loop.run_until_complete(client.post(path, **kw)),
            lambda path: loop.run_until_complete(client.get(path)), kind)


# -- tokens: remembered for a moment, revocation honoured --------------------------------------
class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_token_is_remembered_for_its_ttl_only() -> None:
    store = MemoryStore()
    clock = Ticks()
    tokens_ = VerifiedTokens(store, ttl=1.5, clock=clock)
    when = datetime.now(UTC)
    token, text = create_token(store, "support", by="tests", now=when)
    assert tokens_.remembered(text) is None  # never verified yet
    assert tokens_.verify(text) == token
    assert tokens_.remembered(text) == token
    assert revoke(store, token.token_id, "tests", when)
    clock.now += 1.4
    assert tokens_.verify(text) == token  # within the ttl: from memory
    clock.now += 0.2
    assert tokens_.remembered(text) is None
    assert tokens_.verify(text) is None  # the store says revoked
    assert tokens_.verify(text) is None
    wrong = text[:-1] + ("A" if text[-1] != "A" else "B")
    assert tokens_.verify(wrong) is None and tokens_.remembered(wrong) is None
    assert tokens_.verify("not a token") is None
    newer, newer_text = create_token(store, "admin", by="tests", now=when)
    assert tokens_.verify(newer_text) == newer  # a new token works at once


def test_a_ttl_of_zero_reads_the_store_every_time() -> None:
    store = MemoryStore()
    tokens_ = VerifiedTokens(store, ttl=0)
    when = datetime.now(UTC)
    token, text = create_token(store, "support", by="tests", now=when)
    assert tokens_.verify(text) == token
    assert tokens_.remembered(text) is None
    assert revoke(store, token.token_id, "tests", when)
    assert tokens_.verify(text) is None


def test_a_revoked_token_is_refused_by_the_running_service(live: Live) -> None:
    text = tokens(live.db, {"doomed": ("support", None, ())})["doomed"]
    url = f"{live.base}/v1/admin/audit"
    headers = {"Authorization": f"Bearer {text}"}
    assert httpx.get(url, headers=headers).status_code == 200
    store = open_store(live.db)
    try:
        token_id = text.split("_")[1]
        assert revoke(store, token_id, "tests", datetime.now(UTC))
    finally:
        getattr(store, "close", lambda: None)()
    # refused within the service's token_ttl (1 s): wait for it, bounded
    deadline = time.monotonic() + 1.0 + 10.0
    while (status := httpx.get(url, headers=headers).status_code) == 200 \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status == 401
