"""Problem (4): cross-entropy over unit-norm classifiers and features, and its derivatives.

    minimise  f(W, H) = (1/N) sum_{k,i} CE(tau W^T h_{k,i}, y_k)
    over      W in OB(d, K),  H in OB(d, N),  N = K n,

with ``M = tau W^T H`` and ``g(M) = f(W, H)``.  The Riemannian gradient is eqs.
(5)-(6) (eq. (5) corrected: its ``grad g(W)`` must read ``grad g(M)``), and the
Riemannian Hessian is the operator whose quadratic form is eqs. (7)-(8).
"""

from __future__ import annotations

import numpy as np

from nc_verify.objective.closed_forms import theorem1_bound
from nc_verify.objective.families import critical_point_families
from nc_verify.objective.losses import CROSS_ENTROPY, CrossEntropy, LossState, get_loss
from nc_verify.objective.metrics import nc_metrics
from nc_verify.objective.oblique import project_columns, symmetry_orbit_dimension
from nc_verify.utils.validation import (
    as_rng,
    check_choice,
    check_int,
    check_matrix,
    check_positive_float,
    check_unit_columns,
)

BACKENDS = ("analytic", "autograd")


def _gradient_terms(tau, W, H, G, row_curvature, col_curvature):
    """The four terms of eqs. (5)-(6): ``tau H G^T``, ``W ddiag(M G^T)``, ``tau W G``, ``H ddiag(M^T G)``."""
    return (tau * (H @ np.swapaxes(G, -1, -2)), W * row_curvature[..., None, :],
            tau * (W @ G), H * col_curvature[..., None, :])


def riemannian_gradient_from(tau, W, H, G, row_curvature, col_curvature):
    """Eqs. (5)-(6) from the loss quantities: the one place of the Riemannian gradient's formula.

    ``grad_W f = tau H G^T - W ddiag(M G^T)`` (eq. (5) with ``grad g(M)`` for the
    misprinted ``grad g(W)``) and ``grad_H f = tau W G - H ddiag(M^T G)`` (eq. (6)).

    Parameters
    ----------
    tau : float
    W, H : ndarray, shapes (..., d, K), (..., d, N)
    G : ndarray, shape (..., K, N)
        ``grad g(M)``.
    row_curvature, col_curvature : ndarray, shapes (..., K), (..., N)
        ``diag(M G^T)`` and ``diag(M^T G)``.

    Returns
    -------
    tuple of ndarray, shapes (..., d, K), (..., d, N)
    """
    a, b, c, e = _gradient_terms(tau, W, H, G, row_curvature, col_curvature)
    return a - b, c - e


def _fro(X):
    return np.sqrt(np.sum(X * X, axis=(-2, -1)))


def gradient_terms_scale(tau, W, H, G, row_curvature, col_curvature):
    """Size of the terms that cancel in eqs. (5)-(6), for rounding estimates (batched like :func:`riemannian_gradient_from`).

    ``||tau H G^T|| + ||W ddiag(M G^T)|| + ||tau W G|| + ||H ddiag(M^T G)||`` (Frobenius
    norms), one value per point: shape ``(...)``.
    """
    return sum(_fro(X) for X in _gradient_terms(tau, W, H, G, row_curvature, col_curvature))


def riemannian_gradient_and_scale(tau, W, H, G, row_curvature, col_curvature):
    """:func:`riemannian_gradient_from` and :func:`gradient_terms_scale` from one evaluation of the
    four terms: ``(grad_W f, grad_H f, scale)``."""
    a, b, c, e = _gradient_terms(tau, W, H, G, row_curvature, col_curvature)
    return a - b, c - e, _fro(a) + _fro(b) + _fro(c) + _fro(e)


