"""The weak form at d = 2 ("no spurious local minimum"): the continuum leaves, their lemmas, the
fourth-order descent certificates, planted faults and forged leaves.

Every lemma is checked against :class:`nc_verify.UFMProblem` (float code independent of the
prover's enclosures and of the arb series): the degenerate members are critical with a PSD
Hessian, the off-stratum critical points of Lemma W2 sit exactly at tau |w_1 - w_2| = log(P/Q)
(and not at the plausible wrong values), and the cost along the descent curve falls like
-t^4 / (8 N^2).
"""

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest

from nc_verify import UFMProblem, hessian_spectrum
from nc_verify.certify.prover import check_landscape_proof, prove_landscape, summary_lines
from nc_verify.certify.prover import continuum as C
from nc_verify.certify.prover import proof as P
from nc_verify.certify.prover.chart import PlanarChart


def _matrices(alpha2, phi):
    W = np.array([[1.0, math.cos(alpha2)], [0.0, math.sin(alpha2)]])
    return W, np.vstack([np.cos(phi), np.sin(phi)])


def _grad_norm(prob, W, H):
    gW, gH = prob.riemannian_gradient(W, H)
    return float(np.sqrt(np.sum(gW ** 2) + np.sum(gH ** 2)))


def _member_matrices(signs):
    return _matrices(0.0, np.array(signs, float) * math.pi / 2)


def _off_stratum_point(n, tau, c, r):
    """(alpha_2, phi) with |w_1 - w_2| = r and h_j = eps_j c_j e, e = (w_2 - w_1)/r (Lemma W2)."""
    alpha = 2 * math.asin(r / 2)
    eps = np.array([-1] * n + [1] * n)
    phi = alpha / 2 + np.pi / 2 + np.where(eps * np.array(c) > 0, 0.0, np.pi)    # angle of +-e
    return alpha, phi


def _chart_point(ch, alpha, phi):
    """Chart coordinates (a_2, t_1..t_N) of absolute angles (K = 2), t wrapped into [-pi, pi)."""
    off = np.array([float(ch.offsets[y]) for y in ch.labels]) * math.pi
    t = (phi - off + math.pi) % (2 * math.pi) - math.pi
    return np.concatenate([[alpha - math.pi], t])


def _contains(leaf, x, m):
    return all(a - 1e-12 <= z <= b + 1e-12 for a, b, z in zip(leaf["lo"][:m], leaf["hi"][:m], x))


# ------------------------------------------------------------------ the members (Lemma W1)
@pytest.mark.parametrize("K, n", [(2, 1), (2, 2), (2, 3), (3, 2)])
def test_degenerate_members_are_the_critical_psd_points_of_the_stratum(K, n):
    members = C.degenerate_members(K, n)
    assert len(members) == sum(math.comb(n, m) ** K for m in range(n + 1))
    assert len(set(members)) == len(members)
    if K != 2:
        return
    assert len(members) == math.comb(2 * n, n)
    prob = UFMProblem(2, 2, n, 0.8)
    for s in members:
        W, H = _member_matrices(s)
        assert _grad_norm(prob, W, H) < 1e-15
        assert abs(prob.cost(W, H) - math.log(2)) < 1e-15
        assert np.min(hessian_spectrum(prob, W, H)) > -1e-14          # PSD: no strict saddle
    # the wrong variant "any signs" (class sums differ): not critical
    s = (1,) * n + (-1,) * n
    assert s not in members
    assert _grad_norm(prob, *_member_matrices(s)) > 0.1


def test_member_chart_coordinates_map_to_the_member():
    for n in (1, 3):
        ch = PlanarChart(2, n, 1.0, 1.0)
        for s in C.degenerate_members(2, n):
            x = np.array([float(q) * math.pi for q in C.member_coordinates(ch, s)])
            W, H = ch.to_matrices(x)
            W0, H0 = _member_matrices(s)
            assert np.allclose(W, W0, atol=1e-15) and np.allclose(H, H0, atol=1e-15)
            lo, hi = ch.domain()
            assert np.all((lo <= x) & (x <= hi))


