"""Scenario expectations: refused and late answers, offer and broadcast times, the serving
policy and rule, notification variables, references to an earlier lead's winner, distribution
keys, and times shown in one zone."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rulekit.scenario import run_scenario
from rulekit.scenario.expect import _distribution
from rulekit.scenario.runner import Result
from rulekit.storage.base import StoredOffer

ROOT = Path(__file__).resolve().parents[2]

LEADSTREET_EVENTS = """\
events:
  - lead: {id: L1, source: charlotteproperty.com, contact: {email: quiet.buyer@example.com},
           property: {city: Concord, mls: CMLS, zip: "28027"}}
  - at: "+2h30m"
    accept: {lead: L1, agent: a-blake-kim}
  - at: "+6h"
    accept: {lead: L1, agent: a-blake-kim}
  - at: "+6h1m"
    accept: {lead: L1, agent: a-avery-jones}
  - at: "+1d"
    lead: {id: L2, source: charlotteproperty.com, contact: {email: quiet.buyer@example.com},
           property: {city: Concord, mls: CMLS, zip: "28027"}}
  - lead: {id: L3, source: charlotteproperty.com, contact: {email: other.buyer@example.com},
           property: {city: Concord, mls: CMLS, zip: "28027"}}
  - lead: {id: L4, source: charlotteproperty.com, contact: {email: third.buyer@example.com},
           property: {city: Concord, mls: CMLS, zip: "28027"}}
  - at: "+1d1h"
    reassign: {lead: L3, agent: {winner_of: L1}}
  - at: "+1d6h30m"
    accept: {lead: L4, agent: {winner_of: L1}}
"""

REALLEADS_EVENTS = """\
events:
  - lead: {id: M1, source: real.leads, inquiry_type: Relocation Info Request,
           contact: {email: mover@example.com}}
  - lead: {id: R1, source: real.leads, inquiry_type: CMA Request,
           contact: {email: seller@example.com}, property: {listing_id: CMLS-4018800}}
  - at: "+1h"
    lead: {id: R2, source: real.leads, inquiry_type: CMA Request,
           contact: {email: seller@example.com}, property: {listing_id: CMLS-4018800}}
