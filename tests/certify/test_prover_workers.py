"""The prover's parallel branch and bound: the serial run's leaves and box count for every number of workers.

A parallel run splits each batch among the processes and, for a small batch, evaluates the
descendants of its boxes ahead; it then works the stack off batch by batch as the serial run
does.  Results put at the wrong boxes, boxes evaluated ahead counted as evaluated, or a
budget that let evaluation ahead decide which boxes are left unresolved would change the
leaves or the count compared here.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from nc_verify.certify.prover import bnb, prove_landscape
from nc_verify.certify.prover.bnb import _split, path_char


def test_split_children_order_and_widest_coordinate():
    """Per undecided wide row: the right child then the left (the left ends on top of the stack), split
    along the widest coordinate at its midpoint; discarded and narrow rows are leaves, in order."""
    lo = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 2.0], [0.0, 0.0]])
    hi = np.array([[1.0, 2.0], [4.0, 1.0], [1.0 + 1e-9, 2.0 + 1e-9], [1.0, 1.0]])
    codes = np.array([-1, -1, -1, 0])                     # row 2 undecided but narrow; row 3 discarded
    one_tau = SimpleNamespace(n_angles=2, tau_is_coordinate=False, tau_lo=1.0, tau_hi=1.0)
    leaf_rows, clo, chi, paths = _split(one_tau, lo, hi, ["p", "q", "r", "s"], codes, min_width=1e-6)
    assert leaf_rows.tolist() == [2, 3]
    assert paths == ["p" + path_char(1, 1), "p" + path_char(1, 0), "q" + path_char(0, 1), "q" + path_char(0, 0)]
    np.testing.assert_array_equal(clo, [[0.0, 1.0], [0.0, 0.0], [2.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(chi, [[1.0, 2.0], [1.0, 1.0], [4.0, 1.0], [2.0, 1.0]])
    # the left child first (a plausible slip) would put the right child on top: another order
    assert paths[0] != "p" + path_char(1, 0)


def test_split_follows_the_temperature_weighting():
    """With tau a coordinate (last), the batched split takes :func:`bnb.split_coordinate`'s side per
    box, from the box's own temperature ends: angle width 1 against tau width 3 on [16, 19] is an
    angle split (1 * sqrt(19) > 3 * (1 + 1/32)), on [0.1, 3.1] a tau split (sqrt(3.1) < 3 * 6);
    the raw widest side (a plausible slip) would split tau in both."""
    chart = SimpleNamespace(n_angles=1, tau_is_coordinate=True)
    lo = np.array([[0.0, 16.0], [0.0, 0.1]])
    hi = np.array([[1.0, 19.0], [1.0, 3.1]])
    _, clo, chi, paths = _split(chart, lo, hi, ["a", "b"], np.array([-1, -1]), min_width=1e-6)
    assert paths == ["a" + path_char(0, 1), "a" + path_char(0, 0), "b" + path_char(1, 1), "b" + path_char(1, 0)]
    assert [bnb.split_coordinate(h - l, l[1], h[1], 1) for l, h in zip(lo, hi)] == [0, 1]
    assert int(np.argmax(hi[0] - lo[0])) == 1                 # the raw widest side differs on the first box


@pytest.fixture(scope="module")
def serial():
    calls = []
    run = bnb.BoxEvaluator.__call__

    def counted(self, lo, hi):
        calls.append(len(lo))
        return run(self, lo, hi)

    bnb.BoxEvaluator.__call__ = counted
    try:
        # a budget that ends the run inside the tree, small batches: many steps, descendants evaluated ahead
        proof = prove_landscape(2, 2, 1.0, batch=48, max_boxes=1500)
    finally:
        bnb.BoxEvaluator.__call__ = run
    return proof, calls


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_give_the_serial_leaves_and_count(serial, workers, monkeypatch):
    proof, serial_calls = serial
    assert proof.counts["evaluated"] == 1500 and proof.counts["unresolved"] > 0   # the budget binds
    calls = []
    run = bnb.BoxEvaluator.__call__

    def counted(self, lo, hi):                            # the calling process's evaluations
        calls.append(len(lo))
        return run(self, lo, hi)

    monkeypatch.setattr(bnb.BoxEvaluator, "__call__", counted)
    par = prove_landscape(2, 2, 1.0, batch=48, max_boxes=1500, workers=workers)
    # boxes were evaluated ahead: the calling process made fewer steps than the serial run's batches
    assert len(calls) < len(serial_calls)
    assert par.leaves == proof.leaves
    assert par.counts == proof.counts                     # evaluated: the serial run's, not what ran ahead


def test_workers_without_budget_identical_at_another_size():
    a = prove_landscape(2, 1, 0.7, batch=16)
    b = prove_landscape(2, 1, 0.7, batch=16, workers=2)
    assert a.status == b.status == "proved" and a.leaves == b.leaves and a.counts == b.counts