# ------------------------------------------------------------------ off the stratum (Lemma W2)
@pytest.mark.parametrize("n, tau, c", [(2, 1.0, (1, 1, 1, -1)), (3, 0.7, (1, 1, 1, 1, -1, -1)),
                                       (3, 1.3, (1, -1, 1, 1, 1, -1)), (4, 0.45, (1, 1, 1, -1, 1, 1, -1, 1))])
def test_off_stratum_critical_points_at_log_p_over_q(n, tau, c):
    Pc, Qc = sum(z > 0 for z in c), sum(z < 0 for z in c)
    prob = UFMProblem(2, 2, n, tau)
    r = math.log(Pc / Qc) / tau
    if r >= 2:                                                           # no such point for this tau
        return
    assert _grad_norm(prob, *_matrices(*_off_stratum_point(n, tau, c, r))) < 1e-14
    # plausible wrong variants: half the distance, the margin without tau, the other sign pattern
    for r_bad in (r / 2, math.log(Pc / Qc), r * 1.1):
        if r_bad < 2 and abs(r_bad - r) > 1e-9:
            assert _grad_norm(prob, *_matrices(*_off_stratum_point(n, tau, c, r_bad))) > 1e-3


def test_off_stratum_ratio_is_the_smallest_admissible():
    for n in range(1, 7):
        ratios = [Fraction(p, 2 * n - p) for p in range(1, 2 * n) if p > 2 * n - p]
        assert C.off_stratum_ratio(n) == (min(ratios) if ratios else None)
    assert C.off_stratum_ratio(2) == 3 and C.off_stratum_ratio(3) == 2


# ------------------------------------------------------------------ descent (Lemma W3)
@pytest.mark.parametrize("n, tau, which", [(1, 1.0, 0), (2, 0.6, 3), (3, 2.5, 7)])
def test_fourth_order_descent_matches_the_cost(n, tau, which):
    ch = PlanarChart(2, n, tau, tau)
    s = C.degenerate_members(2, n)[which]
    N = 2 * n
    prob = UFMProblem(2, 2, n, tau)

    def quotient(lam, t):
        phi = np.array(s, float) * math.pi / 2
        phi[0] += t
        return (prob.cost(*_matrices(-lam * t * t, phi)) - math.log(2)) / t ** 4

    lam = C.descent_lambda(ch, s, 0, tau)
    s1 = 1e-2
    enc = C.descent_c4(2, n, s, 0, lam, s1, tau, tau)
    bad = C.descent_c4(2, n, s, 0, -lam, s1, tau, tau)
    for t in (1e-2, 5e-3):
        q = quotient(lam, t)
        # (f - log 2)/t^4 = f''''(xi)/24 for some xi in [0, t]: inside the enclosure over [0, s1]
        # (float error of the quotient ~ 1e-16 / t^4 <= 2e-7, far below the enclosure's radius)
        assert float(enc.lower()) - 1e-6 <= q <= float(enc.upper()) + 1e-6
        assert abs(q + 1 / (8 * N * N)) < 0.05 / (8 * N * N)             # leading term, O(t) correction
        assert quotient(-lam, t) > 0                                     # flipped step: ascent
    assert enc < 0 and bad > 0
    assert abs(float(enc.mid()) + 1 / (8 * N * N)) < 0.1 / (8 * N * N)


# ------------------------------------------------------------------ proofs
@pytest.mark.parametrize("n, tau", [(1, 1.0), (1, ("0.5", "1.9")), (2, 2.0)])
def test_weak_form_proved_and_rechecked(n, tau, tmp_path):
    p = prove_landscape(2, n, tau, d=2)
    assert p.form == C.WEAK and p.status == "proved", p.counts
    assert p.counts["continuum"] > 0 and p.counts["etf_convex"] > 0 and p.counts["unresolved"] == 0
    ch = PlanarChart(2, n, 1.0, 1.0)
    m = ch.n_angles
    modes = {l["data"]["mode"] for l in p.leaves if l["test"] == "continuum"}
    assert modes == ({"bound", "feature"} if tau == 2.0 else {"bound"})       # both modes of Lemma W4 used
    for s in C.degenerate_members(2, n):                                  # every member in a continuum leaf
        x = [float(q) * math.pi for q in C.member_coordinates(ch, s)]
        inside = [l for l in p.leaves if _contains(l, x, m)]
        assert inside and all(l["test"] == "continuum" for l in inside)
        assert all(any(tuple(c["s"]) == s for c in l["data"]["members"]) for l in inside)
    path = tmp_path / "weak.json"
    p.save(path)
    assert json.loads(path.read_text())["form"] == C.WEAK
    r = check_landscape_proof(path)
    assert r.valid and r.status == "proved" and C.WEAK in r.message, r.message
    text = "\n".join(summary_lines(p, r))
    assert "\nPROVED: " in text and "no spurious local minimum" in text and "\nform: no spurious" in text
    assert [c for c in p.classes if c["class"].startswith("not a local minimum")][0]["degenerate_members"] == \
        len(C.degenerate_members(2, n))


