"""The contact lifecycle over real HTTP: an accepted offer makes the consumer's contact
assigned; the owner agent shares it and deletes its own record, the concierge marks it pending
or closed and transfers it; agents cannot change a status (403) nor act on a contact they do not
own; refused transitions are problems naming the field; every action shows in the lead's
explanation and in the ``contact_status`` filter."""

from __future__ import annotations

import itertools
from urllib.parse import quote

import httpx
from live_server import AGENTS, Live, serving

_ids = itertools.count(1)


def owned(live: Live) -> tuple[str, str, str]:
    """A new lead whose offer its agent accepted: (lead id, contact key, owner)."""
    n = next(_ids)
    email = f"contact-route{n}@example.com"
    made = httpx.post(f"{live.base}/v1/leads", headers=live.auth("integrator"), json={
        "id": f"CR-{n}", "received_at": "2026-12-02T15:00:00+00:00",
        "source": "charlotteproperty.com", "contact": {"email": email}})
    assert made.status_code == 201, made.text
    offer = made.json()["offers"][0]
    agent = offer["agents"][0]
    accepted = httpx.post(f"{live.base}/v1/offers/{offer['id']}/accept",
                          headers=live.auth(agent))
    assert accepted.status_code == 200, accepted.text
    return made.json()["id"], f"email:{email}", agent


def other_than(*agents: str) -> str:
    return next(a for a in AGENTS if a not in agents)


def url(live: Live, key: str, rest: str = "") -> str:
    return f"{live.base}/v1/contacts/{quote(key)}{rest}"


def contact(live: Live, key: str, who: str = "support") -> httpx.Response:
    return httpx.get(url(live, key), headers=live.auth(who))


def test_an_accepted_offer_makes_the_contact_assigned(live: Live) -> None:
    lead_id, key, owner = owned(live)
    shown = contact(live, key)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["status"], shown.json()["owner"]) == ("assigned", owner)
    listed = httpx.get(f"{live.base}/v1/leads", params={"contact_status": "assigned"},
                       headers=live.auth("concierge"))
    assert lead_id in [item["id"] for item in listed.json()["items"]]
    assert contact(live, key, owner).status_code == 200  # the owner reads it
    assert contact(live, key, other_than(owner)).status_code == 404  # another agent does not


def test_the_owner_shares_and_the_shared_agent_reads_it(live: Live) -> None:
    lead_id, key, owner = owned(live)
    friend = other_than(owner)
    shared = httpx.post(url(live, key, "/share"), headers=live.auth(owner),
                        json={"agent": friend, "reason": "co-listing"})
    assert shared.status_code == 200, shared.text
    assert (shared.json()["before"]["status"], shared.json()["after"]["status"],
            shared.json()["after"]["shared_with"]) == ("assigned", "shared", [friend])
    assert contact(live, key, friend).status_code == 200
    # the shared agent reads the contact's leads too (the documented default)
    lead = httpx.get(f"{live.base}/v1/leads/{lead_id}", headers=live.auth(friend))
    assert lead.status_code == 200, lead.text
    assert "shared with " + friend in lead.json()["explanation"]
    again = httpx.post(url(live, key, "/share"), headers=live.auth("concierge"),
                       json={"agent": owner, "reason": "oops"})
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "body.agent"
    assert "cannot be shared with its owner" in again.json()["detail"]
    unshared = httpx.delete(url(live, key, f"/share/{friend}"), headers=live.auth(owner),
                            params={"reason": "done"})
    assert unshared.status_code == 200, unshared.text
    assert unshared.json()["after"]["status"] == "assigned"
    assert contact(live, key, friend).status_code == 404


def test_agents_cannot_change_a_status_the_concierge_can(live: Live) -> None:
    lead_id, key, owner = owned(live)
    refused = httpx.put(url(live, key, "/status"), headers=live.auth(owner),
                        json={"status": "pending", "reason": "under contract"})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("the agent role may not")
    pending = httpx.put(url(live, key, "/status"), headers=live.auth("concierge"),
                        json={"status": "pending", "reason": "under contract"})
    assert pending.status_code == 200, pending.text
    closed = httpx.put(url(live, key, "/status"), headers=live.auth("admin"),
                       json={"status": "closed", "reason": "deal closed"})
    assert closed.json()["after"]["status"] == "closed"
    bad = httpx.put(url(live, key, "/status"), headers=live.auth("concierge"),
                    json={"status": "pending", "reason": "again"})
    assert bad.status_code == 409
    assert bad.json()["errors"] == [{"field": "body.status", "type": "transition",
                                     "message": bad.json()["detail"]}]
    assert "closed contact cannot become pending" in bad.json()["detail"]
    shared = httpx.post(url(live, key, "/share"), headers=live.auth(owner),
                        json={"agent": other_than(owner), "reason": "help"})
    assert shared.status_code == 409 and "is closed" in shared.json()["detail"]
    unknown = httpx.put(url(live, key, "/status"), headers=live.auth("concierge"),
                        json={"status": "shared", "reason": "no"})
    assert unknown.status_code == 422
    listed = httpx.get(f"{live.base}/v1/leads", params={"contact_status": "closed"},
                       headers=live.auth("support"))
    assert lead_id in [item["id"] for item in listed.json()["items"]]
    explained = httpx.get(f"{live.base}/v1/leads/{lead_id}", headers=live.auth("support"))
    assert "contact status went from pending to closed (why: deal closed)" in \
        explained.json()["explanation"]


