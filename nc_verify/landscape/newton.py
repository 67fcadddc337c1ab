"""Root-finders for the Riemannian gradient of any protocol problem: Levenberg-Marquardt and pseudo-inverse Newton.

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
from nc_verify.landscape.spectrum import (
    hessian_matrix,
    householder_basis,
    symmetric_eigh,
)
from nc_verify.objective.oblique import retract
from nc_verify.objective.protocol import as_point, blocks, check_problem, norm


#: Levenberg-Marquardt keeps its damping ``mu >= MU_FLOOR ||Hess||_F^2``: ``Hess^2 + mu I`` then
#: stays positive definite in floating point (condition below ``1 / MU_FLOOR``) although the
#: Hessian is singular along the rotation orbit; near a critical point the steps are
#: Newton's for every eigenvalue with ``lambda^2 >> MU_FLOOR ||Hess||^2``.
MU_FLOOR = 1e-12


def gradient_norm(problem, *point) -> float:
    """``||grad f||`` (Frobenius over every block) at a validated point."""
    return norm(blocks(problem.riemannian_gradient(*point)))


def gradient_tolerance(problem, *point, hessian_norm: float) -> float:
    """``||grad f||`` at which ``point`` is critical to within float64 rounding.

    ``eps (m + 2 d tau) * gradient_scale + eps sqrt(d m) * ||Hess||``
    (:func:`~nc_verify.landscape.rounding.gradient_rounding`, ``m = K + N`` for problem
    (4)): the first term bounds the rounding of the gradient (for problem (4) eqs.
    (5)-(6): sums of ``K + N`` terms at most, each softmax term with the relative
    error ``2 d tau eps`` of its logit difference; ``gradient_scale`` is the
    problem's size of the terms that cancel), the second the gradient of a point
    whose coordinates are rounded to float64.
    """
    return gradient_rounding(problem, problem.gradient_scale(*point), hessian_norm)


@dataclass
class LocalModel:
    """Dense second-order data at one point, in an orthonormal tangent basis.

    Attributes
    ----------
    gradient : ndarray, shape (T,)
        Riemannian gradient (eqs. (5)-(6) for problem (4)) in the basis.
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


def local_quadratic_model(problem, *point) -> LocalModel:
    """Gradient and dense Hessian eigen-decomposition at ``point`` (tangent coordinates)."""
    B = householder_basis(*point)
    g = B.from_ambient(*blocks(problem.riemannian_gradient(*point)))
    lam, V = symmetric_eigh(hessian_matrix(problem, *point, basis=B))
    return LocalModel(g, lam, V, B)


def _step(loc: LocalModel, filt) -> tuple:
    """Tangent step ``-V filt(lambda) V^T g`` as ambient blocks."""
    c = loc.eigenvectors @ (filt(loc.eigenvalues) * (loc.eigenvectors.T @ loc.gradient))
    return loc.basis.to_ambient(-c)


def pseudo_inverse(eigenvalues: np.ndarray) -> np.ndarray:
    """``1 / lambda`` for ``|lambda| > sqrt(eps) max |lambda|``, 0 otherwise (flat directions left out).

    ``eigenvalues`` of shape (..., T): one spectrum per row, the maximum taken over the last axis.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    keep = np.abs(lam) > np.sqrt(EPS) * np.max(np.abs(lam), axis=-1, keepdims=True)
    return np.where(keep, 1.0 / np.where(keep, lam, 1.0), 0.0)


def newton_polish(problem, *point, steps: int = 6):
    """Pseudo-inverse Riemannian Newton steps on ``grad f = 0``; keeps a step only if it lowers ``||grad f||``.

    Eigenvalues with ``|lambda| <= sqrt(eps) ||Hess||`` are left out of the
    pseudo-inverse (the rotation orbit and any other flat directions).
    Returns ``(*point, gradient_norm)``: ``(W, H, gradient_norm)`` for problem (4).
    """
    p = check_problem(problem)
    x = as_point(p, *point)
    loc = local_quadratic_model(p, *x)
    for _ in range(steps):
        if loc.gradient_norm == 0.0 or loc.hessian_norm == 0.0:
            break
        x2 = retract(x, _step(loc, pseudo_inverse))
        if gradient_norm(p, *x2) >= loc.gradient_norm:
            break
        x = x2
        loc = local_quadratic_model(p, *x)
    return (*x, loc.gradient_norm)


def levenberg_marquardt(problem, *point, max_iterations: int = 60):
    """Levenberg-Marquardt on ``phi = 1/2 ||grad f||^2`` followed by :func:`newton_polish`.

    Step ``-(A^2 + mu I)^{-1} A g`` (Gauss-Newton model of ``grad f`` with Jacobian
    ``A = Hess f``, by a dense solve), damping ``mu`` (from ``1e-3 ||A||_F^2``) divided
    by 3 when a step lowers ``||grad f||`` (kept above :data:`MU_FLOOR` ``||A||_F^2``),
    else multiplied by 4 and the step retried,
    at most 12 times; stop at rounding level (with ``||A||_F`` for ``||Hess||`` in
    :func:`gradient_tolerance`, an upper bound: the polish goes on from there), after a
    failed round of retries, when ``||grad f||`` fell by ``1e-6`` in one step, or after
    ``max_iterations``.  :func:`~nc_verify.landscape.batched.batched_levenberg_marquardt`
    runs the same iteration on many starts at once.
    Returns ``(*point, gradient_norm)``: ``(W, H, gradient_norm)`` for problem (4).
    """
    p = check_problem(problem)
    x = as_point(p, *point)

    def model(x):
        B = householder_basis(*x)
        A = hessian_matrix(p, *x, basis=B)
        return B, B.from_ambient(*blocks(p.riemannian_gradient(*x))), A, float(np.linalg.norm(A))

    B, g, A, a_norm = model(x)
    mu = 1e-3 * a_norm ** 2
    eye = np.eye(A.shape[0])
    for _ in range(max_iterations):
        g0 = float(np.linalg.norm(g))
        if g0 <= gradient_tolerance(p, *x, hessian_norm=a_norm) or mu == 0.0:
            break
        for _ in range(12):
            step = np.linalg.solve(A @ A + max(mu, MU_FLOOR * a_norm ** 2) * eye, A @ g)
            x2 = retract(x, B.to_ambient(-step))
            if gradient_norm(p, *x2) < g0:
                x = x2
                mu /= 3.0
                break
            mu *= 4.0
        else:
            break
        B, g, A, a_norm = model(x)
        if np.linalg.norm(g) < 1e-6 * g0:
            break
    return newton_polish(p, *x)