def test_strict_form_unchanged_and_weak_form_refused_elsewhere():
    p = prove_landscape(2, 1, 1.0)                                        # every d >= 3
    assert p.form == C.STRICT and p.status == "proved" and p.counts["continuum"] == 0
    assert "form: strict saddle" in "\n".join(summary_lines(p, unchecked="test"))
    q = prove_landscape(2, 1, 1.0, d=2, form=C.STRICT, min_width=1e-3)    # false there: not proved
    assert q.status == "not_proved" and q.counts["continuum"] == 0
    for kw in (dict(d=None), dict(d=3), dict(d=2, loss="mse"), dict(d=2, loss="label_smoothing:0.1")):
        with pytest.raises(ValueError, match="form"):
            prove_landscape(2, 1, 1.0, form=C.WEAK, **kw)
    with pytest.raises(ValueError, match="form"):
        prove_landscape(2, 1, 1.0, d=2, form="weak")
    with pytest.raises(ValueError, match="_fault"):
        prove_landscape(2, 1, 1.0, _fault="c4_sign")                       # no continuum leaves to fault
    with pytest.raises(ValueError, match="_fault"):
        prove_landscape(2, 1, 1.0, d=2, _fault="c4")
    assert prove_landscape(2, 1, 1.0, d=2, loss="mse", max_boxes=50).form == C.STRICT


def test_old_file_without_form_reads_as_strict(tmp_path):
    js = prove_landscape(2, 1, 1.0).to_json()
    del js["form"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(js))
    r = check_landscape_proof(path)
    assert r.status == "proved" and "form" not in r.message


# ------------------------------------------------------------------ planted faults
def test_flipped_fourth_order_coefficient_rejected_at_the_member_boxes(tmp_path):
    p = prove_landscape(2, 1, 1.0, d=2, _fault="c4_sign")
    assert p.status == "proved" and p.prover_variant == "faulty: c4_sign"
    path = tmp_path / "c4.json"
    p.save(path)
    r = check_landscape_proof(path, max_failures=10 ** 6)
    assert not r.valid and r.status == "invalid"
    ch = PlanarChart(2, 1, 1.0, 1.0)
    xs = [[float(q) * math.pi for q in C.member_coordinates(ch, s)] for s in C.degenerate_members(2, 1)]
    using = {i for i, l in enumerate(p.leaves) if l["test"] == "continuum" and l["data"]["members"]}
    assert using and all(any(_contains(p.leaves[i], x, 3) for x in xs) for i in using)
    assert {f["index"] for f in r.failures} == using                     # exactly the boxes that used it
    assert all("fourth-order" in f["why"] for f in r.failures)


def test_continuum_claim_without_lemma14_rejected_where_off_stratum_points_lie(tmp_path):
    n, tau = 2, 1.0
    p = prove_landscape(2, n, tau, d=2, _fault="continuum_bound")
    path = tmp_path / "bound.json"
    p.save(path)
    r = check_landscape_proof(path, max_failures=10 ** 6)
    assert not r.valid
    bad = {f["index"] for f in r.failures}
    assert all(p.leaves[i]["test"] == "continuum" and "Lemma W2" in f["why"]
               for i, f in zip(bad, r.failures))
    # an off-stratum critical point (tau r = log 3) lies in a rejected continuum box
    ch = PlanarChart(2, n, tau, tau)
    c = (1, 1, 1, -1)
    alpha, phi = _off_stratum_point(n, tau, c, math.log(3) / tau)
    x = _chart_point(ch, alpha, phi)
    assert _grad_norm(UFMProblem(2, 2, n, tau), *ch.to_matrices(x)) < 1e-14
    holders = [i for i, l in enumerate(p.leaves) if _contains(l, x, ch.n_angles)]
    assert holders and all(p.leaves[i]["test"] == "continuum" for i in holders)
    assert set(holders) <= bad


