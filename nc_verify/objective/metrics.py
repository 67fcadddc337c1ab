"""Neural-collapse metrics NC1-NC3 and the conventions of other papers.

Primary values follow the paper's authors' code (see the documentation, "Conventions", "NC metric
conventions"); alternatives used elsewhere are reported alongside under their own
names so results can be compared across papers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from nc_verify.utils.validation import check_matrix

_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class NCMetrics:
    """NC metrics of classifiers ``W`` (d, K) and features ``H`` (d, N).

    Attributes
    ----------
    nc1 : float
        ``tr(Sigma_W pinv(Sigma_B)) / K`` (authors' convention). Metrics that need
        distinct class means are NaN when all class means coincide (``Sigma_B = 0``).
    nc2 : float
        ``|| W^T W / ||W^T W||_F - (I - 11^T/K)/sqrt(K-1) ||_F`` (classifier, uncentred).
    nc3 : float
        ``|| W^T Hbar / ||W^T Hbar||_F - (I - 11^T/K)/sqrt(K-1) ||_F`` (class means uncentred).
    nc1_unnormalized : float
        ``tr(Sigma_W pinv(Sigma_B))`` without the ``1/K`` (Papyan et al. 2020 plots).
    nc1_trace_ratio : float
        ``tr(Sigma_W) / tr(Sigma_B)``.
    nc2_means : float
        The NC2 formula applied to the globally centred class means ``Hbar - mu_G``.
    nc2_equinorm : float
        std / mean of the norms of the centred class means.
    nc2_equiangularity : float
        std of the off-diagonal cosines between centred class means.
    nc3_centered_sq : float
        ``|| W / ||W||_F - (Hbar - mu_G) / ||Hbar - mu_G||_F ||_F^2`` (Papyan et al.).
    """

    nc1: float
    nc2: float
    nc3: float
    nc1_unnormalized: float
    nc1_trace_ratio: float
    nc2_means: float
    nc2_equinorm: float
    nc2_equiangularity: float
    nc3_centered_sq: float

    def as_dict(self) -> dict:
        return asdict(self)


def _etf_distance(A: np.ndarray) -> float:
    """``|| A / ||A||_F - (I - 11^T/K) / sqrt(K-1) ||_F`` for a K x K matrix ``A`` (NaN if ``A = 0``)."""
    K = A.shape[0]
    target = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
    nrm = np.linalg.norm(A)
    if nrm == 0:  # direction undefined (e.g. classifiers orthogonal to every class mean)
        return float("nan")
    return float(np.linalg.norm(A / nrm - target))


def class_means(H: np.ndarray, labels: np.ndarray, K: int) -> np.ndarray:
    """Class means ``Hbar`` (eq. (9)), shape (d, K)."""
    onehot = np.zeros((H.shape[1], K))
    onehot[np.arange(H.shape[1]), labels] = 1.0
    return (H @ onehot) / onehot.sum(axis=0)


def nc_metrics(W, H, labels) -> NCMetrics:
    """NC1-NC3 of classifiers ``W`` (d, K) and features ``H`` (d, N) with ``labels`` (N,).

    Features and classifiers need not be normalised: every metric is invariant
    under scaling ``H`` and under scaling ``W``, and under a common rotation of both.
    Every class in ``0..K-1`` must occur in ``labels``.
    """
    if np.ndim(W) != 2:
        raise ValueError(f"W must be a 2-D array of shape (d, K), got shape {np.shape(W)}")
    W = check_matrix(W, "W", np.shape(W))
    d, K = W.shape
    if K < 2:
        raise ValueError(f"W must have K >= 2 columns, got {K}")
    if np.ndim(H) != 2 or np.shape(H)[0] != d:
        raise ValueError(f"H must have shape (d={d}, N), got {np.shape(H)}")
    H = check_matrix(H, "H", np.shape(H))
    labels = np.asarray(labels)
    if labels.shape != (H.shape[1],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be an integer array of shape ({H.shape[1]},), got {labels.dtype} {labels.shape}")
    if labels.min(initial=0) < 0 or labels.max(initial=0) >= K or np.unique(labels).size != K:
        raise ValueError(f"labels must take every value 0..{K - 1} (one per column of W)")
    N = H.shape[1]
    means = class_means(H, labels, K)
    mu = H.mean(axis=1, keepdims=True)
    within = H - means[:, labels]
    centred = means - mu
    # Sigma_W = within within^T / N and Sigma_B = C C^T / K with C = centred (d x K), so
    #   tr(Sigma_W pinv(Sigma_B)) = (K / N) ||pinv(C) within||_F^2,
    # computed from C = Q R and an SVD of the K x K factor R, in O(d K^2 + d K N),
    # never forming a d x d matrix. Singular values of C below its rounding level
    # (10 max(d, K) eps s_max) count as zero: C has rank <= K - 1 by construction.
    # The cut is on C, not on Sigma_B: the SVD of C is backward stable, so each singular
    # value carries an absolute error ~ max(d, K) eps s_max and every one above the cut is
    # resolved.  A cut on the eigenvalues of Sigma_B at 10 d eps ||Sigma_B|| would drop
    # singular values of C below sqrt(10 d eps) s_max ~ 1e-7 s_max: genuine between-class
    # directions of nearly rank-deficient class means, which this computation resolves
    # because it never squares C.
    Q, R = np.linalg.qr(centred)
    Ur, sv, _ = np.linalg.svd(R)
    U = Q @ Ur
    trB = float(np.sum(sv**2)) / K
    if trB > 0:
        keep = sv > 10 * max(d, K) * _EPS * sv[0]
        proj = (U[:, keep].T @ within) / sv[keep, None]          # = Sigma_V^-1 U^T within
        nc1_raw = float(K * np.sum(proj**2) / N)
    else:  # coincident class means: Sigma_B = 0 and NC1 is undefined (not 0)
        nc1_raw = float("nan")
    trW = float(np.sum(within**2)) / N
    norms = np.linalg.norm(centred, axis=0)
    if np.all(norms > 0):
        U = centred / norms
        cos = (U.T @ U)[~np.eye(K, dtype=bool)]
        equinorm = float(np.std(norms) / np.mean(norms))
        equiangular = float(np.std(cos))
    else:
        equinorm = equiangular = float("nan")
    nW, nC = np.linalg.norm(W), np.linalg.norm(centred)
    nc3c = float(np.linalg.norm(W / nW - centred / nC) ** 2) if nC > 0 else float("nan")
    return NCMetrics(
        nc1=nc1_raw / K,
        nc2=_etf_distance(W.T @ W),
        nc3=_etf_distance(W.T @ means),
        nc1_unnormalized=nc1_raw,
        nc1_trace_ratio=trW / trB if trB > 0 else float("nan"),
        nc2_means=_etf_distance(centred.T @ centred) if trB > 0 else float("nan"),
        nc2_equinorm=equinorm,
        nc2_equiangularity=equiangular,
        nc3_centered_sq=nc3c,
    )
