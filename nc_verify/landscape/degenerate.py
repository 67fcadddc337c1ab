"""Continua of critical points and degenerate critical points: worst members and a higher-order test.

Some critical points of problem (4) lie on continua larger than their rotation orbit
(FACTS: ``W = u 1^T``, ``H = v 1^T`` with the angle of ``u, v`` free).  Theorem 2 says
*every* member is a global minimiser or a strict saddle, so one representative is
not enough: a continuum is a strict saddle only if its member of largest ``lambda_min``
(its *worst member*) is.  On a continuum ``lambda_min <= 0`` at every member (its tangent
directions are flat), so a member without a resolved negative eigenvalue is a worst member.

* The continuum ``W = u 1^T`` (every continuum the searches have found; docs "Continua"):
  ``W = u 1^T`` is critical iff the class means differ only along ``u``, ``f = log K``
  on it.  For cross-entropy at ``d >= 3`` no member has a positive semi-definite
  Hessian: :func:`u1_continuum_bound` bounds ``lambda_min`` of *every* member by an
  explicit ``B(tau, K, n) < 0`` (a 2 x 2 block of the Hessian), so the continuum is a
  strict saddle when ``B`` is resolved below zero.  At ``d = 2`` its members without a
  negative eigenvalue are exactly ``h_{k,i} = s_{k,i} v`` (``v`` orthogonal to ``u``)
  with equal class sums of the signs: :func:`u1_worst_members` builds one per symmetry
  class (:func:`~nc_verify.objective.families.u1_signed`) and each gets the higher-order test.
* :func:`worst_member` maximises ``lambda_min`` over a continuum without a known
  parametrisation: it moves along the flat directions beyond the rotation orbit (the
  kernel of the Hessian minus the orbit's tangent space), returns to the critical set by
  pseudo-inverse Newton steps after every move (a move counts only if the new point
  is critical to rounding level with the same cost, to the tolerance of
  :data:`~nc_verify.landscape.points.INVARIANT_RTOL` that deduplication uses), and
  maximises along each direction by a grid then Brent's method.  The result is the
  worst member found, with its point: evidence, not a bound; ``info["complete"]`` says
  whether the search settled (a last pass over every flat direction without improvement
  within its budget, or a member without a resolved negative eigenvalue).  A strict
  saddle at the member of an unsettled search is reported "undecided".
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

import warnings
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
from nc_verify.landscape.rounding import EPS, cost_resolution, eigenvalue_resolution
from nc_verify.objective.families import u1_signed
from nc_verify.objective.oblique import retract
from nc_verify.objective.protocol import as_point, blocks, check_problem
from nc_verify.objective.taylor import RESOLVED_STEP, SLOPE_TOL, fit_slope
from nc_verify.utils.validation import as_rng, check_int, check_positive_float

#: Steps ``t`` (distance along a unit flat direction) of the higher-order test at ``tau <= 1``;
#: at larger ``tau`` they are divided by ``tau``: a unit step moves the logits ``tau W^T H``
#: by up to about ``2 tau t``, and the Taylor expansion of the softmax describes ``f`` only
#: while that stays below 1 (at ``tau = 1e4`` a fitted "order" at ``t = 0.01`` means nothing).
HIGHER_ORDER_STEPS = np.logspace(-2.5, -0.5, 13)
#: Random unit combinations of the flat directions tried beside the basis directions.
HIGHER_ORDER_DIRECTIONS = 6
#: Largest step along a flat direction when looking for the worst member (radians, roughly).
MEMBER_STEP = 1.6
#: A point is on the continuum ``W = u 1^T`` when every column of ``W`` lies within this
#: distance of one unit vector ``u``.  sqrt(eps): a point polished to rounding level lies
#: within about ``||grad f|| / sigma`` (1e-13 or less) of the exact critical set, and the
#: recognition is checked again by the worst members built from it (critical, same cost).
#: A looser 1e-3 would take a point whose classifiers are 1e-5 apart (a different,
#: near-collinear point, whose Hessian is not the continuum's) for a member.
U1_TOL = float(np.sqrt(EPS))


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


def u1_axis(problem, point):
    """``u`` (shape (d,)) when ``point`` is ``(u 1^T, H)`` of problem (4) to :data:`U1_TOL`, else None."""
    if len(point) != 2 or tuple(getattr(problem, "block_sizes", ())) != (point[0].shape[1], point[1].shape[1]):
        return None
    W = point[0]
    u = W.sum(axis=1)
    norm = np.linalg.norm(u)
    if norm == 0.0:
        return None
    u = u / norm
    return u if float(np.max(np.abs(W - u[:, None]))) <= U1_TOL else None


def u1_continuum_bound(K: int, n: int, tau: float) -> float:
    """Upper bound ``B < 0`` on ``lambda_min`` at every member of the continuum ``W = u 1^T`` (cross-entropy, ``d >= 3``).

    ``B = -2 b^2 / (a + sqrt(a^2 + 4 b^2))`` with ``a = (tau^2 / K)(1 - 1/K)`` and
    ``b = (tau / N)(1 - 1/K)``: the smaller eigenvalue of ``[[a, -b], [-b, 0]]``
    (written without cancellation), which bounds the Hessian's quadratic form on the
    unit directions ``dw_y = alpha e``, ``dh_j = beta e`` (``e`` orthogonal to ``u`` and
    ``h_j``, class ``y`` with ``u^T hbar_y <= u^T mu``); derivation in docs "Continua".
    Independent of ``d``.
    """
    K = check_int(K, "K", 2)
    n = check_int(n, "n", 1)
    tau = check_positive_float(tau, "tau")
    a = tau * tau / K * (1.0 - 1.0 / K)
    b = tau / (K * n) * (1.0 - 1.0 / K)
    return float(-2.0 * b * b / (a + np.hypot(a, 2.0 * b)))


def u1_worst_members(problem) -> dict:
    """``d = 2``: the members of the continuum ``W = u 1^T`` without a negative Hessian eigenvalue.

    ``u1_signed[m]`` (:func:`~nc_verify.objective.families.u1_signed`) for
    ``m = 0 .. n // 2`` minus signs per class: one per symmetry class (``m`` and
    ``n - m`` are mirror images).  For cross-entropy these are all of them (docs
    "Continua"); for another loss they are candidates, checked like any member.
    """
    return {f"u1_signed[{m}]": u1_signed(problem, m) for m in range(problem.n // 2 + 1)}


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
        (``m``), ``evaluations``, ``moved`` (whether the worst member differs from the start),
        ``complete`` (the last pass over every flat direction improved nothing, within the
        budget; :func:`classify_point` also counts a member without a resolved negative
        eigenvalue as settled), ``method`` ("search") and ``warnings`` (messages of numerical
        warnings raised inside the line searches, caught and reported here).
    """
    max_evaluations = check_int(max_evaluations, "max_evaluations", 1)
    x0 = as_point(check_problem(problem), *point)
    cost0 = problem.cost(*x0)
    E, loc = flat_directions(problem, x0)
    lam0 = float(loc.eigenvalues[0])
    best = (x0, lam0)
    used = 0
    complete = E.shape[1] == 0
    # -lambda_min of any member is at most ||Hess||-sized; a move off the critical set scores above all
    penalty = 2.0 * (loc.hessian_norm + abs(lam0)) + 1.0
    notes = set()
    for _ in range(sweeps):
        improved, exhausted = False, False
        for i in range(E.shape[1]):
            if used >= max_evaluations:
                exhausted = True
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
                    return penalty          # off the critical set: worse than any member, finite for Brent
                seen[s] = m
                return -m[1]

            grid = np.linspace(-MEMBER_STEP, MEMBER_STEP, 9)
            vals = [value(s) for s in grid]
            j = int(np.argmin(vals))
            # refine only where the critical set extends along v: a flat Hessian direction whose grid
            # points all leave the critical set (a degenerate point, not a continuum along v) has no
            # other member to compare, and Brent would spend the budget converging on s = 0
            extends = any(val < penalty for s, val in zip(grid, vals) if s != 0.0)
            if extends and vals[j] < penalty and used < max_evaluations:
                lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    minimize_scalar(value, bounds=(lo, hi), method="bounded",
                                    options={"xatol": 1e-10, "maxiter": max(1, max_evaluations - used)})
                notes.update(f"{w.category.__name__}: {w.message}" for w in caught)
            cand = max(seen.values(), key=lambda m: m[1], default=None)
            if cand is not None and cand[1] > best[1]:
                best, improved = cand, True
        exhausted = exhausted or used >= max_evaluations
        if not improved and not exhausted:
            complete = True
            break
        if exhausted:
            break
    return best[0], {"method": "search", "lambda_min_start": lam0, "lambda_min": best[1],
                     "flat_directions": int(E.shape[1]), "evaluations": used, "moved": best[1] > lam0,
                     "complete": complete, "warnings": sorted(notes)}


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


