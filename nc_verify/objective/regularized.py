"""The regularised (unnormalised) unconstrained feature model of Zhu et al. (2021).

The paper's baseline (Table 1, Figures 1 and 5; reference [4] of the paper):

    minimise  F(W, H, b) = (1/N) sum_{k,i} CE(W^T h_{k,i} + b, y_k)
                           + lambda_W/2 ||W||_F^2 + lambda_H/2 ||H||_F^2 + lambda_b/2 ||b||^2

over unconstrained ``W`` (d, K), ``H`` (d, N) and, optionally, a bias ``b`` (K,).
With ``M = W^T H + b 1^T`` and ``G = grad g(M)`` (the loss protocol of
:mod:`nc_verify.objective.losses`, shared with problem (4)), the gradient is

    grad_W F = H G^T + lambda_W W,   grad_H F = W G + lambda_H H,   grad_b F = G 1 + lambda_b b.

Points are tuples ``(W, H)`` without bias and ``(W, H, b)`` with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from nc_verify.objective.losses import CROSS_ENTROPY, get_loss
from nc_verify.objective.taylor import fit_slope, slopes_ok
from nc_verify.utils.validation import (
    as_rng,
    check_choice,
    check_int,
    check_matrix,
    check_positive_float,
)

#: Minimisers of the regularised model (:func:`minimize_regularized`).
METHODS = ("gradient_descent", "lbfgs")

_EPS = np.finfo(np.float64).eps


def _check_nonnegative(value, name: str) -> float:
    if value == 0:
        return 0.0
    return check_positive_float(value, name)


@dataclass(frozen=True)
class GradientCheck:
    """Outcome of :meth:`RegularizedUFM.check_gradient`.

    Attributes
    ----------
    step_sizes : ndarray, shape (m,)
        Steps ``t`` of the Taylor test.
    taylor_errors : ndarray, shape (m,)
        ``|F(x + t v) - F(x) - t <grad F(x), v>|`` for a random unit direction ``v``.
    taylor_slope : float
        Median slope of ``log error`` against ``log t`` over the steps whose error
        lies above the rounding level of ``F``; 2 for a correct gradient, 1 for a wrong one.
    autograd_relative_error : float
        ``||grad F - grad_autograd F|| / ||grad_autograd F||`` at the same point.
    passed : bool
        ``|taylor_slope - 2| < 0.1`` and ``autograd_relative_error < sqrt(eps)``.
    """

    step_sizes: np.ndarray
    taylor_errors: np.ndarray
    taylor_slope: float
    autograd_relative_error: float
    passed: bool

    def as_dict(self) -> dict:
        return asdict(self)


class RegularizedUFM:
    """The regularised unconstrained feature model: the paper's unnormalised baseline.

    Parameters
    ----------
    d, K, n : int
        Feature dimension (>= 1), classes (>= 2), samples per class (>= 1).
    lambda_W, lambda_H : float
        Weight decay on the classifiers and on the features (finite, > 0).
    bias : bool
        Include the bias ``b`` (shape (K,)) as a variable.
    lambda_b : float
        Weight decay on the bias (>= 0); only with ``bias=True``.
    loss : loss object or spec string, optional
        Loss of the logits (:func:`~nc_verify.objective.losses.get_loss`; default cross-entropy).

    Attributes
    ----------
    N : int
        ``K n``.
    labels : ndarray of int, shape (N,)
        Sample ``j`` belongs to class ``j // n`` (as in :class:`~nc_verify.UFMProblem`).
    """

    def __init__(self, d: int, K: int, n: int, lambda_W: float, lambda_H: float, *,
                 bias: bool = False, lambda_b: float = 0.0, loss=None):
        self.d = check_int(d, "d", 1)
        self.K = check_int(K, "K", 2)
        self.n = check_int(n, "n", 1)
        self.lambda_W = check_positive_float(lambda_W, "lambda_W")
        self.lambda_H = check_positive_float(lambda_H, "lambda_H")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
        self.bias = bool(bias)
        self.lambda_b = _check_nonnegative(lambda_b, "lambda_b")
        if self.lambda_b and not self.bias:
            raise ValueError("lambda_b > 0 needs bias=True")
        self.N = self.K * self.n
        self.labels = np.repeat(np.arange(self.K), self.n)
        self.loss = CROSS_ENTROPY if loss is None else get_loss(loss)
        self._shapes = [(self.d, self.K), (self.d, self.N)] + ([(self.K,)] if self.bias else [])

    def __repr__(self) -> str:
        extra = f", bias=True, lambda_b={self.lambda_b!r}" if self.bias else ""
        return (f"RegularizedUFM(d={self.d}, K={self.K}, n={self.n}, lambda_W={self.lambda_W!r}, "
                f"lambda_H={self.lambda_H!r}{extra})")

    # ------------------------------------------------------------------ points
    @property
    def size(self) -> int:
        """Number of scalar variables, ``d K + d N (+ K)``."""
        return sum(int(np.prod(s)) for s in self._shapes)

    def check_point(self, *x):
        """Validate a point ``(W, H)`` or ``(W, H, b)``; returns a tuple of float64 arrays."""
        names = ("W", "H", "b")[: len(self._shapes)]
        if len(x) != len(self._shapes):
            raise ValueError(f"a point is ({', '.join(names)}) for bias={self.bias}; got {len(x)} arrays")
        out = []
        for a, name, shape in zip(x, names, self._shapes):
            if len(shape) == 1:
                arr = check_matrix(np.reshape(a, (1, -1)) if np.ndim(a) == 1 else a, name, (1, shape[0]))[0]
            else:
                arr = check_matrix(a, name, shape)
            out.append(arr)
        return tuple(out)

    def random_point(self, rng=None, scale: float = 1.0):
        """I.i.d. normal entries of standard deviation ``scale`` (bias starts at zero)."""
        rng = as_rng(rng)
        scale = check_positive_float(scale, "scale")
        W = scale * rng.standard_normal((self.d, self.K))
        H = scale * rng.standard_normal((self.d, self.N))
        return (W, H, np.zeros(self.K)) if self.bias else (W, H)

    def pack(self, *x) -> np.ndarray:
        """The point as one flat vector of length :attr:`size`."""
        return np.concatenate([np.ravel(a) for a in self.check_point(*x)])

    def unpack(self, z) -> tuple:
        """Inverse of :meth:`pack`."""
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (self.size,):
            raise ValueError(f"z must have shape ({self.size},), got {z.shape}")
        out, start = [], 0
        for shape in self._shapes:
            m = int(np.prod(shape))
            out.append(z[start:start + m].reshape(shape))
            start += m
        return tuple(out)

    # -------------------------------------------------------------------- math
    def logits(self, *x) -> np.ndarray:
        """``M = W^T H (+ b 1^T)``, shape (K, N)."""
        x = self.check_point(*x)
        return self._logits(x)

    def _logits(self, x) -> np.ndarray:
        M = x[0].T @ x[1]
        return M + x[2][:, None] if self.bias else M

    def _penalty(self, x) -> float:
        lam = (self.lambda_W, self.lambda_H, self.lambda_b)
        return 0.5 * sum(l * float(np.sum(a * a)) for l, a in zip(lam, x))

    def cost(self, *x) -> float:
        """``F(W, H[, b])``: mean cross-entropy plus the weight-decay terms."""
        x = self.check_point(*x)
        return self.loss(self._logits(x), self.labels).value + self._penalty(x)

    def data_loss(self, *x) -> float:
        """The mean cross-entropy alone (Table 1's "CE loss"), without the penalty."""
        x = self.check_point(*x)
        return self.loss(self._logits(x), self.labels).value

    def accuracy(self, *x) -> float:
        """Fraction of samples whose largest logit is their own class."""
        return float(np.mean(np.argmax(self.logits(*x), axis=0) == self.labels))

    def gradient(self, *x):
        """``(grad_W F, grad_H F[, grad_b F])`` with shapes (d, K), (d, N)[, (K,)]."""
        x = self.check_point(*x)
        return self._cost_and_gradient(x)[1]

    def _cost_and_gradient(self, x):
        s = self.loss(self._logits(x), self.labels)
        G = s.grad
        g = [x[1] @ G.T + self.lambda_W * x[0], x[0] @ G + self.lambda_H * x[1]]
        if self.bias:
            g.append(G.sum(axis=1) + self.lambda_b * x[2])
        return s.value + self._penalty(x), tuple(g)

    def cost_and_gradient_flat(self, z):
        """``(F, grad F)`` at the packed point ``z`` (for flat-vector optimisers)."""
        f, g = self._cost_and_gradient(self.unpack(z))
        return f, np.concatenate([np.ravel(a) for a in g])

    # ------------------------------------------------------------------ checks
    def _autograd_cost(self):
        import autograd.numpy as anp

        labels, value = self.labels, self.loss.autograd_value
        lam = (self.lambda_W, self.lambda_H, self.lambda_b)

        def cost(*x):
            M = anp.dot(x[0].T, x[1])
            if self.bias:
                M = M + anp.reshape(x[2], (-1, 1))
            penalty = sum(0.5 * l * anp.sum(a * a) for l, a in zip(lam, x))
            return value(M, labels) + penalty

        return cost

    def check_gradient(self, x=None, rng=None) -> GradientCheck:
        """Check :meth:`gradient` by a Taylor test and against autograd.

        Parameters
        ----------
        x : tuple, optional
            The point (default: :meth:`random_point` from ``rng``).
        rng : numpy Generator, int or None
            Random direction (and point).

        Returns
        -------
        GradientCheck
            The Taylor remainder ``|F(x + t v) - F(x) - t <grad F, v>|`` must fall like
            ``t^2``; the slope is fitted exactly as for problem (4)
            (:func:`nc_verify.checks.derivatives.taylor_slopes`: the straightest window of steps
            above the rounding level ``32 eps max(1, |F|)``) and passes when at least
            ``2 - SLOPE_TOL``; autograd must agree to ``sqrt(eps)`` relative.
        """

        from autograd import grad

        rng = as_rng(rng)
        x = self.random_point(rng) if x is None else self.check_point(*x)
        z = self.pack(*x)
        f0, g = self.cost_and_gradient_flat(z)
        v = rng.standard_normal(z.shape)
        v /= np.linalg.norm(v)
        slope_g = float(g @ v)
        ts = np.logspace(-8, 0, 41)
        errs = np.array([abs(self.cost_and_gradient_flat(z + t * v)[0] - f0 - t * slope_g) for t in ts])
        slope = fit_slope(ts, errs, 32 * _EPS * max(1.0, abs(f0)))
        auto = grad(self._autograd_cost(), argnum=list(range(len(x))))(*x)
        ga = np.concatenate([np.ravel(a) for a in auto])
        rel = float(np.linalg.norm(g - ga) / np.linalg.norm(ga))
        passed = bool(slopes_ok([slope], 2.0) and rel < np.sqrt(_EPS))
        return GradientCheck(ts, errs, slope, rel, passed)


@dataclass
class RegularizedResult:
    """Outcome of :func:`minimize_regularized`.

    Attributes
    ----------
    x : tuple of ndarray
        Final point ``(W, H)`` or ``(W, H, b)``.
    cost, gradient_norm : float
        ``F`` and ``||grad F||`` there.
    iterations : int
        Gradient steps taken (gradient descent) or L-BFGS iterations.
    stopping_reason : str
    history : dict of str -> ndarray
        ``"cost"`` and ``"gradient_norm"`` at every iterate, the start included.
    """

    x: tuple
    cost: float
    gradient_norm: float
    iterations: int
    stopping_reason: str
    history: dict = field(default_factory=dict)


def minimize_regularized(problem: RegularizedUFM, method: str = "gradient_descent", *, x0=None, seed=None,
                         gradient_tol: float = 1e-10, max_iterations: int = 1000,
                         callback=None) -> RegularizedResult:
    """Minimise the regularised model by gradient descent with backtracking, or by L-BFGS.

    Parameters
    ----------
    problem : RegularizedUFM
    method : {"gradient_descent", "lbfgs"}
        "gradient_descent": steps along ``-grad F`` with pymanopt's
        ``BackTrackingLineSearcher`` (Armijo, contraction 0.5, sufficient decrease
        1e-4, first trial step from the previous decrease) on the Euclidean space,
        the same line search that ``solve(..., "steepest_descent")`` uses on
        problem (4), so Figure 5 compares the formulations and not the line searches.
        "lbfgs": ``scipy.optimize.minimize(method="L-BFGS-B")`` without bounds.
    x0 : tuple, optional
        Start ``(W, H)`` or ``(W, H, b)``; default :meth:`RegularizedUFM.random_point`.
    seed : int, Generator or None
        Seed for the random start.
    gradient_tol : float
        Stop when ``||grad F|| < gradient_tol``.
    max_iterations : int
    callback : callable, optional
        Called as ``callback(k, x)`` at every iterate ``x`` (a tuple of arrays; ``k = 0``
        is the start), before the step.
    """
    if not isinstance(problem, RegularizedUFM):
        raise TypeError(f"problem must be a RegularizedUFM, got {type(problem).__name__}")
    check_choice(method, "method", METHODS)
    gradient_tol = check_positive_float(gradient_tol, "gradient_tol")
    max_iterations = check_int(max_iterations, "max_iterations", 1)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    x = problem.random_point(as_rng(seed)) if x0 is None else problem.check_point(*x0)
    z = problem.pack(*x)
    history = {"cost": [], "gradient_norm": []}

    def record(k, z, f, g):
        history["cost"].append(f)
        history["gradient_norm"].append(float(np.linalg.norm(g)))
        if callback is not None:
            callback(k, problem.unpack(z))

    if method == "gradient_descent":
        from pymanopt.manifolds import Euclidean
        from pymanopt.optimizers.line_search import BackTrackingLineSearcher

        space = Euclidean(problem.size)
        searcher = BackTrackingLineSearcher()
        cost = lambda y: problem.cost_and_gradient_flat(y)[0]  # noqa: E731
        reason, k = "max iterations reached", 0
        while True:
            f, g = problem.cost_and_gradient_flat(z)
            record(k, z, f, g)
            gn = float(np.linalg.norm(g))
            if gn < gradient_tol:
                reason = "gradient norm below gradient_tol"
                break
            if k >= max_iterations:
                break
            step, z = searcher.search(cost, space, z, -g, f, -gn**2)
            k += 1
            if step == 0:
                reason = "line search found no decrease"
                break
        iterations = k
    else:
        from scipy.optimize import minimize

        f, g = problem.cost_and_gradient_flat(z)
        record(0, z, f, g)
        count = [0]

        def cb(zk):
            count[0] += 1
            fk, gk = problem.cost_and_gradient_flat(zk)
            record(count[0], zk, fk, gk)

        res = minimize(problem.cost_and_gradient_flat, z, jac=True, method="L-BFGS-B", callback=cb,
                       options=dict(maxiter=max_iterations, gtol=gradient_tol, ftol=0.0, maxcor=20))
        z, reason, iterations = res.x, str(res.message), int(res.nit)
    f, g = problem.cost_and_gradient_flat(z)
    return RegularizedResult(
        x=problem.unpack(z.copy()),
        cost=float(f),
        gradient_norm=float(np.linalg.norm(g)),
        iterations=iterations,
        stopping_reason=reason,
        history={k: np.asarray(v) for k, v in history.items()},
    )
