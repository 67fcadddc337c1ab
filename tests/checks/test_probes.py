"""Conjecture probes: distinct critical points, counterexample files, Table 1's 3.84."""

import json

import numpy as np
import pytest

from nc_verify import probe, recheck_counterexample, theorem1_bound
from nc_verify.cli import main
from nc_verify.checks.probes import load_counterexample

EPS = np.finfo(np.float64).eps


def test_small_probe_finds_minimum_and_saddles():
    r = probe(4, 3, 1, 1.0, n_starts=4, seed=0, save_dir=None)          # search until saturated
    # d >= K: the best value must be Theorem 1's bound (to the cost's rounding level)
    assert abs(r.best_value - theorem1_bound(3, 1.0)) <= 64 * EPS
    assert r.search_saturated and r.rows()[-1].state == "pass"
    assert r.verdict == "no counterexample found" and r.theorem2_regime and r.exit_status == 0
    kinds = [p.kind for p in r.points]
    assert kinds.count("at_best_value") == 1 and kinds.count("strict_saddle") >= 2
    w = r.worst_saddle
    assert w.lambda_min < 0 and w.margin > 1 and w.lambda_min == max(p.lambda_min for p in r.saddles)


def test_counterexample_saved_exactly_and_rechecked(tmp_path):
    # a reference below the true minimum turns the minimiser into a "local minimiser
    # above the best value": the path that saves potential counterexamples
    r = probe(4, 3, 1, 1.0, n_starts=2, search_starts=0, seed=0, reference=0.0, save_dir=tmp_path)
    assert r.verdict == "potential counterexample"
    (cx,) = r.counterexamples
    problem, (W, H), meta = load_counterexample(cx.file)
    assert np.array_equal(W, cx.point[0]) and np.array_equal(H, cx.point[1])      # bit for bit
    assert W.dtype == np.float64 and meta["reference"] == 0.0 and meta["loss"] == "cross_entropy"
    assert json.loads(open(cx.file[:-4] + ".json").read())["cost"] == cx.cost
    rep = recheck_counterexample(cx.file)
    assert rep.kind == "spurious_local_minimizer" and rep.cost == problem.cost(W, H)


def test_other_losses_and_supcon():
    r = probe(3, 3, 1, 2.0, loss="focal:2", n_starts=3, search_starts=3, seed=1, save_dir=None)
    assert r.loss == "focal:2" and r.theorem1_bound is None and not r.theorem2_regime
    # 3 search starts cannot saturate: every other row passes, the verdict is undecided
    assert [x.name for x in r.rows() if x.state != "pass"] == ["probe: search saturated"]
    assert r.verdict == "undecided" and r.rows()[-1].reason.startswith("search not saturated")
    # SupCon runs the shared saddle search too: with search_starts=0 the saturation row is
    # undecided ("descent starts only"); with the default search it saturates
    s0 = probe(3, 3, 2, 1.0, loss="supcon", n_starts=3, search_starts=0, seed=0, save_dir=None)
    assert [x.name for x in s0.rows() if x.state != "pass"] == ["probe: search saturated"]
    assert "descent starts only" in s0.rows()[-1].reason and s0.verdict == "undecided"
    s = probe(3, 3, 2, 1.0, loss="supcon", n_starts=3, seed=0, save_dir=None)
    assert s.search_saturated and s.search_starts >= 400
    assert [x.name for x in s.rows() if x.state != "pass"] == [], s.rows()
    expected = np.log(1 + 2 * 2 * np.exp(-1.5))          # ETF value log((n-1) + n(K-1) e^{-tau K/(K-1)}), n = 2, K = 3
    assert abs(s.best_value - expected) <= 64 * EPS * expected


@pytest.mark.slow
def test_table1_value_at_d2_K100():
    """Table 1's normalised loss 3.84 (d = 2, K = 100, n = 5, tau = 1): classifiers evenly
    spaced on the circle with collapsed features, value log sum_j exp(cos(2 pi j / 100)) - 1.

    Quick mode: one descent start, no saddle search.  Trust regions reach gradient
    1e-6 in ~20 iterations but need ~1000 more for 1e-8 (the ring's soft modes), so
    the end points are not critical to rounding level: the probe must say "undecided"
    rather than call the best point a minimiser."""
    r = probe(2, 100, 5, 1.0, n_starts=1, search_starts=0, seed=0, save_dir=None)
    circle = np.log(np.sum(np.exp(np.cos(2 * np.pi * np.arange(100) / 100)))) - 1.0
    assert round(r.best_value, 2) == 3.84
    # the cost error at gradient norm g is about g^2 / (smallest curvature): 1e-8 here
    assert 0 <= r.best_value - circle <= 1e-8
    assert r.verdict == "undecided"


