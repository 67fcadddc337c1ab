"""Hypothesis strategies for problem (4): problems, points, tangent vectors, exact families, rotations.

The only module of nc-verify that imports hypothesis (``pip install "nc-verify[test]"``).
Every strategy shrinks towards small sizes and simple points: sizes towards their lower
bounds, temperatures towards simple numbers (1.0 where the range contains it, else the
smallest integer in it), matrix entries towards equal values (all columns equal: a
collinear point), rotations towards the identity and exact families towards the first
one listed (the simplex ETF where it exists).

Examples
--------
>>> from hypothesis import given
>>> from nc_verify.testing.strategies import problems, points
>>> @given(problems(d=(3, 8), K=(2, 4), tau=(0.1, 10.0)).flatmap(points))
... def test_cost_is_finite(point):
...     problem, W, H = point
...     assert problem.cost(W, H) >= 0.0
"""

from __future__ import annotations

import numbers

import numpy as np
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nc_verify.objective.families import critical_point_families
from nc_verify.objective.losses import get_loss
from nc_verify.objective.oblique import project_columns
from nc_verify.objective.problem import UFMProblem

__all__ = [
    "PROFILES", "family_points", "load_profile", "orthogonal_matrices", "points", "problems",
    "problems_and_points", "register_profiles", "tangent_vectors",
]

#: Entries of the raw matrices that are normalised into points and tangent vectors.
FINITE = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)

#: Columns of a raw matrix shorter than this are not normalised (their direction would be
#: rounding noise); :func:`points` rejects the draw instead.
MIN_COLUMN_NORM = 1e-3

#: Hypothesis profiles registered by :func:`register_profiles` (``--nc-verify-profile``):
#: "deterministic" (derandomised, no example database, no deadline, 25 examples: the same
#: examples on every run and machine) and "thorough" (500 random examples per property).
PROFILES = {
    "deterministic": dict(derandomize=True, database=None, deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow]),
    "thorough": dict(derandomize=False, database=None, deadline=None, max_examples=500,
                     suppress_health_check=[HealthCheck.too_slow]),
}


def register_profiles() -> None:
    """Register :data:`PROFILES` with hypothesis as ``"nc-verify-<name>"``."""
    for name, kw in PROFILES.items():
        settings.register_profile(f"nc-verify-{name}", **kw)


def load_profile(name: str) -> None:
    """Register the profiles and load ``"nc-verify-<name>"`` (``name`` a key of :data:`PROFILES`)."""
    if name not in PROFILES:
        raise ValueError(f"unknown nc-verify hypothesis profile {name!r}; valid: "
                         + ", ".join(map(repr, PROFILES)))
    register_profiles()
    settings.load_profile(f"nc-verify-{name}")


