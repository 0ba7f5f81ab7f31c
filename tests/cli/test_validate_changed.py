"""`rulekit validate --changed FILE…`: the hook mode — rulekit documents only, each with its
whole policy folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from command_line import run

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository of rule files, with the YAML files any repository has."""
    shutil.copytree(ROOT / "rules" / "leadstreet", tmp_path / "rules" / "leadstreet")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "name: ci\non: [push]\njobs:\n  rulekit:\n    runs-on: ubuntu-latest\n")
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: local\n    hooks: []\n")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "values.yaml").write_text("replicas: {{ .Values.n }}\nx: [\n")
    (tmp_path / "README.md").write_text("rulekit: these are our rules\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


FOLDER = "rules/leadstreet"
CHANGED = f"{FOLDER}/charlotteproperty.yaml"  # uses a calendar defined in remax-com.yaml


def folder_size() -> int:
    return len(list(Path(FOLDER).glob("*.yaml")))


def break_agent_site() -> str:
    path = Path(FOLDER) / "agent-site.yaml"
    text = path.read_text()
    path.write_text(text.replace("when: lead.site_owner", "when: lead.site_ownr"))
    line = text[:text.index("when: lead.site_owner")].count("\n") + 1
    return f"{path}:{line}:16: error[RK202]: unknown field 'site_ownr' of lead"


def test_yaml_files_that_are_not_rulekit_documents_are_left_alone(repo: Path) -> None:
    code, out = run("validate", "--changed", ".github/workflows/ci.yml",
                    ".pre-commit-config.yaml", "deploy/values.yaml", "README.md")
    assert code == 0, out
    assert out.strip() == "no rulekit files among 3 YAML files: nothing to check"
    code, out = run("validate", "--changed", "--format", "json", ".github/workflows/ci.yml")
    assert (code, json.loads(out)) == (0, [])
    code, out = run("validate", "--changed", "-q", ".github/workflows/ci.yml")
    assert (code, out) == (0, "")


def test_a_changed_rule_file_is_checked_with_its_folder(repo: Path) -> None:
    code, out = run("validate", "--changed", CHANGED)
    assert code == 0, out
    assert out.strip() == f"{folder_size()} files checked: no problems"
    # plain validate is unchanged: the file alone lacks its folder's calendar
    code, out = run("validate", CHANGED)
    assert code == 1
    assert "undefined calendar 'office-hours'" in out


def test_problems_of_unchanged_files_of_the_folder_are_reported(repo: Path) -> None:
    expected = break_agent_site()
    for changed in (CHANGED, f"{FOLDER}/world.yaml"):
        code, out = run("validate", "--changed", changed, ".github/workflows/ci.yml")
        assert code == 1, out
        assert out.count(expected) == 1, out


def test_each_folder_is_checked_once(repo: Path) -> None:
    expected = break_agent_site()
    code, out = run("validate", "--changed", CHANGED, f"{FOLDER}/agent-site.yaml",
                    f"./{FOLDER}/world.yaml", f"{FOLDER}/../leadstreet/remax-com.yaml")
    assert code == 1
    assert out.count(expected) == 1, out
    assert f"{folder_size()} files checked: 1 error" in out


def test_a_broken_file_in_a_policy_folder_is_reported(repo: Path) -> None:
    (Path(FOLDER) / "new-policy.yaml").write_text("policy: [unclosed\n")
    code, out = run("validate", "--changed", f"{FOLDER}/new-policy.yaml")
    assert code == 1
    assert f"{FOLDER}/new-policy.yaml:2:1: error[RK001]: YAML syntax error" in out
    # and it breaks the folder for any other change in it
    code, out = run("validate", "--changed", CHANGED)
    assert code == 1 and "new-policy.yaml:2:1: error[RK001]" in out


def test_a_broken_file_with_a_rulekit_key_is_reported_anywhere(repo: Path) -> None:
    (repo / "drafts").mkdir()
    (repo / "drafts" / "idea.yaml").write_text("rulekit: 1\npolicy: idea\nrules: [\n")
    code, out = run("validate", "--changed", "drafts/idea.yaml")
    assert code == 1
    assert "drafts/idea.yaml:4:1: error[RK001]" in out


def test_a_rule_file_without_its_rulekit_key_is_reported_in_a_policy_folder(repo: Path) -> None:
    path = Path(FOLDER) / "agent-site.yaml"
    path.write_text(path.read_text().replace("rulekit: 1\n", ""))
    code, out = run("validate", "--changed", str(path))
    assert code == 1
    assert "agent-site.yaml" in out and "rulekit" in out


def test_other_yaml_in_a_policy_folder_is_left_alone(repo: Path) -> None:
    (Path(FOLDER) / "notes.yaml").write_text("owner: lead desk\nreviewed: 2026-11-01\n")
    code, out = run("validate", "--changed", f"{FOLDER}/notes.yaml")
    assert (code, out.strip()) == (0, "no rulekit files among 1 YAML file: nothing to check")
    code, out = run("validate", "--changed", CHANGED)
    assert code == 0, out
    # plain validate of the folder still wants every YAML file to be a rulekit file
    code, out = run("validate", FOLDER)
    assert code == 1 and "RK009" in out


def test_a_folder_stands_for_the_yaml_files_under_it(repo: Path) -> None:
    code, out = run("validate", "--changed", ".")
    every = len(list(Path(FOLDER).rglob("*.yaml")))
    assert (code, out.strip()) == (0, f"{every} files checked: no problems")
    expected = break_agent_site()
    code, out = run("validate", "--changed", "--format", "github", ".")
    assert code == 1
    assert "file=rules/leadstreet/agent-site.yaml" in out
    assert expected.split(": error")[0].rsplit(":", 2)[1] in out  # the line number


def test_a_missing_path_is_reported(repo: Path) -> None:
    code, out = run("validate", "--changed", "rules/nope.yaml")
    assert code == 1
    assert "rules/nope.yaml:1:1: error[RK008]: no such file or folder" in out


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="needs a user that file permissions apply to")
def test_an_unreadable_file_in_a_policy_folder_is_reported(repo: Path) -> None:
    path = Path(FOLDER) / "secret.yaml"
    path.write_text("rulekit: 1\n")
    path.chmod(0)
    try:
        code, out = run("validate", "--changed", CHANGED)
    finally:
        path.chmod(0o644)
    assert code == 1 and "secret.yaml" in out
