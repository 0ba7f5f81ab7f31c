"""``rulekit validate PATH…``: check rule and world files, report every problem at once.

Beside what :func:`rulekit.config.project.check_paths` checks, each folder of rule files has
its notification templates checked (:func:`template_problems`): its ``templates/`` folder, and
the ``template:`` of every notification of its rules.

``rulekit validate --changed FILE…`` is the mode for hooks (pre-commit) that pass the files a
commit changes, whatever they are: it picks the rulekit documents among them and validates
each one together with its whole policy folder (see :func:`changed_folders`).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rulekit.cli.render import render_github, render_json, render_text, summary
from rulekit.config.lint import notify_templates
from rulekit.config.load import MAX_WORLD_FILE_BYTES, Document, load_file
from rulekit.config.project import (
    YAML_SUFFIXES,
    CheckResult,
    check_paths,
    document_kind,
    find_files,
)
from rulekit.errors import Diagnostic, DiagnosticSink, LoadError, Severity
from rulekit.notify.templates import check_templates, template_files

#: A top-level ``rulekit:`` key (plain or quoted, also as the first key of a flow mapping): the
#: mark of a rulekit document.  Keys of nested mappings are indented, so they do not match.
RULEKIT_KEY = re.compile(rb"^(?:\xef\xbb\xbf)?(?:\{[ \t]*)?([\"']?)rulekit\1[ \t]*:", re.MULTILINE)
#: Top-level keys that make a file of a policy folder a rulekit document even without
#: ``rulekit:`` (the schema then reports the missing key).
KIND_KEYS = ("rulekit", "policy", "world", "scenario")


def has_rulekit_key(path: Path, limit: int = MAX_WORLD_FILE_BYTES) -> bool:
    """Whether the text of ``path`` (its first ``limit`` bytes) has a top-level ``rulekit:``
    line: a plain text search, so a file that is not valid YAML is still recognised."""
    try:
        with path.open("rb") as handle:
            head = handle.read(limit)
    except OSError:
        return False
    return RULEKIT_KEY.search(head) is not None


class Selection:
    """Which YAML files are rulekit documents, each file and folder looked at once.

    A file is a rulekit document when its text has a top-level ``rulekit:`` line.  A folder
    holding such a file is a *policy folder*; there, a YAML file without that line is still a
    rulekit document when it does not load (a broken rule file must not slip through) or when
    it loads as a mapping with a ``policy``, ``world`` or ``scenario`` key.  Any other YAML file
    (CI workflows, the pre-commit configuration, …) is left alone."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self._marked: dict[Path, bool] = {}
        self._policy_folders: dict[Path, bool] = {}

    def marked(self, path: Path) -> bool:
        key = path.resolve()
        if key not in self._marked:
            self._marked[key] = path.suffix in YAML_SUFFIXES and has_rulekit_key(
                path, max(self.max_bytes or 0, MAX_WORLD_FILE_BYTES))
        return self._marked[key]

    def folder_files(self, folder: Path) -> list[Path]:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return []
        return [p for p in entries if p.suffix in YAML_SUFFIXES and not p.name.startswith(".")
                and p.is_file()]

    def policy_folder(self, folder: Path) -> bool:
        key = folder.resolve()
        if key not in self._policy_folders:
            self._policy_folders[key] = any(self.marked(p) for p in self.folder_files(folder))
        return self._policy_folders[key]

    def is_document(self, path: Path) -> bool:
        if path.suffix not in YAML_SUFFIXES:
            return False
        if self.marked(path):
            return True
        if not self.policy_folder(path.parent):
            return False
        try:
            data = load_file(path, max_bytes=self.max_bytes or MAX_WORLD_FILE_BYTES).data
        except LoadError:
            return True  # reported as it is by the validation
        return isinstance(data, dict) and any(key in data for key in KIND_KEYS)


def changed_folders(paths: Sequence[str], max_bytes: int | None = None
                    ) -> tuple[list[Path], int, list[Diagnostic]]:
    """The files to validate for changed ``paths``: every rulekit document among them (a
    folder stands for the YAML files under it) brings in the rulekit documents of its folder —
    the folder's rule files form one rule set with its ``world.yaml``, so a change to any of
    them is checked against all of them.  Also returns how many YAML files were given, and a
    problem for each path that does not exist."""
    given, missing = find_files(paths)
    yaml_files = [p for p in given if p.suffix in YAML_SUFFIXES]
    selection = Selection(max_bytes)
    folders: dict[Path, Path] = {}  # resolved → as first spelled
    for path in yaml_files:
        if selection.is_document(path):
            folders.setdefault(path.parent.resolve(), path.parent)
    chosen: dict[Path, Path] = {}
    for folder in folders.values():
        for member in selection.folder_files(folder):
            if selection.is_document(member):
                chosen.setdefault(member.resolve(), member)
    for path in yaml_files:  # a changed hidden file is not among its folder's files
        if path.resolve() not in chosen and selection.is_document(path):
            spelled = folders[path.parent.resolve()] / path.name
            chosen.setdefault(path.resolve(), spelled)
    return list(chosen.values()), len(yaml_files), missing


