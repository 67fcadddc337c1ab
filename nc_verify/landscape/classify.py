"""Second-order classification of a critical point (problem (4) or any protocol problem), honest about precision.

A point is first checked for criticality (``||grad f||`` against the rounding level
of eqs. (5)-(6), :func:`~nc_verify.landscape.newton.gradient_tolerance`); a point
that is critical to about ``sqrt(eps)`` is first refined by pseudo-inverse Newton
steps.  Then the Riemannian Hessian (eqs. (7)-(8)) decides:

``resolution = (T + 2 d tau) eps ||Hess|| + (tau + 2) ||Hess|| ||grad f|| / sigma``

with ``T = (d-1)(K+N)`` the tangent dimension and ``sigma`` the smallest eigenvalue
magnitude outside the zero cluster.  The first term estimates the error of the
computed eigenvalues: the eigensolver's backward error (``eps ||Hess||`` per
coordinate, ``T`` coordinates) plus the relative error ``2 d tau eps`` that
rounding of the logit differences ``tau (w_i - w_c)^T h_j`` (absolute error
``~ 2 d eps tau``) puts into every softmax term; the second is the eigenvalue shift between the computed
point and the exact critical point nearby: that point lies about
``||grad f|| / sigma`` away (one Newton step), and the Hessian changes by about
``(tau + 2) ||Hess||`` per unit distance (every derivative of the logits brings a
factor ``tau``, the sphere's curvature a factor of order one).  An eigenvalue whose
magnitude is at most ``resolution`` cannot be told from zero at this point.

Kinds:

* ``"not_critical"`` -- ``||grad f||`` above the rounding level.
* ``"global_minimizer"`` -- the cost equals Theorem 1's bound (or the given
  reference value) to within its own resolution, in either direction (needs
  ``d >= K - 1``; then the bound is attained and is the minimum).
* ``"strict_saddle"`` -- ``lambda_min < -resolution``; an escape direction is given.
* ``"spurious_local_minimizer"`` -- the cost is resolved above the bound, the
  Hessian is positive semi-definite with exactly the rotation orbit as kernel and
  every other eigenvalue ``> resolution`` (a strict local minimiser modulo symmetry).
* ``"local_minimizer"`` -- the same second-order evidence where no reference cost
  exists (``d < K - 1``: the bound is not attained), so "spurious" cannot be judged.
* ``"degenerate_saddle"`` -- set by :func:`nc_verify.landscape.degenerate.classify_point`
  only: no resolved negative eigenvalue, but flat directions beyond the rotation orbit
  along which ``f`` decreases at third or fourth order (not a local minimum, not a
  strict saddle).
* ``"undecided"`` -- anything the arithmetic cannot settle: ``|lambda_min|`` within
  the resolution at a point above the bound, a Hessian that underflows to zero, extra flat directions at a
  second-order minimiser, a cost at the bound with resolved negative curvature, or a
  cost resolved below the reference value (which then is not the minimum).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nc_verify.landscape.newton import gradient_norm, gradient_tolerance, newton_polish
from nc_verify.landscape.rounding import (
    EPS,
    TINY,
    eigenvalue_floor,
    eigenvalue_resolution,
    gap_resolution,
)
from nc_verify.landscape.spectrum import (
    DENSE_LIMIT,
    count_zero_eigenvalues,
    hessian_matrix,
    min_hessian_eigenpair,
    symmetric_eigh,
    tangent_basis,
)
from nc_verify.objective.protocol import PointBlocks, as_point, check_problem
from nc_verify.utils.reports import ARRAY, FAIL, PASS, UNDECIDED, Report, Row
from nc_verify.utils.validation import check_choice, check_finite_float

KINDS = ("global_minimizer", "strict_saddle", "spurious_local_minimizer", "local_minimizer",
         "degenerate_saddle", "undecided", "not_critical")
#: State of Theorem 2's claim "a global minimiser or a strict saddle" per kind.
KIND_STATES = {"global_minimizer": PASS, "strict_saddle": PASS, "spurious_local_minimizer": FAIL,
               "degenerate_saddle": FAIL, "local_minimizer": UNDECIDED, "undecided": UNDECIDED,
               "not_critical": UNDECIDED}


@dataclass
class CriticalPointReport(PointBlocks, Report):
    """Classification of one point (see the module docstring for the verdicts).

    Its one row is Theorem 2's claim for this point, "a global minimiser or a strict
    saddle", in the state :data:`KIND_STATES` gives its kind.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    reason : str
        One sentence: the evidence behind ``kind``.
    cost, bound, gap : float
        ``f``, Theorem 1's bound and ``f - bound``.
    gap_resolution : float
        :func:`~nc_verify.landscape.rounding.gap_resolution`:
        ``(m + 2 d tau) eps max(|f|, |bound|) + ||grad f||^2 / sigma`` (``m = K + N``), the
        rounding of the cost plus the cost difference to the exact critical point nearby.
    gradient_norm, gradient_tol, initial_gradient_norm : float
        After refinement; the rounding level; before refinement.
    refined : bool
        Whether Newton refinement was applied.
    lambda_min : float
    resolution : float
        See the module docstring.
    margin : float
        ``|lambda_min| / resolution`` (> 1: the sign of ``lambda_min`` is resolved); 0 when
        the Hessian underflows to zero (``resolution`` 0: nothing is resolved).
    n_negative : int or None
        Eigenvalues ``< -resolution`` (None when only ``lambda_min`` was computed).
    n_zero : int or None
        Zero eigenvalues, counted at the largest relative gap of the spectrum.
    zero_gap : float or None
        The relative gap at that cut.
    orbit_dimension : int
        Dimension of the rotation orbit (:func:`~nc_verify.symmetry_orbit_dimension`).
    hessian_norm : float
        ``max |lambda|`` (dense) or a power-iteration estimate (Lanczos).
    method : str
        "dense" or "lanczos".
    nc : dict
        NC metrics (:func:`~nc_verify.nc_metrics`).
    escape_direction : tuple of ndarray or None
        Unit tangent direction (``(dW, dH)`` for problem (4)) with ``Hess[v, v] = lambda_min`` (saddles).
    point : tuple of ndarray
        The (refined) point; for problem (4) also as attributes ``W`` and ``H``.
    spectrum : ndarray or None
        All Hessian eigenvalues (dense method).
    continuum : dict or None
        For a point on a continuum of critical points: the search for its worst member
        (:func:`nc_verify.landscape.degenerate.worst_member`); ``W``, ``H`` are then that member.
    higher_order : dict or None
        The third/fourth-order test along the flat directions
        (:func:`nc_verify.landscape.degenerate.higher_order_test`), where it ran.
    """

    kind: str
    reason: str
    cost: float
    bound: float
    gap: float
    gap_resolution: float
    gradient_norm: float
    gradient_tol: float
    initial_gradient_norm: float
    refined: bool
    lambda_min: float
    resolution: float
    margin: float
    n_negative: object
    n_zero: object
    zero_gap: object
    orbit_dimension: int
    hessian_norm: float
    method: str
    nc: dict
    escape_direction: object = field(metadata=ARRAY)
    point: tuple = field(metadata=ARRAY)
    spectrum: object = field(metadata=ARRAY)
    continuum: object = None
    higher_order: object = None


    def rows(self):
        """Theorem 2's claim at this point, in the state of its kind (:data:`KIND_STATES`)."""
        return [Row("a global minimiser or a strict saddle", KIND_STATES[self.kind], f"{self.kind}: {self.reason}",
                    value=self.lambda_min, tolerance=self.resolution, margin=self.margin)]


