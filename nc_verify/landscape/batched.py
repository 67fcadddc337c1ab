"""Levenberg-Marquardt and pseudo-inverse Newton on a batch of starts at once.

The batched counterparts of :func:`~nc_verify.landscape.newton.levenberg_marquardt`
and :func:`~nc_verify.landscape.newton.newton_polish`: the same iteration, the same
acceptance and stopping rules per start, on stacked arrays ``W`` (B, d, K) and
``H`` (B, d, N).  Every start keeps its own damping and stops on its own; the
arithmetic of a step (loss quantities, the dense Riemannian Hessian from its
closed-form blocks, one small dense solve per start) is done for all active
starts in one call, so the cost per start is set by arithmetic rather than by
Python overhead.  Levenberg-Marquardt solves ``(A^2 + mu I) s = A g`` (``A`` the
Hessian matrix) by batched LU, without an eigen-decomposition; the Newton polish,
whose pseudo-inverse needs the spectrum, and the end points (whose spectrum the
search keeps) use batched ``eigh``.

The loss quantities of the ``B`` points come from one call of the loss
(:func:`~nc_verify.objective.problem.batched_loss_quantities`).  Batching is for
problem (4) (any loss of :mod:`nc_verify.objective.losses`); the search runs other
protocol problems start by start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nc_verify.landscape.newton import MU_FLOOR, pseudo_inverse
from nc_verify.landscape.rounding import EPS, TINY, gradient_rounding, relative_rounding
from nc_verify.landscape.spectrum import TangentBasis, householder_basis, symmetric_eigh
from nc_verify.objective.problem import (
    UFMProblem,
    batched_costs,
    batched_loss_quantities,
    riemannian_gradient_and_scale,
    riemannian_gradient_from,
    riemannian_hessian_matrix,
)
from nc_verify.utils.threads import blas_threads_for
from nc_verify.utils.validation import check_instance, check_int, check_unit_norm



def batched_gradient_norms(problem: UFMProblem, W: np.ndarray, H: np.ndarray) -> np.ndarray:
    """``||grad f||`` (eqs. (5)-(6), Frobenius over both blocks) at each of the points, shape (B,)."""
    G, row, col, _ = batched_loss_quantities(problem, W, H, hessian_blocks=False)
    gW, gH = riemannian_gradient_from(problem.tau, W, H, G, row, col)
    return np.sqrt(np.sum(gW * gW, axis=(-2, -1)) + np.sum(gH * gH, axis=(-2, -1)))


def batched_eigh(A: np.ndarray):
    """Eigenvalues (ascending) and eigenvectors of a stack of symmetric matrices (B, T, T).

    Batched ``numpy.linalg.eigh`` (LAPACK ``syevd``, lower triangle); if LAPACK fails
    to converge on some matrix, each matrix goes through
    :func:`~nc_verify.landscape.spectrum.symmetric_eigh` (with its ``evr`` fallback).
    """
    try:
        return np.linalg.eigh(A)
    except np.linalg.LinAlgError:
        pairs = [symmetric_eigh(a) for a in A]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def batched_eigvalsh(A: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of a stack of symmetric matrices (B, T, T), with :func:`batched_eigh`'s fallback."""
    try:
        return np.linalg.eigvalsh(A)
    except np.linalg.LinAlgError:
        return np.stack([symmetric_eigh(a, eigvals_only=True) for a in A]).reshape(A.shape[:-1])


