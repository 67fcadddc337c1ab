"""Solve problem (4) with pymanopt's Riemannian optimisers."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from nc_verify.landscape.classify import classify_critical_point
from nc_verify.landscape.newton import retract
from nc_verify.objective.problem import BACKENDS, UFMProblem
from nc_verify.utils.validation import (
    as_rng,
    check_choice,
    check_instance,
    check_int,
    check_positive_float,
)

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
    lambda_min : float or None
        Smallest Riemannian Hessian eigenvalue at the final point (``second_order=True``).
    escapes : int
        Negative-curvature steps taken (``second_order=True``).
    warnings : list of str
        What pymanopt warned about during the run (caught: its RuntimeWarnings never
        reach the terminal), e.g. a line search dividing by a zero cost difference when
        the cost no longer changes in float64.  If its iterate became NaN, the result
        is the last finite iterate and ``stopping_reason`` says so.
    """

    W: np.ndarray
    H: np.ndarray
    cost: float
    gradient_norm: float
    iterations: int
    stopping_reason: str
    history: dict = field(default_factory=dict)
    lambda_min: float | None = None
    escapes: int = 0
    warnings: list = field(default_factory=list)


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
    second_order: bool = False,
    max_escapes: int = 20,
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
    second_order : bool
        After first-order convergence compute ``lambda_min`` of the Riemannian
        Hessian (:func:`~nc_verify.min_hessian_eigenpair`); at a strict saddle
        (``lambda_min`` below minus the resolution of
        :func:`~nc_verify.classify_critical_point`) step along the
        negative-curvature direction -- sign and length chosen by backtracking on
        the cost from ``|lambda_min| / (tau + 2) ||Hess||`` -- and run the optimiser
        again, up to ``max_escapes`` times.  Needed because pymanopt's trust
        regions stop at once when started on a saddle (its test is first order).
    max_escapes : int
        Cap on the escapes of ``second_order``.
    callback : callable, optional
        Called as ``callback(k, W, H)`` at every point where the optimiser evaluates
        the gradient, ``k`` counting from 0 (the start): every iterate of steepest
        descent and conjugate gradient, every accepted iterate of trust regions, and
        the final point. Entry ``k`` of ``SolveResult.history`` belongs to the same point.
    """
    check_instance(problem, "problem", UFMProblem)
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

    if second_order:
        return _solve_second_order(problem, optimizer, backend=backend, x0=(W0, H0),
                                   gradient_tol=gradient_tol, max_iterations=max_iterations,
                                   verbose=verbose, max_escapes=check_int(max_escapes, "max_escapes", 0),
                                   callback=callback)
    pm_problem = problem.to_pymanopt(backend)
    history = {"cost": [], "gradient_norm": []}
    inner_gradient = pm_problem.riemannian_gradient
    last = [None]

    def recording_gradient(point):
        g = inner_gradient(point)
        last[0] = point
        history["cost"].append(problem.cost(*point))
        history["gradient_norm"].append(float(np.sqrt(sum(np.sum(gi**2) for gi in g))))
        if callback is not None:
            callback(len(history["cost"]) - 1, point[0], point[1])
        return g

    # pymanopt 2.2.1 reads the gradient from this attribute on every call.
    pm_problem._riemannian_gradient = recording_gradient
    opt = _make_optimizer(optimizer, gradient_tol, max_iterations, verbose)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        res = opt.run(pm_problem, initial_point=[W0, H0])
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    W, H = (np.asarray(a, dtype=np.float64) for a in res.point)
    stopping_reason = str(res.stopping_criterion)
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(H))):
        finite = last[0] is not None and all(np.all(np.isfinite(a)) for a in last[0])
        W, H = (np.array(a, dtype=np.float64) for a in (last[0] if finite else (W0, H0)))
        stopping_reason = (f"{optimizer} produced a non-finite iterate (pymanopt: {'; '.join(messages) or 'no warning'}): "
                           "the cost no longer changes in float64 along its steps; stopped at the last finite iterate")
    cost, gradient_norm = problem.cost(W, H), problem.gradient_norm(W, H)
    if last[0] is None or not all(np.array_equal(a, b) for a, b in zip(last[0], (W, H))):
        # stopped on an iteration cap after a step whose gradient was never evaluated
        history["cost"].append(cost)
        history["gradient_norm"].append(gradient_norm)
        if callback is not None:
            callback(len(history["cost"]) - 1, W, H)
    return SolveResult(
        W=W,
        H=H,
        cost=cost,
        gradient_norm=gradient_norm,
        iterations=int(res.iterations),
        stopping_reason=stopping_reason,
        history={k: np.asarray(v) for k, v in history.items()},
        warnings=messages,
    )


def _solve_second_order(problem, optimizer, *, x0, max_escapes, callback, **kwargs) -> SolveResult:
    """First-order solves alternating with negative-curvature escapes (see :func:`solve`)."""
    offset = [0]
    if callback is not None:
        # one numbering across the restarted phases, matching the concatenated history
        kwargs["callback"] = lambda k, W, H: callback(offset[0] + k, W, H)
    res = solve(problem, optimizer, x0=x0, **kwargs)
    offset[0] += len(res.history["cost"])
    iterations, escapes = res.iterations, 0
    history = {k: [v] for k, v in res.history.items()}
    while True:
        rep = classify_critical_point(problem, res.W, res.H, refine=True)
        if rep.kind != "strict_saddle" or escapes >= max_escapes:
            break
        dW, dH = rep.escape_direction
        f0, step = rep.cost, abs(rep.lambda_min) / ((problem.tau + 2.0) * rep.hessian_norm)
        W, H = rep.W, rep.H
        for _ in range(60):
            candidates = [retract(W, H, s * step * dW, s * step * dH) for s in (1.0, -1.0)]
            costs = [problem.cost(*c) for c in candidates]
            if min(costs) < f0:
                break
            step *= 2.0
        escapes += 1
        res = solve(problem, optimizer, x0=candidates[int(np.argmin(costs))], **kwargs)
        offset[0] += len(res.history["cost"])
        iterations += res.iterations
        for k, v in res.history.items():
            history[k].append(v)
    return SolveResult(
        W=res.W, H=res.H, cost=res.cost, gradient_norm=res.gradient_norm, iterations=iterations,
        stopping_reason=res.stopping_reason,
        history={k: np.concatenate(v) for k, v in history.items()},
        lambda_min=rep.lambda_min, escapes=escapes, warnings=res.warnings,
    )
