"""The landscape checker under attack: forged leaves, non-finite data, files that are no proof,
descriptions that disagree with the leaves, and temperatures enclosed outward.

Forgeries: for each discard test the file keeps a complete, self-consistent cover (the forger
recomputes counts, classes and the rest), but one leaf carries a label whose claim is false on
its box although a weaker reading of it holds -- the midpoint, a signed instead of an absolute
off-diagonal, one Gershgorin row instead of all.  The weaker reading and the falsity are shown
by finite differences of the cost of :class:`nc_verify.UFMProblem` (code independent of the
prover's enclosures), and the checker must reject exactly that leaf.
"""

import itertools
import json
import math
from fractions import Fraction
from unittest import mock

import numpy as np
import pytest

from nc_verify import UFMProblem
from nc_verify.certify.prover import (
    LandscapeProof, ProofFileError, check_landscape_proof, prove_landscape,
)
from nc_verify.certify.prover import proof as P
from nc_verify.certify.prover.chart import PlanarChart
from nc_verify.certify.prover.intervals import FlintBackend

TAU = 1.0
CH = PlanarChart(2, 1, TAU, TAU)
P2, P3 = UFMProblem(2, 2, 1, TAU), UFMProblem(3, 2, 1, TAU)
DLO, DHI = CH.domain()
# Finite differences with step 1e-3 on a cost of size ~1: truncation ~h^2 |f''''| / 12 < 1e-6,
# rounding ~eps / h^2 ~ 1e-10; every margin used below is at least 1e-3 (1000 times that).
FD_H, MARGIN = 1e-3, 1e-3


@pytest.fixture(scope="module")
def base():
    """A valid proof, (2, 1) at tau = 1 for every d >= 3, as JSON."""
    return prove_landscape(2, 1, TAU).to_json()


def F(x):
    return P2.cost(*CH.to_matrices(np.asarray(x, float), d=2))


def grad_fd(x, h=FD_H):
    I = np.eye(len(x))
    return np.array([(F(x + h * e) - F(x - h * e)) / (2 * h) for e in I])


def hess_fd(x, h=FD_H):
    m = len(x)
    I = np.eye(m)
    H = np.zeros((m, m))
    for a, b in itertools.product(range(m), range(m)):
        H[a, b] = (F(x + h * I[a] + h * I[b]) - F(x + h * I[a] - h * I[b]) - F(x - h * I[a] + h * I[b])
                   + F(x - h * I[a] - h * I[b])) / (4 * h * h)
    return H


def normal_fd(x, c, e, h=FD_H):
    """Second derivative of f along the geodesics w_k(t) = cos(c_k t) w_k + sin(c_k t) u,
    h_j(t) = cos(e_j t) h_j + sin(e_j t) u, u normal to the plane (d = 3): the normal-block form."""
    W, H = CH.to_matrices(np.asarray(x, float), d=3)
    u = np.array([0.0, 0.0, 1.0])

    def g(t):
        return P3.cost(np.cos(c * t) * W + np.outer(u, np.sin(c * t)), np.cos(e * t) * H + np.outer(u, np.sin(e * t)))
    return (g(h) - 2 * g(0.0) + g(-h)) / h ** 2


def normal_matrix_fd(x):
    I = np.eye(4)
    q = lambda z: normal_fd(x, z[:2], z[2:])
    return np.array([[(q(I[a] + I[b]) - q(I[a] - I[b])) / 4 for b in range(4)] for a in range(4)])


def corners(lo, hi):
    return [np.array(c) for c in itertools.product(*zip(lo, hi))]


def box(path):
    lo, hi = P._rebuild(DLO, DHI, path, CH.dim)
    return np.array(lo), np.array(hi)


def forge(js, path, test, data, tmp_path):
    """Replace the subtree at ``path`` by one leaf (test, data); recompute every derived field as
    a careful forger would; return (file, index of the forged leaf)."""
    js = json.loads(json.dumps(js))
    leaves = [l for l in js["leaves"] if not l["path"].startswith(path)]
    lo, hi = P._rebuild(DLO, DHI, path, CH.dim)
    leaves.append({"path": path, "lo": lo, "hi": hi, "test": test, "data": data})
    leaves.sort(key=lambda l: l["path"])
    st = P._setup(2, 1, TAU, None, "cross_entropy")
    meta = P._metadata(st, leaves, P._evaluated_by_tree(leaves))
    js.update(json.loads(json.dumps(meta)), leaves=leaves)
    out = tmp_path / "forged.json"
    out.write_text(json.dumps(js))
    return out, next(i for i, l in enumerate(leaves) if l["path"] == path)


