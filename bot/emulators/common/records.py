"""Record helpers both emulators share."""

from __future__ import annotations


class Counters:
    """Per-name counters behind an emulator's deterministic ids."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def next(self, name: str) -> int:
        n = self._counters.get(name, 0) + 1
        self._counters[name] = n
        return n
