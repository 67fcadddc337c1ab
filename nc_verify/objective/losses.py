"""Losses of the logit matrix ``M = tau W^T H`` and their derivatives in ``M``.

Problem (4) only touches the loss through ``g(M)`` (paper, Section 2), its gradient
``grad g(M)`` and its Hessian ``hess g(M)[dM]``, and the two diagonals
``diag(M grad g(M)^T)`` (classifier curvature term of eq. (8)) and
``diag(M^T grad g(M))`` (feature curvature term of eq. (8)).  A loss object maps
``(M, labels)`` to a :class:`LossState` holding exactly these quantities, so the
problem, its Riemannian derivatives and every tool above them are written once.

The loss protocol
-----------------
A loss is an object with

* ``name`` (str) and ``spec`` (str, e.g. ``"focal:2"``; :func:`get_loss` parses it back);
* ``__call__(M, labels) -> LossState`` for ``M`` of shape (K, N) and integer
  ``labels`` of shape (N,): the value ``g(M)`` (mean over the ``N`` samples), the
  gradient ``grad g(M)`` (K, N), the diagonals ``row_curvature = diag(M G^T)`` (K,)
  and ``col_curvature = diag(M^T G)`` (N,), and the Hessian-vector product
  ``LossState.hvp(dM)`` for ``dM`` of shape (..., K, N) (batched);
* ``autograd_value(M, labels)``: the same ``g(M)`` written with ``autograd.numpy``,
  so that pymanopt's autograd backend and the derivative checks can differentiate
  it independently of the hand-written derivatives.

:class:`Loss` is a base class for new losses: a subclass writes ``_value_grad``
(value and gradient) and ``_hvp``; the curvature diagonals are formed from the
gradient by the base class.  Losses that depend on ``M`` only through
``softmax(M[:, j])`` set ``shift_invariant = True``; then every column of ``G``
sums to zero and ``diag(M^T G)_j = sum_i (M_ij - M_cj) G_ij`` with ``c`` the
dominant class, which avoids cancelling the large common part of the logits.

Shipped losses (each the mean over samples ``j`` of a per-sample loss of ``m = M[:, j]``
with label ``y``; ``p = softmax(m)``):

* :class:`CrossEntropy` -- ``-log p_y`` (problem (4); the default).
* :class:`LabelSmoothingCE` (``alpha`` in [0, 1)) -- ``-sum_i t_i log p_i`` with
  ``t = (1 - alpha) e_y + alpha / K``.
* :class:`FocalLoss` (``gamma >= 0``) -- ``-(1 - p_y)^gamma log p_y`` (Lin et al.,
  2017); ``gamma = 0`` is cross-entropy.  For ``0 < gamma < 1`` the Hessian is
  unbounded as ``p_y -> 1``.
* :class:`SquaredError` -- ``(1/2) ||m - e_y||^2`` (MSE to one-hot targets; not
  shift invariant).

Cross-entropy is evaluated without cancellation (see the documentation, "The mathematics",
"Cancellation-free formulas"): every quantity is formed from the probabilities of the non-dominant
classes, so ``1 - p_y`` and the curvature terms keep their relative accuracy until
``exp(-tau)`` underflows.  Label smoothing shares its Hessian (and its
cancellation-free Hessian-vector product); the focal loss forms ``1 - p_y`` the
same way.
"""

from __future__ import annotations

import numbers
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

    def hvp(self, dM: np.ndarray) -> np.ndarray:
        """``hess g(M)[dM]`` for ``dM`` of shape ``(..., K, N)`` (leading batch axes allowed)."""
        raise NotImplementedError

    def second_order_form(self, dM: np.ndarray) -> float:
        """``<dM, hess g(M)[dM]>`` (first term of eq. (7))."""
        return float(np.sum(dM * self.hvp(dM)))


def _shifted(dM: np.ndarray, dominant: np.ndarray) -> np.ndarray:
    """``dM`` minus, in each column, its entry in the dominant class (batched)."""
    N = dominant.shape[-1]
    return dM - np.take_along_axis(dM, np.broadcast_to(dominant, dM.shape[:-2] + (1, N)), axis=-2)


@dataclass(frozen=True)
class SoftmaxState(LossState):
    """State of a loss whose Hessian is the softmax Hessian ``(diag p - p p^T) / N`` per column.

    Cross-entropy and label-smoothing cross-entropy.  The Hessian-vector product
    and the quadratic form shift every column by its dominant entry, so the
    softmax mean involves only the small probabilities (no cancellation).
    """

    _probs: np.ndarray
    _dominant: np.ndarray

    def hvp(self, dM: np.ndarray) -> np.ndarray:
        """``p (D - p . D) / N`` per column, ``D`` = ``dM`` shifted by its dominant entry (one temporary)."""
        p = self._probs
        D = _shifted(dM, self._dominant)
        D -= np.einsum("...kj,kj->...j", D, p)[..., None, :]
        D *= p
        D /= p.shape[1]
        return D

    def second_order_form(self, dM: np.ndarray) -> float:
        """``<dM, hess g(M)[dM]>`` as a sum of non-negative variances (first term of eq. (7))."""
        p = self._probs
        D = _shifted(dM, self._dominant)
        s = np.sum(p * D, axis=0, keepdims=True)
        return float(np.sum(p * (D - s) ** 2) / p.shape[1])


