"""Losses of the logit matrix ``M = tau W^T H`` and their derivatives in ``M``.

Problem (4) only touches the loss through ``g(M)`` (paper, Section 2), its gradient
``grad g(M)`` and its Hessian ``hess g(M)[dM]``, and the two diagonals
``diag(M grad g(M)^T)`` (classifier curvature term of eq. (8)) and
``diag(M^T grad g(M))`` (feature curvature term of eq. (8)).  A loss object maps
``(M, labels)`` to a :class:`LossState` holding exactly these quantities, so the
problem, its Riemannian derivatives and every tool above them are written once.

Cross-entropy is evaluated without cancellation (see the package README,
"Numerics"): every quantity is formed from the probabilities of the non-dominant
classes, so ``1 - p_y`` and the curvature terms keep their relative accuracy until
``exp(-tau)`` underflows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LossState:
    """Loss quantities at one logit matrix.

    Attributes
    ----------
    value : float
        ``g(M)``, the mean loss over the ``N`` samples.
    grad : ndarray, shape (K, N)
        ``grad g(M)``.
    row_curvature : ndarray, shape (K,)
        ``diag(M grad g(M)^T)``; eq. (8) subtracts ``dW ddiag(.)``.
    col_curvature : ndarray, shape (N,)
        ``diag(M^T grad g(M))``; eq. (8) subtracts ``dH ddiag(.)``.
    """

    value: float
    grad: np.ndarray
    row_curvature: np.ndarray
    col_curvature: np.ndarray
    _probs: np.ndarray
    _dominant: np.ndarray

    def hvp(self, dM: np.ndarray) -> np.ndarray:
        """``hess g(M)[dM]`` for ``dM`` of shape ``(..., K, N)`` (leading batch axes allowed)."""
        p = self._probs
        N = p.shape[1]
        # shift each column by its entry in the dominant class: D_c = 0, so the
        # softmax mean s = sum_l p_l D_l only involves the small probabilities.
        D = dM - np.take_along_axis(dM, np.broadcast_to(self._dominant, dM.shape[:-2] + (1, N)), axis=-2)
        s = np.sum(p * D, axis=-2, keepdims=True)
        return p * (D - s) / N

    def second_order_form(self, dM: np.ndarray) -> float:
        """``<dM, hess g(M)[dM]>`` as a sum of non-negative variances (first term of eq. (7))."""
        p = self._probs
        N = p.shape[1]
        D = dM - np.take_along_axis(dM, self._dominant, axis=0)
        s = np.sum(p * D, axis=0, keepdims=True)
        return float(np.sum(p * (D - s) ** 2) / N)


class CrossEntropy:
    """Mean softmax cross-entropy ``g(M) = (1/N) sum_j CE(M[:, j], y_j)`` (problem (4))."""

    name = "cross_entropy"

    def __call__(self, M: np.ndarray, labels: np.ndarray) -> LossState:
        K, N = M.shape
        cols = np.arange(N)
        dom = np.argmax(M, axis=0)[None, :]                      # (1, N)
        Mc = np.take_along_axis(M, dom, axis=0)                  # (1, N)
        E = np.exp(M - Mc)                                       # <= 1, E[dom] = 1
        E_off = E.copy()
        E_off[dom[0], cols] = 0.0
        S = E_off.sum(axis=0)                                    # Z - 1, no cancellation
        p = E / (1.0 + S)
        My = M[labels, cols]
        value = float(np.mean((Mc[0] - My) + np.log1p(S)))

        grad = p.copy()
        p_off_y = p.copy()
        p_off_y[labels, cols] = 0.0
        grad[labels, cols] = -p_off_y.sum(axis=0)                # p_y - 1 without cancellation
        grad /= N

        p_off_c = p.copy()
        p_off_c[dom[0], cols] = 0.0
        col_curv = (np.sum(p_off_c * (M - Mc), axis=0) + (Mc[0] - My)) / N
        row_curv = np.sum(M * grad, axis=1)
        return LossState(value, grad, row_curv, col_curv, p, dom)


CROSS_ENTROPY = CrossEntropy()
