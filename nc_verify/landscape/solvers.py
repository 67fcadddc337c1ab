"""Solve problem (4), or any protocol problem, with pymanopt's Riemannian optimisers."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from nc_verify.landscape.classify import classify_critical_point
from nc_verify.landscape.newton import gradient_norm
from nc_verify.objective.oblique import retract
from nc_verify.objective.problem import BACKENDS
from nc_verify.objective.protocol import (
    PointBlocks,
    as_point,
    blocks,
    check_problem,
    norm,
)
from nc_verify.utils.validation import (
    as_rng,
    check_choice,
    check_int,
    check_positive_float,
)

OPTIMIZERS = ("trust_regions", "steepest_descent", "conjugate_gradient")


@dataclass
class SolveResult(PointBlocks):
    """Outcome of :func:`solve`.

    Attributes
    ----------
    point : tuple of ndarray
        Final point (``(W, H)`` for problem (4), also as attributes ``W`` and ``H``).
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

    point: tuple
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
    problem,
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
    problem : ManifoldProblem
        Problem (4) (:class:`~nc_verify.objective.problem.UFMProblem`) or any problem
        of the problem protocol (:mod:`nc_verify.objective.protocol`).
    optimizer : {"trust_regions", "steepest_descent", "conjugate_gradient"}
    backend : {"analytic", "autograd"}
        See :meth:`UFMProblem.to_pymanopt`.
    x0 : tuple of ndarray, optional
        Start (``(W, H)`` for problem (4)); validated. Default: the problem's
        ``random_point`` from ``seed``.
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
        Called as ``callback(k, *point)`` (``callback(k, W, H)`` for problem (4)) at every point where the optimiser evaluates
        the gradient, ``k`` counting from 0 (the start): every iterate of steepest
        descent and conjugate gradient, every accepted iterate of trust regions, and
        the final point. Entry ``k`` of ``SolveResult.history`` belongs to the same point.
    """
    check_problem(problem)
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    check_choice(backend, "backend", BACKENDS)
    gradient_tol = check_positive_float(gradient_tol, "gradient_tol")
    if max_iterations is not None:
        max_iterations = check_int(max_iterations, "max_iterations", 1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    n_blocks = len(problem.block_sizes)
    if x0 is None:
        x0 = blocks(problem.random_point(as_rng(seed)))
    else:
        if isinstance(x0, np.ndarray) and n_blocks == 1:
            x0 = (x0,)
        if not isinstance(x0, (tuple, list)) or len(x0) != n_blocks:
            raise TypeError(f"x0 must be a tuple of {n_blocks} block(s) of shapes "
                            f"{[(problem.d, m) for m in problem.block_sizes]}")
        x0 = as_point(problem, *x0)

    if second_order:
        return _solve_second_order(problem, optimizer, backend=backend, x0=x0,
                                   gradient_tol=gradient_tol, max_iterations=max_iterations,
                                   verbose=verbose, max_escapes=check_int(max_escapes, "max_escapes", 0),
                                   callback=callback)
    pm_problem = problem.to_pymanopt(backend)
    history = {"cost": [], "gradient_norm": []}
    last = [None]

    def record(point, gradient):
        point = blocks(point)
        last[0] = point
        history["cost"].append(problem.cost(*point))
        history["gradient_norm"].append(norm(blocks(gradient)))
        if callback is not None:
            callback(len(history["cost"]) - 1, *point)

    opt = _make_optimizer(optimizer, gradient_tol, max_iterations, verbose)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        res = opt.run(_observe_gradient(pm_problem, record), initial_point=list(x0) if n_blocks > 1 else x0[0])
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    x = tuple(np.asarray(a, dtype=np.float64) for a in blocks(res.point))
    stopping_reason = str(res.stopping_criterion)
    if not all(np.all(np.isfinite(a)) for a in x):
        finite = last[0] is not None and all(np.all(np.isfinite(a)) for a in last[0])
        x = tuple(np.array(a, dtype=np.float64) for a in (last[0] if finite else x0))
        stopping_reason = (f"{optimizer} produced a non-finite iterate (pymanopt: {'; '.join(messages) or 'no warning'}): "
                           "the cost no longer changes in float64 along its steps; stopped at the last finite iterate")
    cost, grad_norm = problem.cost(*x), gradient_norm(problem, *x)
    if last[0] is None or not all(np.array_equal(a, b) for a, b in zip(last[0], x)):
        # stopped on an iteration cap after a step whose gradient was never evaluated
        history["cost"].append(cost)
        history["gradient_norm"].append(grad_norm)
        if callback is not None:
            callback(len(history["cost"]) - 1, *x)
    return SolveResult(
        point=x,
        cost=cost,
        gradient_norm=grad_norm,
        iterations=int(res.iterations),
        stopping_reason=stopping_reason,
        history={k: np.asarray(v) for k, v in history.items()},
        warnings=messages,
    )


def _observe_gradient(pm_problem, observer):
    """``pm_problem`` with every Riemannian-gradient evaluation also reported to ``observer(point, gradient)``.

    Through a subclass overriding ``pymanopt.Problem.riemannian_gradient`` (a public
    property), so the optimisers' own evaluations are the recorded ones.
    """
    base = type(pm_problem)

    class ObservedProblem(base):
        @property
        def riemannian_gradient(self):
            inner = base.riemannian_gradient.fget(self)

            def gradient(point):
                g = inner(point)
                observer(point, g)
                return g

            return gradient

    pm_problem.__class__ = ObservedProblem
    return pm_problem


def _solve_second_order(problem, optimizer, *, x0, max_escapes, callback, **kwargs) -> SolveResult:
    """First-order solves alternating with negative-curvature escapes (see :func:`solve`)."""
    offset = [0]
    if callback is not None:
        # one numbering across the restarted phases, matching the concatenated history
        kwargs["callback"] = lambda k, *point: callback(offset[0] + k, *point)
    res = solve(problem, optimizer, x0=x0, **kwargs)
    offset[0] += len(res.history["cost"])
    iterations, escapes = res.iterations, 0
    history = {k: [v] for k, v in res.history.items()}
    while True:
        rep = classify_critical_point(problem, *res.point, refine=True)
        if rep.kind != "strict_saddle" or escapes >= max_escapes:
            break
        f0, step = rep.cost, abs(rep.lambda_min) / ((problem.tau + 2.0) * rep.hessian_norm)
        for _ in range(60):
            candidates = [retract(rep.point, rep.escape_direction, s * step) for s in (1.0, -1.0)]
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
        point=res.point, cost=res.cost, gradient_norm=res.gradient_norm, iterations=iterations,
        stopping_reason=res.stopping_reason,
        history={k: np.concatenate(v) for k, v in history.items()},
        lambda_min=rep.lambda_min, escapes=escapes, warnings=res.warnings,
    )
