"""Numerical checks of the derivative formulas (eqs. (5)-(8)), returning numbers.

pymanopt's own ``check_gradient``/``check_hessian`` only plot and crash on numpy >= 2.4;
these checks return the measured Taylor slopes and discrepancies so they can be
asserted on, from tests or from a user's script.

Taylor checks move along the retraction ``R(x, t xi) = (x + t xi) / ||x + t xi||``
(column-wise), which is second order on the oblique manifold, so

* ``|f(R(x, t xi)) - f(x) - t <grad f, xi>|`` decays like ``t^2`` (slope 2 in log-log) iff
  the gradient is right, and
* ``|f(R(x, t xi)) - f(x) - t <grad f, xi> - t^2/2 <Hess f[xi], xi>|`` decays like ``t^3``
  (slope 3) iff the Hessian is right as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nc_verify.objective.problem import UFMProblem
from nc_verify.objective.taylor import RESOLVED_STEP, SLOPE_TOL, fit_slope, slopes_ok
from nc_verify.utils.reports import FAIL, PASS, UNDECIDED, Report, Row, state_of
from nc_verify.utils.validation import as_rng, check_instance, check_int

_EPS = np.finfo(np.float64).eps

#: Accepted relative discrepancy between two float64 evaluations of the same
#: derivative (analytic vs autograd) and relative asymmetry/normal component of the
#: Hessian: rounding contributes ~ sqrt(N) eps per entry, i.e. <= 1e-13 for N <= 1e5;
#: 1e-10 leaves three orders of headroom while any formula error is O(1).
ROUNDING_TOL = 1e-10


def _retract(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    Y = X + V
    return Y / np.linalg.norm(Y, axis=0)


def _inner(a, b) -> float:
    return float(sum(np.sum(x * y) for x, y in zip(a, b)))


def taylor_slopes(problem: UFMProblem, W, H, gradient=None, hessian=None, *, directions=3, rng=None,
                  full_output: bool = False):
    """Taylor slopes of a candidate gradient and Hessian along random tangent directions.

    Parameters
    ----------
    problem : UFMProblem
    W, H : ndarray, shapes (d, K), (d, N)
        The point.
    gradient : callable ``(W, H) -> (gW, gH)``, optional
        Candidate Riemannian gradient (default: ``problem.riemannian_gradient``, eqs. (5)-(6)).
    hessian : callable ``(W, H, dW, dH) -> (hW, hH)``, optional
        Candidate Riemannian Hessian (default: ``problem.riemannian_hessian``, eqs. (7)-(8)).
    directions : int
        Number of random unit tangent directions.
    rng : Generator, int or None
    full_output : bool
        Also return the smallest step of each fitted window.

    Returns
    -------
    gradient_slopes, hessian_slopes : ndarray, shape (directions,)
        About 2 and 3 for correct formulas.
    gradient_steps, hessian_steps : ndarray, shape (directions,)
        With ``full_output``: the first step of each fit window
        (:func:`~nc_verify.objective.taylor.fit_slope`; NaN without one).
    """
    W, H = problem.check_point(W, H)
    directions = check_int(directions, "directions", 1)
    rng = as_rng(rng)
    gradient = problem.riemannian_gradient if gradient is None else gradient
    hessian = problem.riemannian_hessian if hessian is None else hessian
    f0 = problem.cost(W, H)
    g = gradient(W, H)
    ts = np.logspace(-8, 0, 41)
    # the cost is known to ~ a few eps |f| (plus ~ eps tau from the logits); errors
    # below 32 times that may be rounding, not Taylor remainder.
    floor = 32 * _EPS * (abs(f0) + problem.tau)
    gs, hs, gt, ht = [], [], [], []
    for _ in range(directions):
        xi = problem.random_tangent(W, H, rng)
        slope = _inner(g, xi)
        curv = _inner(hessian(W, H, *xi), xi)
        fs = np.array([problem.cost(_retract(W, t * xi[0]), _retract(H, t * xi[1])) for t in ts])
        e1 = np.abs(fs - f0 - ts * slope)
        e2 = np.abs(fs - f0 - ts * slope - 0.5 * ts**2 * curv)
        for out, steps, err in ((gs, gt, e1), (hs, ht, e2)):
            slope, t_first = fit_slope(ts, err, floor, full_output=True)
            out.append(slope)
            steps.append(t_first)
    if full_output:
        return np.array(gs), np.array(hs), np.array(gt), np.array(ht)
    return np.array(gs), np.array(hs)


def _rel(a, b, scale: float) -> float:
    """``||a - b|| / scale`` for pairs of arrays."""
    num = np.sqrt(sum(np.sum((x - y) ** 2) for x, y in zip(a, b)))
    return float(num / scale) if scale > 0 else float(num)


def _slope_row(name, slopes, steps, exact, tol) -> Row:
    """A Taylor-slope claim: pass (median slope >= exact - tol), FAIL only where the fit resolved it."""
    slopes, steps = np.asarray(slopes, dtype=float), np.asarray(steps, dtype=float)
    median = float(np.median(slopes)) if slopes.size else float("nan")
    text = f"slopes {', '.join(f'{x:.3f}' for x in slopes)} (median >= {exact - tol:g})"
    if slopes_ok(slopes, exact):
        return Row(name, PASS, text, value=median, tolerance=tol, margin=(median - exact + tol) / tol)
    # the median direction's fit window decides: a window that starts above RESOLVED_STEP
    # (the remainder rises above rounding only at large steps) cannot isolate the Taylor term
    resolved = np.isfinite(slopes) & (steps <= RESOLVED_STEP)
    if np.sum(resolved) * 2 <= slopes.size:
        return Row(name, UNDECIDED, text + f"; the remainder is above the rounding floor only at steps > "
                   f"{RESOLVED_STEP:g} (nearly flat cost): the Taylor term cannot be isolated",
                   value=median, tolerance=tol, margin=None)
    return Row(name, FAIL, text, value=median, tolerance=tol, margin=(exact - tol - median) / tol)


@dataclass
class DerivativeReport(Report):
    """Numbers measured by :func:`check_derivatives` (all dimensionless).

    Attributes
    ----------
    point : str
        "random point" or "given point".
    gradient_slopes, hessian_slopes : list of float
        Taylor slopes along random tangent directions (at least 2 and 3 for
        correct formulas; see :func:`slopes_ok`).
    gradient_steps, hessian_steps : list of float
        Smallest step of each slope's fit window; a slope decides only when it is at
        most :data:`~nc_verify.objective.taylor.RESOLVED_STEP`, otherwise a low slope
        makes the row undecided.
    autograd_gradient_rel, autograd_hessian_rel : float
        ``||analytic - autograd|| / scale`` for the Riemannian gradient and
        Hessian-vector product (pymanopt's autograd backend on the same cost). The
        scale is the norm of the Euclidean gradient (resp. Hessian-vector product)
        whose projection is taken: the size of the terms that cancel at a critical
        point, where the Riemannian gradient itself is ~0.
    hessian_symmetry_rel : float
        ``|<xi, Hess eta> - <Hess xi, eta>| / (||Hess xi|| ||eta|| + ||Hess eta|| ||xi||)``.
    gradient_normal_rel, hessian_normal_rel : float
        Largest normal component ``|x_k . v_k|`` relative to the same scales (0 for tangent output).

    A discrepancy row (autograd, symmetry, tangency) is undecided, not failed, when
    its number is not finite (a cost whose float64 evaluation overflowed).
    """

    point: str
    gradient_slopes: list = field(default_factory=list)
    hessian_slopes: list = field(default_factory=list)
    gradient_steps: list = field(default_factory=list)
    hessian_steps: list = field(default_factory=list)
    autograd_gradient_rel: float = float("nan")
    autograd_hessian_rel: float = float("nan")
    hessian_symmetry_rel: float = float("nan")
    gradient_normal_rel: float = float("nan")
    hessian_normal_rel: float = float("nan")
    slope_tol: float = SLOPE_TOL
    rounding_tol: float = ROUNDING_TOL

    def rows(self):
        """One :class:`~nc_verify.utils.reports.Row` per claim."""
        tol = self.rounding_tol

        def discrepancy(name, value, what):
            state = state_of(value <= tol, undecided=not np.isfinite(value))
            margin = value / tol if np.isfinite(value) else None
            return Row(name, state, f"{what} {value:.2e} (tol {tol:g})", value=value, tolerance=tol, margin=margin)

        return [
            _slope_row("eq. (5)-(6) gradient Taylor slope >= 2", self.gradient_slopes,
                       self.gradient_steps, 2.0, self.slope_tol),
            _slope_row("eq. (7)-(8) Hessian Taylor slope >= 3", self.hessian_slopes,
                       self.hessian_steps, 3.0, self.slope_tol),
            discrepancy("gradient == autograd", self.autograd_gradient_rel, "rel. diff"),
            discrepancy("Hessian-vector product == autograd", self.autograd_hessian_rel, "rel. diff"),
            discrepancy("Hessian symmetric", self.hessian_symmetry_rel, "rel. asymmetry"),
            discrepancy("gradient and Hessian tangent", max(self.gradient_normal_rel, self.hessian_normal_rel),
                        "rel. normal part"),
        ]

    @property
    def passed(self) -> bool:
        """Every row passes (same as :attr:`holds`)."""
        return self.holds


def check_derivatives(problem: UFMProblem, W=None, H=None, *, directions=3, rng=None) -> DerivativeReport:
    """Check eqs. (5)-(8) at a point: Taylor slopes, autograd agreement, symmetry, tangency.

    Parameters
    ----------
    problem : UFMProblem
    W, H : ndarray, optional
        The point, shapes (d, K) and (d, N); a random point from ``rng`` when omitted.
    directions : int
        Random tangent directions for the Taylor slopes.
    rng : Generator, int or None

    Returns
    -------
    DerivativeReport
    """
    check_instance(problem, "problem", UFMProblem)
    rng = as_rng(rng)
    if (W is None) != (H is None):
        raise ValueError("pass both W and H, or neither")
    if W is None:
        W, H = problem.random_point(rng)
        where = "random point"
    else:
        where = "given point"
    W, H = problem.check_point(W, H)
    gs, hs, gt, ht = taylor_slopes(problem, W, H, directions=directions, rng=rng, full_output=True)
    rep = DerivativeReport(point=where, gradient_slopes=gs.tolist(), hessian_slopes=hs.tolist(),
                           gradient_steps=gt.tolist(), hessian_steps=ht.tolist())

    auto = problem.to_pymanopt("autograd")
    g = problem.riemannian_gradient(W, H)
    xi = problem.random_tangent(W, H, rng)
    eta = problem.random_tangent(W, H, rng)
    h_xi = problem.riemannian_hessian(W, H, *xi)
    h_eta = problem.riemannian_hessian(W, H, *eta)
    nrm = lambda v: np.sqrt(_inner(v, v))
    g_scale = max(nrm(g), nrm(problem.euclidean_gradient(W, H)))
    h_scale = max(nrm(h_xi), nrm(problem.euclidean_hessian(W, H, *xi)))
    rep.autograd_gradient_rel = _rel(g, auto.riemannian_gradient([W, H]), g_scale)
    rep.autograd_hessian_rel = _rel(h_xi, auto.riemannian_hessian([W, H], list(xi)), h_scale)
    sym_scale = nrm(h_xi) + nrm(h_eta)
    rep.hessian_symmetry_rel = abs(_inner(xi, h_eta) - _inner(h_xi, eta)) / sym_scale if sym_scale > 0 else 0.0

    def normal_rel(v, scale):
        parts = [np.abs(np.sum(X * V, axis=0)).max() for X, V in zip((W, H), v)]
        return float(max(parts) / scale) if scale > 0 else 0.0

    rep.gradient_normal_rel = normal_rel(g, g_scale)
    rep.hessian_normal_rel = normal_rel(h_xi, h_scale)
    return rep