# ------------------------------------------------------------------ forged continuum leaves
N_F, TAU_F = 2, 1.0
CH_F = PlanarChart(2, N_F, TAU_F, TAU_F)
DLO, DHI = CH_F.domain()


@pytest.fixture(scope="module")
def weak22():
    return prove_landscape(2, N_F, TAU_F, d=2).to_json()


@pytest.fixture(scope="module")
def weak21():
    return prove_landscape(2, 1, TAU_F, d=2).to_json()


def _forge(js, path, test, data, tmp_path):
    """Replace the subtree at ``path`` by one leaf; recompute every derived field as a careful
    forger would; return (file, index of the forged leaf)."""
    js = json.loads(json.dumps(js))
    n = js["n"]
    ch = PlanarChart(2, n, TAU_F, TAU_F)
    leaves = [l for l in js["leaves"] if not l["path"].startswith(path)]
    lo, hi = P._rebuild(*ch.domain(), path, ch.dim)
    leaves.append({"path": path, "lo": lo, "hi": hi, "test": test, "data": data})
    leaves.sort(key=lambda l: l["path"])
    st = P._setup(2, n, TAU_F, 2, "cross_entropy")
    js.update(json.loads(json.dumps(P._metadata(st, leaves, P._evaluated_by_tree(leaves)))), leaves=leaves)
    out = tmp_path / "forged.json"
    out.write_text(json.dumps(js))
    return out, next(i for i, l in enumerate(leaves) if l["path"] == path)


def _rejected_exactly(path, idx):
    r = check_landscape_proof(path, max_failures=10 ** 6)
    assert not r.valid, r.message
    assert [(f["index"], f["test"]) for f in r.failures] == [(idx, "continuum")], r.failures
    return r.failures[0]["why"]


def _path_to(x, accept, js, max_depth=60):
    """Bisection path (widest side first, as the prover splits) of the first box containing ``x``
    that satisfies ``accept(lo, hi)`` and is a node of the proof ``js``'s tree (so that replacing
    its subtree by one leaf keeps a complete cover)."""
    from nc_verify.certify.prover.bnb import path_char, split_point
    leaves = {l["path"] for l in js["leaves"]}
    lo, hi, path = DLO.copy(), DHI.copy(), ""
    for _ in range(max_depth):
        if accept(lo, hi):
            return path, lo, hi
        if path in leaves:
            break
        dim = int(np.argmax(hi - lo))
        s = split_point(lo[dim], hi[dim])
        side = int(x[dim] >= s)
        (hi if side == 0 else lo)[dim] = s
        path += path_char(dim, side)
    raise AssertionError("no such box")


def test_unforged_weak_file_is_proved(weak21, tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(weak21))
    assert check_landscape_proof(path).status == "proved"
    # the forger's recomputation changes nothing on an honest file
    leaf = next(l for l in weak21["leaves"] if l["test"] == "continuum")
    out, _ = _forge(weak21, leaf["path"], "continuum", leaf["data"], tmp_path)
    honest = json.loads(json.dumps(weak21))
    honest["leaves"].sort(key=lambda l: l["path"])
    assert json.loads(out.read_text()) == honest


def test_forged_continuum_leaf_midpoint_bound_rejected(weak22, tmp_path):
    """Lemma W2's bound at the box's midpoint (a weaker reading) but not on the whole box, which
    holds an off-stratum critical point: the continuum claim is false there."""
    alpha, phi = _off_stratum_point(N_F, TAU_F, (1, 1, 1, -1), math.log(3) / TAU_F)
    x = _chart_point(CH_F, alpha, phi)
    assert _grad_norm(UFMProblem(2, 2, N_F, TAU_F), *CH_F.to_matrices(x)) < 1e-14
    r_of = lambda a2: 2 * abs(math.sin((math.pi + a2) / 2))
    L = math.log(3)

    def accept(lo, hi):
        return TAU_F * r_of(0.5 * (lo[0] + hi[0])) < L - 1e-3 and TAU_F * r_of(hi[0]) > L + 1e-3 and hi[0] < 0
    path, lo, hi = _path_to(x, accept, weak22)
    assert np.all((lo <= x) & (x <= hi))
    out, idx = _forge(weak22, path, "continuum", {"mode": "bound", "members": []}, tmp_path)
    assert "Lemma W2" in _rejected_exactly(out, idx)


