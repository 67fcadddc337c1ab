"""The oblique manifold ``OB(d, m)`` (matrices with unit columns): projection and retraction.

The one place for the manifold's formulas used by every problem: the tangent
projection ``Z - X ddiag(X^T Z)`` and the normalising retraction.
"""

from __future__ import annotations

import numpy as np


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
