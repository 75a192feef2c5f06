"""The soak's bot processes, and the scripted clock they share with the soak driver.

`python bench/soak_bot.py web --port P [--in-process-scheduler]` runs `incidentbot serve` and
`python bench/soak_bot.py scheduler` runs `incidentbot scheduler`, through the CLI's own code
(settings, schema check, `wiring.build`, `gc.freeze`, uvicorn; leader lock, APScheduler firing
timers every second and sweeping the outbox every 5 s). Settings come from the environment.

Three things differ from production, all set here and said in the soak's docstring:
  * the clock: `wiring.build` gets a `SharedClock`;
  * client-side Slack pacing is off (as in `bot.sandbox`): the emulator's rate limits are off
    and the soak injects 429s itself, while Slack's real 20 channels a minute would stretch
    the incidents' channels over many minutes of wall time;
  * the Slack and PagerDuty client timeouts are SOAK_CLIENT_TIMEOUT (1 s) instead of 10 s (and
    the soak sets JIRA_TIMEOUT alike), so that an injected timeout costs a worker 1 s: an
    effect's lease is 120 s of scripted time, 10 s of wall time at ×12.

SharedClock: a shared page (mmap) holds an anchor (wall time, scripted time) and a rate; every
process reads scripted now = anchor_scripted + (time.time() - anchor_wall) × rate. The driver
moves it (changes the rate, jumps ahead); readers use a sequence number to never see a
half-written anchor. It never goes backwards.

Diagnostics: SIGUSR1 dumps every thread's stack into the log (the soak sends it when the drain
does not finish); with SOAK_PROFILE=1 a sampler counts where busy threads are, and with
SOAK_TRACEMALLOC=1 tracemalloc follows allocations: the first SIGUSR2 starts either, the next
prints what it found.
"""

from __future__ import annotations

import faulthandler
import mmap
import os
import signal
import struct
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_LAYOUT = struct.Struct("<Qddd")  # seq, anchor wall, anchor scripted, rate


class SharedClock:
    """The bot's `Clock` port, read from the page the soak driver writes."""

    def __init__(self, path: str | Path, *, create: bool = False, start: datetime | None = None):
        self.path = str(path)
        if create:
            with open(self.path, "wb") as f:
                f.write(b"\0" * mmap.PAGESIZE)
        self._file = open(self.path, "r+b")  # noqa: SIM115  (held for the life of the clock)
        self._map = mmap.mmap(self._file.fileno(), mmap.PAGESIZE)
        if create:
            first = start or datetime.now(UTC)
            self._write(time.time(), first.timestamp(), 1.0, seq=0)

    # -- reading (any process) -------------------------------------------------------------------
    def _read(self) -> tuple[float, float, float]:
        while True:
            seq, wall, scripted, rate = _LAYOUT.unpack_from(self._map, 0)
            if seq % 2:
                continue
            again = _LAYOUT.unpack_from(self._map, 0)[0]
            if again == seq:
                return wall, scripted, rate

    def timestamp(self) -> float:
        wall, scripted, rate = self._read()
        return scripted + (time.time() - wall) * rate

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def rate(self) -> float:
        return self._read()[2]

    # -- writing (the driver only) ---------------------------------------------------------------
    def _write(self, wall: float, scripted: float, rate: float, *, seq: int | None = None) -> None:
        current = _LAYOUT.unpack_from(self._map, 0)[0] if seq is None else seq
        struct.pack_into("<Q", self._map, 0, current + 1)  # odd: being written
        _LAYOUT.pack_into(self._map, 0, current + 1, wall, scripted, rate)
        struct.pack_into("<Q", self._map, 0, current + 2)

    def set_rate(self, rate: float) -> None:
        """From now on, `rate` scripted seconds per wall second (0: stand still)."""
        self._write(time.time(), self.timestamp(), rate)

    def jump(self, seconds: float) -> float:
        """Move ahead at once (past a backoff); returns how far."""
        seconds = max(0.0, seconds)
        self._write(time.time(), self.timestamp() + seconds, self.rate())
        return seconds

    def close(self) -> None:
        self._map.close()
        self._file.close()


