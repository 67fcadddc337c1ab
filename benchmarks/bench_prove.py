"""Landscape prover runs: status, boxes per discard test, prover and checker times.

Usage::

    PYTHONPATH=. python benchmarks/bench_prove.py [--quick] [--out docs/prover_runs/results.json]

Writes a JSON record and a Markdown table next to it (same name, ``.md``).  ``--quick`` runs
only the (2, 1) cases.  ``--speedup N`` instead times one case serially and with ``workers=N``
(checking that the leaves are identical) and writes ``speedup.json`` next to ``--out``, with the
load average at the start (on a shared machine the ratio is only as good as the idle cores).
``--tau-pieces K N`` proves (K, n) (``TAU_PIECES``: (2, 1) over [0.05, 100], (2, 2) over
[0.05, 30]) in pieces (``prove_tau_pieces``, box budget 3 000 000 per piece), re-checks and
assembles them (``check_tau_pieces``, ``--workers`` processes),
probes pieces at larger tau, and writes ``tau_pieces_K_N.json``/``.md`` next to ``--out``.  Every proved case is re-verified with ``check_landscape_proof`` from
the saved file (not-proved runs only when they have <= 50 000 leaves).  Times are wall-clock seconds on the machine that ran it (one process).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time

import numpy as np

from nc_verify.certify.prover import PlantedWellLoss, check_landscape_proof, prove_landscape
from nc_verify.certify.prover.chart import PlanarChart


def _planted():
    ch = PlanarChart(2, 1, 1.0, 1.0)
    W0, H0 = ch.to_matrices(np.array([-math.pi / 2, 0.4, -0.5]))
    return PlantedWellLoss(W0.T @ H0, beta=0.2, sigma=0.05)


# (label, K, n, tau, d, loss, max_boxes, min_width, note)
CASES = [
    ("(2,1) tau=0.5", 2, 1, 0.5, None, "cross_entropy", 10**6, 1e-7, "Theorem 2"),
    ("(2,1) tau=1", 2, 1, 1.0, None, "cross_entropy", 10**6, 1e-7, "Theorem 2"),
    ("(2,1) tau=1.9", 2, 1, 1.9, None, "cross_entropy", 10**6, 1e-7, "Theorem 2"),
    ("(2,1) tau=5", 2, 1, 5.0, None, "cross_entropy", 10**6, 1e-7,
     "conjecture at d=3,4 (tau >= 2(d-2)); Theorem 2 for d >= 5"),
    ("(2,1) tau in [0.5,1.9]", 2, 1, (0.5, 1.9), None, "cross_entropy", 10**6, 1e-7, "Theorem 2"),
    ("(2,1) tau=1 label smoothing 0.1", 2, 1, 1.0, None, "label_smoothing:0.1", 10**6, 1e-7, "beyond the paper (LS)"),
    ("(2,1) tau=1 focal gamma=2", 2, 1, 1.0, None, "focal:2", 10**6, 1e-7, "beyond the paper (focal)"),
    ("(2,1) d=2 tau=1 [control]", 2, 1, 1.0, 2, "cross_entropy", 10**6, 1e-3, "d=K: conjecture false; must fail"),
    ("(2,1) d=2 planted minimum [control]", 2, 1, 1.0, 2, "planted", 10**6, 1e-3, "must fail at the plant"),
    ("(2,2) tau=1", 2, 2, 1.0, None, "cross_entropy", 10**6, 1e-7, "Theorem 2"),
    ("(2,2) tau=5", 2, 2, 5.0, None, "cross_entropy", 3 * 10**6, 1e-7, "conjecture at d=3,4"),
    ("(2,3) tau=1", 2, 3, 1.0, None, "cross_entropy", 3 * 10**6, 1e-7, "Theorem 2"),
    ("(3,1) tau=1 rank<=2 stratum", 3, 1, 1.0, None, "cross_entropy:rank<=2", 10**6, 1e-7,
     "stratum only (columns in a 2-plane), every d>=3: not the theorem"),
    ("(3,1) tau=5 rank<=2 stratum", 3, 1, 5.0, None, "cross_entropy:rank<=2", 10**6, 1e-7,
     "stratum only, every d>=3"),
    ("(3,1) tau=1 rank<=2 stratum focal gamma=2", 3, 1, 1.0, None, "focal:2:rank<=2", 10**6, 1e-7,
     "stratum only, focal"),
    ("(3,1) tau=1 rank-3 chart", 3, 1, 1.0, None, "cross_entropy", 2 * 10**5, 1e-7,
     "every d>=4: the whole problem; box budget spent"),
    ("(3,1) tau=1 d=3 rank-3 chart", 3, 1, 1.0, 3, "cross_entropy", 10**5, 1e-7,
     "d=K: conjecture case, no normal block; box budget spent"),
    ("(3,1) d=2 tau=1", 3, 1, 1.0, 2, "cross_entropy", 3 * 10**5, 1e-3, "d=2<K: conjecture case, planar only"),
]


def speedup(workers, out, case=(2, 3, 1.0)):
    """Serial vs ``workers``-process run of one case: times, ratio, identical leaves."""
    K, n, tau = case
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t = time.perf_counter()
    a = prove_landscape(K, n, tau)
    ts = time.perf_counter() - t
    t = time.perf_counter()
    b = prove_landscape(K, n, tau, workers=workers)
    tp = time.perf_counter() - t
    rec = {"case": f"({K},{n}) tau={tau:g}", "evaluated": a.counts["evaluated"], "serial_s": round(ts, 2),
           "workers": workers, "parallel_s": round(tp, 2), "speedup": round(ts / tp, 2),
           "identical_leaves": a.leaves == b.leaves, "cpu_count": os.cpu_count(),
           "load_average_1min_at_start": load, "date": time.strftime("%Y-%m-%d %H:%M")}
    print(json.dumps(rec))
    with open(out, "w") as fh:
        json.dump(rec, fh, indent=1)
    return rec


TAU_PIECES = {  # (K, n): breakpoints (decimals, read exactly)
    (2, 1): ["0.05", "0.5", "1.9", "5", "10", "20", "30", "40", "50", "60", "70", "80", "90", "100"],
    (2, 2): ["0.05", "0.5", "1.9", "5", "10", "15", "20", "30"],
}
TAU_PROBES = {(2, 1): [("100", "110"), ("200", "210"), ("340", "350")]}   # beyond the range: how the cost grows


def tau_pieces(K, n, out, max_boxes, workers=None):
    """Prove (K, n), every d >= 3, over the range of ``TAU_PIECES`` in pieces, re-check and assemble
    them; then probe the pieces of ``TAU_PROBES`` (numpy layer only) within the same box budget."""
    from nc_verify.certify.prover import check_tau_pieces, prove_tau_pieces

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        proofs = prove_tau_pieces(K, n, TAU_PIECES[(K, n)], out_dir=tmp, max_boxes=max_boxes,
                                  progress=lambda i, p: print(f"piece {i}: {p.tau_exact} {p.status} "
                                                              f"{p.counts} {p.seconds:.1f} s", flush=True))
        files = sorted(os.path.join(tmp, f) for f in os.listdir(tmp))
        t = time.perf_counter()
        assembled = check_tau_pieces(files, workers=workers)
        check_s = time.perf_counter() - t
        for f, p, c in zip(files, proofs, assembled.pieces):
            rows.append({"tau": p.tau_exact, "status": p.status, "counts": p.counts, "prove_s": round(p.seconds, 2),
                         "check": c.status, "check_s": round(c.seconds, 2),
                         "file_MB": round(os.path.getsize(f) / 2**20, 2)})
    probes = []
    for lo, hi in TAU_PROBES.get((K, n), []):
        p = prove_landscape(K, n, (lo, hi), max_boxes=max_boxes)
        probes.append({"tau": p.tau_exact, "status": p.status, "counts": p.counts, "prove_s": round(p.seconds, 2)})
        print(json.dumps(probes[-1]), flush=True)
    rec = {"case": f"({K},{n}) every d>=3, cross_entropy", "assembled": assembled.message,
           "assembled_status": assembled.status, "assemble_check_s": round(check_s, 2), "check_workers": workers,
           "max_boxes": max_boxes,
           "pieces": rows, "probes": probes, "load_average_1min_at_start": load, "cpu_count": os.cpu_count(),
           "machine": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M")}
    print(assembled.message)
    with open(out + ".json", "w") as fh:
        json.dump(rec, fh, indent=1)
    bp = TAU_PIECES[(K, n)]
    md = [f"# ({K}, {n}), every d >= 3, every tau in [{bp[0]}, {bp[-1]}], in pieces", "",
          f"{assembled.message} (assembly and re-check {check_s:.0f} s with {workers or 1} process(es); 1-minute load average "
          f"{load} on {os.cpu_count()} cores at the start; box budget {max_boxes} per piece).", "",
          "| tau | status | evaluated | gradient | saddle in-plane | saddle normal | ETF convex | unresolved | "
          "prove s | check | check s | file MB |", "|" + "---|" * 12]
    for r in rows + [dict(q, check="-", check_s="-", file_MB="-") for q in probes]:
        c = r["counts"]
        md.append(f"| [{', '.join(r['tau'])}] | {r['status']} | {c['evaluated']} | {c['gradient']} | "
                  f"{c['saddle_inplane']} | {c['saddle_normal']} | {c['etf_convex']} | {c['unresolved']} | "
                  f"{r['prove_s']} | {r['check']} | {r['check_s']} | {r['file_MB']} |")
    if probes:
        md += ["", "The last rows are probes beyond the range (not part of the assembled proof)."]
    with open(out + ".md", "w") as fh:
        fh.write("\n".join(md) + "\n")
    return rec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="docs/prover_runs/results.json")
    ap.add_argument("--speedup", type=int, default=0, metavar="N",
                    help="time (2,3) tau=1 serially and with workers=N instead of the case table")
    ap.add_argument("--tau-pieces", type=int, nargs=2, metavar=("K", "N"), default=None,
                    help=f"prove (K, n) in {sorted(TAU_PIECES)} over its tau range in checked pieces and assemble them")
    ap.add_argument("--workers", type=int, default=None,
                    help="with --tau-pieces: processes re-checking the pieces at once (check_tau_pieces)")
    args = ap.parse_args(argv)
    if args.tau_pieces:
        K, n = args.tau_pieces
        if (K, n) not in TAU_PIECES:
            ap.error(f"--tau-pieces: no breakpoints for ({K}, {n}); known: {sorted(TAU_PIECES)}")
        return tau_pieces(K, n, os.path.join(os.path.dirname(args.out) or ".", f"tau_pieces_{K}_{n}"), 3 * 10**6,
                          workers=args.workers)
    if args.speedup:
        return speedup(args.speedup, os.path.join(os.path.dirname(args.out) or ".", "speedup.json"))
    rows = []
    cases = [c for c in CASES if not args.quick or c[0].startswith("(2,1)")]
    with tempfile.TemporaryDirectory() as tmp:
        for label, K, n, tau, d, loss, mb, mw, note in cases:
            loss, _, stratum = loss.partition(":rank")
            stratum = "rank" + stratum if stratum else "all"
            lossobj = _planted() if loss == "planted" else loss
            p = prove_landscape(K, n, tau, d=d, loss=lossobj, max_boxes=mb, min_width=mw, _stratum=stratum)
            row = {"case": label, "K": K, "n": n, "tau": tau, "d": (f"every d>={K + 1 if stratum == 'all' else 3}" if d is None else d),
                   "loss": p.loss, "status": p.status, "stratum": p.stratum, "counts": p.counts, "prove_s": round(p.seconds, 2),
                   "note": note}
            if loss != "planted" and (p.counts["unresolved"] == 0 or len(p.leaves) <= 50_000):
                path = os.path.join(tmp, "p.json")
                p.save(path)
                row["file_MB"] = round(os.path.getsize(path) / 2**20, 2)
                r = check_landscape_proof(path)
                row["check"] = r.status
                row["check_s"] = round(r.seconds, 2)
            if p.unresolved:
                keys = list(p.unresolved[0]["center_angles_deg"])
                ang = np.array([sum((u["center_angles_deg"][k] for k in keys), []) for u in p.unresolved])
                row["unresolved_angle_range_deg"] = {"min": ang.min(0).round(3).tolist(),
                                                     "max": ang.max(0).round(3).tolist(),
                                                     "columns": " then ".join(keys) + " of the columns"}
            rows.append(row)
            print(json.dumps(row), flush=True)
    rec = {"machine": platform.platform(), "python": sys.version.split()[0], "date": time.strftime("%Y-%m-%d"),
           "rows": rows}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(rec, fh, indent=1)
    md = ["| case | d | status | stratum | evaluated | gradient | saddle in-plane | saddle normal | ETF convex | "
          "unresolved | prove s | check | check s | note |", "|" + "---|" * 14]
    for r in rows:
        c = r["counts"]
        md.append(f"| {r['case']} | {r['d']} | {r['status']} | {r['stratum']} | {c['evaluated']} | {c['gradient']} | "
                  f"{c['saddle_inplane']} | {c['saddle_normal']} | {c['etf_convex']} | {c['unresolved']} | "
                  f"{r['prove_s']} | {r.get('check', '-')} | {r.get('check_s', '-')} | {r['note']} |")
    with open(os.path.splitext(args.out)[0] + ".md", "w") as fh:
        fh.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
