"""Reference configurations: the simplex equiangular tight frame (Theorem 1, NC2)."""

from __future__ import annotations

import numpy as np

from nc_verify.utils.validation import as_rng, check_int


def simplex_etf(d: int, K: int, rng=None) -> np.ndarray:
    """A ``d x K`` simplex ETF: unit columns with Gram ``(K I - 1 1^T) / (K - 1)``.

    Parameters
    ----------
    d, K : int
        Ambient dimension and number of vertices; needs ``d >= K - 1``.
    rng : numpy Generator, int or None
        If given, the frame is rotated by a random orthogonal ``d x d`` matrix
        (Haar-distributed); if None the frame is ``sqrt(K/(K-1)) (I - 11^T/K)``
        embedded in the first coordinates (for ``d >= K``) or expressed in an
        orthonormal basis of ``1^perp`` (for ``d = K - 1``).

    Returns
    -------
    ndarray, shape (d, K)
    """
    d = check_int(d, "d", 1)
    K = check_int(K, "K", 2)
    if d < K - 1:
        raise ValueError(f"a simplex ETF of K={K} vertices needs d >= K - 1 = {K - 1}, got d={d}")
    C = np.sqrt(K / (K - 1)) * (np.eye(K) - np.ones((K, K)) / K)   # K x K, rank K-1
    # orthonormal basis of 1^perp (K-1 columns), so the frame fits in K-1 dimensions
    Q, _ = np.linalg.qr(np.eye(K) - np.ones((K, K)) / K)
    B = Q[:, : K - 1]
    X = np.zeros((d, K))
    if rng is None and d >= K:
        X[:K] = C
    else:
        X[: K - 1] = B.T @ C
    if rng is not None:
        R = _haar_orthogonal(d, as_rng(rng))
        X = R @ X
    return X / np.linalg.norm(X, axis=0)


def _haar_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed ``d x d`` orthogonal matrix (QR of a Gaussian, sign-fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


def random_orthogonal(d: int, rng=None) -> np.ndarray:
    """A Haar-distributed ``d x d`` orthogonal matrix."""
    return _haar_orthogonal(check_int(d, "d", 1), as_rng(rng))


def etf_point(d: int, K: int, n: int, rng=None):
    """The Theorem 1 minimiser: ``W`` a simplex ETF and ``h_{k,i} = w_k`` (needs ``d >= K``... or ``K - 1``).

    Returns ``(W, H)`` of shapes (d, K) and (d, K n).
    """
    W = simplex_etf(d, K, rng)
    return W, np.repeat(W, check_int(n, "n", 1), axis=1)
