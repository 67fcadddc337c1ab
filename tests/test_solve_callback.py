"""``solve(..., callback=)``: the callback sees the recorded iterates."""

import numpy as np
import pytest

from nc_verify import UFMProblem, solve


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