def test_forged_continuum_leaf_feature_mode_at_the_midpoint_rejected(weak22, tmp_path):
    """Mode "feature": h_j is not perpendicular to w_1 + w_2 at the box's midpoint (a weaker
    reading) but is somewhere in the box, which holds an off-stratum critical point (there every
    h_j is perpendicular to w_1 + w_2)."""
    alpha, phi = _off_stratum_point(N_F, TAU_F, (1, 1, 1, -1), math.log(3) / TAU_F)
    x = _chart_point(CH_F, alpha, phi)
    assert np.allclose(np.cos(phi - alpha / 2), 0.0, atol=1e-15)          # h_j _|_ w_1 + w_2 for every j
    q = lambda lo, hi: ((0.5 * (lo[0] + hi[0]) / 2 - 0.5 * (lo[1] + hi[1])) / math.pi)

    def accept(lo, hi):
        return hi[0] < 0 and abs(q(lo, hi) - round(q(lo, hi))) > 0.01 and max(hi - lo) < 1.6
    path, lo, hi = _path_to(x, accept, weak22)
    assert np.all((lo <= x) & (x <= hi))
    out, idx = _forge(weak22, path, "continuum", {"mode": "feature", "j": 0, "members": []}, tmp_path)
    assert "Lemma W2" in _rejected_exactly(out, idx)


def test_forged_continuum_leaf_missing_or_wrong_member_certificate_rejected(weak21, tmp_path):
    ch = PlanarChart(2, 1, TAU_F, TAU_F)

    def strictly_inside(leaf, s):
        x = [float(q) * math.pi for q in C.member_coordinates(ch, tuple(s))]
        # a_2 = -pi lies one ulp inside the domain's lower end -PI_HI; the angles t_j well inside
        return leaf["lo"][0] < -math.pi < leaf["hi"][0] and all(
            a + 1e-9 < z < b - 1e-9 for a, b, z in zip(leaf["lo"][1:], leaf["hi"][1:], x[1:]))
    leaf = next(l for l in weak21["leaves"] if l["test"] == "continuum" and l["data"]["members"]
                and strictly_inside(l, l["data"]["members"][0]["s"]))
    certs = leaf["data"]["members"]
    # one member left out (the others kept): the box may hold it, so it needs its own certificate
    out, idx = _forge(weak21, leaf["path"], "continuum", dict(leaf["data"], members=certs[1:]), tmp_path)
    assert "no descent certificate" in _rejected_exactly(out, idx)
    # the step alpha_2 = -lam t^2 with the sign of lam flipped: f rises along that curve
    flipped = [dict(certs[0], lam=-certs[0]["lam"])] + certs[1:]
    out, idx = _forge(weak21, leaf["path"], "continuum", dict(leaf["data"], members=flipped), tmp_path)
    assert "fourth-order" in _rejected_exactly(out, idx)
    s, lam = certs[0]["s"], certs[0]["lam"]
    prob = UFMProblem(2, 2, 1, TAU_F)
    phi = np.array(s, float) * math.pi / 2
    phi[certs[0]["j0"]] += 1e-2
    assert prob.cost(*_matrices(lam * 1e-4, phi)) > math.log(2)           # ascent along the forged curve
    assert prob.cost(*_matrices(-lam * 1e-4, phi)) < math.log(2)          # descent along the real one
    # non-finite or malformed certificate data
    for bad in ({"mode": "bound", "members": [dict(certs[0], lam=float("inf"))]},
                {"mode": "bound", "members": [dict(certs[0], s=[1, 1, 1])]}, {"mode": "bound", "members": "all"},
                {"mode": "feature", "j": 7, "members": certs}, {"members": certs}):
        out, idx = _forge(weak21, leaf["path"], "continuum", bad, tmp_path)
        js = json.loads(out.read_text().replace("Infinity", "1e999"))      # strict JSON: inf as an overflow
        out.write_text(json.dumps(js))
        r = check_landscape_proof(out, max_failures=10 ** 6)
        assert not r.valid and idx in {f["index"] for f in r.failures}


