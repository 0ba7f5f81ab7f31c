"""Races and crashes between real processes (spawned), on one SQLite file and on PostgreSQL.

CI sizes; ``bench/storage_race.py --full`` runs the same races at full size.
"""

from __future__ import annotations

from pathlib import Path

from conftest import Backend
from storage_helpers import (
    race_broadcast,
    race_duplicates,
    race_round_robin,
    race_sigkill,
    write_rr_rules,
)


def test_racers_claim_broadcast_offers_one_winner_each(durable: Backend,
                                                       rules_dir: Path) -> None:
    figures = race_broadcast(durable.url, rules_dir, processes=4, offers=40)
    assert figures["winners"] == 40 and figures["doubles"] == 0


def test_leads_submitted_two_to_five_times_concurrently(durable: Backend,
                                                        rules_dir: Path) -> None:
    figures = race_duplicates(durable.url, rules_dir, processes=5, leads=40)
    assert figures["duplicate_offers"] == 0 and figures["submissions"] == 140


def test_workers_share_a_round_robin_fairly(durable: Backend, tmp_path: Path) -> None:
    figures = race_round_robin(durable.url, write_rr_rules(tmp_path / "rr"), processes=4,
                               leads=120)
    assert figures["max_minus_min"] <= 1


def test_a_killed_workers_timers_fire_once_after_its_lease(durable: Backend,
                                                          rules_dir: Path) -> None:
    figures = race_sigkill(durable.url, rules_dir, leads=30, lease=2.0, poll=0.5)
    assert figures["expired_once"] == 30
    assert 0 < figures["fired_before_kill"] < 30
