"""The critical-point search at scale, measured in one run (prints figures; asserts nothing).

Run: ``python benchmarks/bench_search.py [--quick] [--sizes 6,4,2 8,4,2] [--seeds 0 1 2] [--tau 2] [--only cost jax]
[--before PATH] [--cost-starts 4000]``.

1. ``rates``: at (6, 4, 2), tau = 2, the same uniform starts in ``R^6`` through the serial
   root-finder (``levenberg_marquardt`` + ``describe_point`` per start, what the search ran
   per start before batching) and through ``batched_levenberg_marquardt``; then the default
   search's own rate over a fixed number of starts (every source, descent runs included);
   wall and CPU seconds (the machine is shared: CPU seconds are the steadier figure);
2. ``saturation``: the default search (``n_starts=None``) at each size and seed (``--tau``, default 2): distinct
   points, starts used, last new point, seconds, Good-Turing estimate, the chance that a point as
   rare as the rarest found stayed unseen after the last new one, points per source
   that found them first, and across seeds the points one seed missed, with how often the
   others hit them;
3. ``distributed``: the default search at (6, 4, 2), seed 0, serial and with
   ``workers=2`` (a LocalCluster of 2 processes, start-up included), each in a fresh
   Python process: seconds, speed-up, and whether the results are identical.

4. ``cost``: starts per second of the default search (a fixed number of starts, every
   source, descent runs included) at (6, 4, 2), tau = 2 and (9, 5, 2), tau = 1.5, before
   (the package at commit d965b2b, extracted with ``git archive`` into a temporary folder,
   or the tree given by ``--before PATH``) and after (this tree), each in a fresh process
   with ``OPENBLAS_NUM_THREADS=1`` and with the default threads, numpy's BLAS kernels
   (threadpoolctl) printed beside each figure.  The process is warmed up by a short search
   first (imports, pymanopt's among them where the tree uses it), then timed: wall and CPU
   seconds (the machine is shared: CPU seconds are the steadier figure), before and after
   alternating three times, the best and the median ratio printed;
5. ``jax``: the batched Levenberg-Marquardt step -- loss quantities, the dense Riemannian
   Hessian from the closed-form blocks of problem (4), ``(A^2 + mu I) s = A g``, the
   retraction and the gradient norm at the trial point -- in numpy (the search's own
   functions) and in JAX (``jax.vmap`` + ``jax.jit``, float64, the same formulas) on the same
   batch of 128 starts, at every problem size ``(r, K, n)`` the search solves for the two
   sizes above: microseconds per start-iteration and the ratio numpy / JAX.  JAX is a
   benchmark dependency only (``pip install "nc-verify[bench]"``); with
   ``OPENBLAS_NUM_THREADS=1`` the process is pinned to one CPU so that XLA runs one thread too.

BLAS threads are left as the environment sets them (the search limits itself to one
thread for its small matrices); run once with ``OPENBLAS_NUM_THREADS=1`` to compare.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from nc_verify import UFMProblem, find_critical_points
from nc_verify.landscape.batched import batched_levenberg_marquardt
from nc_verify.landscape.newton import levenberg_marquardt
from nc_verify.landscape.points import describe_point, same_point
from nc_verify.landscape.search import LM_ITERATIONS

from _blas import blas_kernels  # noqa: E402  (benchmarks/ is on sys.path: these are scripts)

#: The commit measured as "before" by the cost section (the search before the batched descent).
BEFORE_COMMIT = "d965b2b"


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
                  f"Good-Turing {r.unseen_probability:.2g}, rarest-point miss {r.rarest_miss_probability:.2g}; "
                  f"first found by {r.contributions}", flush=True)
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


_COST = """
import os, sys, time
sys.path.insert(0, {bench!r})
from _blas import blas_kernels
import nc_verify
from nc_verify import UFMProblem, find_critical_points
p = UFMProblem({d}, {K}, {n}, {tau})
t = time.perf_counter()
find_critical_points(p, n_starts=300, seed=1, progress=False)       # imports and caches
warm = time.perf_counter() - t
t, c = time.perf_counter(), time.process_time()
r = find_critical_points(p, n_starts={starts}, seed=0, progress=False)
print(time.perf_counter() - t, time.process_time() - c, warm, r.n_starts, len(r.points), r.n_converged,
      os.getloadavg()[0], os.path.dirname(os.path.dirname(nc_verify.__file__)), "|", blas_kernels())