@dataclass
class LocalModels:
    """Dense second-order data at a batch of points (the batched :class:`~nc_verify.landscape.newton.LocalModel`).

    Attributes
    ----------
    householder : ndarray, shape (B, d, K + N)
        Tangent bases (:class:`~nc_verify.landscape.spectrum.TangentBasis`).
    gradient : ndarray, shape (B, T)
        Riemannian gradient in the bases.
    hessian : ndarray, shape (B, T, T)
        Riemannian Hessian matrices in the bases.
    scale : ndarray, shape (B,)
        :func:`~nc_verify.objective.problem.gradient_terms_scale` (for the rounding level).
    eigenvalues, eigenvectors : ndarray, shapes (B, T), (B, T, T), or None
        Spectra of ``hessian``, once :meth:`with_spectrum` has computed them.
    """

    householder: np.ndarray
    gradient: np.ndarray
    hessian: np.ndarray
    scale: np.ndarray
    eigenvalues: np.ndarray | None = None
    eigenvectors: np.ndarray | None = None

    @property
    def gradient_norm(self) -> np.ndarray:
        return np.sqrt(np.sum(self.gradient * self.gradient, axis=-1))

    @property
    def hessian_norm(self) -> np.ndarray:
        """``||Hess||_2`` from the spectrum, or its upper bound ``||Hess||_F`` before the spectrum is known."""
        if self.eigenvalues is not None:
            return np.max(np.abs(self.eigenvalues), axis=-1)
        return np.sqrt(np.sum(self.hessian * self.hessian, axis=(-2, -1)))

    def gradient_tolerance(self, problem) -> np.ndarray:
        """``||grad f||`` at which each point is critical to within rounding (:func:`~nc_verify.landscape.rounding.gradient_rounding`)."""
        return gradient_rounding(problem, self.scale, self.hessian_norm)

    def with_spectrum(self) -> LocalModels:
        """These models with the eigen-decompositions of their Hessians."""
        if self.eigenvalues is None:
            self.eigenvalues, self.eigenvectors = batched_eigh(self.hessian)
        return self

    def put(self, idx: np.ndarray, other: LocalModels) -> None:
        """Overwrite the models of points ``idx`` with ``other`` (in order; spectra where both have them)."""
        for name in ("householder", "gradient", "hessian", "scale"):
            getattr(self, name)[idx] = getattr(other, name)
        if self.eigenvalues is not None:
            other.with_spectrum()
            self.eigenvalues[idx] = other.eigenvalues
            self.eigenvectors[idx] = other.eigenvectors


def local_models(problem: UFMProblem, W: np.ndarray, H: np.ndarray, *, spectrum: bool = False) -> LocalModels:
    """Gradient, Hessian matrix (and with ``spectrum`` its eigen-decomposition) at each point ``W`` (B, d, K), ``H`` (B, d, N)."""
    tau = problem.tau
    G, row, col, hess = batched_loss_quantities(problem, W, H, hessian_blocks=True)
    basis = householder_basis(W, H)
    gW, gH, scale = riemannian_gradient_and_scale(tau, W, H, G, row, col)
    g = basis.from_ambient(gW, gH)
    A = riemannian_hessian_matrix(tau, W, H, G, hess, row, col, *basis.column_bases())
    m = LocalModels(basis.householder, g, A, scale)
    return m.with_spectrum() if spectrum else m


def _retract(problem: UFMProblem, W, H, householder, c):
    """``R(x + c)`` for tangent coordinates ``c`` (B, T) in the bases ``householder``."""
    dW, dH = TangentBasis(problem.d, problem.block_sizes, householder).to_ambient(c)
    W2, H2 = W + dW, H + dH
    return W2 / np.linalg.norm(W2, axis=-2, keepdims=True), H2 / np.linalg.norm(H2, axis=-2, keepdims=True)


def _filtered_step(m: LocalModels, idx, filt):
    """``-V filt V^T g`` for the points ``idx`` (``filt`` of shape (len(idx), T))."""
    V = m.eigenvectors[idx]
    return -np.einsum("bij,bj->bi", V, filt * np.einsum("bji,bj->bi", V, m.gradient[idx]))


def _lm_system(m: LocalModels, idx):
    """``A^2`` and ``A g`` for the points ``idx``: formed once per iterate, shared by its retries."""
    A = m.hessian[idx]
    return A @ A, A @ m.gradient[idx][..., None]


