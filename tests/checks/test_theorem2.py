"""Verdict logic of verify_theorem2 and classify_critical_point on constructed evidence."""

import numpy as np
import pytest

import nc_verify.checks.theorem2 as T2
from nc_verify.objective.closed_forms import theorem2_assumptions_hold
from nc_verify import UFMProblem, classify_critical_point, verify_theorem2
from nc_verify.objective import families as F
from nc_verify.landscape.search import CriticalPointSearch
from nc_verify.utils.reports import PASS, PROBE_WORDS, UNDECIDED


class _SaturatedSearch(CriticalPointSearch):
    saturated = True


def _search_with_descent_costs(costs, saturated=True):
    def fake(problem, *, n_starts, seed, progress, **kwargs):
        cls = _SaturatedSearch if saturated else CriticalPointSearch
        return cls(points=[], n_starts=1, n_converged=0, discovery=np.array([0]),
                   descent_costs=np.asarray(costs, dtype=float))
    return fake


def _failed(rep):
    return [r.name for r in rep.rows() if r.state != PASS]


def test_stalled_descent_is_undecided_not_violated(monkeypatch):
    # Every family point of (5, 3, 1, 1.0) is a global minimiser or a resolved strict saddle;
    # a descent run that stops 0.1 above the bound (e.g. at its iteration cap) proves nothing.
    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound + 0.1]))
    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=1)
    assert rep.verdict == "undecided"
    assert _failed(rep) == ["Theorem 2: descent from random starts reaches the bound"]
    assert rep.rows()[3].state == UNDECIDED and rep.exit_status == 3


def test_descent_at_the_bound_holds(monkeypatch):
    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound]))
    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=1)
    assert rep.verdict == "holds" and rep.state == PASS and rep.exit_status == 0


def test_spurious_minimizer_is_violated(monkeypatch):
    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound]))
    monkeypatch.setattr(T2, "classify_point", _relabel("strict_saddle", "spurious_local_minimizer"))
    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=1)
    assert rep.verdict == "violated" and rep.exit_status == 1
    assert _failed(rep) == ["Theorem 2: no spurious local minimiser"]


def _relabel(old, new):
    real = T2.classify_point

    def fake(problem, W, H, **kw):
        rep = real(problem, W, H, **kw)
        if rep.kind == old:
            rep.kind = new
        return rep
    return fake


@pytest.mark.parametrize("kind", ["undecided", "not_critical"])
def test_an_unclassified_point_makes_the_verdict_undecided(monkeypatch, kind):
    # every saddle of (5, 3, 1, 1.0) relabelled: the claim "every other point a strict saddle" is open
    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound]))
    monkeypatch.setattr(T2, "classify_point", _relabel("strict_saddle", kind))
    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=1)
    assert rep.verdict == "undecided" and rep.exit_status == 3
    assert _failed(rep) == ["Theorem 2: every other critical point a strict saddle"]


def test_degenerate_saddle_violates_the_strict_saddle_claim(monkeypatch):
    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound]))
    monkeypatch.setattr(T2, "classify_point", _relabel("strict_saddle", "degenerate_saddle"))
    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=1)
    assert rep.verdict == "violated"
    assert _failed(rep) == ["Theorem 2: every other critical point a strict saddle"]


def test_unsaturated_search_is_undecided_with_its_reason(monkeypatch):
    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound], saturated=False))
    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=1)
    assert rep.verdict == "undecided"
    (row,) = [r for r in rep.rows() if r.state != PASS]
    assert row.name == "Theorem 2: search saturated"
    assert row.reason.startswith("search not saturated; estimated chance of a new point per start")
    assert "--starts auto" in row.reason


def test_at_d_equal_K_it_is_a_probe(monkeypatch):
    # d = K is outside Theorem 2 (d > K): probe rows and a probe's words, never "holds"
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([UFMProblem(3, 3, 1, 1.0).bound]))
    rep = verify_theorem2(3, 3, 1, 1.0, n_starts=1)
    assert rep.mode == "probe" and not rep.assumptions_hold
    assert all(r.name.startswith("Theorem 2 probe: ") for r in rep.rows())
    assert rep.state == PASS and rep.verdict == PROBE_WORDS[PASS] == "no counterexample found"


def test_regime_boundaries():
    # d > K strictly, and tau strictly below the limit
    from nc_verify import theorem2_tau_limit

    assert theorem2_assumptions_hold(4, 3, 1.0) and not theorem2_assumptions_hold(3, 3, 1.0)
    lim = theorem2_tau_limit(4, 3)
    assert theorem2_assumptions_hold(4, 3, np.nextafter(lim, 0)) and not theorem2_assumptions_hold(4, 3, lim)


