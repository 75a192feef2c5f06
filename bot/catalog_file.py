"""The catalog file (INCIDENTBOT_CONFIG): read, parsed and validated, every problem reported as
`path:line: message` at the key it names, as `playbooks lint` reports playbooks."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from bot.core.catalog import Catalog, CatalogError, catalog_from_mapping
from bot.playbook_files import YamlProblem, line_of, yaml_document


class CatalogFileError(CatalogError):
    """The catalog file is unusable; `problems` are its `path[:line]: message` lines."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"INCIDENTBOT_CONFIG={path}: " + "\n  ".join(problems))
        self.path = path
        self.problems = problems


def load_catalog(path: Path) -> Catalog:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogFileError(path, [f"{path}: cannot read it ({exc.strerror})"]) from exc
    except UnicodeDecodeError as exc:
        raise CatalogFileError(path, [f"{path}: not UTF-8 text ({exc.reason})"]) from exc
    try:
        data, root = yaml_document(text)
    except YamlProblem as problem:
        raise CatalogFileError(
            path, [f"{path}:{problem.line}: not valid YAML: {problem}"]
        ) from problem
    if data is not None and not isinstance(data, dict):
        raise CatalogFileError(path, [f"{path}:1: the top level must be a mapping"])
    try:
        return catalog_from_mapping(data)
    except CatalogError as exc:
        cause = exc.__cause__
        if root is None or not isinstance(cause, ValidationError):
            raise CatalogFileError(path, [f"{path}: {exc}"]) from exc
        problems = [
            f"{path}:{line_of(root, error['loc'])}: {_where(error['loc'])}"
            + error["msg"].removeprefix("Value error, ")
            for error in cause.errors()
        ]
        raise CatalogFileError(path, problems) from exc


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return f"{text}: " if text else ""