def batched_loss_quantities(problem: "UFMProblem", W: np.ndarray, H: np.ndarray, *, hessian_blocks: bool):
    """Loss quantities of problem (4) at ``B`` points at once (one call of the loss).

    The logit matrices are placed side by side, ``[M_1, ..., M_B]`` of shape (K, B N),
    with the labels repeated: every loss of :mod:`nc_verify.objective.losses` is a mean of
    per-sample losses of one column, so its gradient, column curvature and column
    Hessians are those of the single points divided by ``B`` (multiplied back here).
    The row curvature ``diag(M_b G_b^T)`` sums over a point's own columns and is formed
    per point.

    Parameters
    ----------
    problem : UFMProblem
    W, H : ndarray, shapes (B, d, K), (B, d, N)
    hessian_blocks : bool
        Also return the column Hessians (:func:`column_hessians`).

    Returns
    -------
    G : ndarray, shape (B, K, N)
    row_curvature, col_curvature : ndarray, shapes (B, K), (B, N)
    blocks : ndarray of shape (B, N, K, K), or None
    """
    nb, K, N = W.shape[0], problem.K, problem.N
    M = problem.tau * (np.swapaxes(W, -1, -2) @ H)
    s = problem.loss(np.swapaxes(M, 0, 1).reshape(K, nb * N), np.tile(problem.labels, nb))
    G = nb * np.swapaxes(s.grad.reshape(K, nb, N), 0, 1)
    col = nb * s.col_curvature.reshape(nb, N)
    row = np.sum(M * G, axis=-1)
    blocks = nb * column_hessians(s, K, nb * N).reshape(nb, N, K, K) if hessian_blocks else None
    return G, row, col, blocks


def batched_costs(problem: "UFMProblem", W: np.ndarray, H: np.ndarray) -> np.ndarray:
    """``f(W_b, H_b)`` of problem (4) at each of ``B`` points, shape (B,) (the loss's own value, point by point).

    ``W``, ``H`` of shapes (B, d, K), (B, d, N), validated by the caller.  The logits are
    formed in one batched product; the loss is a mean over its columns, so each point's
    value is one call of the loss on its own ``K x N`` block.
    """
    M = problem.tau * (np.swapaxes(W, -1, -2) @ H)
    return np.array([problem.loss(m, problem.labels).value for m in M])


def column_hessians(state: LossState, K: int, N: int) -> np.ndarray:
    """``hess g(M)`` as its ``N`` diagonal blocks: ``(hess_j)_{ik} = d^2 g / dM_ij dM_kj``.

    Every shipped loss is a mean of per-sample losses of one column of ``M``, so
    ``hess g(M)`` is block diagonal over the columns.  The blocks come from ``K``
    batched :meth:`LossState.hvp` calls on ``dM = e_k 1^T`` (one place for each
    loss's second derivative; for cross-entropy the product's dominant-entry shift
    gives the diagonal ``p_i sum_{l != i} p_l`` without cancellation), symmetrised.

    Returns
    -------
    ndarray, shape (N, K, K)
    """
    E = np.zeros((K, K, N))
    E[np.arange(K), np.arange(K), :] = 1.0
    blocks = np.transpose(state.hvp(E), (2, 1, 0))          # [j, i, k] = (hess_j)_{ik}
    return 0.5 * (blocks + np.swapaxes(blocks, -1, -2))


