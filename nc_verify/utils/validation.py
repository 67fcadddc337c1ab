"""Argument checks shared by the public API.

Every public function validates its inputs here, so that bad input fails at once
with a ``ValueError``/``TypeError`` naming the parameter, never later inside numpy.
"""

from __future__ import annotations

import numbers

import numpy as np

#: Columns of a point count as unit norm when ``| ||x|| - 1 | <= UNIT_NORM_TOL``.
#: sqrt(machine epsilon) ~ 1.5e-8: loose enough for points rounded to float64 by a
#: user's own construction, tight enough that every formula that assumes unit
#: columns (tangent projections, eqs. (5)-(8)) keeps its first-order accuracy.
UNIT_NORM_TOL = 1e-8


def check_int(value, name: str, minimum: int) -> int:
    """Return ``value`` as ``int`` after checking it is an integer ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as ``float`` after checking it is finite and ``> 0``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return value


def check_finite_float(value, name: str) -> float:
    """Return ``value`` as ``float`` after checking it is a finite real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_real_array(x, name: str) -> np.ndarray:
    """``x`` as a numpy array after checking its entries are real numbers (integer or floating dtype).

    Complex arrays (whose imaginary part a cast to float64 would silently drop), booleans,
    strings and object arrays (mixed or arbitrary Python objects) raise a ``TypeError``
    naming ``name`` and the dtype found.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array: {exc}") from None
    if arr.dtype.kind not in "iuf":
        what = {"c": "complex", "b": "boolean", "O": "object (arbitrary Python values)"}.get(
            arr.dtype.kind, f"non-numeric ({arr.dtype})")
        raise TypeError(f"{name} must be a real array (integer or floating entries), got an array of dtype "
                        f"{arr.dtype}: {what}")
    return arr


def check_matrix(x, name: str, shape: tuple[int, int]) -> np.ndarray:
    """Return ``x`` as a finite float64 array of the given shape (real entries: :func:`check_real_array`)."""
    x = check_real_array(x, name)
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array of shape {shape}: {exc}") from None
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has NaN or infinite entries")
    return arr


def check_unit_norm(arr: np.ndarray, name: str) -> np.ndarray:
    """Check that every column of ``arr`` (shape (..., d, m), finite) has unit norm to :data:`UNIT_NORM_TOL`."""
    err = np.max(np.abs(np.linalg.norm(arr, axis=-2) - 1.0), initial=0.0)
    if err > UNIT_NORM_TOL:
        raise ValueError(
            f"{name} must have unit-norm columns (points of the oblique manifold); "
            f"largest | ||column|| - 1 | is {err:.3g} > {UNIT_NORM_TOL:g}"
        )
    return arr


def check_unit_columns(x, name: str, shape: tuple[int, int]) -> np.ndarray:
    """Return ``x`` as float64 after checking shape, finiteness and unit columns."""
    return check_unit_norm(check_matrix(x, name, shape), name)


def check_choice(value, name: str, choices) -> str:
    """Check ``value`` is one of ``choices`` (strings), naming the valid ones."""
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"unknown {name} {value!r}; valid: {valid}")
    return value


def as_rng(rng=None, seed=None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from ``rng`` (Generator, int or None) or ``seed``."""
    if rng is not None and seed is not None:
        raise ValueError("pass either rng or seed, not both")
    src = rng if rng is not None else seed
    if isinstance(src, np.random.Generator):
        return src
    if src is None or (isinstance(src, numbers.Integral) and not isinstance(src, bool)):
        return np.random.default_rng(src)
    raise TypeError(f"rng/seed must be a numpy Generator, an int or None, got {type(src).__name__}")


def check_instance(value, name: str, cls):
    """``value`` itself if it is an instance of ``cls`` (a class or tuple), else a ``TypeError`` naming ``name``."""
    if not isinstance(value, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise TypeError(f"{name} must be a {names}, got {type(value).__name__}")
    return value
