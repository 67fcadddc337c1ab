"""Supervised contrastive loss on normalised features alone (the paper's Appendix E.4 setting).

The paper's Appendix E.4 is not available; this module uses the standard supervised
contrastive loss (Khosla et al., 2020, "L_out") on the full set of ``N = K n``
unit features, with ``tau`` multiplying the similarities as everywhere in this
package (Khosla et al.'s temperature is ``1 / tau``)::

    minimise  f(H) = (1/N) sum_j [ log sum_{a != j} exp(M_aj)  -  (1/(n-1)) sum_{p in P(j)} M_pj ]
    over      H in OB(d, N),      M = tau H^T H,

where ``P(j)`` are the other ``n - 1`` samples of ``j``'s class (so ``n >= 2``).
There is no classifier ``W``.  ``f`` is a loss of the ``N x N`` matrix ``M``: with
``P_aj`` the softmax of column ``j`` over ``a != j`` and ``A_aj = 1/(n-1)`` on the
positives, ``G = grad g(M) = (P - A) / N``, the Euclidean gradient is
``tau H (G + G^T)`` and the Riemannian derivatives follow as for eqs. (5)-(8).

For ``d >= K - 1`` the minimum is attained at collapsed simplex-ETF features
(Graf et al., 2021) with value :meth:`SupConProblem.etf_value`
``= log((n - 1) + n (K - 1) exp(-tau K / (K - 1)))``; this package checks it
numerically (``tests/test_supcon.py``, ``proofs_check/test_conjectures.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh

from nc_verify.landscape.rounding import (
    eigenvalue_resolution,
    gap_resolution,
    gradient_rounding,
)
from nc_verify.landscape.spectrum import (
    TangentBasis,
    householder_basis,
    symmetry_orbit_dimension,
)
from nc_verify.objective.losses import autograd_logsumexp
from nc_verify.objective.problem import BACKENDS, project_columns
from nc_verify.utils.validation import (
    as_rng,
    check_choice,
    check_finite_float,
    check_int,
    check_matrix,
    check_positive_float,
    check_unit_columns,
)


@dataclass(frozen=True)
class SupConState:
    """Loss quantities of the supervised contrastive loss at ``M = tau H^T H``.

    Attributes
    ----------
    value : float
    grad : ndarray, shape (N, N)
        ``G = (P - A) / N`` (zero diagonal; columns sum to zero).
    sym_grad : ndarray, shape (N, N)
        ``G + G^T``.
    col_curvature : ndarray, shape (N,)
        ``diag(M (G + G^T))``; the Riemannian Hessian subtracts ``dH ddiag(.)``.
    """

    value: float
    grad: np.ndarray
    sym_grad: np.ndarray
    col_curvature: np.ndarray
    _probs: np.ndarray

    def hvp(self, dM: np.ndarray) -> np.ndarray:
        """``hess g(M)[dM]`` (column-wise softmax Hessian over ``a != j``), ``dM`` of shape (..., N, N)."""
        p = self._probs
        s = np.sum(p * dM, axis=-2, keepdims=True)
        return p * (dM - s) / p.shape[1]


class SupConProblem:
    """Supervised contrastive loss over ``H in OB(d, N)`` (see the module docstring).

    Parameters
    ----------
    d, K, n : int
        Feature dimension (>= 2), classes (>= 2), samples per class (>= 2: every
        sample needs a positive).
    tau : float
        Inverse temperature (finite, > 0).

    Notes
    -----
    Points are single matrices ``H`` of shape (d, N) with unit columns; tangent
    vectors ``dH`` of the same shape.  The interface mirrors
    :class:`~nc_verify.objective.problem.UFMProblem` without the classifier block.
    """

    loss_spec = "supcon"

    def __init__(self, d: int, K: int, n: int, tau: float):
        self.d = check_int(d, "d", 2)
        self.K = check_int(K, "K", 2)
        self.n = check_int(n, "n", 2)
        self.tau = check_positive_float(tau, "tau")
        self.N = self.K * self.n
        self.labels = np.repeat(np.arange(self.K), self.n)
        same = self.labels[:, None] == self.labels[None, :]
        np.fill_diagonal(same, False)
        self._positives = same / (self.n - 1.0)                  # A, (N, N)
        self._manifold = None
        self._cache = None

    def __repr__(self) -> str:
        return f"SupConProblem(d={self.d}, K={self.K}, n={self.n}, tau={self.tau!r})"

    @property
    def manifold(self):
        """``pymanopt.manifolds.Oblique(d, N)``."""
        if self._manifold is None:
            from pymanopt.manifolds import Oblique

            self._manifold = Oblique(self.d, self.N)
        return self._manifold

    @property
    def tangent_dimension(self) -> int:
        """``(d - 1) N``."""
        return (self.d - 1) * self.N

    @property
    def bound(self):
        """No closed-form bound is claimed (see :meth:`etf_value`); ``None``."""
        return None

    def etf_value(self) -> float:
        """``log((n - 1) + n (K - 1) exp(-tau K / (K - 1)))``: the loss at collapsed simplex-ETF features."""
        return float(np.log((self.n - 1) + self.n * (self.K - 1) * np.exp(-self.tau * self.K / (self.K - 1))))

    def etf_point(self, rng=None) -> np.ndarray:
        """Collapsed simplex-ETF features ``h_{k,i} = m_k`` (randomly rotated; needs ``d >= K - 1``)."""
        from nc_verify.objective.frames import simplex_etf

        return np.repeat(simplex_etf(self.d, self.K, rng=rng), self.n, axis=1)

    def check_point(self, H) -> np.ndarray:
        """Validate a point: shape (d, N), finite, unit columns. Returns a float64 copy."""
        return check_unit_columns(H, "H", (self.d, self.N))

    def check_tangent(self, H, dH) -> np.ndarray:
        """Validate a direction and project it onto the tangent space at ``H``."""
        return project_columns(H, check_matrix(dH, "dH", (self.d, self.N)))

    def random_point(self, rng=None) -> np.ndarray:
        """Uniform random unit columns; ``rng``: Generator, seed or None."""
        H = as_rng(rng).standard_normal((self.d, self.N))
        return H / np.linalg.norm(H, axis=0)

    def random_tangent(self, H, rng=None) -> np.ndarray:
        """A random unit-norm tangent vector at ``H``."""
        dH = project_columns(H, as_rng(rng).standard_normal(H.shape))
        return dH / np.linalg.norm(dH)

    # ------------------------------------------------------------------ math
    def _state(self, H: np.ndarray) -> SupConState:
        c = self._cache
        if c is not None and np.array_equal(c[0], H):
            return c[1]
        N = self.N
        M = self.tau * (H.T @ H)
        Mm = M.copy()
        np.fill_diagonal(Mm, -np.inf)                            # a != j
        Mc = Mm.max(axis=0, keepdims=True)
        E = np.exp(Mm - Mc)
        Z = E.sum(axis=0)                                        # >= 1
        P = E / Z
        A = self._positives
        value = float(np.mean(np.sum(A * (Mc - M), axis=0) + np.log(Z)))
        G = (P - A) / N
        Gs = G + G.T
        col = np.sum(M * Gs, axis=0)
        state = SupConState(value, G, Gs, col, P)
        self._cache = (H.copy(), state)
        return state

    def cost(self, H) -> float:
        """``f(H)``."""
        return self._state(self.check_point(H)).value

    def euclidean_gradient(self, H) -> np.ndarray:
        """``tau H (G + G^T)``, shape (d, N)."""
        H = self.check_point(H)
        return self.tau * (H @ self._state(H).sym_grad)

    def riemannian_gradient(self, H) -> np.ndarray:
        """``tau H (G + G^T) - H ddiag(M (G + G^T))``, shape (d, N)."""
        H = self.check_point(H)
        s = self._state(H)
        return self.tau * (H @ s.sym_grad) - H * s.col_curvature

    def gradient_norm(self, H) -> float:
        return float(np.linalg.norm(self.riemannian_gradient(H)))

    def _euclidean_hvp(self, H, s, dH):
        tau = self.tau
        dM = tau * (np.swapaxes(dH, -1, -2) @ H + H.T @ dH)
        dG = s.hvp(dM)
        return tau * (dH @ s.sym_grad + H @ (dG + np.swapaxes(dG, -1, -2)))

    def hessian_operator(self, H):
        """The Riemannian Hessian at ``H`` as a callable on (batched) tangent ``dH`` of shape (..., d, N)."""
        H = self.check_point(H)
        s = self._state(H)

        def op(dH):
            return project_columns(H, self._euclidean_hvp(H, s, dH)) - dH * s.col_curvature

        return op

    def euclidean_hessian(self, H, dH) -> np.ndarray:
        """Euclidean Hessian-vector product along ``dH``."""
        H = self.check_point(H)
        return self._euclidean_hvp(H, self._state(H), check_matrix(dH, "dH", (self.d, self.N)))

    def riemannian_hessian(self, H, dH) -> np.ndarray:
        """Riemannian Hessian applied to ``dH`` (projected onto the tangent space first)."""
        H = self.check_point(H)
        return self.hessian_operator(H)(self.check_tangent(H, dH))

    # --------------------------------------------------------------- spectrum
    def tangent_basis(self, H) -> TangentBasis:
        """Orthonormal basis of ``T_H OB(d, N)`` (the Householder basis of :mod:`nc_verify.landscape.spectrum`)."""
        return householder_basis(self.check_point(H), 0)

    def hessian_matrix(self, H) -> np.ndarray:
        """The Riemannian Hessian in :meth:`tangent_basis` coordinates, shape (T, T), symmetrised."""
        B = self.tangent_basis(H)
        op = self.hessian_operator(H)
        _, dH = B.to_ambient(np.eye(B.dimension))
        A = B.from_ambient(np.zeros((B.dimension, self.d, 0)), op(dH))
        return 0.5 * (A + A.T)

    def hessian_spectrum(self, H) -> np.ndarray:
        """All ``(d - 1) N`` Hessian eigenvalues, ascending."""
        return eigh(self.hessian_matrix(H), eigvals_only=True, driver="evd")

    # --------------------------------------------------------------- pymanopt
    def to_pymanopt(self, backend: str = "analytic"):
        """A ``pymanopt.Problem`` on ``Oblique(d, N)``: hand-written derivatives or autograd."""
        import pymanopt

        check_choice(backend, "backend", BACKENDS)
        manifold = self.manifold
        if backend == "autograd":
            import autograd.numpy as anp

            tau, A = self.tau, self._positives
            mask = np.where(np.eye(self.N, dtype=bool), -np.inf, 0.0)

            @pymanopt.function.autograd(manifold)
            def cost(H):
                M = tau * anp.dot(H.T, H)
                return anp.mean(autograd_logsumexp(M + mask) - anp.sum(A * M, axis=0))

            return pymanopt.Problem(manifold, cost)

        @pymanopt.function.numpy(manifold)
        def cost(H):
            return self._state(H).value

        @pymanopt.function.numpy(manifold)
        def euclidean_gradient(H):
            return self.tau * (H @ self._state(H).sym_grad)

        @pymanopt.function.numpy(manifold)
        def euclidean_hessian(H, dH):
            return self._euclidean_hvp(H, self._state(H), dH)

        return pymanopt.Problem(manifold, cost, euclidean_gradient=euclidean_gradient,
                                euclidean_hessian=euclidean_hessian)


def solve_supcon(problem: SupConProblem, *, x0=None, seed=None, gradient_tol: float = 1e-10,
                 max_iterations: int = 500):
    """Trust regions on the supervised contrastive problem; returns ``(H, cost, gradient_norm)``."""
    from pymanopt.optimizers import TrustRegions

    H0 = problem.random_point(seed) if x0 is None else problem.check_point(x0)
    opt = TrustRegions(min_gradient_norm=gradient_tol, max_iterations=max_iterations, verbosity=0)
    H = opt.run(problem.to_pymanopt(), initial_point=H0).point
    H = H / np.linalg.norm(H, axis=0)
    return H, problem.cost(H), problem.gradient_norm(H)


def newton_polish_supcon(problem: SupConProblem, H, *, steps: int = 6):
    """Pseudo-inverse Riemannian Newton steps on ``grad f = 0`` (as :func:`~nc_verify.landscape.newton.newton_polish`).

    Eigenvalues with ``|lambda| <= sqrt(eps) ||Hess||`` (the rotation orbit) are left
    out; a step is kept only if it lowers ``||grad f||``.  Returns ``(H, gradient_norm)``.
    """
    from nc_verify.landscape.newton import pseudo_inverse

    H = problem.check_point(H)
    g = problem.gradient_norm(H)
    for _ in range(steps):
        B = problem.tangent_basis(H)
        lam, V = eigh(problem.hessian_matrix(H), driver="evd")
        if g == 0.0 or not np.any(lam):
            break
        c = B.from_ambient(np.zeros((problem.d, 0)), problem.riemannian_gradient(H))
        _, dH = B.to_ambient(-(V @ (pseudo_inverse(lam) * (V.T @ c))))
        H2 = (H + dH) / np.linalg.norm(H + dH, axis=0)
        g2 = problem.gradient_norm(H2)
        if g2 >= g:
            break
        H, g = H2, g2
    return H, g


@dataclass
class SupConPointReport:
    """Second-order classification of a point of the supervised contrastive problem.

    Same verdicts and resolution as :func:`~nc_verify.landscape.classify.classify_critical_point`
    (see its module docstring), with the reference cost given explicitly.
    """

    kind: str
    reason: str
    cost: float
    reference: float
    gradient_norm: float
    gradient_tol: float
    lambda_min: float
    resolution: float
    margin: float
    n_zero: int
    orbit_dimension: int
    spectrum: np.ndarray
    H: np.ndarray

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in (
            "kind", "reason", "cost", "reference", "gradient_norm", "gradient_tol", "lambda_min",
            "resolution", "margin", "n_zero", "orbit_dimension")}


def classify_supcon_point(problem: SupConProblem, H, *, reference=None) -> SupConPointReport:
    """Classify a point of :class:`SupConProblem` by its dense Hessian spectrum.

    The same thresholds as for problem (4) (:mod:`nc_verify.landscape.rounding`, with ``m = N``
    columns): gradient rounding level ``eps (N + 2 d tau) ||tau H (G + G^T)||
    + eps sqrt(d N) ||Hess||``; eigenvalue resolution
    ``(T + 2 d tau) eps ||Hess|| + (tau + 2) ||Hess|| ||grad|| / sigma``.
    ``reference`` (e.g. the best value found) plays the role of the global minimum
    value; without it, minimisers are "local_minimizer".
    """
    from nc_verify.landscape.classify import _kind, spectrum_summary

    H = problem.check_point(H)
    vals = eigh(problem.hessian_matrix(H), eigvals_only=True, driver="evd")
    sp = spectrum_summary(problem, vals)
    S, sigma, n_zero, lam = sp["S"], sp["sigma"], sp["n_zero"], sp["lam"]
    g = problem.gradient_norm(H)
    gtol = gradient_rounding(problem, float(np.linalg.norm(problem.euclidean_gradient(H))), S)
    resolution = eigenvalue_resolution(problem, S, g, sigma)
    cost = problem.cost(H)
    orbit = symmetry_orbit_dimension(np.zeros((problem.d, 0)), H)
    has_reference = reference is not None
    ref = check_finite_float(reference, "reference") if has_reference else float("nan")
    if g > gtol:
        kind, reason = "not_critical", f"||grad f|| = {g:.3g} exceeds its rounding level {gtol:.3g}"
    else:
        kind, reason = _kind(lam, resolution, cost - ref, gap_resolution(problem, cost, ref, g, sigma),
                             has_reference, n_zero, orbit, sp["second_smallest"], S)
        if kind == "global_minimizer":
            reason = "cost equals the reference value to within its resolution"
    return SupConPointReport(kind, reason, cost, ref, g, float(gtol), lam, float(resolution),
                             abs(lam) / float(resolution), n_zero, orbit, vals, H)
