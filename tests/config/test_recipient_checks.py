"""Notification recipients must be notifiable: a role, an agent or staff id of the world with
an email or a webhook, a bare email address, or a webhook URL.  Unknown names are RK313;
people and addresses no channel reaches are RK315, at the recipient."""

from __future__ import annotations

import textwrap
from pathlib import Path

from rulekit.config.lint import WorldNames, check_recipients, notify_recipients
from rulekit.config.load import load_text
from rulekit.config.project import check_paths
from rulekit.errors import Diagnostic, DiagnosticSink

WORLD = """\
rulekit: 1
world: w
agents:
  - {id: a-jordan-lee, email: jordan.lee@example.com}
  - {id: a-sam-park, webhook: "https://crm.example.com/hooks/sam"}
  - {id: a-quiet}
staff:
  - {id: s-office-admin, name: Morgan Hale, email: office-admin@example.com}
  - {id: s-manager, name: Riley Moss, roles: [manager]}
"""

RULES = """\
rulekit: 1
policy: p
applies_to: {sources: [web]}
pools:
  agents: {of: agents, members: [a-jordan-lee, a-sam-park]}
rules:
  - name: rotation
    steps:
      - round_robin:
          pool: agents
          notify: {template: dispatched-lead, to: [assignee, TO], cc: [CC]}
      - queue: manual
"""


def run(tmp_path: Path, to: str, cc: str, world: str | None = WORLD) -> list[Diagnostic]:
    if world is not None:
        (tmp_path / "world.yaml").write_text(world, encoding="utf-8")
    rules = RULES.replace("TO", to).replace("CC", cc)
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    return [d for d in check_paths([tmp_path]).diagnostics if d.code in ("RK313", "RK315")]


def found(diags: list[Diagnostic]) -> list[tuple[str, int, int, str]]:
    return [(d.code, d.location.line, d.location.column, d.message)
            for d in diags if d.location is not None]


def test_notifiable_recipients_pass(tmp_path: Path) -> None:
    assert run(tmp_path, "a-sam-park", "s-office-admin") == []
    assert run(tmp_path, "a-jordan-lee", "manager@realleads-office.example") == []
    assert run(tmp_path, "owner", "'https://hooks.example.com/leads'") == []
    assert run(tmp_path, "'http://127.0.0.1:9000/hook'", "lead-desk@localhost") == []


def test_an_agent_or_staff_member_without_email_or_webhook(tmp_path: Path) -> None:
    assert found(run(tmp_path, "a-quiet", "s-manager")) == [
        ("RK315", 11, 62, "agent 'a-quiet' has no email address or webhook: it cannot be "
         "notified"),
        ("RK315", 11, 77, "staff member 's-manager' has no email address or webhook: it "
         "cannot be notified"),
    ]


def test_an_unknown_recipient_is_reported_once_with_a_hint(tmp_path: Path) -> None:
    diags = run(tmp_path, "s-ofice-admin", "asignee")
    assert found(diags) == [
        ("RK313", 11, 62, "recipient 's-ofice-admin' is not in the world: it is not a role, an "
         "agent or staff id, an email address or an https URL"),
        ("RK313", 11, 83, "recipient 'asignee' is not in the world: it is not a role, an "
         "agent or staff id, an email address or an https URL"),
    ]
    assert [d.hint for d in diags] == ["did you mean 's-office-admin'?", "did you mean 'assignee'?"]


def test_malformed_addresses(tmp_path: Path) -> None:
    diags = run(tmp_path, "'office-admin@'", "'http://crm.example.com/hook'")
    assert found(diags) == [
        ("RK315", 11, 62, "'office-admin@' is not an email address: it cannot be notified"),
        ("RK315", 11, 85, "'http://crm.example.com/hook' is not a webhook URL (https, or http "
         "to localhost or 127.0.0.1 only): it cannot be notified"),
    ]
    assert diags[1].hint == "post to an https:// URL"


def test_addresses_are_checked_without_a_world(tmp_path: Path) -> None:
    diags = run(tmp_path, "'Pat <pat@example.com>'", "boss@example.com", world=None)
    assert found(diags) == [
        ("RK315", 11, 62, "'Pat <pat@example.com>' is not an email address: it cannot be "
         "notified")]


def test_a_folder_with_a_recipient_problem_has_no_rule_set(tmp_path: Path) -> None:
    (tmp_path / "world.yaml").write_text(WORLD, encoding="utf-8")
    rules = RULES.replace("TO", "a-quiet").replace("CC", "s-office-admin")
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    result = check_paths([tmp_path])
    assert not result.ok
    assert str(tmp_path) not in result.rulesets


def test_recipients_at_any_depth() -> None:
    doc = load_text(textwrap.dedent("""\
        rulekit: 1
        policy: p
        applies_to: {sources: [web]}
        rules:
          - name: q
            steps:
              - qualify:
                  team: desk
                  for: 1h
                  verdicts:
                    hot:
                      - notify: {template: hot-lead, to: [s-manager], cc: [a-quiet]}
                      - queue: hot
                  on_timeout:
                    - queue: stale
        """), "rules.yaml")
    assert [(name, path) for name, _, path in notify_recipients([doc])] == [
        ("s-manager", ("rules", 0, "steps", 0, "qualify", "verdicts", "hot", 0, "notify", "to",
                       0)),
        ("a-quiet", ("rules", 0, "steps", 0, "qualify", "verdicts", "hot", 0, "notify", "cc",
                     0)),
    ]
    world = WorldNames(agents=frozenset({"a-quiet"}), staff=frozenset({"s-manager"}),
                       unnotifiable=frozenset({"a-quiet", "s-manager"}))
    sink = DiagnosticSink()
    assert check_recipients([doc], world, sink) == 2
    assert [(d.code, d.location.line if d.location else 0) for d in sink.items] == [
        ("RK315", 12), ("RK315", 12)]


def test_world_names_tell_who_cannot_be_notified(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(WORLD, encoding="utf-8")
    result = check_paths([path])
    from_world = WorldNames.of_world(result.worlds[str(path)])
    from_doc = WorldNames.of_document(result.documents[str(path)])
    assert from_world == from_doc
    assert from_world.staff == {"s-office-admin", "s-manager"}
    assert from_world.unnotifiable == {"a-quiet", "s-manager"}
