"""Verdict logic of verify_theorem2 and classify_critical_point on constructed evidence."""

import numpy as np
import pytest

import nc_verify.checks.theorem2 as T2
from nc_verify import UFMProblem, classify_critical_point, verify_theorem2
from nc_verify.objective import families as F
from nc_verify.landscape.search import CriticalPointSearch


def _search_with_descent_costs(costs):
    def fake(problem, *, n_starts, seed, progress, **kwargs):
        return CriticalPointSearch(points=[], n_starts=1, n_converged=0, discovery=np.array([0]),
                                   descent_costs=np.asarray(costs, dtype=float))
    return fake


def test_stalled_descent_is_undecided_not_violated(monkeypatch):
    # Every family point of (5, 3, 1, 1.0) is a global minimiser or a resolved strict saddle;
    # a descent run that stops 0.1 above the bound (e.g. at its iteration cap) proves nothing.
    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound + 0.1]))
    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=1)
    assert rep.verdict == "undecided"
    failed = [name for name, ok, _ in rep.rows() if not ok]
    assert failed == ["Theorem 2: descent from random starts reaches the bound"]


def test_descent_at_the_bound_holds(monkeypatch):
    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound]))
    assert verify_theorem2(5, 3, 1, 1.0, n_starts=1).verdict == "holds"


def test_spurious_minimizer_is_violated(monkeypatch):
    real = T2.classify_critical_point

    def fake(problem, W, H, **kw):
        rep = real(problem, W, H, **kw)
        if rep.kind == "strict_saddle":
            rep.kind = "spurious_local_minimizer"
        return rep

    p = UFMProblem(5, 3, 1, 1.0)
    monkeypatch.setattr(T2, "find_critical_points", _search_with_descent_costs([p.bound]))
    monkeypatch.setattr(T2, "classify_critical_point", fake)
    assert verify_theorem2(5, 3, 1, 1.0, n_starts=1).verdict == "violated"


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
