"""The rank-3 chart's logit differences m_kj - m_lj in product form (enclosures._column_difference).

Checked against the inner products of the chart's own columns (``SphereChart.to_matrices``, float
code independent of the enclosure), on points (tight) and boxes (contain every sampled point), and
against the subtraction of the two enclosures of m (the enclosure is their intersection: never
wider; far narrower where ``w_k`` and ``w_l`` are close).
"""

import numpy as np
import pytest

from nc_verify.certify.prover import enclosures as E
from nc_verify.certify.prover.chart import SphereChart
from nc_verify.certify.prover.intervals import NUMPY, FlintBackend, IA

ENC = E.prover_loss("cross_entropy")
# point boxes: each difference is a sum of ~3 products of O(1) factors from sin/cos enclosed with the
# assumed relative error 2^-44 (5.7e-14) and one-ulp outward steps: width well below 1e-11
POINT_TOL = 1e-11


def diffs(ch, x):
    W, H = ch.to_matrices(x)
    M = W.T @ H
    return {(k, l): M[k] - M[l] for k in range(3) for l in range(3) if k != l}


def subtracted(ch, lo, hi):
    """The enclosure the product form replaces: ``m_kj = C_k C_j cos(phi_k - phi_j) + S_k S_j`` and
    ``m_lj`` enclosed separately (the angle difference enclosed first), then subtracted."""
    bk = NUMPY
    x = [IA(lo[:, i], hi[:, i]) for i in range(ch.dim)]
    cols = ch.columns()
    zero = IA(np.zeros(lo.shape[0]))

    def m(k, j):
        (iuk, itk, thk), (iuj, itj, thj) = cols[k], cols[3 + j]
        base = (zero if itk is None else x[itk]) - x[itj]
        cD = E.shifted_trig(bk, base, thk - thj)[0]
        Cj, Sj = bk.cos(x[iuj]), bk.sin(x[iuj])
        if iuk is None:
            return Cj * cD
        return bk.cos(x[iuk]) * Cj * cD + bk.sin(x[iuk]) * Sj
    mm = [[m(k, j) for j in range(ch.N)] for k in range(3)]
    return {(k, l): [mm[k][j] - mm[l][j] for j in range(ch.N)] for k in range(3) for l in range(3) if k != l}


@pytest.mark.parametrize("n", [1, 2])
def test_product_form_differences_at_points_and_wrong_variant(n):
    ch = SphereChart(3, n, 1.0, 1.0)
    rng = np.random.default_rng(20 + n)
    lo, hi = ch.domain()
    xs = lo + (hi - lo) * rng.random((150, ch.dim))
    Q = E.sphere_quantities(NUMPY, ch, [IA(xs[:, i]) for i in range(ch.dim)], IA(np.ones(150)), ENC)
    ref = [diffs(ch, x) for x in xs]
    for (k, l), v in Q.dc.items():
        for j in range(ch.N):
            want = np.array([r[(k, l)][j] for r in ref])
            assert np.all(v[j].lo <= want + POINT_TOL) and np.all(v[j].hi >= want - POINT_TOL)
            assert np.max(v[j].hi - v[j].lo) < POINT_TOL
    # a plausible wrong variant, C_j C_k (cos A - cos B) + S_j (S_k - S_l) (the (C_k - C_l) cos B term
    # dropped), is off by more than 0.01 somewhere: the term is needed
    W = [ch.to_matrices(x)[0] for x in xs]
    H = [ch.to_matrices(x)[1] for x in xs]
    j = 0
    Cj = np.array([np.hypot(h[0, j], h[1, j]) for h in H])
    Sj = np.array([h[2, j] for h in H])
    phij = np.array([np.arctan2(h[1, j], h[0, j]) for h in H])
    C1, S1, phi1 = np.ones(150), np.zeros(150), np.zeros(150)
    S3 = np.array([w[2, 2] for w in W])
    phi3 = np.array([np.arctan2(w[1, 2], w[0, 2]) for w in W])
    wrong = Cj * C1 * (np.cos(phi1 - phij) - np.cos(phi3 - phij)) + Sj * (S1 - S3)
    want = np.array([r[(0, 2)][j] for r in ref])
    assert np.max(np.abs(wrong - want)) > 0.01
    # flint balls agree
    fl = FlintBackend()
    Qf = E.sphere_quantities(fl, ch, [fl.point(z) for z in xs[0]], fl.point(1.0), ENC)
    for (k, l), v in Qf.dc.items():
        assert abs(float(fl.mid(v[0])) - ref[0][(k, l)][0]) < POINT_TOL


