"""Distinct critical points modulo symmetry, and the one .npz point format (nc_verify.landscape.points)."""

import dataclasses
import json

import numpy as np
import pytest

from nc_verify import UFMProblem, critical_point_families, find_critical_points
from nc_verify.landscape.points import (
    INVARIANT_RTOL,
    PointIndex,
    add_distinct,
    describe_point,
    load_point,
    same_point,
    save_point,
)


def test_collinear_patterns_with_equal_cost_and_grams_stay_distinct():
    # (3, 3, 2, 1): two sign patterns with the same cost, Gram matrices and cross singular
    # values, told apart only by their Hessian spectra (lambda_min -0.6072 vs -0.4420)
    p = UFMProblem(3, 3, 2, 1.0)
    fam = critical_point_families(p)
    a, b = describe_point(p, *fam["collinear[+2 +0 -2]"]), describe_point(p, *fam["collinear[+1 +1 -2]"])
    assert not a.continuum and not b.continuum
    assert a.cost == pytest.approx(b.cost, abs=1e-14)
    for k in ("gram_0", "gram_1", "cross_0_1"):
        assert np.allclose(a.invariants[k], b.invariants[k], atol=1e-12)
    assert a.invariants["hessian"][0] == pytest.approx(-0.6072, abs=1e-4)
    assert b.invariants["hessian"][0] == pytest.approx(-0.4420, abs=1e-4)
    assert not same_point(a, b)


@pytest.mark.parametrize("key", ["cost", "gram_0", "gram_1", "cross_0_1", "hessian"])
def test_a_difference_at_the_1e_3_level_is_not_merged(key):
    p = UFMProblem(3, 3, 2, 1.0)
    a = describe_point(p, *critical_point_families(p)["collinear[+2 +0 -2]"])

    def shifted(rel):
        if key == "cost":
            return dataclasses.replace(a, cost=a.cost * (1 + rel))
        inv = dict(a.invariants)
        inv[key] = inv[key] + rel * (1.0 + np.max(np.abs(inv[key])))
        return dataclasses.replace(a, invariants=inv)

    assert not same_point(a, shifted(1e-3))
    assert same_point(a, shifted(INVARIANT_RTOL / 10))      # rounding-level differences are one point


def test_pinned_distinct_count():
    # (3, 3, 1, 1), seed 0: the adaptive search saturates after the minimum of 3000 starts
    # with 14 distinct points (as with 400 before the batched search)
    s = find_critical_points(UFMProblem(3, 3, 1, 1.0), n_starts=None, seed=0)
    assert s.saturated and s.n_starts == 3000 and len(s.points) == 14


def _family_points(p, rng=None):
    return [describe_point(p, *x) for x in critical_point_families(p, rng).values()]


def test_point_index_merges_as_the_linear_scan_does():
    """Known-distinct pairs stay apart and copies merge, exactly as add_distinct's scan of every point."""
    p = UFMProblem(4, 3, 2, 2.0)
    rng = np.random.default_rng(0)
    pts = _family_points(p, rng)
    # copies of every point, rotated (the symmetry), in a shuffled order
    for x in list(pts):
        Q = np.linalg.qr(rng.standard_normal((p.d, p.d)))[0]
        pts.append(describe_point(p, Q @ x.W, Q @ x.H))
    order = rng.permutation(len(pts))
    scan, index = [], PointIndex()
    new_scan = [add_distinct(scan, dataclasses.replace(pts[i], sources={}), "s") for i in order]
    new_index = [index.add(dataclasses.replace(pts[i], sources={}), "s") for i in order]
    assert new_scan == new_index
    assert [q.cost for q in scan] == [q.cost for q in index.points]
    assert [q.hits for q in scan] == [q.hits for q in index.points]
    assert len(index.points) < len(pts) / 2 + 1            # every rotated copy merged
    # hashing: far fewer comparisons than the scan's (up to one per stored point per insertion)
    assert index.comparisons < 0.5 * sum(range(len(index.points) + 1))


def test_point_index_looks_into_the_neighbouring_buckets():
    """Costs within INVARIANT_RTOL that straddle a bucket boundary are still one point."""
    p = UFMProblem(3, 3, 2, 1.0)
    a = describe_point(p, *critical_point_families(p)["collinear[+2 +0 -2]"])
    w = PointIndex.WIDTH
    edge = np.exp(w * np.ceil(np.log(a.cost) / w))           # a bucket boundary just above a.cost
    below = dataclasses.replace(a, cost=edge * (1 - INVARIANT_RTOL / 4), sources={})
    above = dataclasses.replace(a, cost=edge * (1 + INVARIANT_RTOL / 4), sources={})
    index = PointIndex()
    assert index._key(below) != index._key(above)
    assert index.add(below, "s") and not index.add(above, "s")
    assert index.points[0].hits == 2
    # the wrong variant, a lookup in the own bucket only, would have kept two points
    own = index._buckets.get(index._key(above), [])
    assert not any(same_point(q, above) for q in own)


