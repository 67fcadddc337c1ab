"""Continua by their worst member, and the higher-order test at flat points (nc_verify.landscape.degenerate)."""

import numpy as np
import pytest

from nc_verify import UFMProblem, classify_critical_point
from nc_verify.objective import families as F
from nc_verify.landscape.degenerate import (
    classify_point,
    flat_directions,
    higher_order_test,
    worst_member,
)


def _u1_v1(problem, angle):
    d, K, N = problem.d, problem.K, problem.N
    u = np.zeros(d)
    u[0] = 1.0
    v = np.zeros(d)
    v[0], v[1] = np.cos(angle), np.sin(angle)
    return np.tile(u[:, None], (1, K)), np.tile(v[:, None], (1, N))


def test_lambda_min_along_the_continuum():
    # measured: lambda_min = -cos^2(angle) / 2 along W = u 1^T, H = v 1^T at (2, 2, 1, 1)
    p = UFMProblem(2, 2, 1, 1.0)
    for angle in (0.0, 0.4, 1.0):
        rep = classify_critical_point(p, *_u1_v1(p, angle))
        assert abs(rep.lambda_min + np.cos(angle) ** 2 / 2) <= 1e-12
        assert rep.kind == "strict_saddle" and rep.n_zero == 2 and rep.orbit_dimension == 1


def test_flat_directions_exclude_the_orbit():
    p = UFMProblem(2, 2, 1, 1.0)
    E, _ = flat_directions(p, _u1_v1(p, 0.3))
    assert E.shape == (4, 1)                      # n_zero 2, orbit 1: one direction along the continuum
    assert np.allclose(E.T @ E, np.eye(1), atol=1e-12)
    E0, _ = flat_directions(p, F.global_etf(p))  # the minimum: kernel = orbit
    assert E0.shape[1] == 0


def test_worst_member_is_v_orthogonal_to_u():
    p = UFMProblem(2, 2, 1, 1.0)
    (W, H), info = worst_member(p, *_u1_v1(p, 0.3))
    assert info["moved"] and info["lambda_min_start"] == pytest.approx(-np.cos(0.3) ** 2 / 2, abs=1e-12)
    assert abs(info["lambda_min"]) <= 1e-12        # the maximum of -cos^2 / 2 is 0, at angle pi / 2
    assert abs(W[:, 0] @ H[:, 0]) <= 1e-6
    assert abs(p.cost(W, H) - np.log(2)) <= 1e-15   # still on the continuum (cost log K)


def test_degenerate_saddle_at_fourth_order():
    p = UFMProblem(2, 2, 1, 1.0)
    rep = classify_point(p, *_u1_v1(p, 0.3), rng=0)     # seeded: the random flat combinations it tries
    assert rep.kind == "degenerate_saddle" and rep.state == "FAIL"      # Theorem 2's claim fails there
    assert np.allclose(rep.spectrum, [0, 0, 0, 0.5], atol=1e-12)
    ho = rep.higher_order
    assert ho["decrease"] and abs(ho["order"] - 4.0) <= 0.05
    # f - log 2 is about -5.8e-6 at distance 0.1 and scales like t^4 (a fourth-order decrease)
    t, df = ho["steps"], ho["differences"]
    i = int(np.argmin(np.abs(t - 0.1)))
    assert -1e-5 < df[i] * (0.1 / t[i]) ** 4 < -3e-6
    assert rep.continuum["lambda_min_representative"] < -0.4


def test_strict_saddle_and_minimum_unchanged():
    p = UFMProblem(5, 3, 1, 1.0)
    assert classify_point(p, *F.global_etf(p)).kind == "global_minimizer"
    W, H = F.anti_aligned_etf(p)
    a, b = classify_point(p, W, H), classify_critical_point(p, W, H)
    assert a.kind == b.kind == "strict_saddle" and a.lambda_min == b.lambda_min


def test_no_decrease_without_flat_directions():
    p = UFMProblem(5, 3, 1, 1.0)
    out = higher_order_test(p, *F.global_etf(p))
    assert out == {"decrease": False, "flat_directions": 0, "directions_tried": 0}


