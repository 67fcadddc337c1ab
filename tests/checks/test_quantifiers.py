"""Rules over many terms in the checks: a mixed case that only the right quantifier rejects.

Theorem 2's rows quantify over the critical points found and the descent runs ("every
minimiser non-degenerate", "every other point a strict saddle", "every descent run reaches
the bound"), and :func:`~nc_verify.utils.reports.combine` over the rows.  Each test feeds
a report in which every term but one satisfies the rule: ``any`` in place of ``all``
(or a rule reading only the first or the largest term) would pass it.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from nc_verify.checks.theorem2 import Theorem2Report
from nc_verify.utils.reports import FAIL, PASS, UNDECIDED, combine


def _point(name, kind, n_zero=3, orbit=3, lambda_min=-0.1, margin=10.0, cost=1.0):
    report = SimpleNamespace(kind=kind, n_zero=n_zero, orbit_dimension=orbit, lambda_min=lambda_min,
                             margin=margin, cost=cost, reason=f"{kind} reason")
    return SimpleNamespace(name=name, report=report)


def _report(points, descent_gaps=(0.0, 0.0), saturated=True):
    return Theorem2Report(
        d=4, K=3, n=1, tau=1.0, tau_limit=10.0, assumptions_hold=True, mode="check",
        critical_points=list(points), counts={}, n_starts=3000, n_converged=3000, saturated=saturated,
        last_new_point_at=10, unseen_probability=0.0, search_elapsed=0.0,
        descent_gaps=np.asarray(descent_gaps, dtype=float), reference="bound", descent_tol=1e-9, elapsed=0.0)


def _row(report, suffix):
    return next(r for r in report.rows() if r.name.endswith(suffix))


MIN = _point("etf", "global_minimizer", n_zero=6, orbit=6, lambda_min=0.0, cost=0.5)
SADDLES = [_point(f"s{i}", "strict_saddle", lambda_min=-0.1 * (i + 1)) for i in range(4)]


def test_all_strict_saddles_pass():
    """Control: a minimiser, four strict saddles, saturated, descent at the bound: every row passes."""
    rep = _report([MIN] + SADDLES)
    assert all(r.state is PASS for r in rep.rows()), [(r.name, r.state) for r in rep.rows()]
    assert combine(r.state for r in rep.rows()) is PASS


@pytest.mark.parametrize("position", [0, 2, 4])
def test_every_other_point_a_strict_saddle_one_degenerate(position):
    """Four strict saddles and one degenerate saddle (first, middle or last): FAIL."""
    pts = SADDLES[:position] + [_point("deg", "degenerate_saddle", lambda_min=0.0)] + SADDLES[position:]
    assert _row(_report([MIN] + pts), "every other critical point a strict saddle").state is FAIL


@pytest.mark.parametrize("kind", ["undecided", "not_critical"])
def test_every_other_point_a_strict_saddle_one_open(kind):
    """Four strict saddles and one undecided (or not critical) point: undecided, not pass."""
    pts = SADDLES[:2] + [_point("open", kind, lambda_min=-1e-20, margin=0.1)] + SADDLES[2:]
    assert _row(_report([MIN] + pts), "every other critical point a strict saddle").state is UNDECIDED


def test_minima_non_degenerate_one_with_extra_zero():
    """Two minimisers with zeros = orbit and one with an extra zero eigenvalue: undecided."""
    mins = [MIN, _point("etf2", "global_minimizer", n_zero=6, orbit=6, cost=0.5),
            _point("etf3", "global_minimizer", n_zero=7, orbit=6, cost=0.5)]
    row = _row(_report(mins + SADDLES), "minima non-degenerate up to rotation")
    assert row.state is UNDECIDED
    assert _row(_report(mins[:2] + SADDLES), "minima non-degenerate up to rotation").state is PASS


def test_one_spurious_local_minimiser_among_saddles():
    """Every point but one a strict saddle or the minimum, one spurious local minimiser: FAIL."""
    pts = [MIN] + SADDLES + [_point("spur", "spurious_local_minimizer", lambda_min=0.2, cost=0.9)]
    assert _row(_report(pts), "no spurious local minimiser").state is FAIL


def test_descent_every_run_must_reach():
    """Nine descent runs at the bound, one above it: undecided (not pass)."""
    gaps = [0.0] * 9 + [1e-3]
    row = next(r for r in _report([MIN] + SADDLES, descent_gaps=gaps).rows() if "descent" in r.name)
    assert row.state is UNDECIDED
    assert np.median(gaps) <= 1e-9                          # a rule on the typical run would pass


@pytest.mark.parametrize("states, want", [
    ([PASS] * 5, PASS),
    ([PASS] * 4 + [UNDECIDED], UNDECIDED),
    ([PASS, UNDECIDED, PASS, FAIL, PASS], FAIL),
    ([UNDECIDED, FAIL], FAIL),
    ([], UNDECIDED),
])
def test_combine_over_rows(states, want):
    """Pass needs every row passing; any FAIL fails; an empty list is no evidence (undecided)."""
    assert combine(states) is want
