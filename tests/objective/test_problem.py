"""Unit and property tests of problem (4), its derivatives and its pymanopt declaration."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nc_verify import HessianOperator, UFMProblem, etf_point, random_orthogonal, theorem1_bound
from nc_verify.checks.theorem1 import cost_resolution

from nc_verify.testing.strategies import problems_and_points

EPS = np.finfo(np.float64).eps


def _norm(v):
    return float(np.sqrt(sum(np.sum(x**2) for x in v)))


def _inner(a, b):
    return float(sum(np.sum(x * y) for x, y in zip(a, b)))


class TestConstruction:
    def test_attributes(self):
        p = UFMProblem(5, 3, 2, 1.5)
        assert (p.d, p.K, p.n, p.N, p.tau) == (5, 3, 2, 6, 1.5)
        np.testing.assert_array_equal(p.labels, [0, 0, 1, 1, 2, 2])
        assert p.tangent_dimension == 4 * 9
        shapes = [m.random_point().shape for m in p.manifold.manifolds]
        assert shapes == [(5, 3), (5, 6)]

    @pytest.mark.parametrize(
        "args, exc, match",
        [
            ((1, 3, 1, 1.0), ValueError, "d must be >= 2"),
            ((3, 1, 1, 1.0), ValueError, "K must be >= 2"),
            ((3, 2, 0, 1.0), ValueError, "n must be >= 1"),
            ((3, 2, 1, 0.0), ValueError, "tau must be finite and > 0"),
            ((3, 2, 1, -1.0), ValueError, "tau must be finite and > 0"),
            ((3, 2, 1, float("inf")), ValueError, "tau must be finite"),
            ((3, 2, 1, float("nan")), ValueError, "tau must be finite"),
            ((3.0, 2, 1, 1.0), TypeError, "d must be an integer"),
            ((3, 2, True, 1.0), TypeError, "n must be an integer"),
            ((3, 2, 1, "1"), TypeError, "tau must be a real number"),
        ],
    )
    def test_bad_arguments(self, args, exc, match):
        with pytest.raises(exc, match=match):
            UFMProblem(*args)


class TestPointValidation:
    p = UFMProblem(4, 3, 2, 1.0)

    def test_wrong_shape(self):
        W, H = self.p.random_point(0)
        with pytest.raises(ValueError, match=r"W must have shape \(4, 3\)"):
            self.p.cost(W.T, H)
        with pytest.raises(ValueError, match=r"H must have shape \(4, 6\)"):
            self.p.riemannian_gradient(W, H[:, :5])

    def test_non_unit_columns(self):
        W, H = self.p.random_point(0)
        with pytest.raises(ValueError, match="W must have unit-norm columns"):
            self.p.cost(2 * W, H)
        with pytest.raises(ValueError, match="H must have unit-norm columns"):
            self.p.cost(W, H * (1 + 1e-6))

    def test_tolerance_accepts_rounded_points(self):
        W, H = self.p.random_point(0)
        self.p.cost(W * (1 + 1e-10), H)  # within UNIT_NORM_TOL = 1e-8

    def test_non_finite(self):
        W, H = self.p.random_point(0)
        W[0, 0] = np.nan
        with pytest.raises(ValueError, match="W has NaN or infinite entries"):
            self.p.cost(W, H)
        W, H = self.p.random_point(0)
        dH = np.full(H.shape, np.inf)
        with pytest.raises(ValueError, match="dH has NaN or infinite"):
            self.p.riemannian_hessian(W, H, np.zeros_like(W), dH)

    def test_not_numeric(self):
        W, H = self.p.random_point(0)
        with pytest.raises(TypeError, match="W must be a real array"):
            self.p.cost([["a"] * 3] * 4, H)

    def test_unknown_backend(self):
        with pytest.raises(ValueError, match="unknown backend 'jax'; valid: 'analytic', 'autograd'"):
            self.p.to_pymanopt("jax")


class TestCost:
    def test_matches_naive_formula_at_moderate_tau(self):
        p = UFMProblem(5, 3, 2, 2.0)
        W, H = p.random_point(1)
        M = p.tau * W.T @ H
        naive = np.mean(np.log(np.exp(M).sum(0)) - M[p.labels, np.arange(p.N)])
        assert abs(p.cost(W, H) - naive) <= 16 * EPS * (1 + p.tau) * naive

    @pytest.mark.parametrize("tau", [1e2, 1e3, 1e4])
    def test_large_tau_stays_finite_and_relatively_accurate(self, tau):
        # at the ETF the cost is exactly the bound, log1p((K-1) e^{-K tau/(K-1)}): a
        # positive number far below 1 for large tau that a naive log-sum-exp rounds to 0
        p = UFMProblem(4, 3, 1, tau)
        W, H = etf_point(4, 3, 1)
        f = p.cost(W, H)
        assert np.isfinite(f)
        if p.bound > 0:
            assert abs(f - p.bound) <= cost_resolution(p, p.bound)
        else:  # exp(-K tau/(K-1)) underflows: the bound is 0 in float64 and so is f
            assert f == 0.0
        # a point far from the minimum: cost ~ tau, finite, no overflow
        W2 = np.roll(W, 1, axis=1)
        assert np.isfinite(p.cost(W2, H)) and p.cost(W2, H) > 0.5 * tau

    @given(problems_and_points(d_at_least_K=True))
    def test_cost_at_least_bound(self, data):
        p, W, H = data
        assert p.cost(W, H) >= p.bound - cost_resolution(p, p.bound)

    @given(problems_and_points(), st.integers(0, 2**32 - 1))
    def test_invariant_under_common_rotation(self, data, seed):
        p, W, H = data
        Q = random_orthogonal(p.d, seed)
        f = p.cost(W, H)
        assert abs(p.cost(Q @ W, Q @ H) - f) <= cost_resolution(p, f) + 4 * EPS * p.tau

    @given(problems_and_points(), st.integers(0, 2**32 - 1))
    def test_invariant_under_relabelling(self, data, seed):
        p, W, H = data
        perm = np.random.default_rng(seed).permutation(p.K)
        Hb = H.reshape(p.d, p.K, p.n)[:, perm].reshape(p.d, p.N)
        f = p.cost(W, H)
        assert abs(p.cost(W[:, perm], Hb) - f) <= cost_resolution(p, f)


class TestDerivatives:
    @given(problems_and_points())
    def test_gradient_tangent(self, data):
        p, W, H = data
        gW, gH = p.riemannian_gradient(W, H)
        G = np.abs(p.loss(p.logits(W, H), p.labels).grad)
        # each entry of tau H G^T (tau W G) sums terms bounded by tau |G| over a row
        # (column) of G, and x_k . g_k is a d-term dot product of such entries:
        # rounding <= 4 d eps tau max(row/column sums of |G|)
        scale = p.tau * max(G.sum(axis=1).max(), G.sum(axis=0).max())
        for X, g in ((W, gW), (H, gH)):
            assert np.max(np.abs(np.sum(X * g, axis=0))) <= 4 * p.d * EPS * scale

    @given(problems_and_points(), st.integers(0, 2**32 - 1))
    def test_analytic_equals_autograd(self, data, seed):
        p, W, H = data
        auto = p.to_pymanopt("autograd")
        ga = auto.riemannian_gradient([W, H])
        g = p.riemannian_gradient(W, H)
        xi = p.random_tangent(W, H, seed)
        ha = auto.riemannian_hessian([W, H], list(xi))
        h = p.riemannian_hessian(W, H, *xi)
        # autograd forms p_y - 1 with an absolute error ~eps (ours has none); mapped
        # through tau H G^T and tau W G this is ~ eps tau sqrt(N) per column, plus the
        # same relative rounding for both: 100 eps tau sqrt(d (K+N)) covers both.
        scale = 100 * EPS * p.tau * np.sqrt(p.d * (p.K + p.N))
        assert _norm([a - b for a, b in zip(g, ga)]) <= scale * (1 + _norm(ga))
        assert _norm([a - b for a, b in zip(h, ha)]) <= scale * p.tau * (1 + _norm(ha))

    @given(problems_and_points(), st.integers(0, 2**32 - 1))
    def test_hessian_symmetric_and_tangent(self, data, seed):
        p, W, H = data
        op = p.hessian_operator(W, H)
        xi, eta = p.random_tangent(W, H, seed), p.random_tangent(W, H, seed + 1)
        h_xi, h_eta = op(*xi), op(*eta)
        scale = _norm(h_xi) + _norm(h_eta) + p.tau * EPS
        # each entry of Hess[xi] is accurate to ~ (K + N) eps relative to the norm of
        # the terms summed into it, which are bounded by tau^2 + tau times |xi|
        tol = 64 * (p.K + p.N) * EPS * (p.tau**2 + p.tau + scale)
        assert abs(_inner(xi, h_eta) - _inner(h_xi, eta)) <= tol
        for X, v in zip((W, H), h_xi):
            assert np.max(np.abs(np.sum(X * v, axis=0))) <= tol

    def test_quadratic_form_matches_operator(self):
        p = UFMProblem(7, 4, 3, 3.0)
        W, H = p.random_point(2)
        for s in range(5):
            xi = p.random_tangent(W, H, s)
            q_op = _inner(xi, p.riemannian_hessian(W, H, *xi))
            q_eq = p.hessian_quadratic_form(W, H, *xi)
            assert abs(q_op - q_eq) <= 1e-13 * (1 + abs(q_eq)) * p.tau**2

    @pytest.mark.parametrize("d", [6, 2 * HessianOperator.ROW_BLOCK + 5])
    def test_batched_operator_equals_single(self, d):
        """A batch of tangents (fresh work arrays) against one at a time (cached ones); at the
        larger d the output is scaled in three row blocks, the last one short.  Both evaluate the
        same formulas; only the summation order inside BLAS and einsum may differ, so each entry
        differs by a few eps times the sum of |terms|: inner dimensions <= m = max(d, N, 2K),
        terms <= tau^2 + tau for a unit tangent.  8 m eps (tau^2 + tau) bounds it."""
        p = UFMProblem(d, 3, 2, 1.0)
        W, H = p.random_point(3)
        op = p.hessian_operator(W, H)
        dirs = [p.random_tangent(W, H, s) for s in range(4)]
        bW = np.stack([x[0] for x in dirs])
        bH = np.stack([x[1] for x in dirs])
        hW, hH = op(bW, bH)
        tol = 8 * max(d, p.N, 2 * p.K) * EPS * (p.tau**2 + p.tau)
        for i, (dW, dH) in enumerate(dirs):
            sW, sH = op(dW, dH)
            np.testing.assert_allclose(hW[i], sW, rtol=0, atol=tol)
            np.testing.assert_allclose(hH[i], sH, rtol=0, atol=tol)

    def test_operator_results_outlive_its_work_arrays(self):
        """The operator reuses work arrays between calls; what it returned must not change."""
        p = UFMProblem(2 * HessianOperator.ROW_BLOCK + 5, 3, 2, 1.0)
        W, H = p.random_point(4)
        op = p.hessian_operator(W, H)
        first = op(*p.random_tangent(W, H, 0))
        kept = [x.copy() for x in first]
        op(*p.random_tangent(W, H, 1))
        op.euclidean(*p.random_tangent(W, H, 2))
        for a, b in zip(first, kept):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(op(*p.random_tangent(W, H, 0))[1], kept[1])

    def test_input_projected_onto_tangent_space(self):
        p = UFMProblem(5, 3, 1, 1.0)
        W, H = p.random_point(4)
        dW, dH = p.random_tangent(W, H, 0)
        h = p.riemannian_hessian(W, H, dW, dH)
        h_normal = p.riemannian_hessian(W, H, dW + 3.0 * W, dH - 2.0 * H)
        for a, b in zip(h, h_normal):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)

    def test_point_cache_tracks_in_place_changes(self):
        p = UFMProblem(5, 3, 1, 1.0)
        W, H = p.random_point(5)
        f1 = p.cost(W, H)
        W2, _ = p.random_point(6)
        W[...] = W2
        assert p.cost(W, H) != f1
        assert p.cost(W, H) == UFMProblem(5, 3, 1, 1.0).cost(W2, H)


class TestBounds:
    @pytest.mark.parametrize("K, tau", [(2, 1.0), (10, 0.5), (100, 1.0), (4, 700.0)])
    def test_bound_formula(self, K, tau):
        direct = np.log(1 + (K - 1) * np.exp(-K * tau / (K - 1)))
        assert abs(theorem1_bound(K, tau) - direct) <= 4 * EPS * direct

    def test_bound_bad_input(self):
        with pytest.raises(ValueError, match="K must be >= 2"):
            theorem1_bound(1, 1.0)
        with pytest.raises(ValueError, match="tau must be finite and > 0"):
            theorem1_bound(3, -2.0)


@given(st.integers(2, 30), st.integers(2, 10), st.integers(1, 5), st.floats(0.01, 50.0), st.integers(0, 2**32 - 1))
def test_etf_attains_bound_property(d, K, n, tau, seed):
    """A rotated simplex ETF with h_{k,i} = w_k has cost equal to the Theorem 1 bound (d >= K - 1)."""
    if d < K - 1:
        d = K - 1 if K > 2 else 2
    p = UFMProblem(d, K, n, tau)
    W, H = etf_point(d, K, n, rng=seed)
    assert abs(p.cost(W, H) - p.bound) <= cost_resolution(p, p.bound)


@pytest.mark.parametrize("d, K, expected", [
    (10, 4, 16.0),          # even K: 2 (d - 2)
    (6, 2, 8.0),
    (10, 3, 12.0),          # odd K: 2 (d - 2) / (1 + 1/K) = 2 * 8 * 3/4
    (7, 5, 25.0 / 3.0),     # 2 * 5 / (1 + 1/5)
])
def test_theorem2_tau_limit_known_values(d, K, expected):
    from nc_verify import theorem2_tau_limit

    assert abs(theorem2_tau_limit(d, K) - expected) <= 4 * np.finfo(float).eps * expected
