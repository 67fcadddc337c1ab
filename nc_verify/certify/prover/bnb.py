"""Vectorised interval branch and bound over the planar chart (numpy intervals).

Each box of a batch is tested, in this order (``docs/prover.md``, "Discard tests"):

``gradient``
    (a) some component of the chart gradient excludes 0 on the box: either the naive
    enclosure ``g_i(X)``, or a mean-value form ``r . g(x_c) + (r^T J(X)) (X - x_c)``
    with a fixed row ``r`` (a unit row, or a row of ``J(x_c)^{-1}``), ``J`` the chart
    Hessian (the Jacobian of ``g``).  No critical point in the box.
``saddle_inplane``
    (b) ``v^T H(x) v < 0`` for all ``x`` in the box, ``v`` a fixed chart direction (the
    bottom eigenvector of the Hessian at the centre): every critical point is a
    strict saddle.
``saddle_normal``
    (b') (``d >= 3`` only) the normal-block form along a fixed ``(c, e)`` is ``< 0``.
``etf_convex``
    (c) the box contains the ETF slice point (0) and ``Q^T H(X) Q`` is strictly
    diagonally dominant with positive diagonal (Gershgorin) for a fixed float
    matrix ``Q``: ``H`` is positive definite on the box, so the ETF is its only
    critical point.
``continuum``
    (d) (``d = 2``, the weak form only; run last) every critical point in the box lies on the
    stratum ``W = u 1^T`` and none is a local minimum (:mod:`.continuum`).

A box that passes none is bisected at ``(lo + hi) / 2`` along its widest side, angle and
temperature widths weighed by functions of the box's temperature (:func:`split_coordinate`)
(the path of bisections is recorded so that the checker can rebuild the box and
prove coverage), or left unresolved when narrower than ``min_width`` or when the box
budget is spent.
"""

from __future__ import annotations

import concurrent.futures as cf
import time

import numpy as np

from . import enclosures as E
from .intervals import IA, point
from .intervals import NUMPY as bk

TESTS = ("gradient", "saddle_inplane", "saddle_normal", "etf_convex", "continuum")
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def path_char(dim: int, side: int) -> str:
    return _PATH_CHARS[2 * dim + side]


def path_step(ch: str):
    i = _PATH_CHARS.index(ch)
    return i // 2, i % 2


def split_point(lo: float, hi: float) -> float:
    """Bisection point of ``[lo, hi]`` (float; the checker recomputes it identically)."""
    return 0.5 * (lo + hi)


def split_coordinate(width, tau_lo, tau_hi, n_angles: int):
    """The coordinate along which a box is bisected: the widest side, the angles' widths weighed by
    ``sqrt(tau_hi)`` and the temperature's (coordinate ``n_angles``, when ``tau`` is one) by
    ``1 + 1 / (2 tau_lo)`` (the box's temperature ends).

    The logits ``tau cos(alpha_k - phi_j)`` move by up to ``tau`` per radian of an angle and by up to
    1 per unit of ``tau``, and the chart gradient's prefactor ``tau`` by ``w / tau_lo`` relatively over
    a temperature width ``w``; the square root is an empirical compromise between weighing the
    angles by ``tau`` (too many angle splits at ``tau`` of 0.5 to 5) and not at all (the raw widest
    side, too many temperature splits above ``tau`` = 5).  Measured box counts, (2, 2): 22 589
    against 201 091 (raw widest side) on ``[0.05, 0.5]``, 299 121 against 486 019 on ``[5, 10]``,
    132 809 against 133 413 on ``[1.9, 5]``; (2, 1) on ``[50, 60]``: 14 497 against 63 933.  At one
    temperature this is the widest side.

    ``width`` is one box's widths, shape (D,) (returns an int), or a batch's, shape (B, D), with
    ``tau_lo``, ``tau_hi`` scalars or shape (B,) (returns an int array, shape (B,)).
    """
    w = np.array(width, dtype=float)
    one = w.ndim == 1
    w = np.atleast_2d(w)
    tau_lo = np.asarray(tau_lo, dtype=float).reshape(-1, 1)
    tau_hi = np.asarray(tau_hi, dtype=float).reshape(-1, 1)
    w[:, :n_angles] *= np.sqrt(tau_hi)
    if w.shape[1] > n_angles:
        w[:, n_angles:n_angles + 1] *= 1.0 + 0.5 / tau_lo
    dims = np.argmax(w, axis=1)
    return int(dims[0]) if one else dims


