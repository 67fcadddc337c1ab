"""Continua of critical points and degenerate critical points: worst members and a higher-order test.

Some critical points of problem (4) lie on continua larger than their rotation orbit
(FACTS: ``W = u 1^T``, ``H = v 1^T`` with the angle of ``u, v`` free).  Theorem 2 says
*every* member is a global minimiser or a strict saddle, so one representative is
not enough: along ``W = u 1^T, H = v 1^T`` at ``(d, K, n, tau) = (2, 2, 1, 1)``
``lambda_min = -cos^2(angle) / 2`` (measured), strictly negative except at
``v`` orthogonal to ``u``, where the spectrum is ``[0, 0, 0, 0.5]``.

* :func:`worst_member` maximises ``lambda_min`` over the continuum through a point:
  it moves along the flat directions beyond the rotation orbit (the kernel of the
  Hessian minus the orbit's tangent space), returns to the critical set by
  pseudo-inverse Newton steps after every move (a move counts only if the new point
  is critical to rounding level with the same cost, to the tolerance of
  :data:`~nc_verify.landscape.points.INVARIANT_RTOL` that deduplication uses), and
  maximises along each direction by a grid then Brent's method.  The result is the
  worst member found, with its point: evidence, not a bound.
* :func:`higher_order_test` looks at a point whose Hessian has flat directions beyond
  the orbit and no resolved negative eigenvalue: along curves ``t -> R(x, t e)`` for
  flat directions ``e`` (each then corrected by Newton steps in the Hessian's range, so
  the curve follows the valley floor), ``f - f(x)`` is of third or fourth order in
  ``t``.  A decrease resolved beyond the cost's rounding at every step of a window
  whose fitted log-log slope is at least ``3 - SLOPE_TOL`` (the decrease is local, not
  a second basin) proves numerically that the point is not a local minimum, while it
  has no negative eigenvalue: a *degenerate saddle*.
* :func:`classify_point` is :func:`~nc_verify.landscape.classify.classify_critical_point`
  followed by both: a continuum is classified by its worst member, and a point left
  undecided for its flat directions becomes ``"degenerate_saddle"`` when the test
  resolves a decrease.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.optimize import minimize_scalar

from nc_verify.landscape.classify import classify_critical_point, spectrum_summary
from nc_verify.landscape.newton import (
    gradient_tolerance,
    local_quadratic_model,
    newton_polish,
)
from nc_verify.landscape.points import INVARIANT_RTOL
from nc_verify.landscape.rounding import cost_resolution, eigenvalue_resolution
from nc_verify.objective.oblique import retract
from nc_verify.objective.protocol import as_point, blocks, check_problem
from nc_verify.objective.taylor import RESOLVED_STEP, SLOPE_TOL, fit_slope
from nc_verify.utils.validation import as_rng, check_int

#: Steps ``t`` (distance along a unit flat direction) of the higher-order test at ``tau <= 1``;
#: at larger ``tau`` they are divided by ``tau``: a unit step moves the logits ``tau W^T H``
#: by up to about ``2 tau t``, and the Taylor expansion of the softmax describes ``f`` only
#: while that stays below 1 (at ``tau = 1e4`` a fitted "order" at ``t = 0.01`` means nothing).
HIGHER_ORDER_STEPS = np.logspace(-2.5, -0.5, 13)
#: Random unit combinations of the flat directions tried beside the basis directions.
HIGHER_ORDER_DIRECTIONS = 6
#: Largest step along a flat direction when looking for the worst member (radians, roughly).
MEMBER_STEP = 1.6


def orbit_tangent(problem, basis, point) -> np.ndarray:
    """Orthonormal coordinates, shape (T, r), of the rotation orbit's tangent space at ``point``.

    Spanned by the generators ``(A W, A H)`` (``A X`` for every block ``X``),
    ``A = e_a e_b^T - e_b e_a^T``; ``r`` is the problem's ``orbit_dimension``.
    """
    d = point[0].shape[0]
    gens = []
    for a in range(d):
        for b in range(a + 1, d):
            A = np.zeros((d, d))
            A[a, b], A[b, a] = 1.0, -1.0
            gens.append(basis.from_ambient(*(A @ x for x in point)))
    G = np.array(gens).T
    r = problem.orbit_dimension(*point)
    U = np.linalg.svd(G, full_matrices=False)[0]
    return U[:, :r]


def flat_directions(problem, point, loc=None):
    """Flat Hessian directions beyond the rotation orbit: ``(E, loc)``.

    ``E`` has shape (T, m), orthonormal coordinates (in ``loc.basis``) of the part of
    the Hessian's zero cluster (:func:`~nc_verify.landscape.spectrum.count_zero_eigenvalues`
    at the classification's level) orthogonal to the orbit; ``m = n_zero - orbit``.
    """
    loc = local_quadratic_model(problem, *point) if loc is None else loc
    summary = spectrum_summary(problem, loc.eigenvalues)
    kernel = loc.eigenvectors[:, np.argsort(np.abs(loc.eigenvalues))[: summary["n_zero"]]]
    O = orbit_tangent(problem, loc.basis, point)
    m = summary["n_zero"] - O.shape[1]
    if m <= 0:
        return np.zeros((loc.eigenvalues.size, 0)), loc
    rest = kernel - O @ (O.T @ kernel)
    return np.linalg.svd(rest, full_matrices=False)[0][:, :m], loc


def _member(problem, point, cost0):
    """``(point, lambda_min)`` of the critical point reached by Newton steps from ``point``, or None
    when they end off the critical set or at another cost."""
    *x, g = newton_polish(problem, *point)
    x = tuple(x)
    loc = local_quadratic_model(problem, *x)
    if g > gradient_tolerance(problem, *x, hessian_norm=loc.hessian_norm):
        return None
    cost = problem.cost(*x)
    if abs(cost - cost0) > INVARIANT_RTOL * (abs(cost) + abs(cost0) + 1e-300):
        return None
    return x, float(loc.eigenvalues[0])


def worst_member(problem, *point, max_evaluations: int = 120, sweeps: int = 2):
    """The member of the continuum through ``(W, H)`` with the largest ``lambda_min`` (module docstring).

    Parameters
    ----------
    problem : ManifoldProblem
    *point : ndarray
        A critical point (critical to rounding level): ``W, H`` for problem (4).
    max_evaluations : int
        Newton returns to the critical set allowed (each forms a dense Hessian a few times).
    sweeps : int
        Passes over the flat directions.

    Returns
    -------
    point : tuple of ndarray
        The worst member found (``point`` itself when nothing better was reached).
    info : dict
        ``lambda_min_start``, ``lambda_min`` (at the worst member), ``flat_directions``
        (``m``), ``evaluations``, ``moved`` (whether the worst member differs from the start).
    """
    max_evaluations = check_int(max_evaluations, "max_evaluations", 1)
    x0 = as_point(check_problem(problem), *point)
    cost0 = problem.cost(*x0)
    E, loc = flat_directions(problem, x0)
    lam0 = float(loc.eigenvalues[0])
    best = (x0, lam0)
    used = 0
    for _ in range(sweeps):
        improved = False
        for i in range(E.shape[1]):
            if used >= max_evaluations:
                break
            xc = best[0]
            Ec, locc = flat_directions(problem, xc)
            if i >= Ec.shape[1]:
                break
            v = locc.basis.to_ambient(Ec[:, i])
            seen = {}

            def value(s, xc=xc, v=v, seen=seen):
                nonlocal used
                used += 1
                m = _member(problem, retract(xc, v, s), cost0)
                if m is None:
                    return np.inf
                seen[s] = m
                return -m[1]

            grid = np.linspace(-MEMBER_STEP, MEMBER_STEP, 9)
            vals = [value(s) for s in grid]
            j = int(np.argmin(vals))
            if np.isfinite(vals[j]) and used < max_evaluations:
                lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
                minimize_scalar(value, bounds=(lo, hi), method="bounded",
                                options={"xatol": 1e-10, "maxiter": max(1, max_evaluations - used)})
            cand = max(seen.values(), key=lambda m: m[1], default=None)
            if cand is not None and cand[1] > best[1]:
                best, improved = cand, True
        if not improved or used >= max_evaluations:
            break
    return best[0], {"lambda_min_start": lam0, "lambda_min": best[1], "flat_directions": int(E.shape[1]),
                     "evaluations": used, "moved": best[1] > lam0}


def _valley_point(problem, point, loc, direction, t, keep, corrections: int = 2):
    """``R(x, t e)`` followed by Newton steps in the Hessian's range at ``x`` (the valley floor)."""
    xt = retract(point, direction, t)
    V, lam = loc.eigenvectors[:, keep], loc.eigenvalues[keep]
    for _ in range(corrections):
        c = loc.basis.from_ambient(*blocks(problem.riemannian_gradient(*xt)))
        x2 = retract(xt, loc.basis.to_ambient(-V @ ((V.T @ c) / lam)))
        if problem.cost(*x2) >= problem.cost(*xt):
            break
        xt = x2
    return problem.cost(*xt)