def template_problems(result: CheckResult) -> tuple[list[Diagnostic], int]:
    """The problems of the notification templates of each folder of rule files checked: its
    ``templates/`` and the templates its rules name (see
    :func:`rulekit.notify.templates.check_templates`); and how many template files it read."""
    folders: dict[str, list[Document]] = {}
    for doc in result.documents.values():
        if document_kind(doc, DiagnosticSink()) == "rulefile":
            folders.setdefault(str(Path(doc.path).parent), []).append(doc)
    problems: list[Diagnostic] = []
    files = 0
    for folder, docs in folders.items():
        problems.extend(check_templates(Path(folder), notify_templates(docs)))
        files += len(template_files(Path(folder)))
    return problems, files


def read_line(path: str, line: int, max_bytes: int = 1 << 20) -> str | None:
    """Line ``line`` of a file that could not be loaded (for its caret excerpt)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes)
    except OSError:
        return None
    lines = raw.decode("utf-8", errors="replace").splitlines()
    return lines[line - 1][:500] if 0 < line <= len(lines) else None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rulekit validate",
        description="Check rule files and world files: YAML, schema, expressions, calendars, "
        "references, reachability and termination. Every problem is reported in one run.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (searched "
                   "recursively for *.yaml / *.yml)")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="text (default), json (a list of objects), or github (annotations)")
    p.add_argument("--max-problems", type=int, default=50, metavar="N",
                   help="show at most N problems (default 50)")
    p.add_argument("--warnings-as-errors", action="store_true",
                   help="exit 1 on warnings too")
    p.add_argument("--max-file-bytes", type=int, default=None, metavar="N",
                   help="refuse files over N bytes (default: 1 MiB for rule files, "
                   f"{MAX_WORLD_FILE_BYTES >> 20} MiB for world files)")
    p.add_argument("--changed", action="store_true",
                   help="the paths are changed files (as a pre-commit hook passes them): "
                   "ignore YAML files that are not rulekit documents (no top-level 'rulekit:' "
                   "key) and validate each rulekit document with its whole policy folder")
    p.add_argument("-q", "--quiet", action="store_true", help="text format: no summary line")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if args.max_problems < 1:
        parser().error("--max-problems must be at least 1")
    # every calendar must open within its horizon, counted from today
    today = datetime.now(UTC).date()
    if args.changed:
        files, given, missing = changed_folders(args.paths, args.max_file_bytes)
        if not files and not missing:
            if args.format == "json":
                print(render_json([], limit=args.max_problems))
            elif args.format == "text" and not args.quiet:
                noun = "file" if given == 1 else "files"
                print(f"no rulekit files among {given} YAML {noun}: nothing to check")
            return 0
        result = check_paths(files, max_bytes=args.max_file_bytes, horizon_from=today)
        result.diagnostics = sorted([*missing, *result.diagnostics], key=Diagnostic.sort_key)
    else:
        result = check_paths(args.paths, max_bytes=args.max_file_bytes, horizon_from=today)
    templates, template_count = template_problems(result)
    diags: list[Diagnostic] = sorted([*result.diagnostics, *templates], key=Diagnostic.sort_key)

    def source_line(path: str, line: int) -> str | None:
        doc = result.documents.get(path)
        if doc is not None:
            return doc.line_text(line)
        return read_line(path, line)

    if args.format == "json":
        print(render_json(diags, limit=args.max_problems))
    elif args.format == "github":
        if diags:
            print(render_github(diags, limit=args.max_problems))
    else:
        if diags:
            print(render_text(diags, source_line, limit=args.max_problems))
        if not args.quiet:
            print(summary(diags, len(result.files) + template_count),
                  file=sys.stderr if diags else sys.stdout)
    failing = [d for d in diags
               if d.severity is Severity.ERROR or args.warnings_as_errors]
    return 1 if failing else 0