@dataclass(frozen=True)
class FocalState(LossState):
    """State of the focal loss: ``hess[dM] = (a'(p_y) p_y (D_y - s) (e_y - p) - a p (D - s)) / N``.

    ``a = -(1 - p_y)^gamma + gamma (1 - p_y)^(gamma - 1) p_y log p_y`` is the factor in
    ``grad = a (e_y - p) / N``; ``D`` is ``dM`` shifted by the dominant entry and
    ``s = p . D`` per column.
    """

    _probs: np.ndarray
    _dominant: np.ndarray
    _labels: np.ndarray
    _a: np.ndarray
    _a_prime_py: np.ndarray
    _e_minus_p: np.ndarray

    def hvp(self, dM: np.ndarray) -> np.ndarray:
        p = self._probs
        D = _shifted(dM, self._dominant)
        s = np.sum(p * D, axis=-2, keepdims=True)
        N = p.shape[1]
        idx = np.broadcast_to(self._labels[None, :], D.shape[:-2] + (1, N))
        Dy = np.take_along_axis(D, idx, axis=-2)
        return (self._a_prime_py * (Dy - s) * self._e_minus_p - self._a * p * (D - s)) / N


@dataclass(frozen=True)
class ConstantHessianState(LossState):
    """State of a loss with Hessian ``c I`` in ``M`` (the squared error: ``c = 1/N``)."""

    _scale: float

    def hvp(self, dM: np.ndarray) -> np.ndarray:
        return self._scale * dM

    def second_order_form(self, dM: np.ndarray) -> float:
        return float(self._scale * np.sum(dM * dM))


def column_softmax(M: np.ndarray):
    """Column-wise softmax of ``M`` (K, N), shifted by each column's dominant entry: the one softmax.

    Entries equal to ``-inf`` take no part (probability 0), so a masked softmax is
    ``column_softmax(where(mask, -inf, M))``.  Returns ``dom`` (1, N) the dominant
    rows, ``Mc`` (1, N) the dominant logits, ``S`` (N,) ``= Z - 1`` (the sum of the
    non-dominant exponentials, each ``<= 1``: no cancellation, so
    ``log sum_i exp(M_ij) = Mc_j + log1p(S_j)`` keeps its relative accuracy when the
    dominant term is nearly everything) and ``p`` (K, N).
    """
    N = M.shape[1]
    cols = np.arange(N)
    dom = np.argmax(M, axis=0)[None, :]
    Mc = np.take_along_axis(M, dom, axis=0)
    E = np.exp(M - Mc)                                           # <= 1, E[dom] = 1
    E_off = E.copy()
    E_off[dom[0], cols] = 0.0
    S = E_off.sum(axis=0)
    return dom, Mc, S, E / (1.0 + S)


def _softmax_parts(M: np.ndarray, labels: np.ndarray):
    """:func:`column_softmax` plus ``q`` (N,) ``= 1 - p_y`` summed over the other classes.

    Returns ``dom``, ``Mc``, ``S``, ``p`` as :func:`column_softmax` and ``q``.
    """
    cols = np.arange(M.shape[1])
    dom, Mc, S, p = column_softmax(M)
    p_off_y = p.copy()
    p_off_y[labels, cols] = 0.0
    return dom, Mc, S, p, p_off_y.sum(axis=0)


def _col_curvature_shifted(M, G, Mc):
    """``diag(M^T G)`` for a gradient with zero column sums, from logit differences."""
    return np.sum((M - Mc) * G, axis=0)


def autograd_logsumexp(M):
    """Column-wise ``log sum_i exp(M_ij)`` in ``autograd.numpy``, shifted by the column maximum.

    The independent (autograd-differentiated) evaluation of the losses' values.
    """
    import autograd.numpy as anp

    m = anp.max(M, axis=0)
    return m + anp.log(anp.sum(anp.exp(M - m), axis=0))


