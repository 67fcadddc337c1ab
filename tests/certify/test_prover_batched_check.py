"""The batched checker against the one-by-one flint checker.

``check_landscape_proof(batched=True)`` evaluates the discard tests of whole batches of leaves
with IEEE arithmetic rounded outwards and arb function values; a leaf it cannot confirm goes to
the flint check, which decides.  Here both checkers must agree leaf by leaf on honest proofs of
both charts (the rank-3 chart with Lemma 13's leaves, and the planar chart with the temperature as
a coordinate), every honest leaf must pass the batch stage (else the batched check is no faster),
and a forged symmetry leaf must be refused by the batch stage itself.
"""

import json
from unittest import mock

import pytest

from nc_verify.certify.prover import check_landscape_proof, prove_landscape
from nc_verify.certify.prover import proof as P
from nc_verify.certify.prover import symmetry as SYM
from nc_verify.certify.prover.intervals import FlintBackend


def _check_both(path):
    with mock.patch.object(P, "check_leaf", wraps=P.check_leaf) as spy:
        fast = check_landscape_proof(path, max_failures=10 ** 6)
    slow = check_landscape_proof(path, max_failures=10 ** 6, batched=False)
    return fast, slow, [c.args[3] for c in spy.call_args_list]


@pytest.fixture(scope="module")
def k3(tmp_path_factory):
    """A partial (3, 1) proof at tau = 1, every d >= 4: gradient, saddle_normal and symmetry leaves."""
    pr = prove_landscape(3, 1, 1.0, order="breadth", symmetry=True, split="smear", max_boxes=6000)
    path = tmp_path_factory.mktemp("k3") / "k3.json"
    pr.save(path)
    return path


def test_rank3_chart_both_checkers_agree_and_batches_confirm_every_honest_leaf(k3):
    fast, slow, fallbacks = _check_both(k3)
    counts = json.loads(k3.read_text())["counts"]
    assert counts["symmetry"] > 0 and counts["gradient"] > 0 and counts["saddle_normal"] > 0, counts
    assert fast.status == slow.status == "not_proved" and fast.valid and slow.valid
    assert fast.checked == slow.checked == sum(counts[t] for t in ("symmetry", "gradient", "saddle_normal",
                                                                    "saddle_inplane", "etf_convex"))
    # n = 1: no sample orderings, so every leaf is batched and none needs the flint check
    assert fallbacks == [] and fast.flint_leaves == 0 and slow.flint_leaves == slow.checked


def test_planar_chart_tau_interval_both_checkers_agree(tmp_path):
    pr = prove_landscape(2, 1, (0.5, 1.9))
    path = tmp_path / "p.json"
    pr.save(path)
    fast, slow, fallbacks = _check_both(path)
    assert fast.status == slow.status == "proved"
    assert fast.checked == slow.checked == sum(pr.counts.get(t, 0) for t in P.TESTS) > 0
    assert pr.counts["etf_convex"] > 0 and fallbacks == []


def test_forged_symmetry_leaf_refused_by_the_batch_stage(k3, tmp_path):
    """Relabel one symmetry leaf with the other inequality of Lemma 13, one that holds somewhere on
    its box (shown by the flint check of that leaf alone): both checkers reject exactly it, and the
    batch stage hands it, and only it, to the flint check."""
    js = json.loads(k3.read_text())
    fb = FlintBackend()
    chart = P._setup(3, 1, 1.0, None, "cross_entropy").chart
    for idx, leaf in enumerate(js["leaves"]):
        if leaf["test"] == SYM.LABEL and "pair" in leaf["data"]:
            other = {"pair": 1 - leaf["data"]["pair"]}
            if not SYM.check_leaf(fb, chart, other, leaf["lo"], leaf["hi"])[0]:
                break
    else:
        pytest.fail("no symmetry leaf whose other inequality holds somewhere on its box")
    js["leaves"][idx]["data"] = other
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(js))
    fast, slow, fallbacks = _check_both(path)
    for r in (fast, slow):
        assert r.status == "invalid" and [(f["index"], f["test"]) for f in r.failures] == [(idx, SYM.LABEL)]
    assert [l["path"] for l in fallbacks] == [js["leaves"][idx]["path"]] * 2     # 53 bits, then the retry
    assert fast.flint_leaves == 1
