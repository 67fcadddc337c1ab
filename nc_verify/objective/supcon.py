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

from nc_verify.objective.losses import autograd_logsumexp, column_softmax
from nc_verify.objective.oblique import project_columns, symmetry_orbit_dimension
from nc_verify.objective.problem import BACKENDS
from nc_verify.utils.validation import (
    as_rng,
    check_choice,
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


def _positive_gradient(M, P, A, rows, cols):
    """``P_pj - 1/(n - 1)`` at the positives without cancellation, shape (n - 1, N) like ``rows``.

    ``(n - 1) P_pj - 1 = sum_{p'} (P_pj - P_p'j) - sum_{a negative} P_aj`` (the column's
    probabilities sum to 1), with ``P_pj - P_p'j = P_p'j expm1(M_pj - M_p'j)`` where the
    logits are close (at collapse the positives' probabilities all approach ``1/(n - 1)``
    and the subtraction would keep only ``eps`` of the ``exp(-tau)``-size difference).
    """
    Mp, Pp = M[rows, cols], P[rows, cols]                       # (n - 1, N)
    delta = Mp[:, None, :] - Mp[None, :, :]                     # [t, u, j] = M_tj - M_uj
    with np.errstate(over="ignore"):
        diff = np.where(delta <= 1.0, Pp[None, :, :] * np.expm1(np.minimum(delta, 1.0)),
                        Pp[:, None, :] - Pp[None, :, :])
    negatives = P * (A == 0)
    negatives[np.arange(M.shape[1]), np.arange(M.shape[1])] = 0.0
    return (diff.sum(axis=1) - negatives.sum(axis=0)[None, :]) / rows.shape[0]


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
    vectors ``dH`` of the same shape.  It implements the problem protocol
    (:mod:`nc_verify.objective.protocol`) with the one block ``H``, so every landscape tool
    applies; the interface mirrors
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
        # rows of column j's positives, (n - 1, N): the other members of j's class, in order
        members = np.arange(self.N).reshape(self.K, self.n)[self.labels]        # (N, n)
        self._pos_rows = members[~(members == np.arange(self.N)[:, None])].reshape(self.N, self.n - 1).T
        self._pos_cols = np.broadcast_to(np.arange(self.N), self._pos_rows.shape)
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
    def block_sizes(self) -> tuple:
        """``(N,)``: a point is the single block ``H`` (the problem protocol)."""
        return (self.N,)

    @property
    def tangent_dimension(self) -> int:
        """``(d - 1) N``."""
        return (self.d - 1) * self.N

    def known_critical_points(self, rng=None) -> dict:
        """The collapsed simplex-ETF features (needs ``d >= K - 1``), by name; empty otherwise."""
        if self.d < self.K - 1:
            return {}
        return {"collapsed simplex ETF": (self.etf_point(rng),)}

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
        _, Mc, S, P = column_softmax(np.where(np.eye(N, dtype=bool), -np.inf, M))   # over a != j
        A = self._positives
        # log sum_{a != j} exp(M_aj) - sum_p A_pj M_pj = sum_p A_pj (Mc_j - M_pj) + log1p(S_j):
        # exact zeros for positives at the dominant logit, no cancellation in log Z
        value = float(np.mean(np.sum(A * (Mc - M), axis=0) + np.log1p(S)))
        G = (P - A) / N
        G[self._pos_rows, self._pos_cols] = _positive_gradient(M, P, A, self._pos_rows, self._pos_cols) / N
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

    def orbit_dimension(self, H) -> int:
        """Dimension of the orbit of ``H`` under a common rotation (the symmetry of the loss)."""
        return symmetry_orbit_dimension(H)

    def gradient_scale(self, H) -> float:
        """Size of the terms that cancel in the gradient: ``||tau H (G + G^T)|| + ||H ddiag(M (G + G^T))||``."""
        H = self.check_point(H)
        s = self._state(H)
        return float(np.linalg.norm(self.tau * (H @ s.sym_grad)) + np.linalg.norm(H * s.col_curvature))

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