def test_product_form_contains_the_box_and_is_narrower():
    ch = SphereChart(3, 1, 1.0, 1.0)
    rng = np.random.default_rng(7)
    lo0, hi0 = ch.domain()
    B = 200
    c = lo0 + (hi0 - lo0) * rng.random((B, ch.dim))
    lo, hi = np.maximum(c - 0.15, lo0), np.minimum(c + 0.15, hi0)
    Q = E.sphere_quantities(NUMPY, ch, [IA(lo[:, i], hi[:, i]) for i in range(ch.dim)], IA(np.ones(B)), ENC)
    for b in range(0, B, 10):
        for x in lo[b] + (hi[b] - lo[b]) * rng.random((30, ch.dim)):
            r = diffs(ch, x)
            for (k, l), v in Q.dc.items():
                for j in range(ch.N):
                    assert v[j].lo[b] - POINT_TOL <= r[(k, l)][j] <= v[j].hi[b] + POINT_TOL
    # the product form is intersected with the subtraction: never wider (up to the one-ulp steps of
    # a multiplication by an exact 1 in the code's m), and narrower where it pays
    old = subtracted(ch, lo, hi)
    gain = []
    for key, v in Q.dc.items():
        for j in range(ch.N):
            wn, wo = v[j].hi - v[j].lo, old[key][j].hi - old[key][j].lo
            assert np.all(wn <= wo + 1e-12)
            gain.append(wo - wn)
    assert np.mean(np.concatenate(gain) > 1e-3) > 0.05      # a real gain on a part of random boxes
    # w_3 next to w_1 (u_3, t_3 such that w_3 ~ e_1): the difference m_1j - m_3j is small and so is
    # its product-form enclosure, while the subtraction keeps the full width of both terms
    lo1, hi1 = lo.copy(), hi.copy()
    lo1[:, 1], hi1[:, 1] = 0.0, 0.02                       # u_3 near 0
    t3 = 2 * np.pi / 3                                     # phi_3 = -2 pi/3 + t_3 = 0
    lo1[:, 2], hi1[:, 2] = t3 - 0.01, t3 + 0.01
    Q1 = E.sphere_quantities(NUMPY, ch, [IA(lo1[:, i], hi1[:, i]) for i in range(ch.dim)], IA(np.ones(B)), ENC)
    old1 = subtracted(ch, lo1, hi1)
    w_new = np.mean(Q1.dc[(0, 2)][0].hi - Q1.dc[(0, 2)][0].lo)
    w_old = np.mean(old1[(0, 2)][0].hi - old1[(0, 2)][0].lo)
    assert w_new < 0.2 * w_old, (w_new, w_old)


def test_intersect_both_backends():
    fl = FlintBackend()
    a, b = IA(np.array([-1.0, 0.0, -np.inf]), np.array([2.0, 1.0, np.inf])), IA(np.array([0.5, 2.0, -1.0]),
                                                                                   np.array([3.0, 3.0, 1.0]))
    r = NUMPY.intersect(a, b)
    # overlap; empty (valid enclosures never give it: the whole line, so no sign test passes); whole line
    assert r.lo.tolist() == [0.5, -np.inf, -1.0] and r.hi.tolist() == [2.0, np.inf, 1.0]
    f = fl.intersect(fl.interval(-1.0, 2.0), fl.interval(0.5, 3.0))
    assert float(f.lo) == 0.5 and float(f.hi) == 2.0
    e = fl.intersect(fl.interval(0.0, 1.0), fl.interval(2.0, 3.0))
    assert not fl.is_pos(e) and not fl.is_neg(e)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")      # midpoints of whole-line enclosures
def test_planted_sign_fault_in_the_differences_rejected_at_exactly_the_false_leaves(monkeypatch):
    """A prover whose product form has the wrong sign (m_lj - m_kj): its discards are checked with
    the correct enclosures; the flint checker rejects exactly the leaves whose claim the correct
    numpy enclosures do not establish (some exist), and none of the others."""
    from nc_verify.certify.prover import check_landscape_proof, prove_landscape
    from nc_verify.certify.prover import proof as P
    good = E._column_difference
    monkeypatch.setattr(E, "_column_difference", lambda *a: -good(*a))
    p = prove_landscape(3, 1, 1.0, max_boxes=20000, batch=2048, order="breadth", symmetry=True)
    monkeypatch.setattr(E, "_column_difference", good)
    ch = SphereChart(3, 1, 1.0, 1.0)
    false = [i for i, l in enumerate(p.leaves) if l["test"] not in ("unresolved", "symmetry")
             and not P.check_leaf(NUMPY, ch, ENC, l, l["lo"], l["hi"], True)[0]]
    assert false
    r = check_landscape_proof(p, max_failures=10 ** 6)
    assert not r.valid
    assert sorted(f["index"] for f in r.failures) == false, r.failures