def _lm_step(S, rhs, damping):
    """``-(S + damping I)^{-1} rhs`` (batched LU; ``S = A^2``, ``rhs = A g``, ``damping`` of shape (B,)).

    ``damping`` is kept above ``MU_FLOOR ||A||_F^2`` by the caller, so that ``A^2 + mu I``
    stays positive definite in floating point (``A`` is singular along the rotation orbit).
    LU rather than Cholesky: numpy has batched LU solves but no batched triangular solve,
    and at these sizes (T = 30..120) LU's batched ``solve`` is the faster of the two
    (``benchmarks/bench_search.py``).
    """
    S = S.copy()
    T = S.shape[-1]
    S[:, np.arange(T), np.arange(T)] += damping[:, None]
    return -np.linalg.solve(S, rhs)[..., 0]


@dataclass
class BatchedSolve:
    """Result of :func:`batched_levenberg_marquardt` / :func:`batched_newton_polish`.

    Attributes
    ----------
    W, H : ndarray, shapes (B, d, K), (B, d, N)
        End points.
    models : LocalModels
        Gradient, Hessian and its spectrum at the end points.
    converged : ndarray of bool, shape (B,)
        ``||grad f||`` at rounding level (the search's test of a critical point).
    """

    W: np.ndarray
    H: np.ndarray
    models: LocalModels
    converged: np.ndarray

    @property
    def gradient_norm(self) -> np.ndarray:
        return self.models.gradient_norm


def _check_batch(problem, W, H):
    p = check_instance(problem, "problem", UFMProblem)
    W = np.array(W, dtype=np.float64)
    H = np.array(H, dtype=np.float64)
    if W.ndim != 3 or W.shape[1:] != (p.d, p.K):
        raise ValueError(f"W must have shape (B, {p.d}, {p.K}), got {W.shape}")
    if H.ndim != 3 or H.shape != (W.shape[0], p.d, p.N):
        raise ValueError(f"H must have shape ({W.shape[0]}, {p.d}, {p.N}), got {H.shape}")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(H))):
        raise ValueError("W and H must be finite")
    return p, check_unit_norm(W, "W"), check_unit_norm(H, "H")


def batched_newton_polish(problem: UFMProblem, W, H, *, steps: int = 6) -> BatchedSolve:
    """:func:`~nc_verify.landscape.newton.newton_polish` on each of the points at once.

    Pseudo-inverse Newton steps; a point stops at its first step that does not lower
    ``||grad f||`` (that step is not taken).

    Parameters
    ----------
    problem : UFMProblem
    W, H : array_like, shapes (B, d, K), (B, d, N)
        Unit columns.
    steps : int

    Returns
    -------
    BatchedSolve
    """
    problem, W, H = _check_batch(problem, W, H)
    steps = check_int(steps, "steps", 0)
    with blas_threads_for(problem):
        return _polish(problem, W, H, steps, local_models(problem, W, H))


def _polish(problem, W, H, steps, m):
    m.with_spectrum()
    active = np.ones(W.shape[0], dtype=bool)
    for _ in range(steps):
        active &= (m.gradient_norm != 0.0) & (m.hessian_norm != 0.0)
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        W2, H2 = _retract(problem, W[idx], H[idx], m.householder[idx],
                          _filtered_step(m, idx, pseudo_inverse(m.eigenvalues[idx])))
        ok = batched_gradient_norms(problem, W2, H2) < m.gradient_norm[idx]
        active[idx[~ok]] = False
        acc = idx[ok]
        if acc.size:
            W[acc], H[acc] = W2[ok], H2[ok]
            m.put(acc, local_models(problem, W[acc], H[acc], spectrum=True))
    return BatchedSolve(W, H, m, m.gradient_norm <= m.gradient_tolerance(problem))


