"""A lead through ``rulekit serve`` with a real SMTP server: the offered agent receives the
pending-lead email and POSTs its accept link, gets the lead; the Last Chance email has the
seed's subject exactly, and a slower agent's link says someone was faster."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from mail_server import MailServer

from rulekit.access import create_token
from rulekit.notify.links import read
from rulekit.service import process
from rulekit.storage.url import open_store

ROOT = Path(__file__).resolve().parents[2]
LEADSTREET = ROOT / "rules" / "leadstreet"
PUBLIC = "https://leads.remax-executive.example"  # the base URL the links are made with
KEY = "e2e-signing-key"
LAST_CHANCE = "LeadStreet Pending Lead – Last Chance Offer"


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def link(message: EmailMessage, action: str) -> str:
    """The path of the link labelled ``action`` (accept/decline) in the email."""
    found = re.findall(re.escape(PUBLIC) + r"/links/(\S+)", text_of(message))
    for token in dict.fromkeys(found):
        if read(KEY, token)["x"] == action:
            return f"/links/{token}"
    raise AssertionError(f"no {action} link in {found}")


def wait(server: MailServer, count: int) -> list[EmailMessage]:
    return [r.message for r in server.wait_for(count, timeout=20)]


@pytest.fixture
def live(tmp_path: Path, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path}/e2e.db"
    subprocess.run([sys.executable, "-m", "rulekit", "load", "--db", db, "--rules",
                    str(LEADSTREET), "--world", str(LEADSTREET / "world.yaml"), "--by", "t"],
                   check=True, capture_output=True, cwd=ROOT)
    store = open_store(db)
    _, secret = create_token(store, "integrator", sources=("charlotteproperty.com",),
                             label="site", by="tests", now=datetime.now(UTC))
    store.close()
    monkeypatch.setenv("RULEKIT_SMTP_URL", mail_server.url())
    monkeypatch.setenv("RULEKIT_MAIL_FROM", "leads@remax-executive.example")
    monkeypatch.setenv("RULEKIT_BASE_URL", PUBLIC)
    with process.serving(db, cwd=ROOT, log=tmp_path / "serve.log", signing_key=KEY) as base:
        yield base, {"Authorization": f"Bearer {secret}"}, db


def test_the_offered_agent_accepts_from_the_email(live, mail_server: MailServer) -> None:  # type: ignore[no-untyped-def]
    base, auth, _ = live
    body = {"id": "E-1", "received_at": "2026-12-02T15:00:00+00:00",
            "source": "charlotteproperty.com",
            "contact": {"email": "pat@example.com", "name": "Pat Buyer"}}
    decided = httpx.post(f"{base}/v1/leads", json=body, headers=auth).json()
    agent = decided["offers"][0]["agents"][0]
    (email,) = wait(mail_server, 1)
    assert email["Subject"] == "LeadStreet Pending Lead"
    assert "Pat Buyer" in text_of(email)
    page = httpx.post(f"{base}{link(email, 'accept')}")
    assert page.status_code == 200 and "The lead is yours." in page.text
    state = httpx.get(f"{base}/v1/leads/E-1", headers=auth).json()
    assert (state["status"], state["assignee"]) == ("assigned", agent)
    again = httpx.post(f"{base}{link(email, 'decline')}")  # too late to decline
    assert "The lead is yours." in again.text and "Nothing was changed." in again.text
    assert httpx.get(f"{base}/v1/leads/E-1", headers=auth).json()["assignee"] == agent


def test_last_chance_subject_and_the_slower_agent(live, mail_server: MailServer) -> None:  # type: ignore[no-untyped-def]
    base, auth, db = live
    body = {"id": "E-2", "received_at": "2026-12-02T15:00:00+00:00",
            "source": "charlotteproperty.com", "contact": {"email": "sam@example.com"}}
    httpx.post(f"{base}/v1/leads", json=body, headers=auth).raise_for_status()
    # three offers declined in turn make it a Last Chance offer to every agent
    for round_ in range(3):
        messages = wait(mail_server, round_ + 1)
        declined = httpx.post(f"{base}{link(messages[-1], 'decline')}")
        assert declined.status_code == 200, declined.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        blasts = [r.message for r in mail_server.received if r.message["Subject"] == LAST_CHANCE]
        if len(blasts) >= 2:
            break
        time.sleep(0.1)
    assert len(blasts) >= 2, [r.message["Subject"] for r in mail_server.received]
    first, second = blasts[:2]
    won = httpx.post(f"{base}{link(first, 'accept')}")
    assert won.status_code == 200 and "The lead is yours." in won.text
    late = httpx.post(f"{base}{link(second, 'accept')}")
    assert late.status_code == 409
    assert "Another agent was faster" in late.text
    listed = subprocess.run([sys.executable, "-m", "rulekit", "outbox", "--db", db],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    assert " dead" not in listed.stdout.split("\n", 1)[1]
