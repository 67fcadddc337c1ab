"""Theorem 1 (global optimality condition).

Claim: "Suppose that d >= K and the training labels are balanced (n = n_1 = ... = n_K).
Then f(W, H) >= log(1 + (K - 1) exp(-K tau / (K - 1))) for all W in OB(d, K) and
H in OB(d, N). In particular, equality holds if and only if (NC1) h_{k,i} = hbar_k,
(NC2) Hbar^T Hbar = (K I - 1 1^T)/(K - 1), and (NC3) w_k = hbar_k."
"""

import numpy as np
import pytest
from hypothesis import given

from nc_verify import UFMProblem, etf_point, theorem1_bound
from nc_verify.checks.theorem1 import cost_resolution
from nc_verify.testing import assert_neural_collapse, assert_theorem1
from nc_verify.testing.strategies import problems_and_points

GRID = [(2, 2, 1, 1.0), (4, 4, 1, 3.0), (8, 4, 2, 2.0), (7, 6, 2, 1.0), (10, 3, 3, 0.1), (12, 5, 2, 8.0)]


@pytest.mark.parametrize("size", GRID)
def test_theorem1_holds(size):
    """Theorem 1: bound never beaten (random, optimised points), attained by optimisers and the ETF, strict off NC."""
    assert_theorem1(UFMProblem(*size), trials=2, random_points=100, seed=1)


@given(problems_and_points(d_at_least_K=True))
def test_bound_never_beaten_on_random_points(data):
    """Theorem 1: "f(W, H) >= log(1 + (K - 1) exp(-K tau / (K - 1)))" for every point drawn
    (d 2-30, K 2-10, n 1-5, tau 0.01-50), to the cost's rounding."""
    p, W, H = data
    assert p.cost(W, H) >= p.bound - cost_resolution(p, p.bound)


@pytest.mark.parametrize("d, K, n", [(3, 3, 1), (6, 4, 2), (50, 10, 3)])
@pytest.mark.parametrize("tau", [0.01, 1.0, 30.0, 500.0])
def test_etf_attains_bound(d, K, n, tau):
    """Theorem 1: "equality holds if ... (NC1), (NC2), (NC3)": a randomly rotated simplex ETF
    with h_{k,i} = w_k satisfies NC1-NC3 and has f = bound."""
    p = UFMProblem(d, K, n, tau)
    W, H = etf_point(d, K, n, rng=7)
    assert_neural_collapse(W, H, p.labels)
    assert abs(p.cost(W, H) - p.bound) <= cost_resolution(p, p.bound)


def test_wrong_bound_is_rejected():
    """Negative control: a bound larger than the true minimum is beaten by the optimised points.

    Replacing K / (K - 1) by 1 in the exponent raises the bound above the minimum.
    """
    K, tau = 4, 2.0
    wrong = float(np.log1p((K - 1) * np.exp(-tau)))
    assert wrong > theorem1_bound(K, tau)
    with pytest.raises(AssertionError, match=r"\[FAIL\] Thm 1: bound never beaten \(optimised points\)"):
        assert_theorem1(UFMProblem(6, K, 1, tau), trials=1, random_points=50, seed=2, bound=wrong)


def test_too_small_bound_is_rejected():
    """Negative control: a bound below the minimum is never reached by the optimisers."""
    with pytest.raises(AssertionError, match=r"\[FAIL\] Thm 1: optimisers reach the bound[\s\S]*"
                                             r"\[FAIL\] Thm 1: simplex ETF attains the bound"):
        assert_theorem1(UFMProblem(6, 4, 1, 2.0), trials=1, random_points=50, seed=3,
                        bound=theorem1_bound(4, 2.0) * 0.99)


def test_requires_d_at_least_K():
    """Theorem 1 assumes d >= K: asking for it at d < K is an input error, not a verdict."""
    with pytest.raises(ValueError, match="Theorem 1 assumes d >= K; got d=3, K=4"):
        assert_theorem1(UFMProblem(3, 4, 1, 1.0))
