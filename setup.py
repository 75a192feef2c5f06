"""One build step pyproject.toml cannot say: the shipped playbooks, post-mortem templates and
Slack app manifest, edited at the top of the repository, are copied into the wheel as package
data (`bot/shipped/`, where bot/package_data.py finds them). An editable install skips the copy:
it reads the repository's own files. Everything else is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("playbooks", "postmortem_templates", "slack_manifest.yaml")  # bot/package_data.py


class BuildPyWithShippedFiles(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "bot" / "shipped"
        shutil.rmtree(target, ignore_errors=True)  # no file deleted in the repository lingers
        target.mkdir(parents=True)
        for name in SHIPPED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".*"))
            elif source.is_file():
                shutil.copy2(source, target / name)
            else:  # a wheel without them would run without its defaults: refuse to build it
                raise FileNotFoundError(f"{source} is missing: it ships in the wheel (setup.py)")


setup(cmdclass={"build_py": BuildPyWithShippedFiles})
