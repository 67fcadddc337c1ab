"""Progress of long runs on stderr, with rich: a live bar on a terminal, a line every few seconds in a log.

``with Progress(total, "search", enabled=True) as bar: bar.update(postfix="3 distinct")``.
On a terminal rich draws a bar with the elapsed time and the ETA; when stderr is not a
terminal (nohup, a log file, a cluster job) the same figures are written as one plain
line every :data:`LOG_INTERVAL` seconds -- also while one step takes long (a
background timer writes the line when no step has), so a long first stage is never
silent -- and once at the end.

A run whose end is not known in advance (a search that stops when saturated) passes
its current projection of the end as ``update(total=...)`` with ``estimated=True``:
the fraction and the ETA are then shown as estimates ("~", "est.").
"""

from __future__ import annotations

import sys
import threading
import time

#: Seconds between two progress lines when stderr is not a terminal.
LOG_INTERVAL = 5.0


class Progress:
    """Progress of ``total`` steps labelled ``label`` (see the module docstring).

    Parameters
    ----------
    total : int
        Steps; 0: no known end (the lines then say only what was done and for how long).
    label : str
    enabled : bool or None
        None (the library's default): only when stderr is a terminal.  True: also in
        logs (the command line passes True).
    stream : file, optional
        Default ``sys.stderr``.
    estimated : bool
        ``total`` is a projection (:meth:`update` may change it): fraction and ETA are
        labelled as estimates.
    """

    def __init__(self, total: int, label: str = "", *, enabled=None, stream=None, estimated: bool = False):
        self.total = max(int(total), 0)
        self.label = label
        self.estimated = bool(estimated)
        self.stream = stream if stream is not None else sys.stderr
        terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = terminal if enabled is None else bool(enabled)
        self.terminal = terminal
        self.count = 0
        self.postfix = ""
        self._start = time.perf_counter()
        self._last_line = self._start
        self._last_wall = time.monotonic()
        self._bar = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer = None
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
                                     TimeElapsedColumn(), TextColumn("est. eta" if self.estimated else "eta"),
                                     TimeRemainingColumn(), TextColumn("{task.fields[postfix]}"),
                                     console=Console(file=self.stream), transient=False)
            self._task = self._bar.add_task(label, total=self.total or None, postfix="")
            self._bar.start()
        elif self.enabled:
            self._timer = threading.Thread(target=self._heartbeat, daemon=True)
            self._timer.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _heartbeat(self) -> None:
        # a line every LOG_INTERVAL seconds (wall clock) even while no step completes
        while not self._stop.wait(LOG_INTERVAL / 5):
            with self._lock:
                if self.enabled and time.monotonic() - self._last_wall >= LOG_INTERVAL:
                    self._write(time.perf_counter())

    def update(self, k: int = 1, postfix: str | None = None, total: int | None = None) -> None:
        """Advance by ``k`` steps; ``postfix`` replaces the text after the figures; ``total`` the projected end."""
        with self._lock:
            self.count += k
            if postfix is not None:
                self.postfix = postfix
            if total is not None:
                self.total = max(int(total), 0)
            if self._bar is not None:
                self._bar.update(self._task, advance=k, postfix=self.postfix,
                                 **({} if total is None else {"total": self.total or None}))
            elif self.enabled:
                now = time.perf_counter()
                if now - self._last_line >= LOG_INTERVAL:
                    self._write(now)

    def _write(self, now: float) -> None:
        self._last_line, self._last_wall = now, time.monotonic()
        self._line(now)

    def fraction(self) -> float:
        """Steps done over the (projected) total, at most 1; 1 for a total of 0 (no known end)."""
        return min(self.count / self.total, 1.0) if self.total else 1.0

    def _line(self, now: float) -> None:
        elapsed = now - self._start
        tail = f"; {self.postfix}" if self.postfix else ""
        if self.total == 0:                       # no known end: what was done and for how long
            done = f"{self.count} done, " if self.count else ""
            self.stream.write(f"{self.label}: {done}{elapsed:.0f} s elapsed{tail}\n")
            self.stream.flush()
            return
        frac = self.fraction()
        eta = f"{elapsed / frac - elapsed:.0f} s" if frac > 0 else "?"
        est = "~" if self.estimated else ""
        self.stream.write(f"{self.label}: {self.count}/{est}{self.total} ({est}{100 * frac:.0f}%), {elapsed:.0f} s "
                          f"elapsed, {'est. ' if self.estimated else ''}eta {eta}{tail}\n")
        self.stream.flush()

    def close(self) -> None:
        """Stop the bar (terminal) or write the final line (log)."""
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
            self._timer = None
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
            elif self.enabled:
                if self.estimated:              # the run has ended: its end is known now
                    self.estimated, self.total = False, self.count
                self._line(time.perf_counter())
                self.enabled = False