def bisection_dims(chart, lo, hi) -> np.ndarray:
    """:func:`split_coordinate` of each box of a batch ``lo``, ``hi`` (shape (B, D)) of ``chart``'s
    domain: the temperature ends are the box's own where ``tau`` is a coordinate, else the chart's."""
    m = chart.n_angles
    if chart.tau_is_coordinate:
        return split_coordinate(hi - lo, lo[:, m], hi[:, m], m)
    return split_coordinate(hi - lo, chart.tau_lo, chart.tau_hi, m)


def box_center(lo, hi):
    """Centre used by the mean-value form (any point of the box is valid)."""
    return np.clip(0.5 * (np.asarray(lo) + np.asarray(hi)), lo, hi)


def stack_intervals(entries, shape_b):
    """List (or list of lists) of IA/None -> one IA with trailing axes (zeros for None).

    Shared by the depth-first (:func:`run_bnb`) and breadth-first (:mod:`.frontier`) searches."""
    def conv(e):
        if e is None:
            z = np.zeros(shape_b)
            return z, z
        return np.broadcast_to(e.lo, shape_b), np.broadcast_to(e.hi, shape_b)
    if isinstance(entries[0], list):
        rows = [[conv(e) for e in r] for r in entries]
        lo = np.stack([np.stack([c[0] for c in r], axis=-1) for r in rows], axis=-2)
        hi = np.stack([np.stack([c[1] for c in r], axis=-1) for r in rows], axis=-2)
    else:
        cs = [conv(e) for e in entries]
        lo = np.stack([c[0] for c in cs], axis=-1)
        hi = np.stack([c[1] for c in cs], axis=-1)
    return IA(lo, hi)


def _ia_sum_last(x: IA) -> IA:
    """Sum over the last axis with outward rounding after every addition."""
    acc = x[..., 0]
    for i in range(1, x.lo.shape[-1]):
        acc = acc + x[..., i]
    return acc


def _pos_or_neg(x: IA):
    return (x.lo > 0.0) | (x.hi < 0.0)


class BoxEvaluator:
    """The discard tests of a batch of boxes, ``(codes, data)`` per box (a picklable callable sent to
    the worker processes); shared by :func:`run_bnb` and :func:`.frontier.run_bnb_breadth`."""

    def __init__(self, chart, loss, allow_normal: bool, drop=None, continuum=None):
        self.chart, self.loss, self.allow_normal, self.drop = chart, loss, allow_normal, drop
        self.continuum = continuum

    def __call__(self, lo, hi):
        codes, data = evaluate_boxes(self.chart, self.loss, lo, hi, self.allow_normal, self.drop)
        if self.continuum is not None and (codes < 0).any():      # (d), on the boxes left
            self.continuum(lo, hi, codes, data, TESTS.index("continuum"))
        return codes, data


