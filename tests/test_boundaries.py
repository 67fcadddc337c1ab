"""Documented boundaries ("at most N", "at least N", "up to N") at N and one step beyond.

Each boundary is tested on its decision function, cheaply: where the documented ``N``
is too large to reach in a test (a tangent dimension of 1500, 600 or a degree of 4096)
the constant is set to the size of a small problem, so the comparison itself (``<=``
against ``<``, ``>`` against ``>=``) is what is tested at ``N`` and ``N + 1``.  Each test
names the off-by-one it catches.
"""

import contextlib

import numpy as np
import pytest

from nc_verify import UFMProblem, min_hessian_eigenpair
from nc_verify.landscape import spectrum
from nc_verify.landscape.search import (
    MIN_SATURATION_STARTS,
    SATURATION_FRACTION,
    SATURATION_RAREST_HITS,
    CriticalPointSearch,
    is_saturated,
)
from nc_verify.objective.families import cross_polytope
from nc_verify.utils import threads


# ---------------------------------------------------------------------- search saturation
class _Point:
    def __init__(self, hits, sources):
        self.hits, self.sources = hits, sources


def _discovery(m, last_new):
    """A discovery curve of ``m`` starts whose last new distinct point came at start ``last_new``."""
    d = np.ones(m, dtype=int)
    d[last_new - 1:] = 2
    return d


def test_saturation_needs_at_least_min_saturation_starts():
    """``MIN_SATURATION_STARTS`` (3000) starts saturate, 2999 do not (same curve shape, every point hit often).

    Catches ``>`` for ``>=`` and a smaller minimum.
    """
    points = [_Point(8, {"uniform": 8}), _Point(6, {"uniform": 6})]
    m = MIN_SATURATION_STARTS
    assert m == 3000
    assert is_saturated(_discovery(m, 10), points)
    assert not is_saturated(_discovery(m - 1, 10), points)


def test_saturation_fraction_boundary():
    """No new point in the last half of the starts: the last new at start ``m/2`` saturates, at ``m/2 + 1`` not
    (the rarest point hit often enough that only the half binds)."""
    points = [_Point(8, {"uniform": 8})]
    m = 2 * MIN_SATURATION_STARTS
    half = int((1.0 - SATURATION_FRACTION) * m)
    assert is_saturated(_discovery(m, half), points)
    assert not is_saturated(_discovery(m, half + 1), points)


def test_saturation_rarest_hits_boundary():
    """``q k / m >= SATURATION_RAREST_HITS`` (3) at equality saturates, one quiet start fewer does not.

    ``m = 9000`` starts, the rarest point hit ``k = 4`` times: ``q >= 6750``, so the last new point at
    start 2250 saturates and at 2251 not, although both leave the quiet half (4500) and every point is
    hit twice (the rule before, which stopped here with a point as rare unseen with probability up to
    ``e^-1``).  Catches ``>`` for ``>=``, a constant of 2 or 1, and the rate taken per quiet start
    (``k / q``) instead of per start.
    """
    assert SATURATION_RAREST_HITS == 3.0
    m, rare = 9000, _Point(4, {"subgroup": 4})
    common = _Point(40, {"small_r": 40})
    assert is_saturated(_discovery(m, 2250), [common, rare])
    assert not is_saturated(_discovery(m, 2251), [common, rare])
    assert not is_saturated(_discovery(m, 10), [common, _Point(3, {"subgroup": 3})])   # 8990 * 3 < 27000
    search = CriticalPointSearch(points=[common, rare], n_starts=m, n_converged=44, discovery=_discovery(m, 2250),
                                 descent_costs=np.zeros(0))
    assert search.rarest_miss_probability == pytest.approx(np.exp(-3.0), rel=1e-12)
    assert CriticalPointSearch(points=[_Point(1, {"strata": 1})], n_starts=m, n_converged=1,
                               discovery=_discovery(m, 1), descent_costs=np.zeros(0)).rarest_miss_probability == 0.0


def test_saturation_rarest_hits_kept_as_hits_arrive():
    """The search loop keeps the rarest point's hits as they are merged (``_RarestHits``): it agrees with the
    count over every point after each of 2 000 random merges, new points, explore hits and exact points
    included (a level emptied, a new rarest point, a point that is only explored)."""
    from nc_verify.landscape.search import _rarest_hits, _RarestHits
    rng = np.random.default_rng(4)
    points, tracker = [], _RarestHits()
    for _ in range(2000):
        source = ["small_r", "subgroup", "explore", "strata"][int(rng.integers(4))]
        if not points or rng.random() < 0.05:
            points.append(_Point(1, {source: 1}))
            q = points[-1]
        else:
            q = points[int(rng.integers(len(points)))]
            q.hits += 1
            q.sources[source] = q.sources.get(source, 0) + 1
        tracker.update(q)
        assert tracker.value == _rarest_hits(points)


