"""Enclosures of problem (4) in the planar chart against the float implementation (UFMProblem).

At random points (degenerate boxes) the float values of :class:`nc_verify.UFMProblem` --
an independent implementation of eqs. (5)-(8) -- must lie in the enclosures, on both
backends; on random boxes the enclosure must contain the values at sampled points.
Tolerance: the float reference carries its own rounding error (relative ~1e-15 of the
terms, |terms| <= 10 here), so it is compared with a slack of 1e-13 (absolute); the
enclosures themselves are exact bounds.
"""

import numpy as np
import pytest

from nc_verify import UFMProblem
from nc_verify.certify.prover import PlantedWellLoss, prover_loss
from nc_verify.certify.prover import enclosures as E
from nc_verify.certify.prover.chart import PlanarChart
from nc_verify.certify.prover.intervals import NUMPY, FlintBackend

SLACK = 1e-13
FB = FlintBackend()
CASES = [(2, 1, "cross_entropy"), (2, 2, "label_smoothing:0.1"), (3, 1, "cross_entropy"),
         (2, 2, "mse"), (3, 1, "label_smoothing:0.2"), (2, 1, "planted"),
         (2, 1, "focal:2"), (3, 1, "focal:2"), (2, 2, "focal:3"), (3, 1, "focal:1")]


def _loss(spec, K, n, tau):
    if spec != "planted":
        return prover_loss(spec)
    ch = PlanarChart(K, n, tau, tau)
    W0, H0 = ch.to_matrices(np.array([-np.pi / 2, 0.4, -0.5]))
    return prover_loss(PlantedWellLoss(tau * W0.T @ H0, beta=0.2, sigma=0.3))


def _perp(X):
    return np.vstack([-X[1], X[0], np.zeros(X.shape[1])])


def _float_values(P, ch, x, v, cw, eh):
    """Chart gradient, in-plane form and normal form from UFMProblem at d = 3."""
    K = ch.K
    W, H = ch.to_matrices(x, d=3)
    gW, gH = P.riemannian_gradient(W, H)
    pw, ph = _perp(W), _perp(H)
    g = [float(gW[:, k] @ pw[:, k]) for k in range(1, K)] + [float(gH[:, j] @ ph[:, j]) for j in range(ch.N)]
    dW = pw * np.concatenate([[0.0], v[: K - 1]])
    dH = ph * v[K - 1:]
    q = P.hessian_quadratic_form(W, H, dW, dH)
    u = np.array([0.0, 0.0, 1.0])
    qn = P.hessian_quadratic_form(W, H, np.outer(u, cw), np.outer(u, eh))
    return g, q, qn


def _inside(bk, z, val):
    return float(bk.lower(z)) - SLACK <= val <= float(bk.upper(z)) + SLACK


@pytest.mark.parametrize("K,n,spec", CASES)
@pytest.mark.parametrize("backend", ["numpy", "flint"])
def test_point_enclosures_contain_ufm_values(K, n, spec, backend):
    bk = NUMPY if backend == "numpy" else FB
    rng = np.random.default_rng(K * 10 + n)
    tau = 1.7
    enc = _loss(spec, K, n, tau)
    ch = PlanarChart(K, n, tau, tau)
    P = UFMProblem(3, K, n, tau, loss=enc.float_loss())
    for _ in range(5):
        x = rng.uniform(-3, 3, ch.n_angles)
        v = rng.standard_normal(ch.n_angles)
        cw, eh = rng.standard_normal(K), rng.standard_normal(ch.N)
        g, q, qn = _float_values(P, ch, x, v, cw, eh)
        Q = E.quantities(bk, ch, [bk.point(z) for z in x], bk.point(tau), enc)
        for gi, ref in zip(E.gradient(ch, Q, enc), g):
            assert _inside(bk, gi, ref)
        assert _inside(bk, E.inplane_form(bk, ch, Q, list(v), enc), q)
        assert _inside(bk, E.normal_form(bk, ch, Q, list(cw), list(eh), enc), qn)
        # the Hessian matrix is the polarisation of the same form
        Hm = E.hessian(bk, ch, Q)
        Hmid = np.array([[0.0 if e is None else bk.mid(e) for e in r] for r in Hm])
        assert abs(v @ Hmid @ v - q) <= 1e-12 * (1 + abs(q))


@pytest.mark.parametrize("K,n,spec", CASES[:4] + CASES[6:])
def test_box_enclosures_contain_sampled_values(K, n, spec):
    rng = np.random.default_rng(5)
    enc = _loss(spec, K, n, 1.0)
    for _ in range(4):
        tlo = rng.uniform(0.3, 3.0)
        thi = tlo + rng.uniform(0, 0.5)
        ch = PlanarChart(K, n, tlo, thi)
        m = ch.n_angles
        c = rng.uniform(-3, 3, m)
        w = rng.uniform(0, 0.3, m)
        lo, hi = c - w, c + w
        v = rng.standard_normal(m)
        cw, eh = rng.standard_normal(K), rng.standard_normal(ch.N)
        for bk in (NUMPY, FB):
            xs = [bk.interval(a, b) for a, b in zip(lo, hi)]
            T = bk.interval(tlo, thi)
            Q = E.quantities(bk, ch, xs, T, enc)
            gI = E.gradient(ch, Q, enc)
            qI = E.inplane_form(bk, ch, Q, list(v), enc)
            nI = E.normal_form(bk, ch, Q, list(cw), list(eh), enc)
            for _s in range(6):
                x = lo + (hi - lo) * rng.uniform(size=m)
                tau = tlo + (thi - tlo) * rng.uniform()
                P = UFMProblem(3, K, n, tau, loss=enc.float_loss())
                g, q, qn = _float_values(P, ch, x, v, cw, eh)
                assert all(_inside(bk, a, b) for a, b in zip(gI, g))
                assert _inside(bk, qI, q) and _inside(bk, nI, qn)


