"""Theorem 1 (global optimality condition).

Claim: "Suppose that d >= K and the training labels are balanced (n = n_1 = ... = n_K).
Then f(W, H) >= log(1 + (K - 1) exp(-K tau / (K - 1))) for all W in OB(d, K) and
H in OB(d, N). In particular, equality holds if and only if (NC1) h_{k,i} = hbar_k,
(NC2) Hbar^T Hbar = (K I - 1 1^T)/(K - 1), and (NC3) w_k = hbar_k."
"""

import numpy as np
import pytest
from hypothesis import given

from nc_verify import UFMProblem, etf_point, theorem1_bound, verify_theorem1
from nc_verify.checks.theorem1 import cost_resolution

from tests.strategies import problems_and_points

GRID = [(2, 2, 1, 1.0), (4, 4, 1, 3.0), (8, 4, 2, 2.0), (7, 6, 2, 1.0), (10, 3, 3, 0.1), (12, 5, 2, 8.0)]


@pytest.mark.parametrize("size", GRID)
def test_theorem1_holds(size):
    """Bound never beaten (random and optimised points), attained by optimisers and the ETF, strict off NC."""
    rep = verify_theorem1(*size, trials=2, random_points=100, seed=1)
    assert rep.holds, rep.rows()


@given(problems_and_points(d_at_least_K=True))
def test_bound_never_beaten_on_random_points(data):
    """f >= bound for every point drawn (d 2-30, K 2-10, n 1-5, tau 0.01-50)."""
    p, W, H = data
    assert p.cost(W, H) >= p.bound - cost_resolution(p, p.bound)


@pytest.mark.parametrize("d, K, n", [(3, 3, 1), (6, 4, 2), (50, 10, 3)])
@pytest.mark.parametrize("tau", [0.01, 1.0, 30.0, 500.0])
def test_etf_attains_bound(d, K, n, tau):
    """Equality at NC1-NC3: a randomly rotated simplex ETF with h_{k,i} = w_k has f = bound."""
    p = UFMProblem(d, K, n, tau)
    W, H = etf_point(d, K, n, rng=7)
    assert abs(p.cost(W, H) - p.bound) <= cost_resolution(p, p.bound)


def test_wrong_bound_is_rejected():
    """The check can fail: a bound larger than the true minimum is beaten by the optimised points.

    Replacing K / (K - 1) by 1 in the exponent raises the bound above the minimum.
    """
    d, K, n, tau = 6, 4, 1, 2.0
    wrong = float(np.log1p((K - 1) * np.exp(-tau)))
    assert wrong > theorem1_bound(K, tau)
    rep = verify_theorem1(d, K, n, tau, trials=1, random_points=50, seed=2, bound=wrong)
    assert not rep.holds
    failed = [r.name for r in rep.rows() if r.state == "FAIL"]
    assert "Thm 1: bound never beaten (optimised points)" in failed


def test_too_small_bound_is_rejected():
    """The check can fail: a bound below the minimum is never reached by the optimisers."""
    rep = verify_theorem1(6, 4, 1, 2.0, trials=1, random_points=50, seed=3, bound=theorem1_bound(4, 2.0) * 0.99)
    assert not rep.holds
    failed = [r.name for r in rep.rows() if r.state == "FAIL"]
    assert "Thm 1: optimisers reach the bound" in failed and "Thm 1: simplex ETF attains the bound" in failed


def test_requires_d_at_least_K():
    with pytest.raises(ValueError, match="Theorem 1 assumes d >= K; got d=3, K=4"):
        verify_theorem1(3, 4, 1, 1.0)
