"""Dask clusters of the package: a short connect timeout, and workers that leave Ctrl-C to the main process.

* :data:`SCHEDULER_TIMEOUT_S` -- a ``scheduler`` address that does not answer fails
  after this many seconds (dask's default is 30) with an ``OSError``: the command line's
  internal-failure status 4 (:mod:`nc_verify.utils.reports`).
* :func:`workers_ignore_interrupt` -- worker processes started inside it ignore SIGINT.
  A terminal sends Ctrl-C to every process of the foreground group; the main process
  alone turns it into ``KeyboardInterrupt`` and closes the cluster (which stops the
  workers), so one message is printed, not one traceback per process.  A Ctrl-C
  while the local cluster starts (a few seconds) is ignored; the next one interrupts.

``distributed`` is imported only by the functions that need it (the ``sweep`` extra).
"""

from __future__ import annotations

import contextlib
import signal
import threading

#: Seconds to wait for a dask scheduler to answer before giving up.
SCHEDULER_TIMEOUT_S = 10


def connect(scheduler: str):
    """A ``distributed.Client`` of a running scheduler, failing after :data:`SCHEDULER_TIMEOUT_S` seconds."""
    import distributed

    return distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)


@contextlib.contextmanager
def workers_ignore_interrupt():
    """Worker processes spawned within the block ignore SIGINT (main thread only; else a no-op).

    Within the block SIGINT is ignored: the disposition a spawned process inherits, so
    the workers ignore it from their first instruction (Python installs its
    ``KeyboardInterrupt`` handler only where SIGINT is not ignored).  The price: a Ctrl-C
    while the local cluster starts (a few seconds) is ignored; the next one interrupts.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