def test_continuum_leaf_refused_in_a_strict_form_proof(tmp_path):
    js = prove_landscape(2, 1, 1.0, d=2, form=C.STRICT, min_width=1e-2).to_json()
    un = next(l for l in js["leaves"] if l["test"] == "unresolved")
    un["test"], un["data"] = "continuum", {"mode": "bound", "members": []}
    js["counts"]["unresolved"] -= 1
    js["counts"]["continuum"] += 1
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(js))
    r = check_landscape_proof(path, max_failures=10 ** 6)
    assert not r.valid and any("weak-form" in f["why"] for f in r.failures)


# ------------------------------------------------------------------ command line
def test_cli_prints_the_form(capsys, tmp_path):
    from nc_verify.cli import main

    def run(*argv):
        try:
            code = main(["prove", *argv])
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return code, " ".join(out.out.split()), out.err

    out_file = tmp_path / "p.json"
    code, out, _ = run("--K", "2", "--n", "1", "--tau", "1", "--d", "2", "--out", str(out_file))
    assert code == 0 and "form: no spurious local minimum" in out and "PROVED:" in out and "continuum" in out
    code, out, _ = run("--check", str(out_file))
    assert code == 0 and "form: no spurious local minimum" in out
    code, out, _ = run("--K", "2", "--n", "1", "--tau", "1", "--d", "2", "--form", "strict-saddle",
                       "--max-boxes", "300")
    assert code == 3 and "form: strict saddle" in out and "NOT PROVED" in out
    code, _, err = run("--K", "2", "--n", "1", "--tau", "1", "--form", "no-spurious-local-minimum")
    assert code == 2 and "form" in err


# ------------------------------------------------------------------ the checker's precision retry
def test_gradient_leaf_needs_more_than_53_bits():
    """A naive gradient leaf of (2, 2), d = 2, tau in [0.5, 1.9]: component 0 lies in
    [1.8e-16, 0.75] on the box (its minimum at a corner, 1.81e-16 in 50-digit arithmetic); 53-bit
    balls give a lower end of -1.3e-16, 128-bit balls 1.7e-16 > 0.  The checker retries a failing
    leaf at RETRY_PREC bits, so the leaf is confirmed; a false leaf fails at every precision."""
    import itertools

    import mpmath as mp

    from nc_verify.certify._flint import working_precision
    from nc_verify.certify.prover.intervals import FlintBackend

    st = P._setup(2, 2, ("0.5", "1.9"), 2, "cross_entropy")
    ch = st.chart
    lo, hi = P._rebuild(*ch.domain(), "dfhjbdfhjacegikdfhja", ch.dim)
    leaf = {"test": "gradient", "data": {"mode": "naive", "i": 0}}
    with working_precision(53):
        ok53, _ = P.check_leaf(FlintBackend(), ch, st.enc, leaf, lo, hi, False)
    with working_precision(P.RETRY_PREC):
        ok, _ = P.check_leaf(FlintBackend(), ch, st.enc, leaf, lo, hi, False)
    assert not ok53 and ok
    mp.mp.dps = 40

    def g0(c):                               # -tau sum_j G_2j sin(alpha_2 - phi_j), independent of the prover
        a2, *t, tau = [mp.mpf(z) for z in c]
        al, phi = [mp.mpf(0), mp.pi + a2], [t[0], t[1], mp.pi + t[2], mp.pi + t[3]]
        out = 0
        for j, y in enumerate((0, 0, 1, 1)):
            M = [tau * mp.cos(a - phi[j]) for a in al]
            p2 = 1 / (1 + mp.exp(M[0] - M[1]))
            out += (p2 - y) / 4 * mp.sin(al[1] - phi[j])
        return -tau * out
    corner_min = min(g0(c) for c in itertools.product(*zip(lo, hi)))
    assert 1e-16 < corner_min < 3e-16                                    # a genuine, tiny margin
    # another label on the same box (component 1, whose enclosure holds 0) fails at 128 bits too
    bad = {"test": "gradient", "data": {"mode": "naive", "i": 1}}
    with working_precision(P.RETRY_PREC):
        assert not P.check_leaf(FlintBackend(), ch, st.enc, bad, lo, hi, False)[0]
