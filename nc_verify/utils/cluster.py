"""Dask clusters of the package: a short connect timeout, and workers that leave Ctrl-C to the main process.

* :data:`SCHEDULER_TIMEOUT_S` -- a ``scheduler`` address that does not answer fails
  after this many seconds (dask's default is 30) with an ``OSError``: the command line's
  internal-failure status 4 (:mod:`nc_verify.utils.reports`).
* :func:`workers_ignore_interrupt` -- worker processes started inside it ignore SIGINT.
  A terminal sends Ctrl-C to every process of the foreground group; the main process
  alone turns it into ``KeyboardInterrupt`` and closes the cluster (which stops the
  workers), so one message is printed, not one traceback per process.  A Ctrl-C
  while the local cluster starts (a few seconds) is ignored; the next one interrupts.

* :func:`local_cluster` -- a ``LocalCluster`` of single-threaded worker processes set up for
  the package's numerical batches (:data:`LOCAL_CLUSTER_CONFIG`), each worker importing
  pymanopt at its start without the autodiff frameworks (:func:`dask_setup`).
* :func:`dask_setup` -- this module as a dask worker preload
  (``dask worker --preload nc_verify.utils.cluster``): pymanopt imported without its autodiff
  backends, :func:`import_pymanopt_without_autodiff`.

``distributed`` is imported only by the functions that need it (the ``sweep`` extra).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

#: Seconds to wait for a dask scheduler to answer before giving up.
SCHEDULER_TIMEOUT_S = 10
#: Frameworks pymanopt imports for its autodiff backends whenever they are installed (torch and
#: jax alone took 2.1 s of CPU per process here); the package's search and solvers use the
#: analytic derivatives (``backend="analytic"``, pymanopt's numpy backend) and need none of them.
AUTODIFF_MODULES = ("torch", "jax", "tensorflow", "autograd")
#: dask settings of the local clusters (:func:`local_cluster`):
#:
#: * dask sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers, which turns off glibc's adaptive
#:   mmap threshold: the search's many megabyte-sized temporaries are then mapped and unmapped
#:   at every call (measured: the same batches took 1.5x the CPU time in such a worker, a serial
#:   search 1.35x the time with the variable set); a value set in the environment is inherited;
#: * the workers' sampling profiler (a stack sample every 10 ms) cost them about a tenth more CPU;
#: * the event-loop tick (every 20 ms), the system monitor (0.5 s) and the memory monitor
#:   (0.1 s) of the scheduler, the nannies and the workers cost 0.66 s of CPU per 10 s of an idle
#:   2-worker cluster, 0.11 s at 1 s, 5 s and 1 s: CPU the batches lose on a small machine.
LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def import_pymanopt_without_autodiff() -> None:
    """Import pymanopt with the autodiff frameworks of :data:`AUTODIFF_MODULES` hidden from it.

    pymanopt imports torch, jax, tensorflow and autograd where they are installed, to offer
    them as backends; hidden (``sys.modules[name] = None`` during the import, so their import
    raises ``ImportError`` as when they are absent) those backends report themselves unavailable,
    and the numpy backend the package uses is unchanged.  The frameworks themselves stay
    importable afterwards.  A framework already imported, or pymanopt already imported, is left
    as it is.
    """
    if "pymanopt" in sys.modules:
        return
    hidden = [m for m in AUTODIFF_MODULES if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None
    try:
        import pymanopt.optimizers  # noqa: F401
    finally:
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]


def dask_setup(worker) -> None:
    """dask's preload hook: a worker started with this module as preload imports pymanopt at once,
    without the autodiff frameworks (:func:`import_pymanopt_without_autodiff`).

    Parameters
    ----------
    worker : distributed.Worker
        The worker starting (unused).
    """
    import_pymanopt_without_autodiff()


def local_cluster(n_workers: int):
    """A ``LocalCluster`` of single-threaded worker processes on 127.0.0.1, set up for small dense batches.

    :data:`LOCAL_CLUSTER_CONFIG`, no dashboard, dask's logs at ERROR level (the cancelled
    batches of a search that stops are no warning), workers that ignore SIGINT
    (:func:`workers_ignore_interrupt`) and preload this module (:func:`dask_setup`); the
    workers keep dask's single-threaded BLAS and OpenMP settings.

    Parameters
    ----------
    n_workers : int
        Worker processes, one thread each.

    Returns
    -------
    distributed.LocalCluster
        Started; close it (or use it as a context manager).  Pass a ``distributed.Client`` of
        it as ``scheduler=`` to :func:`~nc_verify.landscape.search.find_critical_points` to
        reuse its workers across searches.
    """
    import logging

    import dask
    import distributed

    with dask.config.set(LOCAL_CLUSTER_CONFIG), workers_ignore_interrupt():
        # silence_logs=ERROR: a search that stops cancels the batches still in flight, and each
        # worker would log a WARNING "... ended with CancelledError" for every one of them
        return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None, preload=[__name__],
                                        silence_logs=logging.ERROR)


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