class Loss:
    """Base class of the losses of ``M``: see the module docstring for the protocol.

    Subclasses define ``name``, ``shift_invariant``, ``_value_grad(M, labels) ->
    (value, grad, extra)``, ``_state(M, labels, value, grad, row, col, extra)`` and
    ``autograd_value(M, labels)``.
    """

    name = "loss"
    shift_invariant = False

    @property
    def params(self) -> dict:
        """The loss's parameters (JSON-ready)."""
        return {}

    @property
    def spec(self) -> str:
        """Canonical string parsed back by :func:`get_loss`."""
        vals = list(self.params.values())
        return self.name if not vals else f"{self.name}:{vals[0]:g}"

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.params == other.params

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self.params.items())))

    def __call__(self, M: np.ndarray, labels: np.ndarray) -> LossState:
        value, grad, extra = self._value_grad(M, labels)
        row = np.sum(M * grad, axis=1)
        if self.shift_invariant:
            col = _col_curvature_shifted(M, grad, extra["Mc"])
        else:
            col = np.sum(M * grad, axis=0)
        return self._state(M, labels, value, grad, row, col, extra)


class CrossEntropy(Loss):
    """Mean softmax cross-entropy ``g(M) = (1/N) sum_j CE(M[:, j], y_j)`` (problem (4))."""

    name = "cross_entropy"
    shift_invariant = True

    def _value_grad(self, M, labels):
        N = M.shape[1]
        cols = np.arange(N)
        dom, Mc, S, p, q = _softmax_parts(M, labels)
        value = float(np.mean((Mc[0] - M[labels, cols]) + np.log1p(S)))
        grad = p.copy()
        grad[labels, cols] = -q                                  # p_y - 1 without cancellation
        return value, grad / N, {"Mc": Mc, "p": p, "dom": dom}

    def _state(self, M, labels, value, grad, row, col, extra):
        return SoftmaxState(value, grad, row, col, extra["p"], extra["dom"])

    def autograd_value(self, M, labels):
        import autograd.numpy as anp

        return anp.mean(autograd_logsumexp(M) - M[labels, np.arange(M.shape[1])])


def _check_unit_interval(alpha, name: str) -> float:
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(alpha).__name__} {alpha!r}")
    alpha = float(alpha)
    if not (np.isfinite(alpha) and 0.0 <= alpha < 1.0):
        raise ValueError(f"{name} must be in [0, 1), got {alpha!r}")
    return alpha


class LabelSmoothingCE(Loss):
    """Label-smoothing cross-entropy: targets ``t = (1 - alpha) e_y + (alpha / K) 1``.

    ``g(M) = (1/N) sum_j sum_i t_ij (M_cj - M_ij) + log(1 + S_j)`` (``c`` the dominant
    class, ``S_j`` the sum of the non-dominant exponentials): a sum of
    non-negative terms.  ``grad = (p - t) / N``; the Hessian is cross-entropy's.
    ``alpha = 0`` is cross-entropy.
    """

    name = "label_smoothing"
    shift_invariant = True

    def __init__(self, alpha: float = 0.1):
        self.alpha = _check_unit_interval(alpha, "alpha")

    @property
    def params(self) -> dict:
        return {"alpha": self.alpha}

    def _targets(self, K, N, labels):
        T = np.full((K, N), self.alpha / K)
        T[labels, np.arange(N)] += 1.0 - self.alpha
        return T

    def _value_grad(self, M, labels):
        K, N = M.shape
        cols = np.arange(N)
        dom, Mc, S, p, q = _softmax_parts(M, labels)
        T = self._targets(K, N, labels)
        value = float(np.mean(np.sum(T * (Mc - M), axis=0) + np.log1p(S)))
        grad = p - T
        # p_y - t_y = alpha (K - 1) / K - (1 - p_y), with 1 - p_y summed over the other classes
        grad[labels, cols] = self.alpha * (K - 1) / K - q
        return value, grad / N, {"Mc": Mc, "p": p, "dom": dom}

    def _state(self, M, labels, value, grad, row, col, extra):
        return SoftmaxState(value, grad, row, col, extra["p"], extra["dom"])

    def autograd_value(self, M, labels):
        import autograd.numpy as anp

        K, N = M.shape
        return anp.mean(autograd_logsumexp(M) - anp.sum(self._targets(K, N, labels) * M, axis=0))


