"""Numerical search for the Riemannian critical points of problem (4).

Critical points are the zeros of the Riemannian gradient (eqs. (5)-(6)).  The
search minimises ``phi = 1/2 ||grad f||^2`` on the manifold by Levenberg-Marquardt
(on this manifold ``grad phi = Hess f[grad f]`` exactly, so the Gauss-Newton
model of ``grad f`` has Jacobian ``Hess f``), then polishes with pseudo-inverse
Newton steps (least squares: the Hessian is singular along the rotation orbit),
and re-checks ``||grad f||`` at the end -- a local minimum of ``phi`` with
``grad f != 0`` is reported as a failed start, never as a critical point.

Starts: uniform random points; points inside a random ``r``-dimensional subspace
(the gradient keeps the subspace, so these reach the low-rank critical points);
clustered starts near coincident or antipodal classifiers; small perturbations of
the exact family points (:mod:`nc_verify.families`); and descent runs (trust
regions from a random start, ending at minima).

Distinct points are kept modulo the symmetries of problem (4) (a common
rotation, class relabelling, reordering samples within a class) by comparing
invariants: the cost, the sorted spectra of ``W^T W`` and ``H^T H``, the singular
values of ``W^T H`` and the Hessian spectrum.  A point with more zero Hessian
eigenvalues than its rotation-orbit dimension lies on a continuum of critical
points (e.g. ``W = u 1^T``, ``H = v 1^T`` with the angle of ``u, v`` free): such
points are compared by the invariants that stay constant along a continuum
(cost, spectrum of ``W^T W``, number of zero Hessian eigenvalues) and reported once.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import eigh

from ._progress import Progress
from ._validation import as_rng, check_choice, check_int
from .families import critical_point_families
from .problem import UFMProblem
from .rounding import EPS, gradient_rounding
from .spectrum import count_zero_eigenvalues, hessian_matrix, symmetry_orbit_dimension, tangent_basis

METHODS = ("lm", "newton", "descent")
START_KINDS = ("uniform", "subspace", "clustered", "family")
#: Invariants of two points closer than this (relative to their size) are the same
#: point: polished points carry errors ~ (gradient at rounding level) / (smallest
#: non-zero curvature), far below it, while distinct critical points differ at O(1).
INVARIANT_RTOL = 1e-6


def _check_problem(problem) -> UFMProblem:
    if not isinstance(problem, UFMProblem):
        raise TypeError(f"problem must be a UFMProblem, got {type(problem).__name__}")
    return problem


def retract(W, H, dW, dH):
    """Normalising retraction of the oblique manifold: ``(W + dW, H + dH)`` with unit columns."""
    W2, H2 = W + dW, H + dH
    return W2 / np.linalg.norm(W2, axis=0), H2 / np.linalg.norm(H2, axis=0)


def gradient_scale(problem: UFMProblem, W, H) -> float:
    """Size of the terms that cancel in ``grad f`` (eqs. (5)-(6)), for rounding estimates.

    ``||tau H G^T|| + ||W ddiag(M G^T)|| + ||tau W G|| + ||H ddiag(M^T G)||`` (Frobenius).
    """
    s = problem._state(W, H)
    t = problem.tau
    return float(
        np.linalg.norm(t * (H @ s.grad.T)) + np.linalg.norm(W * s.row_curvature)
        + np.linalg.norm(t * (W @ s.grad)) + np.linalg.norm(H * s.col_curvature)
    )


def gradient_tolerance(problem: UFMProblem, W, H, hessian_norm: float) -> float:
    """``||grad f||`` at which ``(W, H)`` is critical to within float64 rounding.

    ``eps (K + N + 2 d tau) * gradient_scale + eps sqrt(d (K + N)) * ||Hess||``
    (:func:`~nc_verify.rounding.gradient_rounding`): the first term bounds the
    rounding of eqs. (5)-(6) (sums of ``K + N`` terms at most, each softmax term with
    the relative error ``2 d tau eps`` of its logit difference), the second the
    gradient of a point whose coordinates are rounded to float64.
    """
    return gradient_rounding(problem, gradient_scale(problem, W, H), hessian_norm)


@dataclass
class _Local:
    """Dense second-order data at one point (tangent coordinates)."""

    gradient: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    basis: object

    @property
    def gradient_norm(self) -> float:
        return float(np.linalg.norm(self.gradient))

    @property
    def hessian_norm(self) -> float:
        return float(np.max(np.abs(self.eigenvalues)))


def _local(problem, W, H) -> _Local:
    B = tangent_basis(problem, W, H)
    g = B.from_ambient(*problem.riemannian_gradient(W, H))
    lam, V = eigh(hessian_matrix(problem, W, H, basis=B), driver="evd")
    return _Local(g, lam, V, B)


def _step(loc: _Local, filt):
    """Tangent step ``-V filt(lambda) V^T g`` as ambient ``(dW, dH)``."""
    c = loc.eigenvectors @ (filt(loc.eigenvalues) * (loc.eigenvectors.T @ loc.gradient))
    return loc.basis.to_ambient(-c)


def pseudo_inverse(eigenvalues: np.ndarray) -> np.ndarray:
    """``1 / lambda`` for ``|lambda| > sqrt(eps) max |lambda|``, 0 otherwise (flat directions left out)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    keep = np.abs(lam) > np.sqrt(EPS) * np.max(np.abs(lam))
    return np.where(keep, 1.0 / np.where(keep, lam, 1.0), 0.0)