def riemannian_hessian_matrix(tau, W, H, G, blocks, row_curvature, col_curvature, UW, UH):
    """The Riemannian Hessian (eqs. (7)-(8)) as a dense matrix, assembled from its closed-form blocks.

    With ``M = tau W^T H``, ``f = g(M)`` and ``hess g(M)`` block diagonal over the
    columns (``blocks[j]``, :func:`column_hessians`), the Euclidean Hessian is

    * ``d^2 f / dw_k dw_l = tau^2 sum_j (hess_j)_{kl} h_j h_j^T``,
    * ``d^2 f / dh_i dh_j = delta_ij tau^2 W hess_j W^T``,
    * ``d^2 f / dw_k dh_j = tau^2 h_j (W hess_j e_k)^T + tau G_kj I``

    (Kronecker structure in ``W`` and ``H``).  In orthonormal bases ``U_c`` of the
    columns' tangent spaces ``x_c^perp`` the tangent projection of eq. (8) drops out
    (``U_c^T P = U_c^T``) and the curvature terms are ``-diag(M G^T)_k I`` and
    ``-diag(M^T G)_j I`` on the diagonal blocks.  Leading batch axes are allowed
    on every argument.

    Parameters
    ----------
    tau : float
    W, H : ndarray, shapes (..., d, K), (..., d, N)
    G : ndarray, shape (..., K, N)
        ``grad g(M)``.
    blocks : ndarray, shape (..., N, K, K)
        :func:`column_hessians`.
    row_curvature, col_curvature : ndarray, shapes (..., K), (..., N)
        ``diag(M G^T)`` and ``diag(M^T G)`` (the loss state's cancellation-free values).
    UW, UH : ndarray, shapes (..., K, d, d - 1), (..., N, d, d - 1)
        Orthonormal bases of the tangent spaces of the columns of ``W`` and ``H``.

    Returns
    -------
    ndarray, shape (..., T, T), ``T = (d - 1)(K + N)``
        Coordinate ``c (d - 1) + a`` is basis vector ``a`` of column ``c`` (``W`` first);
        exactly symmetric.
    """
    lead = W.shape[:-2]
    d, K = W.shape[-2:]
    N = H.shape[-1]
    r = d - 1
    tw, th = K * r, N * r
    tau2 = tau * tau
    AW = np.swapaxes(UW, -1, -2) @ H[..., None, :, :]                 # [k, a, j] = U_k^T h_j
    BH = np.swapaxes(UH, -1, -2) @ W[..., None, :, :]                 # [j, a, k] = U_j^T w_k
    CH = BH @ blocks                                                  # [j, a, k] = U_j^T W hess_j e_k
    A = np.empty(lead + (tw + th, tw + th))
    # W-W: tau^2 sum_j (hess_j)_{kl} (U_k^T h_j)(U_l^T h_j)^T, for each l one product over j:
    #   [l, (k, a), b] = sum_j (AW[k, a, j] hess_j[k, l]) AW[l, b, j]   (hess_j symmetric)
    X = AW[..., None, :, :, :] * np.moveaxis(blocks, -3, -1)[..., :, :, None, :]   # [l, k, a, j]
    WW = X.reshape(lead + (K, tw, N)) @ np.swapaxes(AW, -1, -2)       # [l, (k, a), b]
    WW = np.moveaxis(WW, -3, -2).reshape(lead + (tw, tw))
    np.add(WW, np.swapaxes(WW, -1, -2), out=A[..., :tw, :tw])
    A[..., :tw, :tw] *= 0.5 * tau2
    # W-H: tau^2 (U_k^T h_j)(U_j^T W hess_j e_k)^T + tau G_kj U_k^T U_j
    cross = (np.swapaxes(UW, -2, -3).reshape(lead + (d, tw)).swapaxes(-1, -2)
             @ np.swapaxes(UH, -2, -3).reshape(lead + (d, th))).reshape(lead + (K, r, N, r))
    cross *= tau * G[..., :, None, :, None]
    cross += tau2 * (AW[..., :, :, :, None] * np.moveaxis(CH, -1, -3)[..., :, None, :, :])
    WH = cross.reshape(lead + (tw, th))
    A[..., :tw, tw:] = WH
    A[..., tw:, :tw] = np.swapaxes(WH, -1, -2)
    # H-H: block diagonal, tau^2 U_j^T W hess_j W^T U_j
    HH = CH @ np.swapaxes(BH, -1, -2)
    HH = tau2 * 0.5 * (HH + np.swapaxes(HH, -1, -2))
    A[..., tw:, tw:] = 0.0
    j = np.arange(N)
    A[..., tw:, tw:].reshape(lead + (N, r, N, r))[..., j, :, j, :] = np.moveaxis(HH, -3, 0) if lead else HH
    # curvature terms of eq. (8)
    i = np.arange(tw + th)
    A[..., i, i] -= np.concatenate([np.repeat(row_curvature, r, axis=-1), np.repeat(col_curvature, r, axis=-1)],
                                   axis=-1)
    return A


