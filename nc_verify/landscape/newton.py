"""Root-finders for the Riemannian gradient of problem (4): Levenberg-Marquardt and pseudo-inverse Newton.

Critical points are the zeros of the Riemannian gradient (eqs. (5)-(6)).
:func:`levenberg_marquardt` minimises ``phi = 1/2 ||grad f||^2`` on the manifold
(on this manifold ``grad phi = Hess f[grad f]`` exactly, so the Gauss-Newton model
of ``grad f`` has Jacobian ``Hess f``), then :func:`newton_polish` takes
pseudo-inverse Newton steps (least squares: the Hessian is singular along the
rotation orbit).  Both work in an orthonormal tangent basis with the dense Hessian.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nc_verify.landscape.rounding import EPS, gradient_rounding
from nc_verify.landscape.spectrum import hessian_matrix, symmetric_eigh, tangent_basis


def retract(W, H, dW, dH):
    """Normalising retraction of the oblique manifold: ``(W + dW, H + dH)`` with unit columns."""
    W2, H2 = W + dW, H + dH
    return W2 / np.linalg.norm(W2, axis=0), H2 / np.linalg.norm(H2, axis=0)


def gradient_scale(problem, W, H) -> float:
    """Size of the terms that cancel in ``grad f`` (eqs. (5)-(6)), for rounding estimates.

    ``||tau H G^T|| + ||W ddiag(M G^T)|| + ||tau W G|| + ||H ddiag(M^T G)||`` (Frobenius).
    """
    s = problem._state(W, H)
    t = problem.tau
    return float(
        np.linalg.norm(t * (H @ s.grad.T)) + np.linalg.norm(W * s.row_curvature)
        + np.linalg.norm(t * (W @ s.grad)) + np.linalg.norm(H * s.col_curvature)
    )


def gradient_tolerance(problem, W, H, hessian_norm: float) -> float:
    """``||grad f||`` at which ``(W, H)`` is critical to within float64 rounding.

    ``eps (K + N + 2 d tau) * gradient_scale + eps sqrt(d (K + N)) * ||Hess||``
    (:func:`~nc_verify.landscape.rounding.gradient_rounding`): the first term bounds the
    rounding of eqs. (5)-(6) (sums of ``K + N`` terms at most, each softmax term with
    the relative error ``2 d tau eps`` of its logit difference), the second the
    gradient of a point whose coordinates are rounded to float64.
    """
    return gradient_rounding(problem, gradient_scale(problem, W, H), hessian_norm)


@dataclass
class LocalModel:
    """Dense second-order data at one point, in an orthonormal tangent basis.

    Attributes
    ----------
    gradient : ndarray, shape (T,)
        Riemannian gradient (eqs. (5)-(6)) in the basis.
    eigenvalues, eigenvectors : ndarray, shapes (T,), (T, T)
        Spectrum of the Riemannian Hessian (eqs. (7)-(8)) in the basis.
    basis : TangentBasis
    """

    gradient: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    basis: object

    @property
    def gradient_norm(self) -> float:
        return float(np.linalg.norm(self.gradient))

    @property
    def hessian_norm(self) -> float:
        return float(np.max(np.abs(self.eigenvalues)))


def local_quadratic_model(problem, W, H) -> LocalModel:
    B = tangent_basis(problem, W, H)
    g = B.from_ambient(*problem.riemannian_gradient(W, H))
    A = hessian_matrix(problem, W, H, basis=B)
    lam, V = symmetric_eigh(A)
    return LocalModel(g, lam, V, B)


def _step(loc: LocalModel, filt):
    """Tangent step ``-V filt(lambda) V^T g`` as ambient ``(dW, dH)``."""
    c = loc.eigenvectors @ (filt(loc.eigenvalues) * (loc.eigenvectors.T @ loc.gradient))
    return loc.basis.to_ambient(-c)


def pseudo_inverse(eigenvalues: np.ndarray) -> np.ndarray:
    """``1 / lambda`` for ``|lambda| > sqrt(eps) max |lambda|``, 0 otherwise (flat directions left out)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    keep = np.abs(lam) > np.sqrt(EPS) * np.max(np.abs(lam))
    return np.where(keep, 1.0 / np.where(keep, lam, 1.0), 0.0)


def newton_polish(problem, W, H, *, steps: int = 6):
    """Pseudo-inverse Riemannian Newton steps on ``grad f = 0``; keeps a step only if it lowers ``||grad f||``.

    Eigenvalues with ``|lambda| <= sqrt(eps) ||Hess||`` are left out of the
    pseudo-inverse (the rotation orbit and any other flat directions).
    Returns ``(W, H, gradient_norm)``.
    """
    loc = local_quadratic_model(problem, W, H)
    for _ in range(steps):
        if loc.gradient_norm == 0.0 or loc.hessian_norm == 0.0:
            break
        dW, dH = _step(loc, pseudo_inverse)
        W2, H2 = retract(W, H, dW, dH)
        if problem.gradient_norm(W2, H2) >= loc.gradient_norm:
            break
        W, H = W2, H2
        loc = local_quadratic_model(problem, W, H)
    return W, H, loc.gradient_norm


def levenberg_marquardt(problem, W, H, *, max_iterations: int = 60):
    """Levenberg-Marquardt on ``phi = 1/2 ||grad f||^2`` followed by :func:`newton_polish`.

    Step ``-(Hess^2 + mu I)^{-1} Hess grad f`` (Gauss-Newton model of ``grad f``
    with Jacobian ``Hess f``), damping ``mu`` adapted by acceptance.
    Returns ``(W, H, gradient_norm)``.
    """
    loc = local_quadratic_model(problem, W, H)
    mu = 1e-3 * loc.hessian_norm ** 2
    for _ in range(max_iterations):
        g0 = loc.gradient_norm
        if g0 <= gradient_tolerance(problem, W, H, loc.hessian_norm) or mu == 0.0:
            break
        for _ in range(12):
            dW, dH = _step(loc, lambda lam: lam / (lam * lam + mu))
            W2, H2 = retract(W, H, dW, dH)
            if problem.gradient_norm(W2, H2) < g0:
                W, H = W2, H2
                mu /= 3.0
                break
            mu *= 4.0
        else:
            break
        loc = local_quadratic_model(problem, W, H)
        if loc.gradient_norm < 1e-6 * g0:
            break
    return newton_polish(problem, W, H)


