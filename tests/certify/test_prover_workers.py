"""The prover's parallel branch and bound: the serial run's leaves and box count for every number of workers.

A parallel run splits each batch among the processes and, for a small batch, evaluates the
descendants of its boxes ahead; it then works the stack off batch by batch as the serial run
does.  Results put at the wrong boxes, boxes evaluated ahead counted as evaluated, or a
budget that let evaluation ahead decide which boxes are left unresolved would change the
leaves or the count compared here.
"""

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
    leaf_rows, clo, chi, paths = _split(lo, hi, ["p", "q", "r", "s"], codes, min_width=1e-6)
    assert leaf_rows.tolist() == [2, 3]
    assert paths == ["p" + path_char(1, 1), "p" + path_char(1, 0), "q" + path_char(0, 1), "q" + path_char(0, 0)]
    np.testing.assert_array_equal(clo, [[0.0, 1.0], [0.0, 0.0], [2.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(chi, [[1.0, 2.0], [1.0, 1.0], [4.0, 1.0], [2.0, 1.0]])
    # the left child first (a plausible slip) would put the right child on top: another order
    assert paths[0] != "p" + path_char(1, 0)


@pytest.fixture(scope="module")
def serial():
    calls = []
    run = bnb._Evaluator.__call__

    def counted(self, lo, hi):
        calls.append(len(lo))
        return run(self, lo, hi)

    bnb._Evaluator.__call__ = counted
    try:
        # a budget that ends the run inside the tree, small batches: many steps, descendants evaluated ahead
        proof = prove_landscape(2, 2, 1.0, batch=48, max_boxes=1500)
    finally:
        bnb._Evaluator.__call__ = run
    return proof, calls


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_give_the_serial_leaves_and_count(serial, workers, monkeypatch):
    proof, serial_calls = serial
    assert proof.counts["evaluated"] == 1500 and proof.counts["unresolved"] > 0   # the budget binds
    calls = []
    run = bnb._Evaluator.__call__

    def counted(self, lo, hi):                            # the calling process's evaluations
        calls.append(len(lo))
        return run(self, lo, hi)

    monkeypatch.setattr(bnb._Evaluator, "__call__", counted)
    par = prove_landscape(2, 2, 1.0, batch=48, max_boxes=1500, workers=workers)
    # boxes were evaluated ahead: the calling process made fewer steps than the serial run's batches
    assert len(calls) < len(serial_calls)
    assert par.leaves == proof.leaves
    assert par.counts == proof.counts                     # evaluated: the serial run's, not what ran ahead


def test_workers_without_budget_identical_at_another_size():
    a = prove_landscape(2, 1, 0.7, batch=16)
    b = prove_landscape(2, 1, 0.7, batch=16, workers=2)
    assert a.status == b.status == "proved" and a.leaves == b.leaves and a.counts == b.counts
