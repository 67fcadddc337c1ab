"""Landscape prover runs: status, boxes per discard test, prover and checker times.

Usage::

    PYTHONPATH=. python benchmarks/bench_prove.py [--quick] [--out docs/prover_runs/results.json]

Writes a JSON record and a Markdown table next to it (same name, ``.md``).  ``--quick`` runs
only the (2, 1) cases.  ``--speedup N`` instead times the cases of ``SPEEDUP_CASES`` serially and with ``workers=N``
(checking that the leaves are identical), prints one ratio line per case and writes
``speedup.json`` next to ``--out``, with the wall and CPU seconds and the load average (on a
shared machine the ratio is only as good as the idle cores).
``--tau-pieces K N`` proves (K, n) (``TAU_PIECES``: (2, 1) and (2, 2) over [0.05, 100]) in pieces (``prove_tau_pieces``, box budget 3 000 000 per piece), re-checks and
assembles them (``check_tau_pieces``, ``--workers`` processes),
probes pieces at larger tau, and writes ``tau_pieces_K_N.json``/``.md`` next to ``--out``.
``--d2`` proves the weak form "no spurious local minimum" at d = 2 (``D2_CASES``; ``--quick``: the
cases under a minute) and writes ``d2_weak.json``/``.md`` next to ``--out``.  Every proved case is re-verified with ``check_landscape_proof`` from
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
    ("(2,1) d=2 tau=1 [control]", 2, 1, 1.0, 2, "cross_entropy:strict", 10**6, 1e-3,
     "d=K: strict-saddle form false; must fail (weak form: d2_weak.md)"),
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


#: The cases of ``--speedup``: (label, K, n, tau, d, max_boxes); the second ends on its box budget.
SPEEDUP_CASES = [("(2,3) tau=1", 2, 3, 1.0, None, 3 * 10**6),
                 ("(3,1) tau=1 rank-3 chart, 2e5 boxes", 3, 1, 1.0, None, 2 * 10**5)]


def _cpu():
    """CPU seconds of this process and of its finished children (the pool's workers, once shut down)."""
    import resource

    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime, b.ru_utime + b.ru_stime


def speedup(workers, out, cases=SPEEDUP_CASES):
    """Serial vs ``workers``-process run of each case: wall and CPU seconds, the ratio, identical leaves.

    Prints one line per case (``speed-up ...: R x``) and writes the records to ``out``.  The
    ratio is wall-clock, only as good as the idle cores: the load average (1 minute, at the
    start and the end) and the CPU seconds are printed beside it.
    """
    from _blas import blas_kernels

    print(f"{blas_kernels()}; {os.cpu_count()} CPUs; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    prove_landscape(2, 1, 1.0)                                   # imports and caches, off the clock
    recs = []
    for label, K, n, tau, d, max_boxes in cases:
        load = os.getloadavg()[0]
        runs = []
        for w in (None, workers):
            c0, t = _cpu(), time.perf_counter()
            p = prove_landscape(K, n, tau, d=d, max_boxes=max_boxes, workers=w)
            wall, c1 = time.perf_counter() - t, _cpu()
            runs.append((p, wall, c1[0] - c0[0], c1[1] - c0[1]))
        (a, ts, cs, _), (b, tp, cp, cw) = runs
        rec = {"case": label, "evaluated": a.counts["evaluated"], "status": a.status, "serial_s": round(ts, 2),
               "serial_cpu_s": round(cs, 2), "workers": workers, "parallel_s": round(tp, 2),
               "parallel_cpu_s": {"main": round(cp, 2), "workers": round(cw, 2)}, "speedup": round(ts / tp, 2),
               "identical_leaves": a.leaves == b.leaves and a.counts == b.counts, "cpu_count": os.cpu_count(),
               "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
               "date": time.strftime("%Y-%m-%d %H:%M")}
        recs.append(rec)
        print(f"speed-up {label}: serial {ts:.2f} s, workers={workers} {tp:.2f} s: {ts / tp:.2f}x; CPU serial "
              f"{cs:.2f} s, parallel {cp:.2f} s main + {cw:.2f} s workers; identical leaves: "
              f"{rec['identical_leaves']}; load {load:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
    with open(out, "w") as fh:
        json.dump({"blas": blas_kernels(), "runs": recs}, fh, indent=1)
    return recs


# d = 2, the weak form (label, K, n, tau, max_boxes, quick)
D2_CASES = [
    ("(2,1) tau=1", 2, 1, 1.0, 10**6, True),
    ("(2,1) tau=5", 2, 1, 5.0, 10**6, True),
    ("(2,1) tau in [0.5,1.9]", 2, 1, ("0.5", "1.9"), 10**6, True),
    ("(2,2) tau=1", 2, 2, 1.0, 10**6, True),
    ("(2,2) tau=2", 2, 2, 2.0, 10**6, True),
    ("(2,2) tau in [0.5,1.9]", 2, 2, ("0.5", "1.9"), 10**6, False),
    ("(2,3) tau=1", 2, 3, 1.0, 3 * 10**6, False),
    ("(3,1) tau=1", 3, 1, 1.0, 3 * 10**5, False),
]


def d2_weak(out, quick):
    """Prove ``D2_CASES`` (d = 2, cross-entropy, weak form), re-check each proved case from its file."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, K, n, tau, mb, is_quick in D2_CASES:
            if quick and not is_quick:
                continue
            p = prove_landscape(K, n, tau, d=2, max_boxes=mb, min_width=1e-7 if K == 2 else 1e-3)
            row = {"case": label, "form": p.form, "status": p.status, "counts": p.counts,
                   "prove_s": round(p.seconds, 2)}
            if p.status == "proved":
                path = os.path.join(tmp, "p.json")
                p.save(path)
                r = check_landscape_proof(path)
                row.update(check=r.status, check_s=round(r.seconds, 2), file_MB=round(os.path.getsize(path) / 2**20, 2))
            rows.append(row)
            print(json.dumps(row), flush=True)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    rec = {"rows": rows, "load_average_1min_at_start": load, "cpu_count": os.cpu_count(),
           "machine": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M")}
    with open(out + ".json", "w") as fh:
        json.dump(rec, fh, indent=1)
    md = ["# d = 2, cross-entropy: no spurious local minimum (the weak form)", "",
          f"`python benchmarks/bench_prove.py --d2` (1-minute load average {load:.1f} on {os.cpu_count()} cores at the "
          "start; one process). Lemmas W1-W4 of `docs/prover.md`.", "",
          "| case | form | status | evaluated | gradient | saddle in-plane | ETF convex | continuum | unresolved | "
          "prove s | check | check s |", "|" + "---|" * 12]
    for r in rows:
        c = r["counts"]
        md.append(f"| {r['case']} | {r['form']} | {r['status']} | {c['evaluated']} | {c['gradient']} | "
                  f"{c['saddle_inplane']} | {c['etf_convex']} | {c['continuum']} | {c['unresolved']} | "
                  f"{r['prove_s']} | {r.get('check', '-')} | {r.get('check_s', '-')} |")
    with open(out + ".md", "w") as fh:
        fh.write("\n".join(md) + "\n")
    return rec


TAU_PIECES = {  # (K, n): breakpoints (decimals, read exactly)
    (2, 1): ["0.05", "0.5", "1.9", "5", "10", "20", "30", "40", "50", "60", "70", "80", "90", "100"],
    (2, 2): ["0.05", "0.5", "1.9", "5", "10", "15", "20", "30", "36", "41", "46", "50", "54", "57", "60", "63", "66",
             "69", "72", "75", "77", "79", "81", "83", "85", "87", "89", "91", "93", "95", "97", "99", "100"],
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
                    help="time SPEEDUP_CASES serially and with workers=N instead of the case table")
    ap.add_argument("--tau-pieces", type=int, nargs=2, metavar=("K", "N"), default=None,
                    help=f"prove (K, n) in {sorted(TAU_PIECES)} over its tau range in checked pieces and assemble them")
    ap.add_argument("--d2", action="store_true", help="prove the d = 2 weak form cases (D2_CASES) instead")
    ap.add_argument("--workers", type=int, default=None,
                    help="with --tau-pieces: processes re-checking the pieces at once (check_tau_pieces)")
    args = ap.parse_args(argv)
    if args.d2:
        return d2_weak(os.path.join(os.path.dirname(args.out) or ".", "d2_weak"), args.quick)
    if args.tau_pieces:
        K, n = args.tau_pieces
        if (K, n) not in TAU_PIECES:
            ap.error(f"--tau-pieces: no breakpoints for ({K}, {n}); known: {sorted(TAU_PIECES)}")
        return tau_pieces(K, n, os.path.join(os.path.dirname(args.out) or ".", f"tau_pieces_{K}_{n}"), 3 * 10**6,
                          workers=args.workers)
    if args.speedup:
        speedup(args.speedup, os.path.join(os.path.dirname(args.out) or ".", "speedup.json"))
        return 0
    rows = []
    cases = [c for c in CASES if not args.quick or c[0].startswith("(2,1)")]
    with tempfile.TemporaryDirectory() as tmp:
        for label, K, n, tau, d, loss, mb, mw, note in cases:
            loss, strict, loss_ = loss.partition(":strict")
            loss = loss + loss_
            loss, _, stratum = loss.partition(":rank")
            stratum = "rank" + stratum if stratum else "all"
            lossobj = _planted() if loss == "planted" else loss
            p = prove_landscape(K, n, tau, d=d, loss=lossobj, max_boxes=mb, min_width=mw, _stratum=stratum,
                                form="strict saddle" if strict else None)
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
    md += ["", "d = 2 in the weak form (no spurious local minimum, `continuum` leaves): `d2_weak.md` (`--d2`)."]
    with open(os.path.splitext(args.out)[0] + ".md", "w") as fh:
        fh.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
