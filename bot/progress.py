"""A progress bar on a terminal, for long builds started from the command line."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """Draw `[#####.....] 500/1,000 texts, 41/s, 12 s left` on one line, redrawn at most 10 times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self._started = time.monotonic()
        self._drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        """Show that `done` of `total` are done; end the line when all are."""
        now = time.monotonic()
        if done < total and now - self._drawn < 0.1:
            return
        self._drawn = now
        filled = self.WIDTH * done // total if total else self.WIDTH
        rate = done / (now - self._started) if now > self._started else 0.0
        left = f", {(total - done) / rate:.0f} s left" if rate > 0 and done < total else ""
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{total:,} texts, {rate:.0f}/s{left}   ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