def higher_order_test(problem, *point, rng=None):
    """Third/fourth-order test of ``f`` along the flat directions beyond the orbit (module docstring).

    Returns
    -------
    dict
        ``decrease`` (bool: a resolved local decrease was found), ``flat_directions``,
        ``directions_tried``, and for the best direction ``steps``, ``differences``
        (``f - f(x)`` along it), ``order`` (fitted log-log slope) and ``floor`` (the
        rounding level the differences were compared with).
    """
    rng = as_rng(rng)
    x = as_point(check_problem(problem), *point)
    E, loc = flat_directions(problem, x)
    m = E.shape[1]
    out = {"decrease": False, "flat_directions": int(m), "directions_tried": 0}
    if m == 0:
        return out
    f0 = problem.cost(*x)
    summary = spectrum_summary(problem, loc.eigenvalues)
    res = eigenvalue_resolution(problem, summary["S"], loc.gradient_norm, summary["sigma"])
    keep = np.abs(loc.eigenvalues) > res
    floor = 32 * cost_resolution(problem, f0)
    steps = HIGHER_ORDER_STEPS / max(1.0, problem.tau)
    coeffs = [E[:, i] for i in range(m)]
    for _ in range(HIGHER_ORDER_DIRECTIONS if m > 1 else 0):
        c = E @ rng.standard_normal(m)
        coeffs.append(c / np.linalg.norm(c))
    best = None
    for c in coeffs:
        v = loc.basis.to_ambient(c)
        for sign in (1.0, -1.0):
            out["directions_tried"] += 1
            diffs = np.array([_valley_point(problem, x, loc, v, sign * t, keep) - f0 for t in steps])
            order, t_first = fit_slope(steps, -diffs, floor, points=5, full_output=True)
            if not np.isfinite(order) or t_first > RESOLVED_STEP / max(1.0, problem.tau):
                continue
            window = (steps >= t_first) & (np.abs(diffs) > floor)
            local = bool(np.all(diffs[window] < -floor) and order >= 3.0 - SLOPE_TOL)
            if local and (best is None or diffs[-1] < best["differences"][-1]):
                best = {"steps": steps, "differences": diffs, "order": float(order), "floor": floor}
    if best is not None:
        out.update(decrease=True, **best)
    return out


