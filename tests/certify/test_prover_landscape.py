"""The landscape prover end to end: proofs, the flint checker, and the negative controls."""

import json
import math

import numpy as np
import pytest
from scipy.optimize import minimize

from nc_verify import UFMProblem, theorem1_bound
from nc_verify.certify.prover import (
    LandscapeProof, PlantedWellLoss, check_landscape_proof, prove_landscape, summary_lines,
)
from nc_verify.certify.prover.chart import PlanarChart


def _save(proof, tmp_path, name="p.json"):
    path = tmp_path / name
    proof.save(path)
    return path


def _contains(leaf, x):
    return all(a <= z <= b for a, b, z in zip(leaf["lo"], leaf["hi"], x))


# ------------------------------------------------------------------ proofs
@pytest.mark.parametrize("tau", [0.5, 1.0, 1.9, 5.0])
def test_21_every_d_proved_and_rechecked(tau, tmp_path):
    p = prove_landscape(2, 1, tau)
    assert p.status == "proved"
    c = p.counts
    assert c["unresolved"] == 0 and c["etf_convex"] == 4          # 2^N boxes meet at the ETF corner
    assert sum(c[t] for t in ("gradient", "saddle_inplane", "saddle_normal", "etf_convex")) == len(p.leaves)
    assert [r["name"].split()[1] for r in p.reductions] == ["1", "2", "3", "4", "5"]
    r = check_landscape_proof(_save(p, tmp_path))
    assert r.valid and r.status == "proved" and r.checked == len(p.leaves), r.message
    text = "\n".join(summary_lines(p, r))
    assert "\nPROVED: " in text and "every d >= 3" in text and "re-checked: " in text
    assert ("conjecture" in text) == (tau >= 2.0)                 # Theorem 2's limit at d = 3 is 2
    raw = "\n".join(summary_lines(p, unchecked="python-flint missing"))   # numpy layer alone: no "PROVED"
    assert "PROVED: " not in raw.replace("NOT PROVED", "") and "unchecked (python-flint missing)" in raw


def test_21_tau_interval_proved(tmp_path):
    p = prove_landscape(2, 1, (0.5, 1.9))
    assert p.status == "proved" and p.tau == (0.5, 1.9)
    assert p.chart["coordinates"][-1] == "tau"
    r = check_landscape_proof(_save(p, tmp_path))
    assert r.status == "proved", r.message


def test_etf_value_is_theorem1_bound():
    """The point the etf_convex boxes certify is the ETF: f there is Theorem 1's bound."""
    ch = PlanarChart(2, 1, 1.3, 1.3)
    W, H = ch.to_matrices(ch.etf_point(), d=3)
    assert abs(UFMProblem(3, 2, 1, 1.3).cost(W, H) - theorem1_bound(2, 1.3)) < 1e-15


def test_label_smoothing_proved(tmp_path):
    p = prove_landscape(2, 1, 1.0, loss="label_smoothing:0.1")
    assert p.status == "proved" and p.loss.startswith("label_smoothing")
    assert check_landscape_proof(_save(p, tmp_path)).status == "proved"


def test_focal_proved_every_d(tmp_path):
    p = prove_landscape(2, 1, 1.0, loss="focal:2")
    assert p.status == "proved" and p.loss == "focal:2" and p.counts["etf_convex"] == 4
    assert check_landscape_proof(_save(p, tmp_path)).status == "proved"