def newton_polish(problem: UFMProblem, W, H, *, steps: int = 6):
    """Pseudo-inverse Riemannian Newton steps on ``grad f = 0``; keeps a step only if it lowers ``||grad f||``.

    Eigenvalues with ``|lambda| <= sqrt(eps) ||Hess||`` are left out of the
    pseudo-inverse (the rotation orbit and any other flat directions).
    Returns ``(W, H, gradient_norm)``.
    """
    loc = _local(problem, W, H)
    for _ in range(steps):
        if loc.gradient_norm == 0.0 or loc.hessian_norm == 0.0:
            break
        dW, dH = _step(loc, pseudo_inverse)
        W2, H2 = retract(W, H, dW, dH)
        if problem.gradient_norm(W2, H2) >= loc.gradient_norm:
            break
        W, H = W2, H2
        loc = _local(problem, W, H)
    return W, H, loc.gradient_norm


def levenberg_marquardt(problem: UFMProblem, W, H, *, max_iterations: int = 60):
    """Levenberg-Marquardt on ``phi = 1/2 ||grad f||^2`` followed by :func:`newton_polish`.

    Step ``-(Hess^2 + mu I)^{-1} Hess grad f`` (Gauss-Newton model of ``grad f``
    with Jacobian ``Hess f``), damping ``mu`` adapted by acceptance.
    Returns ``(W, H, gradient_norm)``.
    """
    loc = _local(problem, W, H)
    mu = 1e-3 * loc.hessian_norm ** 2
    for _ in range(max_iterations):
        g0 = loc.gradient_norm
        if g0 <= gradient_tolerance(problem, W, H, loc.hessian_norm) or mu == 0.0:
            break
        for _ in range(12):
            dW, dH = _step(loc, lambda lam: lam / (lam * lam + mu))
            W2, H2 = retract(W, H, dW, dH)
            if problem.gradient_norm(W2, H2) < g0:
                W, H = W2, H2
                mu /= 3.0
                break
            mu *= 4.0
        else:
            break
        loc = _local(problem, W, H)
        if loc.gradient_norm < 1e-6 * g0:
            break
    return newton_polish(problem, W, H)


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


