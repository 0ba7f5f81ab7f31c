"""Safe, bounded YAML loading that keeps the position of every node.

PyYAML composes the text into nodes; this module turns the nodes into plain Python data
(``dict``/``list``/``str``/``int``/``float``/``bool``/``None``) and records, for each path in
the data, where its value (and, for mapping entries, its key) starts in the file.

Refused, each with a positioned :class:`~rulekit.errors.LoadError`:

* any explicit tag (``!!python/object/apply``, ``!custom``, even ``!!str``): RK003;
* more than :data:`MAX_ALIASES` aliases, or more than :data:`MAX_NODES` values after alias
  expansion: RK004;
* a file over its size limit (checked before parsing): RK005;
* nesting deeper than :data:`MAX_DEPTH` (checked while composing, so a 10,000-deep document never
  reaches Python's recursion limit): RK006;
* a number longer than :data:`MAX_NUMBER_DIGITS` digits, or any scalar over
  :data:`MAX_SCALAR_CHARS` characters: RK007;
* duplicate keys in a mapping: RK002; keys that are not scalars: RK001.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from rulekit.errors import LoadError, SourceLocation

MAX_DEPTH = 64
MAX_ALIASES = 100
MAX_NODES = 1_000_000
MAX_SCALAR_CHARS = 100_000
MAX_NUMBER_DIGITS = 30
#: Default size limit for rule and scenario files.
MAX_RULE_FILE_BYTES = 1 << 20
#: Default size limit for world files (they hold data: agents, listings).
MAX_WORLD_FILE_BYTES = 16 << 20

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """Where a value starts; for scalars also its style (``None`` plain, quote char, ``|``/``>``)
    and the character index of its start in the text (used to map positions inside it)."""

    line: int
    column: int
    index: int
    end_index: int
    style: str | None = None


@dataclass
class Document:
    """Plain data plus the position of every value and mapping key."""

    path: str
    text: str
    data: Any
    values: dict[Path_, Span] = field(default_factory=dict)
    keys: dict[Path_, Span] = field(default_factory=dict)

    def location(self, path: Path_, *, key: bool = False) -> SourceLocation:
        """Where the value at ``path`` (or its key) starts; else its nearest parent's."""
        probe = tuple(path)
        while True:
            table = self.keys if key else self.values
            span = table.get(probe) or self.values.get(probe)
            if span is not None:
                return SourceLocation(self.path, span.line, span.column)
            if not probe:
                return SourceLocation(self.path, 1, 1)
            probe = probe[:-1]

    def locator(self, path: Path_) -> Callable[[int, int], SourceLocation]:
        """A function mapping (line, column) inside the string at ``path`` to the file location."""
        span = self.values.get(tuple(path))
        if span is None:
            base = self.location(path)
            return lambda _line, _col: base
        value = self.get(path)
        if not isinstance(value, str):
            base = self.location(path)
            return lambda _line, _col: base
        return _ScalarLocator(self, span, value)

    def get(self, path: Path_) -> Any:
        """The value at ``path`` (``None`` when absent)."""
        node: Any = self.data
        for part in path:
            if isinstance(node, dict) and isinstance(part, str):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return None
        return node

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


class _ScalarLocator:
    """Maps positions in a scalar's value back to the file, through quoting, folding and
    block indentation, by aligning the value's characters with the raw text."""

    def __init__(self, doc: Document, span: Span, value: str) -> None:
        self._doc = doc
        self._span = span
        self._value = value
        self._offsets: list[int] | None = None

    def _align(self) -> list[int]:
        text = self._doc.text
        start = self._span.index
        if self._span.style in ('"', "'"):
            start += 1
        elif self._span.style in ("|", ">"):
            newline = text.find("\n", start)
            start = newline + 1 if newline >= 0 else start
        value = self._value
        offsets: list[int] = []
        i = start
        end = max(self._span.end_index, start)
        for ch in value:
            while i < end and text[i] != ch and text[i] in " \t\r\n\\'\"":
                i += 1
            offsets.append(min(i, len(text)))
            if i < end and text[i] == ch:
                i += 1
        offsets.append(min(i, len(text)))
        return offsets

    def __call__(self, line: int, column: int) -> SourceLocation:
        if self._offsets is None:
            self._offsets = self._align()
        value = self._value
        lines = value.split("\n")
        offset = sum(len(lines[k]) + 1 for k in range(min(line - 1, len(lines))))
        offset = max(0, min(offset + column - 1, len(self._offsets) - 1))
        index = self._offsets[offset]
        text = self._doc.text
        file_line = text.count("\n", 0, index) + 1
        file_col = index - (text.rfind("\n", 0, index) + 1) + 1
        return SourceLocation(self._doc.path, file_line, file_col)


