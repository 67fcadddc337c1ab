"""How the distributed search scales with workers: a measured serial run replayed on k simulated workers.

Run: ``python benchmarks/bench_cluster.py [--size 6,4,2,2] [--starts N] [--workers 1 2 4 8 16 32] [--measure K]``.

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
3. ``--measure K``: the real search with ``workers=K`` beside the serial run of step 1 (same
   seed and stopping rule), twice: a LocalCluster started by the search (start-up and close
   included), and a warm cluster started before, passed as ``scheduler=`` (a
   ``distributed.Client``); each with its wall and CPU seconds (this process, and the workers)
   and whether the result is the serial one, start by start.  One line gives the ratios.

The machine is shared: say how loaded it was (``uptime``) with the figures.
"""

from __future__ import annotations

import argparse
import heapq
import os
import resource
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


def _cpu():
    """CPU seconds of this process and of its finished children (a LocalCluster's workers, once closed)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime, b.ru_utime + b.ru_stime


def _process_time():
    return time.process_time()


def _same(a, b) -> bool:
    """The results agree start by start: discovery curve, counts, descent costs, points."""
    return (np.array_equal(a.discovery, b.discovery) and a.n_converged == b.n_converged
            and np.array_equal(a.descent_costs, b.descent_costs) and len(a.points) == len(b.points)
            and all(p.cost == q.cost and p.hits == q.hits and p.sources == q.sources
                    and all(np.array_equal(x, y) for x, y in zip(p.point, q.point))
                    for p, q in zip(a.points, b.points)))


def measure(problem, n_starts, k, serial, serial_s, serial_cpu):
    """``workers=k`` (a LocalCluster of the search's own) and a warm cluster of ``k`` workers, against the serial run."""
    import distributed

    from nc_verify.utils.cluster import local_cluster

    load = os.getloadavg()[0]
    c0, t0 = _cpu(), time.perf_counter()
    cold = S.find_critical_points(problem, n_starts=n_starts, seed=0, progress=False, workers=k)
    cold_s, c1 = time.perf_counter() - t0, _cpu()
    with local_cluster(k) as cluster, distributed.Client(cluster) as client:
        client.run(S.find_critical_points, problem, n_starts=50, seed=1, progress=False)   # imports, caches
        w0, m0, t0 = client.run(_process_time), _cpu()[0], time.perf_counter()
        warm = S.find_critical_points(problem, n_starts=n_starts, seed=0, progress=False, scheduler=client)
        warm_s, m1, w1 = time.perf_counter() - t0, _cpu()[0], client.run(_process_time)
    same = _same(serial, cold) and _same(serial, warm)
    print(f"workers={k}, started by the search: {cold_s:.1f} s (CPU {c1[0] - c0[0]:.1f} s here + "
          f"{c1[1] - c0[1]:.1f} s workers); warm cluster: {warm_s:.1f} s (CPU {m1 - m0:.1f} s here + "
          f"{sum(w1.values()) - sum(w0.values()):.1f} s workers)")
    print(f"speed-up search {problem!r}, {serial.n_starts} starts: serial {serial_s:.1f} s (CPU {serial_cpu:.1f} s), "
          f"workers={k} {cold_s:.1f} s: {serial_s / cold_s:.2f}x (start-up included), warm cluster {warm_s:.1f} s: "
          f"{serial_s / warm_s:.2f}x; identical results: {same}; load {load:.2f} -> {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="6,4,2,2", help="d,K,n,tau")
    parser.add_argument("--starts", type=int, default=None, help="starts (default: until saturated)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--measure", type=int, nargs="?", const=2, default=None, metavar="K",
                        help="also run workers=K (default 2) for real, started by the search and warm")
    args = parser.parse_args(argv)
    d, K, n, tau = args.size.split(",")
    problem = UFMProblem(int(d), int(K), int(n), float(tau))
    print(f"{blas_kernels()}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
          f"load {os.getloadavg()[0]:.1f}")
    S.find_critical_points(problem, n_starts=50, seed=1, progress=False)      # imports and caches
    cpu = time.process_time()
    result, total, batches = timed_serial(problem, args.starts)
    cpu = time.process_time() - cpu
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
        measure(problem, args.starts, args.measure, result, total, cpu)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