# ------------------------------------------------------------------ bounds
def _int_range(value, name: str, minimum: int) -> tuple[int, int]:
    """``value`` as an integer range ``(lo, hi)``: an int (fixed) or a pair of ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)):
        raise TypeError(f"{name} must be an int or a pair (lo, hi) of ints, got {value!r}")
    lo, hi = int(value[0]), int(value[1])
    if lo < minimum or hi < lo:
        raise ValueError(f"{name} must satisfy {minimum} <= lo <= hi, got ({lo}, {hi})")
    return lo, hi


def _float_range(value, name: str) -> tuple[float, float]:
    """``value`` as a positive float range ``(lo, hi)``: a number (fixed) or a pair."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)):
        raise TypeError(f"{name} must be a number or a pair (lo, hi) of numbers, got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 < lo <= hi):
        raise ValueError(f"{name} must satisfy 0 < lo <= hi (finite), got ({lo!r}, {hi!r})")
    return lo, hi


# ------------------------------------------------------------------ problems
def problems(d=(2, 30), K=(2, 10), n=(1, 5), tau=(0.01, 50.0), *, d_at_least_K: bool = False,
             d_greater_than_K: bool = False, loss=None):
    """Strategy of :class:`~nc_verify.UFMProblem` instances with bounded sizes and temperature.

    Parameters
    ----------
    d, K, n : int or (int, int)
        Feature dimension, classes, samples per class: a fixed value or inclusive bounds.
    tau : float or (float, float)
        Temperature, fixed or inclusive bounds (``0 < lo <= hi``).
    d_at_least_K, d_greater_than_K : bool
        Draw ``d >= K`` (Theorem 1) or ``d > K`` (Theorem 2) within the ``d`` bounds.
    loss : loss object, spec string or hypothesis strategy of either, optional
        The loss of the logits (default cross-entropy, problem (4)); see
        :mod:`nc_verify.objective.losses`.

    Returns
    -------
    SearchStrategy of UFMProblem
        Shrinks towards the smallest sizes and a simple ``tau``.
    """
    d_lo, d_hi = _int_range(d, "d", 2)
    K_lo, K_hi = _int_range(K, "K", 2)
    n_lo, n_hi = _int_range(n, "n", 1)
    t_lo, t_hi = _float_range(tau, "tau")
    extra = 1 if d_greater_than_K else 0
    if (d_at_least_K or d_greater_than_K) and d_hi < K_lo + extra:
        raise ValueError(f"d <= {d_hi} leaves no d {'>' if extra else '>='} K for K >= {K_lo}")
    if loss is None or isinstance(loss, st.SearchStrategy):
        losses = st.none() if loss is None else loss
    else:
        losses = st.just(get_loss(loss))

    @st.composite
    def build(draw):
        K_top = min(K_hi, d_hi - extra) if (d_at_least_K or d_greater_than_K) else K_hi
        K_ = draw(st.integers(K_lo, K_top))
        lo = max(d_lo, K_ + extra) if (d_at_least_K or d_greater_than_K) else d_lo
        d_ = draw(st.integers(lo, d_hi))
        n_ = draw(st.integers(n_lo, n_hi))
        tau_ = t_lo if t_lo == t_hi else draw(st.floats(t_lo, t_hi, allow_nan=False))
        return UFMProblem(d_, K_, n_, tau_, loss=draw(losses))

    return build()


# ------------------------------------------------------------------ points
def _check_problem(problem) -> UFMProblem:
    if not isinstance(problem, UFMProblem):
        raise TypeError(f"problem must be a UFMProblem, got {type(problem).__name__}")
    return problem


def _normalised(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=0)
    assume(np.all(norms > MIN_COLUMN_NORM))
    return X / norms


@st.composite
def orthogonal_matrices(draw, d: int):
    """Strategy of ``d x d`` orthogonal matrices (rotations and reflections), shrinking to ``I``.

    The Q factor of ``I + A`` for a drawn ``A`` with entries in [-1, 1], its column
    signs fixed by ``R``'s diagonal (so ``A = 0`` gives ``I``). Orthogonal to rounding:
    ``||Q^T Q - I|| ~ d eps`` (Householder QR).
    """
    d = _int_range(d, "d", 1)[0]
    A = draw(arrays(np.float64, (d, d), elements=FINITE))
    Q, R = np.linalg.qr(np.eye(d) + A)
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


@st.composite
def _unit_columns(draw, d: int, m: int, rank, near_degenerate: bool):
    if rank is None and not near_degenerate:
        return _normalised(draw(arrays(np.float64, (d, m), elements=FINITE)))
    r = d if rank is None else rank
    if near_degenerate:
        # a few centres; every column is +-(a centre) plus noise 10^-e, e in [3, 12]
        c = draw(st.integers(1, min(m, 3)))
        centres = _normalised(draw(arrays(np.float64, (r, c), elements=FINITE)))
        which = draw(arrays(np.int64, (m,), elements=st.integers(0, c - 1)))
        signs = draw(arrays(np.float64, (m,), elements=st.sampled_from([1.0, -1.0])))
        noise = draw(arrays(np.float64, (r, m), elements=FINITE))
        X = centres[:, which] * signs + 10.0 ** -draw(st.integers(3, 12)) * noise
    else:
        X = draw(arrays(np.float64, (r, m), elements=FINITE))
    full = np.zeros((d, m))
    full[:r] = X
    return _normalised(full)


def points(problem, *, rank=None, near_degenerate: bool = False, rotate: bool = False):
    """Strategy of points ``(problem, W, H)`` of the product manifold ``OB(d, K) x OB(d, N)``.

    Parameters
    ----------
    problem : UFMProblem
    rank : int, optional
        Put every column in an ``rank``-dimensional subspace (low-rank points; the
        gradient flow keeps such subspaces, and many critical points live in them).
    near_degenerate : bool
        Every column of ``W`` and ``H`` within ``10^-12 .. 10^-3`` of ``+-`` one of at most
        three common centres (near-coincident and near-antipodal classifiers and features).
    rotate : bool
        Apply a drawn orthogonal matrix (:func:`orthogonal_matrices`) to the point, so
        low-rank and near-degenerate points are not aligned with the coordinate axes.

    Returns
    -------
    SearchStrategy of (UFMProblem, ndarray (d, K), ndarray (d, N))
        Unit columns to rounding (``| ||x|| - 1 | <= (d + 2) eps``).
    """
    p = _check_problem(problem)
    if rank is not None:
        rank = _int_range(rank, "rank", 1)[0]
        if rank > p.d:
            raise ValueError(f"rank must be <= d = {p.d}, got {rank}")

    @st.composite
    def build(draw):
        if rank is None and not near_degenerate:
            W = draw(_unit_columns(p.d, p.K, None, False))
            H = draw(_unit_columns(p.d, p.N, None, False))
        else:                        # one subspace / one set of centres for W and H together
            X = draw(_unit_columns(p.d, p.K + p.N, rank, near_degenerate))
            W, H = X[:, :p.K], X[:, p.K:]
        if rotate:
            Q = draw(orthogonal_matrices(p.d))
            W, H = Q @ W, Q @ H
            W, H = W / np.linalg.norm(W, axis=0), H / np.linalg.norm(H, axis=0)
        return p, W, H

    return build()


def problems_and_points(*, rank=None, near_degenerate: bool = False, rotate: bool = False, **problem_bounds):
    """Strategy of ``(problem, W, H)``: a problem from :func:`problems` (``**problem_bounds``), then a point."""
    return problems(**problem_bounds).flatmap(
        lambda p: points(p, rank=min(rank, p.d) if rank is not None else None,
                         near_degenerate=near_degenerate, rotate=rotate))


def tangent_vectors(problem, W, H, *, unit: bool = True):
    """Strategy of tangent vectors ``(dW, dH)`` at ``(W, H)`` (columns orthogonal to the point's).

    Drawn in the ambient space and projected column-wise (the same projection as
    eqs. (5)-(6)); with ``unit=True`` (default) scaled to unit Frobenius norm.
    Shrinks towards sparse directions.
    """
    p = _check_problem(problem)
    W, H = p.check_point(W, H)

    @st.composite
    def build(draw):
        dW = project_columns(W, draw(arrays(np.float64, W.shape, elements=FINITE)))
        dH = project_columns(H, draw(arrays(np.float64, H.shape, elements=FINITE)))
        if unit:
            nrm = np.sqrt(np.sum(dW * dW) + np.sum(dH * dH))
            assume(nrm > MIN_COLUMN_NORM)
            dW, dH = dW / nrm, dH / nrm
        return dW, dH

    return build()


def family_points(problem, *, names=None, rotate: bool = False):
    """Strategy of exact critical points ``(problem, name, W, H)`` of :func:`~nc_verify.critical_point_families`.

    Parameters
    ----------
    problem : UFMProblem
    names : iterable of str, optional
        Restrict to these family members (default: every member that exists at the
        problem's sizes, the simplex ETF first where it exists).
    rotate : bool
        Rotate the point by a drawn orthogonal matrix (a symmetry of problem (4)).
    """
    p = _check_problem(problem)
    fam = critical_point_families(p)
    if names is None:
        chosen = list(fam)
    else:
        chosen = list(names)
        missing = [nm for nm in chosen if nm not in fam]
        if missing or not chosen:
            raise ValueError(f"unknown family names {missing} at {p!r}; valid: {', '.join(fam)}")

    @st.composite
    def build(draw):
        name = draw(st.sampled_from(chosen))
        W, H = fam[name]
        if rotate:
            Q = draw(orthogonal_matrices(p.d))
            W, H = Q @ W, Q @ H
            W, H = W / np.linalg.norm(W, axis=0), H / np.linalg.norm(H, axis=0)
        return p, name, W, H

    return build()
