"""The catalog file (INCIDENTBOT_CONFIG): read, parsed and validated, every problem reported as
`path:line: message` at the key it names, as `playbooks lint` reports playbooks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
        return catalog_from_file_mapping(data)
    except CatalogError as exc:
        cause = exc.__cause__
        if root is None or not isinstance(cause, ValidationError):
            raise CatalogFileError(path, [f"{path}: {exc}"]) from exc
        problems = [
            f"{path}:{line_of(root, _file_loc(error['loc'], data))}: "
            + _where(_file_loc(error["loc"], data))
            + error["msg"].removeprefix("Value error, ")
            for error in cause.errors()
        ]
        raise CatalogFileError(path, problems) from exc


# The catalog file names the vendor where the model is neutral: a service's `pagerduty:` is its
# pager target on PagerDuty (`pager: {kind: pagerduty, ...}`; `pager:` names any pager by its
# `kind`), `postmortem.jira_project` the tracker's project. The file keeps today's keys.
SERVICE_KEYS = {"pagerduty": "pager"}
POSTMORTEM_KEYS = {"jira_project": "tracker_project"}


def catalog_from_file_mapping(data: Mapping[str, Any] | None) -> Catalog:
    """A catalog from the parsed file: its keys as the README documents them."""
    return catalog_from_mapping(_model_keys(data))


def _renamed(spec: object, keys: Mapping[str, str]) -> object:
    if not isinstance(spec, dict):
        return spec
    # a file that spells both (`pagerduty:` and `pager:`) keeps both, and the model refuses one
    return {keys[k] if k in keys and keys[k] not in spec else k: v for k, v in spec.items()}


def _service(spec: object) -> object:
    """`pagerduty: {...}` is `pager: {kind: pagerduty, ...}`."""
    if isinstance(spec, dict) and "pager" not in spec and isinstance(spec.get("pagerduty"), dict):
        spec = {**spec, "pagerduty": {"kind": "pagerduty", **spec["pagerduty"]}}
    return _renamed(spec, SERVICE_KEYS)


def _model_keys(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    out = dict(data)
    services = out.get("services")
    if isinstance(services, dict):
        out["services"] = {k: _service(v) for k, v in services.items()}
    elif isinstance(services, list):
        out["services"] = [_service(v) for v in services]
    if "postmortem" in out:
        out["postmortem"] = _renamed(out["postmortem"], POSTMORTEM_KEYS)
    return out


def _file_loc(
    loc: tuple[int | str, ...], data: Mapping[str, Any] | None = None
) -> tuple[int | str, ...]:
    """A model's error location as the file spells it (`services[0].pagerduty.routing_key`;
    `services.payments.tracker` where the file gives services as a mapping)."""
    loc = _service_key(loc, data)
    back = {v: k for k, v in SERVICE_KEYS.items()}
    if (
        len(loc) > 2
        and loc[0] == "services"
        and isinstance(loc[2], str)
        and loc[2] in back
        and loc[2] not in _service_spec(data, loc[1])  # the file spelled the vendor's key
    ):
        return (*loc[:2], back[loc[2]], *loc[3:])
    back = {v: k for k, v in POSTMORTEM_KEYS.items()}
    if len(loc) > 1 and loc[0] == "postmortem" and isinstance(loc[1], str) and loc[1] in back:
        return (loc[0], back[loc[1]], *loc[2:])
    return loc


def _service_key(
    loc: tuple[int | str, ...], data: Mapping[str, Any] | None
) -> tuple[int | str, ...]:
    services = (data or {}).get("services")
    if len(loc) > 1 and loc[0] == "services" and isinstance(services, dict):
        names = list(services)
        if isinstance(loc[1], int) and 0 <= loc[1] < len(names):
            return (loc[0], str(names[loc[1]]), *loc[2:])
    return loc


def _service_spec(data: Mapping[str, Any] | None, index: int | str) -> Mapping[str, Any]:
    services = (data or {}).get("services")
    if isinstance(services, dict) and isinstance(index, str):
        spec = services.get(index)
        return spec if isinstance(spec, dict) else {}
    if isinstance(services, dict):
        services = list(services.values())
    if isinstance(services, list) and isinstance(index, int) and 0 <= index < len(services):
        spec = services[index]
        return spec if isinstance(spec, dict) else {}
    return {}


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return f"{text}: " if text else ""