# ---------------------------------------------------------------- the continuum W = u 1^T, in general
from nc_verify.landscape.degenerate import (  # noqa: E402
    U1_TOL,
    u1_axis,
    u1_continuum_bound,
    u1_worst_members,
)
from nc_verify.landscape.spectrum import hessian_matrix, tangent_basis  # noqa: E402


def _u1_member(problem, rng):
    """A random member of W = e_1 1^T: every class holds a permutation of one feature set, with
    its e_1 components flipped or not per class (class means then differ only along e_1)."""
    d, K, n = problem.d, problem.K, problem.n
    base = rng.standard_normal((d, n))
    base /= np.linalg.norm(base, axis=0)
    H = []
    for _ in range(K):
        X = base[:, rng.permutation(n)].copy()
        X[0] *= rng.choice([-1.0, 1.0])
        H.append(X)
    W = np.zeros((d, K))
    W[0] = 1.0
    return W, np.hstack(H)


def test_u1_members_are_critical_at_cost_log_k():
    rng = np.random.default_rng(3)
    for d, K, n in [(2, 5, 3), (3, 4, 2), (4, 3, 3)]:
        p = UFMProblem(d, K, n, 1.3)
        W, H = _u1_member(p, rng)
        assert p.gradient_norm(W, H) <= 1e-15
        assert abs(p.cost(W, H) - np.log(K)) <= 4e-16 * np.log(K)
        # a class mean moved off u by one feature: no longer critical
        H2 = H.copy()
        H2[:, 0] = np.roll(H2[:, 0], 1)
        assert p.gradient_norm(W, H2) > 1e-3


def test_u1_bound_is_the_two_by_two_block():
    """The quadratic form along dw_y = alpha e, dh_j = beta e equals a alpha^2 - 2 b alpha beta with the
    bound's a, b (docs "Continua"); a wrong factor or sign fails the comparison."""
    rng = np.random.default_rng(5)
    for d, K, n, tau in [(3, 4, 2, 1.0), (4, 3, 3, 2.5), (5, 5, 1, 0.3)]:
        p = UFMProblem(d, K, n, tau)
        W, H = _u1_member(p, rng)
        N = K * n
        a_k = np.array([H[0, k * n:(k + 1) * n].mean() for k in range(K)])
        y = int(np.argmin(a_k))                       # a class with u^T hbar_y <= u^T mu
        j = y * n
        e = np.linalg.svd(np.stack([W[:, 0], H[:, j]]))[2][-1]      # unit, orthogonal to u and h_j
        S = float(np.sum((e @ H) ** 2))
        a = tau ** 2 / (N * K) * (1 - 1 / K) * S - tau / K * (a_k.mean() - a_k[y])
        b = tau / N * (1 - 1 / K)
        B = tangent_basis(p, W, H)
        A = hessian_matrix(p, W, H, basis=B)
        for alpha, beta in [(1.0, 0.0), (0.6, 0.8), (0.6, -0.8)]:
            dW, dH = np.zeros_like(W), np.zeros_like(H)
            dW[:, y], dH[:, j] = alpha * e, beta * e
            c = B.from_ambient(dW, dH)
            q = float(c @ A @ c)
            scale = np.max(np.abs(np.linalg.eigvalsh(A)))
            assert abs(q - (a * alpha ** 2 - 2 * b * alpha * beta)) <= 1e-13 * scale
            if beta:
                assert abs(q - (a * alpha ** 2 + 2 * b * alpha * beta)) > 0.1 * b     # sign of the cross term
        lam_block = (a - np.hypot(a, 2 * b)) / 2
        assert lam_block <= u1_continuum_bound(K, n, tau) < 0


