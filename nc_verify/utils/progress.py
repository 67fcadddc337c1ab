"""A dependency-free progress bar for long runs (written to stderr)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Minimal progress bar: ``with Progress(total, "search") as bar: bar.update()``.

    Draws on stderr only when ``enabled`` (default: stderr is a terminal), at most
    ten times a second, and prints a final line with the elapsed time.
    """

    def __init__(self, total: int, label: str = "", *, enabled=None, stream=None):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else bool(enabled)
        self.count = 0
        self._start = time.perf_counter()
        self._last = 0.0
        self.postfix = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, k: int = 1, postfix: str | None = None) -> None:
        self.count += k
        if postfix is not None:
            self.postfix = postfix
        now = time.perf_counter()
        if self.enabled and (now - self._last > 0.1 or self.count >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        frac = self.count / self.total if self.total else 1.0
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        elapsed = now - self._start
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        self.stream.write(
            f"\r{self.label} [{bar}] {self.count}/{self.total} {elapsed:6.1f}s eta {eta:5.1f}s {self.postfix}"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
