"""BLAS threads: one thread where the matrices are small, the library default for big problems.

OpenBLAS threads spin while they wait; on a shared machine with matrices of a few
hundred entries they cost far more than they gain (measured: ``nc-verify verify``
with one CPU-bound process beside it on 2 cores took 3.1x as long with the default
threads as with one).  :func:`blas_threads_for` limits BLAS to one thread (with
threadpoolctl, as scikit-learn does) while a problem's tangent dimension is at most
:data:`SMALL_TANGENT_DIMENSION`, and leaves bigger problems threaded.  An explicit
``OPENBLAS_NUM_THREADS`` (or ``OMP_NUM_THREADS``) set by the user is always respected.
"""

from __future__ import annotations

import contextlib
import os

#: Largest tangent dimension ``(d - 1)(K + N)`` run with one BLAS thread: dense
#: Hessians up to this size (eigh of 1500 x 1500 takes ~0.3 s) gain little from threads.
SMALL_TANGENT_DIMENSION = 1500


def blas_threads_for(problem):
    """Context manager: one BLAS thread for a small ``problem``, no change otherwise (module docstring)."""
    user_set = any(os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"))
    if user_set or problem.tangent_dimension > SMALL_TANGENT_DIMENSION:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
