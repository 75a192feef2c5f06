"""The catalog file (INCIDENTBOT_CONFIG): read, parsed and validated, every problem reported as
`path:line: message` at the key it names, as `playbooks lint` reports playbooks."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.core.catalog import Catalog, CatalogError, catalog_from_mapping
from bot.playbook_files import line_of


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
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        detail = ", ".join(part for part in (exc.context, exc.problem) if part) or "syntax error"
        raise CatalogFileError(path, [f"{path}:{line}: not valid YAML: {detail}"]) from exc
    except yaml.YAMLError as exc:
        raise CatalogFileError(path, [f"{path}: not valid YAML: {exc}"]) from exc
    finally:
        loader.dispose()
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
