"""The loss protocol: label smoothing, focal loss and squared error next to cross-entropy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nc_verify import (
    CrossEntropy, FocalLoss, LabelSmoothingCE, SquaredError, UFMProblem, get_loss,
)
from nc_verify.landscape.classify import classify_critical_point
from nc_verify.checks.derivatives import check_derivatives

EPS = np.finfo(np.float64).eps
LOSSES = ["cross_entropy", "label_smoothing:0.1", "label_smoothing:0.5", "focal:0.5", "focal:1",
          "focal:2", "focal:5", "mse"]


def _logits(K, N, scale, seed):
    return scale * np.random.default_rng(seed).standard_normal((K, N))


class TestDerivativeChecks:
    @pytest.mark.parametrize("spec", LOSSES)
    @pytest.mark.parametrize("tau", [0.5, 4.0])
    def test_taylor_autograd_symmetry_tangency(self, spec, tau):
        # the same checks as eqs. (5)-(8) for cross-entropy: slopes 2 and 3, agreement
        # with pymanopt's autograd on the loss's own autograd_value (rounding level)
        rep = check_derivatives(UFMProblem(5, 3, 2, tau, loss=spec), rng=7)
        assert rep.passed, rep.rows()

    def test_a_wrong_hessian_is_rejected(self, monkeypatch):
        # drop the a'(p_y) term of the focal Hessian: the Taylor slope falls to 2
        # and autograd disagrees, so the checks above can fail
        p = UFMProblem(5, 3, 2, 2.0, loss="focal:2")
        real = FocalLoss._value_grad

        def wrong(self, M, labels):
            value, grad, extra = real(self, M, labels)
            return value, grad, {**extra, "a_prime_py": 0.0 * extra["a_prime_py"]}

        monkeypatch.setattr(FocalLoss, "_value_grad", wrong)
        rep = check_derivatives(p, rng=7)
        assert not rep.passed
        assert rep.autograd_hessian_rel > 1e-3


class TestAgainstCrossEntropy:
    @pytest.mark.parametrize("loss", [LabelSmoothingCE(0.0), FocalLoss(0.0)])
    def test_zero_parameter_is_cross_entropy(self, loss):
        # both go through the generic base class: value, gradient, curvatures and
        # Hessian-vector products must equal the built-in cross-entropy to rounding
        M = _logits(4, 6, 3.0, 0)
        labels = np.repeat(np.arange(4), 6 // 4 + 1)[:6] % 4
        a, b = CrossEntropy()(M, labels), loss(M, labels)
        dM = _logits(4, 6, 1.0, 1)
        tol = 16 * EPS
        assert abs(a.value - b.value) <= tol * abs(a.value)
        for x, y in [(a.grad, b.grad), (a.row_curvature, b.row_curvature), (a.col_curvature, b.col_curvature),
                     (a.hvp(dM), b.hvp(dM))]:
            assert np.max(np.abs(x - y)) <= tol * np.max(np.abs(x))

    def test_default_problem_is_unchanged(self):
        W, H = UFMProblem(6, 3, 2, 2.0).random_point(3)
        p0, p1 = UFMProblem(6, 3, 2, 2.0), UFMProblem(6, 3, 2, 2.0, loss="ce")
        assert p0.cost(W, H) == p1.cost(W, H)
        assert all(np.array_equal(x, y) for x, y in zip(p0.riemannian_gradient(W, H), p1.riemannian_gradient(W, H)))

    def test_mse_closed_form(self):
        # g = ||M - Y||^2 / (2N), checked entry by entry
        M = _logits(3, 5, 2.0, 2)
        labels = np.array([0, 1, 2, 0, 1])
        Y = np.eye(3)[:, labels]
        s = SquaredError()(M, labels)
        assert abs(s.value - np.sum((M - Y) ** 2) / 10) <= 8 * EPS * s.value
        assert np.allclose(s.grad, (M - Y) / 5, rtol=0, atol=4 * EPS * np.max(np.abs(M)))

    def test_focal_large_margin_keeps_relative_accuracy(self):
        # at logit margin 60, 1 - p_y ~ 2 e^-60: a formula through 1 - p_y would give
        # exactly 0; the focal value q^2 (-log p_y) ~ q^3 must keep its digits
        M = np.array([[60.0], [0.0]])
        q = 1.0 / (1.0 + np.exp(60.0))
        expected = q**2 * np.log1p(np.exp(-60.0))
        got = FocalLoss(2.0)(M, np.array([0])).value
        assert got > 0 and abs(got - expected) <= 1e-13 * expected


class TestProperties:
    @settings(max_examples=25)
    @given(spec=st.sampled_from(LOSSES[:-1]), seed=st.integers(0, 2**31), c=st.floats(-30, 30))
    def test_softmax_losses_are_shift_invariant(self, spec, seed, c):
        # adding a constant to a column leaves a softmax loss unchanged; its gradient
        # columns sum to zero (the basis of the shifted curvature formula)
        loss = get_loss(spec)
        M = _logits(4, 5, 3.0, seed % 1000)
        labels = np.array([0, 1, 2, 3, 0])
        a, b = loss(M, labels), loss(M + c, labels)
        assert abs(a.value - b.value) <= 64 * EPS * (abs(a.value) + abs(c))
        assert np.max(np.abs(a.grad.sum(axis=0))) <= 16 * EPS * np.max(np.abs(a.grad))

    @settings(max_examples=25)
    @given(spec=st.sampled_from(LOSSES), seed=st.integers(0, 2**31))
    def test_hvp_symmetric_and_batched(self, spec, seed):
        loss = get_loss(spec)
        rng = np.random.default_rng(seed)
        M = 3.0 * rng.standard_normal((3, 4))
        st_ = loss(M, np.array([0, 1, 2, 0]))
        X, Y = rng.standard_normal((2, 3, 4))
        hX, hY = st_.hvp(X), st_.hvp(Y)
        scale = np.linalg.norm(hX) * np.linalg.norm(Y) + np.linalg.norm(hY) * np.linalg.norm(X)
        assert abs(np.sum(hX * Y) - np.sum(X * hY)) <= 64 * EPS * scale
        batched = st_.hvp(np.stack([X, Y]))
        assert np.allclose(batched, np.stack([hX, hY]), rtol=0, atol=16 * EPS * np.max(np.abs(batched)))
        assert abs(st_.second_order_form(X) - np.sum(X * hX)) <= 64 * EPS * np.sum(np.abs(X * hX))


class TestBoundAndErrors:
    def test_bound_only_for_cross_entropy(self):
        assert UFMProblem(4, 3, 1, 1.0).bound > 0
        assert UFMProblem(4, 3, 1, 1.0, loss="mse").bound is None

    def test_classification_without_bound(self):
        # no reference cost: a minimiser is a local minimiser, never "global"
        p = UFMProblem(4, 3, 1, 1.0, loss="label_smoothing:0.1")
        from nc_verify import solve
        r = solve(p, seed=0, gradient_tol=1e-12)
        rep = classify_critical_point(p, r.W, r.H)
        assert rep.kind in ("local_minimizer", "undecided") and np.isnan(rep.bound)
        ref = classify_critical_point(p, r.W, r.H, reference=r.cost)
        assert ref.kind == "global_minimizer"

    @pytest.mark.parametrize("spec, match", [
        ("hinge", "unknown loss 'hinge'"), ("mse:2", "takes no parameter"),
        ("focal:x", "gamma must be a number"), ("focal:-1", "gamma must be finite and >= 0"),
        ("label_smoothing:1", r"alpha must be in \[0, 1\)"),
        # a bare name meant alpha = 0.1 / gamma = 2 silently: the parameter must be written out
        ("label_smoothing", "needs its alpha: write label_smoothing:ALPHA"), ("focal", "needs its gamma"),
    ])
    def test_bad_specs(self, spec, match):
        with pytest.raises(ValueError, match=match):
            get_loss(spec)

    def test_bad_types(self):
        with pytest.raises(TypeError, match="loss must be a loss object or a spec string"):
            UFMProblem(4, 3, 1, 1.0, loss=3)
        with pytest.raises(TypeError, match="gamma must be a real number"):
            FocalLoss("2")

    def test_spec_round_trip(self):
        for spec in LOSSES:
            loss = get_loss(spec)
            assert get_loss(loss.spec) == loss
