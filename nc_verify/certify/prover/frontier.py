"""Breadth-first branch and bound with a measure of what is proved, and the unresolved boxes located.

:func:`run_bnb_breadth` evaluates the boxes of the bisection tree level by level (first in, first
out), with the discard tests of :func:`.bnb.evaluate_boxes` and, on the rank-3 chart, the
symmetry quotient of :mod:`.symmetry` applied first.  Its leaves have the format of
:func:`.bnb.run_bnb` (the checker does not depend on the order); what differs is what is left
when the box budget is spent: the widest boxes, spread over the whole domain, so that the proved
fraction of the domain (:func:`volume_fractions`) measures the progress.

:func:`cluster_boxes` groups unresolved boxes into connected clusters (closed boxes that touch,
the azimuth coordinates taken modulo ``2 pi``) and :func:`chart_points` maps a configuration
``(W, H)`` in ``R^3`` to the chart coordinates of every relabelled copy of it, so that a report can
say which known critical points lie in which cluster.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import time

import numpy as np

from . import enclosures as E
from . import symmetry as S
from .bnb import TESTS, BoxEvaluator, stack_intervals, bisection_dims, path_char, split_point
from .intervals import NUMPY as bk
from .intervals import point

ORDERS = ("depth", "breadth")
SPLITS = ("widest", "smear")


def _evaluate(ev, pool, workers, lo, hi):
    nb = lo.shape[0]
    if pool is not None and nb >= 64:
        chunks = np.array_split(np.arange(nb), workers)
        futs = [pool.submit(ev, lo[c], hi[c]) for c in chunks[1:]]
        res = [ev(lo[chunks[0]], hi[chunks[0]])] + [f.result() for f in futs]
        return np.concatenate([r[0] for r in res]), [d for r in res for d in r[1]]
    return ev(lo, hi)


def _smear_dims(chart, loss, lo, hi):
    """Split coordinate per box: the largest smear ``w_a sum_i |H_ia(x_c)|`` (``H`` the float chart
    Hessian at the centre: how much the gradient varies along ``a`` over the box); the widest
    coordinate where the Hessian is not finite, and for ``tau``."""
    B = lo.shape[0]
    m = chart.n_angles
    xc = 0.5 * (lo[:, :m] + hi[:, :m])
    tmid = 0.5 * (lo[:, m] + hi[:, m]) if chart.tau_is_coordinate else np.full(B, chart.tau_lo)
    Q = E.quantities(bk, chart, [point(xc[:, i]) for i in range(m)], point(tmid), loss)
    with np.errstate(all="ignore"):
        H = stack_intervals(E.hessian(bk, chart, Q), (B,)).mid()
        w = hi - lo
        sm = w[:, :m] * np.abs(H).sum(axis=1)
    widest = np.argmax(w, axis=1)
    dims = np.argmax(np.where(np.isfinite(sm), sm, -1.0), axis=1)
    bad = ~np.all(np.isfinite(sm), axis=1) | (widest >= m) | (w[np.arange(B), dims] <= 0.0)
    return np.where(bad, widest, dims)


def run_bnb_breadth(chart, loss, *, allow_normal, max_boxes, min_width, batch=2048, workers=None,
                    progress=None, drop=None, continuum=None, symmetry=False, split="widest"):
    """Breadth-first branch and bound over the chart's domain (same leaves format as :func:`.bnb.run_bnb`).

    Parameters
    ----------
    symmetry : bool
        Discard the boxes outside the fundamental domain of :mod:`.symmetry` first (label
        ``"symmetry"``; rank-3 chart only).
    split : {"widest", "smear"}
        Bisection coordinate of an undecided box: the widest, or the largest smear
        (:func:`_smear_dims`).  The bisection point is always the midpoint (:func:`.bnb.split_point`).

    Returns
    -------
    leaves : list of dict
    evaluated : int
        Boxes evaluated (a box discarded by the symmetry test counts as evaluated).
    """
    if symmetry and not S.applies(chart):
        raise ValueError("symmetry=True needs the rank-3 chart (K = 3, d >= 3)")
    dlo, dhi = chart.domain()
    q_lo, q_hi, q_path = [dlo[None, :].copy()], [dhi[None, :].copy()], [[""]]
    head = 0                       # position in the first chunk of the queue
    pending = 1
    leaves = []
    evaluated = 0
    t0 = time.perf_counter()
    ev = BoxEvaluator(chart, loss, allow_normal, drop, continuum)
    pool = cf.ProcessPoolExecutor(max_workers=workers - 1) if workers and workers > 1 else None
    try:
        while pending:
            if evaluated >= max_boxes:
                for c_lo, c_hi, c_p, h in zip(q_lo, q_hi, q_path, [head] + [0] * (len(q_lo) - 1)):
                    for i in range(h, len(c_p)):
                        leaves.append({"path": c_p[i], "lo": c_lo[i].tolist(), "hi": c_hi[i].tolist(),
                                       "test": "unresolved", "data": {"why": "box budget spent"}})
                break
            nb = min(batch, len(q_path[0]) - head, max_boxes - evaluated)
            lo, hi = q_lo[0][head:head + nb], q_hi[0][head:head + nb]
            paths = q_path[0][head:head + nb]
            head += nb
            if head == len(q_path[0]):
                q_lo.pop(0), q_hi.pop(0), q_path.pop(0)
                head = 0
            pending -= nb
            evaluated += nb
            data = [None] * nb
            labels = [None] * nb
            rest = np.arange(nb)
            if symmetry:
                mask, sdata = S.outside_batch(bk, chart, lo, hi)
                for b in np.nonzero(mask)[0]:
                    labels[b], data[b] = S.LABEL, sdata[b]
                rest = np.nonzero(~mask)[0]
            if len(rest):
                c, d = _evaluate(ev, pool, workers, lo[rest], hi[rest])
                for k, b in enumerate(rest):
                    if c[k] >= 0:
                        labels[b], data[b] = TESTS[c[k]], d[k]
            split_dims = None
            widest = bisection_dims(chart, lo, hi)           # the depth-first search's rule (bnb)
            if split == "smear":
                und = np.array([b for b in range(nb) if labels[b] is None], dtype=int)
                split_dims = {}
                if len(und):
                    for b, dim in zip(und, _smear_dims(chart, loss, lo[und], hi[und])):
                        split_dims[b] = dim
            new_lo, new_hi, new_path = [], [], []
            for b in range(nb):
                if labels[b] is not None:
                    leaves.append({"path": paths[b], "lo": lo[b].tolist(), "hi": hi[b].tolist(),
                                   "test": labels[b], "data": data[b]})
                    continue
                w = hi[b] - lo[b]
                if w.max() < min_width:
                    leaves.append({"path": paths[b], "lo": lo[b].tolist(), "hi": hi[b].tolist(),
                                   "test": "unresolved", "data": {"why": "narrower than min_width"}})
                    continue
                dim = int(widest[b]) if split_dims is None else split_dims[b]
                s = split_point(lo[b, dim], hi[b, dim])
                l1, h1 = lo[b].copy(), hi[b].copy()
                h1[dim] = s
                l2, h2 = lo[b].copy(), hi[b].copy()
                l2[dim] = s
                new_lo += [l1, l2]
                new_hi += [h1, h2]
                new_path += [paths[b] + path_char(dim, 0), paths[b] + path_char(dim, 1)]
            if new_path:
                q_lo.append(np.array(new_lo))
                q_hi.append(np.array(new_hi))
                q_path.append(new_path)
                pending += len(new_path)
            if progress is not None:
                dt = time.perf_counter() - t0
                progress(pending, evaluated / dt if dt > 0 else 0.0)
    finally:
        if pool is not None:
            pool.shutdown()
    return leaves, evaluated


def leaf_volumes(domain, leaves) -> np.ndarray:
    """Volume of each leaf as a fraction of the chart's domain, in the coordinates' measure
    (the product of the widths over the domain's, ``tau`` included when it is a coordinate).

    ``domain`` is the chart or its ``(lo, hi)`` bounds."""
    dlo, dhi = domain.domain() if hasattr(domain, "domain") else domain
    dlo, dhi = np.asarray(dlo, float), np.asarray(dhi, float)
    if not leaves:
        return np.zeros(0)
    lo = np.array([l["lo"] for l in leaves])
    hi = np.array([l["hi"] for l in leaves])
    return np.prod((hi - lo) / (dhi - dlo), axis=1)


def volume_fractions(domain, leaves) -> dict:
    """Fraction of the domain per leaf label and ``"resolved"`` (every label but ``unresolved``);
    ``domain`` is the chart or its ``(lo, hi)`` bounds.

    The fractions sum to 1 up to rounding (the leaves tile the domain)."""
    vol = leaf_volumes(domain, leaves)
    out = {}
    for l, v in zip(leaves, vol):
        out[l["test"]] = out.get(l["test"], 0.0) + float(v)
    out["resolved"] = float(sum(v for t, v in out.items() if t != "unresolved"))
    return out


def _periodic_coords(chart):
    """Coordinates that are azimuths (a window of length 2 pi, identified at its ends)."""
    if getattr(chart, "kind", None) == "sphere3":
        return [it for _iu, it, _th in chart.columns()[2:] if it is not None]
    return list(range(chart.K - 2 + 1, chart.n_angles))


def cluster_boxes(chart, lo, hi, *, tol=1e-9):
    """Connected clusters of closed boxes (touching or overlapping, up to ``tol``; azimuths modulo ``2 pi``).

    Parameters
    ----------
    lo, hi : ndarray, shape (B, dim)

    Returns
    -------
    list of ndarray of int
        Box indices per cluster, largest cluster first.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    B = lo.shape[0]
    parent = np.arange(B)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    per = np.zeros(lo.shape[1], dtype=bool)
    per[_periodic_coords(chart)] = True
    dlo, dhi = chart.domain()
    period = (dhi - dlo)[: lo.shape[1]]                   # the boxes may omit the tau coordinate
    for start in range(0, B, 256):
        sl = slice(start, min(B, start + 256))
        a_lo, a_hi = lo[sl, None, :], hi[sl, None, :]
        per_coord = None                       # (rows, B, dim): the intervals meet in that coordinate
        for shift in (0.0, 1.0, -1.0):
            s = np.where(per, shift * period, 0.0)
            t = (a_lo <= hi[None, :, :] + s + tol) & (lo[None, :, :] + s <= a_hi + tol)
            per_coord = t if per_coord is None else per_coord | t
        touch = np.all(per_coord, axis=2)
        for i, j in zip(*np.nonzero(touch)):
            ri, rj = find(start + i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([find(i) for i in range(B)])
    groups = [np.nonzero(roots == r)[0] for r in np.unique(roots)]
    return sorted(groups, key=len, reverse=True)


def chart_points(chart, W, H):
    """Chart coordinates of ``(W, H)`` (columns in a 3-space of ``R^d``) and of its relabelled copies.

    For each permutation ``s`` of the classes (samples carried along, in order) the configuration
    ``w'_k = w_{s(k)}`` is rotated into the gauge of the rank-3 chart (``w_1 = e_1``, ``w_2`` in the
    half-plane ``z = 0, y >= 0``, ``w_3`` with ``z >= 0``) and its angle coordinates are returned.

    Returns
    -------
    list of (tuple, ndarray of shape (m,))
        ``(s, x)`` per class permutation.
    """
    W, H = np.asarray(W, float), np.asarray(H, float)
    K, n = chart.K, chart.n
    V = np.concatenate([W, H], axis=1)
    U, sv, _ = np.linalg.svd(V, full_matrices=False)
    V3 = U[:, :3].T @ V                                          # coordinates in a 3-space containing the columns
    out = []
    for s in itertools.permutations(range(K)):
        cols = list(s) + [K + s[j // n] * n + j % n for j in range(chart.N)]
        X = V3[:, cols]
        e1 = X[:, 0] / np.linalg.norm(X[:, 0])
        w2 = X[:, 1] - (X[:, 1] @ e1) * e1
        if np.linalg.norm(w2) < 1e-12:                            # w_2 = +-w_1: any direction orthogonal to e1
            w2 = np.linalg.svd(e1[None, :])[2][1]
        e2 = w2 / np.linalg.norm(w2)
        e3 = np.cross(e1, e2)
        R = np.stack([e1, e2, e3])
        Y = R @ X
        if Y[2, 2] < 0:
            Y[2] = -Y[2]
        x = np.zeros(chart.n_angles)
        for c, (iu, it, th) in enumerate(chart.columns()):
            v = Y[:, c]
            if iu is not None:
                x[iu] = math.asin(max(-1.0, min(1.0, v[2])))
            if it is not None:
                phi = math.atan2(v[1], v[0])
                x[it] = ((phi - math.pi * float(th)) + math.pi) % (2 * math.pi) - math.pi
        out.append((s, x))
    return out


def _coarsen(chart, un, limit):
    """Replace unresolved leaves by their ancestors at the deepest level with at most ``limit`` distinct
    ancestors (``(lo, hi, volume)`` arrays; the ancestors' volume is that of their unresolved leaves)."""
    from .bnb import path_step
    depth = min(len(l["path"]) for l in un)
    while depth > 0 and len({l["path"][:depth] for l in un}) > limit:
        depth -= 1
    dlo, dhi = chart.domain()
    vol = leaf_volumes(chart, un)
    groups = {}
    for l, v in zip(un, vol):
        groups[l["path"][:depth]] = groups.get(l["path"][:depth], 0.0) + float(v)
    lo, hi, vols = [], [], []
    for path, v in groups.items():
        a, b = dlo.copy(), dhi.copy()
        for ch in path:
            dim, side = path_step(ch)
            sp = split_point(a[dim], b[dim])
            if side == 0:
                b[dim] = sp
            else:
                a[dim] = sp
        lo.append(a)
        hi.append(b)
        vols.append(v)
    return np.array(lo), np.array(hi), np.array(vols), depth


def locate_unresolved(chart, leaves, points=(), *, max_clusters=20, limit=20_000):
    """The unresolved leaves in connected clusters, with the known critical points they contain.

    Parameters
    ----------
    chart : the proof's chart
    leaves : list of dict
        A proof's leaves.
    points : iterable of (str, W, H)
        Named configurations (e.g. the critical points of a search), columns in a 3-space; every
        relabelled copy (:func:`chart_points`) is located.
    max_clusters : int
        Clusters described (the largest by volume); the rest are counted.
    limit : int
        With more unresolved leaves than this, they are replaced by their ancestors at the deepest
        level of the tree with at most ``limit`` of them (the clustering is quadratic in the boxes).

    Returns
    -------
    dict
        ``{"boxes", "ancestor_depth", "clusters": [...], "more_clusters"}``; per cluster ``boxes`` (of
        the clustered boxes: leaves, or ancestors at ``ancestor_depth``), ``volume`` (fraction of the
        domain left unresolved in it), ``lo``/``hi`` (hull of its boxes, angle coordinates),
        ``center_deg`` (:meth:`~.chart.SphereChart.describe` of the hull's centre) and ``points``
        (``[name, class permutation]`` of every located copy).
    """
    un = [l for l in leaves if l["test"] == "unresolved"]
    m = chart.n_angles
    if not un:
        return {"boxes": 0, "ancestor_depth": None, "clusters": [], "more_clusters": 0}
    if len(un) > limit:
        lo, hi, vol, depth = _coarsen(chart, un, limit)
        lo, hi = lo[:, :m], hi[:, :m]
    else:
        lo = np.array([l["lo"][:m] for l in un])
        hi = np.array([l["hi"][:m] for l in un])
        vol, depth = leaf_volumes(chart, un), None
    groups = cluster_boxes(chart, lo, hi)
    located = [(name, s, x) for name, W, H in points for s, x in chart_points(chart, W, H)]
    out = []
    for g in sorted(groups, key=lambda g: -vol[g].sum()):
        glo, ghi = lo[g].min(axis=0), hi[g].max(axis=0)
        inside = []
        for name, s, x in located:
            if np.any(np.all((lo[g] - 1e-9 <= x) & (x <= hi[g] + 1e-9), axis=1)):
                inside.append([name, list(s)])
        out.append({"boxes": int(len(g)), "volume": float(vol[g].sum()), "lo": glo.tolist(), "hi": ghi.tolist(),
                    "center_deg": chart.describe(0.5 * (glo + ghi)), "points": inside})
    return {"boxes": len(un), "ancestor_depth": depth, "clusters": out[:max_clusters],
            "more_clusters": max(0, len(out) - max_clusters)}
