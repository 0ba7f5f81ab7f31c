"""Two ``rulekit serve`` processes on one PostgreSQL behave as one system: 8 concurrent
clients submit 2,000 leads (and repeat 30% of their submissions) across both, then race to
accept broadcast offers — 2,000 leads, one offer each, exactly one winner per lead."""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from live_server import LEADSTREET, load, serving, tokens
from storage.storage_helpers import fresh_schema

from rulekit.storage.url import open_store

pytestmark = pytest.mark.slow

BLAST = """\
rulekit: 1
policy: blast
description: Every agent is offered the lead at once; the fastest to accept gets it.
applies_to:
  sources: [blast]
pools:
  everyone:
    of: agents
    exclude: [paused]
rules:
  - name: last-chance
    steps:
      - broadcast:
          pool: everyone
          own: global
          notify: {template: last-chance, to: [offered]}
    then: continue
  - name: nobody
    steps:
      - queue: {name: unclaimed, reason: nobody could be offered the lead}
"""

LEADS, REPEATS, RACED, CLIENTS = 2000, 860, 200, 8
RACERS = ("a-avery-jones", "a-blake-kim", "a-casey-diaz", "a-devon-reed")


def body(i: int) -> dict[str, object]:
    return {"id": f"P-{i}", "received_at": "2026-12-02T15:00:00+00:00", "source": "blast",
            "contact": {"email": f"p{i}@example.com"}}


def test_two_servers_on_one_postgresql(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "blast.yaml").write_text(BLAST, encoding="utf-8")
    shutil.copy(LEADSTREET / "world.yaml", folder / "world.yaml")
    with fresh_schema(os.environ["RULEKIT_TEST_POSTGRES_DSN"], "serve2") as db:
        load(db, folder)
        secrets = tokens(db, {"web": ("integrator", None, ("blast",))}
                         | {a: ("agent", a, ()) for a in RACERS})
        with serving(db, log=tmp_path / "a.log") as a, serving(db, log=tmp_path / "b.log") as b:
            bases = (a, b)
            submissions = list(range(LEADS)) + random.Random(7).choices(range(LEADS),
                                                                      k=REPEATS)
            random.Random(8).shuffle(submissions)
            web = {"Authorization": f"Bearer {secrets['web']}"}

            def submit(n: int) -> tuple[int, int]:
                i = submissions[n]
                with httpx.Client(timeout=60) as client:
                    r = client.post(f"{bases[n % 2]}/v1/leads", json=body(i), headers=web)
                return i, r.status_code

            with ThreadPoolExecutor(CLIENTS) as pool:
                answers = list(pool.map(submit, range(len(submissions))))
            codes = Counter(code for _, code in answers)
            assert set(codes) <= {200, 201}, codes
            assert codes[201] == LEADS  # each lead created once, whichever server got it
            assert codes[200] == REPEATS

            def race(job: tuple[int, str]) -> tuple[int, str, int]:
                i, agent = job
                with httpx.Client(timeout=60) as client:
                    r = client.post(f"{bases[hash(agent) % 2]}/v1/offers/P-{i}:o1/accept",
                                    headers={"Authorization": f"Bearer {secrets[agent]}"})
                return i, agent, r.status_code

            jobs = [(i, agent) for i in range(RACED) for agent in RACERS]
            with ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(race, jobs))
        winners: dict[int, list[str]] = {}
        for i, agent, code in results:
            assert code in (200, 409), (i, agent, code)
            if code == 200:
                winners.setdefault(i, []).append(agent)
        assert sorted(winners) == list(range(RACED))
        assert all(len(w) == 1 for w in winners.values()), winners
        store = open_store(db)
        try:
            ids = list(store.lead_ids())
            assert len(ids) == len(set(ids)) == LEADS
            offers = store.offers()
            per_lead = Counter(o.lead_id for o in offers)
            assert len(per_lead) == LEADS and set(per_lead.values()) == {1}
            for i in range(RACED):
                state = store.get_state(f"P-{i}")
                assert state is not None and state.assignee == winners[i][0]
        finally:
            store.close()  # type: ignore[attr-defined]
