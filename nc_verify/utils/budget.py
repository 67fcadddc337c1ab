"""The memory budget: every entry point estimates its peak memory from the size and refuses beyond it, before any work.

The estimates count the dominant allocations, dense ``T x T`` float64 matrices
(``T`` the tangent dimension, ``(d - 1)(K + N)`` for problem (4)), each
``8 T^2`` bytes (:func:`matrix_bytes`):

* :func:`dense_spectrum_bytes` -- a dense Hessian and its eigen-decomposition
  (``classify_point`` with dense Hessians, a probe): the Hessian, LAPACK ``syevd``'s copy
  of it (which becomes the eigenvectors) and its workspace ``1 + 6 T + 2 T^2`` doubles:
  ``4`` matrices (measured with ``tracemalloc``: 4.02-4.06 at ``T = 264, 570``);
* :func:`hessian_matrix_bytes` -- :func:`~nc_verify.landscape.spectrum.hessian_matrix`
  alone: the matrix and the two temporaries of its symmetrisation, ``3`` matrices;
* :func:`search_bytes` -- the batched critical-point search
  (:func:`~nc_verify.landscape.search.find_critical_points`): per batch of ``B`` starts
  the Hessians, their eigenvectors, the Levenberg-Marquardt products and the models of
  the accepted steps, ``4 B`` matrices per process (measured: 4.03-4.16 at ``T = 60 ..
  264``, ``B = 128``), in every worker process;
* :func:`ball_matrix_bytes` -- certificates (:mod:`nc_verify.certify`): python-flint
  ``arb`` balls, 48 bytes each plus the mantissa limbs above 128 bits, ``4`` ``T x T``
  ball matrices (the Hessian, the congruence and its two factors).

The budget (:func:`max_memory_gib`) is, in this order: the innermost
:func:`memory_budget` context, else the environment variable
``NC_VERIFY_MAX_MEMORY_GIB`` (GiB, a positive number), else
:data:`DEFAULT_FRACTION` of the machine's physical memory.  The command line's
``--max-memory GIB`` (every subcommand) sets it for one run.  Refusal
(:func:`check_memory`) is a :class:`BudgetError`, a ``ValueError`` (exit status 2),
with the estimate, the budget and how to raise it.  An estimate equal to the budget
is allowed; one byte more is refused.
"""

from __future__ import annotations

import contextlib
import math
import os

#: Environment variable that sets the memory budget in GiB.
ENV_VAR = "NC_VERIFY_MAX_MEMORY_GIB"
#: Default budget: this fraction of the machine's physical memory (the rest is left to
#: the system and to the other programs running).
DEFAULT_FRACTION = 0.5
#: Bytes per GiB.
GIB = 2**30
#: Dense ``T x T`` matrices alive at the peak of each kind of work (module docstring).
DENSE_SPECTRUM_MATRICES = 4
HESSIAN_MATRIX_MATRICES = 3
SEARCH_MATRICES_PER_START = 4
BALL_MATRICES = 4
#: Bytes of one python-flint ``arb`` ball up to 128 bits of precision (an ``arf`` of 32 bytes
#: with two inline limbs and a 16-byte ``mag``).
ARB_BYTES = 48

_stack: list = []


class BudgetError(ValueError):
    """A size whose estimated memory exceeds the budget (a ``ValueError``: exit status 2)."""


def matrix_bytes(T: int) -> int:
    """Bytes of one dense ``T x T`` float64 matrix: ``8 T^2``."""
    return 8 * int(T) ** 2


def dense_spectrum_bytes(T: int) -> int:
    """Peak bytes of a dense Hessian and its eigen-decomposition: ``4 * 8 T^2``."""
    return DENSE_SPECTRUM_MATRICES * matrix_bytes(T)


def hessian_matrix_bytes(T: int) -> int:
    """Peak bytes of :func:`~nc_verify.landscape.spectrum.hessian_matrix`: ``3 * 8 T^2``."""
    return HESSIAN_MATRIX_MATRICES * matrix_bytes(T)


def search_bytes(T: int, batch: int, processes: int = 1) -> int:
    """Peak bytes of the batched search: ``processes * 4 * batch * 8 T^2``."""
    return int(processes) * SEARCH_MATRICES_PER_START * int(batch) * matrix_bytes(T)


def ball_matrix_bytes(T: int, prec: int) -> int:
    """Peak bytes of a certificate at tangent dimension ``T`` and ``prec`` bits: ``4 T^2`` balls.

    A ball is :data:`ARB_BYTES` bytes, plus ``8 ceil(prec / 64)`` bytes of mantissa limbs
    on the heap above 128 bits.
    """
    per = ARB_BYTES + (8 * math.ceil(int(prec) / 64) if prec > 128 else 0)
    return BALL_MATRICES * int(T) ** 2 * per


def physical_memory_bytes():
    """The machine's physical memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_gib(value, name: str) -> float:
    """``value`` as a float after checking it is a finite positive number of GiB (a ValueError naming ``name``)."""
    try:
        gib = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number of GiB, got {value!r}") from None
    if not math.isfinite(gib) or gib <= 0:
        raise ValueError(f"{name} must be a positive number of GiB, got {value!r}")
    return gib


def max_memory_gib() -> float:
    """The memory budget in GiB now (module docstring: context, environment, default)."""
    if _stack:
        return _stack[-1]
    env = os.environ.get(ENV_VAR)
    if env not in (None, ""):
        return check_gib(env, f"the environment variable {ENV_VAR}")
    phys = physical_memory_bytes()
    return DEFAULT_FRACTION * phys / GIB if phys else 8.0


@contextlib.contextmanager
def memory_budget(gib):
    """Within the block the budget is ``gib`` GiB (None: unchanged).

    The block also sets :data:`ENV_VAR`, so processes started inside it (the workers of a
    local dask cluster running sweep cells or search batches) inherit the same budget.
    """
    if gib is None:
        yield
        return
    gib = check_gib(gib, "max_memory_gib")
    _stack.append(gib)
    previous = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = repr(gib)
    try:
        yield
    finally:
        _stack.pop()
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous


def check_memory(estimate: int, what: str) -> int:
    """Refuse (:class:`BudgetError`) when ``estimate`` bytes exceed the budget; return ``estimate``.

    Parameters
    ----------
    estimate : int
        Estimated peak bytes (one of the functions above).
    what : str
        The work and its size, for the message (e.g. "dense Hessian spectra at tangent
        dimension 313950").
    """
    budget = max_memory_gib()
    if estimate > budget * GIB:
        raise BudgetError(
            f"{what} needs an estimated {estimate / GIB:.3g} GiB of memory, over the budget of {budget:.3g} GiB; "
            f"choose a smaller size, or raise the budget with --max-memory GIB (environment variable {ENV_VAR})")
    return estimate


__all__ = ["ARB_BYTES", "BudgetError", "DEFAULT_FRACTION", "ENV_VAR", "ball_matrix_bytes", "check_gib", "check_memory",
           "dense_spectrum_bytes", "hessian_matrix_bytes", "matrix_bytes", "max_memory_gib", "memory_budget",
           "physical_memory_bytes", "search_bytes"]
