"""The critical-point search at scale, measured in one run (prints figures; asserts nothing).

Run: ``python benchmarks/bench_search.py [--quick] [--sizes 6,4,2 8,4,2] [--seeds 0 1 2]``.

1. ``rates``: at (6, 4, 2), tau = 2, the same uniform starts in ``R^6`` through the serial
   root-finder (``levenberg_marquardt`` + ``describe_point`` per start, what the search ran
   per start before batching) and through ``batched_levenberg_marquardt``; then the default
   search's own rate over a fixed number of starts (every source, descent runs included);
   wall and CPU seconds (the machine is shared: CPU seconds are the steadier figure);
2. ``saturation``: the default search (``n_starts=None``) at each size and seed: distinct
   points, starts used, last new point, seconds, Good-Turing estimate, points per source
   that found them first, and across seeds the points one seed missed, with how often the
   others hit them;
3. ``distributed``: the default search at (6, 4, 2), seed 0, serial and with
   ``workers=2`` (a LocalCluster of 2 processes, start-up included), each in a fresh
   Python process: seconds, speed-up, and whether the results are identical.

BLAS threads are left as the environment sets them (the search limits itself to one
thread for its small matrices); run once with ``OPENBLAS_NUM_THREADS=1`` to compare.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from nc_verify import UFMProblem, find_critical_points
from nc_verify.landscape.batched import batched_levenberg_marquardt
from nc_verify.landscape.newton import levenberg_marquardt
from nc_verify.landscape.points import describe_point, same_point
from nc_verify.landscape.search import LM_ITERATIONS


def _clock():
    return time.perf_counter(), time.process_time()


def _since(t):
    return time.perf_counter() - t[0], time.process_time() - t[1]


def bench_rates(n_uniform: int, n_search: int):
    p = UFMProblem(6, 4, 2, 2.0)
    rng = np.random.default_rng(0)
    pts = [p.random_point(rng) for _ in range(n_uniform)]
    W, H = np.stack([w for w, _ in pts]), np.stack([h for _, h in pts])
    t = _clock()
    for x in pts:
        describe_point(p, *levenberg_marquardt(p, *x, max_iterations=LM_ITERATIONS)[:2])
    ws, cs = _since(t)
    t = _clock()
    res = batched_levenberg_marquardt(p, W, H, max_iterations=LM_ITERATIONS)
    wb, cb = _since(t)
    print(f"rates (6,4,2) tau=2, {n_uniform} uniform starts in R^6: serial {n_uniform / ws:.0f} starts/s "
          f"({n_uniform / cs:.0f} per CPU s), batched {n_uniform / wb:.0f} starts/s ({n_uniform / cb:.0f} per CPU s), "
          f"{cs / cb:.1f}x per CPU s; converged {int(res.converged.sum())}/{n_uniform}")
    find_critical_points(p, n_starts=200, seed=1, progress=False)         # imports and caches
    t = _clock()
    r = find_critical_points(p, n_starts=n_search, seed=0, progress=False)
    w, c = _since(t)
    print(f"rates (6,4,2) tau=2, default search, {r.n_starts} starts (every source, descent runs included): "
          f"{r.n_starts / w:.0f} starts/s ({r.n_starts / c:.0f} per CPU s), {len(r.points)} distinct points")


def bench_saturation(sizes, seeds, tau: float):
    for size in sizes:
        runs = []
        for seed in seeds:
            t = _clock()
            r = find_critical_points(UFMProblem(*size, tau), seed=seed, progress=False)
            w, c = _since(t)
            runs.append(r)
            print(f"saturation {size} tau={tau:g} seed {seed}: {len(r.points)} distinct, saturated {r.saturated}, "
                  f"{r.n_starts} starts, last new at {r.last_new_point_at}, {w:.1f} s ({c:.1f} CPU s), "
                  f"Good-Turing {r.unseen_probability:.2g}; first found by {r.contributions}", flush=True)
        for i, r in enumerate(runs):
            for q in (q for j, o in enumerate(runs) if j != i for q in o.points):
                if not any(same_point(q, x) for x in r.points):
                    others = [o for j, o in enumerate(runs) if j != i]
                    hits = [next((x.hits for x in o.points if same_point(q, x)), 0) for o in others]
                    conv = [o.n_converged for o in others]
                    print(f"  seed {seeds[i]} missed cost {q.cost:.10f} (lambda_min {q.invariants['hessian'][0]:+.3f}): "
                          f"hit {hits} times in {conv} converged starts by the other seeds; sources {q.sources}")


_RUN = """
import sys, time, hashlib
import numpy as np
from nc_verify import UFMProblem, find_critical_points
if __name__ == "__main__":
    t = time.perf_counter()
    r = find_critical_points(UFMProblem({d}, {K}, {n}, 2.0), seed={seed}, progress=False, workers={workers})
    wall = time.perf_counter() - t
    h = hashlib.sha256(np.asarray(r.discovery).tobytes() + repr([(q.cost, q.hits) for q in r.points]).encode())
    print(wall, r.n_starts, len(r.points), h.hexdigest())
"""


def bench_distributed(size, seed: int):
    """Serial and ``workers=2``, each in a fresh Python process (both pay their imports, as a user's script does)."""
    import pathlib
    import subprocess
    import sys
    import tempfile

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (None, 2):
            script = pathlib.Path(tmp) / f"run_{workers}.py"
            script.write_text(_RUN.format(d=size[0], K=size[1], n=size[2], seed=seed, workers=workers))
            t = time.perf_counter()
            res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
            total = time.perf_counter() - t
            wall, starts, points, digest = res.stdout.split()
            out[workers] = (float(wall), total, int(starts), int(points), digest)
    (ws, ts, starts, points, ds), (wd, td, _, _, dd) = out[None], out[2]
    print(f"distributed {size} seed {seed}, fresh processes: serial {ws:.1f} s ({ts:.1f} s with the imports), "
          f"workers=2 {wd:.1f} s ({td:.1f} s; LocalCluster start-up included), speed-up {ws / wd:.2f}x "
          f"({ts / td:.2f}x with the imports), {starts} starts, {points} distinct; identical {ds == dd}")


def _size(text):
    return tuple(int(v) for v in text.split(","))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer starts, sizes (5,3,1) and (6,4,1), one seed")
    ap.add_argument("--sizes", type=_size, nargs="+", default=None,
                    help="sizes d,K,n of the saturation table (default 5,3,1 6,4,1 5,3,2 6,4,2)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds of the saturation table (default 0 1 2)")
    ap.add_argument("--only", choices=("rates", "saturation", "distributed"), nargs="+",
                    default=("rates", "saturation", "distributed"))
    args = ap.parse_args(argv)
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, cpus {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.2f}")
    np.seterr(all="ignore")
    if "rates" in args.only:
        bench_rates(64 if args.quick else 256, 1000 if args.quick else 6000)
    if "saturation" in args.only:
        sizes = args.sizes or ([(5, 3, 1), (6, 4, 1)] if args.quick else [(5, 3, 1), (6, 4, 1), (5, 3, 2), (6, 4, 2)])
        bench_saturation(sizes, args.seeds or ([0] if args.quick else [0, 1, 2]), 2.0)
    if "distributed" in args.only:
        bench_distributed((5, 3, 2) if args.quick else (6, 4, 2), 0)


if __name__ == "__main__":
    main()
