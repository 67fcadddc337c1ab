"""The problem protocol: what the landscape tools need to know about a problem.

Every tool of :mod:`nc_verify.landscape` (tangent bases, Hessian matrices and
spectra, Newton / Levenberg-Marquardt, classification, solvers, the critical-point
search) and the probes of :mod:`nc_verify.checks` take any object that implements
:class:`ManifoldProblem`: a smooth cost on a product of oblique manifolds
``OB(d, m_1) x ... x OB(d, m_b)`` (matrices with unit columns), with its Riemannian
gradient and Hessian.  :class:`~nc_verify.objective.problem.UFMProblem` (problem (4),
point ``(W, H)``) and :class:`~nc_verify.objective.supcon.SupConProblem` (point
``(H,)``) implement it; so can a user's own problem (see the documentation page
"Plugging in your own problem").

A *point* is a tuple of ``b`` arrays, block ``i`` of shape ``(d, m_i)``; functions
take it unpacked, ``f(problem, *point)``, so ``classify_critical_point(p, W, H)``
for problem (4) and ``classify_critical_point(q, H)`` for SupCon.  A tangent
vector has the same block shapes.  Methods of the problem may return a single
array for a one-block problem; :func:`blocks` turns either form into a tuple.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

#: The members every problem must have (checked by :func:`check_problem`).
REQUIRED = ("d", "tau", "block_sizes", "tangent_dimension", "bound", "check_point", "cost",
            "riemannian_gradient", "hessian_operator", "gradient_scale", "orbit_dimension",
            "random_point", "to_pymanopt")


@runtime_checkable
class ManifoldProblem(Protocol):
    """A cost on ``OB(d, m_1) x ... x OB(d, m_b)`` with Riemannian derivatives.

    Attributes
    ----------
    d : int
        Ambient dimension of every column.
    tau : float
        Temperature (the logits' scale); enters the rounding levels of
        :mod:`nc_verify.landscape.rounding` as ``2 d tau eps``.
    block_sizes : tuple of int
        ``(m_1, ..., m_b)``: unit columns per block (``(K, N)`` for problem (4)).
    tangent_dimension : int
        ``(d - 1) sum(m_i)``.
    bound : float or None
        The global minimum value where it is known (Theorem 1's bound for problem
        (4)); None otherwise (minimisers are then reported as local).

    Methods
    -------
    check_point(*point)
        Validate shapes, finiteness and unit columns; return float64 copies.
    cost(*point) -> float
    riemannian_gradient(*point)
        Tangent blocks of the Riemannian gradient.
    hessian_operator(*point)
        A callable ``op(*tangent)`` returning the Riemannian Hessian applied to a
        tangent vector (blocks may carry leading batch axes ``(..., d, m_i)``).
    gradient_scale(*point) -> float
        Size of the terms that cancel in the gradient (sets its rounding level).
    orbit_dimension(*point) -> int
        Dimension of the point's orbit under the problem's continuous symmetry: the
        number of zero Hessian eigenvalues a non-degenerate critical point has
        (:func:`~nc_verify.objective.oblique.symmetry_orbit_dimension` for a
        rotation-invariant problem).
    random_point(rng)
        A random point (tuple of blocks, or one array for one block).
    to_pymanopt(backend="analytic")
        A ``pymanopt.Problem`` on the product manifold.
    known_critical_points(rng=None) -> dict, optional
        Exact critical points by name (search starts, reference points).
    metrics(*point) -> dict, optional
        Diagnostics reported beside a classification (NC metrics for problem (4)).
    """

    d: int
    tau: float
    block_sizes: tuple
    tangent_dimension: int
    bound: object

    def check_point(self, *point): ...

    def cost(self, *point) -> float: ...

    def riemannian_gradient(self, *point): ...

    def hessian_operator(self, *point): ...

    def gradient_scale(self, *point) -> float: ...

    def orbit_dimension(self, *point) -> int: ...

    def random_point(self, rng=None): ...

    def to_pymanopt(self, backend: str = "analytic"): ...


def check_problem(problem, name: str = "problem"):
    """``problem`` itself if it implements :class:`ManifoldProblem`, else a ``TypeError`` naming what is missing."""
    missing = [m for m in REQUIRED if not hasattr(problem, m)]
    if missing:
        raise TypeError(
            f"{name} must implement the problem protocol (nc_verify.objective.protocol.ManifoldProblem); "
            f"{type(problem).__name__} lacks {', '.join(missing)}"
        )
    return problem


def blocks(value) -> tuple:
    """A point or tangent vector as a tuple of blocks (a single array becomes a 1-tuple)."""
    if isinstance(value, np.ndarray):
        return (value,)
    return tuple(value)


def as_point(problem, *point) -> tuple:
    """Validated float64 copies of ``point`` as a tuple of blocks (``problem.check_point``)."""
    if any(isinstance(x, str) for x in point):
        raise TypeError(f"a point's blocks must be arrays, got the string {next(x for x in point if isinstance(x, str))!r}"
                        " (options such as method= are keyword-only)")
    if len(point) != len(problem.block_sizes):
        raise TypeError(f"a point of {type(problem).__name__} has {len(problem.block_sizes)} block(s) "
                        f"of shapes {[(problem.d, m) for m in problem.block_sizes]}, got {len(point)}")
    return blocks(problem.check_point(*point))


def n_columns(problem) -> int:
    """``m = sum(m_i)``: unit columns of a point (``K + N`` for problem (4))."""
    return int(sum(problem.block_sizes))


def apply_hessian(op, tangent) -> tuple:
    """``op(*tangent)`` as a tuple of blocks."""
    return blocks(op(*tangent))


def inner(a, b) -> float:
    """Frobenius inner product of two tuples of blocks."""
    return float(sum(np.sum(x * y) for x, y in zip(a, b)))


def norm(a) -> float:
    """Frobenius norm of a tuple of blocks."""
    return float(np.sqrt(sum(np.sum(x * x) for x in a)))


class PointBlocks:
    """Mixin for records with a ``point`` (tuple of blocks): ``W`` and ``H`` as for problem (4)."""

    @property
    def W(self) -> np.ndarray:
        """The classifier block of a problem (4) point (the first of two blocks)."""
        if len(self.point) != 2:
            raise AttributeError("W exists only for points (W, H) of problem (4)")
        return self.point[0]

    @property
    def H(self) -> np.ndarray:
        """The feature block (the last block of the point)."""
        return self.point[-1]
