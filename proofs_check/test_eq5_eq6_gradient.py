"""Eqs. (5)-(6): the Riemannian gradient of problem (4).

Claim (Section 2, eqs. (5)-(6)), with M = tau W^T H:

    grad_W f(W, H) = tau H grad g(M)^T - tau W ddiag(W^T H grad g(W)^T)       (5)
    grad_H f(W, H) = tau W grad g(M)   - tau H ddiag(H^T W grad g(M))          (6)

Eq. (5) as printed contains a typo: ``grad g(W)`` must read ``grad g(M)`` (g acts on
K x N matrices). With that correction both equal the tangent projections of the
Euclidean gradient, so the first-order Taylor remainder along the retraction
decays like t^2.
"""

import numpy as np
import pytest

from nc_verify import UFMProblem
from nc_verify.testing import assert_derivatives

SIZES = [(2, 2, 1, 1.0), (6, 4, 2, 1.0), (8, 4, 2, 2.0), (5, 7, 3, 0.05), (20, 5, 3, 20.0)]


def softmax_grad(M, labels):
    """grad g(M) = (softmax(M) - Y) / N, written plainly (moderate tau only)."""
    P = np.exp(M - M.max(axis=0))
    P /= P.sum(axis=0)
    P[labels, np.arange(M.shape[1])] -= 1.0
    return P / M.shape[1]


def eq5_eq6_transcribed(p, W, H):
    """Eqs. (5)-(6) transcribed symbol by symbol, eq. (5) corrected to grad g(M)."""
    G = softmax_grad(p.tau * W.T @ H, p.labels)
    ddiag = lambda A: np.diag(np.diag(A))  # noqa: E731
    gW = p.tau * H @ G.T - p.tau * W @ ddiag(W.T @ H @ G.T)
    gH = p.tau * W @ G - p.tau * H @ ddiag(H.T @ W @ G)
    return gW, gH


def eq5_as_printed(p, W, H):
    """Eq. (5) with the misprint: grad g evaluated at W instead of M (needs d = N = K)."""
    G = softmax_grad(p.tau * W.T @ H, p.labels)
    GW = softmax_grad(W, p.labels)  # "grad g(W)": only defined when W is K x N
    ddiag = lambda A: np.diag(np.diag(A))  # noqa: E731
    gW = p.tau * H @ G.T - p.tau * W @ ddiag(W.T @ H @ GW.T)
    gH = p.tau * W @ G - p.tau * H @ ddiag(H.T @ W @ G)
    return gW, gH


class MisprintedEq5(UFMProblem):
    """Problem (4) with eq. (5) as printed (``grad g(W)`` in the ddiag term)."""

    def riemannian_gradient(self, W, H):
        return eq5_as_printed(self, W, H)


class NoDdiag(UFMProblem):
    """Problem (4) with the ddiag terms of eqs. (5)-(6) dropped: the Euclidean gradient."""

    def riemannian_gradient(self, W, H):
        return self.euclidean_gradient(W, H)


@pytest.mark.parametrize("size", SIZES)
def test_gradient_taylor_slope_is_two(size):
    """Eqs. (5)-(6) corrected: first-order Taylor remainder is O(t^2) along random tangent directions
    (with autograd agreement and tangency: every row of the derivative check)."""
    p = UFMProblem(*size)
    assert_derivatives(p, *p.random_point(1), rng=2, directions=4)


@pytest.mark.parametrize("size", SIZES[:4])
def test_transcription_equals_package(size):
    """The package's gradient equals eqs. (5)-(6) as transcribed (corrected), to rounding."""
    p = UFMProblem(*size)
    W, H = p.random_point(3)
    for a, b in zip(p.riemannian_gradient(W, H), eq5_eq6_transcribed(p, W, H)):
        # both are O(tau) sums of K or N terms: rounding ~ (K + N) eps tau
        np.testing.assert_allclose(a, b, rtol=0, atol=8 * (p.K + p.N) * np.finfo(float).eps * p.tau)


def test_gradient_is_projected_euclidean_gradient():
    """(5)-(6) = P_T(Euclidean gradient): equal on tangent directions, and tangent themselves."""
    p = UFMProblem(7, 4, 2, 1.5)
    W, H = p.random_point(4)
    g = p.riemannian_gradient(W, H)
    e = p.euclidean_gradient(W, H)
    for X, gi, ei in zip((W, H), g, e):
        np.testing.assert_allclose(gi, ei - X * np.sum(X * ei, axis=0), rtol=0, atol=1e-15)
        assert np.max(np.abs(np.sum(X * gi, axis=0))) < 1e-15


def test_misprinted_eq5_is_rejected():
    """Negative control: eq. (5) as printed is undefined in general and wrong where it parses.

    With d != K the printed ``grad g(W)`` has no meaning (shape error); with d = K,
    n = 1 (W square, N = K) it can be evaluated, and its result is not a tangent
    vector: the ddiag term no longer removes the normal component. (Along tangent
    directions it agrees with (5), so the Taylor slope alone cannot see it; the
    tangency and autograd rows of the derivative check do.)
    """
    p = MisprintedEq5(4, 4, 1, 1.0)
    W, H = p.random_point(5)
    with pytest.raises(AssertionError, match=r"\[FAIL\] gradient and Hessian tangent"):
        assert_derivatives(p, W, H, rng=2)
    gW, _ = eq5_as_printed(p, W, H)
    normal = np.max(np.abs(np.sum(W * gW, axis=0))) / np.linalg.norm(gW)
    assert normal > 1e-3
    gW_ok, _ = UFMProblem(4, 4, 1, 1.0).riemannian_gradient(W, H)
    assert np.max(np.abs(np.sum(W * gW_ok, axis=0))) / np.linalg.norm(gW_ok) < 1e-14
    q = UFMProblem(5, 4, 2, 1.0)
    with pytest.raises((ValueError, IndexError)):
        eq5_as_printed(q, *q.random_point(5))


def test_dropping_the_ddiag_term_is_rejected():
    """Negative control: without the ddiag(.) terms (the Euclidean gradient) the result is not tangent."""
    p = NoDdiag(6, 3, 2, 1.0)
    W, H = p.random_point(7)
    with pytest.raises(AssertionError, match=r"\[FAIL\] gradient == autograd[\s\S]*\[FAIL\] gradient and Hessian"):
        assert_derivatives(p, W, H, rng=2)
    EW, EH = p.euclidean_gradient(W, H)
    assert np.max(np.abs(np.sum(W * EW, axis=0))) > 1e-3
    assert np.max(np.abs(np.sum(H * EH, axis=0))) > 1e-3
