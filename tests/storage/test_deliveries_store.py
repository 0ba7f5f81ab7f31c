"""The delivery state of the outbox on memory, SQLite and PostgreSQL: planned once, leased,
retried, dead, re-queued; the offer an outbox message announces; two processes planning and
claiming at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from conftest import Backend
from storage_helpers import T0, compile_rules, lead

from rulekit.engine import Engine, ManualClock
from rulekit.storage.base import DEAD, PENDING, SENT, NewDelivery

M = timedelta(minutes=1)
PLAN = [NewDelivery("a1", "to", "email", "a1@example.com"),
        NewDelivery("boss@example.com", "cc", "email", "boss@example.com")]


def with_message(store: Any, rules_dir: Any, lead_id: str = "L1") -> Any:
    ruleset, world = compile_rules(rules_dir)
    Engine(ruleset, world, store, clock=ManualClock(T0)).submit(lead(lead_id), T0)
    (message,) = [m for m in store.outbox(unsent_only=True) if m.lead_id == lead_id]
    return message


def test_an_outbox_message_keeps_the_offer_it_announces(backend: Backend,
                                                         rules_dir: Any) -> None:
    store = backend.open()
    message = with_message(store, rules_dir)
    (offer,) = store.offers("L1")
    assert (message.offer_id, message.deadline) == (offer.offer_id, offer.deadline)
    assert offer.deadline == T0 + timedelta(hours=1)


def test_a_message_is_planned_once(backend: Backend, rules_dir: Any) -> None:
    store = backend.open()
    message = with_message(store, rules_dir)
    assert store.plan_deliveries(message.message_id, PLAN, T0)
    assert not store.plan_deliveries(message.message_id, PLAN, T0)  # handed over already
    assert store.outbox(unsent_only=True) == []
    planned = store.deliveries(outbox_id=message.message_id)
    assert [(d.recipient, d.role, d.status, d.attempts, d.due) for d in planned] == [
        ("a1", "to", PENDING, 0, T0), ("boss@example.com", "cc", PENDING, 0, T0)]
    assert [d.message_id for d in planned] == [f"rk-{message.message_id}-1",
                                               f"rk-{message.message_id}-2"]
    assert {d.lead_id for d in planned} == {"L1"}


def test_leases_retries_dead_letters_and_requeue(backend: Backend, rules_dir: Any) -> None:
    store = backend.open()
    message = with_message(store, rules_dir)
    store.plan_deliveries(message.message_id, PLAN, T0)
    first, second = store.claim_deliveries(T0, "w1", 30)
    assert store.claim_deliveries(T0, "w2", 30) == []  # leased to w1
    store.delivery_sent(first.delivery_id, T0 + M)
    assert store.delivery_failed(second.delivery_id, "451 try later", T0 + 5 * M) == 1
    assert store.claim_deliveries(T0 + 2 * M, "w2", 30) == []  # not due yet
    (again,) = store.claim_deliveries(T0 + 5 * M, "w2", 30)
    assert (again.delivery_id, again.attempts, again.last_error) == (
        second.delivery_id, 1, "451 try later")
    assert store.delivery_failed(second.delivery_id, "550 no such user", None) == 2
    assert [d.status for d in store.deliveries()] == [SENT, DEAD]
    assert store.deliveries(DEAD)[0].last_error == "550 no such user"
    assert store.claim_deliveries(T0 + 60 * M, "w2", 30) == []  # dead: never again
    assert store.requeue_delivery(second.delivery_id, T0 + 61 * M)
    assert not store.requeue_delivery(first.delivery_id, T0 + 61 * M)  # sent stays sent
    assert not store.requeue_delivery(999, T0)
    (requeued,) = store.claim_deliveries(T0 + 61 * M, "w3", 30)
    assert (requeued.status, requeued.attempts) == (PENDING, 0)
    # a lease that ran out is claimed by another process (at least once)
    (stolen,) = store.claim_deliveries(T0 + 62 * M, "w4", 30)
    assert stolen.delivery_id == second.delivery_id
    assert store.deliveries(SENT)[0].sent_at == T0 + M


def test_racing_processes_plan_and_claim_once(durable: Backend, rules_dir: Any) -> None:
    setup = durable.open()
    ruleset, world = compile_rules(rules_dir)
    engine = Engine(ruleset, world, setup, clock=ManualClock(T0))
    for n in range(40):
        engine.submit(lead(f"R{n}"), T0)
    messages = setup.outbox(unsent_only=True)
    assert len(messages) == 40
    stores = [durable.open(), durable.open()]
    planned: dict[int, list[int]] = {0: [], 1: []}
    claimed: dict[int, list[int]] = {0: [], 1: []}
    barrier = threading.Barrier(2)

    def work(n: int) -> None:
        barrier.wait()
        for message in messages:
            if stores[n].plan_deliveries(message.message_id, PLAN, T0):
                planned[n].append(message.message_id)
        barrier.wait()
        while batch := stores[n].claim_deliveries(T0, f"w{n}", 60, limit=7):
            claimed[n].extend(d.delivery_id for d in batch)

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(planned[0] + planned[1]) == [m.message_id for m in messages]
    everything = [d.delivery_id for d in setup.deliveries()]
    assert len(everything) == 80
    assert sorted(claimed[0] + claimed[1]) == everything  # each claimed by one process
