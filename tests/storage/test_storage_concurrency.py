"""Races between real processes (spawned) on one SQLite file or one PostgreSQL schema."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import Backend
from storage_helpers import T0, close, engine_for, lead, race_accept, race_submit

RACERS = 3
AGENTS = ["a1", "a2", "a3", "a4"]
LEADS = [f"R{i:02d}" for i in range(20)]


def _race(target: Any, args: list[tuple[Any, ...]]) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(args))
    workers = [ctx.Process(target=target, args=(*a, barrier)) for a in args]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * len(workers)


def test_one_winner_per_broadcast_offer(durable: Backend, rules_dir: Path) -> None:
    engine = engine_for(durable.url, rules_dir)
    store: Any = engine.store
    offer_ids = []
    for lead_id in LEADS:
        state = engine.submit(lead(lead_id, source="race.example"), T0)
        assert state.pending is not None and state.pending.agents == tuple(AGENTS)
        offer_ids.append(state.pending.offer_id)
    _race(race_accept, [(durable.url, str(rules_dir), agent, offer_ids)
                        for agent in AGENTS[:RACERS]])
    winners = Counter()
    for lead_id, offer in zip(LEADS, store.offers(), strict=True):
        assert offer.lead_id == lead_id and offer.status == "accepted"
        (assignment,) = store.assignments(lead_id)
        assert assignment.agent == offer.winner == store.get_state(lead_id).assignee
        winners[offer.winner] += 1
        # every racer's accept was decided and committed once: the winner's and the late ones
        assert len(store.traces(lead_id)) == 1 + RACERS
    assert sum(winners.values()) == len(LEADS)
    assert sum(store.facts().load(agent) for agent in AGENTS) == len(LEADS)
    close(store)


def test_the_same_leads_submitted_concurrently(durable: Backend, rules_dir: Path) -> None:
    engine_for(durable.url, rules_dir).store.close()  # the schema exists before the race
    _race(race_submit, [(durable.url, str(rules_dir), LEADS[i:] + LEADS[:i])
                        for i in range(RACERS)])
    store: Any = durable.open()
    assert sorted(store.lead_ids()) == LEADS
    offers = store.offers()
    assert sorted(o.lead_id for o in offers) == LEADS  # one broadcast each, no duplicates
    assert len(store.outbox()) == len(LEADS)
    for lead_id in LEADS:
        state = store.get_state(lead_id)
        assert state.status == "waiting" and state.pending.offer_id == store.offers(lead_id)[
            0].offer_id
        assert store.traces(lead_id)[0].event == "lead_received"
    due = store.next_timer_due()
    assert due is not None and len(store.claim_due_timers(due, "w", 30)) == len(LEADS)
