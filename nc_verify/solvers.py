"""Solve problem (4) with pymanopt's Riemannian optimisers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_rng, check_choice, check_int, check_positive_float
from .problem import BACKENDS, UFMProblem

OPTIMIZERS = ("trust_regions", "steepest_descent", "conjugate_gradient")


@dataclass
class SolveResult:
    """Outcome of :func:`solve`.

    Attributes
    ----------
    W, H : ndarray, shapes (d, K) and (d, N)
        Final point.
    cost, gradient_norm : float
        ``f`` and ``||grad f||`` there (recomputed with the analytic formulas).
    iterations : int
        Iterations reported by the optimiser (summed over restarts).
    stopping_reason : str
        The optimiser's reason for stopping.
    history : dict of str -> ndarray
        ``"cost"`` and ``"gradient_norm"`` at every iterate where the optimiser
        evaluated the gradient (every iteration; for trust regions, every accepted one).
    """

    W: np.ndarray
    H: np.ndarray
    cost: float
    gradient_norm: float
    iterations: int
    stopping_reason: str
    history: dict = field(default_factory=dict)


def _make_optimizer(name: str, gradient_tol: float, max_iterations, verbose: bool):
    from pymanopt.optimizers import ConjugateGradient, SteepestDescent, TrustRegions

    cls = {
        "trust_regions": TrustRegions,
        "steepest_descent": SteepestDescent,
        "conjugate_gradient": ConjugateGradient,
    }[name]
    kwargs = dict(min_gradient_norm=gradient_tol, verbosity=2 if verbose else 0, max_time=np.inf)
    # first-order methods stall on tiny steps long before a 1e-10 gradient; let the
    # gradient tolerance, not the step size, decide when they stop.
    kwargs["min_step_size"] = 0.0 if name != "trust_regions" else 1e-10
    if max_iterations is not None:
        kwargs["max_iterations"] = max_iterations
    return cls(**kwargs)


def solve(
    problem: UFMProblem,
    optimizer: str = "trust_regions",
    *,
    backend: str = "analytic",
    x0=None,
    seed=None,
    gradient_tol: float = 1e-10,
    max_iterations=None,
    verbose: bool = False,
    callback=None,
) -> SolveResult:
    """Minimise problem (4) with a pymanopt optimiser.

    Parameters
    ----------
    problem : UFMProblem
    optimizer : {"trust_regions", "steepest_descent", "conjugate_gradient"}
    backend : {"analytic", "autograd"}
        See :meth:`UFMProblem.to_pymanopt`.
    x0 : tuple (W, H), optional
        Start; validated. Default: :meth:`UFMProblem.random_point` from ``seed``.
    seed : int, numpy Generator or None
        Seed for the random start.
    gradient_tol : float
        Stop when the Riemannian gradient norm falls below this.
    max_iterations : int, optional
        Cap on iterations (pymanopt's default, 1000, when None).
    verbose : bool
        Print pymanopt's per-iteration table.
    callback : callable, optional
        Called as ``callback(k, W, H)`` at every point where the optimiser evaluates
        the gradient, ``k`` counting from 0 (the start): every iterate of steepest
        descent and conjugate gradient, every accepted iterate of trust regions.
        Entry ``k`` of ``SolveResult.history`` belongs to the same point.
    """
    if not isinstance(problem, UFMProblem):
        raise TypeError(f"problem must be a UFMProblem, got {type(problem).__name__}")
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    check_choice(backend, "backend", BACKENDS)
    gradient_tol = check_positive_float(gradient_tol, "gradient_tol")
    if max_iterations is not None:
        max_iterations = check_int(max_iterations, "max_iterations", 1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if x0 is None:
        W0, H0 = problem.random_point(as_rng(seed))
    else:
        if not isinstance(x0, (tuple, list)) or len(x0) != 2:
            raise TypeError("x0 must be a pair (W, H)")
        W0, H0 = problem.check_point(*x0)

    pm_problem = problem.to_pymanopt(backend)
    history = {"cost": [], "gradient_norm": []}
    inner_gradient = pm_problem.riemannian_gradient

    def recording_gradient(point):
        g = inner_gradient(point)
        history["cost"].append(problem.cost(*point))
        history["gradient_norm"].append(float(np.sqrt(sum(np.sum(gi**2) for gi in g))))
        if callback is not None:
            callback(len(history["cost"]) - 1, point[0], point[1])
        return g

    # pymanopt 2.2.1 reads the gradient from this attribute on every call.
    pm_problem._riemannian_gradient = recording_gradient
    opt = _make_optimizer(optimizer, gradient_tol, max_iterations, verbose)
    res = opt.run(pm_problem, initial_point=[W0, H0])
    W, H = (np.asarray(a, dtype=np.float64) for a in res.point)
    return SolveResult(
        W=W,
        H=H,
        cost=problem.cost(W, H),
        gradient_norm=problem.gradient_norm(W, H),
        iterations=int(res.iterations),
        stopping_reason=str(res.stopping_criterion),
        history={k: np.asarray(v) for k, v in history.items()},
    )