@pytest.mark.parametrize("d, K, n, tau", [(3, 4, 2, 1.0), (4, 3, 3, 2.0), (3, 5, 2, 0.5), (3, 2, 3, 1.0)])
def test_every_u1_member_at_d3_is_below_the_bound(d, K, n, tau):
    rng = np.random.default_rng(11)
    p = UFMProblem(d, K, n, tau)
    B = u1_continuum_bound(K, n, tau)
    lams = [np.linalg.eigvalsh(hessian_matrix(p, *_u1_member(p, rng)))[0] for _ in range(8)]
    assert max(lams) <= B < 0
    # the classification of any member reports the bound, not the member it was given
    rep = classify_point(p, *_u1_member(p, rng))
    assert rep.kind == "strict_saddle" and rep.lambda_min == B and rep.continuum["method"] == "bound"
    assert rep.margin == pytest.approx(abs(B) / rep.resolution)


@pytest.mark.parametrize("K, n", [(5, 3), (3, 4), (4, 2), (2, 2)])
def test_d2_continuum_is_judged_by_its_worst_member(K, n):
    """At d = 2 a generic member of W = u 1^T is a strict saddle, but the continuum holds members
    with lambda_min = 0 (h = s v, equal class sums); judging by the member at hand (the wrong
    variant) says strict saddle, the right rule says degenerate saddle."""
    p = UFMProblem(2, K, n, 1.0)
    x = _u1_member(p, np.random.default_rng(K + 10 * n))
    hit = classify_critical_point(p, *x)
    assert hit.kind == "strict_saddle"                          # what the wrong variant would report
    rep = classify_point(p, *x, rng=0)
    assert rep.kind == "degenerate_saddle" and rep.continuum["method"] == "parametrisation"
    assert abs(rep.lambda_min) <= rep.resolution and rep.n_zero == K * n + 1
    assert rep.higher_order["decrease"] and abs(rep.higher_order["order"] - 4.0) <= 0.1
    assert abs(rep.cost - np.log(K)) <= 1e-15 * np.log(K)
    # every worst member (one per class sum n, n - 2, ...): PSD, and f decreases at fourth order
    members = u1_worst_members(p)
    assert len(members) == n // 2 + 1
    assert set(rep.continuum["member_kinds"].values()) == {"degenerate_saddle"}
    for W, H in members.values():
        assert p.gradient_norm(W, H) <= 1e-16
        assert np.linalg.eigvalsh(hessian_matrix(p, W, H))[0] >= -1e-14


def test_d2_two_samples_opposite_signs_is_degenerate():
    """(2, 2, 2): W = u 1^T, H = [v, -v, v, -v] (class sums 0) is critical with no negative eigenvalue."""
    p = UFMProblem(2, 2, 2, 1.0)
    W, H = u1_worst_members(p)["u1_signed[1]"]
    assert np.allclose(H[1], [1, -1, 1, -1])
    rep = classify_point(p, W, H, rng=0)
    assert rep.kind == "degenerate_saddle"


def test_u1_axis_threshold():
    """Classifiers 1e-5 apart (between U1_TOL and a looser 1e-3) are not on the continuum."""
    p = UFMProblem(3, 3, 1, 1.0)
    W = np.zeros((3, 3))
    W[0] = 1.0
    H = np.tile(np.array([[0.0], [1.0], [0.0]]), (1, 3))
    assert u1_axis(p, (W, H)) is not None
    for delta, on in [(0.5 * U1_TOL, True), (1e-5, False)]:
        W2 = W.copy()
        W2[1, 0] = delta
        W2 /= np.linalg.norm(W2, axis=0)
        assert (u1_axis(p, (W2, H)) is not None) is on
        assert (float(np.max(np.abs(W2 - W2.sum(1, keepdims=True) / np.linalg.norm(W2.sum(1))))) <= 1e-3)  # 1e-3 would
    assert 1e-9 < U1_TOL < 1e-5