def evaluate_boxes(chart, loss, lo, hi, allow_normal, drop=None):
    """Run the discard tests on a batch of boxes.

    Parameters
    ----------
    lo, hi : ndarray, shape (B, dim)
        Box bounds in chart coordinates (``dim = m`` or ``m + 1`` with ``tau``).

    Returns
    -------
    codes : ndarray of int, shape (B,)
        Index into :data:`TESTS` of the test that discarded the box, or -1.
    data : list of B dicts (or None)
        The test's certificate data (floats) for the checker.
    """
    B = lo.shape[0]
    m = chart.n_angles
    K, N = chart.K, chart.N
    sb = (B,)
    xs = [IA(lo[:, i], hi[:, i]) for i in range(m)]
    if chart.tau_is_coordinate:
        T = IA(lo[:, m], hi[:, m])
        tmid = 0.5 * (lo[:, m] + hi[:, m])
    else:
        T = point(np.full(B, chart.tau_lo))
        tmid = np.full(B, chart.tau_lo)
    xc = box_center(lo[:, :m], hi[:, :m])
    xcs = [point(xc[:, i]) for i in range(m)]
    codes = np.full(B, -1)
    data = [None] * B

    Qb = E.quantities(bk, chart, xs, T, loss)
    # ---- (a) naive gradient
    g_box = stack_intervals(E.gradient(chart, Qb, loss), sb)
    ok = _pos_or_neg(g_box)
    for b in np.nonzero(ok.any(axis=1))[0]:
        codes[b] = 0
        data[b] = {"mode": "naive", "i": int(np.argmax(ok[b]))}
    todo = codes < 0
    if not todo.any():
        return codes, data
    # ---- float Hessian at the centre (directions, preconditioner)
    Qcm = E.quantities(bk, chart, xcs, point(tmid), loss)
    Hc = stack_intervals(E.hessian(bk, chart, Qcm, drop), sb).mid()                       # (B, m, m)
    Hc = 0.5 * (Hc + np.swapaxes(Hc, 1, 2))
    Hc = np.where(np.isfinite(Hc), Hc, 0.0)      # only a heuristic for directions: any finite matrix will do
    # ---- (a) mean-value forms
    Qc = E.quantities(bk, chart, xcs, T, loss)
    g_c = stack_intervals(E.gradient(chart, Qc, loss), sb)                                 # (B, m)
    J = stack_intervals(E.hessian(bk, chart, Qb, drop), sb)                               # (B, m, m)
    with np.errstate(all="ignore"):
        try:
            Rinv = np.linalg.pinv(Hc)
        except np.linalg.LinAlgError:
            Rinv = np.zeros_like(Hc)
    Rinv = np.where(np.isfinite(Rinv), Rinv, 0.0)
    R = np.concatenate([Rinv, np.broadcast_to(np.eye(m), (B, m, m))], axis=1)     # (B, 2m, m)
    dX = IA(lo[:, :m], hi[:, :m]) - point(xc)                                     # (B, m)
    dX = IA(np.minimum(dX.lo, 0.0), np.maximum(dX.hi, 0.0))
    Rg = _ia_sum_last(IA(g_c.lo[:, None, :], g_c.hi[:, None, :]) * R)              # (B, 2m)
    RJ = None
    for a in range(m):
        term = IA(J.lo[:, None, a, :], J.hi[:, None, a, :]) * R[:, :, a:a + 1]    # (B, 2m, m)
        RJ = term if RJ is None else RJ + term
    dXb = IA(np.broadcast_to(dX.lo[:, None, :], RJ.lo.shape), np.broadcast_to(dX.hi[:, None, :], RJ.lo.shape))
    mv = Rg + _ia_sum_last(RJ * dXb)
    ok = _pos_or_neg(mv) & todo[:, None]
    for b in np.nonzero(ok.any(axis=1))[0]:
        r = int(np.argmax(ok[b]))
        codes[b] = 0
        data[b] = {"mode": "mv", "row": [float(z) for z in R[b, r]]}
    todo = codes < 0
    if not todo.any():
        return codes, data
    # ---- (b) in-plane negative curvature
    lam, V = np.linalg.eigh(Hc)
    v = V[:, :, 0]
    q = E.inplane_form(bk, chart, Qb, [v[:, i] for i in range(m)], loss, drop)
    ok = (q.hi < 0.0) & todo
    for b in np.nonzero(ok)[0]:
        codes[b] = 1
        data[b] = {"v": [float(z) for z in v[b]]}
    todo = codes < 0
    # ---- (b') normal block
    if allow_normal and todo.any():
        G = np.stack([np.stack([np.broadcast_to(Qcm.G[k][j].mid(), sb) for j in range(N)], -1)
                      for k in range(K)], -2)                                         # (B, K, N)
        rowc = np.stack([np.broadcast_to(r.mid(), sb) for r in Qcm.rowc], -1)
        colc = np.stack([np.broadcast_to(r.mid(), sb) for r in Qcm.colc], -1)
        if drop == "col_curvature":
            colc = np.zeros_like(colc)
        Nm = np.zeros((B, K + N, K + N))
        Nm[:, :K, :K] = -rowc[:, :, None] * np.eye(K)
        Nm[:, K:, K:] = -colc[:, :, None] * np.eye(N)
        Nm[:, :K, K:] = tmid[:, None, None] * G
        Nm[:, K:, :K] = np.swapaxes(Nm[:, :K, K:], 1, 2)
        Nm = np.where(np.isfinite(Nm), Nm, 0.0)
        lamn, Vn = np.linalg.eigh(Nm)
        vn = Vn[:, :, 0]
        qn = E.normal_form(bk, chart, Qb, [vn[:, k] for k in range(K)], [vn[:, K + j] for j in range(N)],
                           loss, drop)
        ok = (qn.hi < 0.0) & todo
        for b in np.nonzero(ok)[0]:
            codes[b] = 2
            data[b] = {"c": [float(z) for z in vn[b, :K]], "e": [float(z) for z in vn[b, K:]]}
        todo = codes < 0
    # ---- (c) ETF box, Hessian positive definite
    etf = todo & np.all((lo[:, :m] <= 0.0) & (hi[:, :m] >= 0.0), axis=1)
    if etf.any():
        idx = np.nonzero(etf)[0]
        Qm = V[idx]                                                                  # (E, m, m)
        Je = J[idx]
        JQ = None
        for a in range(m):
            term = IA(Je.lo[:, :, a:a + 1], Je.hi[:, :, a:a + 1]) * Qm[:, None, a, :]   # (E, m, m)
            JQ = term if JQ is None else JQ + term
        Bm = None
        for a in range(m):
            term = IA(JQ.lo[:, None, a, :], JQ.hi[:, None, a, :]) * Qm[:, a, :, None]  # (E, m, m)
            Bm = term if Bm is None else Bm + term
        good = np.ones(len(idx), dtype=bool)
        for i in range(m):
            acc = Bm[:, i, i]
            for k in range(m):
                if k != i:
                    acc = acc - bk.abs_upper(Bm[:, i, k])
            good &= acc.lo > 0.0
        for e_, b in enumerate(idx):
            if good[e_]:
                codes[b] = 3
                data[b] = {"Q": [[float(z) for z in row] for row in Qm[e_]]}
    return codes, data


