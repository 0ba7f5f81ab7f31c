"""The delivery loop against a real SMTP server: each offered agent gets the pending-lead email
with working links, in the brokerage's zone; copies carry no link; a server that is down, then
back, gets every message once per message id; a permanent refusal is dead and can be retried;
a process killed mid-batch loses nothing."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mail_server import MailServer

from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.notify.dispatch import DeliveryConfig, Dispatcher, backoff, following_dispatcher
from rulekit.notify.links import read
from rulekit.storage.base import DEAD, PENDING, SENT
from rulekit.storage.catalog import active, load_files
from rulekit.storage.sqlite import SQLiteStore
from rulekit.world import brokerage_zone

ROOT = Path(__file__).resolve().parents[2]
LEADSTREET = ROOT / "rules" / "leadstreet"
KEY = "test-signing-key"
# now: a worker process started by a test fires the timers due by the wall clock
T0 = datetime.now(UTC).replace(microsecond=0)


def loaded(path: Path) -> Any:
    store = SQLiteStore(path)
    assert load_files(store, LEADSTREET, LEADSTREET / "world.yaml", by="tests").ok
    return store


def engine_of(store: Any, now: datetime = T0) -> Engine:
    current = active(store)
    assert current.ruleset is not None and current.world is not None
    return Engine(current.ruleset, current.world, store, clock=ManualClock(now))


def lead(n: int, email: str | None = None) -> Lead:
    return Lead(id=f"N-{n}", received_at=T0, source="charlotteproperty.com",
                contact={"email": email or f"consumer{n}@example.com", "name": f"Pat {n}"})


def config(server: MailServer, **extra: Any) -> DeliveryConfig:
    values: dict[str, Any] = {"smtp_url": server.url(), "sender": "leads@remax-executive.example",
                              "base_url": "http://127.0.0.1:9", "signing_key": KEY,
                              "first_retry": 0.05, "max_retry": 0.2, "timeout": 2}
    values.update(extra)
    return DeliveryConfig(**values)


def dispatcher(store: Any, cfg: DeliveryConfig, name: str = "d1") -> Dispatcher:
    return following_dispatcher(store, cfg, name=name, refresh=0.0, rng=random.Random(7))


def drain(d: Dispatcher, rounds: int = 50) -> None:
    for _ in range(rounds):
        d.run_once()
        if not d.store.deliveries(PENDING) and not d.store.outbox(unsent_only=True):
            return
        time.sleep(0.05)


def test_the_offered_agent_gets_the_pending_lead_email(tmp_path: Path,
                                                        mail_server: MailServer) -> None:
    store = loaded(tmp_path / "d.db")
    state = engine_of(store).submit(lead(1))
    assert state.pending is not None
    (agent,) = state.pending.agents
    d = dispatcher(store, config(mail_server))
    drain(d)
    (got,) = mail_server.wait_for(1)
    world = active(store).world
    assert world is not None
    address = world.agents[agent].email
    assert list(got.rcpt_tos) == [address]
    message = got.message
    assert message["Subject"] == "LeadStreet Pending Lead"
    assert message["Message-ID"] == "<rk-1-1@rulekit>"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    # the deadline (2 business hours) in the brokerage's zone
    current = active(store)
    assert current.ruleset is not None
    zone = brokerage_zone(current.world, current.ruleset)
    deadline = state.pending.deadline
    assert deadline is not None
    local = deadline.astimezone(zone)
    assert local.strftime("%-I:%M %p") in text and local.tzname() in text
    links = re.findall(r"http://127\.0\.0\.1:9/links/(\S+)", text)
    actions = sorted(read(KEY, token)["x"] for token in set(links))
    assert actions == ["accept", "decline"]
    assert {read(KEY, token)["a"] for token in links} == {agent}
    (delivery,) = store.deliveries()
    assert (delivery.status, delivery.attempts) == (SENT, 0)


def test_copies_carry_no_link(tmp_path: Path, mail_server: MailServer) -> None:
    store = loaded(tmp_path / "d.db")
    # manual entry of a consumer another agent owns: the owner and the entering agent are
    # told, the lead desk gets a copy
    engine = engine_of(store)
    first = engine.submit(Lead(id="M-1", received_at=T0, source="agent-site", entry="manual",
                               entered_by="a-avery-jones",
                               contact={"email": "shared@example.com"}))
    assert first.assignee == "a-avery-jones"
    engine.submit(Lead(id="M-2", received_at=T0, source="agent-site", entry="manual",
                       entered_by="a-blake-kim", contact={"email": "shared@example.com"}))
    drain(dispatcher(store, config(mail_server)))
    copies = [r for r in mail_server.received
              if list(r.rcpt_tos) == ["lead-desk@remax-executive.example"]]
    assert copies, [r.rcpt_tos for r in mail_server.received]
    for copy in copies:
        text = copy.message.get_body(("plain",))
        assert text is not None and "/links/" not in text.get_content()
        html = copy.message.get_body(("html",))
        assert html is None or "/links/" not in html.get_content()


def test_smtp_down_then_back_delivers_each_message_once(tmp_path: Path,
                                                        mail_server: MailServer) -> None:
    store = loaded(tmp_path / "d.db")
    engine = engine_of(store)
    for n in range(10):
        engine.submit(lead(n))
    mail_server.stop()
    d = dispatcher(store, config(mail_server))
    for _ in range(3):  # the server is down: every attempt fails, is retried later
        d.run_once()
        time.sleep(0.06)
    waiting = store.deliveries(PENDING)
    assert len(waiting) == 10 and all(w.attempts >= 1 for w in waiting)
    assert all("refused" in (w.last_error or "").lower() or w.last_error for w in waiting)
    mail_server.start()
    drain(d)
    received = mail_server.wait_for(10)
    ids = [r.message["Message-ID"] for r in received]
    assert len(set(ids)) == 10
    assert [x.status for x in store.deliveries()] == [SENT] * 10


def test_a_permanent_refusal_is_dead_and_can_be_retried(tmp_path: Path,
                                                        mail_server: MailServer) -> None:
    store = loaded(tmp_path / "d.db")
    engine_of(store).submit(lead(1))
    mail_server.refuse(550)
    d = dispatcher(store, config(mail_server))
    drain(d)
    (dead,) = store.deliveries(DEAD)
    assert "550" in (dead.last_error or "")
    db = f"sqlite:///{tmp_path}/d.db"
    listed = subprocess.run([sys.executable, "-m", "rulekit", "outbox", "--db", db,
                             "--status", "dead"], capture_output=True, text=True, check=True)
    assert "1 deliveries: 0 pending, 0 sent, 1 dead" in listed.stdout
    assert "rk-1-1" in listed.stdout and "550" in listed.stdout
    mail_server.accept()
    again = subprocess.run([sys.executable, "-m", "rulekit", "outbox", "retry",
                            str(dead.delivery_id), "--db", db], capture_output=True,
                           text=True, check=False)
    assert again.returncode == 0, again.stderr
    drain(d)
    assert mail_server.wait_for(1)[0].message["Message-ID"] == "<rk-1-1@rulekit>"
    assert store.deliveries(SENT)[0].delivery_id == dead.delivery_id


def test_attempts_are_bounded() -> None:
    rng = random.Random(1)
    delays = [backoff(n, 30, 3600, rng) for n in range(1, 12)]
    assert 15 <= delays[0] <= 30
    assert max(delays) <= 3600 and delays[-1] >= 1800


def test_kill_9_mid_batch_loses_no_message(tmp_path: Path) -> None:
    with MailServer() as server:
        store = loaded(tmp_path / "d.db")
        engine = engine_of(store)
        for n in range(40):
            engine.submit(lead(n))
        db = f"sqlite:///{tmp_path}/d.db"
        env = {**os.environ, "RULEKIT_SMTP_URL": server.url(), "RULEKIT_MAIL_FROM":
               "leads@remax-executive.example", "RULEKIT_SIGNING_KEY": KEY,
               "RULEKIT_BASE_URL": "http://127.0.0.1:9"}
        proc = subprocess.Popen([sys.executable, "-m", "rulekit", "worker", "--db", db,
                                 "--poll", "0.1", "--lease", "2", "--quiet"], env=env)
        deadline = time.monotonic() + 30
        while len(server.received) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if len(server.received) >= 40:
            pytest.skip("the batch ended before the kill")
        d = dispatcher(store, config(server, lease=2), name="d-after")
        end = time.monotonic() + 30
        while (store.deliveries(PENDING) or store.outbox(unsent_only=True)) \
                and time.monotonic() < end:
            d.run_once()
            time.sleep(0.2)
        ids = {r.message["Message-ID"] for r in server.received}
        assert len(ids) == 40  # every message arrived; duplicates share their id
        assert len(store.deliveries(SENT)) == 40


def test_an_agent_webhook_gets_a_signed_post_retried_with_the_same_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import yaml
    from webhook_receiver import WebhookReceiver

    folder = tmp_path / "rules"
    shutil.copytree(LEADSTREET, folder)
    with WebhookReceiver(secret="hook-secret") as receiver:
        world = yaml.safe_load((folder / "world.yaml").read_text(encoding="utf-8"))
        for agent in world["agents"]:
            agent["webhook"] = receiver.url()
            agent["webhook_secret_env"] = "E2E_HOOK_SECRET"
        (folder / "world.yaml").write_text(yaml.safe_dump(world), encoding="utf-8")
        monkeypatch.setenv("E2E_HOOK_SECRET", "hook-secret")
        store = SQLiteStore(tmp_path / "w.db")
        assert load_files(store, folder, folder / "world.yaml", by="tests").ok
        state = engine_of(store).submit(lead(1))
        assert state.pending is not None
        receiver.respond(500, times=1)  # the first post fails: retried later, same id
        d = dispatcher(store, DeliveryConfig(base_url="http://127.0.0.1:9", signing_key=KEY,
                                             first_retry=0.05, max_retry=0.1))
        drain(d)
        channels = sorted((x.channel, x.status) for x in store.deliveries())
        assert channels == [("email", SENT), ("webhook", SENT)]  # email to the log: no SMTP
        posts = receiver.wait_for(2)
        assert all(p.verified for p in posts)
        assert {p.header("Rulekit-Webhook-Id") for p in posts} == {"rk-1-2"}
        body = posts[-1].json()
        assert (body["kind"], body["lead"], body["recipient"]) == (
            "pending-lead", "N-1", state.pending.agents[0])
        assert body["subject"] == "LeadStreet Pending Lead"
        (hook,) = [x for x in store.deliveries() if x.channel == "webhook"]
        assert hook.attempts == 1 and "500" in (hook.last_error or "")
