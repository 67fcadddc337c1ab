"""Numerical search for the Riemannian critical points of problem (4) or any protocol problem.

Critical points are the zeros of the Riemannian gradient (eqs. (5)-(6)).  The
search minimises ``phi = 1/2 ||grad f||^2`` on the manifold by Levenberg-Marquardt
(on this manifold ``grad phi = Hess f[grad f]`` exactly, so the Gauss-Newton
model of ``grad f`` has Jacobian ``Hess f``), then polishes with pseudo-inverse
Newton steps (least squares: the Hessian is singular along the rotation orbit),
and re-checks ``||grad f||`` at the end -- a local minimum of ``phi`` with
``grad f != 0`` is reported as a failed start, never as a critical point.

Starts (:data:`START_KINDS`, taken in turn): uniform random points; points inside
a random ``r``-dimensional subspace (the gradient keeps the subspace, so these
reach the low-rank critical points); clustered starts near coincident or antipodal
classifiers; small perturbations of the exact family points
(:mod:`nc_verify.objective.families`); "coincident" starts, random configurations in a 2- or
3-dimensional subspace in which random pairs of classifiers are made equal or
antipodal and random features equal or opposite to their classifier, then slightly
perturbed (many critical points have such exact coincidences and small basins
otherwise: at ``(6, 4, 1, tau=2)`` they raise the hit rate of the rarest point from
about 1/1600 to about 1/500 per start, estimated from 400 starts per kind);
"explore" starts, perturbations of points found so far (critical points come in
close pairs near bifurcations, e.g. beside the anti-aligned ETF at ``tau = 2``).  Every tenth start (``descent_fraction``) is a descent run (trust
regions from a uniform start, ending at a minimum), interleaved with the others
(descent runs all end at the global minimum; placed first, they delayed every
discovery and distorted the saturation curve).

Saturation: the search is *saturated* when it has used at least
:data:`MIN_SATURATION_STARTS` starts, the last :data:`SATURATION_FRACTION` of them
found no new distinct point (with the default one half: doubling the starts found
nothing new), and every distinct point was reached by at least two starts (so the
Good-Turing estimate below is zero).  With ``n_starts=None`` the
search runs until it is saturated or reaches ``max_starts``.  Saturation is
evidence, not proof, that every critical point has been found: a point whose
basin catches a fraction ``p`` of the starts is missed by ``m`` starts with
probability ``(1 - p)^m``.  The Good-Turing estimate of the chance that one more
start finds a new point (points hit exactly once / converged starts) is reported
alongside.

Distinct points are kept modulo the symmetries of problem (4)
(:mod:`nc_verify.landscape.points`).
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass

import numpy as np

from nc_verify.landscape.newton import (
    gradient_tolerance,
    levenberg_marquardt,
    newton_polish,
)
from nc_verify.landscape.points import add_distinct, describe_point
from nc_verify.landscape.solvers import solve
from nc_verify.objective.oblique import normalize_columns
from nc_verify.objective.protocol import blocks, check_problem
from nc_verify.utils.progress import Progress
from nc_verify.utils.validation import as_rng, check_choice, check_int

METHODS = ("lm", "newton", "descent")
#: Kinds of the root-finder starts, taken in turn (a kind listed twice gets twice the starts).
START_KINDS = ("uniform", "coincident", "subspace", "family", "coincident", "clustered", "explore")
#: A search is saturated when no new distinct point came in the last
#: ``SATURATION_FRACTION`` of its starts, and it used at least ``MIN_SATURATION_STARTS``.
SATURATION_FRACTION = 0.5
MIN_SATURATION_STARTS = 400
#: Cap of the adaptive search (``n_starts=None``).
DEFAULT_MAX_STARTS = 4000


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
    elapsed : float
        Seconds.
    """

    points: list
    n_starts: int
    n_converged: int
    discovery: np.ndarray
    descent_costs: np.ndarray
    elapsed: float = 0.0

    @property
    def saturated(self) -> bool:
        """At least :data:`MIN_SATURATION_STARTS` starts, none new in the last
        :data:`SATURATION_FRACTION` of them, and every distinct point reached by at least two starts."""
        return is_saturated(self.discovery, self.points)

    @property
    def unseen_probability(self) -> float:
        """Good-Turing estimate of the chance that one more start finds a new point.

        ``(points hit by exactly one start) / (converged starts)``; NaN without a converged start.
        """
        if self.n_converged == 0:
            return float("nan")
        return sum(p.hits == 1 for p in self.points) / self.n_converged

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
            "unseen_probability": self.unseen_probability, "descent_costs": self.descent_costs,
            "elapsed": self.elapsed,
        }


