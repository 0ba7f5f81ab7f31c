"""The pre-commit hook in a real repository, run by pre-commit itself.

A throwaway git repository of rulekit's source (the working tree, committed) is the hook's
repository; a throwaway user repository holds a policy folder, a CI workflow, a pre-commit
configuration and a YAML file that is not even valid YAML.  pre-commit builds the hook's
environment (a virtualenv with rulekit pip-installed from that repository) and runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
    pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs rulekit's git checkout"),
]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}
CI_WORKFLOW = """\
name: ci
on: [push, pull_request]
jobs:
  rulekit:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: rulekit validate rules
"""
#: A Helm-style template: YAML by its name, not by its text.
TEMPLATE = """\
replicas: {{ .Values.replicas }}
{{- if .Values.extra }}
extra: [unclosed
{{- end }}
"""


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def source_repo(destination: Path) -> tuple[Path, str]:
    """rulekit's working tree (tracked and new files, as they are now), as a fresh git
    repository with one commit; returns the repository and its commit."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in sorted(set(listed.decode().split("\0")) - {""}):
        source, target = ROOT / name, destination / name
        if not source.is_symlink() and not source.is_file():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "rulekit")
    return destination, git(destination, "rev-parse", "HEAD")


def readme_config(repo: Path, rev: str) -> str:
    """The README's pre-commit configuration, pointed at ``repo`` and pinned to ``rev``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
              if "rulekit-validate" in b]
    assert len(blocks) == 1, "the README shows one pre-commit configuration"
    config, repos = re.subn(r"(?m)^(\s*- repo:) \S+.*$", rf"\g<1> {repo}", blocks[0])
    config, revs = re.subn(r"(?m)^(\s*rev:) \S+.*$", rf"\g<1> {rev}", config)
    assert repos == revs == 1, blocks[0]
    return config


def user_repo(path: Path, config: str) -> Path:
    (path / "rules").mkdir(parents=True)
    shutil.copytree(ROOT / "rules" / "leadstreet", path / "rules" / "leadstreet")
    (path / ".github" / "workflows").mkdir(parents=True)
    (path / ".github" / "workflows" / "ci.yml").write_text(CI_WORKFLOW)
    (path / "deploy").mkdir()
    (path / "deploy" / "values.yaml").write_text(TEMPLATE)
    (path / ".pre-commit-config.yaml").write_text(config)
    git(path, "init", "-q")
    git(path, "add", "-A")
    return path


def pre_commit(cwd: Path, home: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    done = subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=900)
    return done.returncode, done.stdout + done.stderr


def test_the_hook_in_a_real_repository(tmp_path: Path) -> None:
    repo, commit = source_repo(tmp_path / "rulekit")
    manifest = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest",
                               str(repo / ".pre-commit-hooks.yaml")],
                              capture_output=True, text=True, check=False)
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    user = user_repo(tmp_path / "user", readme_config(repo, commit))
    home = tmp_path / "pre-commit-home"

    code, out = pre_commit(user, home, "validate-config", ".pre-commit-config.yaml")
    assert code == 0, out
    assert "mutable reference" not in out

    # try-repo: the hook from the repository's current commit, on every file
    code, out = pre_commit(user, tmp_path / "try-repo-home", "try-repo", str(repo),
                           "rulekit-validate", "--all-files", "--verbose")
    assert code == 0, out
    assert re.search(r"rulekit validate\.+Passed", out), out
    policy = user / "rules" / "leadstreet"
    every = len(list(policy.rglob("*.yaml")))  # the folder and its scenarios
    assert f"{every} files checked: no problems" in out
    assert "RK009" not in out and "ci.yml" not in out and "values.yaml" not in out

    # the README's configuration; one hook environment, in PRE_COMMIT_HOME, for the rest
    changed = "rules/leadstreet/charlotteproperty.yaml"  # uses a calendar of another file
    code, out = pre_commit(user, home, "run", "--verbose", "--files", changed)
    assert code == 0, out
    assert f"{len(list(policy.glob('*.yaml')))} files checked: no problems" in out
    code, out = pre_commit(user, home, "run", "--verbose", "--files", ".github/workflows/ci.yml",
                           "deploy/values.yaml", ".pre-commit-config.yaml")
    assert code == 0, out
    assert "no rulekit files among 3 YAML files" in out

    # a real mistake: an unknown field in an expression
    rule_file = user / "rules" / "leadstreet" / "agent-site.yaml"
    text = rule_file.read_text()
    assert "when: lead.site_owner != null" in text
    rule_file.write_text(text.replace("when: lead.site_owner", "when: lead.site_ownr"))
    line = text[:text.index("when: lead.site_owner")].count("\n") + 1
    column = len("    when: lead.") + 1
    expected = f"rules/leadstreet/agent-site.yaml:{line}:{column}: error[RK202]: unknown field"
    git(user, "add", "-A")
    for files in (["--files", "rules/leadstreet/agent-site.yaml"],
                  # an unchanged file's mistake breaks the rule set the changed file is in
                  ["--files", changed],
                  ["--all-files"]):
        code, out = pre_commit(user, home, "run", *files)
        assert code == 1, out
        assert re.search(r"rulekit validate\.+Failed", out), out
        assert out.count(expected) == 1, out
        assert "did you mean 'site_owner'?" in out
    assert len(list(home.glob("repo*/py_env-*"))) == 1  # one environment served every run