def underflow_reason(tau: float) -> str:
    """Why a Hessian computes to exactly zero at ``tau``: the regime's own cause, in one sentence.

    Small ``tau`` (< 1): every curvature term carries a factor ``tau`` or ``tau^2`` and
    falls below the smallest double (``exp(-tau)`` is 1 there); large ``tau``: the softmax
    saturates, the curvature terms carry ``exp(-tau ...)`` factors that underflow.
    """
    if tau < 1.0:
        return (f"the Hessian underflows to zero in float64: at tau = {tau:.3g} (small-tau regime) every "
                "curvature term is of order tau or tau^2, below the smallest double")
    return (f"the Hessian underflows to zero in float64: at tau = {tau:.3g} (large-tau regime) the softmax "
            "saturates and the curvature terms, of order exp(-tau), fall below the smallest double")


def _kind(lam, resolution, gap, gap_resolution, has_reference, n_zero, orbit, second_smallest, S, tau):
    """Verdict from the second-order data; ``gap = f - reference`` (NaN without a reference)."""
    at_bound = has_reference and abs(gap) <= gap_resolution
    if S == 0.0:
        return "undecided", underflow_reason(tau)
    if has_reference and gap < -gap_resolution:
        return "undecided", "cost resolved below the reference value, which therefore is not the minimum"
    if lam < -resolution:
        if at_bound:
            return "undecided", "negative curvature resolved at a cost equal to the global minimum (inconsistent)"
        return "strict_saddle", "lambda_min < 0 by more than the resolution"
    if at_bound and S <= resolution:
        return "undecided", (f"cost equals the bound only to within rounding and the whole Hessian (norm {S:.3g}) "
                             f"lies within its resolution {resolution:.3g}: a minimiser cannot be told from a saddle")
    if at_bound:
        return "global_minimizer", "cost equals Theorem 1's bound to within its resolution"
    if n_zero is None:
        return "undecided", "cost above the bound, |lambda_min| within the resolution (no full spectrum)"
    second_order = n_zero == orbit and second_smallest > resolution
    if not second_order:
        if abs(lam) <= resolution and n_zero > orbit:
            return "undecided", f"{n_zero - orbit} flat directions beyond the rotation orbit, none resolved negative"
        return "undecided", "|lambda_min| within the resolution at a cost above the bound"
    if has_reference:
        return "spurious_local_minimizer", "cost above the bound, Hessian PSD with kernel = rotation orbit"
    return "local_minimizer", "Hessian PSD with kernel = rotation orbit (no reference cost: d < K - 1)"