"""

ADMINS = "[office-admin@realleads-office.example, manager@realleads-office.example]"


def scenario(tmp_path: Path, system: str, events: str, expect: str,
             start: str = "2026-12-01T09:00:00-05:00") -> Result:
    path = tmp_path / "case.scenario.yaml"
    path.write_text(f"rulekit: 1\nscenario: case\nrules: {ROOT / 'rules' / system}\n"
                    f"start: \"{start}\"\n{events}expect:\n"
                    + textwrap.indent(textwrap.dedent(expect).strip() + "\n", "  "))
    return run_scenario(path)


def leadstreet(tmp_path: Path, expect: str) -> Result:
    return scenario(tmp_path, "leadstreet", LEADSTREET_EVENTS, expect)


def realleads(tmp_path: Path, expect: str) -> Result:
    return scenario(tmp_path, "realleads", REALLEADS_EVENTS, expect,
                    start="2026-12-01T10:00:00-05:00")


def failures(result: Result) -> list[str]:
    return [d.headline() for d in result.problems] + [
        f"{c.text}: {c.detail}" for c in result.checks if not c.ok]


def only_failure(result: Result) -> str:
    assert not result.problems, [d.headline() for d in result.problems]
    failed = [c for c in result.checks if not c.ok]
    assert len(failed) == 1, failures(result)
    return failed[0].detail.split("\n")[0]


# -- refused and late answers ---------------------------------------------------------------

def test_refused_and_late_answers(tmp_path: Path) -> None:
    result = leadstreet(tmp_path, """
        - lead: L1
          refused: {agent: a-avery-jones, answer: accept,
                    reason: another agent already has the lead, late: true}
        - lead: L1
          refused: {agent: a-blake-kim, reason: no longer open, late: true, at: "+2h30m"}
        - lead: L1
          refused: {agent: {winner_of: L1}, at: {at: "2026-12-01T11:31:00-05:00", within: 1m}}
    """)
    assert result.ok, failures(result)


def test_a_late_answer_goes_to_the_agents_own_offer(tmp_path: Path) -> None:
    """Blake answers after his offer expired (another agent's offer is open by then): the
    answer is refused because his offer is no longer open, not as 'not offered to him'."""
    result = leadstreet(tmp_path, """
        - lead: L1
          refused: {agent: a-blake-kim, answer: accept,
                    reason: "offer L1:o1: the offer is no longer open"}
    """)
    assert result.ok, failures(result)


@pytest.mark.parametrize(("expect", "said"), [
    ("refused: {agent: a-avery-jones, reason: deadline passed}",
     "; a-avery-jones accept at 2026-12-01T15:01:00-05:00: cannot accept offer L1:o11: another "
     "agent already has the lead (late) (times in UTC-05:00)"),
    ("refused: {agent: a-jordan-lee}", "refused: a-blake-kim accept at"),
    ("refused: {agent: a-avery-jones, late: false}", "(late)"),
    ("refused: {agent: a-avery-jones, at: \"+6h\"}", "(times in UTC-05:00)"),
])
def test_a_refusal_that_did_not_happen_fails_showing_the_refusals(
        tmp_path: Path, expect: str, said: str) -> None:
    detail = only_failure(leadstreet(tmp_path, f"- lead: L1\n  {expect}"))
    assert "but refused: " in detail
    assert said in detail


def test_a_lead_without_refusals(tmp_path: Path) -> None:
    detail = only_failure(leadstreet(tmp_path, "- {lead: L2, refused: {reason: late}}"))
    assert "but refused: nothing" in detail


# -- offer and broadcast times --------------------------------------------------------------

def test_offer_and_broadcast_times(tmp_path: Path) -> None:
    result = leadstreet(tmp_path, """
        - lead: L1
          offered_at: ["+0m", "2026-12-01T11:00:00-05:00", {at: "+4h", within: 0m}]
          broadcast_at: "+6h"
        - lead: L1
          broadcast_at: {at: "2026-12-01T20:00:30Z", within: 1m}
        - lead: L1
          offer_deadlines: ["+2h", {at: "2026-12-01T13:05:00-05:00", within: 10m}, "+6h"]
    """)
    assert result.ok, failures(result)


def test_wrong_offer_times_fail_in_the_zone_written(tmp_path: Path) -> None:
    detail = only_failure(leadstreet(tmp_path, """
        - {lead: L1, offered_at: ["+0m", "+2h", "+5h"]}
    """))
    assert detail == (
        "expected offers made at [2026-12-01T09:00:00-05:00, 2026-12-01T11:00:00-05:00, "
        "2026-12-01T14:00:00-05:00], but made at [2026-12-01T09:00:00-05:00, "
        "2026-12-01T11:00:00-05:00, 2026-12-01T13:00:00-05:00] (times in UTC-05:00)")


def test_a_broadcast_time_with_tolerance_fails_when_outside_it(tmp_path: Path) -> None:
    detail = only_failure(leadstreet(tmp_path, """
        - {lead: L1, broadcast_at: {at: "2026-12-01T21:00:00+00:00", within: 30m}}
    """))
    assert detail == ("expected broadcast at 2026-12-01T21:00:00+00:00 ± 30m, but broadcast "
                      "at 2026-12-01T20:00:00+00:00 (times in UTC)")


def test_no_broadcast(tmp_path: Path) -> None:
    detail = only_failure(leadstreet(tmp_path, "- {lead: L2, broadcast_at: \"+1d\"}"))
    assert detail.endswith("but no broadcast")


# -- times in failure messages --------------------------------------------------------------

def test_deadlines_are_shown_in_the_zone_of_the_expectation(tmp_path: Path) -> None:
    """Stored deadlines are UTC instants; the failure shows them as the expectation is
    written, so the right deadlines do not look wrong."""
    detail = only_failure(leadstreet(tmp_path, """
        - lead: L1
          offer_deadlines: ["2026-12-01T11:00:00-05:00", "2026-12-01T13:00:00-05:00",
                            "2026-12-01T16:00:00-05:00"]
    """))
    assert detail.endswith(
        "but deadlines [2026-12-01T11:00:00-05:00, 2026-12-01T13:00:00-05:00, "
        "2026-12-01T15:00:00-05:00] (times in UTC-05:00)")


def test_assignment_time_is_shown_in_the_zone_of_the_expectation(tmp_path: Path) -> None:
    detail = only_failure(leadstreet(tmp_path, "- {lead: L1, by: \"2026-12-01T19:00:00Z\"}"))
    assert detail == ("expected assigned by 2026-12-01T19:00:00+00:00, but assigned at "
                      "2026-12-01T20:00:00+00:00 (times in UTC)")


# -- the serving policy and rule ------------------------------------------------------------

def test_served_by(tmp_path: Path) -> None:
    result = leadstreet(tmp_path, """
        - {lead: L1, served_by: {policy: charlotteproperty, rule: last-chance}}
        - {lead: L2, served_by: {rule: existing-owner}}
        - {lead: L3, served_by: {policy: charlotteproperty}}
    """)
    assert result.ok, failures(result)
    result = realleads(tmp_path, """
        - {lead: M1, served_by: {policy: competitor-listings, rule: not-auto-distributed}}
        - {lead: R1, served_by: {rule: round-robin}}
        - {lead: R2, served_by: {rule: assigned-consumer}}
    """)
    assert result.ok, failures(result)


def test_a_lead_no_policy_serves(tmp_path: Path) -> None:
    result = scenario(tmp_path, "realleads", "events:\n  - lead: {id: X1, source: nowhere}\n",
                      "- {lead: X1, served_by: {policy: null, rule: null}}")
    assert result.ok, failures(result)


def test_wrong_served_by_fails(tmp_path: Path) -> None:
    detail = only_failure(leadstreet(tmp_path, """
        - {lead: L1, served_by: {policy: charlotteproperty, rule: random-offers}}
    """))
    assert detail == ("expected served by policy charlotteproperty, rule random-offers, but "
                      "served by policy charlotteproperty, rule last-chance")


# -- notifications: variables and copies ----------------------------------------------------

def test_notification_variables_and_copies(tmp_path: Path) -> None:
    result = realleads(tmp_path, f"""
        - lead: M1
          notification: {{template: manual-distribution, variables: {{work_link: M1}}}}
        - lead: R1
          notification: {{template: dispatched-lead, to: [{{winner_of: R1}}], cc: {ADMINS},
                          exactly: true}}
        - lead: R2
          notification: {{template: inquiry-for-assigned-agent, to: [a-avery-jones], cc: [],
                          exactly: true}}
    """)
    assert result.ok, failures(result)


def test_wrong_notification_variables_fail_showing_them(tmp_path: Path) -> None:
    detail = only_failure(realleads(tmp_path, """
        - {lead: M1, notification: {template: manual-distribution, variables: {work_link: M2}}}
    """))
    assert "{'work_link': 'M1'}" in detail


def test_exactly_means_no_other_recipients(tmp_path: Path) -> None:
    detail = only_failure(realleads(tmp_path, """
        - lead: R1
          notification: {template: dispatched-lead, cc: [manager@realleads-office.example],
                         exactly: true}
    """))
    assert "office-admin@realleads-office.example" in detail


# -- references to an earlier lead's winner -------------------------------------------------

def test_winner_of_in_expectations_and_events(tmp_path: Path) -> None:
    result = leadstreet(tmp_path, """
        - {lead: L1, assigned_to: a-blake-kim}
        - {lead: L2, assigned_to: {winner_of: L1}, how: attached}
        - {lead: L3, assigned_to: {winner_of: L1}, how: reassigned}
        - {lead: L4, assigned_to: {winner_of: L1}, how: "claimed (first to accept the broadcast)"}
        - {lead: L4, broadcast: {winner: {winner_of: L1}, one_winner: true}}
        - {lead: L1, offers: [{winner_of: L2}, "*", "*"]}
        - {owner: {email: quiet.buyer@example.com, scope: global, agent: {winner_of: L1}}}
        - {lead: L1, notification: {template: last-chance, to: [{winner_of: L1}]}}
    """)
    assert result.ok, failures(result)


def test_winner_of_a_lead_nobody_won(tmp_path: Path) -> None:
    events = LEADSTREET_EVENTS.split('  - at: "+1d6h30m"', maxsplit=1)[0]
    result = scenario(tmp_path, "leadstreet", events,
                      "- {lead: L3, assigned_to: {winner_of: L4}}")
    detail = only_failure(result)
    assert "lead L4 has no winner (status waiting)" in detail


def test_winner_of_in_an_event_before_anyone_won(tmp_path: Path) -> None:
    events = LEADSTREET_EVENTS.replace("reassign: {lead: L3, agent: {winner_of: L1}}",
                                       "reassign: {lead: L3, agent: {winner_of: L4}}")
    result = scenario(tmp_path, "leadstreet", events, "- {lead: L3, status: assigned}")
    (problem,) = result.problems
    assert "lead L4 has no winner yet (status waiting)" in problem.message
    assert problem.location is not None and problem.location.line == 22


# -- times in expectations are checked when the file is loaded ------------------------------

def test_unreadable_expected_times_are_positioned_problems(tmp_path: Path) -> None:
    result = leadstreet(tmp_path, """
        - lead: L1
          offered_at: ["+0m", "soon"]
          broadcast_at: {at: "+6h", within: "a bit"}
    """)
    assert [(d.code, d.location.line if d.location else 0) for d in result.problems] == [
        ("RK105", 27), ("RK105", 28)]
    assert "cannot read the time 'soon'" in result.problems[0].message
    assert "cannot read the duration 'a bit'" in result.problems[1].message


def test_lead_checks_need_a_lead(tmp_path: Path) -> None:
    result = leadstreet(tmp_path, "- {served_by: {rule: last-chance}}")
    assert result.problems and "lead" in result.problems[0].message


# -- distribution keys ----------------------------------------------------------------------

ROUND_ROBIN = """\
events:
  - leads:
      count: 12
      prefix: rr
      template: {source: real.leads, inquiry_type: CMA Request,
                 property: {listing_id: CMLS-4018800}}
"""


def test_every_listed_key_must_appear(tmp_path: Path) -> None:
    result = scenario(tmp_path, "realleads", ROUND_ROBIN, """
        - distribution:
            leads: rr-
            by: agent
            keys: [a-avery-jones, a-blake-kim, a-casey-diaz, a-devon-reed, a-zion-hart]
            max_spread: 3
    """)
    detail = only_failure(result)
    assert "a-zion-hart" in detail and "missing" in detail


def test_listed_keys_are_checked_without_max_spread(tmp_path: Path) -> None:
    detail = only_failure(scenario(tmp_path, "realleads", ROUND_ROBIN, """
        - distribution: {leads: rr-, by: agent, keys: [a-avery-jones, a-zion-hart]}
    """))
    assert "missing: a-zion-hart" in detail
    result = scenario(tmp_path, "realleads", ROUND_ROBIN, """
        - distribution: {leads: rr-, by: agent, keys: [a-avery-jones, {winner_of: rr-1}]}
    """)
    assert result.ok, failures(result)


@dataclass
class _State:
    status: str
    assignee: str | None
    office: str | None


class CountingStore:
    """A store of ``n`` leads with three single offers each, that counts the rows it hands
    out and refuses to hand out more than ``budget``: a quadratic check runs out at once."""

    def __init__(self, n: int, budget: int) -> None:
        at = datetime(2026, 12, 1, tzinfo=UTC)
        self.ids = [f"s-{i}" for i in range(n)]
        self.rows = [StoredOffer(f"s-{i}:o{k}", f"s-{i}", (f"a-{(i + k) % 7}",), "single",
                                 "expired", at, at + timedelta(hours=2), None, None, "r")
                     for i in range(n) for k in range(3)]
        self.budget = budget
        self.read = 0

    def _take(self, count: int) -> None:
        self.read += count
        if self.read > self.budget:
            raise AssertionError(f"read {self.read} rows of a store of {len(self.ids)} leads")

    def lead_ids(self) -> Iterator[str]:
        self._take(len(self.ids))
        return iter(self.ids)

    def offers(self, lead_id: str | None = None) -> list[StoredOffer]:
        self._take(len(self.rows))  # a scan, as a store without an index on leads does it
        return [o for o in self.rows if lead_id is None or o.lead_id == lead_id]

    def get_state(self, lead_id: str) -> _State:
        self._take(1)
        return _State("assigned", f"a-{int(lead_id[2:]) % 7}", "o-1")

    def assignments(self, lead_id: str | None = None) -> list[Any]:
        self._take(len(self.ids))
        return []


@pytest.mark.parametrize("by", ["offered", "agent", "office"])
def test_distribution_reads_each_row_a_bounded_number_of_times(by: str) -> None:
    n = 20_000
    store = CountingStore(n, budget=10 * n)
    ok, _, said = _distribution(SimpleNamespace(store=store),
                                {"leads": "s-", "by": by, "max_spread": 1})
    assert ok, said
    assert store.read <= 10 * n
