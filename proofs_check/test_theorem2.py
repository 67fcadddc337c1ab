"""Theorem 2 (global landscape), checked numerically.

Claim (Theorem 2): "If the feature dimension is larger than the number of classes, i.e. d > K,
and the temperature parameter satisfies tau < 2(d - 2)(1 + (K mod 2)/K)^{-1}, then the function
f(W, H) is a strict saddle function that has no spurious local minimum": every Riemannian
critical point that is not a local minimiser has lambda_min(Hess f) < 0, and every local
minimiser is a global minimiser of the Theorem 1 form.  Hessian as in eqs. (7)-(8).
"""

import numpy as np
import pytest

from nc_verify import UFMProblem, classify_critical_point, critical_point_families, theorem2_tau_limit, verify_theorem2
from nc_verify.landscape import families as F
from nc_verify.objective.problem import HessianOperator, project_columns

# inside the assumptions: K odd and even, n = 1 and n > 1
GRID = [(4, 3, 1, 1.0), (5, 3, 2, 3.0), (5, 4, 1, 0.5), (6, 4, 2, 2.0)]


@pytest.mark.parametrize("d,K,n,tau", GRID)
def test_every_family_point_classified(d, K, n, tau):
    assert d > K and tau < theorem2_tau_limit(d, K)
    p = UFMProblem(d, K, n, tau)
    for name, (W, H) in critical_point_families(p, rng=0).items():
        r = classify_critical_point(p, W, H)
        if name == "global_etf":
            assert r.kind == "global_minimizer"
            assert r.n_zero == r.orbit_dimension          # non-degenerate up to rotation
        else:
            assert r.kind == "strict_saddle", (name, r.kind, r.reason)
            assert r.lambda_min < -r.resolution


@pytest.mark.slow
@pytest.mark.parametrize("d,K,n,tau", GRID)
def test_search_finds_no_spurious_minimizer(d, K, n, tau):
    rep = verify_theorem2(d, K, n, tau, n_starts=60, seed=1, families=False)
    assert rep.mode == "check"
    # 60 starts need not saturate the search: every other row must pass
    assert [r.name for r in rep.rows() if r.state != "pass"] in ([], ["Theorem 2: search saturated"]), rep.rows()
    minima = [c.report for c in rep.critical_points if c.report.kind == "global_minimizer"]
    assert minima and all(m.n_zero == m.orbit_dimension for m in minima)
    assert rep.descent_gaps.size and np.all(rep.descent_gaps <= rep.descent_tol)


def test_checker_rejects_hessian_without_curvature_terms(monkeypatch):
    """Dropping the ddiag curvature terms of eq. (8) must break the verdicts."""
    p = UFMProblem(6, 4, 2, 2.0)
    W, H = F.global_etf(p)
    good = classify_critical_point(p, W, H)
    assert good.kind == "global_minimizer" and good.n_zero == good.orbit_dimension

    def wrong(self, dW, dH):
        hW, hH = self.euclidean(dW, dH)
        return project_columns(self.W, hW), project_columns(self.H, hH)

    monkeypatch.setattr(HessianOperator, "__call__", wrong)
    bad = classify_critical_point(p, W, H)
    # without the curvature terms the rotation orbit is no longer the kernel and negative
    # curvature appears at the bound: the checker must refuse to call the ETF a minimiser
    assert bad.kind == "undecided" and "inconsistent" in bad.reason
    assert bad.n_zero != bad.orbit_dimension and bad.lambda_min < -bad.resolution


def test_checker_rejects_a_non_critical_point():
    p = UFMProblem(6, 4, 1, 1.0)
    W = np.eye(6)[:, :4]                                   # orthonormal W = Hbar: not critical
    r = classify_critical_point(p, W, W)
    assert r.kind == "not_critical"
