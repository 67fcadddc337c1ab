"""The regularised UFM baseline: cost, analytic gradient, validation, minimisers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nc_verify.objective.regularized import RegularizedUFM, minimize_regularized

EPS = np.finfo(np.float64).eps


class TestGradient:
    @pytest.mark.parametrize("bias", [False, True])
    @pytest.mark.parametrize("shape", [(3, 4, 2), (2, 10, 3), (7, 3, 1)])
    def test_taylor_slope_and_autograd(self, shape, bias):
        p = RegularizedUFM(*shape, 1e-2, 3e-2, bias=bias, lambda_b=0.2 if bias else 0.0)
        chk = p.check_gradient(rng=1)
        # second-order Taylor remainder: slope 2 (a wrong gradient gives 1)
        assert abs(chk.taylor_slope - 2.0) < 0.1
        # two float64 evaluations of the same sums differ by rounding only
        assert chk.autograd_relative_error < np.sqrt(EPS)
        assert chk.passed

    @given(seed=st.integers(0, 2**32 - 1), lam=st.floats(1e-6, 10.0))
    def test_gradient_matches_autograd_property(self, seed, lam):
        p = RegularizedUFM(3, 4, 2, lam, 2 * lam, bias=True, lambda_b=lam)
        assert p.check_gradient(rng=seed).autograd_relative_error < np.sqrt(EPS)

    def test_check_rejects_wrong_gradient(self):
        class Wrong(RegularizedUFM):
            def _cost_and_gradient(self, x):
                f, g = super()._cost_and_gradient(x)
                return f, (g[0] - self.lambda_W * x[0],) + g[1:]   # weight-decay term of W dropped

        p = Wrong(3, 4, 2, 0.5, 0.5)
        chk = p.check_gradient(rng=1)
        assert not chk.passed
        assert abs(chk.taylor_slope - 1.0) < 0.1
        assert chk.autograd_relative_error > 1e-3

    def test_cost_by_hand(self):
        # K = 2, one sample per class, d = 1: logits are products of scalars
        p = RegularizedUFM(1, 2, 1, 0.1, 0.2, bias=True, lambda_b=0.3)
        W, H, b = np.array([[1.0, -2.0]]), np.array([[0.5, 1.5]]), np.array([0.1, -0.1])
        M = W.T @ H + b[:, None]
        ce = [np.log(np.exp(M[0, j]) + np.exp(M[1, j])) - M[j, j] for j in range(2)]
        expected = np.mean(ce) + 0.05 * 5.0 + 0.1 * 2.5 + 0.15 * 0.02
        assert p.cost(W, H, b) == pytest.approx(expected, rel=10 * EPS)
        assert p.data_loss(W, H, b) == pytest.approx(np.mean(ce), rel=10 * EPS)


class TestValidation:
    def test_bad_parameters(self):
        with pytest.raises(ValueError, match="lambda_W"):
            RegularizedUFM(2, 3, 1, 0.0, 1.0)
        with pytest.raises(ValueError, match="lambda_H"):
            RegularizedUFM(2, 3, 1, 1.0, float("nan"))
        with pytest.raises(ValueError, match="K must be >= 2"):
            RegularizedUFM(2, 1, 1, 1.0, 1.0)
        with pytest.raises(ValueError, match="needs bias=True"):
            RegularizedUFM(2, 3, 1, 1.0, 1.0, lambda_b=0.1)
        with pytest.raises(TypeError, match="bias"):
            RegularizedUFM(2, 3, 1, 1.0, 1.0, bias="yes")
        with pytest.raises(ValueError, match="unknown loss"):
            RegularizedUFM(2, 3, 1, 1.0, 1.0, loss="hinge")
        with pytest.raises(TypeError, match="loss"):
            RegularizedUFM(2, 3, 1, 1.0, 1.0, loss=3)

    def test_other_loss_checked_against_its_own_autograd_value(self):
        # the autograd reference must differentiate the problem's loss, not cross-entropy
        p = RegularizedUFM(4, 3, 2, 1e-2, 1e-2, loss="focal:2")
        chk = p.check_gradient(rng=1)
        assert chk.passed and chk.autograd_relative_error < np.sqrt(EPS)

    def test_bad_points(self):
        p = RegularizedUFM(2, 3, 1, 1.0, 1.0)
        W, H = p.random_point(0)
        with pytest.raises(ValueError, match=r"W must have shape \(2, 3\)"):
            p.cost(W.T, H)
        with pytest.raises(ValueError, match="H has NaN"):
            p.cost(W, np.full_like(H, np.nan))
        with pytest.raises(ValueError, match="a point is"):
            p.cost(W, H, np.zeros(3))
        with pytest.raises(ValueError, match="z must have shape"):
            p.unpack(np.zeros(3))

    def test_bad_solver_options(self):
        p = RegularizedUFM(2, 3, 1, 1.0, 1.0)
        with pytest.raises(ValueError, match="unknown method"):
            minimize_regularized(p, "newton")
        with pytest.raises(ValueError, match="max_iterations must be >= 1"):
            minimize_regularized(p, max_iterations=0)
        with pytest.raises(TypeError, match="callback"):
            minimize_regularized(p, callback=3)
        with pytest.raises(TypeError, match="RegularizedUFM"):
            minimize_regularized(object())


class TestMinimisers:
    def test_gradient_descent_and_lbfgs_agree(self):
        # d >= K: every local minimiser is global (Zhu et al. 2021), so both methods
        # reach the same value.  Gradient descent can resolve the gradient only to about
        # sqrt(eps |F| L) ~ 1e-8 (smaller steps change F by less than its rounding), so it
        # is asked for 1e-7; the cost error is then ~ ||g||^2 / curvature ~ 1e-14.
        p = RegularizedUFM(4, 3, 2, 5e-2, 5e-2, bias=True, lambda_b=5e-2)
        x0 = p.random_point(3)
        gd = minimize_regularized(p, x0=x0, gradient_tol=1e-7, max_iterations=20000)
        lb = minimize_regularized(p, "lbfgs", x0=x0, gradient_tol=1e-11, max_iterations=5000)
        assert gd.gradient_norm < 1e-7
        assert lb.gradient_norm < 1e-7
        assert gd.cost == pytest.approx(lb.cost, abs=1e-12)
        # backtracking (Armijo) steps never increase the cost
        assert np.all(np.diff(gd.history["cost"]) <= 0)

    def test_callback_sees_every_iterate(self):
        p = RegularizedUFM(3, 3, 2, 1e-2, 1e-2)
        seen = []
        r = minimize_regularized(p, seed=0, max_iterations=7, gradient_tol=1e-14,
                                 callback=lambda k, x: seen.append((k, p.cost(*x))))
        assert [k for k, _ in seen] == list(range(8))
        assert r.iterations == 7
        np.testing.assert_array_equal([c for _, c in seen], r.history["cost"])
        assert seen[-1][1] == r.cost
