"""``/v1/reports`` over real HTTP: each report is the library's ``to_json()`` of the same
store (filled by the engine through the service: offers accepted and declined, direct
assignments, logged activity, a pool edit), read by the admin and the concierge only; a bad
target or instant is a problem naming its field; the ledger comes a bounded page at a time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import AGENTS, LEADSTREET, Live, load, serving, tokens

from rulekit.fairness import distribution
from rulekit.first_contact import first_contacts
from rulekit.ledger import ledger
from rulekit.reports import response_times
from rulekit.service.reports import LEDGER_MAX
from rulekit.storage.catalog import agent_names
from rulekit.storage.url import open_store

REMOVED = "a-harper-nguyen"
NOW = "2026-12-03T12:00:00Z"


def _listed_pool(folder: Path) -> None:
    """LeadStreet's rules with the ``all-agents`` pool listing its members (so an admin can
    edit it)."""
    shutil.copytree(LEADSTREET, folder)
    path = folder / "charlotteproperty.yaml"
    text = path.read_text(encoding="utf-8")
    members = "    members: [" + ", ".join(AGENTS) + "]\n"
    marker = "    description: Every agent of RE/MAX Executive, whatever their office.\n"
    assert marker in text
    path.write_text(text.replace(marker, marker + members, 1), encoding="utf-8")


def _post(live: Live, path: str, who: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{live.base}{path}", headers=live.auth(who), json=body)
    assert answer.status_code in (200, 201), answer.text
    found: dict[str, Any] = answer.json()
    return found


def _lead(live: Live, lead_id: str, **extra: Any) -> dict[str, Any]:
    body = {"id": lead_id, "received_at": "2026-12-02T15:00:00+00:00",
            "source": "charlotteproperty.com",
            "contact": {"email": f"{lead_id.lower()}@example.com"}, **extra}
    return _post(live, "/v1/leads", "admin", body)


def _fill(live: Live) -> None:
    """Offers (one accepted and contacted, one declined, some open), a pool edit between
    them, and two direct assignments, one of them contacted."""
    first = _lead(live, "RPT-1")["offers"][0]
    _post(live, f"/v1/offers/{first['id']}/accept", first["agents"][0], {})
    _post(live, "/v1/leads/RPT-1/activity", first["agents"][0], {"activity": "call"})
    second = _lead(live, "RPT-2")["offers"][0]
    _post(live, f"/v1/offers/{second['id']}/decline", second["agents"][0], {})
    _post(live, "/v1/admin/pools/all-agents/members/remove", "admin",
          {"member": REMOVED, "reason": "left the office"})
    for n in (3, 4, 5):
        _lead(live, f"RPT-{n}")
    for n, owner in ((1, "a-kai-morgan"), (2, "a-blake-kim")):
        made = _lead(live, f"RPT-S{n}", source="agent-site", site_owner=owner)
        assert (made["status"], made["assignee"]) == ("assigned", owner)
    _post(live, "/v1/leads/RPT-S1/activity", "a-kai-morgan", {"activity": "email"})


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("reports")
    _listed_pool(folder / "rules")
    db = f"sqlite:///{folder}/reports.db"
    load(db, folder / "rules")
    wanted: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
        "integrator": ("integrator", None, ("charlotteproperty.com",)),
        "concierge": ("concierge", None, ()), "admin": ("admin", None, ()),
        "support": ("support", None, ())}
    wanted.update({agent: ("agent", agent, ()) for agent in AGENTS})
    with serving(db, log=folder / "serve.log") as base:
        found = Live(base, db, tokens(db, wanted))
        _fill(found)
        yield found


@pytest.fixture
def store(live: Live) -> Iterator[Any]:
    opened = open_store(live.db)
    try:
        yield opened
    finally:
        getattr(opened, "close", lambda: None)()


def _get(live: Live, path: str, who: str = "admin") -> httpx.Response:
    return httpx.get(f"{live.base}/v1/reports/{path}", headers=live.auth(who), timeout=30)


def test_response_times_are_the_librarys_for_the_same_store(live: Live, store: Any) -> None:
    answer = _get(live, f"response-times?target=30m&now={NOW}", "concierge")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    instant = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert body == {**response_times(store).to_json(),
                    "first_contact": first_contacts(store, 1800, instant).to_json(),
                    "names": agent_names(store)}
    times = {a["agent"]: a for a in body["agents"]}
    assert times["a-kai-morgan"]["direct"] == 1
    assert sum(a["accepted"] for a in body["agents"]) == 1
    assert sum(a["declined"] for a in body["agents"]) == 1
    contact = body["first_contact"]
    assert contact["target_seconds"] == 1800
    outcomes = {(c["lead"], c["agent"]): c["outcome"] for c in contact["assignments"]}
    assert outcomes[("RPT-S1", "a-kai-morgan")] == "contacted"
    assert outcomes[("RPT-S2", "a-blake-kim")] == "open"
    assert {"agent": "a-blake-kim", "leads": 1} in contact["no_contact_at_all"]
    assert body["names"]["a-kai-morgan"] == "Kai Morgan"


def test_without_a_target_nothing_is_judged(live: Live, store: Any) -> None:
    body = _get(live, f"response-times?now={NOW}").json()
    instant = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert body["first_contact"] == first_contacts(store, None, instant).to_json()
    assert body["first_contact"]["target_seconds"] is None
    assert all(c["over_target"] is None for c in body["first_contact"]["assignments"])


def test_distribution_is_the_librarys_and_shows_the_pool_edit(live: Live, store: Any) -> None:
    answer = _get(live, "distribution", "concierge")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {**distribution(store).to_json(), "names": agent_names(store)}
    assert body["agents"]["a-kai-morgan"] == 1
    pools = [r for r in body["rotations"] if r["pool"] == "all-agents"]
    assert pools, body["rotations"]
    # random draws are judged over all of them at once: the member removed by the edit was
    # eligible only for the draws before it
    ((phase,),) = [r["phases"] for r in pools]
    shares = {s["name"]: s for s in phase["shares"]}
    assert 0 < shares[REMOVED]["eligible_turns"] < phase["turns"]


def test_the_ledger_pages_through_the_librarys_turns(live: Live, store: Any) -> None:
    expected = [t.to_json() for t in ledger(store)]
    assert len(expected) >= 5
    got: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = _get(live, f"ledger?limit=2&offset={offset}", "concierge")
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        got += body["items"]
        offset = body["next_offset"]
    assert got == expected
    whole = _get(live, "ledger").json()
    assert whole["items"] == expected and whole["next_offset"] is None
    assert whole["names"] == agent_names(store)
    rotation = _get(live, "ledger?pool=all-agents").json()
    assert rotation["items"] == [t for t in expected if t["pool"] == "all-agents"] != []
    assert _get(live, "ledger?pool=no-such-pool").json()["items"] == []
    past = _get(live, f"ledger?offset={len(expected)}").json()
    assert past == {**whole, "items": []}


@pytest.mark.parametrize("query", [f"limit={LEDGER_MAX + 1}", "limit=0", "offset=-1"])
def test_a_page_out_of_bounds_is_refused_naming_the_field(live: Live, query: str) -> None:
    answer = _get(live, f"ledger?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "query." + query.partition("=")[0]


@pytest.mark.parametrize(("query", "field", "says"), [
    ("target=soon", "query.target", "invalid duration 'soon'"),
    ("target=0m", "query.target", "longer than zero"),
    ("target=30", "query.target", "write it like"),
    ("now=yesterday", "query.now", "not an ISO 8601 instant"),
])
def test_a_bad_target_or_instant_is_a_problem_naming_it(live: Live, query: str, field: str,
                                                        says: str) -> None:
    answer = _get(live, f"response-times?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == field
    assert says in problem["errors"][0]["message"]
    assert problem["detail"].startswith(field + ": ")


@pytest.mark.parametrize("path", ["response-times", "distribution", "ledger"])
def test_the_admin_the_concierge_and_support_read_reports(live: Live, path: str) -> None:
    anonymous = httpx.get(f"{live.base}/v1/reports/{path}")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    for who in ("a-kai-morgan", "integrator"):
        refused = _get(live, path, who)
        assert refused.status_code == 403, (who, refused.text)
        assert refused.json()["detail"].startswith("the ")
    for who in ("admin", "concierge", "support"):
        assert _get(live, path, who).status_code == 200
