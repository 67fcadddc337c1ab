"""The atlas (nc_verify.atlas): orbit types, spans, the shipped data and the comparison of a user's points."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nc_verify import atlas
from nc_verify.atlas.symmetry import orbit_type, span_dimension
from nc_verify.landscape.points import INVARIANT_RTOL
from nc_verify.objective import families as F
from nc_verify.objective.frames import random_orthogonal
from nc_verify.objective.problem import UFMProblem


def _unit(X):
    return X / np.linalg.norm(X, axis=0)


def _relabel(W, H, n, rng):
    """A rotated copy of (W, H) with classes and samples within each class permuted at random."""
    K = W.shape[1]
    Q = random_orthogonal(W.shape[0], rng)
    sigma = rng.permutation(K)
    cols = np.concatenate([sigma[k] * n + rng.permutation(n) for k in range(K)])
    return Q @ W[:, sigma], Q @ H[:, cols]


# ------------------------------------------------------------------ orbit type
@pytest.mark.parametrize("K,n", [(3, 1), (3, 2), (4, 2), (5, 1)])
def test_etf_is_fixed_by_every_relabelling(K, n):
    """W a simplex ETF, h_{k,i} = w_k: every class permutation with any sample bijection is a symmetry."""
    W, H = F.global_etf(UFMProblem(K + 2, K, n, 1.0))
    t = orbit_type(W, H, n)
    order = math.factorial(K) * math.factorial(n) ** K
    assert (t.group_order, t.stabilizer_order, t.class_stabilizer_order, t.orbit_size) == (order, order,
                                                                                          math.factorial(K), 1)


def test_generic_point_has_trivial_stabilizer():
    rng = np.random.default_rng(3)
    W, H = _unit(rng.standard_normal((6, 4))), _unit(rng.standard_normal((6, 8)))
    t = orbit_type(W, H, 2)
    assert (t.stabilizer_order, t.class_stabilizer_order, t.orbit_size) == (1, 1, 4 * 3 * 2 * 2 ** 4)


def test_one_coincident_pair_gives_stabilizer_two():
    """Two equal features of one class (a generic point otherwise): exactly the swap of that pair."""
    rng = np.random.default_rng(4)
    W, H = _unit(rng.standard_normal((5, 3))), _unit(rng.standard_normal((5, 6)))
    H[:, 3] = H[:, 2]
    assert orbit_type(W, H, 2).stabilizer_order == 2


def test_tolerance_separates_a_near_symmetry():
    """A pair that coincides to 1e-4 is not a symmetry at the default tolerance (1e-6), though a
    looser 1e-3 would count it; a pair equal to 1e-12 (polishing error) is one."""
    rng = np.random.default_rng(5)
    W, H = _unit(rng.standard_normal((5, 3))), _unit(rng.standard_normal((5, 6)))
    for eps, expected in ((1e-4, 1), (1e-12, 2)):
        G = H.copy()
        G[:, 3] = _unit(H[:, 2] + eps * rng.standard_normal(5))
        assert orbit_type(W, G, 2).stabilizer_order == expected
    G[:, 3] = _unit(H[:, 2] + 1e-4 * rng.standard_normal(5))
    assert orbit_type(W, G, 2, rtol=1e-3).stabilizer_order == 2        # the looser rule merges the pair
    assert INVARIANT_RTOL == 1e-6


def test_swapped_classes_need_the_whole_gram_matrix():
    """Classifiers that coincide but whose classes' features differ: the class swap is no symmetry.
    A rule checking the W block alone (or W and H separately) would count it."""
    rng = np.random.default_rng(6)
    w = _unit(rng.standard_normal((4, 1)))
    W = np.concatenate([w, w, _unit(rng.standard_normal((4, 1)))], axis=1)
    H = _unit(rng.standard_normal((4, 3)))
    t = orbit_type(W, H, 1)
    assert t.stabilizer_order == 1
    H2 = H.copy()
    H2[:, 1] = H[:, 0]                      # now classes 0 and 1 are alike: the swap is a symmetry
    assert orbit_type(W, H2, 1).stabilizer_order == 2


def test_node_bound_reports_not_counted():
    W, H = F.global_etf(UFMProblem(6, 4, 2, 1.0))
    t = orbit_type(W, H, 2, max_nodes=10)
    assert t.stabilizer_order is None and t.orbit_size is None and str(t) == "not counted"


def test_orbit_type_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shapes"):
        orbit_type(np.eye(3), np.eye(3), 2)
    with pytest.raises(TypeError, match="n must be an integer"):
        orbit_type(np.eye(3), np.eye(3), 1.0)


@pytest.mark.parametrize("K,expected", [(3, 2), (4, 3), (5, 4)])
def test_span_dimension_of_the_etf(K, expected):
    """The simplex ETF spans K - 1 dimensions; its features add none."""
    assert span_dimension(*F.global_etf(UFMProblem(K + 3, K, 2, 1.0))) == expected


def test_span_dimension_threshold():
    """A direction of relative size 1e-6 counts (above sqrt(eps) = 1.5e-8), one of 1e-10 does not."""
    rng = np.random.default_rng(7)
    W = np.zeros((4, 2))
    W[0] = 1.0
    H = np.zeros((4, 2))
    H[0] = 1.0
    for size, r in ((1e-6, 2), (1e-10, 1)):
        G = H.copy()
        G[1, 0] = size
        assert span_dimension(W, _unit(G)) == r
    del rng


# --------------------------------------------------------------- shipped data
def test_available_entries_load():
    keys = atlas.available()
    assert (5, 3, 1, 1.0) in keys and (6, 4, 2, 2.0) in keys
    for key in keys:
        e = atlas.load(*key)
        assert e.key == key and e.version == atlas.ATLAS_VERSION and e.search["saturated"] is True
        assert [p.cost for p in e.points] == sorted(p.cost for p in e.points)


@pytest.mark.parametrize("key", [(5, 3, 1, 1.0), (5, 3, 2, 2.0), (6, 4, 1, 2.0)])
def test_shipped_points_are_distinct_critical_points_with_their_recorded_kind(key):
    """Each shipped point is critical (gradient at the float64 rounding level), its cost and
    lambda_min are reproduced (for a continuum point, where lambda_min is the continuum's worst member's
    or the bound on every member's, the point's own smallest eigenvalue is at most it), exactly one is
    the global minimiser at Theorem 1's bound, and no two are one point modulo symmetry (so the counts
    mean distinct points)."""
    from nc_verify.landscape.newton import gradient_tolerance, local_quadratic_model
    from nc_verify.landscape.points import found_point, same_point
    e = atlas.load(*key)
    p = e.problem
    found = []
    for q in e.points:
        loc = local_quadratic_model(p, q.W, q.H)
        assert loc.gradient_norm <= gradient_tolerance(p, q.W, q.H, hessian_norm=loc.hessian_norm)
        assert abs(p.cost(q.W, q.H) - q.cost) <= 1e-12 * max(1.0, q.cost)
        tol = 1e-9 * max(1.0, loc.hessian_norm)
        if q.n_zero > q.orbit_dimension:                # a continuum, judged by its worst member or a bound
            assert loc.eigenvalues[0] <= q.lambda_min + tol
        else:
            assert abs(loc.eigenvalues[0] - q.lambda_min) <= tol
        assert q.kind in ("strict_saddle", "global_minimizer")
        if q.kind == "strict_saddle":                   # resolved negative curvature
            assert q.lambda_min < 0 and q.margin > 1
        found.append(found_point(p, (q.W, q.H), loc.gradient_norm, loc.eigenvalues))
    mins = [q for q in e.points if q.kind == "global_minimizer"]
    # Theorem 1's bound, log(1 + (K - 1) exp(-K tau / (K - 1))), attained at the simplex ETF
    bound = np.log1p((e.K - 1) * np.exp(-e.K * e.tau / (e.K - 1)))
    assert len(mins) == 1 and abs(mins[0].cost - bound) <= 1e-14
    assert not any(same_point(a, b) for i, a in enumerate(found) for b in found[i + 1:])


# ------------------------------------------------------------------- compare
def test_compare_finds_every_point_of_a_relabelled_copy():
    e = atlas.load(5, 3, 2, 2.0)
    rng = np.random.default_rng(8)
    mine = [_relabel(q.W, q.H, e.n, rng) for q in e.points]
    result = atlas.compare(e, mine)
    assert result.complete and not result.unknown and not result.not_critical
    assert result.matched == {i: [i] for i in range(len(e.points))}
    assert result.summary().startswith(f"found {len(e.points)}/{len(e.points)} ")


def test_compare_reports_missing_unknown_and_not_critical():
    e = atlas.load(5, 3, 1, 1.0)
    rng = np.random.default_rng(9)
    mine = [(q.W, q.H) for q in e.points[2:]]                       # the first two are missing
    mine.append(e.problem.random_point(rng=rng))                     # not critical
    smaller = atlas.Atlas(e.d, e.K, e.n, e.tau, e.points[3:], e.search)
    result = atlas.compare(e, mine)
    assert result.missing == [0, 1] and result.not_critical == [len(mine) - 1] and not result.unknown
    assert not result.complete
    # against an atlas that lacks point 2, the user's copy of it is unknown, not dropped
    assert atlas.compare(smaller, mine).unknown == [0]


def test_compare_accepts_a_search_report():
    from nc_verify import verify_theorem2

    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=300, seed=1, progress=False)
    result = atlas.compare(atlas.load(5, 3, 1, 1.0), rep)
    assert not result.unknown and not result.not_critical
    assert len(result.matched) == len(rep.critical_points)


def test_save_and_read_round_trip(tmp_path):
    e = atlas.load(5, 3, 1, 1.0)
    path = e.save(tmp_path / "entry")
    back = atlas.read(path)
    assert back.table() == e.table() and back.search == e.search
    assert all(np.array_equal(a.W, b.W) and np.array_equal(a.H, b.H) for a, b in zip(back.points, e.points))


def test_bad_files_and_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"no entry at \(d, K, n, tau\) = \(7, 3, 1, 1\); entries: \(5, 3, 1, 1\)"):
        atlas.load(7, 3, 1, 1.0)
    bad = tmp_path / "x.npz"
    np.savez(bad, W=np.zeros(3))
    with pytest.raises(ValueError, match="not an nc-verify atlas entry"):
        atlas.read(bad)
    e = atlas.load(5, 3, 1, 1.0)
    e.version = atlas.ATLAS_VERSION + 1
    with pytest.raises(ValueError, match="format version"):
        atlas.read(e.save(tmp_path / "newer"))
    with pytest.raises(TypeError, match="atlas must be an Atlas"):
        atlas.compare("d5_K3_n1_tau1.npz", [])


def test_from_report_refuses_an_unsaturated_search():
    from nc_verify import verify_theorem2

    rep = verify_theorem2(5, 3, 1, 1.0, n_starts=100, seed=0, progress=False)
    with pytest.raises(ValueError, match="did not saturate"):
        atlas.from_report(rep, seed=0)