def test_k3_rank2_stratum_proved_but_not_the_theorem(tmp_path):
    p = prove_landscape(3, 1, 1.0, _stratum="rank<=2")   # every d >= 3, columns in a 2-plane only
    assert p.stratum == "rank<=2" and p.status == "not_proved"
    assert p.counts["unresolved"] == 0 and p.counts["etf_convex"] > 0 and p.counts["saddle_normal"] > 0
    path = _save(p, tmp_path)
    r = check_landscape_proof(path)
    assert r.valid and r.status == "not_proved" and "stratum" in r.message
    lines = summary_lines(p, r)
    assert lines[1].startswith("PROVED ON A STRATUM ONLY") and lines[2].startswith("NOT PROVED")
    # a file that upgrades the claim to every configuration is rejected
    js = json.loads(path.read_text())
    js["stratum"], js["status"] = "all", "proved"
    path.write_text(json.dumps(js))
    r = check_landscape_proof(path)                     # rebuilt on the rank-3 chart: other boxes
    assert not r.valid and r.failures
    with pytest.raises(ValueError, match="stratum"):
        prove_landscape(2, 1, 1.0, _stratum="rank<=2")
    with pytest.raises(ValueError, match="stratum"):
        prove_landscape(3, 1, 1.0, _stratum="rank<=1")
    # the same chart without normal directions (d = 2) cannot discard the w_1 = w_2 = w_3 boxes
    q = prove_landscape(3, 1, 1.0, d=2, max_boxes=p.counts["evaluated"])
    assert q.stratum == "all" and q.counts["unresolved"] > 0


def test_k3_rank3_chart_runs_and_is_rechecked(tmp_path):
    """(3, 1) on the rank-3 chart: far from finished within a small budget, but what it discards
    is re-verified, and what is left is reported."""
    p = prove_landscape(3, 1, 1.0, max_boxes=4000, batch=256)
    assert p.chart["kind"] == "sphere3" and p.status == "not_proved" and p.stratum == "all"
    assert p.counts["unresolved"] > 0 and p.counts["gradient"] > 0
    assert {r["name"] for r in p.reductions} >= {"Lemma 1' (span, every K)", "Lemma 3' (stratum W = w 1^T, every K)"}
    assert "every d >= 4" in p.statement
    assert set(p.unresolved[0]["center_angles_deg"]) == {"phi", "u"}
    r = check_landscape_proof(_save(p, tmp_path))
    assert r.valid and r.status == "not_proved" and r.checked == len(p.leaves) - p.counts["unresolved"]
    q = prove_landscape(3, 1, 1.0, d=3, max_boxes=200)          # d = K: no normal block
    assert q.counts["saddle_normal"] == 0 and "d = 3" in q.statement


def test_22_proved():
    p = prove_landscape(2, 2, 1.0)
    assert p.status == "proved"


def test_workers_give_identical_leaves():
    a = prove_landscape(2, 1, 1.0, batch=128)
    b = prove_landscape(2, 1, 1.0, batch=128, workers=2)
    assert a.leaves == b.leaves


def test_progress_callback():
    seen = []
    prove_landscape(2, 1, 1.0, progress=lambda left, rate: seen.append((left, rate)))
    assert seen and seen[-1][0] == 0 and all(r >= 0 for _, r in seen)


# ----------------------------------------------------- negative control: d = 2
def test_d2_not_proved_at_degenerate_member(tmp_path):
    """d = K = 2: the member W = u 1^T, H = v 1^T, v _|_ u of the critical continuum has a PSD
    Hessian (eigenvalues 0, 0, 0, 0.5 at tau = 1) and is no strict saddle: the prover must fail
    there, and only there (the strict-saddle form; the weak form is proved in test_prover_continuum.py)."""
    p = prove_landscape(2, 1, 1.0, d=2, min_width=1e-3, form="strict saddle")
    assert p.form == "strict saddle" and p.counts["continuum"] == 0
    assert p.status == "not_proved" and p.counts["unresolved"] > 0
    members = [np.array([-math.pi, math.pi / 2, -math.pi / 2]), np.array([-math.pi, -math.pi / 2, math.pi / 2])]
    un = [l for l in p.leaves if l["test"] == "unresolved"]
    for l in un:
        ang = next(u for u in p.unresolved if u["path"] == l["path"])["center_angles_deg"]
        assert abs(ang["alpha"][1]) < 0.1                                   # w_2 ~ w_1
        assert all(abs(abs(f) - 90.0) < 0.5 for f in ang["phi"])            # h_j ~ _|_ w
        assert abs(ang["phi"][0] - ang["phi"][1]) < 0.5                     # h_1 ~ h_2
    for x in members:                                                       # both members located
        assert any(_contains(l, x) for l in un)
    # the member's Hessian really has no negative eigenvalue
    from nc_verify import hessian_spectrum
    W = np.array([[1.0, 1.0], [0.0, 0.0]])
    H = np.array([[0.0, 0.0], [1.0, 1.0]])
    ev = np.sort(hessian_spectrum(UFMProblem(2, 2, 1, 1.0), W, H))
    assert np.allclose(ev, [0, 0, 0, 0.5], atol=1e-12)
    r = check_landscape_proof(_save(p, tmp_path))
    assert r.valid and r.status == "not_proved"


