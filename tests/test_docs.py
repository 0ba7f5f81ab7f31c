"""Every ```python block in docs/*.md runs; blocks of one page share a namespace, in order.

A page's examples are part of its contract: a page whose example stops working fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
PAGES = sorted(p for p in DOCS.glob("*.md") if BLOCK.search(p.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_doc_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DOCS.parent)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}", "TMP": tmp_path}
    text = page.read_text(encoding="utf-8")
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start(1)) + 1
        code = compile(match.group(1), f"{page}:{line}", "exec")
        exec(code, namespace)  # the project's own documentation, not user input