def test_cli_probe(tmp_path, capsys):
    out = tmp_path / "p.json"
    code = main(["probe", "--d", "4", "--K", "3", "--n", "1", "--tau", "1", "--starts", "2",
                 "--search-starts", "2", "--save-dir", str(tmp_path), "--json", str(out), "--wide"])
    text = capsys.readouterr().out
    assert code == 3 and "verdict: undecided" in text and "evidence, not a proof" in text.splitlines()[0]
    data = json.loads(out.read_text())
    assert data["verdict"] == "undecided" and data["rows"][-1]["state"] == "undecided"


def test_probe_at_2_4_1_reports_the_degenerate_member(tmp_path):
    # the W = u 1^T, H = v 1^T continuum: its member with v orthogonal to u is a degenerate saddle
    r = probe(2, 4, 1, 1.0, n_starts=2, search_starts=0, seed=0, save_dir=tmp_path)
    (deg,) = [p for p in r.points if p.kind == "degenerate_saddle"]
    assert abs(deg.cost - np.log(4)) <= 1e-14 and abs(deg.lambda_min) <= deg.resolution
    assert r.verdict == "potential counterexample" and r.exit_status == 1
    assert deg.file is not None and recheck_counterexample(deg.file).kind == "degenerate_saddle"
    # the sweep record counts it among the potential counterexamples (it counted only minimisers)
    fig = r.figures()
    assert (fig["n_counterexamples"], fig["n_degenerate_saddles"], fig["n_spurious_minimizers"]) == (1, 1, 0)


@pytest.mark.parametrize("kw, match", [
    (dict(n_starts=0), "n_starts must be >= 1"), (dict(search_starts=-1), "search_starts must be >= 0"),
    (dict(reference=float("nan")), "reference must be finite"), (dict(loss="hinge"), "unknown loss"),
])
def test_probe_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        probe(4, 3, 2, 1.0, **kw)


def test_probe_size_limit():
    with pytest.raises(ValueError, match="exceeds 1500"):
        probe(20, 10, 10, 1.0)


def test_supcon_probe_runs_the_saddle_search():
    """SupCon probes use the shared critical-point search: saddles are found and classified."""
    rep = probe(3, 3, 2, 2.0, loss="supcon", n_starts=4, search_starts=40, seed=0, save_dir=None)
    kinds = {q.kind for q in rep.points}
    assert "strict_saddle" in kinds
    assert any("lm" in q.sources or set(q.sources) - {"descent"} for q in rep.points)


def test_probe_with_nothing_examined_is_undecided():
    """A probe whose descents and search found no point critical to rounding level passes nothing
    (it printed "no spurious local minimiser: pass - none among 0 distinct points")."""
    from nc_verify.checks.probes import ProbeReport

    r = ProbeReport(d=2, K=100, n=5, tau=1.0, loss="cross_entropy", seed=0, n_starts=1, search_starts=0,
                    best_value=4.6, reference=4.6, theorem1_bound=None, theorem2_regime=False,
                    descent_costs=[4.6], points=[])
    states = {row.name: row.state for row in r.rows()}
    assert states["probe: no spurious local minimiser"] == "undecided"
    assert states["probe: every other critical point a strict saddle"] == "undecided"
    assert "pass" not in states.values() and r.exit_status == 3


@pytest.mark.parametrize("d, K, n", [(2, 3, 2), (2, 5, 2)])
def test_probe_reports_the_degenerate_continuum_member(d, K, n):
    """(2, 3, 2): the continuum W = u 1^T was reported a strict saddle through a member with
    lambda_min -0.11 and the probe said "no counterexample found"; its worst member
    (h = v, lambda_min 0) falls at fourth order: a degenerate saddle, exit status 1."""
    r = probe(d, K, n, 1.0, n_starts=2, search_starts=0, seed=0, save_dir=None)
    (deg,) = [p for p in r.points if p.kind == "degenerate_saddle"]
    assert abs(deg.cost - np.log(K)) <= 1e-14 and abs(deg.lambda_min) <= deg.resolution
    assert deg.report.continuum["method"] == "parametrisation"
    assert deg.report.continuum["lambda_min_representative"] < -0.01
    assert r.verdict == "potential counterexample" and r.exit_status == 1


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_saturated_probe_output_is_clean():
    """probe (3, 3, 1, tau = 1e4) listed five identical undecided rows at cost 0, leaked scipy's
    RuntimeWarning from the worst-member line search and repeated one reason in a cell."""
    r = probe(3, 3, 1, 1e4, n_starts=10, seed=0, save_dir=None)
    zero = [p for p in r.points if p.cost == 0.0]
    assert len(zero) == 1 and zero[0].hits >= 2 and zero[0].kind == "undecided"
    assert "large-tau regime" in zero[0].reason and zero[0].margin == 0.0
    for row in r.rows():
        clauses = row.reason.split("; ")
        assert len(clauses) == len(set(clauses)), row.reason
    assert r.verdict == "undecided"