def spectrum_summary(problem, eigenvalues) -> dict:
    """Second-order data from a full Hessian spectrum (ascending), for problem (4) or SupCon.

    Returns a dict with ``lam`` (smallest eigenvalue), ``S`` (``max |lambda|``), ``base``
    (:func:`~nc_verify.landscape.rounding.eigenvalue_floor`), ``n_zero`` and ``zero_gap``
    (:func:`~nc_verify.landscape.spectrum.count_zero_eigenvalues` at ``base``),
    ``second_smallest`` (smallest eigenvalue outside the zero cluster) and ``sigma``
    (smallest magnitude outside it, at least ``base``).
    """
    vals = np.asarray(eigenvalues, dtype=np.float64)
    S = float(np.max(np.abs(vals)))
    base = eigenvalue_floor(problem, S)
    n_zero, zero_gap = count_zero_eigenvalues(vals, base)
    outside = vals[np.argsort(np.abs(vals))[n_zero:]]
    return {"lam": float(vals[0]), "S": S, "base": base, "n_zero": n_zero, "zero_gap": zero_gap,
            "second_smallest": float(np.min(outside)) if outside.size else np.inf,
            "sigma": max(float(np.min(np.abs(outside))) if outside.size else S, base, TINY)}


def _second_order(problem, point, method, rng) -> dict:
    """Hessian data at a point: lambda_min, direction, spectrum and zero cluster (dense) or Lanczos."""
    if method == "dense":
        B = tangent_basis(problem, *point)
        vals, vecs = symmetric_eigh(hessian_matrix(problem, *point, basis=B))
        return {**spectrum_summary(problem, vals), "spectrum": vals, "direction": B.to_ambient(vecs[:, 0])}
    lam, direction, info = min_hessian_eigenpair(problem, *point, method="lanczos", rng=rng, full_output=True)
    S = info["scale"]
    base = eigenvalue_floor(problem, S)
    return {"lam": lam, "S": S, "base": base, "n_zero": None, "zero_gap": None, "second_smallest": None,
            "sigma": max(abs(lam), base, TINY), "spectrum": None, "direction": direction}