def _patch_build(clock_path: str, timeout: float) -> None:
    """`wiring.build` as the CLI calls it, with the scripted clock, no client pacing and short
    client timeouts (see the module's docstring)."""
    from bot import wiring
    from bot.adapters import pagerduty

    pagerduty.TIMEOUT = timeout  # read when the PagerDuty clients are made, in build
    real_build = wiring.build
    scripted = SharedClock(clock_path)

    def build(settings: Any, *, clock: Any = None, db: Any = None, pacing: bool = True) -> Any:
        bot = real_build(settings, clock=scripted, db=db, pacing=False)
        bot.slack.timeout = timeout  # the Web API client the Chat port and Bolt use
        return bot

    wiring.build = build  # type: ignore[assignment]


def _trace_memory() -> None:
    """`--trace-memory`: the first SIGUSR2 starts tracing, the next prints what was allocated
    since and is still held."""
    import tracemalloc

    baseline: list[Any] = []

    def dump(_signum: int, _frame: Any) -> None:
        if not baseline:
            tracemalloc.start(8)
            baseline.append(tracemalloc.take_snapshot())
            return
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        stats = snapshot.compare_to(baseline[0], "traceback")
        grown = sum(s.size_diff for s in stats)
        print(
            f"tracemalloc: {grown / 2**20:+.1f} MiB since the baseline; largest:", file=sys.stderr
        )
        for stat in stats[:12]:
            print(
                f"  {stat.size_diff / 2**20:+.2f} MiB in {stat.count_diff:+d} blocks",
                file=sys.stderr,
            )
            for line in stat.traceback.format()[-8:]:
                print(f"      {line}", file=sys.stderr)
        sys.stderr.flush()

    signal.signal(signal.SIGUSR2, dump)


_IDLE = ("threading.py", "queue.py", "selectors.py", "base_events.py")


def _sample_threads() -> None:
    """`--profile`: every 5 ms, where each busy thread is (waiting on I/O or a lock counts:
    it is where the work's time goes). SIGUSR2 starts counting, the next one prints."""
    import collections
    import threading

    counts: collections.Counter[str] = collections.Counter()
    innermost: collections.Counter[str] = collections.Counter()
    on = threading.Event()
    total = [0]

    def sample() -> None:
        me = threading.get_ident()
        while True:
            time.sleep(0.005)
            if not on.is_set():
                continue
            for ident, frame in sys._current_frames().items():
                if ident == me or frame.f_code.co_filename.endswith(_IDLE):
                    continue
                total[0] += 1
                leaf = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
                innermost[leaf] += 1
                seen = set()
                while frame is not None:
                    code = frame.f_code
                    if "/bot/" in code.co_filename and "/site-packages/" not in code.co_filename:
                        name = f"{code.co_filename.split('/bot/', 1)[1]}:{code.co_name}"
                        if name not in seen:
                            seen.add(name)
                            counts[name] += 1
                    frame = frame.f_back  # type: ignore[assignment]

    def dump(_signum: int, _frame: Any) -> None:
        if not on.is_set():
            on.set()
            return
        n = max(1, total[0])
        print(f"profile: {n} samples of busy threads; bot functions, inclusive:", file=sys.stderr)
        for name, k in counts.most_common(30):
            print(f"  {k / n:6.1%}  {name}", file=sys.stderr)
        print("innermost frames:", file=sys.stderr)
        for name, k in innermost.most_common(20):
            print(f"  {k / n:6.1%}  {name}", file=sys.stderr)
        sys.stderr.flush()

    threading.Thread(target=sample, daemon=True, name="soak-sampler").start()
    signal.signal(signal.SIGUSR2, dump)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    role, args = argv[0], argv[1:]
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the soak asks when stuck
    if os.environ.get("SOAK_TRACEMALLOC"):
        _trace_memory()
    if os.environ.get("SOAK_PROFILE"):
        _sample_threads()
    _patch_build(os.environ["SOAK_CLOCK"], float(os.environ.get("SOAK_CLIENT_TIMEOUT", "1")))
    from bot import cli

    if role == "web":
        port = int(args[args.index("--port") + 1])
        in_process = "--in-process-scheduler" in args
        cli.serve(host="127.0.0.1", port=port, in_process_scheduler=in_process)
    elif role == "scheduler":
        cli.scheduler_command(metrics_port=0)
    else:
        raise SystemExit(f"unknown role {role!r}: web or scheduler")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