def scalar_fallbacks(path_file):
    """Paths of the leaves the batched check hands to the one-by-one flint check (those it could
    not confirm), with the verdict."""
    with mock.patch.object(P, "check_leaf", wraps=P.check_leaf) as spy:
        r = check_landscape_proof(path_file, max_failures=10 ** 6)
    return {c.args[3]["path"] for c in spy.call_args_list}, r


def rejected_exactly(path_file, idx, test):
    """Both checkers reject exactly the forged leaf, with the same reason; in the batched one the
    batch stage itself refuses it (it is the only leaf handed to the flint check)."""
    whys = []
    for batched in (True, False):
        r = check_landscape_proof(path_file, max_failures=10 ** 6, batched=batched)
        assert not r.valid and r.status == "invalid", r.message
        assert [(f["index"], f["test"]) for f in r.failures] == [(idx, test)], r.failures
        whys.append(r.failures[0]["why"])
    assert whys[0] == whys[1]
    if test in P.BATCHED_TESTS:
        fallbacks, _ = scalar_fallbacks(path_file)
        assert fallbacks == {json.loads(open(path_file).read())["leaves"][idx]["path"]}
    return whys[0]


def etf_leaf(js):
    return next(l for l in js["leaves"] if l["test"] == "etf_convex")


def test_unforged_base_is_proved(base, tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(base))
    r = check_landscape_proof(path)
    assert r.status == "proved", r.message
    # the forger's recomputation changes nothing on an honest file (so forged files differ only by the leaf)
    out, _ = forge(base, etf_leaf(base)["path"], "etf_convex", etf_leaf(base)["data"], tmp_path)
    assert check_landscape_proof(out).status == "proved"


# ------------------------------------------------------------- forgeries, one per test
def test_forged_naive_gradient_rejected(base, tmp_path):
    """An ETF box contains the critical point 0, so no gradient component excludes 0 there; at the
    box's midpoint a component is far from 0 (the midpoint reading holds)."""
    leaf = etf_leaf(base)
    lo, hi = box(leaf["path"])
    assert np.all(lo <= 0) and np.all(hi >= 0) and np.abs(grad_fd(np.zeros(3))).max() < 1e-6
    g = grad_fd(0.5 * (lo + hi))
    i = int(np.argmax(np.abs(g)))
    assert abs(g[i]) > MARGIN
    out, idx = forge(base, leaf["path"], "gradient", {"mode": "naive", "i": i}, tmp_path)
    assert "gradient component" in rejected_exactly(out, idx, "gradient")


def test_forged_mean_value_gradient_rejected(base, tmp_path):
    leaf = etf_leaf(base)
    lo, hi = box(leaf["path"])
    g = grad_fd(0.5 * (lo + hi))
    i = int(np.argmax(np.abs(g)))
    row = [1.0 if k == i else 0.0 for k in range(3)]
    assert abs(np.dot(row, g)) > MARGIN                        # r . g(x_c) != 0: the midpoint reading
    out, idx = forge(base, leaf["path"], "gradient", {"mode": "mv", "row": row}, tmp_path)
    assert "mean-value" in rejected_exactly(out, idx, "gradient")


def test_forged_inplane_saddle_rejected(base, tmp_path):
    """v = bottom eigenvector of H at the midpoint (v^T H v < 0 there) but v^T H v > 0 at a corner."""
    for leaf in base["leaves"]:
        lo, hi = box(leaf["path"])
        w, V = np.linalg.eigh(hess_fd(0.5 * (lo + hi)))
        v = V[:, 0]
        if w[0] < -MARGIN and max(v @ hess_fd(x) @ v for x in corners(lo, hi)) > MARGIN:
            break
    else:
        pytest.fail("no box with a negative midpoint form and a positive corner form")
    out, idx = forge(base, leaf["path"], "saddle_inplane", {"v": v.tolist()}, tmp_path)
    assert "in-plane" in rejected_exactly(out, idx, "saddle_inplane")


def test_forged_normal_saddle_rejected(base, tmp_path):
    """The normal-block form along (c, e) is < 0 at the midpoint of a box and > 0 at a corner."""
    prefixes = sorted({l["path"][:k] for l in base["leaves"] for k in range(1, 4)})
    for pre in prefixes:
        lo, hi = box(pre)
        w, V = np.linalg.eigh(normal_matrix_fd(0.5 * (lo + hi)))
        z = V[:, 0]
        if w[0] < -MARGIN and max(normal_fd(x, z[:2], z[2:]) for x in corners(lo, hi)) > MARGIN:
            break
    else:
        pytest.fail("no box with a negative midpoint normal form and a positive corner one")
    out, idx = forge(base, pre, "saddle_normal", {"c": z[:2].tolist(), "e": z[2:].tolist()}, tmp_path)
    assert "normal-block" in rejected_exactly(out, idx, "saddle_normal")


