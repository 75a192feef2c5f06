"""``python -m bot.emulators.<name>``: the argument parser and the serve-until-Ctrl-C loop."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Protocol


class Stoppable(Protocol):
    def stop(self) -> None: ...


def parser(description: str, *, port: int) -> argparse.ArgumentParser:
    """A parser with ``--host`` and ``--port``; the emulator adds its own options."""
    parsed = argparse.ArgumentParser(description=description)
    parsed.add_argument("--host", default="127.0.0.1")
    parsed.add_argument("--port", type=int, default=port)
    return parsed


def serve_until_interrupted(emulator: Stoppable) -> None:
    """Flushes what was printed, then serves until interrupted and stops ``emulator``."""
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