"""


def _before_tree(path, tmp):
    """The package tree measured as "before": ``path``, or commit BEFORE_COMMIT extracted into ``tmp``."""
    if path is not None:
        return os.path.abspath(path)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    archive = subprocess.run(["git", "-C", root, "archive", BEFORE_COMMIT, "nc_verify"], capture_output=True,
                             check=True).stdout
    os.makedirs(tmp)
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    return tmp


def bench_cost(sizes, n_starts: int, before, repeats: int):
    """Starts per second of the default search, before and after, one and default BLAS threads (fresh processes).

    Before and after alternate ``repeats`` times; the best and the median of each are printed (on a
    shared machine the best is the figure least disturbed by the other processes).
    """
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bench = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": _before_tree(before, os.path.join(tmp, "before")), "after": here}
        cwd = os.path.join(tmp, "run")          # an empty working directory (see below)
        os.makedirs(cwd)
        for size in sizes:
            d, K, n, tau = size
            for threads in ("1", None):
                runs = {label: [] for label in trees}
                for _ in range(repeats):
                    for label, tree in trees.items():
                        env = dict(os.environ, PYTHONPATH=tree)
                        env.pop("OPENBLAS_NUM_THREADS", None)
                        if threads is not None:
                            env["OPENBLAS_NUM_THREADS"] = threads
                        code = _COST.format(bench=bench, d=d, K=K, n=n, tau=tau, starts=n_starts)
                        # run in the temporary folder: "python -c" puts the working directory first on
                        # sys.path, which would import this tree's package in place of PYTHONPATH's
                        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                             check=True, cwd=cwd).stdout
                        figures, kernel = out.rsplit("|", 1)
                        wall, cpu, warm, starts, points, conv, load, imported = figures.split()
                        if os.path.realpath(imported) != os.path.realpath(tree):
                            raise RuntimeError(f"the {label} run imported nc_verify from {imported}, not {tree}")
                        runs[label].append((int(starts) / float(wall), int(starts) / float(cpu), float(load)))
                        print(f"cost {size} {label:6s} OPENBLAS_NUM_THREADS={threads or 'default'}: {starts} starts "
                              f"in {float(wall):.2f} s ({float(cpu):.2f} CPU s): {int(starts) / float(wall):.0f} "
                              f"starts/s ({int(starts) / float(cpu):.0f} per CPU s); {points} distinct, {conv} "
                              f"converged; warm-up {float(warm):.1f} s; load {float(load):.2f}; {kernel.strip()}",
                              flush=True)
                best = {k: (max(r[0] for r in v), max(r[1] for r in v)) for k, v in runs.items()}
                med = {k: (float(np.median([r[0] for r in v])), float(np.median([r[1] for r in v])))
                       for k, v in runs.items()}
                print(f"cost {size} OPENBLAS_NUM_THREADS={threads or 'default'}, {repeats} runs each: before "
                      f"{best['before'][0]:.0f} starts/s ({best['before'][1]:.0f} per CPU s), after "
                      f"{best['after'][0]:.0f} ({best['after'][1]:.0f}) at best; after / before "
                      f"{best['after'][0] / best['before'][0]:.2f}x ({best['after'][1] / best['before'][1]:.2f}x per "
                      f"CPU s) at best, {med['after'][0] / med['before'][0]:.2f}x "
                      f"({med['after'][1] / med['before'][1]:.2f}x) by the medians", flush=True)


def _jax_step(jax, jnp, r, K, n, tau):
    """The Levenberg-Marquardt step of the search for one start, in JAX (vmap over starts, jit): same formulas."""
    N = K * n
    Y = jnp.asarray(np.eye(K)[:, np.repeat(np.arange(K), n)])
    tw, th = K * (r - 1), N * (r - 1)

    def gradient(W, H):
        M = tau * W.T @ H
        P = jax.nn.softmax(M, axis=0)
        G = (P - Y) / N
        row, col = jnp.sum(M * G, axis=1), jnp.sum(M * G, axis=0)
        return P, G, row, col, tau * H @ G.T - W * row, tau * W @ G - H * col

    def step(W, H, mu):
        P, G, row, col, gW, gH = gradient(W, H)
        X = jnp.concatenate([W, H], axis=1)
        V = X.at[0].add(jnp.where(X[0] >= 0, 1.0, -1.0))                   # Householder vectors
        beta = 2.0 / jnp.sum(V * V, axis=0)
        U = jnp.eye(r)[None, :, 1:] - beta[:, None, None] * V.T[:, :, None] * V.T[:, None, 1:]
        UW, UH = U[:K], U[K:]
        g = jnp.einsum("cai,ac->ci", U, jnp.concatenate([gW, gH], axis=1)).reshape(-1)
        hess = (jax.vmap(jnp.diag, in_axes=1)(P) - jnp.einsum("kj,lj->jkl", P, P)) / N
        AW = jnp.einsum("kai,aj->kij", UW, H)
        BH = jnp.einsum("jai,ak->jik", UH, W)
        CH = BH @ hess
        WW = tau ** 2 * jnp.einsum("kaj,jkl,lbj->kalb", AW, hess, AW).reshape(tw, tw)
        WH = (tau * G[:, None, :, None] * jnp.einsum("kai,jaq->kijq", UW, UH)
              + tau ** 2 * jnp.einsum("kaj,jbk->kajb", AW, CH)).reshape(tw, th)
        HH = jax.scipy.linalg.block_diag(*(tau ** 2 * CH @ jnp.swapaxes(BH, -1, -2)))
        A = jnp.block([[WW, WH], [WH.T, HH]]) - jnp.diag(jnp.concatenate([jnp.repeat(row, r - 1),
                                                                          jnp.repeat(col, r - 1)]))
        s = jnp.linalg.solve(A @ A + mu * jnp.eye(tw + th), A @ g)
        X2 = X - jnp.einsum("cai,ci->ac", U, s.reshape(K + N, r - 1))
        X2 = X2 / jnp.linalg.norm(X2, axis=0)
        *_, gW2, gH2 = gradient(X2[:, :K], X2[:, K:])
        return X2[:, :K], X2[:, K:], jnp.sqrt(jnp.sum(gW2 ** 2) + jnp.sum(gH2 ** 2)), A

    return jax.jit(jax.vmap(step))


def _numpy_step(q, W, H, mu):
    """The same step with the search's functions (one Levenberg-Marquardt try of every start)."""
    from nc_verify.landscape import batched as bt

    m = bt.local_models(q, W, H)
    S, rhs = bt._lm_system(m, np.arange(W.shape[0]))
    W2, H2 = bt._retract(q, W, H, m.householder, bt._lm_step(S, rhs, mu))
    return W2, H2, bt.batched_gradient_norms(q, W2, H2), m.hessian


