"""Tangent basis, Hessian matrix and spectrum, Lanczos eigenpair."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from nc_verify import (
    HessianOperator, UFMProblem, hessian_matrix, hessian_spectrum, min_hessian_eigenpair, random_orthogonal,
    symmetry_orbit_dimension, tangent_basis,
)
from nc_verify.objective import families as F
from nc_verify.landscape.spectrum import count_zero_eigenvalues

EPS = np.finfo(float).eps


class TestTangentBasis:
    def test_orthonormal_and_tangent(self):
        p = UFMProblem(5, 3, 2, 1.0)
        W, H = p.random_point(0)
        B = tangent_basis(p, W, H)
        bW, bH = B.matrices()
        assert B.dimension == p.tangent_dimension == 4 * 9
        G = np.einsum("iab,jab->ij", bW, bW) + np.einsum("iab,jab->ij", bH, bH)
        assert np.max(np.abs(G - np.eye(B.dimension))) <= 10 * EPS
        assert np.max(np.abs(np.sum(bW * W, axis=1))) <= 10 * EPS
        assert np.max(np.abs(np.sum(bH * H, axis=1))) <= 10 * EPS

    def test_round_trip(self):
        p = UFMProblem(4, 3, 1, 1.0)
        W, H = p.random_point(1)
        B = tangent_basis(p, W, H)
        c = np.random.default_rng(2).standard_normal(B.dimension)
        assert np.allclose(B.from_ambient(*B.to_ambient(c)), c, rtol=0, atol=10 * EPS * np.abs(c).max())


class TestHessianMatrix:
    def test_matches_quadratic_form(self):
        # eqs. (7)-(8) term by term against the matrix built from batched products
        p = UFMProblem(5, 3, 2, 2.0)
        W, H = p.random_point(3)
        B = tangent_basis(p, W, H)
        A = hessian_matrix(p, W, H, basis=B)
        assert np.array_equal(A, A.T)
        c = np.random.default_rng(4).standard_normal(B.dimension)
        q = p.hessian_quadratic_form(W, H, *B.to_ambient(c))
        assert c @ A @ c == pytest.approx(q, rel=1e-12, abs=1e-12 * np.abs(A).max() * c @ c)

    def test_etf_kernel_is_the_orbit(self):
        p = UFMProblem(6, 4, 2, 1.0)
        W, H = F.global_etf(p)
        ev = hessian_spectrum(p, W, H)
        orbit = symmetry_orbit_dimension(W, H)
        assert orbit == 15 - 3              # the ETF spans r = 3 dims: d(d-1)/2 - (d-r)(d-r-1)/2
        n_zero, gap = count_zero_eigenvalues(ev, ev.size * EPS * np.abs(ev).max())
        assert n_zero == orbit == 12        # FACTS: 12 at d=6, K=4 (span of the ETF is 3-dim)
        assert gap > 1e6

    @pytest.mark.parametrize("K,n,tau", [(3, 1, 1.0), (4, 2, 1.0), (5, 2, 3.0)])
    def test_anti_aligned_closed_form(self, K, n, tau):
        # FACTS: lambda_min = -tau (1 + 1/n) / (K - 1 + exp(-tau K/(K-1))) at the anti-aligned ETF
        p = UFMProblem(K + 2, K, n, tau)
        lam, _ = min_hessian_eigenpair(p, *F.anti_aligned_etf(p), method="dense")
        assert lam == pytest.approx(-tau * (1 + 1 / n) / (K - 1 + np.exp(-tau * K / (K - 1))), rel=1e-12)

    @pytest.mark.parametrize("tau", [1.0, 6.0, 20.0, 50.0])
    def test_cross_polytope_closed_form(self, tau):
        # FACTS closed form for K = 4, n = 1; relative accuracy survives tau = 50 (value ~ -5e-21)
        p = UFMProblem(6, 4, 1, tau)
        lam, _ = min_hessian_eigenpair(p, *F.cross_polytope(p), method="dense")
        exact = -(tau / 2) * (1 - np.exp(-tau)) / (np.exp(tau) + np.exp(-tau) + 2)
        assert lam == pytest.approx(exact, rel=1e-10)


class TestMinEigenpair:
    @given(seed=st.integers(0, 2**31 - 1), tau=st.floats(0.1, 10.0))
    def test_dense_and_lanczos_agree(self, seed, tau):
        p = UFMProblem(5, 3, 2, tau)
        W, H = p.random_point(seed)
        l1, (dW, dH) = min_hessian_eigenpair(p, W, H, method="dense")
        l2, (eW, eH), info = min_hessian_eigenpair(p, W, H, method="lanczos", rng=seed, full_output=True)
        S = np.max(np.abs(hessian_spectrum(p, W, H)))
        # Rayleigh quotient >= lambda_min; ARPACK tol 1e-10 relative to ||Hess|| (residual^2/gap smaller)
        assert l2 >= l1 - 100 * EPS * S
        assert l2 - l1 <= 1e-8 * S
        for a, b, lam in ((dW, dH, l1), (eW, eH, l2)):
            assert np.sum(a * a) + np.sum(b * b) == pytest.approx(1.0, rel=1e-12)
            # the direction's Rayleigh quotient (eqs. (7)-(8) term by term) is lambda_min
            assert p.hessian_quadratic_form(W, H, a, b) == pytest.approx(lam, abs=1e-10 * S)

    @given(seed=st.integers(0, 2**31 - 1))
    def test_spectrum_invariant_under_rotation(self, seed):
        p = UFMProblem(4, 3, 1, 2.0)
        W, H = p.random_point(seed)
        Q = random_orthogonal(4, seed + 1)
        a, b = hessian_spectrum(p, W, H), hessian_spectrum(p, Q @ W, Q @ H)
        assert np.max(np.abs(a - b)) <= 1e3 * EPS * np.abs(a).max()   # T * eps * ||Hess||, T = 15

    def test_bad_input(self):
        p = UFMProblem(4, 3, 1, 1.0)
        W, H = p.random_point(0)
        with pytest.raises(ValueError, match="method"):
            min_hessian_eigenpair(p, W, H, method="qr")
        with pytest.raises(ValueError, match="shape"):
            hessian_matrix(p, W[:, :2], H)
        with pytest.raises(ValueError, match="unit-norm"):
            hessian_spectrum(p, 2 * W, H)
        with pytest.raises(ValueError, match="tol"):
            min_hessian_eigenpair(p, W, H, tol=-1.0)
        with pytest.raises(TypeError, match="problem must implement the problem protocol"):
            tangent_basis(None, W, H)
        with pytest.raises(TypeError, match="method= are keyword-only"):
            min_hessian_eigenpair(p, W, H, "dense")
        with pytest.raises(TypeError, match="has 2 block"):
            hessian_matrix(p, W)


@pytest.mark.parametrize("d, K, n, tau", [(5, 3, 2, 1.0), (6, 4, 2, 50.0), (4, 2, 3, 0.3),
                                        (2 * HessianOperator.ROW_BLOCK + 5, 3, 2, 2.0)])
def test_block_assembly_matches_products(d, K, n, tau):
    """The dense Hessian from its closed-form blocks equals the one built from T Hessian-vector
    products: two independent evaluations of eqs. (7)-(8), each entry a sum of O(K) terms of size
    ||Hess||, so they agree to a few eps ||Hess|| (1e-14 leaves a factor ~50).  The last size
    runs the operator's row blocks (three, the last one short) and batches of 256 products."""
    p = UFMProblem(d, K, n, tau)
    for W, H in (p.random_point(1), F.global_etf(p), F.anti_aligned_etf(p)):
        A = hessian_matrix(p, W, H, method="blocks")
        B = hessian_matrix(p, W, H, method="products")
        assert np.array_equal(A, A.T)
        assert np.max(np.abs(A - B)) <= 1e-14 * np.max(np.abs(B))
    with pytest.raises(ValueError, match="method"):
        hessian_matrix(p, W, H, method="kronecker")


def test_block_assembly_keeps_the_tiny_curvature_at_large_tau():
    """At the cross-polytope, tau = 50, lambda_min = -4.8e-21 (FACTS; closed form for K = 4, n = 1):
    the block assembly keeps it to 1e-8 relative, as the cancellation-free products do."""
    tau = 50.0
    p = UFMProblem(6, 4, 1, tau)
    exact = -(tau / 2) * (1 - np.exp(-tau)) / (np.exp(tau) + np.exp(-tau) + 2)
    lam = np.linalg.eigvalsh(hessian_matrix(p, *F.cross_polytope(p), method="blocks"))[0]
    assert abs(lam - exact) <= 1e-8 * abs(exact)