def _u1_members(problem, rep, reference, rng, method):
    """Worst members of the continuum ``W = u 1^T`` through ``rep.point`` from its parametrisation, or None.

    Returns ``(reports, info)``: cross-entropy at ``d >= 3``, the representative's report
    turned by :func:`u1_continuum_bound` into a verdict for every member; at ``d = 2`` the
    classifications of :func:`u1_worst_members` that lie on this continuum (critical, same
    cost).  None where the point is not on it or no parametrised member applies.
    """
    if u1_axis(problem, rep.point) is None:
        return None
    info = {"family": "W = u 1^T", "lambda_min_representative": rep.lambda_min}
    if rep.kind == "undecided" and abs(rep.lambda_min) > rep.resolution:
        return [replace(rep, continuum=info)], info     # undecided for its cost, not its curvature: kept
    ce = getattr(getattr(problem, "loss", None), "spec", None) == "cross_entropy"
    if problem.d >= 3 and ce:
        B = u1_continuum_bound(problem.K, problem.n, problem.tau)
        info.update(method="bound", lambda_min_bound=B, complete=True)
        if B < -rep.resolution:
            return [replace(rep, kind="strict_saddle", lambda_min=B, margin=abs(B) / rep.resolution, continuum=info,
                            reason=(
                                f"every member of the continuum W = u 1^T has lambda_min <= {B:.4g} (d >= 3 bound; "
                                f"representative {rep.lambda_min:.3g})"))], info
        return [replace(rep, kind="undecided", continuum=info, reason=(
            f"continuum W = u 1^T: its bound lambda_min <= {B:.3g} is within the resolution {rep.resolution:.3g}"))], info
    if problem.d != 2:
        return None
    reports = []
    for name, x in u1_worst_members(problem).items():
        r = classify_critical_point(problem, *x, reference=reference, rng=rng, method=method)
        same = abs(r.cost - rep.cost) <= INVARIANT_RTOL * (abs(r.cost) + abs(rep.cost) + 1e-300)
        if r.kind != "not_critical" and same and r.kind != "strict_saddle":
            reports.append(replace(r, continuum={**info, "member": name}))
    if not reports:
        return None
    info.update(method="parametrisation", lambda_min=max(r.lambda_min for r in reports), complete=True,
                members=[r.continuum["member"] for r in reports])
    return [replace(r, continuum={**info, "member": r.continuum["member"]}) for r in reports], info


