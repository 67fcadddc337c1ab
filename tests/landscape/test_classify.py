"""classify_critical_point: verdicts at small and large temperature, undecided, not critical."""


import numpy as np
import pytest

from nc_verify import UFMProblem, classify_critical_point
from nc_verify.objective import families as F


class TestClassify:
    @pytest.mark.parametrize("tau", [0.01, 1.0, 20.0, 50.0])
    def test_cross_polytope_and_etf(self, tau):
        # FACTS: cross-polytope lambda_min ~ -1.4e-8 at tau=20, -3.3e-21 at tau=50, -8.3e-6 at tau=0.01 (n=2)
        p = UFMProblem(6, 4, 2, tau)
        r = classify_critical_point(p, *F.cross_polytope(p))
        assert r.kind == "strict_saddle" and r.margin > 1e3
        assert r.lambda_min < 0 and r.escape_direction is not None
        assert p.hessian_quadratic_form(r.W, r.H, *r.escape_direction) < 0
        e = classify_critical_point(p, *F.global_etf(p))
        assert e.kind == "global_minimizer"
        assert e.n_zero == e.orbit_dimension == 12

    def test_underflow_is_undecided(self):
        # exp(-tau) underflows: the Hessian is zero in float64 and the cost equals the bound (both 0)
        p = UFMProblem(6, 4, 1, 800.0)
        for W, H in (F.cross_polytope(p), F.global_etf(p)):
            assert classify_critical_point(p, W, H).kind == "undecided"

    def test_not_critical(self):
        p = UFMProblem(6, 4, 1, 1.0)
        W = np.eye(6)[:, :4]
        r = classify_critical_point(p, W, W)
        assert r.kind == "not_critical" and r.gradient_norm > 0.05
        r = classify_critical_point(p, *p.random_point(0))
        assert r.kind == "not_critical"

    def test_refinement_of_a_nearly_critical_point(self):
        p = UFMProblem(5, 3, 1, 1.0)
        W, H = F.anti_aligned_etf(p)
        rng = np.random.default_rng(0)
        W = W + 1e-10 * rng.standard_normal(W.shape)
        W /= np.linalg.norm(W, axis=0)
        r = classify_critical_point(p, W, H)
        assert r.refined and r.initial_gradient_norm > 1e-12 and r.kind == "strict_saddle"

    def test_probe_local_minimizer(self):
        # d < K - 1: no reference cost; the lowest point of a search is a "local_minimizer"
        p = UFMProblem(2, 5, 1, 1.0)
        r = classify_critical_point(p, *F.regular_kgon(p))
        assert r.kind == "local_minimizer" and r.n_zero == r.orbit_dimension == 1

    def test_bad_input(self):
        p = UFMProblem(4, 3, 1, 1.0)
        W, H = p.random_point(0)
        with pytest.raises(ValueError, match="method"):
            classify_critical_point(p, W, H, method="svd")
        with pytest.raises(ValueError, match="shape"):
            classify_critical_point(p, W, H[:, :1])


# ------------------------------------------------------------- subnormal curvature (large tau)
@pytest.mark.parametrize("tau, kind", [(720.0, "strict_saddle"), (735.0, "undecided")])
def test_subnormal_curvature_needs_the_absolute_floor(tau, kind):
    """Cross-polytope (6, 4, 1): lambda_min = -(tau/2) e^-tau (FACTS).  At tau = 735 it is
    -2.3e-317, a subnormal with about seven significant bits; the relative floor alone
    (T + 2 d tau) eps ||Hess|| underflows to ~1e-327 and called it resolved.  The absolute
    term T m (tau + 1)^2 2^-1074 (8.6e-316 here) leaves it undecided; at tau = 720
    (lambda_min -7.3e-311) it still resolves the saddle."""
    from nc_verify.landscape.rounding import EPS, SUBNORMAL, eigenvalue_floor
    from nc_verify.objective import families as F

    p = UFMProblem(6, 4, 1, tau)
    r = classify_critical_point(p, *F.cross_polytope(p))
    exact = -(tau / 2) * np.exp(-tau / 2) * np.exp(-tau / 2)     # (tau/2) e^-tau to 1e-300 relative here
    assert r.kind == kind and r.lambda_min < 0
    assert abs(r.lambda_min - exact) <= 1e-3 * abs(exact) + 2 * r.resolution
    relative_only = (p.tangent_dimension + 2 * p.d * tau) * EPS * r.hessian_norm
    assert relative_only < abs(r.lambda_min)                     # the old floor called both resolved
    assert eigenvalue_floor(p, r.hessian_norm) == pytest.approx(
        relative_only + p.tangent_dimension * (p.K + p.N) * (tau + 1) ** 2 * SUBNORMAL, rel=1e-12)


def test_cost_at_bound_with_unresolved_hessian_is_undecided():
    """(6, 4, 1), tau = 740: the cross-polytope's cost is within rounding of the (underflowed) bound and
    its whole Hessian (norm 2.3e-316) is below the resolution: not a global minimiser, undecided."""
    from nc_verify.objective import families as F

    p = UFMProblem(6, 4, 1, 740.0)
    r = classify_critical_point(p, *F.cross_polytope(p))
    assert r.kind == "undecided" and r.hessian_norm <= r.resolution and "minimiser cannot be told" in r.reason
    q = UFMProblem(6, 4, 1, 500.0)               # resolved there: the minimum is still recognised
    assert classify_critical_point(q, *F.global_etf(q)).kind == "global_minimizer"