# --------------------------------------------- negative control: planted minimum
def test_planted_spurious_minimum_not_proved():
    tau = 1.0
    ch = PlanarChart(2, 1, tau, tau)
    x0 = np.array([-math.pi / 2, 0.4, -0.5])
    W0, H0 = ch.to_matrices(x0)
    loss = PlantedWellLoss(tau * W0.T @ H0, beta=0.2, sigma=0.05)
    P = UFMProblem(2, 2, 1, tau, loss=loss)
    f = lambda x: P.cost(*ch.to_matrices(x))
    xs = minimize(f, x0, method="Nelder-Mead", options=dict(xatol=1e-12, fatol=1e-15, maxiter=20000)).x
    assert f(xs) > f(ch.etf_point()) + 0.01                                 # spurious: above the ETF
    p = prove_landscape(2, 1, tau, d=2, loss=loss, min_width=1e-3)
    assert p.status == "not_proved"
    un = [l for l in p.leaves if l["test"] == "unresolved"]
    near = [l for l in un if np.linalg.norm(0.5 * (np.array(l["lo"]) + np.array(l["hi"])) - xs) < 0.01]
    assert near and any(_contains(l, xs) for l in near)                     # located at the planted point
    # every other unresolved box is either at the d = 2 degenerate member's stratum (w_2 ~ w_1)
    # or has some sample inside its planted well (the loss there is not cross-entropy): the
    # wells of single samples create further critical configurations (one h_j trapped)
    M0 = tau * W0.T @ H0
    for l in un:
        xc = 0.5 * (np.array(l["lo"]) + np.array(l["hi"]))
        W, H = ch.to_matrices(xc)
        E = np.exp(-np.sum((tau * W.T @ H - M0) ** 2, axis=0) / (2 * 0.05 ** 2))
        assert l["lo"][0] < -math.pi + 0.01 or E.max() > 0.5


# ----------------------------------------------- negative control: faulty prover
def test_faulty_prover_rejected_at_the_boxes_that_used_it(tmp_path):
    """A prover whose Hessian drops eq. (8)'s -<dH ddiag(M^T G), dH> term 'proves' (2, 1) by
    declaring the ETF corner a saddle; the correct checker rejects exactly such boxes."""
    p = prove_landscape(2, 1, 1.0, _drop="col_curvature")
    assert p.prover_variant.startswith("faulty")
    r = check_landscape_proof(_save(p, tmp_path), max_failures=10 ** 6)
    assert not r.valid and r.status == "invalid"
    bad = {f["path"] for f in r.failures}
    tests = {f["test"] for f in r.failures}
    assert tests <= {"saddle_normal", "saddle_inplane", "gradient", "etf_convex"}
    etf_leaves = [l for l in p.leaves if _contains(l, [0.0, 0.0, 0.0])]
    assert etf_leaves and all(l["test"] != "etf_convex" for l in etf_leaves)
    assert all(l["path"] in bad for l in etf_leaves)                        # the ETF called a saddle
    # and its cover has no etf_convex box at all: flagged on its own (the global minimiser is in no box)
    assert p.counts["etf_convex"] == 0
    assert any(f["test"] == "etf_convex" and f["index"] is None for f in r.failures)
    # every failing leaf relied on the dropped term: saddle forms, or J in a mean-value form
    leaf_failures = [f for f in r.failures if f["index"] is not None]
    assert leaf_failures
    for f in leaf_failures:
        leaf = p.leaves[f["index"]]
        assert leaf["test"] in ("saddle_normal", "saddle_inplane") or leaf["data"]["mode"] == "mv"


# --------------------------------------------------------- corrupted files
@pytest.fixture(scope="module")
def proof_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("proof") / "p.json"
    prove_landscape(2, 1, 1.0).save(path)
    return path


