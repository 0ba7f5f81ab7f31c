"""The curl session of docs/service.md, run block by block against a fresh live server: each
block's output must be the ``# `` lines under it."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from live_server import load, serving, tokens

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def session_blocks() -> list[tuple[str, list[str]]]:
    text = DOC.read_text(encoding="utf-8")
    _, _, session = text.partition("## A session")
    session, _, _ = session.partition("\n## ")
    blocks = []
    for body in re.findall(r"```sh\n(.*?)```", session, flags=re.S):
        lines = body.splitlines()
        expected = [line[2:] for line in lines if line.startswith("# ")]
        script = "\n".join(line for line in lines if not line.startswith("# "))
        blocks.append((script, expected))
    return blocks


def test_the_session_of_the_docs(tmp_path: Path) -> None:
    blocks = session_blocks()
    assert len(blocks) >= 6
    db = f"sqlite:///{tmp_path}/docs.db"
    load(db)
    secrets = tokens(db, {"INTEGRATOR": ("integrator", None, ("charlotteproperty.com",)),
                          "ADMIN": ("admin", None, ()), "SUPPORT": ("support", None, ()),
                          "CONCIERGE": ("concierge", None, ()),
                          "PARKER": ("agent", "a-parker-bell", ()),
                          "BLAKE": ("agent", "a-blake-kim", ())})
    with serving(db) as base:
        env = {**os.environ, **secrets, "BASE": base}
        for script, expected in blocks:
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, check=False,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, (script, done.stdout, done.stderr)
            got = done.stdout.splitlines()
            want = [re.escape(line).replace("WORLD", "[0-9a-f]+") for line in expected]
            assert len(got) == len(want), (script, got, expected)
            for line, pattern in zip(got, want, strict=True):
                if not re.fullmatch(pattern, line):
                    pytest.fail(f"{script}\n: got {line!r}, wanted {pattern!r}")
