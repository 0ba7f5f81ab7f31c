"""Aligned columns for the commands' tables."""

from __future__ import annotations

from collections.abc import Sequence


def align(header: Sequence[str], rows: Sequence[Sequence[str]], right: int = 1) -> list[str]:
    """A table's lines: the header, then each row, in columns as wide as their widest cell;
    the first ``right`` columns left-aligned, the others right-aligned (``right`` at the
    number of columns: all left-aligned); no trailing spaces."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < right else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), *(line(r) for r in rows)]


__all__ = ["align"]
