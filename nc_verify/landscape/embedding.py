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
    K = p.K
    Q = np.zeros((K + p.N, K + p.N))
    Q[:K, K:] = p.tau * s.grad
    Q[K:, :K] = p.tau * s.grad.T
    Q[np.arange(K), np.arange(K)] = -s.row_curvature
    Q[np.arange(K, K + p.N), np.arange(K, K + p.N)] = -s.col_curvature
    return Q


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
    return np.sort(np.concatenate([np.asarray(small_eigenvalues, dtype=np.float64), np.tile(extra, d - p.d)]))


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