_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*|0o?[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$")
_DIGITS_RE = re.compile(r"[0-9a-fA-F]")


class _BoundedLoader(Reader, Scanner, Parser, Composer, SafeConstructor, Resolver):
    """PyYAML's safe loader with a depth bound and an alias budget while composing."""

    def __init__(self, text: str, path: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._path = path
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise LoadError(
                    f"more than {MAX_ALIASES} YAML aliases; anchors and aliases are allowed "
                    "only sparingly in rule files",
                    _loc(self._path, event.start_mark),
                    code="RK004",
                    hint="write the repeated values out, or define a pool or calendar once "
                    "and refer to it by name",
                )
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and not isinstance(event, yaml.AliasEvent):
            shown = tag.replace("tag:yaml.org,2002:", "!!", 1)
            raise LoadError(
                f"YAML tag '{shown}' is not allowed",
                _loc(self._path, event.start_mark),
                code="RK003",
                hint="rule files are plain data: remove the tag",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise LoadError(
                    f"nesting deeper than {MAX_DEPTH} levels",
                    _loc(self._path, event.start_mark),
                    code="RK006",
                )
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


def _loc(path: str, mark: Any) -> SourceLocation:
    return SourceLocation(path, mark.line + 1, mark.column + 1)


def _span(node: Node) -> Span:
    style = node.style if isinstance(node, ScalarNode) else None
    return Span(
        node.start_mark.line + 1,
        node.start_mark.column + 1,
        node.start_mark.index,
        node.end_mark.index,
        style,
    )


class _Builder:
    """Turns composed nodes into plain data, recording positions and enforcing limits."""

    def __init__(self, loader: _BoundedLoader, doc: Document) -> None:
        self._loader = loader
        self._doc = doc
        self._count = 0

    def build(self, node: Node, path: Path_) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise LoadError(
                f"document expands to more than {MAX_NODES:,} values",
                _loc(self._doc.path, node.start_mark),
                code="RK004",
            )
        self._doc.values[path] = _span(node)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        raise LoadError("unsupported YAML node", _loc(self._doc.path, node.start_mark))

    def _mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Span] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise LoadError(
                    "YAML merge keys ('<<') are not allowed",
                    _loc(self._doc.path, key_node.start_mark),
                    code="RK003",
                    hint="write the keys out in full",
                )
            if not isinstance(key_node, ScalarNode):
                raise LoadError(
                    "mapping keys must be plain strings",
                    _loc(self._doc.path, key_node.start_mark),
                )
            key_value = self._scalar(key_node)
            key = key_value if isinstance(key_value, str) else str(key_node.value)
            span = _span(key_node)
            if key in first_seen:
                earlier = first_seen[key]
                raise LoadError(
                    f"duplicate key '{key}' (first defined at line {earlier.line}, "
                    f"column {earlier.column})",
                    SourceLocation(self._doc.path, span.line, span.column),
                    code="RK002",
                    hint="keep one of the two entries",
                )
            first_seen[key] = span
            self._doc.keys[(*path, key)] = span
            result[key] = self.build(value_node, (*path, key))
        return result

    def _scalar(self, node: ScalarNode) -> Any:
        text = node.value
        if len(text) > MAX_SCALAR_CHARS:
            raise LoadError(
                f"value of {len(text):,} characters is over the limit of {MAX_SCALAR_CHARS:,}",
                _loc(self._doc.path, node.start_mark),
                code="RK007",
            )
        if node.style is not None:
            return text
        tag = self._loader.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            digits = len(_DIGITS_RE.findall(text))
            if digits > MAX_NUMBER_DIGITS:
                raise LoadError(
                    f"number with {digits:,} digits is over the limit of {MAX_NUMBER_DIGITS}",
                    _loc(self._doc.path, node.start_mark),
                    code="RK007",
                )
        if tag == "tag:yaml.org,2002:timestamp":
            return text  # dates stay strings: the schema and calendars parse them
        if tag == "tag:yaml.org,2002:bool" and text.lower() not in ("true", "false"):
            return text  # YAML 1.2: only true/false are booleans ('off', 'no' stay words)
        resolved = ScalarNode(tag, text, node.start_mark, node.end_mark, node.style)
        return self._loader.construct_object(resolved)


def _syntax_hint(problem: str, context: str | None) -> str | None:
    if "'\\t'" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "quote a value that contains ': ' (a colon and a space)"
    if context and "flow sequence" in context:
        return "close the list with ']' (or quote a value containing ',' or ':')"
    if context and "flow mapping" in context:
        return "close the mapping with '}'"
    if context and "quoted scalar" in context:
        return "close the quotes"
    return None


def _expanded_size(root: Node, path: str) -> int:
    """How many values the document stands for once aliases are expanded, computed over the
    composed graph in linear time (each shared node is sized once).  A recursive alias is
    refused."""
    IN_PROGRESS = -1
    memo: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children: list[Node] = (
            [c for pair in node.value for c in pair] if isinstance(node, MappingNode)
            else list(node.value) if isinstance(node, SequenceNode) else [])
        if children_done:
            memo[id(node)] = 1 + sum(memo[id(c)] for c in children)
            continue
        if id(node) in memo:
            continue
        memo[id(node)] = IN_PROGRESS
        stack.append((node, True))
        for child in children:
            state = memo.get(id(child))
            if state == IN_PROGRESS:
                raise LoadError("a YAML alias refers to the value that contains it",
                                _loc(path, child.start_mark), code="RK004")
            if state is None:
                stack.append((child, False))
    return memo[id(root)]


def load_text(text: str, path: str) -> Document:
    """Parse ``text`` (one YAML document) into a :class:`Document`."""
    doc = Document(path=path, text=text, data=None)
    loader = _BoundedLoader(text, path)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.data = None
            return doc
        if _expanded_size(node, path) > MAX_NODES:
            raise LoadError(
                f"document expands to more than {MAX_NODES:,} values through its aliases",
                _loc(path, node.start_mark), code="RK004",
                hint="an alias bomb? write the repeated values out instead")
        doc.data = _Builder(loader, doc).build(node, ())
    except LoadError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = _loc(path, mark) if mark is not None else SourceLocation(path, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        message = f"YAML syntax error: {problem}"
        if exc.context and exc.problem:
            opened = exc.context_mark
            started = (f", started at line {opened.line + 1}, column {opened.column + 1}"
                       if opened is not None and exc.problem_mark is not None
                       and opened.line != exc.problem_mark.line else "")
            message += f" ({exc.context}{started})"
        raise LoadError(message, location, code="RK001", hint=_syntax_hint(problem, exc.context)) \
            from None
    except yaml.YAMLError as exc:
        raise LoadError(f"YAML error: {exc}", SourceLocation(path, 1, 1), code="RK001") from None
    except RecursionError:
        raise LoadError(
            f"nesting deeper than {MAX_DEPTH} levels", SourceLocation(path, 1, 1), code="RK006"
        ) from None
    finally:
        loader.dispose()
    return doc


def load_file(path: Path | str, *, max_bytes: int = MAX_RULE_FILE_BYTES,
              display: str | None = None) -> Document:
    """Read and parse a file, refusing it before parsing if it is over ``max_bytes``."""
    p = Path(path)
    shown = display if display is not None else str(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise LoadError(
                f"file is {size:,} bytes, over the limit of {max_bytes:,}",
                SourceLocation(shown, 1, 1),
                code="RK005",
                hint="split it into several files",
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise LoadError(
            f"cannot read file: {exc.strerror or exc}", SourceLocation(shown, 1, 1), code="RK008"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LoadError(
            "file is not valid UTF-8", SourceLocation(shown, line, col), code="RK008"
        ) from None
    if "\x00" in text:
        raise LoadError("file contains a NUL byte", SourceLocation(shown, 1, 1), code="RK008")
    return load_text(text, shown)
