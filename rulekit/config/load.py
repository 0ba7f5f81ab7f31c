"""Safe, bounded YAML loading that keeps the position of every node.

PyYAML (or, for large texts, libyaml) parses the text into events; this module turns the events
into plain Python data (``dict``/``list``/``str``/``int``/``float``/``bool``/``None``) in one
pass without recursion, and records, for each value, where it (and, for mapping entries, its
key) starts in the file, in flat arrays of a few bytes per value.

Refused, each with a positioned :class:`~rulekit.errors.LoadError`:

* a character YAML does not allow (control characters, U+FFFE/U+FFFF, lone surrogates, a byte
  order mark after the start), at the first one, found before parsing; bytes that are not
  UTF-8; a NUL byte: RK008 (a leading UTF-8 byte order mark is dropped);
* any explicit tag (``!!python/object/apply``, ``!custom``, even ``!!str``): RK003;
* more than :data:`MAX_ALIASES` aliases, or aliases that reach more than
  :data:`MAX_ALIAS_NODES` values in all (counted before anything is expanded): RK004;
* a file over its size limit (checked before parsing), or a document of more than
  :data:`MAX_NODES` values: RK005;
* nesting deeper than :data:`MAX_DEPTH` (checked while reading): RK006;
* a number longer than :data:`MAX_NUMBER_DIGITS` digits, or any scalar over
  :data:`MAX_SCALAR_CHARS` characters: RK007;
* duplicate keys in a mapping: RK002; keys that are not scalars: RK001.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import ScalarNode
from yaml.parser import Parser, ParserError
from yaml.reader import Reader, ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner, ScannerError

from rulekit.errors import LoadError, SourceLocation

_CParser: Any
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

MAX_DEPTH = 64
MAX_ALIASES = 100
#: Values a document may reach through its aliases, all aliases together (an alias to a list
#: of three reaches four values: the list and its items).
MAX_ALIAS_NODES = 100_000
#: Values (mappings, lists, scalars; not keys) one document may hold, aliases aside.  A world
#: of 100,000 agents (about 20 MB) holds about 1.7 million; only a file of nothing but tiny
#: values reaches the limit under the size limit.
MAX_NODES = 5_000_000
MAX_SCALAR_CHARS = 100_000
MAX_NUMBER_DIGITS = 30
#: Texts this long or longer are read with libyaml (about ten times faster than PyYAML's own
#: parser, which reads the rest).  libyaml also accepts a few texts PyYAML refuses (a tab inside
#: a plain value, ``a? b`` in a flow list): only large world files are read that way.
LIBYAML_FROM_CHARS = 256 << 10
#: Default size limit for rule and scenario files.
MAX_RULE_FILE_BYTES = 1 << 20
#: Default size limit for world files (they hold data: agents, listings).
MAX_WORLD_FILE_BYTES = 32 << 20

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


class _Nodes:
    """Where each value of a document is, in document order (a value, then the values inside
    it): its start and end (character indexes in the text), its scalar style, the start of the
    key it is the value of (-1 for list items and the root), and the number of the first node
    after it.  Flat arrays: a few bytes per value, whatever the size of the document."""

    __slots__ = ("_children", "_keys", "after", "end", "key", "start", "style")

    def __init__(self) -> None:
        self.start = array("i")
        self.end = array("i")
        self.key = array("i")
        self.after = array("i")
        self.style = bytearray()
        self._children: dict[int, array[int]] = {}
        self._keys: dict[int, dict[str, int]] = {}

    def __len__(self) -> int:
        return len(self.start)

    def children(self, node: int) -> array[int]:
        """The nodes of the values directly inside ``node`` (computed once per node)."""
        found = self._children.get(node)
        if found is None:
            found = array("i")
            after = self.after
            child, stop = node + 1, after[node]
            while child < stop:
                found.append(child)
                child = after[child]
            self._children[node] = found
        return found

    def key_position(self, node: int, mapping: dict[str, Any], key: str) -> int:
        """The position of ``key`` among the entries of the mapping at ``node``."""
        if len(mapping) <= 8:
            for position, name in enumerate(mapping):
                if name == key:
                    return position
            return -1
        table = self._keys.get(node)
        if table is None:
            table = {name: position for position, name in enumerate(mapping)}
            self._keys[node] = table
        return table.get(key, -1)


_STYLE_CODES = {None: 0, "": 0, '"': 1, "'": 2, "|": 3, ">": 4}
#: Scalar styles whose text is the value as it is (double quotes may hold escapes to check).
_QUICK_STYLES = frozenset({"'", "|", ">"})
_STYLES: tuple[str | None, ...] = (None, '"', "'", "|", ">")
#: Line breaks as YAML counts them (a lone CR, NEL, LS and PS too).
_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``text[index]``."""
    line, start = 1, 0
    for match in _BREAK.finditer(text, 0, index):
        line += 1
        start = match.end()
    return line, index - start + 1


