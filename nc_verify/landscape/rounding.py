"""Rounding levels of computed costs, gradients and Hessian eigenvalues (one place for each formula).

Every problem of the problem protocol (:mod:`nc_verify.objective.protocol`) is a
loss of a logit matrix ``M = tau X^T Y`` over ``m`` unit columns (``m = K + N``
for problem (4), ``m = N`` for SupCon).  Each logit is a ``d``-term dot product,
so a logit difference carries an absolute error of about ``2 d eps tau``, which is
a relative error ``2 d tau eps`` of every softmax term; sums over the ``m``
columns add ``m eps``.  Every threshold below is built from these two terms.
"""

from __future__ import annotations

import numpy as np

from nc_verify.objective.protocol import n_columns

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny
#: The subnormal spacing 2^-1074: the absolute error of a quantity computed below ``TINY``.
SUBNORMAL = float(np.nextafter(0.0, 1.0))


def relative_rounding(problem) -> float:
    """``(m + 2 d tau) eps``: relative rounding error of the loss terms (module docstring)."""
    return (n_columns(problem) + 2 * problem.d * problem.tau) * EPS


def cost_resolution(problem, value: float) -> float:
    """Rounding level of a computed cost near ``value``: ``(m + 2 d tau) eps |value|``."""
    return relative_rounding(problem) * max(abs(value), TINY)


def gradient_rounding(problem, gradient_scale: float, hessian_norm: float) -> float:
    """``||grad f||`` at which a point is critical to within float64 rounding.

    ``(m + 2 d tau) eps * gradient_scale + eps sqrt(d m) ||Hess||``: the rounding of
    the gradient formula (``gradient_scale`` is the size of the terms that cancel),
    plus the gradient of a point whose ``d m`` coordinates are rounded to float64
    (an ``eps``-sized displacement moves the gradient by ``||Hess||`` times it).
    """
    m = n_columns(problem)
    return relative_rounding(problem) * gradient_scale + EPS * np.sqrt(problem.d * m) * hessian_norm


def eigenvalue_floor(problem, hessian_norm: float) -> float:
    """``(T + 2 d tau) eps ||Hess|| + T m (tau + 1)^2 2^-1074``: eigensolver backward error plus
    the softmax terms' rounding, relative and (below the smallest normal double) absolute.

    The second term matters only where the curvature is subnormal (large ``tau``, where
    the probabilities ``exp(-tau ...)`` fall below ``TINY``): a subnormal probability carries
    an absolute error up to the spacing ``2^-1074``, not a relative ``eps``; each Hessian entry
    sums ``m`` such terms with coefficients up to about ``(tau + 1)^2`` (two logit
    derivatives and the sphere's curvature), and an eigenvalue moves by up to ``T`` entries'
    errors.  At ``(6, 4, 1)``, ``tau = 735`` the cross-polytope's ``lambda_min = -2.3e-317``
    (seven significant bits) was called resolved against a floor of 0.
    """
    T = problem.tangent_dimension
    return ((T + 2 * problem.d * problem.tau) * EPS * hessian_norm
            + T * n_columns(problem) * (problem.tau + 1.0) ** 2 * SUBNORMAL)


def eigenvalue_resolution(problem, hessian_norm: float, gradient_norm: float, sigma: float) -> float:
    """Resolution of a Hessian eigenvalue at a computed critical point.

    :func:`eigenvalue_floor` plus ``(tau + 2) ||Hess|| ||grad f|| / sigma``: the exact
    critical point lies about ``||grad f|| / sigma`` away (``sigma`` the smallest
    eigenvalue magnitude outside the zero cluster) and the Hessian changes by about
    ``(tau + 2) ||Hess||`` per unit distance.
    """
    return eigenvalue_floor(problem, hessian_norm) + (problem.tau + 2.0) * hessian_norm * gradient_norm / sigma


def gap_resolution(problem, cost: float, reference: float, gradient_norm: float, sigma: float) -> float:
    """Resolution of ``f - reference``: rounding of both values plus ``||grad f||^2 / sigma``.

    ``||grad f||^2 / sigma`` is the cost difference to the exact critical point nearby.
    A NaN ``reference`` counts as absent.
    """
    ref = 0.0 if np.isnan(reference) else abs(reference)
    return cost_resolution(problem, max(abs(cost), ref)) + gradient_norm * gradient_norm / sigma
