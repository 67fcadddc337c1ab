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

from dataclasses import asdict, dataclass, field

import numpy as np

from nc_verify.objective.problem import UFMProblem
from nc_verify.objective.taylor import SLOPE_TOL, fit_slope, slopes_ok
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


def taylor_slopes(problem: UFMProblem, W, H, gradient=None, hessian=None, *, directions=3, rng=None):
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

    Returns
    -------
    gradient_slopes, hessian_slopes : ndarray, shape (directions,)
        About 2 and 3 for correct formulas.
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
    gs, hs = [], []
    for _ in range(directions):
        xi = problem.random_tangent(W, H, rng)
        slope = _inner(g, xi)
        curv = _inner(hessian(W, H, *xi), xi)
        fs = np.array([problem.cost(_retract(W, t * xi[0]), _retract(H, t * xi[1])) for t in ts])
        e1 = np.abs(fs - f0 - ts * slope)
        e2 = np.abs(fs - f0 - ts * slope - 0.5 * ts**2 * curv)
        gs.append(fit_slope(ts, e1, floor))
        hs.append(fit_slope(ts, e2, floor))
    return np.array(gs), np.array(hs)


def _rel(a, b, scale: float) -> float:
    """``||a - b|| / scale`` for pairs of arrays."""
    num = np.sqrt(sum(np.sum((x - y) ** 2) for x, y in zip(a, b)))
    return float(num / scale) if scale > 0 else float(num)


@dataclass
class DerivativeReport:
    """Numbers measured by :func:`check_derivatives` (all dimensionless).

    Attributes
    ----------
    gradient_slopes, hessian_slopes : list of float
        Taylor slopes along random tangent directions (at least 2 and 3 for
        correct formulas; see :func:`slopes_ok`).
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
    """

    point: str
    gradient_slopes: list = field(default_factory=list)
    hessian_slopes: list = field(default_factory=list)
    autograd_gradient_rel: float = float("nan")
    autograd_hessian_rel: float = float("nan")
    hessian_symmetry_rel: float = float("nan")
    gradient_normal_rel: float = float("nan")
    hessian_normal_rel: float = float("nan")
    slope_tol: float = SLOPE_TOL
    rounding_tol: float = ROUNDING_TOL

    def rows(self):
        """``(check, passed, evidence)`` tuples for a verdict table."""
        gs, hs = np.array(self.gradient_slopes), np.array(self.hessian_slopes)
        return [
            ("eq. (5)-(6) gradient Taylor slope >= 2", slopes_ok(gs, 2.0),
             f"slopes {', '.join(f'{x:.3f}' for x in gs)} (median >= {2 - self.slope_tol})"),
            ("eq. (7)-(8) Hessian Taylor slope >= 3", slopes_ok(hs, 3.0),
             f"slopes {', '.join(f'{x:.3f}' for x in hs)} (median >= {3 - self.slope_tol})"),
            ("gradient == autograd", bool(self.autograd_gradient_rel <= self.rounding_tol),
             f"rel. diff {self.autograd_gradient_rel:.2e}"),
            ("Hessian-vector product == autograd", bool(self.autograd_hessian_rel <= self.rounding_tol),
             f"rel. diff {self.autograd_hessian_rel:.2e}"),
            ("Hessian symmetric", bool(self.hessian_symmetry_rel <= self.rounding_tol),
             f"rel. asymmetry {self.hessian_symmetry_rel:.2e}"),
            ("gradient and Hessian tangent", bool(max(self.gradient_normal_rel, self.hessian_normal_rel) <= self.rounding_tol),
             f"rel. normal part {max(self.gradient_normal_rel, self.hessian_normal_rel):.2e}"),
        ]

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.rows())

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


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
    gs, hs = taylor_slopes(problem, W, H, directions=directions, rng=rng)
    rep = DerivativeReport(point=where, gradient_slopes=gs.tolist(), hessian_slopes=hs.tolist())

    auto = problem.to_pymanopt("autograd")
    g = problem.riemannian_gradient(W, H)
    xi = problem.random_tangent(W, H, rng)
    eta = problem.random_tangent(W, H, rng)
    h_xi = problem.riemannian_hessian(W, H, *xi)
    h_eta = problem.riemannian_hessian(W, H, *eta)
    nrm = lambda v: np.sqrt(_inner(v, v))  # noqa: E731
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