#: Boxes below which a chunk of a parallel step is not worth a process of its own (an evaluation
#: has a fixed cost, about 15 ms at (2, 3): 32 boxes cost about 17 ms, 2048 about 160 ms).
MIN_CHUNK = 32
#: Boxes per process below which a parallel step also evaluates the descendants of its boxes
#: ahead (children, grandchildren, ...: needed where the box is bisected, wasted where it is
#: discarded): at (2, 3) about 200 boxes cost what the fixed cost of one evaluation does, so
#: a step this small is mostly fixed cost, and one step then serves several of the serial run's.
SPECULATE_BELOW = 256


def _split(chart, lo, hi, paths, codes, min_width):
    """The bookkeeping of one evaluated batch, vectorised: which boxes are leaves, and the children.

    Returns ``(leaf_rows, child_lo, child_hi, child_paths)``: the rows that are leaves, in
    order (discarded, or undecided and narrower than ``min_width``), and the children of the
    other rows, each row's right child then its left child (so that the left child is on top
    of the stack, processed first), bisected along the coordinate of :func:`split_coordinate` at
    :func:`split_point`.
    """
    w = hi - lo
    split = (codes < 0) & ~(w.max(axis=1) < min_width)
    leaf_rows = np.flatnonzero(~split)
    rows = np.flatnonzero(split)
    dims = bisection_dims(chart, lo[rows], hi[rows])
    s = split_point(lo[rows, dims], hi[rows, dims])
    child_lo = np.repeat(lo[rows], 2, axis=0)
    child_hi = np.repeat(hi[rows], 2, axis=0)
    k = np.arange(len(rows))
    child_lo[2 * k, dims] = s                            # right child: [s, hi]
    child_hi[2 * k + 1, dims] = s                        # left child: [lo, s]
    child_paths = [c for b, dim in zip(rows.tolist(), dims.tolist())
                   for c in (paths[b] + path_char(dim, 1), paths[b] + path_char(dim, 0))]
    return leaf_rows, child_lo, child_hi, child_paths


