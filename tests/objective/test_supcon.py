"""Supervised contrastive loss on normalised features: derivatives, ETF minimum, spectrum."""

import numpy as np
import pytest

from nc_verify import SupConProblem
from nc_verify.objective.taylor import fit_slope
from nc_verify import classify_critical_point, find_critical_points, hessian_matrix, solve, tangent_basis
from nc_verify.landscape.newton import newton_polish

EPS = np.finfo(np.float64).eps


def _retract(H, V):
    Y = H + V
    return Y / np.linalg.norm(Y, axis=0)


@pytest.mark.parametrize("tau", [0.5, 3.0])
def test_derivatives_taylor_and_autograd(tau):
    p = SupConProblem(4, 3, 2, tau)
    H = p.random_point(0)
    rng = np.random.default_rng(1)
    g = p.riemannian_gradient(H)
    auto = p.to_pymanopt("autograd")
    # autograd differentiates an independent expression of the loss: rounding level
    assert np.linalg.norm(g - auto.riemannian_gradient(H)) <= 1e-12 * np.linalg.norm(p.euclidean_gradient(H))
    xi = p.random_tangent(H, rng)
    h = p.riemannian_hessian(H, xi)
    assert np.linalg.norm(h - auto.riemannian_hessian(H, xi)) <= 1e-12 * np.linalg.norm(p.euclidean_hessian(H, xi))
    # Taylor remainders along the (second-order) normalising retraction: slopes 2 and 3
    ts = np.logspace(-8, 0, 41)
    f0 = p.cost(H)
    fs = np.array([p.cost(_retract(H, t * xi)) for t in ts])
    r1 = fs - f0 - ts * np.sum(g * xi)
    e1 = np.abs(r1)
    e2 = np.abs(r1 - 0.5 * ts**2 * np.sum(h * xi))
    floor = 32 * EPS * (abs(f0) + tau)
    assert fit_slope(ts, e1, floor) >= 1.9
    assert fit_slope(ts, e2, floor) >= 2.9
    # a Hessian missing its curvature term is rejected by the same slope test
    wrong = h + xi * (p._state(H).col_curvature)
    e2w = np.abs(r1 - 0.5 * ts**2 * np.sum(wrong * xi))
    assert fit_slope(ts, e2w, floor) < 2.5


def test_hessian_matrix_matches_operator_and_is_symmetric():
    p = SupConProblem(3, 2, 3, 1.5)
    H = p.random_point(4)
    B = tangent_basis(p, H)
    A = hessian_matrix(p, H)
    assert B.dimension == p.tangent_dimension == 2 * 6
    c = np.random.default_rng(5).standard_normal(B.dimension)
    (dH,) = B.to_ambient(c)
    lhs = B.from_ambient(p.riemannian_hessian(H, dH))
    # T-term sums of products of O(||A||) entries: T eps ||A|| ||c|| rounding, 1e-13 leaves a factor 40
    assert np.linalg.norm(lhs - A @ c) <= 1e-13 * np.linalg.norm(A) * np.linalg.norm(c)


@pytest.mark.parametrize("d, K, n, tau", [(4, 3, 2, 1.0), (5, 4, 3, 4.0), (3, 4, 2, 2.0)])
def test_simplex_etf_minimum(d, K, n, tau):
    """Collapsed simplex-ETF features: value in closed form, critical, PSD with kernel = orbit,
    and no descent start goes below it (d >= K - 1)."""
    p = SupConProblem(d, K, n, tau)
    H = p.etf_point(0)
    value = np.log((n - 1) + n * (K - 1) * np.exp(-tau * K / (K - 1)))
    assert abs(p.cost(H) - value) <= 64 * EPS * value
    rep = classify_critical_point(p, H, reference=p.etf_value())
    assert rep.kind == "global_minimizer", rep.reason
    assert rep.n_zero == rep.orbit_dimension == d * (d - 1) // 2 - (d - K + 1) * (d - K) // 2
    for seed in range(4):
        cost = solve(p, seed=seed).cost
        # rounding of the cost: N terms of size |f| plus logits of size tau
        assert cost >= value - 64 * EPS * (value + tau)


@pytest.mark.parametrize("tau", [30.0, 100.0])
def test_cost_keeps_its_digits_at_large_tau(tau):
    """At collapsed ETF features the loss is ``log(1 + (n - 1) - 1 + n (K - 1) e^{-tau K/(K-1)})``,
    about ``n (K - 1) e^{-tau K/(K-1)}`` for n = 2: 1e-19 at tau = 30, 1e-65 at tau = 100.
    A softmax written with ``log(Z)`` returns 0.0 there (Z rounds to 1); through the shared
    column softmax (``log1p`` of the non-dominant sum) every digit stays."""
    d, K, n = 4, 3, 2
    p = SupConProblem(d, K, n, tau)
    exact = np.log1p(n * (K - 1) * np.exp(-tau * K / (K - 1)))      # (n - 1) = 1 is the dominant term
    assert exact > 0.0
    # relative error: a few roundings of exp and log1p and an N-term mean
    assert abs(p.cost(p.etf_point(0)) - exact) <= 1e-13 * exact


def test_saddle_search_and_classification_come_from_the_shared_stack():
    """SupCon has no copies of the search or the classifier: the generic ones run on its point ``(H,)``."""
    p = SupConProblem(3, 3, 2, 2.0)
    search = find_critical_points(p, n_starts=60, seed=0)
    assert search.n_converged >= 30
    kinds = [classify_critical_point(p, *q.point, reference=p.etf_value()).kind for q in search.points]
    assert "global_minimizer" in kinds
    assert "strict_saddle" in kinds
    assert "spurious_local_minimizer" not in kinds


def test_polish_reaches_rounding_level():
    p = SupConProblem(4, 3, 2, 1.0)
    res = solve(p, seed=0, gradient_tol=1e-5)
    g0 = res.gradient_norm
    _, g = newton_polish(p, *res.point)
    # the gradient's rounding level here is ~1e-15 (classify_critical_point's gradient_tol)
    assert g <= 1e-13 < g0


def test_bad_input():
    with pytest.raises(ValueError, match="n must be >= 2"):
        SupConProblem(4, 3, 1, 1.0)
    with pytest.raises(ValueError, match="tau must be finite and > 0"):
        SupConProblem(4, 3, 2, 0.0)
    p = SupConProblem(4, 3, 2, 1.0)
    with pytest.raises(ValueError, match=r"H must have shape \(4, 6\)"):
        p.cost(np.ones((4, 5)))
    with pytest.raises(ValueError, match="unit-norm columns"):
        p.cost(np.ones((4, 6)))
