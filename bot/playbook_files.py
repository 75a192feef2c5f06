"""Playbook files: a directory of `*.yaml` / `*.yml`, one playbook per file.

Every problem is reported as `path:line: message`, the line being that of the offending key:
the YAML is composed into nodes first (which keep their marks), the playbook is validated by the
core, and each problem's `loc` is walked down the node tree to the key it names. A key that is
missing is reported at the key that should hold it. YAML syntax errors carry their own line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.catalog import Catalog
from bot.core.playbook_lint import PlaybookError, parse_playbook
from bot.core.playbooks import Loc, Playbook

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    playbook: Playbook | None  # None when the file has problems
    problems: tuple[str, ...]
    name_line: int = 1  # where `name:` is, for duplicate-name reports


@dataclass(frozen=True)
class LoadedPlaybooks:
    playbooks: tuple[Playbook, ...]  # only those without problems, in file-name order
    sources: Mapping[str, Path]  # playbook name -> its file
    problems: tuple[str, ...]

    def by_name(self, name: str) -> Playbook | None:
        return next((p for p in self.playbooks if p.name == name), None)


def line_of(root: Node, loc: Loc) -> int:
    """The 1-based line of the key (or list item) `loc` names; as deep as the document goes."""
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, MappingNode):
            entry = next(
                ((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == part),
                None,
            )
            if entry is None:
                break
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: Node, seen_nodes: set[int] | None = None) -> list[tuple[int, str]]:
    """YAML keeps the last of two equal keys silently; a playbook author wants to know."""
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # an alias: already walked
        return []
    seen_nodes.add(id(node))
    found: list[tuple[int, str]] = []
    if isinstance(node, MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                line = key.start_mark.line + 1
                if key.value in first:
                    found.append(
                        (line, f"duplicate key {key.value!r} (first at line {first[key.value]})")
                    )
                first.setdefault(key.value, line)
            found += _duplicate_keys(value, seen_nodes)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            found += _duplicate_keys(item, seen_nodes)
    return found


class YamlProblem(ValueError):
    """Text that is not one YAML document; `line` is 1-based."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(detail)
        self.line = line


def yaml_document(text: str) -> tuple[object, Node | None]:
    """The data of one YAML document and its node tree (for line numbers), or YamlProblem."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = ", ".join(part for part in (exc.context, exc.problem) if part) or "syntax error"
        raise YamlProblem(mark.line + 1 if mark is not None else 1, detail) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(1, str(exc)) from exc
    finally:
        loader.dispose()


def load_text(text: str, source: str, catalog: Catalog | None = None) -> LoadedFile:
    """One playbook from YAML text; `source` prefixes the problems (`source:line: message`)."""
    path = Path(source)
    try:
        data, root = yaml_document(text)
    except YamlProblem as problem:
        return LoadedFile(path, None, (f"{source}:{problem.line}: invalid YAML: {problem}",))
    if root is None:
        return LoadedFile(path, None, (f"{source}:1: empty file: expected a playbook",))
    found = _duplicate_keys(root)
    playbook: Playbook | None = None
    try:
        playbook = parse_playbook(data, catalog)
    except PlaybookError as exc:
        found += [(line_of(root, problem.loc), str(problem)) for problem in exc.problems]
    problems = tuple(f"{source}:{line}: {message}" for line, message in sorted(found, key=_line))
    return LoadedFile(
        path, None if problems else playbook, problems, name_line=line_of(root, ("name",))
    )


def _line(found: tuple[int, str]) -> int:
    return found[0]


def load_file(path: Path, catalog: Catalog | None = None) -> LoadedFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        return LoadedFile(path, None, (f"{path}:1: cannot read it ({reason})",))
    return load_text(text, str(path), catalog)


def playbook_paths(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def load_directory(directory: Path, catalog: Catalog | None = None) -> LoadedPlaybooks:
    """Every playbook file of `directory` (not recursive); problems of all files, and playbook
    names used by two files (the later file, in name order, is the one reported)."""
    if not directory.is_dir():
        return LoadedPlaybooks((), {}, (f"{directory}: not a directory",))
    paths = playbook_paths(directory)
    if not paths:
        return LoadedPlaybooks((), {}, (f"{directory}: no playbook files (*.yaml, *.yml)",))
    problems: list[str] = []
    playbooks: list[Playbook] = []
    sources: dict[str, Path] = {}
    for path in paths:
        loaded = load_file(path, catalog)
        problems += loaded.problems
        playbook = loaded.playbook
        if playbook is None:
            continue
        if playbook.name in sources:
            problems.append(
                f"{path}:{loaded.name_line}: duplicate playbook name {playbook.name!r} "
                f"(also in {sources[playbook.name]})"
            )
            continue
        sources[playbook.name] = path
        playbooks.append(playbook)
    return LoadedPlaybooks(tuple(playbooks), sources, tuple(problems))


def lint(directory: Path, catalog: Catalog) -> list[str]:
    """`incidentbot playbooks lint [DIR]`: every problem as `path:line: message`; none is OK."""
    return list(load_directory(directory, catalog).problems)
