"""World files: agents' webhooks and the ``staff:`` list (ids, references, channels)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from rulekit.config.project import check_paths
from rulekit.errors import Diagnostic

WORLD = """\
rulekit: 1
world: w
offices:
  - {id: rmx-ballantyne}
agents:
  - id: a-jordan-lee
    name: Jordan Lee
    email: jordan.lee@example.com
    webhook: https://crm.example.com/hooks/rulekit
    webhook_secret_env: RULEKIT_WEBHOOK_SECRET_CRM
  - {id: a-sam-park, webhook: "http://localhost:8080/hook"}
staff:
  - id: s-office-admin
    name: Morgan Hale
    email: office-admin@example.com
    offices: [rmx-ballantyne]
    roles: [office-admin, manager]
  - {id: s-lead-desk, webhook: "https://desk.example.com/in", roles: [lead-desk]}
"""


def check(tmp_path: Path, text: str) -> tuple[list[Diagnostic], Path]:
    path = tmp_path / "world.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    result = check_paths([path])
    return result.diagnostics, path


def found(diags: list[Diagnostic]) -> list[tuple[str, int, int, str]]:
    return [(d.code, d.location.line, d.location.column, d.message)
            for d in diags if d.location is not None]


def test_staff_and_webhooks_build_into_the_world(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(WORLD, encoding="utf-8")
    result = check_paths([path])
    assert result.diagnostics == []
    world = result.worlds[str(path)]
    agent = world.agents["a-jordan-lee"]
    assert agent.webhook == "https://crm.example.com/hooks/rulekit"
    assert agent.webhook_secret_env == "RULEKIT_WEBHOOK_SECRET_CRM"
    admin = world.staff["s-office-admin"]
    assert (admin.name, admin.email, admin.offices, admin.roles) == (
        "Morgan Hale", "office-admin@example.com", ["rmx-ballantyne"],
        ["office-admin", "manager"])
    assert world.person("s-lead-desk") is world.staff["s-lead-desk"]
    assert world.person("a-sam-park") is world.agents["a-sam-park"]
    assert world.person("a-nobody") is None
    assert "s-office-admin" not in world.agents  # staff are never routed leads


def test_a_world_without_the_new_fields_is_still_valid(tmp_path: Path) -> None:
    diags, _ = check(tmp_path, """\
        rulekit: 1
        world: w
        agents:
          - {id: a-jordan-lee, email: jordan.lee@example.com}
        """)
    assert diags == []


def test_staff_ids_are_unique_and_unlike_agent_ids(tmp_path: Path) -> None:
    diags, _ = check(tmp_path, WORLD + "  - {id: s-office-admin}\n  - {id: a-sam-park}\n")
    assert found(diags) == [
        ("RK308", 19, 10, "staff id 's-office-admin' is used twice"),
        ("RK308", 20, 10, "staff id 'a-sam-park' is also an agent id"),
    ]
    assert diags[1].hint == "give the staff member an id of their own, such as 's-sam-park'"


def test_staff_offices_must_exist(tmp_path: Path) -> None:
    diags, _ = check(tmp_path, WORLD.replace("offices: [rmx-ballantyne]\n    roles",
                                             "offices: [rmx-balantyne]\n    roles"))
    assert [(c, line, col) for c, line, col, _ in found(diags)] == [("RK310", 16, 15)]
    assert diags[0].hint == "did you mean 'rmx-ballantyne'?"


def test_a_webhook_is_https_or_local_http(tmp_path: Path) -> None:
    diags, _ = check(tmp_path, WORLD.replace("http://localhost:8080/hook",
                                             "http://crm.example.com/hook"))
    assert [(c, line, col) for c, line, col, _ in found(diags)] == [("RK105", 11, 31)]
    assert "https, or http to localhost or 127.0.0.1 only" in diags[0].message


def test_the_secret_is_named_never_given(tmp_path: Path) -> None:
    diags, _ = check(tmp_path, WORLD.replace("RULEKIT_WEBHOOK_SECRET_CRM",
                                             "whsec_9f8e7d6c5b4a"))
    assert [(c, line, col) for c, line, col, _ in found(diags)] == [("RK105", 10, 25)]
    assert "never the secret itself" in diags[0].message
    assert diags[0].hint == 'for example "RULEKIT_WEBHOOK_SECRET_CRM"'


def test_unknown_staff_property(tmp_path: Path) -> None:
    diags, _ = check(tmp_path, WORLD + "  - {id: s-x, phone: '555'}\n")
    assert [d.code for d in diags] == ["RK102"]