def test_unsettled_search_is_undecided(monkeypatch):
    """A continuum without a parametrisation is a strict saddle only when its worst-member search settled."""
    import nc_verify.landscape.degenerate as D

    p = UFMProblem(2, 2, 1, 1.0)
    x = _u1_v1(p, 0.3)
    monkeypatch.setattr(D, "_u1_members", lambda *a: None)          # as if no parametrisation were known
    monkeypatch.setattr(D, "worst_member", lambda problem, *pt: (pt, {
        "method": "search", "lambda_min_start": -0.45, "lambda_min": -0.45, "flat_directions": 1,
        "evaluations": 120, "moved": False, "complete": False}))
    rep = D.classify_point(p, *x, rng=0)
    assert rep.kind == "undecided" and "did not settle" in rep.reason
    monkeypatch.setattr(D, "worst_member", lambda problem, *pt: (pt, {
        "method": "search", "lambda_min_start": -0.45, "lambda_min": -0.45, "flat_directions": 1,
        "evaluations": 20, "moved": False, "complete": True}))
    assert D.classify_point(p, *x, rng=0).kind == "strict_saddle"


def test_worst_member_reports_completeness():
    p = UFMProblem(2, 2, 1, 1.0)
    _, info = worst_member(p, *_u1_v1(p, 0.3))
    assert info["complete"] and info["method"] == "search"
    _, info = worst_member(p, *_u1_v1(p, 0.3), max_evaluations=3)
    assert not info["complete"]


@pytest.mark.parametrize("tau, regime", [(1e4, "large-tau"), (5e-324, "small-tau")])
def test_underflowed_hessian_reason_and_margin(tau, regime):
    """An underflowed Hessian: margin 0 (it was inf) and the regime's own cause (at tau = 5e-324
    the reason said exp(-tau) underflows, where exp(-tau) = 1)."""
    p = UFMProblem(4, 3, 1, tau)
    r = classify_critical_point(p, *F.global_etf(p))
    assert r.kind == "undecided" and r.hessian_norm == 0.0
    assert r.margin == 0.0 and np.isfinite(r.margin)
    assert regime in r.reason and ("exp(-tau)" in r.reason) == (regime == "large-tau")


def test_one_degenerate_worst_member_decides(monkeypatch):
    """(2, 3, 2) has two worst members (class sums 2 and 0).  One resolved decrease makes the continuum a
    degenerate saddle (a rule needing every member to decrease would say undecided); no decrease at
    either leaves it undecided, never a strict saddle."""
    import nc_verify.landscape.degenerate as D

    p = UFMProblem(2, 3, 2, 1.0)
    x = _u1_member(p, np.random.default_rng(1))
    real = D.higher_order_test

    def only_mixed_signs(problem, *point, rng=None):
        out = real(problem, *point, rng=rng)
        if np.all(point[1][1] > 0):                  # u1_signed[0]: pretend nothing was resolved
            out = {**out, "decrease": False}
        return out

    monkeypatch.setattr(D, "higher_order_test", only_mixed_signs)
    rep = D.classify_point(p, *x, rng=0)
    assert rep.kind == "degenerate_saddle" and rep.continuum["member"] == "u1_signed[1]"
    assert rep.continuum["member_kinds"] == {"u1_signed[0]": "undecided", "u1_signed[1]": "degenerate_saddle"}
    monkeypatch.setattr(D, "higher_order_test", lambda problem, *point, rng=None: {
        **real(problem, *point, rng=rng), "decrease": False})
    rep = D.classify_point(p, *x, rng=0)
    assert rep.kind == "undecided" and "no decrease resolved" in rep.reason


@pytest.mark.parametrize("d, K, n, tau", [(5, 3, 2, 2.0), (4, 3, 4, 2.0)])
def test_flat_point_without_a_continuum_settles_at_itself(d, K, n, tau):
    """The anti-aligned ETF with n = 2 has zero eigenvalues beyond its rotation orbit, but the critical
    set does not extend along them: every grid step off the point leaves it.  The worst-member search
    must settle at the point within one grid per flat direction and report a strict saddle.  (Refining
    towards s = 0 along each such direction used the whole budget, so the search never settled and a
    saturated verify_theorem2(5, 3, 2, 2) with seeds 1 and 2 said undecided.)"""
    p = UFMProblem(d, K, n, tau)
    x = F.anti_aligned_etf(p)
    _, info = worst_member(p, *x)
    assert info["flat_directions"] > 0 and info["complete"] and not info["moved"]
    assert info["evaluations"] <= 9 * info["flat_directions"]
    assert classify_point(p, *x).kind == "strict_saddle"
