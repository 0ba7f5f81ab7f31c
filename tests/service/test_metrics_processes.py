"""``rulekit serve --workers 2``: whichever process answers a scrape, ``/metrics`` counts the
leads every process received, and the folder the processes shared is removed at the end."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import httpx
from live_server import load, serving, tokens


def received(text: str, outcome: str) -> float:
    total = 0.0
    for line in text.splitlines():
        match = re.match(r'rulekit_leads_received_total\{(.*)\} (\S+)$', line)
        if match and f'outcome="{outcome}"' in match.group(1):
            total += float(match.group(2))
    return total


def test_two_processes_report_one_sum(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/metrics.db"
    load(db)
    secret = tokens(db, {"i": ("integrator", None, ("charlotteproperty.com",))})["i"]
    before = set(Path(tempfile.gettempdir()).glob("rulekit-metrics-*"))
    with serving(db, "--workers", "2", "--no-worker") as base:
        during = set(Path(tempfile.gettempdir()).glob("rulekit-metrics-*")) - before
        assert len(during) == 1
        headers = {"Authorization": f"Bearer {secret}"}
        for n in range(30):  # new connections, so both processes take some
            body = {"id": f"M-{n}", "received_at": "2026-12-02T15:00:00+00:00",
                    "source": "charlotteproperty.com",
                    "contact": {"email": f"m{n}@example.com"}}
            with httpx.Client() as client:
                assert client.post(f"{base}/v1/leads", json=body,
                                   headers=headers).status_code == 201
        pids = set()
        for _ in range(10):
            with httpx.Client() as client:
                text = client.get(f"{base}/metrics").text
            assert received(text, "decided") == 30
            assert "rulekit_leads 30.0" in text
            pids.update(p.name for p in next(iter(during)).glob("*.db"))
        assert len(pids) >= 2  # each process wrote its own counts
    assert not during & set(Path(tempfile.gettempdir()).glob("rulekit-metrics-*"))
