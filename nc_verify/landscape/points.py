"""Distinct critical points modulo the symmetries of problem (4): the point record and deduplication.

Distinct points are kept modulo the symmetries of problem (4) (a common
rotation, class relabelling, reordering samples within a class) by comparing
invariants: the cost, the sorted spectra of ``W^T W`` and ``H^T H``, the singular
values of ``W^T H`` and the Hessian spectrum.  A point with more zero Hessian
eigenvalues than its rotation-orbit dimension lies on a continuum of critical
points (e.g. ``W = u 1^T``, ``H = v 1^T`` with the angle of ``u, v`` free): such
points are compared by the invariants that stay constant along a continuum
(cost and spectrum of ``W^T W``) and reported once.  The number of zero Hessian
eigenvalues is not one of them: it differs between strata of one continuum (e.g.
``W = u 1^T``, cost ``log K``, any ``H`` whose class means differ only along ``u``:
10 and 13 zero eigenvalues at two of its points at ``(6, 4, 1)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nc_verify.landscape.newton import local_quadratic_model
from nc_verify.landscape.rounding import eigenvalue_floor
from nc_verify.landscape.spectrum import (
    count_zero_eigenvalues,
    symmetry_orbit_dimension,
)

#: Invariants of two points closer than this (relative to their size) are the same
#: point: polished points carry errors ~ (gradient at rounding level) / (smallest
#: non-zero curvature), far below it, while distinct critical points differ at O(1).
INVARIANT_RTOL = 1e-6


@dataclass
class FoundPoint:
    """One distinct critical point found by :func:`find_critical_points`.

    Attributes
    ----------
    W, H : ndarray, shapes (d, K), (d, N)
    cost, gradient_norm : float
    hits : int
        Starts that converged to this point (or, for a continuum, to any point of it).
    sources : dict of str -> int
        Hits per start kind.
    invariants : dict of str -> ndarray
        ``"gram_W"``, ``"gram_H"``, ``"cross"`` (singular values of ``W^T H``),
        ``"hessian"`` (Hessian spectrum).
    n_zero, orbit_dimension : int
        Zero Hessian eigenvalues (largest-gap count) and the rotation-orbit dimension.
    continuum : bool
        ``n_zero > orbit_dimension``: the point lies on a set of critical points
        larger than its rotation orbit (or is degenerate); reported once per continuum.
    """

    W: np.ndarray
    H: np.ndarray
    cost: float
    gradient_norm: float
    invariants: dict
    n_zero: int
    orbit_dimension: int
    hits: int = 1
    sources: dict = field(default_factory=dict)

    @property
    def continuum(self) -> bool:
        return self.n_zero > self.orbit_dimension

    def as_dict(self) -> dict:
        return {
            "W": self.W, "H": self.H, "cost": self.cost, "gradient_norm": self.gradient_norm,
            "hits": self.hits, "sources": dict(self.sources), "n_zero": self.n_zero,
            "orbit_dimension": self.orbit_dimension, "continuum": self.continuum,
            "invariants": dict(self.invariants),
        }


def point_invariants(problem, W, H, eigenvalues):
    """Rotation- and relabelling-invariant fingerprints of ``(W, H)``: Gram spectra, cross singular values, Hessian spectrum."""
    return {
        "gram_W": np.linalg.eigvalsh(W.T @ W),
        "gram_H": np.linalg.eigvalsh(H.T @ H),
        "cross": np.linalg.svd(W.T @ H, compute_uv=False),
        "hessian": eigenvalues,
    }


def _close(a, b) -> bool:
    scale = 1.0 + max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return a.shape == b.shape and bool(np.max(np.abs(a - b), initial=0.0) <= INVARIANT_RTOL * scale)


def same_point(p: FoundPoint, q: FoundPoint) -> bool:
    """True when ``p`` and ``q`` are one critical point modulo the symmetries (module docstring)."""
    if abs(p.cost - q.cost) > INVARIANT_RTOL * (abs(p.cost) + abs(q.cost) + 1e-300):
        return False
    if p.continuum or q.continuum:
        # not n_zero: it changes from stratum to stratum of one continuum (at W = u 1^T,
        # cost log K, points with 10 and 13 zero eigenvalues at (6, 4, 1) lie on one connected set)
        return p.continuum and q.continuum and _close(p.invariants["gram_W"], q.invariants["gram_W"])
    return all(_close(p.invariants[k], q.invariants[k]) for k in ("gram_W", "gram_H", "cross", "hessian"))


def describe_point(problem, W, H) -> FoundPoint:
    """Invariants, zero count and orbit dimension of a critical point (dense Hessian).

    Zero eigenvalues are counted at :func:`~nc_verify.landscape.rounding.eigenvalue_floor`,
    the level the classification uses.
    """
    loc = local_quadratic_model(problem, W, H)
    n_zero, _ = count_zero_eigenvalues(loc.eigenvalues, eigenvalue_floor(problem, loc.hessian_norm))
    return FoundPoint(
        W=W, H=H, cost=problem.cost(W, H), gradient_norm=loc.gradient_norm,
        invariants=point_invariants(problem, W, H, loc.eigenvalues), n_zero=n_zero,
        orbit_dimension=symmetry_orbit_dimension(W, H),
    )


def add_distinct(points: list, new: FoundPoint, source: str) -> bool:
    """Merge ``new`` into ``points`` (modulo symmetry); returns True if it is a new distinct point."""
    for p in points:
        if same_point(p, new):
            p.hits += 1
            p.sources[source] = p.sources.get(source, 0) + 1
            return False
    new.sources = {source: 1}
    points.append(new)
    return True


