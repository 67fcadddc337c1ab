"""Exact critical-point families: every member is critical to rounding level."""

import numpy as np
import pytest

from nc_verify import UFMProblem, critical_point_families
from nc_verify.objective import families as F
from nc_verify.landscape.newton import gradient_tolerance
from nc_verify.landscape.spectrum import hessian_spectrum

SIZES = [(5, 3, 1, 1.0), (6, 4, 2, 1.0), (7, 6, 1, 2.0), (3, 5, 2, 0.5), (6, 4, 2, 50.0)]


class TestFamilies:
    @pytest.mark.parametrize("d,K,n,tau", SIZES)
    def test_every_family_point_is_critical(self, d, K, n, tau):
        p = UFMProblem(d, K, n, tau)
        fam = critical_point_families(p, rng=1)
        assert len(fam) > 5
        for name, (W, H) in fam.items():
            S = np.max(np.abs(hessian_spectrum(p, W, H)))
            # rounding level of eqs. (5)-(6) at this point (derived in gradient_tolerance)
            assert p.gradient_norm(W, H) <= gradient_tolerance(p, W, H, hessian_norm=S), name

    def test_expected_names(self):
        names = set(critical_point_families(UFMProblem(7, 6, 2, 1.0)))
        for name in ("global_etf", "anti_aligned_etf", "collinear_all_equal", "u1_v1", "u1_means_along_u",
                     "cross_polytope", "regular_kgon", "signed_kgon[1]", "grouped_etf[3]",
                     "signed_simplex_sum[3+3|1,0]", "signed_simplex_sum[2+2+2|1,0,0]"):
            assert name in names

    def test_sign_rule_is_necessary(self):
        # FACTS: flipping one class's signs in a signed simplex sum breaks criticality (gradient 0.14-0.25)
        p = UFMProblem(6, 4, 2, 1.0)
        W, H = F.signed_simplex_sum(p, [2, 2], [0, 1])
        H = H.copy()
        H[:, 0:2] = -H[:, 0:2]
        assert p.gradient_norm(W, H) > 0.05

    def test_orthonormal_is_not_critical(self):
        p = UFMProblem(6, 4, 1, 1.0)
        W = np.eye(6)[:, :4]
        assert p.gradient_norm(W, W) > 0.05

    def test_closed_form_values(self):
        p = UFMProblem(6, 4, 2, 1.0)
        assert p.cost(*F.u1_v1(p)) == pytest.approx(np.log(4), rel=1e-15)
        assert p.cost(*F.global_etf(p)) == pytest.approx(p.bound, rel=1e-14)

    def test_bad_input(self):
        p = UFMProblem(6, 3, 1, 1.0)
        with pytest.raises(ValueError, match="even K"):
            F.cross_polytope(p)
        with pytest.raises(ValueError, match="blocks"):
            F.signed_simplex_sum(p, [2, 2], [0, 0])
        with pytest.raises(ValueError, match="aligned"):
            F.collinear(p, [1, 1, 1], [0, 0, 5])
        with pytest.raises(TypeError, match="UFMProblem"):
            critical_point_families("problem")
        with pytest.raises(ValueError, match="global_etf needs d"):
            F.global_etf(UFMProblem(2, 5, 1, 1.0))


@pytest.mark.parametrize("d,K,n", [(5, 3, 1), (6, 4, 2), (7, 6, 2), (4, 5, 3), (2, 4, 2), (3, 6, 1), (8, 8, 1),
                                   (6, 3, 4), (10, 7, 2), (2, 3, 5)])
def test_family_count_is_the_enumeration(d, K, n):
    """family_count (closed forms + pattern count) equals the number of points enumerated, and the
    collinear closed form (M + F) / 2 equals the enumerated patterns (a wrong variant without the
    flip-fixed F term, M / 2, is off by F / 2 at every even K)."""
    from math import comb

    assert F.family_count(d, K, n) == len(F.critical_point_families(UFMProblem(d, K, n, 1.0)))
    patterns = sum(1 for _ in F._collinear_patterns(K, n))
    assert F.collinear_count(K, n) == patterns
    if K % 2 == 0:
        assert comb(2 * (n + 1) + K - 1, K) // 2 != patterns


def test_family_budget_at_its_boundary():
    """At most max_points points: exactly the count is enumerated, one fewer is refused before any
    point is built; the default budget refuses (2, 60, 4) (2.8e10 collinear points) at once."""
    p = UFMProblem(6, 4, 2, 1.0)
    count = F.family_count(6, 4, 2)
    assert len(F.critical_point_families(p, max_points=count)) == count
    with pytest.raises(ValueError, match=f"more than {count - 1} points"):
        F.critical_point_families(p, max_points=count - 1)
    with pytest.raises(ValueError, match=r"collinear points alone: 2.83e\+10"):
        F.critical_point_families(UFMProblem(2, 60, 4, 1.0))
    assert F.family_count(2, 60, 4, limit=F.MAX_FAMILY_POINTS) > F.MAX_FAMILY_POINTS
