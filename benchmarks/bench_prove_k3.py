"""K = 3 on the rank-3 chart: how much of the domain a box budget proves, and where the rest is.

Usage::

    PYTHONPATH=. python benchmarks/bench_prove_k3.py [--boxes N] [--d 3] [--tau T | --tau-interval LO HI]
        [--workers W] [--check] [--starts S] [--split widest|smear] [--save FILE.json]
        [--out docs/prover_runs/k3_tau1.json]

Runs ``prove_landscape(3, 1, tau, d=..., order="breadth", symmetry=True, split="smear", max_boxes=N)`` (``d``
omitted: every ``d >= 4``; with ``--tau-interval`` the temperature is the interval ``(LO, HI)``, decimal
strings enclosed outwards, and the critical points are searched at its midpoint), prints the fraction of the chart's domain proved per discard test,
searches the critical points of ``UFMProblem(3, 3, 1, tau)`` (``find_critical_points``, ``S`` starts,
seed 0), and groups the unresolved boxes into connected clusters with the critical points (every
relabelled copy) each contains.  Writes a JSON record and a Markdown summary (same name, ``.md``),
with the load average at the start and the end.  ``--check`` re-verifies the proof
(``check_landscape_proof``: batches with arb function values, flint where a batch cannot confirm)
from a saved file, in a temporary directory unless ``--save FILE.json`` keeps it (the proof of
(3, 1) at tau = 1 has 3.3 million leaves, 1.45 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

from nc_verify import UFMProblem
from nc_verify.certify.prover import check_landscape_proof, prove_landscape
from nc_verify.certify.prover.frontier import locate_unresolved
from nc_verify.certify.prover.proof import _setup


def critical_points(tau, starts):
    from nc_verify.landscape.search import find_critical_points
    s = find_critical_points(UFMProblem(3, 3, 1, tau), n_starts=starts, seed=0, progress=False)
    out = []
    for i, p in enumerate(sorted(s.points, key=lambda q: q.cost)):
        ev = np.asarray(p.invariants["hessian"])
        name = f"P{i} (f={p.cost:.4f}, lambda_min={ev.min():.3f}{', continuum' if p.continuum else ''})"
        out.append((name, p.point[0], p.point[1]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--boxes", type=int, default=300_000)
    ap.add_argument("--d", type=int, default=None)
    ap.add_argument("--tau", type=float, default=1.0)
    ap.add_argument("--tau-interval", nargs=2, default=None, metavar=("LO", "HI"),
                    help="prove for every tau in [LO, HI] (decimal strings, enclosed outwards)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--starts", type=int, default=400)
    ap.add_argument("--split", choices=("widest", "smear"), default="smear")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--save", default=None, metavar="FILE.json",
                    help="keep the proof file there (re-check it later with nc-verify prove --check FILE.json)")
    ap.add_argument("--out", default="docs/prover_runs/k3_tau1.json")
    a = ap.parse_args(argv)
    load0 = os.getloadavg()
    tau = tuple(a.tau_interval) if a.tau_interval else a.tau
    label = f"tau in [{a.tau_interval[0]}, {a.tau_interval[1]}]" if a.tau_interval else f"tau={a.tau:g}"
    if a.tau_interval:
        a.tau = 0.5 * (float(a.tau_interval[0]) + float(a.tau_interval[1]))   # where the points are searched
    p = prove_landscape(3, 1, tau, d=a.d, max_boxes=a.boxes, order="breadth", symmetry=True, split=a.split,
                        workers=a.workers)
    vf = p.volume_fractions()
    rec = {"case": f"(3,1) {label} " + ("every d>=4" if a.d is None else f"d={a.d}"),
           "status": p.status, "counts": p.counts, "seconds": round(p.seconds, 1),
           "volume_fractions": vf, "max_boxes": a.boxes}
    if a.save:
        p.save(a.save)
    if a.check:
        with tempfile.TemporaryDirectory() as td:
            f = a.save or os.path.join(td, "proof.json")
            if not a.save:
                p.save(f)
            c = check_landscape_proof(f)
        rec["check"] = {"status": c.status, "message": c.message, "seconds": round(c.seconds, 1), "method": c.method}
    t0 = time.perf_counter()
    pts = critical_points(a.tau, a.starts) if a.starts else []
    rec["critical_points"] = [name for name, _, _ in pts]
    rec["search_seconds"] = round(time.perf_counter() - t0, 1)
    chart = _setup(3, 1, tau, a.d, "cross_entropy").chart
    rec["unresolved"] = locate_unresolved(chart, p.leaves, pts)
    rec["load_average"] = {"start": load0, "end": os.getloadavg()}
    rec["machine"] = platform.platform()
    with open(a.out, "w") as fh:
        json.dump(rec, fh, indent=1)
    lines = [f"# {rec['case']}: {p.status}, breadth first with the symmetry quotient, split {a.split}", "",
             f"{p.counts['evaluated']} boxes, {rec['seconds']} s (load average {load0[0]:.1f} at the start, "
             f"{rec['load_average']['end'][0]:.1f} at the end, 2 cores)", "",
             "| label | leaves | fraction of the domain |", "|---|---|---|"]
    for k, v in sorted(vf.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {k} | {p.counts.get(k, '')} | {100 * v:.3f} % |")
    if "check" in rec:
        lines += ["", f"check: {rec['check']['message']} ({rec['check']['seconds']} s)"]
    u = rec["unresolved"]
    lines += ["", f"Unresolved: {u['boxes']} boxes in {len(u['clusters']) + u['more_clusters']} connected clusters "
              "(azimuths modulo 2 pi); the largest by volume:", "",
              "| boxes | fraction of the domain | critical points inside (class permutation) |", "|---|---|---|"]
    for c in u["clusters"]:
        names = [n for n, _s in c["points"]]
        pts_in = "; ".join(f"{n.split(' ')[0]} x{names.count(n)}" for n in dict.fromkeys(names)) or "-"
        lines.append(f"| {c['boxes']} | {100 * c['volume']:.3f} % | {pts_in} |")
    lines += ["", "(`Pi xc`: c of the six relabelled copies of critical point Pi lie in the cluster.)"]
    lines += ["", f"Critical points of UFMProblem(3, 3, 1, {a.tau:g}) ({a.starts} starts, seed 0, "
              f"{rec['search_seconds']} s): " + ", ".join(rec["critical_points"])]
    with open(os.path.splitext(a.out)[0] + ".md", "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