def _gershgorin_rows(B, signed=False):
    """``B_ii - sum_{k != i} |B_ik|`` per row (``signed``: the wrong reading ``B_ii - sum B_ik``)."""
    off = lambda i: sum((B[i, k] if signed else abs(B[i, k])) for k in range(len(B)) if k != i)
    return np.array([B[i, i] - off(i) for i in range(len(B))])


def test_forged_etf_convex_on_a_large_box_rejected(base, tmp_path):
    """A box around the ETF where H(midpoint) is positive definite (Q = its eigenvectors makes
    Q^T H Q diagonal there) but Gershgorin fails at a corner: the midpoint reading holds."""
    prefixes = sorted({l["path"][:k] for l in base["leaves"] if l["test"] == "etf_convex"
                       for k in range(1, len(l["path"]))}, key=lambda p: (-len(p), p))
    for pre in prefixes:
        lo, hi = box(pre)
        w, Q = np.linalg.eigh(hess_fd(0.5 * (lo + hi)))
        if w[0] > MARGIN and min(_gershgorin_rows(Q.T @ hess_fd(x) @ Q).min() for x in corners(lo, hi)) < -MARGIN:
            break
    else:
        pytest.fail("no such box")
    assert np.all(lo <= 0) and np.all(hi >= 0)
    out, idx = forge(base, pre, "etf_convex", {"Q": Q.tolist()}, tmp_path)
    assert "Gershgorin" in rejected_exactly(out, idx, "etf_convex")


def test_forged_etf_convex_signed_offdiagonal_and_one_row_rejected(base, tmp_path):
    """Q' = Q A with A = I - 1.5 e_0 e_1^T: (Q'^T H Q')_{01} = -1.5 lambda_0, so row 0 is dominant
    with signed off-diagonals (lambda_0 + 1.5 lambda_0 > 0) but not with absolute ones
    (lambda_0 - 1.5 lambda_0 < 0), while rows 1 and 2 pass: the rule must hold for every row."""
    leaf = etf_leaf(base)
    lo, hi = box(leaf["path"])
    Q = np.array(leaf["data"]["Q"])
    A = np.eye(3)
    A[0, 1] = -1.5
    Qf = Q @ A
    B = Qf.T @ hess_fd(0.5 * (lo + hi)) @ Qf
    assert _gershgorin_rows(B, signed=True).min() > MARGIN            # the signed reading: every row holds
    rows = _gershgorin_rows(B)
    assert rows[0] < -MARGIN and rows[1] > MARGIN and rows[2] > MARGIN  # absolute: row 0 fails, 1 and 2 hold
    out, idx = forge(base, leaf["path"], "etf_convex", {"Q": Qf.tolist()}, tmp_path)
    assert "row 0" in rejected_exactly(out, idx, "etf_convex")
    # a legitimate other Q (a column's sign flipped) is accepted: the checker does not reject blindly
    out, _ = forge(base, leaf["path"], "etf_convex", {"Q": (Q * [1.0, -1.0, 1.0]).tolist()}, tmp_path)
    assert check_landscape_proof(out).status == "proved"


def test_etf_box_must_contain_the_etf_point_in_every_coordinate(base):
    """The ETF test's box must contain 0 in *all* coordinates: a box containing it in two of three
    (the 'some coordinate' reading) is refused before any Hessian is formed."""
    leaf = etf_leaf(base)
    lo, hi = box(leaf["path"])
    shifted_lo, shifted_hi = lo.copy(), hi.copy()
    k = 2
    shifted_lo[k], shifted_hi[k] = 1e-3, 1e-3 + (hi[k] - lo[k])
    ok, why = P.check_leaf(FlintBackend(), CH, P.E.prover_loss("cross_entropy"), leaf, list(shifted_lo),
                           list(shifted_hi), True)
    assert not ok and "ETF slice point" in why
    assert sum(a <= 0 <= b for a, b in zip(shifted_lo, shifted_hi)) == 2
    ok, _ = P.check_leaf(FlintBackend(), CH, P.E.prover_loss("cross_entropy"), leaf, list(lo), list(hi), True)
    assert ok


