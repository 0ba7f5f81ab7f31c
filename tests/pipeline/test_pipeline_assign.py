"""assign: listing agent, site owner, branding agent, any expression; ownership scopes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_helpers import assignees, build

ASSIGN = """
policy: direct
applies_to: {sources: [test-site]}
rules:
  - name: branding
    when: lead.branding_agent != null
    steps: [{assign: lead.branding_agent}]
  - name: listing
    when: listing != null and listing.listing_agent != null
    steps: [{assign: listing.listing_agent}]
  - name: site-owner
    when: lead.site_owner != null
    steps: [{assign: {to: lead.site_owner}}]
  - name: by-expression
    when: lead.attributes.desk != null
    steps: [{assign: 'coalesce(lead.attributes.desk, "a-ann")'}]
  - name: literal
    steps: [{assign: '"a-gus"'}]
"""


@pytest.mark.parametrize(("fields", "agent", "rule"), [
    ({"branding_agent": "a-cat", "property": {"listing_id": "CMLS-1"}}, "a-cat", "branding"),
    ({"property": {"listing_id": "CMLS-1"}, "site_owner": "a-dan"}, "a-ann", "listing"),
    ({"property": {"listing_id": "CMLS-2"}}, "a-bob", "listing"),
    ({"site_owner": "a-dan"}, "a-dan", "site-owner"),
    ({"attributes": {"desk": "a-eve"}}, "a-eve", "by-expression"),
    ({}, "a-gus", "literal"),
])
def test_assign_gives_the_lead_at_once(tmp_path: Path, fields: dict[str, object], agent: str,
                                       rule: str) -> None:
    env = build(tmp_path, ASSIGN)
    state = env.submit("L1", **fields)
    assert (state.status, state.assignee) == ("assigned", agent)
    assert state.pending is None
    assert assignees(env.store) == [(agent, "assigned")]
    assert env.store.assignments()[0].rule == rule
    assert env.offers() == []  # no acceptance involved
    assert env.store.next_timer_due() is None


def test_assign_to_an_unknown_agent_is_queued_as_unroutable(tmp_path: Path) -> None:
    env = build(tmp_path, ASSIGN)
    state = env.submit("L1", site_owner="a-nobody")
    assert state.status == "queued"
    assert state.queue == "unroutable"
    assert env.store.assignments() == []


OWN = """
policy: own
applies_to: {sources: [test-site]}
rules:
  - name: site-owner
    steps:
      - assign:
          to: lead.site_owner
          own: [global, channel, market, {expression: lead.attributes.region}]
"""


def test_assign_records_ownership_in_every_scope(tmp_path: Path) -> None:
    env = build(tmp_path, OWN)
    env.submit("L1", site_owner="a-cat", channel="agent-site",
               property={"mls": "CMLS"}, attributes={"region": "west"})
    contact = env.store.contact("email:new.buyer@example.com")
    assert contact is not None
    assert contact.owner == "a-cat"
    assert contact.owners == {"channel:agent-site": "a-cat", "market:CMLS": "a-cat",
                              "custom:west": "a-cat"}


def test_channel_scope_falls_back_to_the_source_and_market_to_the_listing(
        tmp_path: Path) -> None:
    env = build(tmp_path, OWN)
    env.submit("L1", site_owner="a-cat", property={"listing_id": "CMLS-1"})
    contact = env.store.contact("email:new.buyer@example.com")
    assert contact is not None
    assert contact.owners.get("channel:test-site") == "a-cat"
    assert contact.owners.get("market:CMLS") == "a-cat"


def test_ownership_matches_email_case_insensitively(tmp_path: Path) -> None:
    env = build(tmp_path, OWN)
    env.submit("L1", email="  Pat.Buyer@Example.COM ", site_owner="a-cat")
    assert env.store.contact("email:pat.buyer@example.com") is not None


def test_first_owner_is_kept_per_contact_and_scope(tmp_path: Path) -> None:
    env = build(tmp_path, OWN)
    env.submit("L1", site_owner="a-cat", channel="agent-site", property={"mls": "CMLS"},
               attributes={"region": "west"})
    # same consumer, a different site owner, one new scope (channel office-site)
    env.submit("L2", site_owner="a-dan", channel="office-site", property={"mls": "CMLS"},
               attributes={"region": "west"})
    contact = env.store.contact("email:new.buyer@example.com")
    assert contact is not None
    assert contact.owner == "a-cat"
    assert contact.owners == {"channel:agent-site": "a-cat", "channel:office-site": "a-dan",
                              "market:CMLS": "a-cat", "custom:west": "a-cat"}
    # the lead itself still went to its site owner
    assert env.state("L2").assignee == "a-dan"


def test_owner_from_world_file_is_not_overwritten(tmp_path: Path) -> None:
    env = build(tmp_path, OWN)
    env.submit("L1", email="owned@example.com", site_owner="a-cat")
    contact = env.store.contact("email:owned@example.com")
    assert contact is not None
    assert contact.owner == "a-bob"


def test_no_contact_identity_records_no_owner(tmp_path: Path) -> None:
    env = build(tmp_path, OWN)
    state = env.submit("L1", email=None, site_owner="a-cat")
    assert state.assignee == "a-cat"
    assert env.store.facts().contacts.keys() == {"email:owned@example.com",
                                                 "email:scoped@example.com"}
