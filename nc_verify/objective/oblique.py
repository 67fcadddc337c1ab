"""The oblique manifold ``OB(d, m)`` (matrices with unit columns): projection, retraction, rotation orbits.

The one place for the manifold's formulas used by every problem: the tangent
projection ``Z - X ddiag(X^T Z)``, the normalising retraction, and the dimension of
a point's orbit under a common rotation (the symmetry of every rotation-invariant
problem, problem (4) and SupCon among them).
"""

from __future__ import annotations

import numpy as np

from nc_verify.utils.validation import check_positive_float

EPS = np.finfo(np.float64).eps


def project_columns(X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Tangent projection on the oblique manifold: ``Z - X ddiag(X^T Z)``.

    ``X`` has shape (d, m); ``Z`` has shape (..., d, m) (leading batch axes allowed).
    """
    return Z - X * np.sum(X * Z, axis=-2, keepdims=True)


def normalize_columns(X: np.ndarray) -> np.ndarray:
    """``X`` with every column scaled to unit norm (shape (..., d, m))."""
    return X / np.linalg.norm(X, axis=-2, keepdims=True)


def retract(point, tangent, scale: float = 1.0) -> tuple:
    """Normalising retraction, block by block: the columns of ``x + scale v`` rescaled to unit norm.

    Second order on the oblique manifold.  ``point`` and ``tangent`` are tuples of
    blocks of shapes (d, m_i).
    """
    return tuple(normalize_columns(x + scale * v) for x, v in zip(point, tangent))


def symmetry_orbit_dimension(*blocks_, rtol: float | None = None) -> int:
    """Dimension of the orbit of a point under a common rotation ``Q in O(d)``.

    ``d(d-1)/2 - (d-r)(d-r-1)/2`` where ``r`` is the rank of the point's columns
    (``[W, H]`` for problem (4)): rotations fixing their span pointwise form ``O(d - r)``.

    Parameters
    ----------
    *blocks_ : array_like, shapes (d, m_i)
        The point's blocks, e.g. ``W, H``.
    rtol : float, optional
        Singular values at most ``rtol * s_max`` count as zero.
        Default ``sqrt(eps)``: points found by a solver carry errors of the
        order of (gradient norm) / (curvature), and a point refined to a gradient
        at rounding level puts its spurious directions far below ``sqrt(eps)``,
        while a genuine direction of a critical point has an ``O(1)`` singular value.
    """
    X = [np.asarray(b, dtype=np.float64) for b in blocks_]
    if not X or any(x.ndim != 2 or x.shape[0] != X[0].shape[0] for x in X):
        raise ValueError(f"the point's blocks must be 2-D with the same number of rows, got "
                         f"{[x.shape for x in X]}")
    if not all(np.all(np.isfinite(x)) for x in X):
        raise ValueError("the point's blocks must be finite")
    rtol = np.sqrt(EPS) if rtol is None else check_positive_float(rtol, "rtol")
    d = X[0].shape[0]
    s = np.linalg.svd(np.concatenate(X, axis=1), compute_uv=False)
    r = int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
    return d * (d - 1) // 2 - (d - r) * (d - r - 1) // 2