class HessianOperator:
    """The Riemannian Hessian of problem (4) at one point, with point quantities cached.

    Calling it on ``(dW, dH)`` of shapes ``(..., d, K)`` and ``(..., d, N)`` (tangent
    vectors, optionally batched) returns ``Hess f(W, H)[dW, dH]``: six products of
    the size of ``W^T H`` (the floor of the formula: two for ``dM``, two for each
    output block), a few passes over ``K x N`` arrays and one over ``H``, ``dH`` and
    the ``d x N`` output, with no ``d x N`` temporary
    (``benchmarks/bench_products.py`` measures it).  Obtain one with
    :meth:`UFMProblem.hessian_operator`.  The operator keeps work arrays between
    calls: one operator serves one thread.
    """

    #: Rows of the ``d x N`` output scaled per step in :meth:`__call__`, so that a
    #: step's temporary stays in cache.
    ROW_BLOCK = 32

    def __init__(self, problem: "UFMProblem", W: np.ndarray, H: np.ndarray, state: LossState):
        self.problem = problem
        self.W = W
        self.H = H
        self.state = state
        self._tau_G = problem.tau * state.grad
        self._WtH = W.T @ H
        self._stacks = None

    def _stacked(self, lead: tuple):
        """Arrays ``[., W]`` (..., d, 2K) and ``[tau G; .]`` (..., 2K, N) whose blank halves each call fills.

        With them ``tau (dW G + W dG)`` is one product of inner dimension ``2K``; the
        pair is kept for unbatched calls, so the fixed halves are copied once.
        """
        if lead == () and self._stacks is not None:
            return self._stacks
        (d, K), N = self.W.shape, self.H.shape[1]
        left = np.empty(lead + (d, 2 * K))
        left[..., K:] = self.W
        right = np.empty(lead + (2 * K, N))
        right[..., :K, :] = self._tau_G
        if lead == ():
            self._stacks = (left, right)
        return left, right

    def _products(self, dW: np.ndarray, dH: np.ndarray):
        """Euclidean Hessian-vector product ``(E_W, E_H)`` and ``dW^T H``, ``tau dG`` (reused by :meth:`__call__`).

        ``dM = dW^T H + W^T dH``, ``tau dG = tau^2 hess g(M)[dM]`` (``hess g`` is
        linear), ``E_W = dH (tau G)^T + H (tau dG)^T`` and
        ``E_H = [dW, W] [tau G; tau dG]``.  ``tau dG`` is a view of a work array,
        valid until the next call.
        """
        tau, W, H = self.problem.tau, self.W, self.H
        K = W.shape[1]
        left, right = self._stacked(np.broadcast_shapes(dW.shape[:-2], dH.shape[:-2]))
        dWtH = np.swapaxes(dW, -1, -2) @ H
        tau_dG = right[..., K:, :]
        np.multiply(self.state.hvp(dWtH + W.T @ dH), tau * tau, out=tau_dG)
        EW = dH @ self._tau_G.T + H @ np.swapaxes(tau_dG, -1, -2)
        left[..., :K] = dW
        return EW, left @ right, dWtH, tau_dG

    def matrix(self, UW: np.ndarray, UH: np.ndarray) -> np.ndarray:
        """The operator as a dense matrix in per-column tangent bases (:func:`riemannian_hessian_matrix`).

        ``UW``, ``UH``: shapes (K, d, d - 1), (N, d, d - 1), orthonormal bases of the
        columns' tangent spaces.  Returns shape (T, T), ``T = (d - 1)(K + N)``.
        """
        p, s = self.problem, self.state
        return riemannian_hessian_matrix(p.tau, self.W, self.H, s.grad, column_hessians(s, p.K, p.N),
                                         s.row_curvature, s.col_curvature, UW, UH)

    def euclidean(self, dW: np.ndarray, dH: np.ndarray):
        """Euclidean Hessian-vector product ``(d/dt) grad f`` along ``(dW, dH)``."""
        return self._products(dW, dH)[:2]

    def __call__(self, dW: np.ndarray, dH: np.ndarray):
        hW, hH, dWtH, tau_dG = self._products(dW, dH)
        W, H, s = self.W, self.H, self.state
        hW -= W * np.einsum("...ij,...ij->...j", W, hW)[..., None, :]
        hW -= dW * s.row_curvature
        # diag(H^T E_H) from K x N quantities: h_j . (tau dW G + tau W dG)_j
        #   = sum_k (dW^T H)_kj tau G_kj + (W^T H)_kj tau dG_kj   (no pass over d x N)
        c = (np.einsum("...kj,kj->...j", dWtH, self._tau_G)
             + np.einsum("kj,...kj->...j", self._WtH, tau_dG))[..., None, :]
        # hH -= H ddiag(c) + dH ddiag(diag(M^T G)), a block of rows at a time
        rows = self.ROW_BLOCK
        work = np.empty(hH.shape[:-2] + (rows, hH.shape[-1]))
        for start in range(0, hH.shape[-2], rows):
            b = slice(start, start + rows)
            out = hH[..., b, :]
            w = work[..., : out.shape[-2], :]
            out -= np.multiply(H[b], c, out=w)
            out -= np.multiply(dH[..., b, :], s.col_curvature, out=w)
        return hW, hH


