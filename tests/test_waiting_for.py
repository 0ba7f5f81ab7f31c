"""What a lead waits for, in words and as data (``waiting_for`` and ``waiting`` of a lead's
JSON in ``rulekit leads`` and the service), for every kind of pending."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rulekit.leadsearch import waiting, waiting_for
from rulekit.pipeline.state import Pending

DUE = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
ISO = "2026-11-24T15:30:00+00:00"


@pytest.mark.parametrize(("pending", "text", "kind"), [
    (Pending("contact", None, ("a-ann",), (), DUE, "t1"),
     f"first contact by a-ann until {ISO}", "first_contact"),
    (Pending("single", "o-1", ("a-bob",), (), DUE, "t1"),
     f"an answer from a-bob to offer o-1 until {ISO}", "offer"),
    (Pending("sequence", "o-2", ("a-cat",), (), DUE, "t1"),
     f"an answer from a-cat to offer o-2 until {ISO}", "offer"),
    (Pending("broadcast", "o-3", ("a-ann", "a-bob", "a-cat"), ("a-bob",), DUE, "t1"),
     f"a claim of offer o-3 by one of a-ann, a-cat until {ISO}", "broadcast"),
    (Pending("broadcast", "o-4", tuple(f"a-{n}" for n in range(12)), (), DUE, "t1"),
     f"a claim of offer o-4 by one of 12 agents until {ISO}", "broadcast"),
    (Pending("qualify", "o-5", ("q-quinn",), (), None, None),
     "a verdict from q-quinn", "qualification"),
    (Pending("hold", None, (), (), DUE, "t1"), f"the hold to end at {ISO}", "hold"),
])
def test_each_pending_says_what_the_lead_waits_for(pending: Pending, text: str,
                                                   kind: str) -> None:
    assert waiting_for(pending) == text
    found = waiting(pending)
    assert found is not None and found["for"] == kind
    assert found["agents"] == [a for a in pending.agents if a not in pending.declined]
    assert found["until"] == (pending.deadline.isoformat() if pending.deadline else None)


def test_nothing_pending_waits_for_nothing() -> None:
    assert waiting_for(None) is None and waiting(None) is None


def test_the_deadline_is_written_as_asked() -> None:
    pending = Pending("contact", None, ("a-ann",), (), DUE, "t1")
    assert waiting_for(pending, lambda at: f"{at:%H:%M}") == "first contact by a-ann until 15:30"