@dataclass
class CriticalPointSearch:
    """Result of :func:`find_critical_points`.

    Attributes
    ----------
    points : list of FoundPoint
        Distinct critical points, in order of discovery.
    n_starts, n_converged : int
        Starts used, and starts that ended at a critical point (gradient at rounding level).
    discovery : ndarray of int, shape (n_starts,)
        Distinct points known after each start (the saturation curve).
    descent_costs : ndarray
        Costs at the ends of the descent runs (method "descent", Newton-polished), in start order.
    """

    points: list
    n_starts: int
    n_converged: int
    discovery: np.ndarray
    descent_costs: np.ndarray

    @property
    def saturated(self) -> bool:
        """No new distinct point in the second half of the starts."""
        if self.n_starts == 0 or not self.points:
            return False
        half = self.n_starts // 2
        return bool(self.discovery[-1] == self.discovery[max(half - 1, 0)])

    @property
    def last_new_point_at(self) -> int:
        """1-based index of the start that found the last new distinct point (0 if none)."""
        if not self.points:
            return 0
        return int(np.argmax(self.discovery == self.discovery[-1]) + 1)

    def as_dict(self) -> dict:
        return {
            "points": [p.as_dict() for p in self.points], "n_starts": self.n_starts,
            "n_converged": self.n_converged, "discovery": self.discovery,
            "saturated": self.saturated, "last_new_point_at": self.last_new_point_at,
            "descent_costs": self.descent_costs,
        }


# ------------------------------------------------------------------- starts
def _normalise(X):
    return X / np.linalg.norm(X, axis=0)


def _start(problem, kind, rng, family_points):
    d, K, N = problem.d, problem.K, problem.N
    if kind == "uniform":
        return problem.random_point(rng)
    if kind == "subspace":
        r = int(rng.integers(1, min(d - 1, K) + 1))
        U = np.linalg.qr(rng.standard_normal((d, r)))[0]
        return _normalise(U @ rng.standard_normal((r, K))), _normalise(U @ rng.standard_normal((r, N)))
    if kind == "clustered":
        c = int(rng.integers(1, K + 1))
        centres = _normalise(rng.standard_normal((d, c)))
        noise = 10.0 ** rng.uniform(-3, -1)
        W = centres[:, rng.integers(0, c, K)] * rng.choice([-1.0, 1.0], K)
        W = _normalise(W + noise * rng.standard_normal((d, K)))
        own = np.repeat(W, problem.n, axis=1) * rng.choice([-1.0, 1.0], N)
        H = _normalise(own + noise * rng.standard_normal((d, N)))
        return W, H
    # "family": a perturbed exact critical point
    W, H = family_points[int(rng.integers(len(family_points)))]
    noise = 10.0 ** rng.uniform(-4, -1)
    return _normalise(W + noise * rng.standard_normal(W.shape)), _normalise(H + noise * rng.standard_normal(H.shape))


# ------------------------------------------------------------------ dedup
def _invariants(problem, W, H, eigenvalues):
    return {
        "gram_W": np.linalg.eigvalsh(W.T @ W),
        "gram_H": np.linalg.eigvalsh(H.T @ H),
        "cross": np.linalg.svd(W.T @ H, compute_uv=False),
        "hessian": eigenvalues,
    }


def _close(a, b) -> bool:
    scale = 1.0 + max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return a.shape == b.shape and bool(np.max(np.abs(a - b), initial=0.0) <= INVARIANT_RTOL * scale)


def _same(p: FoundPoint, q: FoundPoint) -> bool:
    if abs(p.cost - q.cost) > INVARIANT_RTOL * (abs(p.cost) + abs(q.cost) + 1e-300):
        return False
    if p.continuum or q.continuum:
        return (p.continuum and q.continuum and p.n_zero == q.n_zero
                and _close(p.invariants["gram_W"], q.invariants["gram_W"]))
    return all(_close(p.invariants[k], q.invariants[k]) for k in ("gram_W", "gram_H", "cross", "hessian"))


def describe_point(problem: UFMProblem, W, H) -> FoundPoint:
    """Invariants, zero count and orbit dimension of a critical point (dense Hessian)."""
    loc = _local(problem, W, H)
    S = loc.hessian_norm
    resolution = loc.basis.dimension * EPS * S
    n_zero, _ = count_zero_eigenvalues(loc.eigenvalues, resolution)
    return FoundPoint(
        W=W, H=H, cost=problem.cost(W, H), gradient_norm=loc.gradient_norm,
        invariants=_invariants(problem, W, H, loc.eigenvalues), n_zero=n_zero,
        orbit_dimension=symmetry_orbit_dimension(W, H),
    )