class UFMProblem:
    """Problem (4) for ``K`` balanced classes of ``n`` samples in dimension ``d``.

    Parameters
    ----------
    d, K, n : int
        Feature dimension (>= 2), number of classes (>= 2), samples per class (>= 1).
    tau : float
        Temperature (finite, > 0).
    loss : loss object or spec string, optional
        A loss of the logit matrix ``M`` following the protocol of
        :mod:`nc_verify.objective.losses` (default cross-entropy, problem (4)); e.g.
        ``"focal:2"`` or ``LabelSmoothingCE(0.1)``.  Every derivative goes through it.

    Attributes
    ----------
    N : int
        ``K n``, the number of samples.
    labels : ndarray of int, shape (N,)
        Sample ``j`` belongs to class ``j // n``.
    manifold : pymanopt.manifolds.Product
        ``Product([Oblique(d, K), Oblique(d, N)])``.

    Notes
    -----
    Points are pairs ``(W, H)`` with ``W`` of shape (d, K) and ``H`` of shape (d, N),
    unit columns to within :data:`nc_verify.utils.validation.UNIT_NORM_TOL`.
    """

    def __init__(self, d: int, K: int, n: int, tau: float, *, loss=None):
        self.d = check_int(d, "d", 2)
        self.K = check_int(K, "K", 2)
        self.n = check_int(n, "n", 1)
        self.tau = check_positive_float(tau, "tau")
        self.N = self.K * self.n
        self.labels = np.repeat(np.arange(self.K), self.n)
        self.loss = CROSS_ENTROPY if loss is None else get_loss(loss)
        self._manifold = None
        self._cache = None

    def __repr__(self) -> str:
        extra = "" if isinstance(self.loss, CrossEntropy) else f", loss={self.loss.spec!r}"
        return f"UFMProblem(d={self.d}, K={self.K}, n={self.n}, tau={self.tau!r}{extra})"

    # ------------------------------------------------------------------ set-up
    @property
    def manifold(self):
        """``pymanopt.manifolds.Product([Oblique(d, K), Oblique(d, N)])``."""
        if self._manifold is None:
            from pymanopt.manifolds import Oblique, Product

            self._manifold = Product([Oblique(self.d, self.K), Oblique(self.d, self.N)])
        return self._manifold

    @property
    def bound(self):
        """Theorem 1's lower bound at this ``(K, tau)``; attained iff NC1-NC3 hold (``d >= K``).

        ``None`` for a loss other than cross-entropy: Theorem 1 is about
        cross-entropy, and no closed-form minimum value is known for the others.
        """
        if not isinstance(self.loss, CrossEntropy):
            return None
        return theorem1_bound(self.K, self.tau)

    @property
    def bound_attained(self) -> bool:
        """Whether :attr:`bound` is the minimum value: ``d >= K - 1`` (a simplex ETF fits)."""
        return self.d >= self.K - 1

    @property
    def block_sizes(self) -> tuple:
        """``(K, N)``: unit columns of the two blocks ``W`` and ``H`` (the problem protocol)."""
        return (self.K, self.N)

    @property
    def tangent_dimension(self) -> int:
        """Dimension ``(d - 1)(K + N)`` of the tangent space of the product manifold."""
        return (self.d - 1) * (self.K + self.N)

    def resized(self, d: int | None = None, n: int | None = None) -> "UFMProblem":
        """The same classes, temperature and loss with features in ``R^d`` and ``n`` samples per class.

        ``None`` keeps the size.  The search solves the ``(r, K, n)`` problems ``r <= K``
        and embeds their critical points (:mod:`nc_verify.landscape.embedding`), and the
        ``(r, K, n')`` problems, ``n'`` a divisor of ``n``, whose points lift to points
        with coinciding features.
        """
        d = self.d if d is None else check_int(d, "d", 2)
        n = self.n if n is None else check_int(n, "n", 1)
        if (d, n) == (self.d, self.n):
            return self
        return UFMProblem(d, self.K, n, self.tau, loss=self.loss)

    def known_critical_points(self, rng=None) -> dict:
        """The exact critical points of :mod:`nc_verify.objective.families`, by name (``(W, H)`` pairs)."""
        return critical_point_families(self, rng)

    def orbit_dimension(self, W, H) -> int:
        """Dimension of the orbit of ``(W, H)`` under a common rotation (the symmetry of problem (4))."""
        return symmetry_orbit_dimension(W, H)

    def metrics(self, W, H) -> dict:
        """NC1-NC3 at ``(W, H)`` (:func:`~nc_verify.objective.metrics.nc_metrics`), as a dict."""
        return nc_metrics(W, H, self.labels).as_dict()

    def check_point(self, W, H):
        """Validate a point: shapes (d, K) and (d, N), finite, unit columns. Returns float64 copies."""
        return (
            check_unit_columns(W, "W", (self.d, self.K)),
            check_unit_columns(H, "H", (self.d, self.N)),
        )

    def check_tangent(self, W, H, dW, dH):
        """Validate a direction's shapes and finiteness and project it onto the tangent space."""
        dW = check_matrix(dW, "dW", (self.d, self.K))
        dH = check_matrix(dH, "dH", (self.d, self.N))
        return project_columns(W, dW), project_columns(H, dH)

    def random_point(self, rng=None):
        """A point with i.i.d. uniform columns on the sphere; ``rng``: Generator, seed or None."""
        rng = as_rng(rng)
        W = rng.standard_normal((self.d, self.K))
        H = rng.standard_normal((self.d, self.N))
        return W / np.linalg.norm(W, axis=0), H / np.linalg.norm(H, axis=0)

    def random_tangent(self, W, H, rng=None):
        """A random unit-norm tangent vector ``(dW, dH)`` at ``(W, H)``."""
        rng = as_rng(rng)
        dW = project_columns(W, rng.standard_normal(W.shape))
        dH = project_columns(H, rng.standard_normal(H.shape))
        nrm = np.sqrt(np.sum(dW**2) + np.sum(dH**2))
        return dW / nrm, dH / nrm

    # ---------------------------------------------------------------- internals
    def logits(self, W, H) -> np.ndarray:
        """``M = tau W^T H``, shape (K, N)."""
        return self.tau * (W.T @ H)

    def _state(self, W: np.ndarray, H: np.ndarray) -> LossState:
        """Loss quantities at ``(W, H)``, cached for the most recent point."""
        c = self._cache
        if c is not None and np.array_equal(c[0], W) and np.array_equal(c[1], H):
            return c[2]
        state = self.loss(self.logits(W, H), self.labels)
        self._cache = (W.copy(), H.copy(), state)
        return state

    # -------------------------------------------------------------- public math
    def cost(self, W, H) -> float:
        """``f(W, H)`` of problem (4), by a cancellation-free log-sum-exp."""
        W, H = self.check_point(W, H)
        return self._state(W, H).value

    def _euclidean_gradient(self, W: np.ndarray, H: np.ndarray):
        """``(tau H G^T, tau W G)`` at a validated point."""
        G = self._state(W, H).grad
        return self.tau * (H @ G.T), self.tau * (W @ G)

    def euclidean_gradient(self, W, H):
        """Euclidean gradient ``(tau H G^T, tau W G)`` with ``G = grad g(M)``; shapes (d, K), (d, N)."""
        return self._euclidean_gradient(*self.check_point(W, H))

    def riemannian_gradient(self, W, H):
        """Riemannian gradient, eqs. (5)-(6).

        ``grad_W f = tau H G^T - W ddiag(M G^T)`` (eq. (5) with ``grad g(M)`` for the
        misprinted ``grad g(W)``) and ``grad_H f = tau W G - H ddiag(M^T G)`` (eq. (6)),
        where ``tau W ddiag(W^T H G^T) = W ddiag(M G^T)``.  Returns shapes (d, K), (d, N).
        """
        W, H = self.check_point(W, H)
        s = self._state(W, H)
        return riemannian_gradient_from(self.tau, W, H, s.grad, s.row_curvature, s.col_curvature)

    def gradient_scale(self, W, H) -> float:
        """Size of the terms that cancel in ``grad f`` (eqs. (5)-(6)), for rounding estimates.

        ``||tau H G^T|| + ||W ddiag(M G^T)|| + ||tau W G|| + ||H ddiag(M^T G)||`` (Frobenius).
        """
        W, H = self.check_point(W, H)
        s = self._state(W, H)
        return float(gradient_terms_scale(self.tau, W, H, s.grad, s.row_curvature, s.col_curvature))

    def gradient_norm(self, W, H) -> float:
        """Norm of the Riemannian gradient (Frobenius over both blocks)."""
        gW, gH = self.riemannian_gradient(W, H)
        return float(np.sqrt(np.sum(gW**2) + np.sum(gH**2)))

    def hessian_operator(self, W, H) -> HessianOperator:
        """The Riemannian Hessian at ``(W, H)`` as a reusable (batched) operator."""
        W, H = self.check_point(W, H)
        return HessianOperator(self, W, H, self._state(W, H))

    def euclidean_hessian(self, W, H, dW, dH):
        """Euclidean Hessian-vector product along ``(dW, dH)`` (ambient, shapes (d, K), (d, N))."""
        W, H = self.check_point(W, H)
        dW = check_matrix(dW, "dW", (self.d, self.K))
        dH = check_matrix(dH, "dH", (self.d, self.N))
        return HessianOperator(self, W, H, self._state(W, H)).euclidean(dW, dH)

    def riemannian_hessian(self, W, H, dW, dH):
        """Riemannian Hessian applied to a tangent vector; its quadratic form is eqs. (7)-(8).

        ``Hess f[dW, dH] = (P_W(E_W) - dW ddiag(M G^T), P_H(E_H) - dH ddiag(M^T G))`` where
        ``(E_W, E_H)`` is the Euclidean Hessian-vector product and ``P`` the tangent
        projection.  ``(dW, dH)`` is projected onto the tangent space first, so the map
        is symmetric on the ambient space; the output is tangent.
        """
        op = self.hessian_operator(W, H)
        dW, dH = self.check_tangent(op.W, op.H, dW, dH)
        return op(dW, dH)

    def hessian_quadratic_form(self, W, H, dW, dH) -> float:
        """``Hess f(W, H)[Delta, Delta]`` written term by term as eqs. (7)-(8).

        ``<hess g(M)[D], D> + 2 tau <G, dW^T dH> - <dW ddiag(M G^T), dW> - <dH ddiag(M^T G), dH>``
        with ``D = tau (W^T dH + dW^T H)``; the first term is summed as non-negative
        softmax variances, without cancellation.  ``(dW, dH)`` must be tangent (it is
        projected).
        """
        W, H = self.check_point(W, H)
        dW, dH = self.check_tangent(W, H, dW, dH)
        s = self._state(W, H)
        D = self.tau * (W.T @ dH + dW.T @ H)
        return (
            s.second_order_form(D)
            + 2.0 * self.tau * float(np.sum(s.grad * (dW.T @ dH)))
            - float(np.sum(dW**2 * s.row_curvature))
            - float(np.sum(dH**2 * s.col_curvature))
        )

    # ----------------------------------------------------------------- pymanopt
    def to_pymanopt(self, backend: str = "analytic"):
        """Declare problem (4) as a ``pymanopt.Problem`` on :attr:`manifold`.

        Parameters
        ----------
        backend : {"analytic", "autograd"}
            "analytic" supplies the hand-written Euclidean gradient and Hessian
            (``pymanopt.function.numpy``); "autograd" declares only the cost
            (the loss's ``autograd_value``) with ``pymanopt.function.autograd``
            and lets pymanopt differentiate it.
        """
        import pymanopt

        check_choice(backend, "backend", BACKENDS)
        manifold = self.manifold
        if backend == "autograd":
            import autograd.numpy as anp

            tau, labels, value = self.tau, self.labels, self.loss.autograd_value

            @pymanopt.function.autograd(manifold)
            def cost(W, H):
                return value(tau * anp.dot(W.T, H), labels)

            return pymanopt.Problem(manifold, cost)

        state = self._state

        @pymanopt.function.numpy(manifold)
        def cost(W, H):
            return state(W, H).value

        @pymanopt.function.numpy(manifold)
        def euclidean_gradient(W, H):
            return list(self._euclidean_gradient(W, H))

        @pymanopt.function.numpy(manifold)
        def euclidean_hessian(W, H, dW, dH):
            return list(HessianOperator(self, W, H, state(W, H)).euclidean(dW, dH))

        return pymanopt.Problem(
            manifold, cost, euclidean_gradient=euclidean_gradient, euclidean_hessian=euclidean_hessian
        )
