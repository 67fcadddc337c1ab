"""The Riemannian Hessian of a problem as a matrix, its spectrum and its smallest eigenpair.

Tools that Manopt (MATLAB) calls ``tangentorthobasis``, ``hessianmatrix``,
``hessianspectrum`` and ``hessianextreme``, for any problem of the problem protocol
(:mod:`nc_verify.objective.protocol`) on ``OB(d, m_1) x ... x OB(d, m_b)``: problem (4)
on ``OB(d, K) x OB(d, N)``, SupCon on ``OB(d, N)``.  Every Hessian value comes from
the problem's Hessian operator (for problem (4)
:class:`~nc_verify.objective.problem.HessianOperator`, eqs. (7)-(8), cancellation-free),
so the matrix entries keep their relative accuracy at any temperature.

Tangent coordinates: the tangent space at a point is the product of the spaces
``x_c^perp`` of its ``m = sum m_i`` columns ``x_c`` (blocks in order: for problem (4)
the columns of ``[W, H]``).  Column ``c`` gets the orthonormal basis formed by
columns ``2..d`` of the Householder reflection that maps ``e_1`` to ``+-x_c``;
coordinate ``c (d - 1) + a`` is the ``a``-th basis vector of column ``c``.  The
basis is stored implicitly (one Householder vector per column, ``O(d m)`` memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, eigh
from scipy.sparse.linalg import LinearOperator, eigsh

from nc_verify.objective.oblique import project_columns
from nc_verify.objective.protocol import apply_hessian, as_point, check_problem, norm
from nc_verify.utils.budget import check_memory, hessian_matrix_bytes
from nc_verify.utils.validation import (
    as_rng,
    check_choice,
    check_int,
    check_positive_float,
)

METHODS = ("auto", "dense", "lanczos")
#: ``method="auto"`` builds the dense Hessian up to this tangent dimension (eigh
#: costs ~T^3/3 flops: under a second here), Lanczos above it.
DENSE_LIMIT = 1500


def symmetric_eigh(A: np.ndarray, *, eigvals_only: bool = False):
    """Eigen-decomposition of a dense symmetric matrix: the one eigensolver of the package.

    LAPACK's divide-and-conquer driver (``evd``, the fastest) first; when it fails to
    converge (seen on Hessians at ``(6, 4, 1)``) the relatively robust representations
    driver (``evr``).  Both have backward error ``O(T eps ||A||)``.

    Parameters
    ----------
    A : ndarray, shape (T, T)
        Symmetric (only the lower triangle is read).
    eigvals_only : bool

    Returns
    -------
    eigenvalues : ndarray, shape (T,)
        Ascending.
    eigenvectors : ndarray, shape (T, T)
        Orthonormal columns (only when ``eigvals_only`` is False).
    """
    try:
        return eigh(A, eigvals_only=eigvals_only, driver="evd")
    except LinAlgError:
        return eigh(A, eigvals_only=eigvals_only, driver="evr")




@dataclass(frozen=True)
class TangentBasis:
    """An orthonormal basis of the tangent space of ``OB(d, m_1) x ... x OB(d, m_b)`` at a point.

    Attributes
    ----------
    d : int
    sizes : tuple of int
        ``(m_1, ..., m_b)``, columns per block (``(K, N)`` for problem (4)).
    householder : ndarray, shape (d, sum(sizes)) or (B, d, sum(sizes))
        Householder vectors ``v_c = x_c + sign(x_c[0]) e_1`` of the point's columns
        (of each of ``B`` points: then coordinates are (B, T) and blocks (B, d, m_i)).
    """

    d: int
    sizes: tuple
    householder: np.ndarray

    @property
    def dimension(self) -> int:
        """``(d - 1) sum(m_i)``."""
        return (self.d - 1) * int(sum(self.sizes))

    def _reflect(self, Z: np.ndarray) -> np.ndarray:
        V = self.householder
        beta = 2.0 / np.sum(V * V, axis=-2, keepdims=True)
        return Z - V * (beta * np.sum(V * Z, axis=-2, keepdims=True))

    def to_ambient(self, coords: np.ndarray) -> tuple:
        """Tangent blocks of shapes (..., d, m_i) from coordinates (..., T); a tuple (``(dW, dH)``)."""
        coords = np.asarray(coords, dtype=np.float64)
        m = int(sum(self.sizes))
        lead = coords.shape[:-1]
        C = coords.reshape(lead + (m, self.d - 1))
        Z = np.zeros(lead + (self.d, m))
        Z[..., 1:, :] = np.swapaxes(C, -1, -2)
        Z = self._reflect(Z)
        cuts = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(Z, cuts, axis=-1))

    def from_ambient(self, *tangent) -> np.ndarray:
        """Coordinates (..., T) of the tangent projection of the blocks ``tangent``."""
        Z = self._reflect(np.concatenate(tangent, axis=-1))
        C = np.swapaxes(Z[..., 1:, :], -1, -2)
        return C.reshape(C.shape[:-2] + (self.dimension,))

    def column_bases(self) -> tuple:
        """Per-column orthonormal bases, one array of shape (m_i, d, d - 1) (or (B, m_i, d, d - 1)) per block.

        Basis ``c`` is columns ``2..d`` of the Householder reflection ``I - beta_c v_c v_c^T``:
        coordinate ``c (d - 1) + a`` of :meth:`to_ambient` is its column ``a``.
        """
        V = np.swapaxes(self.householder, -1, -2)                      # (..., m, d)
        beta = 2.0 / np.sum(V * V, axis=-1)
        U = np.eye(self.d)[:, 1:] - (beta[..., None] * V)[..., :, None] * V[..., None, 1:]
        cuts = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(U, cuts, axis=-3))

    def matrices(self) -> tuple:
        """The basis explicitly: one array of shape (T, d, m_i) per block (``O(T d m)`` memory)."""
        return self.to_ambient(np.eye(self.dimension))


def householder_basis(*point) -> TangentBasis:
    """The :class:`TangentBasis` at the unit-column blocks ``point`` (e.g. ``W, H``).

    Blocks of shapes (d, m_i), or stacks (B, d, m_i) of ``B`` points: then the basis
    holds one basis per point, with coordinates (B, T) and blocks (B, d, m_i).
    """
    X = np.concatenate(point, axis=-1)
    V = X.copy()
    V[..., 0, :] += np.where(X[..., 0, :] >= 0, 1.0, -1.0)    # |v_c[0]| >= 1: no cancellation
    return TangentBasis(X.shape[-2], tuple(x.shape[-1] for x in point), V)


def tangent_basis(problem, *point) -> TangentBasis:
    """An orthonormal basis of the tangent space at ``point``, dimension ``(d - 1) sum(m_i)``.

    For problem (4): ``T_W OB(d, K) x T_H OB(d, N)``, dimension ``(d - 1)(K + N)``.
    Returns a :class:`TangentBasis`; ``TangentBasis.matrices()`` gives it explicitly.
    """
    return householder_basis(*as_point(check_problem(problem), *point))


def hessian_matrix(problem, *point, basis: TangentBasis | None = None, chunk: int = 256,
                   method: str = "auto") -> np.ndarray:
    """The Riemannian Hessian (for problem (4) eqs. (7)-(8)) in the basis of :func:`tangent_basis`.

    Parameters
    ----------
    method : {"auto", "blocks", "products"}
        "blocks": assembled from the closed-form blocks of the Euclidean Hessian (the
        Hessian operator's ``matrix`` method, :func:`~nc_verify.objective.problem.riemannian_hessian_matrix`
        for problem (4): Kronecker structure in ``W`` and ``H``, no Hessian-vector
        products); "products": ``T`` Hessian-vector products, ``chunk`` basis vectors at
        a time, symmetrised (the operator is symmetric; the two triangles differ by
        rounding); "auto": "blocks" where the problem's operator has it, else "products".

    Returns
    -------
    ndarray, shape (T, T), ``T = (d - 1) sum(m_i)`` (``(d - 1)(K + N)`` for problem (4)).

    Raises
    ------
    ValueError
        ``T`` so large that the matrix and its temporaries (``3 * 8 T^2`` bytes,
        :func:`~nc_verify.utils.budget.hessian_matrix_bytes`) exceed the memory budget:
        refused before any work.
    """
    p = check_problem(problem)
    check_choice(method, "method", ("auto", "blocks", "products"))
    check_memory(hessian_matrix_bytes(p.tangent_dimension),
                 f"a dense Hessian matrix at tangent dimension {p.tangent_dimension}")
    point = as_point(p, *point)
    op = p.hessian_operator(*point)
    B = householder_basis(*point) if basis is None else basis
    chunk = check_int(chunk, "chunk", 1)
    has_blocks = callable(getattr(op, "matrix", None))
    if method == "blocks" and not has_blocks:
        raise ValueError(f"method='blocks' needs a Hessian operator with a matrix method; "
                         f"{type(p).__name__}'s has none (use 'products')")
    if method != "products" and has_blocks:
        return op.matrix(*B.column_bases())
    T = B.dimension
    A = np.empty((T, T))
    for start in range(0, T, chunk):
        stop = min(start + chunk, T)
        E = np.zeros((stop - start, T))
        E[np.arange(stop - start), np.arange(start, stop)] = 1.0
        A[start:stop] = B.from_ambient(*apply_hessian(op, B.to_ambient(E)))
    return 0.5 * (A + A.T)


def hessian_spectrum(problem, *point) -> np.ndarray:
    """All ``(d - 1) sum(m_i)`` eigenvalues of the Riemannian Hessian, ascending."""
    return symmetric_eigh(hessian_matrix(problem, *point), eigvals_only=True)


def random_tangent(point, rng) -> tuple:
    """A random unit-norm tangent vector at ``point`` (tuple of blocks)."""
    v = tuple(project_columns(x, rng.standard_normal(x.shape)) for x in point)
    nrm = norm(v)
    return tuple(x / nrm for x in v)


def _power_scale(op, point, rng, steps: int = 6) -> float:
    """A few power iterations: an estimate (lower bound) of ``||Hess||_2``; ``steps`` products."""
    v = tuple(project_columns(x, rng.standard_normal(x.shape)) for x in point)
    est = 0.0
    for _ in range(steps):
        nrm = norm(v)
        if nrm == 0.0:
            return est
        v = apply_hessian(op, tuple(x / nrm for x in v))
        est = max(est, norm(v))
    return est


def _lanczos_min(problem, point, *, tol: float, rng):
    """Smallest eigenpair by ARPACK on ``(c P - Hess P) / s`` in the ambient space.

    ``P`` is the tangent projection, ``s`` a power-iteration estimate of
    ``||Hess||`` and ``c = 2 s``.  Every tangent eigenvalue ``lambda`` becomes
    ``(c - lambda) / s`` (order one), the normal space maps to 0, so the largest
    algebraic eigenvalue is ``(c - lambda_min) / s`` and ARPACK's relative
    stopping test ``tol`` means an absolute residual of about ``tol * s``
    whatever the temperature.  The returned eigenvalue is the Rayleigh quotient
    of the returned unit direction, computed without the shift.
    """
    op = problem.hessian_operator(*point)
    d = problem.d
    cuts = np.cumsum([x.shape[1] for x in point])[:-1]
    n_products = [0]

    def tangent(x):
        return tuple(project_columns(p, v) for p, v in zip(point, np.split(x.reshape(d, -1), cuts, axis=1)))

    scale = _power_scale(op, point, rng)
    n_products[0] += 6
    if scale == 0.0:
        return 0.0, random_tangent(point, rng), {"products": n_products[0], "residual": 0.0, "scale": 0.0}
    shift = 2.0 * scale

    def matvec(x):
        v = tangent(np.ravel(x))
        h = apply_hessian(op, v)
        n_products[0] += 1
        return (np.concatenate([shift * a - b for a, b in zip(v, h)], axis=1) / scale).ravel()

    n = d * int(sum(x.shape[1] for x in point))
    A = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.concatenate(random_tangent(point, rng), axis=1).ravel()
    _, vecs = eigsh(A, k=1, which="LA", v0=v0, tol=tol, ncv=min(n, 24))
    v = tangent(vecs[:, 0])
    nrm = norm(v)
    v = tuple(x / nrm for x in v)
    h = apply_hessian(op, v)
    n_products[0] += 1
    lam = float(sum(np.sum(a * b) for a, b in zip(v, h)))
    residual = norm(tuple(b - lam * a for a, b in zip(v, h)))
    return lam, v, {"products": n_products[0], "residual": residual, "scale": scale}


def min_hessian_eigenpair(problem, *point, method: str = "auto", tol: float = 1e-10,
                          rng=None, full_output: bool = False):
    """Smallest eigenvalue of the Riemannian Hessian and a unit tangent eigenvector.

    Parameters
    ----------
    problem : ManifoldProblem
        Problem (4) (:class:`~nc_verify.objective.problem.UFMProblem`) or any problem
        of the problem protocol.
    *point : ndarray
        The point's blocks: ``W, H`` of shapes (d, K) and (d, N) for problem (4).
    method : {"auto", "dense", "lanczos"}
        "dense" diagonalises :func:`hessian_matrix`; "lanczos" runs ARPACK
        (``scipy.sparse.linalg.eigsh``) matrix-free on the shifted, scaled operator
        ``(2 s P - Hess P) / s`` (``s`` a power-iteration estimate of ``||Hess||``),
        which needs only Hessian-vector products and ``O(d m)`` memory per
        Lanczos vector; "auto" is "dense" up to tangent dimension
        :data:`DENSE_LIMIT` and "lanczos" above.
    tol : float
        ARPACK's relative tolerance (Lanczos only): residual about ``tol * ||Hess||``.
    rng : numpy Generator, int or None
        Start vector of the Lanczos iteration.
    full_output : bool
        Also return a dict with ``method``, ``products`` (Hessian-vector products
        used, Lanczos) and ``residual`` ``||Hess v - lambda v||``.

    Returns
    -------
    lambda_min : float
        For "lanczos" the Rayleigh quotient of the direction, an upper bound on the
        true smallest eigenvalue (so ``lambda_min < 0`` is never a Lanczos artefact).
    direction : tuple of ndarray
        Unit-norm tangent direction (``(dW, dH)`` for problem (4)) with
        ``Hess[direction] ~ lambda_min direction``.
    """
    p = check_problem(problem)
    check_choice(method, "method", METHODS)
    tol = check_positive_float(tol, "tol")
    point = as_point(p, *point)
    rng = as_rng(rng)
    if method == "auto":
        method = "dense" if p.tangent_dimension <= DENSE_LIMIT else "lanczos"
    if method == "lanczos":
        lam, direction, info = _lanczos_min(p, point, tol=tol, rng=rng)
    else:
        B = householder_basis(*point)
        A = hessian_matrix(p, *point, basis=B)
        vals, vecs = symmetric_eigh(A)
        lam = float(vals[0])
        direction = B.to_ambient(vecs[:, 0])
        residual = float(np.linalg.norm(A @ vecs[:, 0] - lam * vecs[:, 0]))
        info = {"products": B.dimension, "residual": residual, "scale": float(np.max(np.abs(A)))}
    info["method"] = method
    return (lam, direction, info) if full_output else (lam, direction)


def count_zero_eigenvalues(eigenvalues, resolution: float):
    """Number of zero eigenvalues, placed at the largest relative gap of ``|lambda|``.

    The sorted magnitudes ``a_1 <= a_2 <= ...`` are cut where ``a_{i+1} / max(a_i,
    resolution)`` is largest, among cuts whose zeros satisfy ``a_i <= sqrt(resolution
    * a_max)`` (a zero must lie at least halfway, on a log scale, from the
    spectrum's size towards its resolution).  Returns ``(n_zero, gap_ratio)``:
    ``gap_ratio`` is the ratio at the cut (large = clear-cut count).
    """
    a = np.sort(np.abs(np.asarray(eigenvalues, dtype=np.float64)))
    if a.size == 0 or a[-1] == 0.0:
        return int(a.size), float("inf")
    floor = max(float(resolution), np.finfo(np.float64).tiny)
    ceiling = np.sqrt(floor * a[-1])
    best, best_ratio = 0, a[0] / floor
    for i in range(1, a.size):
        if a[i - 1] > ceiling:
            break
        ratio = a[i] / max(a[i - 1], floor)
        if ratio > best_ratio:
            best, best_ratio = i, ratio
    return best, float(best_ratio)
