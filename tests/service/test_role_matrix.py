"""Every route × every role against the live server: the matrix docs/service.md prints."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest
from live_server import Live

from rulekit.access import ROLES
from rulekit.service.app import openapi_document, render_matrix, role_matrix

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "service.md"
OPENAPI = ROOT / "schemas" / "openapi.json"


def test_docs_print_the_matrix_the_routes_declare() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert render_matrix() in text, "regenerate the table with render_matrix()"


def test_the_committed_openapi_document_is_the_services() -> None:
    current = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("RULEKIT_UPDATE_OPENAPI"):
        OPENAPI.write_text(current, encoding="utf-8")
    assert OPENAPI.read_text(encoding="utf-8") == current, \
        "run with RULEKIT_UPDATE_OPENAPI=1 to update schemas/openapi.json"


def _path(path: str, offer: str, lead: str) -> str:
    return (path.replace("{lead_id}", lead).replace("{offer_id}", offer)
            .replace("{pool}", "all-agents").replace("{agent}", "a-nobody")
            .replace("{token}", "not-a-link"))


ROUTES = [(m, p, r) for m, p, r in role_matrix() if m != "HEAD"]


@pytest.mark.parametrize(("method", "path", "roles"), ROUTES,
                         ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_role_on_every_route(live: Live, method: str, path: str,
                                   roles: tuple[str, ...] | None) -> None:
    key = re.sub(r"\W+", "-", f"{method}{path}")
    made = httpx.post(f"{live.base}/v1/leads", headers=live.auth("integrator"), json={
        "id": f"M{key}", "received_at": "2026-12-02T15:00:00+00:00",
        "source": "charlotteproperty.com", "contact": {"email": f"m{key}@example.com"}}).json()
    url = live.base + _path(path, made["offers"][0]["id"], made["id"])
    offered = made["offers"][0]["agents"][0]
    who = {role: role for role in ROLES if role != "agent"} | {"agent": offered}
    anonymous = httpx.request(method, url, json={})
    if roles is None:
        assert anonymous.status_code not in (401, 403)
        return
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    bad = httpx.request(method, url, json={}, headers={"Authorization": "Bearer rk_x_y"})
    assert bad.status_code == 401
    for role in ROLES:
        answer = httpx.request(method, url, json={}, headers=live.auth(who[role]))
        refused = answer.status_code == 403 and re.match(
            rf"the {role} role may not", answer.json().get("detail", ""))
        assert bool(refused) == (role not in roles), (role, answer.status_code, answer.text)
        assert answer.status_code < 500, answer.text
