"""The package as a user gets it: the wheel, built from what the Dockerfile's build stage copies,
installed WITHOUT extras in a fresh virtualenv and run from an empty directory, behaves like the
repository (the shipped playbooks, post-mortem template, Slack manifest and migrations travel
inside it); and the Docker image's essentials (.dockerignore, /data, HEALTHCHECK, the
single-container command).

The wheel tests are `slow` (a build and a pip install; pip's cache makes a rerun quick): they run
by default; `-m "not slow"` leaves them out."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


# -- the Dockerfile, read ---------------------------------------------------------------------------
@dataclass
class Instruction:
    stage: str
    keyword: str
    args: str


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions (continuation lines joined), each with its stage's name."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found, stage = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            words = args.split()
            stage = words[2] if len(words) == 3 and words[1].upper() == "AS" else f"#{len(found)}"
        found.append(Instruction(stage, keyword.upper(), args.strip()))
    return found


def copied_from_context(stage: str | None = None) -> list[str]:
    """The build-context paths COPY takes (not `COPY --from=` another stage)."""
    sources = []
    for ins in instructions():
        if ins.keyword != "COPY" or (stage is not None and ins.stage != stage):
            continue
        words = [w for w in shlex.split(ins.args) if not w.startswith("--")]
        if not ins.args.startswith("--from="):
            sources += words[:-1]
    return sources


def final_stage() -> list[Instruction]:
    found = instructions()
    last = found[-1].stage
    return [ins for ins in found if ins.stage == last]


def healthcheck_command() -> str:
    (check,) = [ins.args for ins in final_stage() if ins.keyword == "HEALTHCHECK"]
    return check.split(" CMD ", 1)[1]


# -- the wheel, installed in a fresh virtualenv --------------------------------------------------------
@dataclass
class Installed:
    venv: Path
    site_packages: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def env(self, **extra: str) -> dict[str, str]:
        """A user's shell: the venv on PATH, and none of this test run's settings (no
        PYTHONPATH, so `bot` can only come from the wheel)."""
        keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR")}
        path = f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
        return {**keep, "PATH": path, **extra}

    def run(self, args: list[str], cwd: Path, timeout: float = 180, **env: str) -> str:
        result = subprocess.run(
            args, cwd=cwd, env=self.env(**env), capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, (
            f"{args}: {result.returncode}\n{result.stdout}{result.stderr}"
        )
        return result.stdout + result.stderr


def _checked(args: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=540, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in copied_from_context("wheel"):  # what `docker build` has to build the wheel from
        source = ROOT / name
        if source.is_dir():
            junk = shutil.ignore_patterns("__pycache__", "*.pyc", "shipped", "*.egg-info")
            shutil.copytree(source, src / name, ignore=junk)
        else:
            shutil.copy2(source, src / name)
    _checked(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"), "."],
        src,
    )
    (wheel,) = (work / "dist").glob("incidentbot-*.whl")
    venv = work / "venv"
    # No pip of its own (ensurepip takes seconds): this run's pip installs into it (--python).
    _checked([sys.executable, "-m", "venv", "--without-pip", str(venv)], work)
    constraints = ROOT / "constraints.txt"
    _checked(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin/python"),
            "install",
            "-q",
            "-c",
            str(constraints),
            str(wheel),
        ],
        work,
    )
    (site,) = venv.glob("lib/python*/site-packages")
    return Installed(venv, site)


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    here = tmp_path / "empty"
    here.mkdir()
    return here


PROBE = """
import json, bot
from bot import package_data as p
from bot.settings import Settings
s = Settings()
print(json.dumps({
    "bot": bot.__file__,
    "playbooks": str(s.playbooks_dir),
    "templates": str(s.postmortem_templates_dir),
    "manifest": str(p.slack_manifest_path()),
    "migrations": str(p.migrations_dir()),
}))
"""


def test_a_source_checkout_uses_the_repository_files_as_its_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from the repository (PYTHONPATH, `pip install -e .`), an edit to playbooks/ is what
    the bot loads, whatever directory it runs in."""
    from bot import package_data
    from bot.settings import Settings

    monkeypatch.chdir(tmp_path)  # no .env, no ./playbooks
    for name in ("PLAYBOOKS_DIR", "POSTMORTEM_TEMPLATES_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.playbooks_dir == ROOT / "playbooks"
    assert settings.postmortem_templates_dir == ROOT / "postmortem_templates"
    assert package_data.slack_manifest_path() == ROOT / "slack_manifest.yaml"
    assert package_data.migrations_dir() == ROOT / "bot" / "migrations"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_wheel_carries_the_shipped_files_and_uses_them_by_default(
    installed: Installed, empty_dir: Path
) -> None:
    found = json.loads(installed.run([installed.bin("python"), "-c", PROBE], empty_dir))
    package = installed.site_packages / "bot"
    assert found == {
        "bot": str(package / "__init__.py"),
        "playbooks": str(package / "shipped" / "playbooks"),
        "templates": str(package / "shipped" / "postmortem_templates"),
        "manifest": str(package / "shipped" / "slack_manifest.yaml"),
        "migrations": str(package / "migrations"),
    }
    shipped = package / "shipped"
    for name in ("playbooks", "postmortem_templates"):
        assert sorted(p.name for p in (shipped / name).iterdir()) == sorted(
            p.name for p in (ROOT / name).iterdir()
        )
    assert (shipped / "slack_manifest.yaml").read_bytes() == (
        ROOT / "slack_manifest.yaml"
    ).read_bytes()
    assert (package / "migrations" / "script.py.mako").is_file()
    assert sorted(p.name for p in (package / "migrations" / "versions").glob("*.py")) == sorted(
        p.name for p in (ROOT / "bot" / "migrations" / "versions").glob("*.py")
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_directory_given_by_setting_overrides_the_shipped_one(
    installed: Installed, empty_dir: Path
) -> None:
    mine = empty_dir / "my-playbooks"
    mine.mkdir()
    found = json.loads(
        installed.run([installed.bin("python"), "-c", PROBE], empty_dir, PLAYBOOKS_DIR=str(mine))
    )
    assert found["playbooks"] == str(mine)
    assert found["templates"].endswith("shipped/postmortem_templates")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_playbooks_lint_checks_the_shipped_playbooks_by_default(
    installed: Installed, empty_dir: Path
) -> None:
    output = installed.run([installed.bin("incidentbot"), "playbooks", "lint"], empty_dir)
    count = len(list((ROOT / "playbooks").glob("*.yaml")))
    shipped = installed.site_packages / "bot" / "shipped" / "playbooks"
    assert f"{count} playbooks OK in {shipped}" in output.replace("\n", "")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_demo_runs_from_an_empty_directory(installed: Installed, empty_dir: Path) -> None:
    output = installed.run([installed.bin("incidentbot"), "demo"], empty_dir)
    assert "Demo finished" in output
    assert "OPS-1" in output  # the close drafted the post-mortem from the shipped template


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def image_healthcheck_passes(installed: Installed, port: int) -> bool:
    """The Dockerfile's HEALTHCHECK command, run by a shell with the venv's python on PATH."""
    check = subprocess.run(
        ["/bin/sh", "-c", healthcheck_command()],
        env=installed.env(PORT=str(port)),
        capture_output=True,
        timeout=30,
        check=False,
    )
    return check.returncode == 0


@dataclass
class Serving:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def healthz(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"


@pytest.fixture
def serving(installed: Installed, empty_dir: Path) -> Iterator[Serving]:
    database = f"sqlite:///{empty_dir / 'incidentbot.db'}"
    upgraded = installed.run(
        [installed.bin("incidentbot"), "db", "upgrade"], empty_dir, DATABASE_URL=database
    )
    assert "→" in upgraded  # e.g. "empty → 0011"
    port = _free_port()
    env = installed.env(
        DATABASE_URL=database,
        SLACK_BOT_TOKEN="xoxb-wheel-test",
        SLACK_SIGNING_SECRET="wheel-test-secret",
    )
    log = empty_dir.parent / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [installed.bin("incidentbot"), "serve", "--port", str(port)],
            cwd=empty_dir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Serving(process, port, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_db_upgrade_then_serve_from_an_empty_directory(
    installed: Installed, serving: Serving
) -> None:
    deadline = time.monotonic() + 60
    while _status(serving.healthz) != 200 and time.monotonic() < deadline:
        assert serving.process.poll() is None, serving.log.read_text(errors="replace")
        time.sleep(0.2)
    assert _status(serving.healthz) == 200
    assert image_healthcheck_passes(installed, serving.port)  # as Docker runs it, in the image
    serving.process.send_signal(signal.SIGTERM)
    serving.process.wait(timeout=60)
    logged = serving.log.read_text(errors="replace")
    count = len(list((ROOT / "playbooks").glob("*.yaml")))
    shipped = installed.site_packages / "bot" / "shipped"
    assert (
        f"{count} playbooks loaded from {shipped / 'playbooks'}; "
        f"post-mortem templates from {shipped / 'postmortem_templates'}"
    ) in logged
    assert not image_healthcheck_passes(installed, serving.port)  # and once it has stopped


# -- the Docker image ---------------------------------------------------------------------------------
def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's matching, as far as these patterns need: `**/` is any depth, even none."""
    variants = [v for p in patterns for v in (p, p.removeprefix("**/"))]
    return any(fnmatch.fnmatch(path, v) or path.startswith(v.rstrip("/") + "/") for v in variants)


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_the_build_context_leaves_out_the_virtualenv_git_secrets_and_caches() -> None:
    patterns = dockerignore()
    for path in (".venv", ".git", ".env", "bot/__pycache__", "incidentbot.db", "bot/shipped"):
        assert _ignored(path, patterns), f"{path} would be sent to the Docker daemon"


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    sources = copied_from_context()
    assert {"bot", "playbooks", "postmortem_templates", "setup.py", "constraints.txt"} <= set(
        sources
    )
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not _ignored(source, dockerignore()), f"COPY {source}: .dockerignore leaves it out"


def test_the_image_installs_the_wheel_and_keeps_sqlite_in_a_writable_data_volume() -> None:
    stage = final_stage()
    runs = " ".join(ins.args for ins in stage if ins.keyword == "RUN")
    assert "pip install" in runs and " -e " not in runs  # the wheel, not the source tree
    assert "mkdir /data" in runs and "chown incidentbot" in runs
    envs = " ".join(ins.args for ins in stage if ins.keyword == "ENV")
    assert "DATABASE_URL=sqlite:////data/incidentbot.db" in envs
    assert [ins.args for ins in stage if ins.keyword == "USER"] == ["incidentbot"]
    assert [ins.args for ins in stage if ins.keyword == "VOLUME"] == ["/data"]


def test_the_image_checks_its_health_without_curl_and_runs_the_scheduler_in_process() -> None:
    check = healthcheck_command()
    assert check.startswith("python -c") and "/healthz" in check
    (command,) = [ins.args for ins in final_stage() if ins.keyword == "CMD"]
    assert "incidentbot serve" in command and "--no-in-process-scheduler" not in command
    assert "incidentbot db upgrade" in command
