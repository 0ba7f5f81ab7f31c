"""Fuzz ``rulekit validate`` with damaged copies of the shipped rule files.

Whatever the bytes (control characters, invalid UTF-8, byte order marks, NUL, random unicode,
truncation, repeated lines, tab indentation), validation exits 0 or 1 — never 3, an internal
error — and every problem it prints starts with ``PATH:LINE:COL:``.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulekit.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (ROOT / "rules").rglob("*.yaml"))
SOURCES = [p.read_bytes() for p in SHIPPED]
HEADLINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (error|warning)\[RK\d{3}\]: ")

NASTY = [b"\x00", b"\x01", b"\x1b", b"\x1b[31m", b"\x7f", b"\xef\xbb\xbf", b"\xff\xfe",
         b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbf\xbe", b"\xef\xbf\xbf", b"\xc2\x85",
         b"\xe2\x80\xa8", b"\t", b"\r", b"\r\n", b"\n", b":", b"- ", b"&a ", b"*a", b"!!str ",
         b"'", b'"', b"[", b"{", b"#", b"\\ud800", b'"\\ud800"', b"\x0c", b"\xc2\x92"]


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["insert", "replace", "truncate", "duplicate", "tabs",
                                 "unicode", "prefix"]))
    at = draw(st.integers(0, len(data)))
    if kind == "truncate":
        return data[:at]
    if kind == "duplicate":
        lines = data.splitlines(keepends=True)
        if not lines:
            return data
        i = draw(st.integers(0, len(lines) - 1))
        return b"".join([*lines[:i + 1], *lines[i:]])
    if kind == "tabs":
        return re.sub(rb"(?m)^  ", b"\t", data, count=draw(st.integers(1, 30)))
    if kind == "unicode":
        text = draw(st.text(min_size=1, max_size=8))
        chunk = text.encode("utf-8", errors="surrogatepass")
    elif kind == "prefix":
        return draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\t"])) + data
    else:
        chunk = draw(st.sampled_from(NASTY) | st.binary(min_size=1, max_size=6))
    end = at + (draw(st.integers(0, 4)) if kind == "replace" else 0)
    return data[:at] + chunk + data[end:]


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    index = draw(st.integers(0, len(SHIPPED) - 1))
    data = SOURCES[index]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data))
    return SHIPPED[index].name, data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_validate_never_crashes_and_positions_every_problem(case: tuple[str, bytes]) -> None:
    name, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", "--format", "text", "--max-problems", "1000", str(path)])
    assert code in (0, 1), err.getvalue()
    assert "internal error" not in err.getvalue()
    headlines = [line for line in out.getvalue().splitlines()
                 if "error[RK" in line or "warning[RK" in line]
    errors = [line for line in headlines if "error[RK" in line]
    assert bool(errors) == (code == 1), out.getvalue()
    for line in headlines:
        match = HEADLINE.match(line)
        assert match is not None, line
        assert match["path"] == str(path)
        assert int(match["line"]) >= 1 and int(match["col"]) >= 1