def classify_point(problem, *point, reference=None, rng=None, method: str = "auto", continua: bool = True):
    """Classify a critical point, continua by their worst member and flat points by a higher-order test.

    :func:`~nc_verify.landscape.classify.classify_critical_point` first.  With the
    dense method and more zero Hessian eigenvalues than the orbit dimension: if
    ``continua``, :func:`worst_member` moves to the member with the largest
    ``lambda_min`` and the report describes that member (``report.continuum`` holds
    the search's figures, ``report.point`` the worst member); then a point
    left undecided for flat directions beyond the orbit gets :func:`higher_order_test`
    (``report.higher_order``), and a resolved decrease makes it ``"degenerate_saddle"``.

    Parameters
    ----------
    problem : ManifoldProblem
    *point : ndarray
        ``W, H`` of shapes (d, K), (d, N) for problem (4).
    reference : float, optional
        As for :func:`~nc_verify.landscape.classify.classify_critical_point`.
    rng : Generator, int or None
    method : {"auto", "dense", "lanczos"}
    continua : bool
        Look for the worst member of continua.

    Returns
    -------
    CriticalPointReport
    """
    rng = as_rng(rng)
    rep = classify_critical_point(problem, *point, reference=reference, rng=rng, method=method)
    flat = rep.method == "dense" and rep.n_zero is not None and rep.n_zero > rep.orbit_dimension
    if not flat or rep.kind not in ("strict_saddle", "undecided"):
        return rep
    if continua:
        worst, info = worst_member(problem, *rep.point)
        if info["moved"]:
            info["lambda_min_representative"] = rep.lambda_min
            rep = classify_critical_point(problem, *worst, reference=reference, rng=rng, method=method)
        rep = replace(rep, continuum=info)
        if rep.kind == "strict_saddle":
            rep = replace(rep, reason=rep.reason + f" at the continuum's worst member found "
                          f"(lambda_min {rep.lambda_min:.3g}; representative {info['lambda_min_start']:.3g})")
    if rep.kind == "undecided" and rep.n_zero is not None and rep.n_zero > rep.orbit_dimension \
            and rep.hessian_norm > 0 and abs(rep.lambda_min) <= rep.resolution:
        test = higher_order_test(problem, *rep.point, rng=rng)
        rep = replace(rep, higher_order=test)
        if test["decrease"]:
            t, df = test["steps"][-1], test["differences"][-1]
            rep = replace(rep, kind="degenerate_saddle", reason=(
                f"no negative eigenvalue ({rep.n_zero - rep.orbit_dimension} flat directions beyond the rotation "
                f"orbit), but f decreases along one at order {test['order']:.1f} (f - f0 = {df:.3g} at distance "
                f"{t:.2g}): not a local minimum and not a strict saddle"))
        else:
            rep = replace(rep, reason=rep.reason + "; no decrease resolved to fourth order along them")
    return rep
