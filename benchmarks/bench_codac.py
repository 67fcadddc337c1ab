"""codac beside nc-verify's prover on the same critical-point system (K = 2, planar chart).

Usage::

    PYTHONPATH=. python benchmarks/bench_codac.py [--eps 0.01] [--seconds 60] [--out docs/prover_runs/codac.json]

The system is the chart gradient ``g(x) = 0`` of the K = 2 planar chart (``docs/prover.md``;
``x = (a_2, t_1, ..., t_N)``, ``g[a_2] = -tau sum_j G_2j s_2j``, ``g[t_j] = tau sum_k G_kj s_kj`` with
``G = (softmax(tau cos(alpha - phi)) - Y) / N``) on the chart's domain, at ``tau = 1``.  Three runs
per case, each bounded by ``--seconds``:

``codac``
    ``CtcInverse(g, 0)`` (forward-backward contraction plus codac's centred form) in the loop of
    codac's ``pave(x0, ctc, eps)``: encloses the solution set in boxes narrower than ``eps``.
``nc-verify exclusion``
    nc-verify's numpy branch and bound (``bnb.evaluate_boxes``) with only its gradient exclusion
    counted as a discard, bisecting the rest down to the same width ``eps``: the part of the prover
    that is comparable to a paver (it still evaluates the classification tests on every box, so
    its boxes per second understate the exclusion alone).
``nc-verify prover``
    ``prove_landscape`` (exclusion and classification: every critical point a global minimiser or
    a strict saddle), which stops bisecting where a box is classified.

On this system the solution set is not finite: where ``w_1 = w_2`` (``a_2 = -pi``) every ``h`` with
``sum_j +- sin(phi_j) = 0`` is critical (a continuum, Lemma 3's stratum), so a paver's box count
grows like ``eps^-(N-1)`` there; the prover classifies those boxes as saddles instead.

Prints the figures with ``uptime`` and numpy's BLAS kernel; codac is a benchmark-only dependency
(``pip install "nc-verify[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _blas import blas_kernels  # noqa: E402

from nc_verify.certify.prover import prove_landscape  # noqa: E402
from nc_verify.certify.prover import enclosures as E  # noqa: E402
from nc_verify.certify.prover.bnb import evaluate_boxes, split_point  # noqa: E402
from nc_verify.certify.prover.chart import PlanarChart  # noqa: E402
from nc_verify.certify.prover.intervals import NUMPY, point  # noqa: E402

CASES = [(2, 1, 1.0), (2, 2, 1.0)]


def _codac():
    try:
        import codac
    except ImportError:
        raise SystemExit('bench_codac needs codac (benchmark only): pip install "nc-verify[bench]"') from None
    return codac


def codac_gradient(C, chart):
    """The chart gradient as a codac ``AnalyticFunction`` of ``x`` (K = 2), and its variable."""
    K, N, tau = chart.K, chart.N, chart.tau_lo
    if K != 2:
        raise ValueError("the codac system is written for K = 2")
    x = C.VectorVar(K - 1 + N)
    labels = [int(y) for y in chart.labels]

    def diff(k, j):                       # alpha_k - phi_j (alpha_1 = 0, alpha_2 = pi + a_2, phi_j = pi y_j + t_j)
        a = 0.0 if k == 0 else math.pi + x[0]
        return a - ((math.pi if labels[j] else 0.0) + x[K - 1 + j])

    ga, gt = 0, []
    for j in range(N):
        y, o = labels[j], 1 - labels[j]
        c = {k: C.cos(diff(k, j)) for k in (0, 1)}
        s = {k: C.sin(diff(k, j)) for k in (0, 1)}
        p_o = 1.0 / (1.0 + C.exp(tau * (c[y] - c[o])))       # softmax probability of the other class
        G = {o: p_o / N, y: -p_o / N}
        gt.append(tau * (G[0] * s[0] + G[1] * s[1]))
        ga = ga + G[1] * s[1]
    return C.AnalyticFunction([x], C.vec(-tau * ga, *gt))


def _same_system(C, f, chart, rng):
    """Largest difference between codac's function and nc-verify's chart gradient at random points."""
    err = 0.0
    for _ in range(5):
        z = rng.uniform(*chart.domain())
        cv = f.eval(C.Vector(list(z)))
        Q = E.quantities(NUMPY, chart, [point(v) for v in z], point(chart.tau_lo), E.prover_loss("cross_entropy"))
        ours = np.array([float(g.mid()) for g in E.gradient(chart, Q, E.prover_loss("cross_entropy"))])
        theirs = np.array([cv[i].mid() for i in range(len(ours))])
        err = max(err, float(np.max(np.abs(ours - theirs))))
    return err


def run_codac(C, chart, eps, seconds):
    """codac's contractor in the loop of its ``pave``: contract a box; drop it if empty, keep it as a
    solution box if narrower than ``eps``, else bisect it at the middle of its widest side (the loop
    is written here, in Python, so that it stops at the time limit; one contraction costs far more
    than the loop)."""
    f = codac_gradient(C, chart)
    ctc = C.CtcInverse(f, [0.0] * chart.n_angles)
    lo, hi = chart.domain()
    stack = [C.IntervalVector([[float(a), float(b)] for a, b in zip(lo, hi)])]
    boxes = sol = 0
    finished = True
    t = time.perf_counter()
    while stack:
        if time.perf_counter() - t > seconds:
            finished = False
            break
        x = ctc.contract(stack.pop())
        boxes += 1
        if x.is_empty():
            continue
        if x.max_diam() < eps:
            sol += 1
            continue
        left, right = x.bisect(x.max_diam_index(), 0.5)
        stack += [right, left]
    dt = time.perf_counter() - t
    return {"seconds": round(dt, 3), "boxes": boxes, "boxes_per_s": round(boxes / dt), "solution_boxes": sol,
            "finished": finished, "gradient_agreement": _same_system(C, f, chart, np.random.default_rng(0))}


def run_exclusion(chart, eps, seconds, batch=2048):
    """nc-verify's numpy layer as a paver: boxes whose gradient test passes are discarded, the rest
    bisected (widest coordinate) until narrower than ``eps``."""
    loss = E.prover_loss("cross_entropy")
    lo, hi = chart.domain()
    st_lo, st_hi = [lo], [hi]
    boxes = sol = 0
    t = time.perf_counter()
    finished = True
    while st_lo:
        if time.perf_counter() - t > seconds:
            finished = False
            break
        nb = min(batch, len(st_lo))
        blo, bhi = np.array(st_lo[-nb:]), np.array(st_hi[-nb:])
        del st_lo[-nb:], st_hi[-nb:]
        codes, _ = evaluate_boxes(chart, loss, blo, bhi, allow_normal=True)
        boxes += nb
        for b in np.nonzero(codes != 0)[0]:
            w = bhi[b] - blo[b]
            if w.max() < eps:
                sol += 1
                continue
            d = int(np.argmax(w))
            s = split_point(blo[b, d], bhi[b, d])
            l2, h1 = blo[b].copy(), bhi[b].copy()
            h1[d], l2[d] = s, s
            st_lo += [l2, blo[b]]
            st_hi += [bhi[b], h1]
    dt = time.perf_counter() - t
    return {"seconds": round(dt, 3), "boxes": boxes, "boxes_per_s": round(boxes / dt), "solution_boxes": sol,
            "finished": finished}


def run_prover(K, n, tau):
    p = prove_landscape(K, n, tau, max_boxes=10**6)
    return {"seconds": round(p.seconds, 3), "boxes": p.counts["evaluated"],
            "boxes_per_s": round(p.counts["evaluated"] / p.seconds), "status": p.status, "counts": p.counts}


def _uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"load average {os.getloadavg()}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eps", type=float, default=0.01, help="box width to which both pavers enclose the solutions")
    ap.add_argument("--seconds", type=float, default=60.0, help="time limit of each run")
    ap.add_argument("--out", default=None, help="write the figures as JSON")
    args = ap.parse_args(argv)
    C = _codac()
    head = {"uptime": _uptime(), "blas": blas_kernels(), "codac": C.version.__version__ if hasattr(C.version, "__version__")
            else str(getattr(C, "__version__", "?")), "eps": args.eps, "seconds_limit": args.seconds,
            "cpu_count": os.cpu_count(), "machine": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M")}
    print(json.dumps(head))
    rows = []
    for K, n, tau in CASES:
        chart = PlanarChart(K, n, tau, tau)
        row = {"case": f"({K},{n}) tau={tau:g}", "dim": chart.n_angles}
        row["codac"] = run_codac(C, chart, args.eps, args.seconds)
        time.sleep(1.0)
        row["nc_exclusion"] = run_exclusion(chart, args.eps, args.seconds)
        time.sleep(1.0)
        row["nc_prover"] = run_prover(K, n, tau)
        row["uptime_after"] = _uptime()
        print(json.dumps(row), flush=True)
        rows.append(row)
    print(f"{'case':14s} {'method':22s} {'boxes':>9s} {'boxes/s':>9s} {'seconds':>8s}  result")
    for r in rows:
        for key, name in (("codac", "codac pave"), ("nc_exclusion", "nc-verify exclusion"),
                          ("nc_prover", "nc-verify prover")):
            v = r[key]
            res = (f"{v['solution_boxes']} solution boxes" + ("" if v["finished"] else " (time limit)")
                   if key != "nc_prover" else f"{v['status']} (classified)")
            print(f"{r['case']:14s} {name:22s} {v['boxes']:9d} {v['boxes_per_s']:9d} {v['seconds']:8.2f}  {res}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({**head, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