def test_saturation_needs_the_rarest_point_hit_often():
    """A point reached once, twice or three times by random starts keeps a search with 2 990 quiet starts of
    3000 going (``q k / m`` < 3: 2990 * 3 < 9000); four times it does not; a point of the exact enumeration
    needs no hit.  (Two hits, the rule before, stopped such a search.)"""
    d = _discovery(MIN_SATURATION_STARTS, 10)
    for k in (1, 2, 3):
        assert not is_saturated(d, [_Point(8, {"uniform": 8}), _Point(k, {"uniform": k})])
    assert is_saturated(d, [_Point(8, {"uniform": 8}), _Point(4, {"uniform": 4})])
    assert is_saturated(d, [_Point(8, {"uniform": 8}), _Point(1, {"strata": 1})])


def test_explore_hits_are_not_independent_draws():
    """A point reached three times by random starts and nine times by ``explore`` starts (perturbations of
    the points found) is too rare to stop the search; the Good-Turing estimate counts a point reached once
    so (and eight times by explore) as a singleton.  Counting the explore hits (the rule before) would
    call both searches saturated with an estimate of 0."""
    d = _discovery(MIN_SATURATION_STARTS, 10)
    rare = _Point(9, {"subgroup": 1, "explore": 8})
    common = _Point(20, {"small_r": 12, "explore": 8})
    exact = _Point(3, {"strata": 1, "explore": 2})
    assert not is_saturated(d, [common, rare, exact])
    assert not is_saturated(d, [common, _Point(12, {"subgroup": 3, "explore": 9}), exact])
    assert is_saturated(d, [common, _Point(12, {"subgroup": 4, "explore": 8}), exact])
    search = CriticalPointSearch(points=[common, rare, exact], n_starts=len(d), n_converged=32,
                                 discovery=d, descent_costs=np.zeros(0), n_enumerated=1)
    # independent converged random starts: 12 + 1 (the exact point's hits and every explore hit left out)
    assert search.unseen_probability == 1 / 13


# --------------------------------------------------------------------------- BLAS threads
@pytest.mark.parametrize("T, limited", [(threads.SMALL_TANGENT_DIMENSION, True),
                                        (threads.SMALL_TANGENT_DIMENSION + 1, False)])
def test_one_blas_thread_up_to_1500(monkeypatch, T, limited):
    """Tangent dimension 1500 runs with one BLAS thread, 1501 with the library default.

    Catches ``>=`` for ``>`` in the threshold; a user's ``OPENBLAS_NUM_THREADS`` always wins (checked too).
    """
    pytest.importorskip("threadpoolctl")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)

    class P:
        tangent_dimension = T

    assert threads.SMALL_TANGENT_DIMENSION == 1500
    ctx = threads.blas_threads_for(P())

    with ctx:                                    # (a threadpool limit is restored on exit)
        assert isinstance(ctx, contextlib.nullcontext) is not limited
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert isinstance(threads.blas_threads_for(P()), contextlib.nullcontext)


# -------------------------------------------------------------------- dense or Lanczos
@pytest.mark.parametrize("offset, method", [(0, "dense"), (-1, "lanczos")])
def test_dense_spectrum_up_to_dense_limit(monkeypatch, offset, method):
    """``method="auto"`` is dense up to ``DENSE_LIMIT`` (inclusive) and Lanczos above.

    ``DENSE_LIMIT`` set to the tangent dimension ``T`` of (3, 4, 1) (16) and to ``T - 1``:
    catches ``<`` for ``<=``.
    """
    p = UFMProblem(3, 4, 1, 1.0)
    W, H = cross_polytope(p)
    monkeypatch.setattr(spectrum, "DENSE_LIMIT", p.tangent_dimension + offset)
    _, _, info = min_hessian_eigenpair(p, W, H, rng=0, full_output=True)
    assert info["method"] == method


# ------------------------------------------------------------------------ certificates
def test_precisions_double_up_to_max_prec():
    """Precisions double from ``prec`` while ``<= max_prec``: 212 is tried with ``max_prec=212``, not with 211.

    ``max_prec`` below ``prec`` is refused (it must be at least ``prec``).
    """
    from nc_verify.certify.certificates import _precisions

    assert _precisions(53, 212) == [53, 106, 212]
    assert _precisions(53, 211) == [53, 106]
    assert _precisions(53, 53) == [53]
    with pytest.raises(ValueError, match="max_prec"):
        _precisions(53, 52)