def run_bnb(chart, loss, *, allow_normal, max_boxes, min_width, batch=2048, workers=None,
            progress=None, drop=None, continuum=None):
    """Branch and bound over the chart's domain.

    Boxes are taken from the top of a stack, ``batch`` at a time (depth first); a box that
    no test discards is bisected and its children pushed.

    With ``workers = w > 1`` a batch's boxes are evaluated in ``w`` chunks, one by the calling
    process and one by each of ``w - 1`` worker processes; a batch smaller than
    :data:`SPECULATE_BELOW` boxes per process (the tail of a search, where the fixed cost of an
    evaluation dominates) brings the descendants of its boxes along, level by level, within that
    size, and the batches that follow take their verdicts from there without a step of their own.
    A box's verdict depends on the box alone, and the stack is worked off batch by batch exactly
    as in the serial run, so the leaves (their order included) and the count of boxes evaluated
    are the serial run's for every ``workers`` and any box budget.

    Returns
    -------
    leaves : list of dict
        ``{"path", "lo", "hi", "test", "data"}`` with ``test`` in :data:`TESTS` or
        ``"unresolved"``; the leaves' paths form a complete bisection tree of the domain.
    evaluated : int
        Number of boxes evaluated by the serial run (boxes a parallel run evaluated ahead and
        never used, descendants of discarded boxes, are not counted).
    """
    dlo, dhi = chart.domain()
    stack_lo = np.array([dlo], dtype=float)
    stack_hi = np.array([dhi], dtype=float)
    stack_path = [""]
    stack_code = np.full(1, -2)                          # verdicts, -2 where not evaluated yet
    stack_data = [None]
    ahead = {}                                           # path -> (code, data) of boxes not on the stack yet
    leaves = []
    # batches worked off whose leaf records are not written yet: a parallel step writes them while
    # the workers evaluate (the calling process's chunk is smaller by their cost), in order
    pending = []
    cost = {"leaf": 0.0, "box": None}                    # seconds per leaf record, per box evaluated here

    def flush():
        t = time.perf_counter()
        n = 0
        for lo, hi, paths, codes, data, rows in pending:
            n += len(rows)
            for b in rows.tolist():
                leaves.append({"path": paths[b], "lo": lo[b].tolist(), "hi": hi[b].tolist(),
                               "test": TESTS[codes[b]] if codes[b] >= 0 else "unresolved",
                               "data": data[b] if codes[b] >= 0 else {"why": "narrower than min_width"}})
        pending.clear()
        if n:
            cost["leaf"] = (time.perf_counter() - t) / n
        return n

    evaluated = 0
    t0 = time.perf_counter()
    ev = BoxEvaluator(chart, loss, allow_normal, drop, continuum)
    w = workers if workers and workers > 1 else 1
    # workers - 1 processes; the calling process evaluates the first chunk of every step itself
    pool = cf.ProcessPoolExecutor(max_workers=w - 1) if w > 1 else None
    try:
        while len(stack_path):
            if evaluated >= max_boxes:
                flush()
                for i in range(len(stack_path)):
                    leaves.append({"path": stack_path[i], "lo": stack_lo[i].tolist(), "hi": stack_hi[i].tolist(),
                                   "test": "unresolved", "data": {"why": "box budget spent"}})
                break
            nb = min(batch, len(stack_path), max_boxes - evaluated)
            top = len(stack_path) - nb
            todo = np.flatnonzero(stack_code[top:] == -2) + top
            if len(todo):                                # a step: the batch's boxes not evaluated ahead
                lo, hi = stack_lo[todo], stack_hi[todo]
                n_stack = len(todo)
                if pool is not None:                     # descendants of a small batch, evaluated ahead
                    paths = [stack_path[i] for i in todo.tolist()]
                    level = (lo, hi, paths)
                    ahead.clear()                        # what is left of the last step's: never used
                    while True:
                        _, clo, chi, cpaths = _split(chart, *level, np.full(len(level[2]), -1), min_width)
                        if not cpaths or len(paths) + len(cpaths) > min(w * SPECULATE_BELOW, max_boxes - evaluated):
                            break
                        lo, hi, paths = np.concatenate([lo, clo]), np.concatenate([hi, chi]), paths + cpaths
                        level = (clo, chi, cpaths)
                n, k = len(lo), max(1, min(w, len(lo) // MIN_CHUNK))
                own = n // k                             # the calling process's share, less the leaf records'
                if k > 1 and cost["box"]:
                    backlog = sum(len(r[-1]) for r in pending) * cost["leaf"] / cost["box"]
                    own = int(np.clip((n - (k - 1) * backlog) / k, 0, own))
                chunks = [np.arange(own)] + np.array_split(np.arange(own, n), k - 1) if k > 1 else [np.arange(n)]
                futs = [pool.submit(ev, lo[c], hi[c]) for c in chunks[1:]]
                flush()
                t = time.perf_counter()
                res = [ev(lo[chunks[0]], hi[chunks[0]])] if own else []
                if own:
                    cost["box"] = (time.perf_counter() - t) / own
                res += [f.result() for f in futs]
                codes = np.concatenate([r[0] for r in res])
                data = [d for r in res for d in r[1]]
                stack_code[todo] = codes[:n_stack]
                for i, d in zip(todo.tolist(), data):
                    stack_data[i] = d
                for i in range(n_stack, len(codes)):
                    ahead[paths[i]] = (codes[i], data[i])
            lo, hi, paths = stack_lo[top:], stack_hi[top:], stack_path[top:]
            codes, data = stack_code[top:], stack_data[top:]
            stack_lo, stack_hi, stack_path = stack_lo[:top], stack_hi[:top], stack_path[:top]
            stack_code, stack_data = stack_code[:top], stack_data[:top]
            evaluated += nb
            leaf_rows, new_lo, new_hi, new_path = _split(chart, lo, hi, paths, codes, min_width)
            pending.append((lo, hi, paths, codes, data, leaf_rows))
            if pool is None:
                flush()
            if new_path:
                found = [ahead.pop(p, (-2, None)) for p in new_path] if ahead else [(-2, None)] * len(new_path)
                stack_lo = np.concatenate([stack_lo, new_lo])
                stack_hi = np.concatenate([stack_hi, new_hi])
                stack_path = stack_path + new_path
                stack_code = np.concatenate([stack_code, [c for c, _ in found]])
                stack_data = stack_data + [d for _, d in found]
            if progress is not None:
                dt = time.perf_counter() - t0
                progress(len(stack_path), evaluated / dt if dt > 0 else 0.0)
        flush()
    finally:
        if pool is not None:
            pool.shutdown()
    return leaves, evaluated