class FocalLoss(Loss):
    """Focal loss ``-(1 - p_y)^gamma log p_y`` per sample (Lin et al., 2017), mean over samples.

    ``grad = a (e_y - p) / N`` with ``a = gamma q^(gamma-1) p_y log p_y - q^gamma``,
    ``q = 1 - p_y`` formed as the sum of the other probabilities (no cancellation)
    and ``log p_y`` from the shifted logits.  ``gamma = 0`` is cross-entropy.
    """

    name = "focal"
    shift_invariant = True

    def __init__(self, gamma: float = 2.0):
        if isinstance(gamma, (bool, np.bool_)) or not isinstance(gamma, numbers.Real):
            raise TypeError(f"gamma must be a real number, got {type(gamma).__name__} {gamma!r}")
        gamma = float(gamma)
        if not (np.isfinite(gamma) and gamma >= 0.0):
            raise ValueError(f"gamma must be finite and >= 0, got {gamma!r}")
        self.gamma = gamma

    @property
    def params(self) -> dict:
        return {"gamma": self.gamma}

    def _value_grad(self, M, labels):
        K, N = M.shape
        cols = np.arange(N)
        g = self.gamma
        dom, Mc, S, p, q = _softmax_parts(M, labels)
        py = p[labels, cols]
        log_py = M[labels, cols] - Mc[0] - np.log1p(S)           # <= 0, accurate as p_y -> 1
        qg = q**g
        value = float(np.mean(-qg * log_py))
        # a = gamma q^(g-1) p_y log p_y - q^g; q^(g-1) * q = q^g, so write gamma * qg * (p_y log p_y / q)
        # with (log p_y) / q -> -1 as q -> 0 (log1p(-q) / q)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(q > 0, log_py / np.where(q > 0, q, 1.0), -1.0)   # log(p_y) / (1 - p_y)
        a = g * qg * py * r - qg
        # a'(p_y) = gamma q^(g-1) [-(g-1) p_y r + log p_y + 2]  (derivative of a in p_y)
        if g == 0.0:
            a_prime = np.zeros(N)
        else:
            with np.errstate(divide="ignore"):
                a_prime = g * q ** (g - 1.0) * (-(g - 1.0) * py * r + log_py + 2.0)
        e_minus_p = -p
        e_minus_p[labels, cols] = q                              # 1 - p_y without cancellation
        grad = a * e_minus_p / N
        extra = {"Mc": Mc, "p": p, "dom": dom, "a": a, "a_prime_py": a_prime * py, "e_minus_p": e_minus_p}
        return value, grad, extra

    def _state(self, M, labels, value, grad, row, col, extra):
        return FocalState(value, grad, row, col, extra["p"], extra["dom"], np.asarray(labels),
                          extra["a"], extra["a_prime_py"], extra["e_minus_p"])

    def autograd_value(self, M, labels):
        import autograd.numpy as anp

        log_py = M[labels, np.arange(M.shape[1])] - autograd_logsumexp(M)
        q = 1.0 - anp.exp(log_py)
        return anp.mean(-(q**self.gamma) * log_py)


class SquaredError(Loss):
    """Squared error to one-hot targets: ``g(M) = (1/(2N)) ||M - Y||_F^2``; ``grad = (M - Y)/N``."""

    name = "mse"
    shift_invariant = False

    def _value_grad(self, M, labels):
        K, N = M.shape
        R = M.copy()
        R[labels, np.arange(N)] -= 1.0
        return float(0.5 * np.sum(R * R) / N), R / N, {}

    def _state(self, M, labels, value, grad, row, col, extra):
        return ConstantHessianState(value, grad, row, col, 1.0 / M.shape[1])

    def autograd_value(self, M, labels):
        import autograd.numpy as anp

        K, N = M.shape
        Y = np.zeros((K, N))
        Y[labels, np.arange(N)] = 1.0
        return 0.5 * anp.sum((M - Y) ** 2) / N


CROSS_ENTROPY = CrossEntropy()

#: Loss names accepted by :func:`get_loss`, with the parameter that follows ``":"``.
LOSSES = {
    "cross_entropy": (CrossEntropy, None),
    "label_smoothing": (LabelSmoothingCE, "alpha"),
    "focal": (FocalLoss, "gamma"),
    "mse": (SquaredError, None),
}
_ALIASES = {"ce": "cross_entropy"}


def get_loss(spec) -> Loss:
    """A loss from a spec string ``"name"`` or ``"name:value"`` (or a loss object, returned as is).

    Names: ``cross_entropy`` (alias ``ce``), ``label_smoothing:ALPHA``, ``focal:GAMMA``,
    ``mse``.  A loss with a parameter needs it written out: a bare ``"label_smoothing"``
    or ``"focal"`` raises ``ValueError`` naming the expected spelling (no silent default).
    """
    if isinstance(spec, Loss):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"loss must be a loss object or a spec string, got {type(spec).__name__}")
    name, _, value = spec.strip().partition(":")
    name = _ALIASES.get(name, name)
    if name not in LOSSES:
        valid = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"unknown loss {spec!r}; valid: {valid} (parameter after ':')")
    cls, param = LOSSES[name]
    if not value and param is not None:
        raise ValueError(f"loss {spec!r} needs its {param}: write {name}:{param.upper()} "
                         f"(e.g. '{name}:{ {'alpha': 0.1, 'gamma': 2}.get(param, 1)}')")
    if not value:
        return cls()
    if param is None:
        raise ValueError(f"loss {name!r} takes no parameter, got {spec!r}")
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"loss {spec!r}: {param} must be a number, got {value!r}") from None
    return cls(x)