def classify_critical_point(problem, *point, refine: bool = True, method: str = "auto",
                            rng=None, reference=None) -> CriticalPointReport:
    """Classify a point as a critical point (see the module docstring).

    Parameters
    ----------
    problem : ManifoldProblem
        Problem (4) (:class:`~nc_verify.objective.problem.UFMProblem`) or any problem of
        the problem protocol (:mod:`nc_verify.objective.protocol`).
    *point : ndarray
        The point's blocks: ``W, H`` of shapes (d, K), (d, N) for problem (4).
    refine : bool
        Newton-refine a point whose gradient is below ``sqrt(eps)`` times the
        gradient's scale but above its rounding level.
    method : {"auto", "dense", "lanczos"}
        "dense" (full spectrum: zero count, negatives) up to
        :data:`~nc_verify.landscape.spectrum.DENSE_LIMIT` with "auto"; "lanczos" gives
        ``lambda_min`` only.
    rng : Generator, int or None
        Lanczos start vector.
    reference : float, optional
        Reference cost used in place of Theorem 1's bound (e.g. the best value a
        probe found, for losses or regimes without a closed-form minimum; see
        :mod:`nc_verify.checks.probes`).  Without it, a problem whose ``bound`` is None
        has no reference cost: minimisers are reported as "local_minimizer".
    """
    check_problem(problem)
    check_choice(method, "method", ("auto", "dense", "lanczos"))
    x = as_point(problem, *point)
    if method == "auto":
        method = "dense" if problem.tangent_dimension <= DENSE_LIMIT else "lanczos"
    g0 = gradient_norm(problem, *x)
    sp = _second_order(problem, x, method, rng)
    refined = False
    if (refine and method == "dense" and gradient_tolerance(problem, *x, hessian_norm=sp["S"]) < g0
            <= np.sqrt(EPS) * problem.gradient_scale(*x)):
        *x2, g2 = newton_polish(problem, *x)
        if g2 < g0:
            x, refined = tuple(x2), True
            sp = _second_order(problem, x, method, rng)
    g = gradient_norm(problem, *x)
    cost = problem.cost(*x)
    bound = problem.bound if reference is None else check_finite_float(reference, "reference")
    orbit = problem.orbit_dimension(*x)
    lam, S, sigma, spectrum = sp["lam"], sp["S"], sp["sigma"], sp["spectrum"]
    n_zero, zero_gap, n_negative = sp["n_zero"], sp["zero_gap"], None
    resolution = eigenvalue_resolution(problem, S, g, sigma)
    gtol = gradient_tolerance(problem, *x, hessian_norm=S)
    # a known minimum value is a reference only where it is attained (problem (4): d >= K - 1)
    has_reference = bound is not None and (reference is not None or getattr(problem, "bound_attained", True))
    if bound is None:
        bound = float("nan")
    gap = cost - bound
    gap_res = gap_resolution(problem, cost, bound, g, sigma)
    if spectrum is not None:
        n_negative = int(np.sum(spectrum < -resolution))
    second_smallest = sp["second_smallest"]
    if g > gtol:
        kind, reason = "not_critical", f"||grad f|| = {g:.3g} exceeds its rounding level {gtol:.3g}"
    else:
        kind, reason = _kind(lam, resolution, gap, gap_res, has_reference, n_zero, orbit, second_smallest, S,
                             problem.tau)
    return CriticalPointReport(
        kind=kind, reason=reason, cost=cost, bound=bound, gap=gap, gap_resolution=gap_res,
        gradient_norm=g, gradient_tol=gtol, initial_gradient_norm=g0, refined=refined,
        lambda_min=lam, resolution=resolution, margin=abs(lam) / resolution if resolution > 0 else 0.0,
        n_negative=n_negative, n_zero=n_zero, zero_gap=zero_gap, orbit_dimension=orbit,
        hessian_norm=S, method=method, nc=problem.metrics(*x) if hasattr(problem, "metrics") else {},
        escape_direction=sp["direction"] if kind == "strict_saddle" else None, point=x, spectrum=spectrum,
    )