# ------------------------------------------------------------- non-finite certificate data
@pytest.mark.parametrize("test,key,bad", [
    ("gradient", "row", math.nan), ("gradient", "row", math.inf), ("saddle_normal", "c", -math.inf),
    ("saddle_normal", "e", math.nan), ("etf_convex", "Q", math.nan), ("etf_convex", "Q", math.inf),
])
def test_non_finite_certificate_data_rejected(base, tmp_path, test, key, bad):
    js = json.loads(json.dumps(base))
    idx, leaf = next((i, l) for i, l in enumerate(js["leaves"]) if l["test"] == test
                     and (test != "gradient" or l["data"]["mode"] == "mv"))
    if key == "Q":
        leaf["data"]["Q"][1][2] = bad
    else:
        leaf["data"][key][0] = bad
    path = tmp_path / "nf.json"
    path.write_text(json.dumps(js))                   # Python's json writes NaN / Infinity tokens
    assert "NaN" in path.read_text() or "Infinity" in path.read_text()
    r = check_landscape_proof(path, max_failures=10 ** 6)
    assert [(f["index"], f["test"]) for f in r.failures] == [(idx, test)]
    assert "non-finite" in r.failures[0]["why"]


def test_non_finite_stored_bounds_and_bad_index_rejected(base, tmp_path):
    js = json.loads(json.dumps(base))
    js["leaves"][5]["hi"][1] = math.nan
    i_naive = next(i for i, l in enumerate(js["leaves"]) if l["test"] == "gradient" and l["data"]["mode"] == "naive")
    js["leaves"][i_naive]["data"]["i"] = 7                       # no such component (m = 3)
    path = tmp_path / "nf.json"
    path.write_text(json.dumps(js))
    r = check_landscape_proof(path, max_failures=10 ** 6)
    whys = {f["index"]: f["why"] for f in r.failures}
    assert "not finite" in whys[5] and "component index" in whys[i_naive]


