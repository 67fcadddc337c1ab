"""Critical points of problem (4) live in a span of dimension ``r <= K``: reduction and embedding.

At a critical point (eq. (6)) ``tau W g_j = (h_j^T tau W g_j) h_j``, with ``g_j`` the
``j``-th column of ``G = grad g(M)`` (``N g_j = p_j - e_{y_j}`` for cross-entropy),
so ``h_j`` is parallel to ``W g_j`` unless ``W g_j = 0``; likewise (eq. (5)) ``w_k``
is parallel to ``H G^T e_k = sum_j G_kj h_j`` unless that vanishes.  Off the
*degenerate strata* where one of these vectors vanishes, ``span(H) <= span(W)`` and
``span(W) <= span(H)``: ``span(W) = span(H)`` has dimension ``r <= min(K, d)``.  In an
orthonormal basis of that span the point is a critical point of the ``(r, K, n)``
problem of full rank ``r``, and conversely a critical point of the ``(r, K, n)``
problem padded with ``d - r`` zero rows is one of the ``(d, K, n)`` problem
(its gradient lies in the span).  The search of
:func:`~nc_verify.landscape.search.find_critical_points` therefore searches the small
problems ``r = 2..min(K, d)`` and embeds; ``r = 1`` (collinear points) and the
degenerate strata come from the exact families and from full-dimensional starts
(the search page of the docs, ``docs/search.md``, has the proof and which source
covers which stratum).

The full Hessian spectrum of an embedded point (``docs/search.md``, "The Hessian at an embedded point") is the small problem's spectrum
together with ``d - r`` copies of the spectrum of the *normal block*: along
``dw_k = c_k u``, ``dh_j = e_j u`` with ``u`` orthogonal to the span, ``dM = 0``
and the quadratic form of eqs. (7)-(8) is ``2 tau c^T G e - c^T diag(M G^T) c -
e^T diag(M^T G) e``, the same for every such ``u``, and these directions do not
couple to the in-span ones.
"""

from __future__ import annotations

import numpy as np

from nc_verify.landscape.spectrum import symmetric_eigh
from nc_verify.objective.problem import UFMProblem
from nc_verify.utils.validation import check_instance, check_int


def normal_block(problem: UFMProblem, W, H) -> np.ndarray:
    """The Hessian on the directions normal to the span, per normal unit vector: (K + N, K + N).

    ``[[-diag(M G^T), tau G], [tau G^T, -diag(M^T G)]]`` in the coordinates ``(c, e)``.
    """
    p = check_instance(problem, "problem", UFMProblem)
    s = p.hessian_operator(W, H).state
    return normal_blocks_from(p.tau, s.grad, s.row_curvature, s.col_curvature)


def normal_blocks_from(tau, G, row_curvature, col_curvature) -> np.ndarray:
    """:func:`normal_block` from the loss quantities, batched: the one place of its formula.

    Parameters
    ----------
    tau : float
    G : ndarray, shape (..., K, N)
        ``grad g(M)``.
    row_curvature, col_curvature : ndarray, shapes (..., K), (..., N)
        ``diag(M G^T)`` and ``diag(M^T G)``.

    Returns
    -------
    ndarray, shape (..., K + N, K + N)
    """
    K, N = G.shape[-2:]
    Q = np.zeros(G.shape[:-2] + (K + N, K + N))
    Q[..., :K, K:] = tau * G
    Q[..., K:, :K] = tau * np.swapaxes(G, -1, -2)
    i = np.arange(K + N)
    Q[..., i, i] = -np.concatenate([row_curvature, col_curvature], axis=-1)
    return Q


def normal_norm_bound(Q: np.ndarray) -> np.ndarray:
    """An upper bound of ``||Q||_2`` for symmetric ``Q`` (..., m, m): ``min(||Q||_F, max_i sum_j |Q_ij|)``.

    Both are norms that dominate the spectral norm (the second is the induced infinity
    norm, and ``||Q||_2 = rho(Q) <= ||Q||_inf`` for symmetric ``Q``).
    """
    fro = np.sqrt(np.sum(Q * Q, axis=(-2, -1)))
    return np.minimum(fro, np.max(np.sum(np.abs(Q), axis=-1), axis=-1))


def embed(W, H, d: int):
    """``(W, H)`` of a ``(r, K, n)`` problem padded with ``d - r`` zero rows (shapes (d, K), (d, N))."""
    W = np.asarray(W, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    r = W.shape[-2]
    d = check_int(d, "d", r)
    pad = [(0, 0)] * (W.ndim - 2) + [(0, d - r), (0, 0)]
    return np.pad(W, pad), np.pad(H, pad)


def embedded_spectrum(small: UFMProblem, W, H, small_eigenvalues, d: int) -> np.ndarray:
    """Hessian spectrum (ascending) at the embedding in ``R^d`` of a point of the ``(r, K, n)`` problem ``small``.

    ``small_eigenvalues``: the spectrum of the small problem's Hessian at ``(W, H)``;
    adds ``d - r`` copies of the spectrum of :func:`normal_block`.
    """
    p = check_instance(small, "small", UFMProblem)
    d = check_int(d, "d", p.d)
    extra = symmetric_eigh(normal_block(p, W, H), eigvals_only=True)
    return merge_spectra(np.asarray(small_eigenvalues, dtype=np.float64), extra, d - p.d)


def merge_spectra(small_eigenvalues: np.ndarray, normal_eigenvalues: np.ndarray, copies: int) -> np.ndarray:
    """The embedded spectrum, ascending: ``small_eigenvalues`` (..., T) and ``copies`` copies of
    ``normal_eigenvalues`` (..., K + N), batched over the leading axes."""
    reps = (1,) * (normal_eigenvalues.ndim - 1) + (copies,)
    return np.sort(np.concatenate([small_eigenvalues, np.tile(normal_eigenvalues, reps)], axis=-1), axis=-1)


def reduce_to_span(W, H, *, rtol: float | None = None):
    """Coordinates of ``(W, H)`` in an orthonormal basis of ``span[W, H]``: shapes (r, K), (r, N), and the basis (d, r).

    ``r`` counts the singular values of ``[W, H]`` above ``rtol * s_max`` (default
    ``sqrt(eps)``, as :func:`~nc_verify.objective.oblique.symmetry_orbit_dimension`).
    The columns keep unit norm up to the discarded singular values.
    """
    W = np.asarray(W, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    rtol = np.sqrt(np.finfo(np.float64).eps) if rtol is None else float(rtol)
    U, s, _ = np.linalg.svd(np.concatenate([W, H], axis=1), full_matrices=False)
    r = max(1, int(np.sum(s > rtol * s[0])))
    B = U[:, :r]
    return B.T @ W, B.T @ H, B
