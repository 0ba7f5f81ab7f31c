"""Prometheus metrics of the service: leads received by source and outcome, request latency;
and, read from the store at each scrape (so every process reports the whole system), offers
open, timers due and timers late.

With several server processes (``rulekit serve --workers N``) the counters and histograms are
kept in ``PROMETHEUS_MULTIPROC_DIR`` (``serve`` makes one for the run), so whichever process
answers a scrape reports the sums over all of them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector


class _StoreGauges(Collector):
    def __init__(self, store: Any, late_after: float) -> None:
        self.store = store
        self.late_after = late_after

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.store.live_counts(datetime.now(UTC), self.late_after)
        for name, doc, value in (
                ("rulekit_offers_open", "Offers waiting for an answer.", counts.offers_open),
                ("rulekit_timers_due", "Timers due now, not yet fired.", counts.timers_due),
                ("rulekit_timers_late", "Timers due for longer than the late threshold.",
                 counts.timers_late),
                ("rulekit_leads", "Leads in the store.", counts.leads)):
            yield GaugeMetricFamily(name, doc, value=value)
        by_status = getattr(self.store, "delivery_counts", None)
        if by_status is not None:
            family = GaugeMetricFamily("rulekit_deliveries",
                                       "Notification deliveries in the store, by status.",
                                       labels=["status"])
            found = by_status()
            for status in ("pending", "sent", "dead"):
                family.add_metric([status], found.get(status, 0))
            yield family


#: The variable naming the folder the processes of one service share their counts in.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    def __init__(self, store: Any, late_after: float) -> None:
        self.registry = CollectorRegistry()
        shared = os.environ.get(MULTIPROCESS_DIR)
        own = None if shared else self.registry
        if shared:
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        self.leads = Counter("rulekit_leads_received", "Leads received over HTTP.",
                             ["source", "outcome"], registry=own)
        self.latency = Histogram("rulekit_request_seconds", "Request latency.",
                                 ["method", "route", "status"], registry=own,
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1,
                                          2.5, 5, 10, 30))
        self.deliveries = Counter("rulekit_delivery_attempts",
                                  "Delivery attempts of notifications by this service, by "
                                  "channel and result (sent, retried, dead).",
                                  ["channel", "result"], registry=own)
        self.registry.register(_StoreGauges(store, late_after))

    def received(self, source: str, outcome: str) -> None:
        self.leads.labels(source[:100], outcome).inc()

    def delivered(self, channel: str, result: str) -> None:
        self.deliveries.labels(channel, result).inc()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route, str(status)).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