def test_save_and_load_bit_for_bit(tmp_path):
    p = UFMProblem(4, 3, 2, 1.0)
    W, H = p.random_point(0)
    dW, dH = p.random_tangent(W, H, np.random.default_rng(1))
    path = save_point(tmp_path / "sub" / "pt", W, H, direction=(dW, dH), metadata={"tau": 1.0, "note": "x"})
    assert path.endswith(".npz")
    W2, H2, (dW2, dH2), meta = load_point(path)
    assert all(np.array_equal(x, y) for x, y in ((W, W2), (H, H2), (dW, dW2), (dH, dH2)))
    assert meta == {"tau": 1.0, "note": "x"}
    _, _, direction, meta3 = load_point(save_point(tmp_path / "plain.npz", W, H))
    assert direction is None and meta3 == {}


def test_exact_rationals(tmp_path):
    path = tmp_path / "q.npz"
    np.savez(path, W_num=np.array([[3, -3], [4, -4]]), W_den=np.full((2, 2), 5), H=np.array([[1.0, -1.0], [0, 0]]))
    W, _, _, _ = load_point(path, exact=True)
    from fractions import Fraction

    assert W[0, 0] == Fraction(3, 5) and W.dtype == object
    with pytest.raises(ValueError, match="must hold arrays W and H"):
        load_point(path)                               # rationals only where asked for


@pytest.mark.parametrize("write, match", [
    (lambda f: f.write_text("hello"), "is not an .npz archive"),
    (lambda f: np.save(open(f, "wb"), np.ones(3)), "a single .npy array"),
    (lambda f: np.savez(f, W=np.ones((2, 2))), "must hold arrays W and H"),
    (lambda f: np.savez(f, W=np.ones((3, 1)), H=np.ones((3, 2))), "W must be a \\(d, K\\) array"),
    (lambda f: np.savez(f, W=np.ones((3, 4)), H=np.ones((2, 4))), "W has shape \\(3, 4\\) but H has shape \\(2, 4\\)"),
    (lambda f: np.savez(f, W=np.ones((2, 2)), H=np.ones((2, 4)), dW=np.ones((2, 2))), "needs both dW and dH"),
])
def test_bad_files_are_clear_errors(tmp_path, write, match):
    f = tmp_path / "bad.npz"
    write(f)
    with pytest.raises(ValueError, match=match):
        load_point(f)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_point(tmp_path / "nope.npz")


def test_metadata_is_json(tmp_path):
    path = save_point(tmp_path / "m", np.eye(2), np.eye(2), metadata={"a": np.float64(1.5)})
    with np.load(path) as data:
        assert json.loads(str(data["metadata"])) == {"a": 1.5}


def test_underflowed_points_are_reported_once():
    """tau = 1e4, (3, 3, 1): descents end at different saturated configurations whose cost, gradient and
    Hessian all compute to 0; five of them were listed as five identical undecided rows."""
    from nc_verify import UFMProblem
    from nc_verify.landscape.points import add_distinct, describe_point

    from nc_verify.objective import families as F

    p = UFMProblem(3, 3, 1, 1e4)
    pts = []
    for angle in (0.0, 0.05, 0.1):                       # rotated-apart near-ETF points, all saturated
        W, H = F.global_etf(p)
        c, s = np.cos(angle), np.sin(angle)
        R = np.eye(3)
        R[:2, :2] = [[c, -s], [s, c]]
        W2, H2 = W.copy(), H.copy()
        W2[:, 0], H2[:, 0] = R @ W2[:, 0], R @ H2[:, 0]         # class 0 turned: W^T W changes
        q = describe_point(p, W2, H2)
        assert q.cost == 0.0 and not np.any(q.invariants["hessian"])
        pts.append(q)
    assert not np.allclose(pts[0].invariants["gram_0"], pts[2].invariants["gram_0"], atol=1e-4)
    kept = []
    for q in pts:
        add_distinct(kept, q, "descent")
    assert len(kept) == 1 and kept[0].hits == 3
    # a point with a non-zero Hessian at the same cost stays distinct
    W, H = F.global_etf(UFMProblem(3, 3, 1, 1.0))
    other = describe_point(UFMProblem(3, 3, 1, 1.0), W, H)
    other.cost = 0.0
    assert add_distinct(kept, other) and len(kept) == 2