def test_faulty_variant_really_drops_a_term():
    """The negative-control Hessian (no -<dH ddiag(M^T G), dH> term) misses the float value
    by exactly sum_j colc_j v_tj^2 -- so it is a genuine error, not a rounding artefact."""
    rng = np.random.default_rng(3)
    ch = PlanarChart(2, 1, 1.0, 1.0)
    enc = prover_loss("cross_entropy")
    P = UFMProblem(3, 2, 1, 1.0)
    x = rng.uniform(-1, 1, 3)
    v = rng.standard_normal(3)
    _, q, _ = _float_values(P, ch, x, v, [1.0, 0.0], [0.0, 0.0])
    Q = E.quantities(NUMPY, ch, [NUMPY.point(z) for z in x], NUMPY.point(1.0), enc)
    bad = E.inplane_form(NUMPY, ch, Q, list(v), enc, drop="col_curvature")
    colc = np.array([float(z.mid()) for z in Q.colc])
    assert abs(bad.mid() - (q + colc @ v[1:] ** 2)) < 1e-12
    assert abs(colc @ v[1:] ** 2) > 1e-3


def test_unknown_loss_rejected():
    with pytest.raises(ValueError, match="integer gamma"):
        prover_loss("focal:2.5")
    with pytest.raises(TypeError, match="loss"):
        prover_loss(3.0)


# ------------------------------------------------------------ the rank-3 chart (K = 3, R^3)
def _sphere_F(ch, loss, tau):
    """F(x) = f(W(x), H(x)) written in autograd (the loss's own autograd formula): its gradient
    and Hessian are the reference for the chart's enclosures (exact up to rounding, ~1e-15)."""
    import autograd.numpy as anp

    cols = ch.columns()

    def F(x):
        V = []
        for iu, it, th in cols:
            u = 0.0 if iu is None else x[iu]
            phi = np.pi * float(th) + (0.0 if it is None else x[it])
            V.append(anp.array([anp.cos(u) * anp.cos(phi), anp.cos(u) * anp.sin(phi), anp.sin(u)]))
        V = anp.stack(V, 1)
        return loss.autograd_value(tau * anp.dot(V[:, : ch.K].T, V[:, ch.K:]), ch.labels)
    return F


@pytest.mark.parametrize("spec", ["cross_entropy", "focal:2", "label_smoothing:0.1"])
def test_sphere_chart_enclosures_contain_autograd_values(spec):
    import autograd

    from nc_verify.certify.prover.chart import SphereChart

    rng = np.random.default_rng(21)
    tau = 1.3
    enc = prover_loss(spec)
    ch = SphereChart(3, 1, tau, tau)
    F = _sphere_F(ch, enc.float_loss(), tau)
    P = UFMProblem(4, 3, 1, tau, loss=enc.float_loss())
    for trial in range(4):
        c = rng.uniform(-1.4, 1.4, ch.n_angles)
        w = 0.0 if trial < 2 else rng.uniform(0, 0.05, ch.n_angles)
        lo, hi = c - w, c + w
        cw, eh = rng.standard_normal(3), rng.standard_normal(3)
        for bk in (NUMPY, FB):
            Q = E.quantities(bk, ch, [bk.interval(a, b) for a, b in zip(lo, hi)], bk.point(tau), enc)
            gI, HI = E.gradient(ch, Q, enc), E.hessian(bk, ch, Q)
            nI = E.normal_form(bk, ch, Q, list(cw), list(eh), enc)
            for x in (lo, hi, lo + (hi - lo) * rng.uniform(size=ch.n_angles)):
                g, H = autograd.grad(F)(x), autograd.hessian(F)(x)
                assert all(_inside(bk, a, b) for a, b in zip(gI, g))
                assert all(_inside(bk, HI[a][b], H[a, b]) if HI[a][b] is not None else abs(H[a, b]) < 1e-15
                           for a in range(ch.n_angles) for b in range(ch.n_angles))
                # normal block at d = 4 along u = e_4 (Lemma 2), from UFMProblem's eqs. (7)-(8)
                W, Hm = ch.to_matrices(x, d=4)
                u = np.array([0.0, 0.0, 0.0, 1.0])
                assert _inside(bk, nI, P.hessian_quadratic_form(W, Hm, np.outer(u, cw), np.outer(u, eh)))


def test_sphere_chart_etf_point():
    from nc_verify.certify.prover.chart import SphereChart

    ch = SphereChart(3, 1, 1.0, 1.0)
    W, H = ch.to_matrices(ch.etf_point())
    gram = W.T @ W
    assert np.allclose(gram, 1.5 * np.eye(3) - 0.5, atol=1e-15) and np.allclose(H, W, atol=1e-15)
    dlo, dhi = ch.domain()
    assert np.all(dlo <= 0.0) and np.all(dhi >= 0.0) and dhi[1] >= np.pi / 2 and dlo[1] <= 0.0