@dataclass
class Document:
    """Plain data plus the position of every value and mapping key."""

    path: str
    text: str
    data: Any
    _nodes: _Nodes = field(default_factory=_Nodes, repr=False, compare=False)
    _line_starts: array[int] | None = field(default=None, repr=False, compare=False)

    def _line_column(self, index: int) -> tuple[int, int]:
        starts = self._line_starts
        if starts is None:
            starts = array("i", [0])
            starts.extend(m.end() for m in _BREAK.finditer(self.text))
            self._line_starts = starts
        line = bisect_right(starts, index)
        return line, index - starts[line - 1] + 1

    def _find(self, path: Path_) -> tuple[int, bool]:
        """The node of the value at ``path`` (``True``), else of its nearest parent (``False``);
        -1 for a document without values."""
        nodes = self._nodes
        if not len(nodes):
            return -1, False
        node: int = 0
        value: Any = self.data
        for part in path:
            if isinstance(value, dict) and isinstance(part, str) and part in value:
                position = nodes.key_position(node, value, part)
            elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
                position = part
            else:
                return node, False
            children = nodes.children(node)
            if not 0 <= position < len(children):
                return node, False
            node = children[position]
            value = value[part]
        return node, True

    def location(self, path: Path_, *, key: bool = False) -> SourceLocation:
        """Where the value at ``path`` (or its key) starts; else its nearest parent's."""
        node, _ = self._find(tuple(path))
        if node < 0:
            return SourceLocation(self.path, 1, 1)
        nodes = self._nodes
        index = nodes.key[node] if key and nodes.key[node] >= 0 else nodes.start[node]
        line, column = self._line_column(index)
        return SourceLocation(self.path, line, column)

    def span(self, path: Path_) -> Span | None:
        """Where the value at ``path`` starts and ends (``None`` when there is no such value)."""
        node, found = self._find(tuple(path))
        if not found:
            return None
        nodes = self._nodes
        line, column = self._line_column(nodes.start[node])
        return Span(line, column, nodes.start[node], nodes.end[node], _STYLES[nodes.style[node]])

    def locator(self, path: Path_) -> Callable[[int, int], SourceLocation]:
        """A function mapping (line, column) inside the string at ``path`` to the file location."""
        span = self.span(path)
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
        if self._line_starts is None:
            self._line_column(0)
        starts = self._line_starts
        assert starts is not None
        if not 0 < line <= len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[starts[line - 1]:end].rstrip("\r\n\x85\u2028\u2029")


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
        file_line, file_col = self._doc._line_column(self._offsets[offset])
        return SourceLocation(self._doc.path, file_line, file_col)


