"""docs/tutorial.md is a shell session that really happens: this runs it and compares.

The page is read top to bottom. Three kinds of fenced block act:

* ```console — each ``$ command`` line is run with bash in a scratch folder (holding a copy of
  the repository's ``rules/``), with this environment's ``rulekit`` first on PATH; the lines
  after it, up to the next ``$``, are its expected output (stdout and stderr together).  A last
  line ``[exit N]`` states a non-zero exit status; without one the command must exit 0.
* ```yaml file=PATH — the block's text is written to PATH (a broker's editor, saving a file).
* ```diff file=PATH — each ``-`` line of the block is replaced by the ``+`` line after it in
  PATH (a broker's editor, changing a line).

Paths inside the scratch folder are shown relative to it, as the reader's own would be.
Set RULEKIT_UPDATE_TUTORIAL=1 to rewrite the expected outputs from a run (then read the diff).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(console|yaml file=(\S+)|diff file=(\S+))\n(.*?)^```\n",
                   re.DOTALL | re.MULTILINE)
EXIT = re.compile(r"^\[exit (\d+)\]$")


def _run(command: str, cwd: Path) -> tuple[str, int]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "NO_COLOR": "1", "COLUMNS": "100", "LC_ALL": "C.UTF-8"}
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    # the scratch folder stands for the reader's current folder
    return (done.stdout + done.stderr).replace(f"{cwd}{os.sep}", ""), done.returncode


def _console(block: str, cwd: Path) -> tuple[str, list[str]]:
    """The block as it should read, and what differs from what it says."""
    parts = re.split(r"^\$ ", block, flags=re.MULTILINE)
    problems: list[str] = []
    rewritten: list[str] = []
    for part in parts[1:]:
        command, _, expected = part.partition("\n")
        output, code = _run(command, cwd)
        lines = [line.rstrip() for line in output.rstrip("\n").splitlines()]
        if code:
            lines.append(f"[exit {code}]")
        actual = "\n".join(lines)
        want = "\n".join(line.rstrip() for line in expected.rstrip("\n").splitlines())
        if actual != want:
            problems.append(f"$ {command}\n--- the page says:\n{want}\n--- it printed:\n{actual}")
        rewritten.append(f"$ {command}\n" + (actual + "\n" if actual else ""))
    return "".join(rewritten), problems


def _edit(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8")
    lines = block.splitlines()
    for old, new in itertools.pairwise(lines):
        if old.startswith("-") and new.startswith("+"):
            assert old[1:] in text, f"{path}: no line {old[1:]!r} to change"
            text = text.replace(old[1:], new[1:], 1)
    path.write_text(text, encoding="utf-8")


def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    text = PAGE.read_text(encoding="utf-8")
    out: list[str] = []
    problems: list[str] = []
    position = 0
    for match in FENCE.finditer(text):
        out.append(text[position:match.start(4)])
        body = match.group(4)
        if match.group(1) == "console":
            body, found = _console(body, tmp_path)
            problems += found
        elif match.group(2):
            target = tmp_path / match.group(2)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        else:
            _edit(tmp_path / match.group(3), body)
        out.append(body)
        position = match.end(4)
    out.append(text[position:])
    if os.environ.get("RULEKIT_UPDATE_TUTORIAL"):
        PAGE.write_text("".join(out), encoding="utf-8")
        return
    assert not problems, "docs/tutorial.md differs from a real run:\n\n" + "\n\n".join(problems)
