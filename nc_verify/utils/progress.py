"""Progress of long runs on stderr, with rich: a live bar on a terminal, a line every few seconds in a log.

``with Progress(total, "search", enabled=True) as bar: bar.update(postfix="3 distinct")``.
On a terminal rich draws a bar with the elapsed time and the ETA; when stderr is not a
terminal (nohup, a log file, a cluster job) the same figures are written as one plain
line every :data:`LOG_INTERVAL` seconds, and once at the end.
"""

from __future__ import annotations

import sys
import time

#: Seconds between two progress lines when stderr is not a terminal.
LOG_INTERVAL = 5.0


class Progress:
    """Progress of ``total`` steps labelled ``label`` (see the module docstring).

    Parameters
    ----------
    total : int
    label : str
    enabled : bool or None
        None (the library's default): only when stderr is a terminal.  True: also in
        logs (the command line passes True).
    stream : file, optional
        Default ``sys.stderr``.
    """

    def __init__(self, total: int, label: str = "", *, enabled=None, stream=None):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = terminal if enabled is None else bool(enabled)
        self.terminal = terminal
        self.count = 0
        self.postfix = ""
        self._start = time.perf_counter()
        self._last_line = self._start
        self._bar = None
        if self.enabled and terminal:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                     TextColumn("{task.fields[postfix]}"),
                                     console=Console(file=self.stream), transient=False)
            self._task = self._bar.add_task(label, total=self.total or None, postfix="")
            self._bar.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, k: int = 1, postfix: str | None = None) -> None:
        """Advance by ``k`` steps; ``postfix`` replaces the text shown after the figures."""
        self.count += k
        if postfix is not None:
            self.postfix = postfix
        if self._bar is not None:
            self._bar.update(self._task, advance=k, postfix=self.postfix)
        elif self.enabled:
            now = time.perf_counter()
            if now - self._last_line >= LOG_INTERVAL:
                self._last_line = now
                self._line(now)

    def _line(self, now: float) -> None:
        elapsed = now - self._start
        frac = self.count / self.total if self.total else 1.0
        eta = f"{elapsed / frac - elapsed:.0f} s" if frac > 0 else "?"
        self.stream.write(f"{self.label}: {self.count}/{self.total} ({100 * frac:.0f}%), {elapsed:.0f} s elapsed, "
                          f"eta {eta}{'; ' + self.postfix if self.postfix else ''}\n")
        self.stream.flush()

    def close(self) -> None:
        """Stop the bar (terminal) or write the final line (log)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self.enabled:
            self._line(time.perf_counter())
            self.enabled = False