def is_saturated(discovery, points) -> bool:
    """The saturation rule of :class:`CriticalPointSearch` (discovery curve and points so far)."""
    m = len(discovery)
    if m < MIN_SATURATION_STARTS or not points or any(p.hits < 2 for p in points):
        return False
    last_new = int(np.argmax(np.asarray(discovery) == discovery[-1])) + 1
    return last_new <= (1.0 - SATURATION_FRACTION) * m


# ------------------------------------------------------------------- starts
def _perturb(point, rng, low, high):
    noise = 10.0 ** rng.uniform(low, high)
    return tuple(normalize_columns(x + noise * rng.standard_normal(x.shape)) for x in point)


def _has_classes(problem) -> bool:
    """Points ``(W, H)`` with ``K`` classifiers and ``n`` samples per class (problem (4), any loss)."""
    return hasattr(problem, "K") and hasattr(problem, "n") and tuple(problem.block_sizes) == (
        problem.K, problem.K * problem.n)


def _start(problem, kind, rng, family_points, found_points=()):
    d = problem.d
    if kind == "uniform":
        return blocks(problem.random_point(rng))
    if kind == "subspace":
        rank_cap = problem.K if hasattr(problem, "K") else min(problem.block_sizes)
        r = int(rng.integers(1, min(d - 1, rank_cap) + 1))
        U = np.linalg.qr(rng.standard_normal((d, r)))[0]
        return tuple(normalize_columns(U @ rng.standard_normal((r, m))) for m in problem.block_sizes)
    if kind in ("clustered", "coincident") and not _has_classes(problem):
        return _start(problem, "subspace", rng, family_points, found_points)
    if kind == "clustered":
        K, N = problem.K, problem.N
        c = int(rng.integers(1, K + 1))
        centres = normalize_columns(rng.standard_normal((d, c)))
        noise = 10.0 ** rng.uniform(-3, -1)
        W = centres[:, rng.integers(0, c, K)] * rng.choice([-1.0, 1.0], K)
        W = normalize_columns(W + noise * rng.standard_normal((d, K)))
        own = np.repeat(W, problem.n, axis=1) * rng.choice([-1.0, 1.0], N)
        H = normalize_columns(own + noise * rng.standard_normal((d, N)))
        return W, H
    if kind == "coincident":
        K, N, n = problem.K, problem.N, problem.n
        r = int(rng.integers(2, min(d, 3) + 1))
        U = np.linalg.qr(rng.standard_normal((d, r)))[0]
        W = normalize_columns(rng.standard_normal((r, K)))
        group = rng.integers(0, K, K)
        for k in range(1, K):               # join class k to an earlier class of its group
            same = np.flatnonzero(group[:k] == group[k])
            if same.size and rng.random() < 0.5:
                W[:, k] = rng.choice([-1.0, 1.0]) * W[:, same[0]]
        H = normalize_columns(rng.standard_normal((r, N)))
        own = rng.random(N) < 0.5
        H[:, own] = W[:, np.arange(N)[own] // n] * rng.choice([-1.0, 1.0], int(own.sum()))
        return _perturb((U @ W, U @ H), rng, -3, -1)
    if kind == "explore" and found_points:
        q = found_points[int(rng.integers(len(found_points)))]
        return _perturb(q.point, rng, -3, -1)
    if not family_points:
        return _start(problem, "uniform", rng, family_points, found_points)
    # "family" (and "explore" before anything is found): a perturbed exact critical point
    return _perturb(family_points[int(rng.integers(len(family_points)))], rng, -4, -1)


def _is_descent(i: int, fraction: float) -> bool:
    """Start ``i`` (0-based) is a descent run: starts 0, 1/f, 2/f, ... (``ceil(m f)`` of the first ``m``)."""
    return np.ceil((i + 1) * fraction) > np.ceil(i * fraction)


def find_critical_points(problem, *, n_starts=None, seed=None,
                         methods=("lm", "descent"), descent_fraction: float = 0.1,
                         max_starts: int = DEFAULT_MAX_STARTS, progress=None) -> CriticalPointSearch:
    """Search for the critical points of a problem from many starts.

    Parameters
    ----------
    problem : ManifoldProblem
        Problem (4) (:class:`~nc_verify.objective.problem.UFMProblem`) or any problem of
        the problem protocol (:mod:`nc_verify.objective.protocol`); exact family points
        (``known_critical_points``) seed the "family" starts where the problem has them.
        Dense Hessians are formed at every iterate: meant for small sizes (tangent
        dimension up to a few hundred).
    n_starts : int or None
        Number of starts (descent runs included).  None (default): run until the
        search is saturated (see :attr:`CriticalPointSearch.saturated`: at least
        :data:`MIN_SATURATION_STARTS` starts and no new distinct point in the last
        :data:`SATURATION_FRACTION` of them) or ``max_starts`` starts were used.
    seed : int, numpy Generator or None
    methods : iterable of {"lm", "newton", "descent"}
        "lm": Levenberg-Marquardt on ``1/2 ||grad f||^2`` then Newton polish;
        "newton": pseudo-inverse Newton alone; "descent": trust regions from a
        uniform random start (every ``1/descent_fraction``-th start, from the
        first), polished.  The other starts take the kinds of
        :data:`START_KINDS` in turn.
    descent_fraction : float in [0, 1]
    max_starts : int
        Cap of the adaptive search (``n_starts=None``); ignored otherwise.
    progress : bool or None
        Progress bar on stderr (default: when stderr is a terminal).

    Returns
    -------
    CriticalPointSearch
    """
    t0 = time.perf_counter()
    p = check_problem(problem)
    adaptive = n_starts is None
    max_starts = check_int(max_starts, "max_starts", 1)
    n_starts = max_starts if adaptive else check_int(n_starts, "n_starts", 1)
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
    known = getattr(p, "known_critical_points", None)
    family_points = [blocks(x) for x in known().values()] if known is not None else []
    root_finders = [m for m in methods if m != "descent"]
    fraction = 1.0 if not root_finders else (descent_fraction if "descent" in methods else 0.0)
    points, discovery, descent_costs = [], [], []
    n_converged = n_other = 0
    label = "critical points (until saturated)" if adaptive else "critical points"
    with Progress(n_starts, label, enabled=progress) as bar:
        for i in range(n_starts):
            if _is_descent(i, fraction):
                res = solve(p, "trust_regions", x0=blocks(p.random_point(rng)), gradient_tol=1e-10)
                *x, _ = newton_polish(p, *res.point)
                descent_costs.append(p.cost(*x))
                source = "descent"
            else:
                kind = START_KINDS[n_other % len(START_KINDS)]
                x0 = _start(p, kind, rng, family_points, points)
                finder = root_finders[n_other % len(root_finders)]
                n_other += 1
                if finder == "lm":
                    *x, _ = levenberg_marquardt(p, *x0)
                else:
                    *x, _ = newton_polish(p, *x0, steps=40)
                source = kind
            found = describe_point(p, *x)
            loc_tol = gradient_tolerance(p, *found.point,
                                         hessian_norm=float(np.max(np.abs(found.invariants["hessian"]))))
            if found.gradient_norm <= loc_tol:
                n_converged += 1
                add_distinct(points, found, source)
            discovery.append(len(points))
            bar.update(postfix=f"{len(points)} distinct")
            if adaptive and is_saturated(discovery, points):
                break
    return CriticalPointSearch(
        points=points, n_starts=len(discovery), n_converged=n_converged,
        discovery=np.asarray(discovery, dtype=int), descent_costs=np.asarray(descent_costs),
        elapsed=time.perf_counter() - t0,
    )