_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*|0o?[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$")
_DIGITS_RE = re.compile(r"[0-9a-fA-F]")


class _PureParser(Reader, Scanner, Parser):
    """PyYAML's own events, in Python (its messages are the ones the golden corpus shows)."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


class _Scalars(SafeConstructor, Resolver):
    """Scalar text to value, the YAML 1.2 way: dates stay strings, only true/false are
    booleans, and numbers and text are bounded."""

    _INT = "tag:yaml.org,2002:int"
    _FLOAT = "tag:yaml.org,2002:float"

    def __init__(self, path: str) -> None:
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._path = path
        table: dict[str | None, list[tuple[str, re.Pattern[str]]]] = dict(
            self.yaml_implicit_resolvers)
        wildcard = table.get(None, [])
        self._by_first = {first: [*found, *wildcard] for first, found in table.items()
                          if first is not None}
        self._wildcard = wildcard

    def value(self, text: str, style: str | None, start: Any, end: Any) -> Any:
        if len(text) > MAX_SCALAR_CHARS:
            raise LoadError(
                f"value of {len(text):,} characters is over the limit of {MAX_SCALAR_CHARS:,}",
                _loc(self._path, start),
                code="RK007",
            )
        if style is not None:
            if style == '"' and _SURROGATE.search(text):
                found = ord(_SURROGATE.search(text).group())  # type: ignore[union-attr]
                raise LoadError(
                    f"YAML syntax error: the escape for U+{found:04X} is half of a surrogate "
                    "pair, not a character",
                    _loc(self._path, start), code="RK001",
                    hint="write the character itself, or one 8-digit escape such as "
                    "\"\\U0001F600\"")
            return text
        tag = next((t for t, regexp in self._by_first.get(text[:1], self._wildcard)
                    if regexp.match(text)), None)
        if tag is None:
            return text
        if tag in (self._INT, self._FLOAT):
            digits = len(_DIGITS_RE.findall(text))
            if digits > MAX_NUMBER_DIGITS:
                raise LoadError(
                    f"number with {digits:,} digits is over the limit of {MAX_NUMBER_DIGITS}",
                    _loc(self._path, start),
                    code="RK007",
                )
        if tag == "tag:yaml.org,2002:timestamp":
            return text  # dates stay strings: the schema and calendars parse them
        if tag == "tag:yaml.org,2002:bool" and text.lower() not in ("true", "false"):
            return text  # YAML 1.2: only true/false are booleans ('off', 'no' stay words)
        construct = self.yaml_constructors.get(tag)
        if construct is None:
            raise ConstructorError(None, None,
                                   f"could not determine a constructor for the tag {tag!r}",
                                   start)
        return construct(self, ScalarNode(tag, text, start, end))


_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(slots=True)
class _Anchor:
    first: int  # node of the anchored value
    mark: Any
    after: int = -1  # node after it; -1 while the value is being read
    value: Any = None
    text: str | None = None  # for a scalar: its text (a key may be an alias to it)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class _Reader:
    """Builds plain data and its node positions from a stream of YAML events, in one pass and
    without recursion, enforcing the limits as it goes: tags, depth, aliases (how many, and
    how many values they reach), values, scalar sizes, keys."""

    def __init__(self, parser: Any, doc: Document) -> None:
        self._parser = parser
        self._doc = doc
        self._path = doc.path
        self._nodes = doc._nodes
        self._scalars = _Scalars(doc.path)
        self._strings: dict[str, str] = {}
        self._anchors: dict[str, _Anchor] = {}
        self._aliases = 0
        self._expanded = 0

    def read(self) -> Any:
        get = self._parser.get_event
        get()  # stream start
        event = get()
        if isinstance(event, yaml.StreamEndEvent):
            return None
        document_start = event
        root = self._root()
        get()  # document end
        event = get()
        if not isinstance(event, yaml.StreamEndEvent):
            raise ComposerError("expected a single document in the stream",
                                document_start.start_mark, "but found another document",
                                event.start_mark)
        return root

    def _root(self) -> Any:
        get = self._parser.get_event
        nodes = self._nodes
        starts, ends, keys, afters, styles = (nodes.start, nodes.end, nodes.key, nodes.after,
                                              nodes.style)
        strings = self._strings
        scalar_value = self._scalars.value
        resolved = self._scalars._by_first  # first characters of non-string plain scalars
        quick_styles = _QUICK_STYLES
        scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, mapping_end = yaml.MappingStartEvent, yaml.MappingEndEvent
        sequence_start, sequence_end = yaml.SequenceStartEvent, yaml.SequenceEndEvent
        max_chars, max_nodes, max_depth = MAX_SCALAR_CHARS, MAX_NODES, MAX_DEPTH
        # an open mapping or list: [container, is_mapping, node, pending key, key start, anchor]
        stack: list[list[Any]] = []
        top: list[Any] | None = None
        count = 0
        while True:
            event = get()
            cls = event.__class__
            if cls is mapping_end or cls is sequence_end:
                assert top is not None
                stack.pop()
                node = top[2]
                ends[node] = event.end_mark.index
                afters[node] = len(starts)
                value = top[0]
                if top[5] is not None:
                    top[5].after, top[5].value = len(starts), value
            else:
                if cls is alias or event.tag is not None or len(stack) >= max_depth:
                    self._check(event, len(stack))
                if top is not None and top[1] and top[3] is None:  # a key
                    text = event.value if cls is scalar else None
                    if (text is not None and event.anchor is None and not event.style
                            and len(text) <= max_chars and text[:1] not in resolved
                            and text not in top[0]):
                        top[3] = strings.setdefault(text, text)
                        top[4] = event.start_mark.index
                    else:
                        top[3], top[4] = self._key(event, top)
                    continue
                key_start = top[4] if top is not None and top[1] else -1
                if cls is alias:
                    value = self._alias(event, key_start)
                else:
                    count += 1
                    if count > max_nodes:
                        raise LoadError(
                            f"document holds more than {MAX_NODES:,} values",
                            _loc(self._path, event.start_mark), code="RK005",
                            hint="split it into several files")
                    node = len(starts)
                    starts.append(event.start_mark.index)
                    keys.append(key_start)
                    anchor = self._anchor(event, node) if event.anchor is not None else None
                    if cls is scalar:
                        text = event.value
                        style = event.style or None
                        ends.append(event.end_mark.index)
                        afters.append(node + 1)
                        styles.append(_STYLE_CODES.get(style, 0))
                        if len(text) <= max_chars and (
                                style in quick_styles if style else text[:1] not in resolved):
                            value = strings.setdefault(text, text)
                        else:
                            value = scalar_value(text, style, event.start_mark, event.end_mark)
                            if value.__class__ is str:
                                value = strings.setdefault(value, value)
                        if anchor is not None:
                            anchor.after, anchor.value, anchor.text = node + 1, value, text
                    elif cls is mapping_start or cls is sequence_start:
                        ends.append(0)
                        afters.append(0)
                        styles.append(0)
                        is_mapping = cls is mapping_start
                        top = [{} if is_mapping else [], is_mapping, node, None, -1, anchor]
                        stack.append(top)
                        continue
                    else:  # pragma: no cover - the parser sends no other event here
                        raise LoadError("unsupported YAML event",
                                        _loc(self._path, event.start_mark))
            if not stack:
                return value
            top = stack[-1]
            if top[1]:
                top[0][top[3]] = value
                top[3] = None
            else:
                top[0].append(value)

    def _check(self, event: Any, depth: int) -> None:
        if event.__class__ is yaml.AliasEvent:
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
        else:
            tag = event.tag
            if tag is not None and tag != "!":
                shown = tag.replace("tag:yaml.org,2002:", "!!", 1)
                raise LoadError(
                    f"YAML tag '{shown}' is not allowed",
                    _loc(self._path, event.start_mark),
                    code="RK003",
                    hint="rule files are plain data: remove the tag",
                )
        if depth + 1 > MAX_DEPTH:
            raise LoadError(
                f"nesting deeper than {MAX_DEPTH} levels",
                _loc(self._path, event.start_mark),
                code="RK006",
            )

    def _anchor(self, event: Any, node: int) -> _Anchor | None:
        name = event.anchor
        if name is None:
            return None
        if name in self._anchors:
            raise ComposerError(f"found duplicate anchor {name!r}; first occurrence",
                                self._anchors[name].mark, "second occurrence", event.start_mark)
        anchor = _Anchor(node, event.start_mark)
        self._anchors[name] = anchor
        return anchor

    def _resolve(self, event: Any) -> _Anchor:
        anchor = self._anchors.get(event.anchor)
        if anchor is None:
            raise ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                event.start_mark)
        return anchor

    def _key(self, event: Any, mapping: list[Any]) -> tuple[str, int]:
        cls = event.__class__
        if cls is yaml.ScalarEvent:
            text = event.value
            style = event.style or None
            if style is None and event.tag is None and text == "<<":
                raise LoadError("YAML merge keys ('<<') are not allowed",
                                _loc(self._path, event.start_mark), code="RK003",
                                hint="write the keys out in full")
            value = self._scalars.value(text, style, event.start_mark, event.end_mark)
            if event.anchor is not None:
                anchor = self._anchor(event, -1)
                assert anchor is not None
                anchor.value, anchor.text = value, text
                anchor.after = len(event.value) + event.start_mark.index  # its end, for *alias
        elif cls is yaml.AliasEvent and self._resolve(event).text is not None:
            text = self._resolve(event).text
            self._expanded += 1
        else:
            raise LoadError("mapping keys must be plain strings",
                            _loc(self._path, event.start_mark))
        assert text is not None
        key = self._strings.setdefault(text, text)
        if key in mapping[0]:
            line, column = self._first_key(mapping, key)
            raise LoadError(
                f"duplicate key '{key}' (first defined at line {line}, column {column})",
                _loc(self._path, event.start_mark),
                code="RK002",
                hint="keep one of the two entries",
            )
        return key, event.start_mark.index

    def _first_key(self, mapping: list[Any], key: str) -> tuple[int, int]:
        nodes = self._nodes
        child = mapping[2] + 1
        for name in mapping[0]:
            if name == key:
                break
            child = nodes.after[child]
        return _position(self._doc.text, nodes.key[child])

    def _alias(self, event: Any, key_start: int) -> Any:
        anchor = self._resolve(event)
        if anchor.after < 0:
            raise LoadError("a YAML alias refers to the value that contains it",
                            _loc(self._path, event.start_mark), code="RK004")
        nodes = self._nodes
        if anchor.first < 0:  # the anchor of a key: one scalar value
            self._expanded += 1
            self._budget(event)
            nodes.start.append(anchor.mark.index)
            nodes.end.append(anchor.after)
            nodes.style.append(0)
            nodes.key.append(key_start)
            nodes.after.append(len(nodes.after) + 1)
            return anchor.value
        first, stop = anchor.first, anchor.after
        self._expanded += stop - first
        self._budget(event)
        copied = len(nodes)
        shift = copied - first
        nodes.start.extend(nodes.start[first:stop])
        nodes.end.extend(nodes.end[first:stop])
        nodes.style.extend(nodes.style[first:stop])
        nodes.key.extend(nodes.key[first:stop])
        nodes.key[copied] = key_start
        nodes.after.extend(array("i", [after + shift for after in nodes.after[first:stop]]))
        return _copy(anchor.value)

    def _budget(self, event: Any) -> None:
        if self._expanded > MAX_ALIAS_NODES:
            raise LoadError(
                f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} values",
                _loc(self._path, event.start_mark), code="RK004",
                hint="an alias bomb? write the repeated values out instead")


def _loc(path: str, mark: Any) -> SourceLocation:
    return SourceLocation(path, mark.line + 1, mark.column + 1)


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


#: What YAML allows in a file: tab, line breaks, printable ASCII, NEL and the printable
#: ranges above (not U+FFFE, U+FFFF or lone surrogates).  A byte order mark is allowed only as
#: the first character (removed before this check).
_NOT_ALLOWED = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_C0_NAMES = ("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT",
             "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
             "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US")


def _character_problem(text: str, path: str, index: int) -> LoadError:
    """The refusal of the character at ``text[index]``, at its line and column."""
    char = ord(text[index])
    line, column = _position(text, index)
    where = SourceLocation(path, line, column)
    name = f"U+{char:04X}"
    if char == 0:
        return LoadError("file contains a NUL byte (U+0000)", where, code="RK008",
                         hint="is it a binary file, or saved as UTF-16? rulekit files are "
                         "UTF-8 text")
    if char < 0x20 or char == 0x7F:
        label = _C0_NAMES[char] if char < 0x20 else "DEL"
        return LoadError(f"control character {name} ({label}) is not allowed in YAML", where,
                         code="RK008", hint="delete it; inside double quotes it can be written "
                         f"as the escape \"\\x{char:02x}\"")
    if 0x80 <= char <= 0x9F:
        meant = bytes([char]).decode("cp1252", errors="ignore")
        hint = (f"text decoded with the wrong encoding? this is the Windows-1252 byte for "
                f"'{meant}': write that instead" if meant else "delete it")
        return LoadError(f"control character {name} is not allowed in YAML", where,
                         code="RK008", hint=hint)
    if 0xD800 <= char <= 0xDFFF:
        return LoadError(f"lone surrogate {name} is not a character", where, code="RK008",
                         hint="the text was decoded wrongly: write the character itself")
    if char == 0xFEFF:
        return LoadError("byte order mark (U+FEFF) inside the file: it is allowed only as the "
                         "first character", where, code="RK008",
                         hint="delete it (joining files keeps each file's mark)")
    return LoadError(f"noncharacter {name} is not allowed in YAML", where, code="RK008",
                     hint="delete it; a byte-swapped byte order mark? save the file as UTF-8")


def _events(text: str, doc: Document) -> Any:
    """Read ``text`` with PyYAML's own parser, or, from :data:`LIBYAML_FROM_CHARS` on (large
    world files), with libyaml where available.  On a syntax error in a text of rule-file size,
    read it again with PyYAML's parser, whose messages rulekit's are worded after."""
    if _CParser is not None and len(text) >= LIBYAML_FROM_CHARS:
        fast = _CParser(text)
        try:
            return _Reader(fast, doc).read()
        except (ScannerError, ParserError, ReaderError):
            if len(text) > MAX_RULE_FILE_BYTES:
                raise
            doc._nodes = _Nodes()
        finally:
            fast.dispose()
    parser = _PureParser(text)
    try:
        return _Reader(parser, doc).read()
    finally:
        parser.dispose()


def load_text(text: str, path: str) -> Document:
    """Parse ``text`` (one YAML document) into a :class:`Document`.  A leading byte order mark
    is dropped; any other character YAML does not allow is refused at its position."""
    text = text.removeprefix("\ufeff")
    bad = _NOT_ALLOWED.search(text)
    if bad is not None:
        raise _character_problem(text, path, bad.start())
    doc = Document(path=path, text=text, data=None)
    try:
        doc.data = _events(text, doc)
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
    return doc


def _mib(size: int) -> str:
    return f" ({size >> 20} MiB)" if size >= 1 << 20 and size % (1 << 20) == 0 else ""


#: Byte order marks of the encodings YAML files are sometimes saved in by mistake.
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def load_file(path: Path | str, *, max_bytes: int = MAX_RULE_FILE_BYTES,
              display: str | None = None, what: str = "file",
              size_hint: str = "split it into several files") -> Document:
    """Read and parse a file, refusing it before parsing if it is over ``max_bytes`` (``what``
    and ``size_hint`` word that refusal)."""
    p = Path(path)
    shown = display if display is not None else str(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise LoadError(
                f"{what} is {size:,} bytes, over the limit of {max_bytes:,}{_mib(max_bytes)}",
                SourceLocation(shown, 1, 1),
                code="RK005",
                hint=size_hint,
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise LoadError(
            f"cannot read file: {exc.strerror or exc}", SourceLocation(shown, 1, 1), code="RK008"
        ) from None
    for bom, encoding in _WIDE_BOMS:
        if raw.startswith(bom):
            raise LoadError(f"file is {encoding} text (it starts with a {encoding} byte order "
                            "mark)", SourceLocation(shown, 1, 1), code="RK008",
                            hint="save it as UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start].decode("utf-8").removeprefix("\ufeff")
        bad = _NOT_ALLOWED.search(before)
        if bad is not None:  # an earlier character is the first problem
            raise _character_problem(before, shown, bad.start()) from None
        line, col = _position(before, len(before))
        raise LoadError(
            "file is not valid UTF-8", SourceLocation(shown, line, col), code="RK008"
        ) from None
    return load_text(text, shown)