def add_distinct(points: list, new: FoundPoint, source: str) -> bool:
    """Merge ``new`` into ``points`` (modulo symmetry); returns True if it is a new distinct point."""
    for p in points:
        if _same(p, new):
            p.hits += 1
            p.sources[source] = p.sources.get(source, 0) + 1
            return False
    new.sources = {source: 1}
    points.append(new)
    return True


def find_critical_points(problem: UFMProblem, *, n_starts: int = 100, seed=None,
                         methods=("lm", "descent"), descent_fraction: float = 0.1,
                         progress=None) -> CriticalPointSearch:
    """Search for the critical points of problem (4) from many starts.

    Parameters
    ----------
    problem : UFMProblem
        Dense Hessians are formed at every iterate: meant for small sizes
        (tangent dimension up to a few hundred).
    n_starts : int
        Number of starts (descent runs included).
    seed : int, numpy Generator or None
    methods : iterable of {"lm", "newton", "descent"}
        "lm": Levenberg-Marquardt on ``1/2 ||grad f||^2`` then Newton polish;
        "newton": pseudo-inverse Newton alone; "descent": trust regions from a
        uniform random start (``descent_fraction`` of the starts), polished.
        Starts cycle through the kinds uniform, subspace, clustered, family.
    progress : bool or None
        Progress bar on stderr (default: when stderr is a terminal).

    Returns
    -------
    CriticalPointSearch
    """
    from .solvers import solve

    p = _check_problem(problem)
    n_starts = check_int(n_starts, "n_starts", 1)
    if isinstance(methods, str):
        raise TypeError(f"methods must be a sequence of method names, got the string {methods!r}; "
                        f"e.g. ({methods!r},)")
    methods = tuple(methods)
    for m in methods:
        check_choice(m, "method", METHODS)
    if not methods:
        raise ValueError("methods must name at least one of " + ", ".join(map(repr, METHODS)))
    if isinstance(descent_fraction, (bool, np.bool_)) or not isinstance(descent_fraction, numbers.Real):
        raise TypeError(f"descent_fraction must be a real number, got {type(descent_fraction).__name__}")
    if not 0.0 <= descent_fraction <= 1.0:
        raise ValueError(f"descent_fraction must be in [0, 1], got {descent_fraction!r}")
    rng = as_rng(seed)
    family_points = list(critical_point_families(p).values())
    root_finders = [m for m in methods if m != "descent"]
    n_descent = n_starts if not root_finders else (
        int(round(descent_fraction * n_starts)) if "descent" in methods else 0)
    points, discovery, descent_costs = [], [], []
    n_converged = 0
    with Progress(n_starts, "critical points", enabled=progress) as bar:
        for i in range(n_starts):
            if i < n_descent:
                res = solve(p, "trust_regions", x0=p.random_point(rng), gradient_tol=1e-10)
                W, H, _ = newton_polish(p, res.W, res.H)
                descent_costs.append(p.cost(W, H))
                source = "descent"
            else:
                kind = START_KINDS[i % len(START_KINDS)]
                W0, H0 = _start(p, kind, rng, family_points)
                finder = root_finders[i % len(root_finders)]
                if finder == "lm":
                    W, H, _ = levenberg_marquardt(p, W0, H0)
                else:
                    W, H, _ = newton_polish(p, W0, H0, steps=40)
                source = kind
            found = describe_point(p, W, H)
            loc_tol = gradient_tolerance(p, W, H, float(np.max(np.abs(found.invariants["hessian"]))))
            if found.gradient_norm <= loc_tol:
                n_converged += 1
                add_distinct(points, found, source)
            discovery.append(len(points))
            bar.update(postfix=f"{len(points)} distinct")
    return CriticalPointSearch(
        points=points, n_starts=n_starts, n_converged=n_converged,
        discovery=np.asarray(discovery, dtype=int), descent_costs=np.asarray(descent_costs),
    )
