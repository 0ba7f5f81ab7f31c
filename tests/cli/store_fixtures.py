"""A small, hand-checkable store for the store-facing commands (explain, leads, report)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Contact, Lead
from rulekit.storage.url import open_store

RULES = """\
rulekit: 1
policy: two-offers
applies_to: {sources: [test-site]}
rules:
  - name: site-owner-first
    steps:
      - offer: {to: lead.site_owner, for: 30m}
    then: continue
  - name: entering-agent-next
    steps:
      - offer: {to: lead.entered_by, for: 30m}
    then: continue
  - name: leftovers
    steps:
      - queue: {name: leftovers, reason: nobody took it}
"""

ROTATION = """\
rulekit: 1
policy: rotation
applies_to: {sources: [rr-site]}
pools:
  trio:
    of: agents
    members: [a-avery-jones, a-blake-kim, a-casey-diaz]
    exclude: [paused]
rules:
  - name: rotate
    steps:
      - round_robin: {pool: trio}
      - queue: {name: leftovers, reason: nobody in the rotation}
"""

#: Tuesday 1 December 2026, 10:00 in New York.
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
AVERY, BLAKE, CASEY = "a-avery-jones", "a-blake-kim", "a-casey-diaz"


def build_store(tmp: Path) -> str:
    """Route a small day by hand; return the SQLite URL of its store.

    avery: L1 accepted after 10m, L2 declined after 4m, L3 accepted 60m late, L4 no answer.
    blake: L2 accepted after 20m, L3 accepted after 6m, L4 no answer.
    R1..R7 go round robin to avery, blake, casey, avery, blake, casey, avery.
    """
    folder = tmp / "rules"
    folder.mkdir()
    (folder / "two-offers.yaml").write_text(RULES, encoding="utf-8")
    (folder / "rotation.yaml").write_text(ROTATION, encoding="utf-8")
    world_path = Path("rules/leadstreet/world.yaml")
    checked = check_paths([str(folder), str(world_path)])
    assert checked.ok, [d.headline() for d in checked.diagnostics]
    ruleset = checked.rulesets[str(folder)]
    world = checked.worlds[str(world_path)]
    url = f"sqlite:///{tmp / 'small.db'}"
    store = open_store(url)
    add = getattr(store, "add_contacts", None)
    assert add is not None
    add([Contact(id="c-hot", email="hot.buyer@example.com", status="assigned", type="Buyer",
                 source="Realtor.com", business_source="Open House", priority="hot",
                 interest=4, time_frame="0-3 months", owner=CASEY, lead_status="active"),
         Contact(id="c-cold", email="cold.seller@example.com", status="closed", type="Seller",
                 source="Broker", business_source="Referral", priority="cold", interest=1,
                 time_frame="12+ months", owner=BLAKE, lead_status="inactive")])
    clock = ManualClock(T0)
    engine = Engine(ruleset, world, store, clock=clock)
    minute = timedelta(minutes=1)

    def lead(lead_id: str, at: datetime, **fields: object) -> None:
        payload = {"id": lead_id, "received_at": at.isoformat(), "source": "test-site",
                   **fields}
        engine.submit(Lead.model_validate(payload), at)

    def offer(lead_id: str) -> str:
        state = engine.state(lead_id)
        assert state is not None and state.pending is not None and state.pending.offer_id
        return state.pending.offer_id

    def at(when: datetime) -> None:
        engine.tick(when)
        clock.set(when)

    lead("L1", T0, site_owner=AVERY, entered_by=BLAKE, inquiry_type="Request A Showing",
         contact={"email": "hot.buyer@example.com"})
    lead("L2", T0, site_owner=AVERY, entered_by=BLAKE, inquiry_type="Request A Showing",
         contact={"email": "hot.buyer@example.com"}, channel="agent-site")
    at(T0 + 4 * minute)
    engine.decline(offer("L2"), AVERY, T0 + 4 * minute)
    at(T0 + 10 * minute)
    engine.accept(offer("L1"), AVERY, T0 + 10 * minute)
    at(T0 + 24 * minute)
    engine.accept(offer("L2"), BLAKE, T0 + 24 * minute)
    t3 = T0 + 60 * minute
    at(t3)
    lead("L3", t3, site_owner=AVERY, entered_by=BLAKE, inquiry_type="Ask a Question",
         activity="passive", contact={"email": "cold.seller@example.com"})
    first = offer("L3")
    at(t3 + 36 * minute)  # avery's offer expired at +30m; blake's made then
    engine.accept(offer("L3"), BLAKE, t3 + 36 * minute)
    at(t3 + 60 * minute)
    engine.accept(first, AVERY, t3 + 60 * minute)  # too late
    t4 = T0 + 120 * minute
    at(t4)
    lead("L4", t4, site_owner=BLAKE, entered_by=AVERY, inquiry_type="Contact",
         entry="manual", contact={"email": "nobody@example.com"})
    at(t4 + 61 * minute)  # both offers expire: queued in leftovers
    for n in range(1, 8):
        when = t4 + (61 + n) * minute
        at(when)
        engine.submit(Lead.model_validate({
            "id": f"R{n}", "received_at": when.isoformat(), "source": "rr-site",
            "inquiry_type": "CMA Request", "contact": {"email": f"r{n}@example.com"}}), when)
    close = getattr(store, "close", None)
    if close is not None:
        close()
    return url