@pytest.mark.parametrize("offset, dense", [(0, True), (-1, False)])
def test_automatic_direction_dense_up_to_auto_dense_limit(monkeypatch, offset, dense):
    """Automatic directions use the ball Hessian up to ``AUTO_DENSE_LIMIT`` (inclusive), Lanczos above.

    The limit set to ``T`` (16, at (3, 4, 1)) and ``T - 1``; catches ``<`` for ``<=``.
    """
    pytest.importorskip("flint")
    from nc_verify.certify import certificates

    p = UFMProblem(3, 4, 1, 2.0)
    monkeypatch.setattr(certificates, "AUTO_DENSE_LIMIT", p.tangent_dimension + offset)
    cert = certificates.certify_strict_saddle(p, "cross_polytope", direction="auto", max_prec=53)
    assert cert.direction.startswith("automatic: smallest eigenvector" if dense else "automatic: float64 Lanczos")


@pytest.mark.parametrize("offset, attempted", [(0, True), (-1, False)])
def test_all_tau_degree_up_to_max_degree(monkeypatch, offset, attempted):
    """The exact identities are attempted up to degree ``MAX_DEGREE`` (inclusive).

    The cross-polytope (4 classes, n = 1) has ``q = 1`` and logit spread 2 per column: with
    ``MAX_DEGREE = 2`` it is proved critical for every tau, with 1 not attempted.  Catches
    ``>=`` for ``>``.
    """
    pytest.importorskip("flint")
    from nc_verify.certify import alltau
    from nc_verify.certify.exact import exact_family

    p = UFMProblem(3, 4, 1, 1.0)
    monkeypatch.setattr(alltau, "MAX_DEGREE", 2 + offset)
    proof = alltau.prove_critical_all_tau(exact_family(p, "cross_polytope"))
    assert proof.proved is attempted
    if not attempted:
        assert "exceeds 1" in proof.reason


def test_prover_evaluates_at_most_max_boxes():
    """``max_boxes = B`` (the boxes a complete proof evaluates) proves; ``B - 1`` stops undecided after ``B - 1``.

    K = 2, n = 1, tau = 1.  Catches ``>`` for ``>=`` in the budget test (one box more than
    allowed) and a budget counted in batches rather than boxes.
    """
    from nc_verify import prove_landscape

    full = prove_landscape(2, 1, 1.0)
    B = full.counts["evaluated"]
    assert full.status == "proved"
    at = prove_landscape(2, 1, 1.0, max_boxes=B)
    assert at.status == "proved" and at.counts["evaluated"] == B
    below = prove_landscape(2, 1, 1.0, max_boxes=B - 1)
    assert below.status != "proved" and below.counts["evaluated"] == B - 1
    assert below.counts["unresolved"] > 0


@pytest.mark.parametrize("K, n, refused", [(2, 4, False), (3, 3, True), (2, 5, True)])
def test_prover_sizes_up_to_eight_samples(K, n, refused):
    """The prover takes ``K n <= 8``: 8 samples run (one box, then the budget stops it), 9 and 10 are refused.

    Catches ``>=`` for ``>`` in the size check (8 refused) and a check that lets 9 through.
    """
    from nc_verify import prove_landscape

    if refused:
        with pytest.raises(ValueError, match="K\\*n must be <= 8"):
            prove_landscape(K, n, 1.0, max_boxes=1)
    else:
        assert prove_landscape(K, n, 1.0, max_boxes=1).counts["evaluated"] == 1


def test_search_stops_at_its_start_cap():
    """The adaptive search stops at ``max_starts`` exactly (150, inside a batch of 128 + 22), a fixed one at ``n_starts``.

    Catches a cap tested per batch (256 starts) and ``>`` for ``>=`` (151); the
    ``DEFAULT_MAX_STARTS`` cap (1 000 000) is the same comparison.  (3, 3, 1), tau = 1.
    """
    from nc_verify import find_critical_points
    from nc_verify.landscape.search import DEFAULT_MAX_STARTS

    assert DEFAULT_MAX_STARTS == 1_000_000
    p = UFMProblem(3, 3, 1, 1.0)
    s = find_critical_points(p, n_starts=None, max_starts=150, seed=0, methods=("lm",))
    assert s.n_starts == 150 and len(s.discovery) == 150
    assert find_critical_points(p, n_starts=7, seed=0, methods=("lm",)).n_starts == 7


def test_cost_finite_up_to_tau_1e4():
    """The quick start's "finite for tau up to 1e4": the cost at tau = 1e4 is finite and exact at the ETF and a far point."""
    from nc_verify.objective.families import global_etf

    p = UFMProblem(4, 3, 2, 1e4)
    W, H = global_etf(p)
    assert np.isfinite(p.cost(W, H)) and p.cost(W, H) == 0.0          # exp(-1.5e4) underflows: log1p(0)
    Wa, Ha = W, -H                                                     # anti-aligned: cost tau (1 + 1/(K-1)) + log 2
    assert p.cost(Wa, Ha) == pytest.approx(1e4 * 1.5 + np.log(2.0), rel=1e-14)
