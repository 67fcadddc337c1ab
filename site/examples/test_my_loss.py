"""A new loss's landscape checked with nc_verify.testing (docs/testing.md, "Checking your own claims")."""
import numpy as np
import pytest
from hypothesis import given
from nc_verify import SquaredError, UFMProblem, critical_point_families
from nc_verify.testing import assert_critical, assert_derivatives, assert_strict_saddle
from nc_verify.testing.strategies import problems


class RescaledSquare(SquaredError):
    """Square loss to one-hot targets of height 5 (Hui & Belkin, 2021): g(M) = ||M - 5 Y||^2 / (2N)."""
    name = "rescaled_square"

    def _value_grad(self, M, labels):
        R = M - 5.0 * np.eye(M.shape[0])[:, labels]
        return 0.5 * np.sum(R * R) / M.shape[1], R / M.shape[1], {}

    def autograd_value(self, M, labels):
        return 0.5 * ((M - 5.0 * np.eye(M.shape[0])[:, labels]) ** 2).sum() / M.shape[1]


@given(problems(d=(3, 8), K=(2, 4), n=(1, 2), tau=(0.5, 4.0), loss=RescaledSquare()))
def test_derivatives(problem):
    assert_derivatives(problem, rng=0)


@pytest.mark.parametrize("d, K, n", [(4, 3, 1), (5, 4, 2), (7, 5, 1)])
def test_etf_critical_and_anti_aligned_etf_a_strict_saddle(d, K, n, rng):
    p = UFMProblem(d, K, n, 1.0, loss=RescaledSquare())
    points = critical_point_families(p, rng=rng)
    assert_critical(p, *points["global_etf"])
    assert_strict_saddle(p, *points["anti_aligned_etf"])