def test_u1_v1_continuum_has_a_degenerate_member():
    """(2, 2, 1, 1): W = u 1^T, H = v 1^T; the member with v orthogonal to u has spectrum
    [0, 0, 0, 0.5] and f falls below log 2 at fourth order: reported, never "holds"."""
    rep = verify_theorem2(2, 2, 1, 1.0, n_starts=None)
    assert rep.mode == "probe" and rep.verdict == "potential counterexample"
    (deg,) = [c for c in rep.critical_points if c.report.kind == "degenerate_saddle"]
    r = deg.report
    assert abs(r.cost - np.log(2)) <= 1e-15 and abs(r.lambda_min) <= r.resolution
    assert r.n_zero == 3 and r.orbit_dimension == 1
    assert np.allclose(np.sort(r.spectrum), [0, 0, 0, 0.5], atol=1e-12)
    u, v = r.W[:, 0], r.H[:, 0]
    assert abs(u @ v) <= 1e-7                          # the worst member: v orthogonal to u
    df = r.higher_order["differences"]
    assert 3.9 <= r.higher_order["order"] <= 4.1 and np.all(df < 0)


def test_cost_below_the_reference_is_undecided():
    # The ETF attains the bound; a reference 0.1 above it is beaten, so it is not the minimum
    # and the point must not be called a minimiser "at" it.
    p = UFMProblem(5, 3, 1, 1.0)
    W, H = F.global_etf(p)
    assert classify_critical_point(p, W, H).kind == "global_minimizer"
    r = classify_critical_point(p, W, H, reference=p.bound + 0.1)
    assert r.kind == "undecided" and "below the reference" in r.reason
    assert classify_critical_point(p, W, H, reference=p.bound).kind == "global_minimizer"


@pytest.mark.parametrize("bad, exc", [(float("nan"), ValueError), (float("inf"), ValueError),
                                      ("0.1", TypeError), ([0.1], TypeError)])
def test_reference_must_be_a_finite_number(bad, exc):
    p = UFMProblem(5, 3, 1, 1.0)
    with pytest.raises(exc, match="reference"):
        classify_critical_point(p, *F.global_etf(p), reference=bad)


def test_supcon_cost_below_the_reference_is_undecided():
    from nc_verify import SupConProblem

    p = SupConProblem(4, 3, 2, 1.0)
    H = p.etf_point(rng=0)
    assert classify_critical_point(p, H, reference=p.etf_value()).kind == "global_minimizer"
    assert classify_critical_point(p, H, reference=p.etf_value() + 0.1).kind == "undecided"
    with pytest.raises(ValueError, match="reference"):
        classify_critical_point(p, H, reference=float("nan"))


def test_probe_reference_is_validated():
    from nc_verify import probe

    with pytest.raises(TypeError, match="reference"):
        probe(4, 3, 1, 1.0, reference="low", save_dir=None)


def test_nothing_examined_is_never_pass(monkeypatch):
    """families=False and a search that found nothing: the claims about critical points have no
    evidence, so their rows are undecided (they were "pass - none found" before)."""
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([]))
    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=1, families=False)
    assert rep.critical_points == []
    rows = {r.name.split(": ", 1)[1]: r for r in rep.rows()}
    for claim in ("no spurious local minimiser", "every other critical point a strict saddle"):
        assert rows[claim].state == UNDECIDED and "no critical point was examined" in rows[claim].reason
    assert rep.state == UNDECIDED and rep.exit_status == 3


def test_examined_rule():
    from nc_verify.utils.reports import FAIL

    assert T2.examined(PASS, 0) == UNDECIDED and T2.examined(PASS, 1) == PASS
    assert T2.examined(FAIL, 0) == FAIL and T2.examined(UNDECIDED, 3) == UNDECIDED


def test_merged_reasons_group_only_equal_evidence():
    """The same reason three times in one cell is one clause; different reasons stay apart."""
    items = [("", "undecided", "r1"), ("", "undecided", "r1"), ("", "undecided", "r1"),
             ("", "undecided", "r2"), ("", "degenerate_saddle", "r1")]
    text = T2.merged_reasons(items)
    assert text == "3 points undecided: r1; undecided: r2; degenerate_saddle: r1"
    named = T2.merged_reasons([("a", "undecided", "r"), ("b", "undecided", "r"), ("c", "strict_saddle", "r")])
    assert named == "2 points (a, b) undecided: r; c: strict_saddle (r)"
    assert T2.merged_reasons(items, limit=1).endswith("2 more kinds of evidence")
