"""solve(): every optimiser and backend reaches the Theorem 1 bound; options are checked."""

import numpy as np
import pytest

from nc_verify import OPTIMIZERS, UFMProblem, solve
from nc_verify.objective import families as F


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("backend", ["analytic", "autograd"])
def test_reaches_bound(optimizer, backend):
    p = UFMProblem(6, 3, 2, 1.0)
    tol = 1e-10 if optimizer == "trust_regions" else 1e-7
    res = solve(p, optimizer, backend=backend, seed=3, gradient_tol=tol, max_iterations=5000)
    assert res.gradient_norm < 10 * tol
    # near a minimiser non-degenerate up to symmetry: gap ~ g^2 / (2 mu), mu >~ 1e-2 here
    assert 0 <= res.cost - p.bound + 1e-15 <= 1e-10
    h = res.history
    assert len(h["cost"]) == len(h["gradient_norm"]) >= 2
    # pymanopt's optimisers are monotone in the cost (line search / trust-region acceptance)
    assert np.all(np.diff(h["cost"]) <= 1e-14)
    assert h["gradient_norm"][-1] == pytest.approx(res.gradient_norm, rel=1e-6, abs=1e-14)


def test_seed_reproducible_and_x0_used():
    p = UFMProblem(5, 3, 1, 2.0)
    a = solve(p, "steepest_descent", seed=7, max_iterations=5)
    b = solve(p, "steepest_descent", seed=7, max_iterations=5)
    np.testing.assert_array_equal(a.W, b.W)
    x0 = p.random_point(11)
    c = solve(p, "steepest_descent", x0=x0, max_iterations=1)
    assert c.history["cost"][0] == pytest.approx(p.cost(*x0), rel=1e-15)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(optimizer="adam"), ValueError,
         "unknown optimizer 'adam'; valid: 'trust_regions', 'steepest_descent', 'conjugate_gradient'"),
        (dict(backend="torch"), ValueError, "unknown backend 'torch'"),
        (dict(gradient_tol=0.0), ValueError, "gradient_tol must be finite and > 0"),
        (dict(max_iterations=0), ValueError, "max_iterations must be >= 1"),
        (dict(x0=np.zeros(3)), TypeError, r"x0 must be a tuple of 2 block\(s\) of shapes \[\(4, 2\), \(4, 2\)\]"),
        (dict(x0=(np.ones((4, 2)), np.ones((4, 2)))), ValueError, "W must have unit-norm columns"),
    ],
)
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        solve(UFMProblem(4, 2, 1, 1.0), **kwargs)


def test_problem_type_checked():
    with pytest.raises(TypeError, match="problem must implement the problem protocol.*str lacks d, tau"):
        solve("not a problem")



@pytest.mark.parametrize("optimizer", ["steepest_descent", "conjugate_gradient", "trust_regions"])
def test_callback_points_match_history(optimizer):
    p = UFMProblem(4, 3, 2, 1.0)
    seen = []
    r = solve(p, optimizer, seed=0, max_iterations=15, callback=lambda k, W, H: seen.append((k, W.copy(), H.copy())))
    assert [k for k, _, _ in seen] == list(range(len(r.history["cost"])))
    # each point handed over is the one whose cost was recorded (same formula, same input)
    np.testing.assert_array_equal([p.cost(W, H) for _, W, H in seen], r.history["cost"])
    W0, H0 = p.random_point(np.random.default_rng(0))
    np.testing.assert_array_equal(seen[0][1], W0)


def test_steepest_descent_records_each_iteration():
    """Iterates 0..6 of a 6-step run: the start, every step, and the final point."""
    p = UFMProblem(4, 3, 2, 1.0)
    ks = []
    r = solve(p, "steepest_descent", seed=1, max_iterations=6, gradient_tol=1e-14,
              callback=lambda k, W, H: ks.append(k))
    assert ks == list(range(7)) and len(r.history["cost"]) == 7


def test_bad_callback():
    with pytest.raises(TypeError, match="callback must be callable"):
        solve(UFMProblem(4, 3, 2, 1.0), callback="print")


class TestSecondOrderSolve:
    # pymanopt's trust regions, started exactly at a critical point, divide 0 by 0 in its
    # own step-length update (the gradient is zero); the escape logic under test handles it
    @pytest.mark.filterwarnings("ignore:invalid value encountered in scalar divide:RuntimeWarning")
    def test_escapes_from_a_saddle(self):
        p = UFMProblem(6, 4, 2, 1.0)
        x0 = F.cross_polytope(p)
        first = solve(p, x0=x0)
        assert first.cost - p.bound > 0.04            # trust regions stop on the saddle
        second = solve(p, x0=x0, second_order=True)
        assert second.escapes >= 1
        assert second.cost - p.bound <= 1e-14
        assert abs(second.lambda_min) <= 1e-14