def test_transfer_and_delete_own_record(live: Live) -> None:
    _, key, owner = owned(live)
    heir = other_than(owner)
    stranger = other_than(owner, heir)
    refused = httpx.post(url(live, key, "/transfer"), headers=live.auth(stranger),
                         json={"agent": stranger, "reason": "mine"})
    assert refused.status_code == 403 and "does not own" in refused.json()["detail"]
    unknown = httpx.post(url(live, key, "/transfer"), headers=live.auth("concierge"),
                         json={"agent": "a-nobody", "reason": "who"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.agent"
    moved = httpx.post(url(live, key, "/transfer"), headers=live.auth("concierge"),
                       json={"agent": heir, "reason": "office move"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["before"]["owner"], moved.json()["after"]["owner"]) == (owner, heir)
    not_theirs = httpx.delete(url(live, key, f"/records/{heir}"), headers=live.auth(owner))
    assert not_theirs.status_code == 403 and "only its own record" in not_theirs.json()["detail"]
    no_record = httpx.delete(url(live, key, f"/records/{owner}"), headers=live.auth(owner))
    assert no_record.status_code == 422
    assert no_record.json()["errors"][0]["field"] == "path.agent"
    deleted = httpx.delete(url(live, key, f"/records/{heir}"), headers=live.auth(heir),
                           params={"reason": "not my client"})
    assert deleted.status_code == 200, deleted.text
    assert (deleted.json()["after"]["owner"], deleted.json()["after"]["status"]) == (None, None)
    missing = httpx.post(url(live, "email:nobody-at-all@example.com", "/share"),
                         headers=live.auth("admin"), json={"agent": heir, "reason": "x"})
    assert missing.status_code == 404


def test_with_shared_contacts_contact_a_shared_agent_reads_the_contact_only(
        live: Live) -> None:
    lead_id, key, owner = owned(live)
    friend = other_than(owner)
    shared = httpx.post(url(live, key, "/share"), headers=live.auth(owner),
                        json={"agent": friend, "reason": "co-listing"})
    assert shared.status_code == 200, shared.text
    with serving(live.db, "--shared-contacts", "contact", "--no-worker") as base:
        other = Live(base, live.db, live.secrets)
        assert contact(other, key, friend).status_code == 200
        lead = httpx.get(f"{base}/v1/leads/{lead_id}", headers=live.auth(friend))
        assert lead.status_code == 403, lead.text
    # the default policy, on the first server: the leads too
    assert httpx.get(f"{live.base}/v1/leads/{lead_id}",
                     headers=live.auth(friend)).status_code == 200


def test_deleting_a_conflicting_record_routes_the_waiting_lead(live: Live) -> None:
    """An agent enters by hand a consumer another agent owns: the lead waits in the conflict
    queue until the owner deletes their record; then it goes to the agent who entered it,
    and the response says so."""
    _, key, owner = owned(live)
    entering = other_than(owner)
    n = next(_ids)
    made = httpx.post(f"{live.base}/v1/leads", headers=live.auth("integrator"), json={
        "id": f"CR-{n}", "received_at": "2026-12-02T15:30:00+00:00",
        "source": "charlotteproperty.com", "entry": "manual", "entered_by": entering,
        "contact": {"email": key.removeprefix("email:")}})
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["queue"]) == ("queued", "ownership-conflicts")
    deleted = httpx.delete(url(live, key, f"/records/{owner}"), headers=live.auth(owner),
                           params={"reason": "theirs now"})
    assert deleted.status_code == 200, deleted.text
    [resolved] = deleted.json()["conflict_leads"]
    assert (resolved["lead_id"], resolved["agent"], resolved["routed"]) == (
        f"CR-{n}", entering, True)
    assert "ownership conflict resolved" in resolved["note"]
    lead = httpx.get(f"{live.base}/v1/leads/CR-{n}", headers=live.auth("support"))
    assert (lead.json()["status"], lead.json()["assignee"]) == ("assigned", entering)
    assert "reassigned the lead to" in lead.json()["explanation"]
