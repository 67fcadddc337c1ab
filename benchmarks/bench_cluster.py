"""How the distributed search scales with workers: a measured serial run replayed on k simulated workers.

Run: ``python benchmarks/bench_cluster.py [--size 6,4,2,2] [--starts N] [--workers 1 2 4 8 16 32] [--measure]``.

1. A serial search (``find_critical_points``, seed 0, ``N`` starts; default: until
   saturated) with every batch timed: its compute seconds (``_run_task``) and the merge
   that follows it (the gap until the next batch starts: deduplication, snapshots, the
   saturation test), in merge order.
2. The same batches replayed on ``k`` simulated workers by the search's own schedule:
   batches are submitted in merge order, at most ``2 W`` not yet merged
   (``W = WINDOW_PER_WORKER k``), each explore batch only after the round before it was
   merged (it reads that round's snapshot), every batch on the first free worker, and the
   merges one after another in order on the client.  The replay prints the predicted
   seconds and speed-up for each ``k``, and the bound the serial merge sets
   (``total / merge seconds``).  It leaves out what a real cluster adds: start-up,
   shipping points, and the workers' own slower CPU (measured below).
3. ``--measure``: the real search with ``workers=2`` (LocalCluster, start-up included) beside
   the serial one, each timed in this process, with whether the results agree.

The machine is shared: say how loaded it was (``uptime``) with the figures.
"""

from __future__ import annotations

import argparse
import heapq
import os
import time

import numpy as np

import nc_verify.landscape.search as S
from nc_verify import UFMProblem

from _blas import blas_kernels  # noqa: E402  (benchmarks/ is on sys.path: these are scripts)


def timed_serial(problem, n_starts, seed=0):
    """A serial search with per-batch (source, round, compute s, merge s) in merge order."""
    log = []
    run = S._run_task

    def timed(p, task, *args):
        t0 = time.perf_counter()
        if log and log[-1][4] is None:                      # the gap since the last batch ended: its merge
            log[-1][4] = t0 - log[-1][5]
        out = run(p, task, *args)
        t1 = time.perf_counter()
        log.append([task.source, task.key[0], task.key[1], t1 - t0, None, t1])
        return out

    S._run_task = timed
    try:
        t0 = time.perf_counter()
        result = S.find_critical_points(problem, n_starts=n_starts, seed=seed, progress=False)
        total = time.perf_counter() - t0
    finally:
        S._run_task = run
    if log and log[-1][4] is None:
        log[-1][4] = t0 + total - log[-1][5]
    return result, total, [(s, r, j, c, m) for s, r, j, c, m, _ in log]


def replay(batches, k: int) -> float:
    """Predicted seconds of the batches on ``k`` workers under the search's schedule (module docstring)."""
    window = S.WINDOW_PER_WORKER * k
    n = len(batches)
    closes = {}                                  # round -> index of its last batch (its merge opens the next explores)
    for i, (_, r, _, _, _) in enumerate(batches):
        closes[r] = i
    free = [0.0] * k                             # heap of worker free times
    heapq.heapify(free)
    done = [0.0] * n
    merged = [0.0] * n
    submitted_at = 0.0
    for i, (source, r, _, compute, merge) in enumerate(batches):
        ready = submitted_at
        if i >= 2 * window:                      # at most 2 W batches not yet merged
            ready = max(ready, merged[i - 2 * window])
        if source == "explore" and r - 1 in closes:
            ready = max(ready, merged[closes[r - 1]])
        start = max(ready, heapq.heappop(free))
        done[i] = start + compute
        heapq.heappush(free, done[i])
        submitted_at = ready
        merged[i] = max(done[i], merged[i - 1] if i else 0.0) + merge
    return merged[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="6,4,2,2", help="d,K,n,tau")
    parser.add_argument("--starts", type=int, default=None, help="starts (default: until saturated)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--measure", action="store_true", help="also run workers=2 for real")
    args = parser.parse_args(argv)
    d, K, n, tau = args.size.split(",")
    problem = UFMProblem(int(d), int(K), int(n), float(tau))
    print(f"{blas_kernels()}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
          f"load {os.getloadavg()[0]:.1f}")
    S.find_critical_points(problem, n_starts=50, seed=1, progress=False)      # imports and caches
    result, total, batches = timed_serial(problem, args.starts)
    compute = sum(b[3] for b in batches)
    merge = sum(b[4] for b in batches)
    print(f"serial {problem!r}: {result.n_starts} starts, {len(result.points)} points, {len(batches)} batches, "
          f"{total:.1f} s = compute {compute:.1f} s + merge {merge:.1f} s + other {total - compute - merge:.1f} s")
    print(f"bound set by the serial merge: {total / max(merge, 1e-9):.1f}x")
    print("workers  predicted s  speed-up")
    for k in args.workers:
        t = replay(batches, k)
        print(f"{k:7d}  {t:11.1f}  {total / t:8.2f}")
    if args.measure:
        t0 = time.perf_counter()
        serial = S.find_critical_points(problem, n_starts=result.n_starts, seed=0, progress=False)
        ts = time.perf_counter() - t0
        t0 = time.perf_counter()
        dist = S.find_critical_points(problem, n_starts=result.n_starts, seed=0, progress=False, workers=2)
        td = time.perf_counter() - t0
        same = np.array_equal(serial.discovery, dist.discovery) and len(serial.points) == len(dist.points)
        print(f"measured: serial {ts:.1f} s, workers=2 {td:.1f} s (start-up included): {ts / td:.2f}x; "
              f"identical results: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