def bench_jax(sizes, batch: int = 128, reps: int = 20):
    """numpy / JAX per start-iteration of the batched Levenberg-Marquardt step, at the sizes the search solves."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print('jax: not installed; the JAX reference is skipped (pip install "nc-verify[bench]")')
        return
    from bench_products import thread_setting

    jax.config.update("jax_enable_x64", True)
    print(f"jax {jax.__version__}: {thread_setting()}; {blas_kernels()}")
    for d, K, n, tau in sizes:
        for r in sorted({*range(2, min(K, d) + 1), d}):
            q = UFMProblem(r, K, n, tau)
            rng = np.random.default_rng(0)
            pts = [q.random_point(rng) for _ in range(batch)]
            W, H = np.stack([w for w, _ in pts]), np.stack([h for _, h in pts])
            mu = np.full(batch, 1e-2)
            f = _jax_step(jax, jnp, r, K, n, tau)
            Wj, Hj, mu_j = (jax.device_put(a) for a in (W, H, mu))
            ref = jax.block_until_ready(f(Wj, Hj, mu_j))
            mine = _numpy_step(q, W.copy(), H.copy(), mu)
            agree = float(np.max(np.abs(np.asarray(ref[3]) - mine[3])) / np.max(np.abs(mine[3])))
            t = {}
            for name, run in (("numpy", lambda: _numpy_step(q, W.copy(), H.copy(), mu)),
                              ("jax", lambda: jax.block_until_ready(f(Wj, Hj, mu_j)))):
                run()
                time.sleep(0.1)
                c = time.process_time()
                for _ in range(reps):
                    run()
                t[name] = (time.process_time() - c) / reps / batch * 1e6
            print(f"jax step ({r},{K},{n}) tau={tau:g}, T={q.tangent_dimension}, {batch} starts: numpy "
                  f"{t['numpy']:.1f} us, JAX {t['jax']:.1f} us per start-iteration (CPU time); numpy / JAX "
                  f"{t['numpy'] / t['jax']:.2f}; Hessians agree to {agree:.1e} of max|A|", flush=True)


def _size(text):
    return tuple(int(v) for v in text.split(","))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer starts, sizes (5,3,1) and (6,4,1), one seed")
    ap.add_argument("--sizes", type=_size, nargs="+", default=None,
                    help="sizes d,K,n of the saturation table (default 5,3,1 6,4,1 5,3,2 6,4,2)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds of the saturation table (default 0 1 2)")
    ap.add_argument("--tau", type=float, default=2.0, help="temperature of the saturation table (default 2)")
    ap.add_argument("--only", choices=("rates", "saturation", "distributed", "cost", "jax"), nargs="+",
                    default=("rates", "saturation", "distributed", "cost", "jax"))
    ap.add_argument("--before", default=None,
                    help=f"package tree measured as 'before' by the cost section (default: commit {BEFORE_COMMIT})")
    ap.add_argument("--cost-starts", type=int, default=None, help="starts per timed search of the cost section "
                    "(default 4000, --quick 1000)")
    args = ap.parse_args(argv)
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, cpus {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.2f}; {blas_kernels()}")
    np.seterr(all="ignore")
    if "rates" in args.only:
        bench_rates(64 if args.quick else 256, 1000 if args.quick else 6000)
    if "saturation" in args.only:
        sizes = args.sizes or ([(5, 3, 1), (6, 4, 1)] if args.quick else [(5, 3, 1), (6, 4, 1), (5, 3, 2), (6, 4, 2)])
        bench_saturation(sizes, args.seeds or ([0] if args.quick else [0, 1, 2]), args.tau)
    if "distributed" in args.only:
        bench_distributed((5, 3, 2) if args.quick else (6, 4, 2), 0)
    cost_sizes = [(6, 4, 2, 2.0), (9, 5, 2, 1.5)]
    if "cost" in args.only:
        bench_cost(cost_sizes, args.cost_starts or (1000 if args.quick else 4000), args.before,
                   1 if args.quick else 3)
    if "jax" in args.only:
        bench_jax(cost_sizes)


if __name__ == "__main__":
    main()
