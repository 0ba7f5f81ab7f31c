"""attach_to_owner per scope, and the manual-entry ownership conflict."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_helpers import assignees, build, queue_names


def _attach(scope: str) -> str:
    return f"""
policy: attach
applies_to: {{sources: [test-site, engagere]}}
rules:
  - name: owner
    steps:
      - attach_to_owner:
          scope: {scope}
          notify: {{template: activity, to: [owner], cc: [desk@example.com]}}
    then: continue
  - name: nobody
    steps: [{{queue: {{name: fresh, reason: no owner}}}}]
"""


@pytest.mark.parametrize(("scope", "fields", "owner"), [
    ("global", {"email": "owned@example.com"}, "a-bob"),
    ("global", {"email": "OWNED@example.com"}, "a-bob"),
    ("global", {"email": "scoped@example.com"}, None),
    ("global", {"email": "new@example.com"}, None),
    ("global", {"email": None}, None),
    # engageRE: exclusivity per channel
    ("channel", {"email": "scoped@example.com", "source": "engagere", "channel": "region-site"},
     "a-cat"),
    ("channel", {"email": "scoped@example.com", "source": "engagere", "channel": "office-site"},
     None),
    ("channel", {"email": "owned@example.com", "source": "engagere", "channel": "region-site"},
     None),
    ("market", {"email": "scoped@example.com", "property": {"mls": "CMLS"}}, "a-dan"),
    ("market", {"email": "scoped@example.com", "property": {"listing_id": "CMLS-1"}}, "a-dan"),
    ("market", {"email": "scoped@example.com", "property": {"mls": "TMLS"}}, None),
    ("market", {"email": "scoped@example.com"}, None),
    ("{expression: lead.attributes.region}",
     {"email": "scoped@example.com", "attributes": {"region": "east"}}, "a-eve"),
    ("{expression: lead.attributes.region}",
     {"email": "scoped@example.com", "attributes": {"region": "west"}}, None),
])
def test_attach_to_owner_per_scope(tmp_path: Path, scope: str, fields: dict[str, object],
                                   owner: str | None) -> None:
    env = build(tmp_path, _attach(scope))
    state = env.submit("L1", **fields)
    if owner is None:
        assert state.status == "queued"
        assert queue_names(env.store) == ["fresh"]
        assert env.store.assignments() == []
        assert env.store.outbox() == []
    else:
        assert (state.status, state.assignee) == ("assigned", owner)
        assert assignees(env.store) == [(owner, "attached")]
        (message,) = env.store.outbox()
        assert (message.template, message.to, message.cc) == (
            "activity", (owner,), ("desk@example.com",))


def test_engagere_exclusivity_is_per_channel(tmp_path: Path) -> None:
    env = build(tmp_path, """
        policy: engage
        applies_to: {sources: [engagere]}
        pools:
          everyone: {of: agents, members: [a-ann, a-bob, a-cat]}
        rules:
          - name: exclusive
            steps: [{attach_to_owner: channel}]
            then: continue
          - name: rotate
            steps:
              - round_robin: {pool: everyone, own: channel}
              - queue: nobody
        """)
    first = env.submit("L1", source="engagere", channel="region-site")
    assert first.assignee == "a-ann"
    again = env.submit("L2", source="engagere", channel="region-site")
    assert (again.assignee, assignees(env.store, "L2")) == ("a-ann", [("a-ann", "attached")])
    other = env.submit("L3", source="engagere", channel="office-site")
    assert (other.assignee, assignees(env.store, "L3")) == ("a-bob", [("a-bob", "assigned")])
    contact = env.store.contact("email:new.buyer@example.com")
    assert contact is not None
    assert contact.owner is None
    assert contact.owners == {"channel:region-site": "a-ann", "channel:office-site": "a-bob"}


MANUAL = """
policy: manual-entry
applies_to: {entries: [manual, import]}
rules:
  - name: already-on-record
    steps:
      - attach_to_owner:
          scope: global
          conflict_queue: ownership-conflicts
          notify:
            template: ownership-conflict
            to: [owner, entered_by]
            cc: [lead-desk@example.com]
    then: continue
  - name: entering-agent
    when: lead.entered_by != null
    steps: [{assign: {to: lead.entered_by, own: global}}]
  - name: no-agent
    steps: [{queue: manual}]
"""


@pytest.mark.parametrize("entry", ["manual", "import"])
def test_manual_entry_of_a_contact_owned_by_another_agent_is_a_conflict(
        tmp_path: Path, entry: str) -> None:
    env = build(tmp_path, MANUAL)
    state = env.submit("L1", source="crm", entry=entry, entered_by="a-cat",
                       email="owned@example.com")
    assert state.status == "queued"
    assert state.queue == "ownership-conflicts"
    assert state.assignee is None
    assert env.store.assignments() == []
    (conflict,) = env.store.conflicts()
    assert (conflict.contact_key, conflict.owner, conflict.entered_by, conflict.scope_key) == (
        "email:owned@example.com", "a-bob", "a-cat", "global")
    contact = env.store.contact("email:owned@example.com")
    assert contact is not None
    assert contact.owner == "a-bob"
    (message,) = env.store.outbox()
    assert message.template == "ownership-conflict"
    assert "a-bob" in message.to  # the owner (to: [owner])
    assert "a-cat" in message.to  # the agent who entered the contact
    assert message.cc == ("lead-desk@example.com",)


def test_manual_entry_by_the_owner_is_no_conflict(tmp_path: Path) -> None:
    env = build(tmp_path, MANUAL)
    state = env.submit("L1", source="crm", entry="manual", entered_by="a-bob",
                       email="owned@example.com")
    assert (state.status, state.assignee) == ("assigned", "a-bob")
    assert env.store.conflicts() == []


def test_manual_entry_of_a_new_contact_goes_to_the_entering_agent(tmp_path: Path) -> None:
    env = build(tmp_path, MANUAL)
    state = env.submit("L1", source="crm", entry="manual", entered_by="a-cat",
                       email="brand.new@example.com")
    assert (state.status, state.assignee) == ("assigned", "a-cat")
    assert env.store.conflicts() == []
    contact = env.store.contact("email:brand.new@example.com")
    assert contact is not None
    assert contact.owner == "a-cat"
