"""Theorem 1's row "optimisers reach the bound": a run is judged against what its stopping gradient resolves."""

from __future__ import annotations

from nc_verify import verify_theorem1
from nc_verify.utils.reports import FAIL, PASS, UNDECIDED


def _reach(rep):
    return next(r for r in rep.rows() if r.name == "Thm 1: optimisers reach the bound")


def test_large_tau_is_undecided_not_fail():
    """At tau = 80 the bound (~3e-35) and the ETF's curvature (~4e-45) are far below what a gradient
    of 1e-11 resolves: the runs' gaps (~4e-13) are within it, so the row is undecided, not FAIL
    (the rule that compared the gap with 1e-8 x bound alone said FAIL)."""
    rep = verify_theorem1(4, 4, 1, 80.0, trials=2, random_points=20, seed=0)
    row = _reach(rep)
    assert row.state is UNDECIDED and "resolves f - bound only to" in row.reason
    assert rep.curvature is not None and 0 < rep.curvature < 1e-40
    assert row.value > 1e-8 * rep.bound                    # the old rule's FAIL: gap above REACH_RTOL x bound


def test_moderate_tau_passes_and_a_bound_below_the_minimum_fails():
    rep = verify_theorem1(4, 4, 1, 1.0, trials=2, random_points=20, seed=0)
    assert _reach(rep).state is PASS and rep.curvature is None          # nothing above the bound: no curvature
    low = verify_theorem1(4, 4, 1, 1.0, trials=2, random_points=20, seed=0, bound=rep.bound - 0.05)
    row = _reach(low)
    assert row.state is FAIL and "beyond what its gradient" in row.reason