def _higher_order(problem, rep, rng):
    """``rep`` after :func:`higher_order_test` where it is undecided for flat directions beyond the orbit."""
    if not (rep.kind == "undecided" and rep.n_zero is not None and rep.n_zero > rep.orbit_dimension
            and rep.hessian_norm > 0 and abs(rep.lambda_min) <= rep.resolution):
        return rep
    test = higher_order_test(problem, *rep.point, rng=rng)
    rep = replace(rep, higher_order=test)
    if test["decrease"]:
        t, df = test["steps"][-1], test["differences"][-1]
        return replace(rep, kind="degenerate_saddle", reason=(
            f"no negative eigenvalue ({rep.n_zero - rep.orbit_dimension} flat directions beyond the rotation "
            f"orbit), but f decreases along one at order {test['order']:.1f} (f - f0 = {df:.3g} at distance "
            f"{t:.2g}): not a local minimum and not a strict saddle"))
    return replace(rep, reason=rep.reason + "; no decrease resolved to fourth order along them")


def classify_point(problem, *point, reference=None, rng=None, method: str = "auto", continua: bool = True):
    """Classify a critical point, continua by their worst member and flat points by a higher-order test.

    :func:`~nc_verify.landscape.classify.classify_critical_point` first.  With the
    dense method and more zero Hessian eigenvalues than the orbit dimension, if
    ``continua``: on the continuum ``W = u 1^T`` its parametrisation decides (module
    docstring: the bound at ``d >= 3``, the members :func:`u1_worst_members` at ``d = 2``);
    elsewhere :func:`worst_member` searches for the member with the largest
    ``lambda_min``, and a strict saddle there counts only when that search settled
    (else "undecided").  ``report.continuum`` holds the figures (``method`` "bound",
    "parametrisation" or "search"), ``report.point`` the worst member (the
    representative under a bound, ``lambda_min`` then the bound).  A worst member left
    undecided for flat directions beyond the orbit gets :func:`higher_order_test`
    (``report.higher_order``), and a resolved decrease makes it ``"degenerate_saddle"``;
    of several worst members (``d = 2``) a degenerate saddle is reported first, then
    an undecided one.

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
    if not continua:
        return _higher_order(problem, rep, rng)
    known = _u1_members(problem, rep, reference, rng, method)
    if known is not None:
        reports = [_higher_order(problem, r, rng) for r in known[0]]
        kinds = {r.continuum.get("member", "representative"): r.kind for r in reports}
        reports = [replace(r, continuum={**r.continuum, "member_kinds": kinds}) for r in reports]
        for kind in ("degenerate_saddle", "undecided"):
            hit = [r for r in reports if r.kind == kind]
            if hit:
                member = hit[0].continuum.get("member")
                return hit[0] if member is None else replace(hit[0], reason=hit[0].reason + (
                    f" (at {member}, a worst member of the continuum W = u 1^T; the point given had lambda_min "
                    f"{rep.lambda_min:.3g})"))
        return reports[0]
    worst, info = worst_member(problem, *rep.point)
    if info["moved"]:
        info["lambda_min_representative"] = rep.lambda_min
        rep = classify_critical_point(problem, *worst, reference=reference, rng=rng, method=method)
    info["complete"] = info["complete"] or (rep.kind == "undecided" and abs(rep.lambda_min) <= rep.resolution)
    rep = replace(rep, continuum=info)
    if rep.kind == "strict_saddle":
        found = (f"at the continuum's worst member found (lambda_min {rep.lambda_min:.3g}; "
                 f"representative {info['lambda_min_start']:.3g}; {info['evaluations']} evaluations)")
        if info.get("warnings"):
            found += f" (line search warned: {'; '.join(info['warnings'])})"
        if not info["complete"]:
            return replace(rep, kind="undecided", escape_direction=None, reason=(
                f"lambda_min < 0 {found}, but the search for the worst member did not settle within its budget: "
                "a continuum is a strict saddle only if its worst member is"))
        rep = replace(rep, reason=rep.reason + " " + found)
    return _higher_order(problem, rep, rng)
