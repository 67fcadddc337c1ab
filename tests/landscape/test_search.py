"""find_critical_points: saturation at small sizes, the saturation rule, continua reported once, input checks."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes

from nc_verify import UFMProblem, critical_point_families, find_critical_points
from nc_verify.landscape.points import describe_point, same_point
from nc_verify.landscape.search import DESCENT_BATCH, MIN_SATURATION_STARTS, _lift, _round_tasks, is_saturated


def _aligned_distance(p, q, K):
    """min over class permutations P and rotations Q of ||[W1, H1] - Q [W2, H2] P|| (n = 1).

    An equivalence test independent of the search's invariants: orthogonal
    Procrustes for the rotation, exhaustive over the K! relabellings.
    """
    A = np.hstack([p.W, p.H])
    best = np.inf
    for perm in itertools.permutations(range(K)):
        B = np.hstack([q.W[:, perm], q.H[:, perm]])
        Q, _ = orthogonal_procrustes(B.T, A.T)
        best = min(best, float(np.linalg.norm(A.T - B.T @ Q)))
    return best


def _check_search(p, r):
    assert r.saturated, (len(r.points), r.last_new_point_at, r.n_starts)
    assert r.n_starts >= MIN_SATURATION_STARTS and r.last_new_point_at <= r.n_starts / 2
    # every point reached by two starts, or by the exact enumeration ("strata")
    assert all(q.hits >= 2 or q.sources == {"strata": 1} for q in r.points) and r.unseen_probability == 0.0
    assert r.n_converged >= 0.85 * r.n_starts
    assert sum(r.contributions.values()) == len(r.points)
    assert all(q.gradient_norm < 1e-13 for q in r.points)
    # every exact family point (independent constructions) is among the points found
    for name, (W, H) in critical_point_families(p).items():
        f = describe_point(p, W, H)
        assert any(same_point(q, f) for q in r.points), name
    # no two reported points are the same point modulo rotation and relabelling: distinct
    # critical points here lie >= 5e-3 apart, a polished point within ~1e-13 of its exact point
    isolated = [q for q in r.points if not q.continuum]
    for i, a in enumerate(isolated):
        for b in isolated[:i]:
            if abs(a.cost - b.cost) <= 1e-6 * abs(a.cost):
                assert _aligned_distance(a, b, p.K) > 1e-6, (a.cost, b.cost)


def _hit(hits):
    return SimpleNamespace(hits=hits, sources={"uniform": hits})


class TestSearch:
    def test_default_search_saturates_531(self):
        p = UFMProblem(5, 3, 1, 1.0)
        _check_search(p, find_critical_points(p, seed=0))

    @pytest.mark.slow
    def test_default_search_saturates_641(self):
        p = UFMProblem(6, 4, 1, 1.0)
        _check_search(p, find_critical_points(p, seed=0))

    def test_fixed_starts(self):
        p = UFMProblem(4, 3, 1, 1.0)
        r = find_critical_points(p, n_starts=30, seed=0)
        assert r.n_starts == r.discovery.size == 30
        assert r.descent_costs.size == DESCENT_BATCH      # one batch of descent runs opens the round
        assert not r.saturated                          # fewer than MIN_SATURATION_STARTS

    def test_same_seed_same_search(self):
        p = UFMProblem(4, 3, 1, 2.0)
        a, b = (find_critical_points(p, n_starts=500, seed=7) for _ in range(2))
        assert np.array_equal(a.discovery, b.discovery)
        assert [q.cost for q in a.points] == [q.cost for q in b.points]

    def test_descent_fraction(self):
        """A round has ceil(f m / (1 - f)) descent runs beside its m root-finder starts."""
        p = UFMProblem(4, 3, 1, 1.0)
        tasks = _round_tasks(p, 1, 64, 0.02, ("lm",))
        m = sum(t.size for t in tasks if t.source != "descent")
        n = sum(t.size for t in tasks if t.source == "descent")
        assert n == int(np.ceil(0.02 * m / 0.98))
        assert tasks[0].source == "descent" and tasks[-1].source == "descent"
        assert [t.key for t in tasks] == [(1, j) for j in range(len(tasks))]
        assert sum(t.size for t in _round_tasks(p, 1, 64, 1.0, ())) == 64  # descent alone
        assert {t.source for t in _round_tasks(p, 0, 64, 0.0, ("lm",))} >= {"strata", "small_r"}
        assert all(t.source != "descent" for t in _round_tasks(p, 0, 64, 0.0, ("lm",)))

    def test_small_problems_cover_r_up_to_min_k_d(self):
        p = UFMProblem(6, 4, 1, 1.0)
        rs = {t.r for t in _round_tasks(p, 0, 64, 0.0, ("lm",)) if t.source == "small_r"}
        assert rs == {2, 3, 4}
        rs = {t.r for t in _round_tasks(UFMProblem(3, 4, 1, 1.0), 0, 64, 0.0, ("lm",)) if t.source == "small_r"}
        assert rs == {2}                                # r < d: r = d is the problem itself

    def test_saturation_rule(self):
        m = MIN_SATURATION_STARTS
        often = [_hit(4), _hit(5)]                              # last new point at start 2: 2998 * 4 >= 3 * 3000
        curve = np.r_[1, np.full(m // 2 - 1, 2), np.full(m - m // 2, 2)]
        assert is_saturated(curve, often)
        assert not is_saturated(curve[: m - 1], often)                    # too few starts
        assert not is_saturated(np.r_[curve[:-1], 3], often + [_hit(4)])  # new point at the end
        assert not is_saturated(curve, often + [_hit(1)])       # a point reached only once
        assert not is_saturated(curve, often + [_hit(3)])       # 2998 * 3 < 3 * 3000: too rare to vouch for the rest

    def test_continuum_strata_reported_once(self):
        """W = u 1^T, class means differing only along u: one connected set of critical
        points (cost log K) whose points have different numbers of zero eigenvalues."""
        p = UFMProblem(6, 4, 1, 1.0)
        e = np.eye(6)
        W = np.outer(e[:, 0], np.ones(4))
        path = []
        for s in np.linspace(1.0, 0.6, 5):              # h_k = s e_2 + b_k e_1, |h_k| = 1
            b = np.sqrt(1.0 - s * s) * np.array([1.0, 1.0, -1.0, -1.0])
            path.append(describe_point(p, W, s * e[:, [1]] + np.outer(e[:, 0], b)))
        assert all(q.gradient_norm < 1e-15 and q.continuum for q in path)     # critical all along
        assert abs(path[0].cost - np.log(4)) < 1e-15
        assert path[0].n_zero != path[-1].n_zero        # 13 at H = e_2 1^T, 10 off it
        assert all(same_point(path[0], q) for q in path)

    def test_strata_points_need_no_second_hit(self):
        m = MIN_SATURATION_STARTS
        curve = np.r_[1, np.full(m - 1, 2)]
        exact = SimpleNamespace(hits=1, sources={"strata": 1})
        assert is_saturated(curve, [exact, SimpleNamespace(hits=4, sources={"small_r": 4})])
        assert not is_saturated(curve, [exact, SimpleNamespace(hits=1, sources={"small_r": 1})])
        assert is_saturated(curve, [exact])                   # the exact enumeration alone

    def test_bad_input(self):
        p = UFMProblem(4, 3, 1, 1.0)
        with pytest.raises(ValueError, match="unknown method"):
            find_critical_points(p, n_starts=2, methods=("bfgs",))
        with pytest.raises(ValueError, match="n_starts"):
            find_critical_points(p, n_starts=0)
        with pytest.raises(TypeError, match="methods must be a sequence"):
            find_critical_points(p, n_starts=2, methods="lm")
        with pytest.raises(TypeError, match="descent_fraction"):
            find_critical_points(p, n_starts=2, descent_fraction="0.1")
        with pytest.raises(ValueError, match="descent_fraction"):
            find_critical_points(p, n_starts=2, descent_fraction=float("nan"))
        with pytest.raises(ValueError, match="workers"):
            find_critical_points(p, n_starts=2, workers=0)
        with pytest.raises(TypeError, match="scheduler must be an address"):
            find_critical_points(p, n_starts=2, scheduler=8786)
        with pytest.raises(ValueError, match="batch_size"):
            find_critical_points(p, n_starts=2, batch_size=0)


def test_distributed_search_is_the_serial_search():
    """Batches on a LocalCluster of two processes give the serial result, start by start."""
    pytest.importorskip("distributed")
    p = UFMProblem(4, 3, 2, 2.0)
    serial = find_critical_points(p, n_starts=900, seed=3)
    dist = find_critical_points(p, n_starts=900, seed=3, workers=2)
    assert np.array_equal(serial.discovery, dist.discovery)
    assert serial.n_converged == dist.n_converged
    assert np.array_equal(serial.descent_costs, dist.descent_costs)
    for a, b in zip(serial.points, dist.points, strict=True):
        assert a.cost == b.cost and a.hits == b.hits and a.sources == b.sources
        assert all(np.array_equal(x, y) for x, y in zip(a.point, b.point))


@pytest.mark.parametrize("n,m", [(2, 1), (4, 2), (6, 3)])
def test_lift_keeps_the_cost_and_scales_the_gradient(n, m):
    """docs/search.md, "Collapsed classes": h_{k,i} = v_{k, i mod n'} gives f_n = f_{n'} and
    grad_H f_n = lift(grad_V f_{n'}) n'/n, grad_W unchanged (so critical points lift)."""
    p = UFMProblem(4, 3, n, 2.0)
    q = p.resized(n=m)
    W, V = q.random_point(np.random.default_rng(n))
    H = _lift(V, p.K, n)
    assert H.shape == (4, p.N)
    assert abs(p.cost(W, H) - q.cost(W, V)) <= 1e-15 * q.cost(W, V)
    gW, gV = q.riemannian_gradient(W, V)
    GW, GH = p.riemannian_gradient(W, H)
    assert np.max(np.abs(GW - gW)) <= 1e-15 and np.max(np.abs(GH - _lift(gV, p.K, n) * m / n)) <= 1e-15
    # a wrong variant, copies taken across classes (h_j = v_{j mod N'}), changes the cost
    wrong = V[:, np.arange(p.N) % q.N]
    assert abs(p.cost(W, wrong) - q.cost(W, V)) > 1e-3


def test_crawling_starts_get_more_iterations(monkeypatch):
    """The starts left above the rounding level with a small relative gradient run on; the others are untouched.

    One LM iteration leaves most of 48 uniform starts at (3, 3, 2) unconverged, with relative gradients
    spread over decades; with the threshold at their median, the starts below it run
    ``LM_CRAWL_ITERATIONS`` more (they move, and some converge), the ones above keep their end points bit
    for bit.  The wrong variant, continuing every unconverged start, moves the ones above too.
    """
    from nc_verify.landscape import search
    from nc_verify.landscape.batched import batched_levenberg_marquardt

    q = UFMProblem(3, 3, 2, 1.5)
    rng = np.random.default_rng(3)
    W0, H0 = (np.stack(a) for a in zip(*[q.random_point(rng) for _ in range(48)]))

    def one_iteration():
        return batched_levenberg_marquardt(q, W0.copy(), H0.copy(), max_iterations=1)

    first = one_iteration()
    rel = first.gradient_norm / first.models.scale
    open_ = np.flatnonzero(~first.converged)
    assert open_.size >= 10
    threshold = float(np.median(rel[open_]))
    below, above = open_[rel[open_] <= threshold], open_[rel[open_] > threshold]
    monkeypatch.setattr(search, "LM_CRAWL_GRADIENT", threshold)
    res = search._continue_crawling(q, one_iteration())
    assert np.array_equal(res.W[above], first.W[above]) and np.array_equal(res.H[above], first.H[above])
    assert np.all(np.max(np.abs(res.W[below] - first.W[below]), axis=(1, 2)) > 0)
    assert res.converged[below].sum() > first.converged[below].sum()
    monkeypatch.setattr(search, "LM_CRAWL_GRADIENT", np.inf)          # the wrong variant: every open start
    wrong = search._continue_crawling(q, one_iteration())
    assert np.any(np.max(np.abs(wrong.W[above] - first.W[above]), axis=(1, 2)) > 0)


def test_search_loop_decides_with_the_rarest_hits_kept(monkeypatch):
    """The search loop applies the saturation rule after every start with the rarest point's random hits kept as
    they are merged (``_RarestHits``): at every check that value is the count over the points found so far (both
    merge paths update it), the search stops at the first start where the rule holds, and its result says
    saturated.  At (5, 3, 2), tau = 2, seed 0 the rarest-point condition is what decides: there were starts at
    which the rule before (every point hit twice, no new point in the last half) held and the search went on.
    """
    from nc_verify.landscape import search as S

    trackers, calls = [], []

    class Recording(S._RarestHits):
        def __init__(self, points=()):
            self.seen = {}
            super().__init__(points)
            trackers.append(self)

        def update(self, point):
            self.seen[id(point)] = point
            super().update(point)

    real = S._saturation_rule

    def rule(m, last_new, rarest):
        assert rarest == S._rarest_hits(list(trackers[-1].seen.values())), m
        calls.append((m, last_new, rarest, real(m, last_new, rarest)))
        return calls[-1][-1]

    monkeypatch.setattr(S, "_RarestHits", Recording)
    monkeypatch.setattr(S, "_saturation_rule", rule)
    r = S.find_critical_points(UFMProblem(5, 3, 2, 2.0), seed=0, max_starts=30000)
    loop = list(calls)                                  # r.saturated below runs the rule once more
    assert r.saturated and r.n_starts < 30000
    assert loop[-1][0] == r.n_starts and loop[-1][-1] and not any(c[-1] for c in loop[:-1])
    old_rule_stops = [m for m, last, k, _ in loop
                      if m >= S.MIN_SATURATION_STARTS and m - last >= S.SATURATION_FRACTION * m and k >= 2]
    assert old_rule_stops and old_rule_stops[0] < r.n_starts