def batched_levenberg_marquardt(problem: UFMProblem, W, H, *, max_iterations: int = 60) -> BatchedSolve:
    """:func:`~nc_verify.landscape.newton.levenberg_marquardt` on each of the starts at once.

    Per start: step ``-(Hess^2 + mu I)^{-1} Hess grad f``, accepted when it lowers
    ``||grad f||`` (then ``mu /= 3``), else ``mu *= 4`` and retried, at most 12
    times; stop at rounding level (with ``||Hess||_F`` for ``||Hess||_2`` in the
    rounding level, an upper bound: the polish goes on from there), after a failed
    round of retries, when ``||grad f||`` fell by ``1e-6`` in one step, or after
    ``max_iterations``; then :func:`batched_newton_polish` (6 steps).

    Parameters
    ----------
    problem : UFMProblem
    W, H : array_like, shapes (B, d, K), (B, d, N)
        Starts (unit columns).
    max_iterations : int

    Returns
    -------
    BatchedSolve
    """
    problem, W, H = _check_batch(problem, W, H)
    max_iterations = check_int(max_iterations, "max_iterations", 0)
    with blas_threads_for(problem):
        return _levenberg_marquardt(problem, W, H, max_iterations)


#: Retries of a Levenberg-Marquardt iteration evaluated together: first every start's own damping,
#: then the next two dampings of the starts it failed, the next three, the last six (12 in all).
#: One batched call per group instead of one per retry: the retries of a few starts otherwise
#: pay the per-call overhead of a full batch.  At (r, 5, 2), tau = 1.5, 128 uniform starts
#: (median of 4, CPU time per start): r = 2 0.81 -> 0.70 ms, r = 3 1.11 -> 0.97 ms, r = 5 and
#: 9 unchanged (1.9, 6.2 ms; there the arithmetic of the extra tries offsets the calls saved).
_RETRY_WIDTHS = (1, 2, 3, 6)


def _levenberg_marquardt(problem, W, H, max_iterations):
    m = local_models(problem, W, H)
    mu = 1e-3 * m.hessian_norm ** 2
    active = np.ones(W.shape[0], dtype=bool)
    for _ in range(max_iterations):
        idx = np.flatnonzero(active)
        g0 = m.gradient_norm[idx]
        stop = (g0 <= m.gradient_tolerance(problem)[idx]) | (mu[idx] == 0.0)
        active[idx[stop]] = False
        idx, g0 = idx[~stop], g0[~stop]
        if idx.size == 0:
            break
        S, rhs = _lm_system(m, idx)
        floor = MU_FLOOR * m.hessian_norm[idx] ** 2
        pos = np.arange(idx.size)                # the points still trying, as positions in idx
        accepted = []
        for k in _RETRY_WIDTHS:
            # the next k tries of every point still trying, at once: dampings mu 4^i, i < k (identical
            # to trying them one after the other and keeping the first that lowers ||grad f||)
            trying = idx[pos]
            rep = np.repeat(np.arange(pos.size), k)
            damping = np.maximum(mu[trying][:, None] * 4.0 ** np.arange(k), floor[pos][:, None]).ravel()
            W2, H2 = _retract(problem, W[trying][rep], H[trying][rep], m.householder[trying][rep],
                              _lm_step(S[pos][rep], rhs[pos][rep], damping))
            ok = (batched_gradient_norms(problem, W2, H2) < g0[pos][rep]).reshape(pos.size, k)
            hit = ok.any(axis=1)
            first = np.argmax(ok, axis=1)
            take = (np.arange(pos.size) * k + first)[hit]
            acc = trying[hit]
            W[acc], H[acc] = W2[take], H2[take]
            mu[acc] = mu[acc] * 4.0 ** first[hit] / 3.0
            mu[trying[~hit]] *= 4.0 ** k
            accepted.append(pos[hit])
            pos = pos[~hit]
            if pos.size == 0:
                break
        active[idx[pos]] = False                 # twelve dampings failed: the start stops
        done = np.concatenate(accepted)
        if done.size:
            acc = idx[done]
            m.put(acc, local_models(problem, W[acc], H[acc]))
            active[acc[m.gradient_norm[acc] < 1e-6 * g0[done]]] = False
    return _polish(problem, W, H, 6, m)