def _corrupt(proof_file, tmp_path, edit):
    js = json.loads(proof_file.read_text())
    edit(js)
    out = tmp_path / "bad.json"
    out.write_text(json.dumps(js))
    return check_landscape_proof(out)


def test_removed_box_rejected(proof_file, tmp_path):
    r = _corrupt(proof_file, tmp_path, lambda js: js["leaves"].pop(7))
    assert not r.valid and any(f["test"] == "coverage" for f in r.failures)


def test_changed_bounds_rejected(proof_file, tmp_path):
    def edit(js):
        js["leaves"][3]["hi"][0] -= 1e-3
    r = _corrupt(proof_file, tmp_path, edit)
    assert not r.valid and r.failures[0]["index"] == 3 and "bounds" in r.failures[0]["why"]


def test_changed_path_rejected(proof_file, tmp_path):
    def edit(js):
        js["leaves"][3]["path"] = js["leaves"][4]["path"]
    assert not _corrupt(proof_file, tmp_path, edit).valid


def test_changed_direction_rejected(proof_file, tmp_path):
    def edit(js):
        leaf = next(l for l in js["leaves"] if l["test"] == "saddle_normal")
        leaf["data"]["c"] = [0.0, 0.0]
        leaf["data"]["e"] = [0.0, 0.0]           # the zero direction: form = 0, not < 0
    r = _corrupt(proof_file, tmp_path, edit)
    assert not r.valid and r.failures[0]["test"] == "saddle_normal"


def test_changed_claim_rejected(proof_file, tmp_path):
    """The same boxes do not prove the statement at another temperature."""
    r = _corrupt(proof_file, tmp_path, lambda js: js.update(tau=20.0))
    assert not r.valid


def test_proved_claim_with_unresolved_rejected(tmp_path):
    p = prove_landscape(2, 1, 1.0, d=2, max_boxes=50)
    js = p.to_json()
    js["status"] = "proved"
    out = tmp_path / "x.json"
    out.write_text(json.dumps(js))
    r = check_landscape_proof(out)
    assert not r.valid and "unresolved" in r.message + "".join(f["why"] for f in r.failures)


def test_load_roundtrip(proof_file):
    p = LandscapeProof.load(proof_file)
    assert p.status == "proved" and p.K == 2 and p.d is None


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("kw,exc,word", [
    (dict(K=4), ValueError, "K"), (dict(K=2.0), TypeError, "K"), (dict(n=0), ValueError, "n"),
    (dict(tau=-1.0), ValueError, "tau"), (dict(tau=(2.0, 1.0)), ValueError, "tau"),
    (dict(tau=None), TypeError, "tau"), (dict(tau="1,9"), ValueError, "tau"), (dict(tau="nan"), ValueError, "tau"),
    (dict(tau=float("inf")), ValueError, "tau"), (dict(tau=351), ValueError, r"tau.*\(0, 350\]"),
    (dict(tau=(1.0, 745.0)), ValueError, r"tau\[1\].*350"), (dict(tau=[1.0]), ValueError, "tau"),
    (dict(min_width=float("nan")), ValueError, "min_width"), (dict(d=1), ValueError, "d"), (dict(loss="focal:2.5"), ValueError, "focal"),
    (dict(loss="label_smoothing:0.1", tau=2.0), ValueError, "tau"), (dict(loss="mse"), ValueError, "d=2"),
    (dict(K=4), ValueError, "K"), (dict(max_boxes=0), ValueError, "max_boxes"),
    (dict(workers=0), ValueError, "workers"), (dict(progress=3), TypeError, "progress"),
])
def test_bad_input(kw, exc, word):
    args = dict(K=2, n=1, tau=1.0)
    args.update(kw)
    with pytest.raises(exc, match=word):
        prove_landscape(args.pop("K"), args.pop("n"), args.pop("tau"), **args)


def test_mse_planar_runs():
    p = prove_landscape(2, 1, 1.0, d=2, loss="mse", min_width=1e-3)
    assert p.status in ("proved", "not_proved") and p.loss == "mse"