# ------------------------------------------------------------- files that are no proof
def _bad_file(tmp_path, base, kind):
    path = tmp_path / f"{kind}.json"
    text = json.dumps(base)
    if kind == "missing":
        return tmp_path / "nowhere" / "p.json"
    if kind == "folder":
        return tmp_path
    content = {"empty": "", "blank": "  \n", "truncated": text[: len(text) // 2], "not_json": "proved, trust me",
               "list": "[1, 2]", "number": "3"}.get(kind)
    if content is None:
        js = json.loads(text)
        if kind == "no_K":
            del js["K"]
        elif kind == "K_text":
            js["K"] = "2"
        elif kind == "old_format":
            js["format"] = "nc-verify/landscape-proof/1"
        elif kind == "leaf_not_object":
            js["leaves"][0] = "abc"
        elif kind == "unsupported_K":
            js["K"] = 5
        elif kind == "tau_too_large":
            js["tau_exact"] = "745"
        content = json.dumps(js)
    path.write_text(content)
    return path


@pytest.mark.parametrize("kind,word", [
    ("missing", "cannot read"), ("folder", "cannot read"), ("empty", "empty"), ("blank", "empty"),
    ("truncated", "not valid JSON"), ("not_json", "not valid JSON"), ("list", "JSON list"), ("number", "JSON int"),
    ("no_K", "'K' missing"), ("K_text", "'K' has type str"), ("old_format", "format"),
    ("leaf_not_object", "leaf 0"), ("unsupported_K", "K must be"), ("tau_too_large", "350"),
])
def test_file_that_is_no_proof_raises(base, tmp_path, kind, word):
    path = _bad_file(tmp_path, base, kind)
    with pytest.raises(ProofFileError, match=word) as exc:
        check_landscape_proof(path)
    assert str(path) in str(exc.value) and isinstance(exc.value, ValueError)


# ------------------------------------------------------------- the description is checked
@pytest.mark.parametrize("key,edit", [
    ("chart", lambda js: js["chart"]["domain_hi"].__setitem__(0, 0.5)),
    ("chart", lambda js: js["chart"].__setitem__("coordinates", ["x", "y", "z"])),
    ("reductions", lambda js: js["reductions"].pop(2)),                     # drop Lemma 3
    ("counts", lambda js: js["counts"].__setitem__("etf_convex", 5)),
    ("counts", lambda js: js["counts"].__setitem__("evaluated", 10)),
    ("classes", lambda js: js["classes"].pop()),
    ("unresolved", lambda js: js["unresolved"].append({"lo": [0], "hi": [0], "path": "", "why": "x"})),
    ("tau", lambda js: js.__setitem__("tau", 1.5)),
])
def test_description_that_differs_from_the_rebuilt_one_rejected(base, tmp_path, key, edit):
    js = json.loads(json.dumps(base))
    edit(js)
    path = tmp_path / "meta.json"
    path.write_text(json.dumps(js))
    r = check_landscape_proof(path)
    assert not r.valid and [f["test"] for f in r.failures] == ["metadata"]
    assert f"'s {key} " in r.failures[0]["why"]


# ------------------------------------------------------------- temperatures enclosed outward
@pytest.mark.parametrize("text", ["1.9", "0.1", "0.05", "100.7", "1/3"])
def test_decimal_temperature_enclosed_outward(text):
    q = Fraction(text)
    lo, hi = P.enclose_outward(q)
    assert Fraction(lo) <= q <= Fraction(hi)
    assert Fraction(lo) < q < Fraction(hi)                    # none of these is a binary64 number
    assert hi == np.nextafter(lo, np.inf)                     # one ulp: the tightest enclosure
    assert Fraction(float(q)) != q                            # the wrong variant: the float misses q


def test_exact_temperature_stays_a_point():
    for text in ("1", "0.5", "5", "350"):
        lo, hi = P.enclose_outward(Fraction(text))
        assert lo == hi == float(text)


def test_proof_at_decimal_tau_covers_the_decimal(tmp_path):
    """tau = 1.9: fl(1.9) < 19/10, so a proof at the float alone misses 1.9; the chart's tau
    interval contains 19/10 and the checker re-encloses it from tau_exact."""
    assert Fraction(1.9) < Fraction(19, 10)
    for tau in ("1.9", 1.9):                                  # a float is read as the decimal it prints as
        p = prove_landscape(2, 1, tau, max_boxes=2000)
        assert p.tau_exact == "19/10" and p.tau == 1.9
        lo, hi = p.chart["tau"]
        assert Fraction(lo) < Fraction(19, 10) < Fraction(hi)
    path = tmp_path / "t.json"
    p.save(path)
    assert check_landscape_proof(path).status == "proved"
    js = json.loads(path.read_text())
    js["tau_exact"] = "1.95"                                  # another decimal: the chart no longer matches
    path.write_text(json.dumps(js))
    r = check_landscape_proof(path)
    assert not r.valid


def test_tau_range_ends_enclosed_outward():
    p = prove_landscape(2, 1, ("0.5", "1.9"), max_boxes=1)
    assert p.tau_exact == ["1/2", "19/10"] and p.chart["tau"][0] == 0.5
    assert Fraction(p.chart["tau"][1]) > Fraction(19, 10)
    assert "every tau in [0.5, 1.9]" in p.statement


def test_statement_names_the_given_d():
    p = prove_landscape(2, 1, 1.0, d=5, max_boxes=1)
    assert "d = 5 (the same proof covers every d >= 3)" in p.statement
    assert "d = 2," in prove_landscape(2, 1, 1.0, d=2, max_boxes=1).statement


def test_checker_accepts_a_proof_in_memory(base):
    p = LandscapeProof.from_json(json.loads(json.dumps(base)))
    assert check_landscape_proof(p).status == "proved"
    with pytest.raises(TypeError, match="proof"):
        check_landscape_proof(3)


def test_naive_gradient_needs_one_component_and_checks_the_one_named(base):
    """'Some component excludes 0' is the rule (a critical point needs every component 0): a leaf
    whose named component excludes 0 passes although another component's enclosure contains 0
    (an 'all components' rule would refuse it), and naming that other component fails."""
    bk, enc = FlintBackend(), P.E.prover_loss("cross_entropy")
    for leaf in base["leaves"]:
        if leaf["test"] != "gradient" or leaf["data"]["mode"] != "naive":
            continue
        lo, hi = box(leaf["path"])
        xs = [bk.interval(a, b) for a, b in zip(lo, hi)]
        g = P.E.gradient(CH, P.E.quantities(bk, CH, xs, bk.point(TAU), enc), enc)
        straddle = [k for k, gk in enumerate(g) if not (bk.is_pos(gk) or bk.is_neg(gk))]
        if straddle:
            break
    else:
        pytest.fail("no naive gradient leaf with a straddling component")
    ok, _ = P.check_leaf(bk, CH, enc, leaf, list(lo), list(hi), True)
    assert ok and leaf["data"]["i"] not in straddle
    forged = dict(leaf, data={"mode": "naive", "i": straddle[0]})
    ok, why = P.check_leaf(bk, CH, enc, forged, list(lo), list(hi), True)
    assert not ok and f"component {straddle[0]}" in why
