"""The Riemannian Hessian of problem (4) as a matrix, its spectrum and its smallest eigenpair.

Tools that Manopt (MATLAB) calls ``tangentorthobasis``, ``hessianmatrix``,
``hessianspectrum`` and ``hessianextreme``, written for problem (4) on
``OB(d, K) x OB(d, N)``.  Every Hessian value comes from
:class:`~nc_verify.objective.problem.HessianOperator` (eqs. (7)-(8), cancellation-free), so
the matrix entries keep their relative accuracy at any temperature.

Tangent coordinates: the tangent space at ``(W, H)`` is the product of the
``K + N`` spaces ``x_c^perp`` of the columns ``x_c`` of ``[W, H]``.  Column ``c``
gets the orthonormal basis formed by columns ``2..d`` of the Householder
reflection that maps ``e_1`` to ``+-x_c``; coordinate ``c (d - 1) + a`` is the
``a``-th basis vector of column ``c`` (columns of ``W`` first).  The basis is
stored implicitly (one Householder vector per column, ``O(d (K + N))`` memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, eigh
from scipy.sparse.linalg import LinearOperator, eigsh

from nc_verify.landscape.rounding import EPS
from nc_verify.objective.problem import UFMProblem, project_columns
from nc_verify.utils.validation import (
    as_rng,
    check_choice,
    check_instance,
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
    """An orthonormal basis of the tangent space of ``OB(d, K) x OB(d, N)`` at ``(W, H)``.

    Attributes
    ----------
    d, K, N : int
    householder : ndarray, shape (d, K + N)
        Householder vectors ``v_c = x_c + sign(x_c[0]) e_1`` of the columns of ``[W, H]``.
    """

    d: int
    K: int
    N: int
    householder: np.ndarray

    @property
    def dimension(self) -> int:
        """``(d - 1)(K + N)``."""
        return (self.d - 1) * (self.K + self.N)

    def _reflect(self, Z: np.ndarray) -> np.ndarray:
        V = self.householder
        beta = 2.0 / np.sum(V * V, axis=0)
        return Z - V * (beta * np.sum(V * Z, axis=-2, keepdims=True))

    def to_ambient(self, coords: np.ndarray):
        """Tangent vectors ``(dW, dH)`` of shapes (..., d, K), (..., d, N) from coordinates (..., T)."""
        coords = np.asarray(coords, dtype=np.float64)
        m = self.K + self.N
        lead = coords.shape[:-1]
        C = coords.reshape(lead + (m, self.d - 1))
        Z = np.zeros(lead + (self.d, m))
        Z[..., 1:, :] = np.swapaxes(C, -1, -2)
        Z = self._reflect(Z)
        return Z[..., : self.K], Z[..., self.K:]

    def from_ambient(self, dW: np.ndarray, dH: np.ndarray) -> np.ndarray:
        """Coordinates (..., T) of the tangent projection of ``(dW, dH)``."""
        Z = self._reflect(np.concatenate([dW, dH], axis=-1))
        C = np.swapaxes(Z[..., 1:, :], -1, -2)
        return C.reshape(C.shape[:-2] + (self.dimension,))

    def matrices(self):
        """The basis explicitly: arrays of shapes (T, d, K) and (T, d, N) (``O(T d (K + N))`` memory)."""
        return self.to_ambient(np.eye(self.dimension))


def tangent_basis(problem: UFMProblem, W, H) -> TangentBasis:
    """An orthonormal basis of ``T_W OB(d, K) x T_H OB(d, N)``, dimension ``(d - 1)(K + N)``.

    Returns a :class:`TangentBasis`; ``TangentBasis.matrices()`` gives it explicitly.
    """
    p = check_instance(problem, "problem", UFMProblem)
    W, H = p.check_point(W, H)
    return householder_basis(np.concatenate([W, H], axis=1), p.K)


def householder_basis(X: np.ndarray, K: int) -> TangentBasis:
    """The :class:`TangentBasis` at the unit columns ``X = [W, H]`` (``K`` columns of ``W``; 0 without ``W``)."""
    V = X.copy()
    V[0] += np.where(X[0] >= 0, 1.0, -1.0)    # |v_c[0]| >= 1: no cancellation
    return TangentBasis(X.shape[0], K, X.shape[1] - K, V)


def hessian_matrix(problem: UFMProblem, W, H, *, basis: TangentBasis | None = None,
                   chunk: int = 256) -> np.ndarray:
    """The Riemannian Hessian (eqs. (7)-(8)) in the basis of :func:`tangent_basis`.

    Built from batched Hessian-vector products, ``chunk`` basis vectors at a time,
    and symmetrised (the operator is symmetric; the two triangles differ by rounding).

    Returns
    -------
    ndarray, shape (T, T), ``T = (d - 1)(K + N)``.
    """
    p = check_instance(problem, "problem", UFMProblem)
    op = p.hessian_operator(W, H)
    B = tangent_basis(p, op.W, op.H) if basis is None else basis
    chunk = check_int(chunk, "chunk", 1)
    T = B.dimension
    A = np.empty((T, T))
    for start in range(0, T, chunk):
        stop = min(start + chunk, T)
        E = np.zeros((stop - start, T))
        E[np.arange(stop - start), np.arange(start, stop)] = 1.0
        A[start:stop] = B.from_ambient(*op(*B.to_ambient(E)))
    return 0.5 * (A + A.T)


def hessian_spectrum(problem: UFMProblem, W, H) -> np.ndarray:
    """All ``(d - 1)(K + N)`` eigenvalues of the Riemannian Hessian, ascending."""
    return symmetric_eigh(hessian_matrix(problem, W, H), eigvals_only=True)


def _power_scale(op, rng, steps: int = 6) -> float:
    """A few power iterations: an estimate (lower bound) of ``||Hess||_2``; ``steps`` products."""
    dW = project_columns(op.W, rng.standard_normal(op.W.shape))
    dH = project_columns(op.H, rng.standard_normal(op.H.shape))
    est = 0.0
    for _ in range(steps):
        nrm = np.sqrt(np.sum(dW * dW) + np.sum(dH * dH))
        if nrm == 0.0:
            return est
        dW, dH = op(dW / nrm, dH / nrm)
        est = max(est, float(np.sqrt(np.sum(dW * dW) + np.sum(dH * dH))))
    return est


def _lanczos_min(problem: UFMProblem, W, H, *, tol: float, rng):
    """Smallest eigenpair by ARPACK on ``(c P - Hess P) / s`` in the ambient space.

    ``P`` is the tangent projection, ``s`` a power-iteration estimate of
    ``||Hess||`` and ``c = 2 s``.  Every tangent eigenvalue ``lambda`` becomes
    ``(c - lambda) / s`` (order one), the normal space maps to 0, so the largest
    algebraic eigenvalue is ``(c - lambda_min) / s`` and ARPACK's relative
    stopping test ``tol`` means an absolute residual of about ``tol * s``
    whatever the temperature.  The returned eigenvalue is the Rayleigh quotient
    of the returned unit direction, computed without the shift.
    """
    op = problem.hessian_operator(W, H)
    d, K, N = problem.d, problem.K, problem.N
    n_products = [0]

    def hess(x):
        X = x.reshape(d, K + N)
        dW, dH = project_columns(op.W, X[:, :K]), project_columns(op.H, X[:, K:])
        n_products[0] += 1
        return dW, dH, op(dW, dH)

    scale = _power_scale(op, rng)
    n_products[0] += 6
    if scale == 0.0:
        dW, dH = problem.random_tangent(op.W, op.H, rng)
        return 0.0, (dW, dH), {"products": n_products[0], "residual": 0.0, "scale": 0.0}
    shift = 2.0 * scale

    def matvec(x):
        dW, dH, (hW, hH) = hess(np.ravel(x))
        return (np.concatenate([shift * dW - hW, shift * dH - hH], axis=1) / scale).ravel()

    n = d * (K + N)
    A = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.concatenate(problem.random_tangent(op.W, op.H, rng), axis=1).ravel()
    _, vecs = eigsh(A, k=1, which="LA", v0=v0, tol=tol, ncv=min(n, 24))
    V = vecs[:, 0].reshape(d, K + N)
    dW, dH = project_columns(op.W, V[:, :K]), project_columns(op.H, V[:, K:])
    nrm = np.sqrt(np.sum(dW * dW) + np.sum(dH * dH))
    dW, dH = dW / nrm, dH / nrm
    hW, hH = op(dW, dH)
    n_products[0] += 1
    lam = float(np.sum(dW * hW) + np.sum(dH * hH))
    residual = float(np.sqrt(np.sum((hW - lam * dW) ** 2) + np.sum((hH - lam * dH) ** 2)))
    return lam, (dW, dH), {"products": n_products[0], "residual": residual, "scale": scale}


def min_hessian_eigenpair(problem: UFMProblem, W, H, method: str = "auto", *, tol: float = 1e-10,
                          rng=None, full_output: bool = False):
    """Smallest eigenvalue of the Riemannian Hessian and a unit tangent eigenvector.

    Parameters
    ----------
    problem : UFMProblem
    W, H : ndarray, shapes (d, K) and (d, N)
    method : {"auto", "dense", "lanczos"}
        "dense" diagonalises :func:`hessian_matrix`; "lanczos" runs ARPACK
        (``scipy.sparse.linalg.eigsh``) matrix-free on the shifted, scaled operator
        ``(2 s P - Hess P) / s`` (``s`` a power-iteration estimate of ``||Hess||``),
        which needs only Hessian-vector products and ``O(d (K + N))`` memory per
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
    (dW, dH) : ndarrays, shapes (d, K), (d, N)
        Unit-norm tangent direction with ``Hess[dW, dH] ~ lambda_min (dW, dH)``.
    """
    p = check_instance(problem, "problem", UFMProblem)
    check_choice(method, "method", METHODS)
    tol = check_positive_float(tol, "tol")
    W, H = p.check_point(W, H)
    rng = as_rng(rng)
    if method == "auto":
        method = "dense" if p.tangent_dimension <= DENSE_LIMIT else "lanczos"
    if method == "lanczos":
        lam, direction, info = _lanczos_min(p, W, H, tol=tol, rng=rng)
    else:
        B = tangent_basis(p, W, H)
        A = hessian_matrix(p, W, H, basis=B)
        vals, vecs = symmetric_eigh(A)
        lam = float(vals[0])
        direction = B.to_ambient(vecs[:, 0])
        residual = float(np.linalg.norm(A @ vecs[:, 0] - lam * vecs[:, 0]))
        info = {"products": B.dimension, "residual": residual, "scale": float(np.max(np.abs(A)))}
    info["method"] = method
    return (lam, direction, info) if full_output else (lam, direction)


def symmetry_orbit_dimension(W, H, *, rtol: float | None = None) -> int:
    """Dimension of the orbit of ``(W, H)`` under a common rotation ``Q in O(d)``.

    ``d(d-1)/2 - (d-r)(d-r-1)/2`` where ``r`` is the rank of ``[W, H]``: rotations
    fixing the span of the configuration pointwise form ``O(d - r)``.

    Parameters
    ----------
    W, H : array_like, shapes (d, K) and (d, N)
    rtol : float, optional
        Singular values of ``[W, H]`` at most ``rtol * s_max`` count as zero.
        Default ``sqrt(eps)``: points found by a solver carry errors of the
        order of (gradient norm) / (curvature), and a point refined to a gradient
        at rounding level puts its spurious directions far below ``sqrt(eps)``,
        while a genuine direction of a critical point has an ``O(1)`` singular value.
    """
    W = np.asarray(W, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    if W.ndim != 2 or H.ndim != 2 or W.shape[0] != H.shape[0]:
        raise ValueError(f"W and H must be 2-D with the same number of rows, got {W.shape}, {H.shape}")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(H))):
        raise ValueError("W and H must be finite")
    rtol = np.sqrt(EPS) if rtol is None else check_positive_float(rtol, "rtol")
    d = W.shape[0]
    s = np.linalg.svd(np.concatenate([W, H], axis=1), compute_uv=False)
    r = int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
    return d * (d - 1) // 2 - (d - r) * (d - r - 1) // 2


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
