"""constraints.txt pins every dependency: each of pyproject's requirements (and everything they
pull into this environment) at one exact version that satisfies pyproject's range, and no pin
fights a constraint file pip is configured with on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tools.lock import closure, project_requirements

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"


def read_pins(path: Path) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"line {number}: {raw!r} is no pin"
        assert not requirement.extras, f"line {number}: constraints cannot carry extras"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"line {number}: {name} pinned twice"
        pins[name] = Version(specs[0].version)
    return pins


def test_every_pyproject_requirement_is_pinned_inside_its_range() -> None:
    pins = read_pins(CONSTRAINTS)
    assert "incidentbot" not in pins  # the project itself is installed from the tree
    for requirement in project_requirements(("dev",)):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not pinned in constraints.txt (run make lock)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )


def test_everything_installed_for_the_project_is_pinned_at_its_installed_version() -> None:
    """A dependency added to the venv (or upgraded) without `make lock` shows up here."""
    pins = read_pins(CONSTRAINTS)
    for name, dist in closure(project_requirements(("dev",))).items():
        if name == "incidentbot":
            continue
        assert name in pins, f"{name} is installed for the project but not pinned (make lock)"
        assert pins[name] == Version(dist.version), (
            f"{name}: installed {dist.version}, constraints.txt pins {pins[name]} (make lock)"
        )


def _pip_constraint_files() -> list[Path]:
    """The constraint files pip applies on its own here: its configuration and PIP_CONSTRAINT."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    found = [
        value.strip().strip("'\"")
        for line in listed.splitlines()
        if "=" in line and line.split("=", 1)[0].endswith(".constraint")
        for value in [line.split("=", 1)[1]]
    ]
    found += os.environ.get("PIP_CONSTRAINT", "").split()
    return [Path(p.removeprefix("file://")) for f in found for p in f.split() if p]


def test_pins_agree_with_the_machines_own_pip_constraints() -> None:
    files = [f for f in _pip_constraint_files() if f.is_file()]
    if not files:
        pytest.skip("pip is configured with no constraint file here")
    pins = read_pins(CONSTRAINTS)
    for path in files:
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            theirs = Requirement(line)
            ours = pins.get(canonicalize_name(theirs.name))
            if ours is not None:
                assert SpecifierSet(str(theirs.specifier)).contains(ours, prereleases=True), (
                    f"{path} asks {theirs}; constraints.txt pins {theirs.name}=={ours}"
                )