def batched_descent(problem: UFMProblem, W, H, *, max_iterations: int = 200) -> BatchedSolve:
    """Descent to a minimum of ``f`` from each of the starts at once, then :func:`batched_newton_polish`.

    Riemannian Newton on ``f`` with a positive-definite shift of the Hessian: step
    ``-(Hess + sigma I)^{-1} g`` with ``sigma = max(0, -lambda_min) + mu`` (``lambda_min`` from
    a batched ``eigvalsh``, the system by batched LU), a descent direction (every eigenvalue
    of the shifted matrix is ``>= mu > 0``); taken when ``f`` falls by at least
    a tenth of the decrease the quadratic model predicts (then ``mu /= 3``), else
    ``mu *= 4``.  ``mu`` starts at ``1e-2 ||Hess||`` and stays above ``sqrt(eps) ||Hess||``,
    so the steps along the rotation orbit's zero eigenvalues stay bounded.  A start stops
    when ``||grad f||`` is at rounding level, when the predicted decrease falls below the
    cost's rounding (:func:`~nc_verify.landscape.rounding.cost_resolution`: the polish goes
    on from there), or after ``max_iterations`` steps.  As ``f`` falls at every step taken
    and negative curvature is shifted into descent, the starts end at minima (the search
    keeps what the polish converges to, classified like every other start).

    Parameters
    ----------
    problem : UFMProblem
    W, H : array_like, shapes (B, d, K), (B, d, N)
        Starts (unit columns).
    max_iterations : int

    Returns
    -------
    BatchedSolve
    """
    problem, W, H = _check_batch(problem, W, H)
    max_iterations = check_int(max_iterations, "max_iterations", 0)
    with blas_threads_for(problem):
        return _descent(problem, W, H, max_iterations)


def _descent(problem, W, H, max_iterations):
    m = local_models(problem, W, H)
    f = batched_costs(problem, W, H)
    lam = batched_eigvalsh(m.hessian)
    low, norm = lam[:, 0], np.max(np.abs(lam), axis=-1)        # lambda_min and ||Hess||_2 of each model
    mu = 1e-2 * norm
    active = np.ones(W.shape[0], dtype=bool)
    for _ in range(max_iterations):
        idx = np.flatnonzero(active)
        stop = (m.gradient_norm[idx] <= gradient_rounding(problem, m.scale[idx], norm[idx])) | (norm[idx] == 0.0)
        active[idx[stop]] = False
        idx = idx[~stop]
        if idx.size == 0:
            break
        # (A + sigma I) c = -g with sigma = max(0, -lambda_min) + mu > -lambda_min: positive definite
        A, g = m.hessian[idx], m.gradient[idx]
        sigma = np.maximum(0.0, -low[idx]) + np.maximum(mu[idx], np.sqrt(EPS) * norm[idx])
        S = A.copy()
        S[:, np.arange(A.shape[-1]), np.arange(A.shape[-1])] += sigma[:, None]
        c = -np.linalg.solve(S, g[..., None])[..., 0]
        # the quadratic model's decrease -(g.c + c.A.c / 2) = sum (g_i^2 / s_i)(1 - lambda_i / (2 s_i)) > 0
        predicted = -np.sum(g * c, axis=-1) - 0.5 * np.sum(c * (A @ c[..., None])[..., 0], axis=-1)
        small = predicted <= relative_rounding(problem) * np.maximum(np.abs(f[idx]), TINY)
        active[idx[small]] = False
        idx, c, predicted = idx[~small], c[~small], predicted[~small]
        if idx.size == 0:
            break
        W2, H2 = _retract(problem, W[idx], H[idx], m.householder[idx], c)
        f2 = batched_costs(problem, W2, H2)
        ok = f[idx] - f2 >= 0.1 * predicted
        acc = idx[ok]
        mu[acc] /= 3.0
        mu[idx[~ok]] *= 4.0
        if acc.size:
            W[acc], H[acc], f[acc] = W2[ok], H2[ok], f2[ok]
            m.put(acc, local_models(problem, W[acc], H[acc]))
            lam = batched_eigvalsh(m.hessian[acc])
            low[acc], norm[acc] = lam[:, 0], np.max(np.abs(lam), axis=-1)
    return _polish(problem, W, H, 6, m)
