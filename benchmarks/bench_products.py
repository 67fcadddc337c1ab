"""Hessian products at the floor: the cached Riemannian HVP in ``W^T H`` products, against JAX-jit; the dense build.

Run: ``python benchmarks/bench_products.py [--quick]``, once with the default BLAS threads and
once with ``OPENBLAS_NUM_THREADS=1``.  Prints (asserts nothing), all ratios from one run:

1. the thread setting and numpy's BLAS kernels.  XLA sizes its thread pool from the CPUs
   the process may run on and ignores ``OPENBLAS_NUM_THREADS``, so with
   ``OPENBLAS_NUM_THREADS=1`` the process is pinned to one CPU (the idlest) before jax is
   imported: both columns then run on one thread;
2. at (d, K, n) = (512, 100, 50): best-of-repeats times, interleaved, of one ``W^T H``
   product, the cached :class:`~nc_verify.HessianOperator` product, its six products
   alone (the floor of the formula) and a JAX-jit (float64) version of the same formula
   fed the same cached point quantities, with ``E_H`` spelled as numpy computes it and as
   two products; all in units of ``W^T H`` products, and the ratio of the faster JAX
   spelling to numpy.  The JAX column is skipped with a message when jax is not
   installed (it is never a dependency);
3. at (100, 10, 5), the ETF (tangent dimension 5940; ``--quick``: (30, 5, 3)): seconds
   to build the dense Hessian from its closed-form blocks (best of 3) and from
   Hessian-vector products, and of scipy's ``eigh`` (driver ``evd``); blocks / eigh;
   the agreement ``max |blocks - products| / max |A|``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.linalg import eigh

from nc_verify import UFMProblem, hessian_matrix
from nc_verify.objective import families as F

from _blas import blas_kernels  # noqa: E402  (benchmarks/ is on sys.path: these are scripts)

#: Seconds to wait before timing the next method: OpenBLAS worker threads spin for
#: about 0.1 s after a product and would take a core from the next method's threads.
SETTLE = 0.3


def idlest_cpu(cpus) -> int:
    """The CPU of ``cpus`` idle longest over half a second (``/proc/stat``); the first where unreadable."""
    def idle():
        with open("/proc/stat") as f:
            return {int(x[0][3:]): int(x[4]) for x in map(str.split, f) if x[0][3:].isdigit()}

    try:
        before = idle()
        time.sleep(0.5)
        after = idle()
    except OSError:
        return min(cpus)
    return max(sorted(cpus), key=lambda c: after.get(c, 0) - before.get(c, 0))


def thread_setting() -> str:
    """Pin the process to one CPU when ``OPENBLAS_NUM_THREADS=1`` (for XLA); describe the setting."""
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    if not hasattr(os, "sched_setaffinity"):
        return f"OPENBLAS_NUM_THREADS={blas or 'default'}; {os.cpu_count()} CPUs (no affinity control: XLA uses all)"
    if blas == "1":
        os.sched_setaffinity(0, {idlest_cpu(os.sched_getaffinity(0))})
    cpus = sorted(os.sched_getaffinity(0))
    return (f"OPENBLAS_NUM_THREADS={blas or 'default'}; process on CPUs {cpus} of {os.cpu_count()}"
            + (" (pinned, so that XLA runs one thread too)" if blas == "1" else ""))


def jax_hvps(op):
    """The operator's formula in JAX (jit, float64) on its cached point quantities; None without jax.

    Returns two functions of ``(dW, dH)`` (JAX arrays) that block until the result is
    ready, by how ``E_H`` is spelled: ``[dW, W] [tau G; tau dG]`` as numpy computes it
    ("E_H one product") and ``dW tau G + W tau dG`` ("E_H two products"); XLA is faster
    with the first on one thread and with the second on two, so both are timed.
    """
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    p, s = op.problem, op.state
    tau2, N = p.tau ** 2, p.N
    point = [jax.device_put(a) for a in (op.W, op.H, op._tau_G, op._WtH, s._probs, s._dominant,
                                         s.row_curvature, s.col_curvature)]

    def hvp(stacked, dW, dH, W, H, tau_G, WtH, P, dom, row_c, col_c):
        # HessianOperator._products
        dWtH = dW.T @ H
        dM = W.T @ dH + dWtH
        D = dM - jnp.take_along_axis(dM, dom, axis=0)          # SoftmaxState.hvp
        tau_dG = tau2 * (P * (D - jnp.sum(D * P, axis=0))) / N
        EW = dH @ tau_G.T + H @ tau_dG.T
        if stacked:
            EH = jnp.concatenate([dW, W], axis=1) @ jnp.concatenate([tau_G, tau_dG], axis=0)
        else:
            EH = dW @ tau_G + W @ tau_dG
        # HessianOperator.__call__
        hW = EW - W * jnp.sum(W * EW, axis=0) - dW * row_c
        c = jnp.sum(dWtH * tau_G, axis=0) + jnp.sum(WtH * tau_dG, axis=0)
        return hW, EH - H * c - dH * col_c

    def compiled(stacked):
        f = jax.jit(lambda *args: hvp(stacked, *args))
        return lambda dW, dH: jax.block_until_ready(f(dW, dH, *point))

    return {"E_H one product": compiled(True), "E_H two products": compiled(False)}


def best_times(fns: dict, rounds: int, number: int) -> dict:
    """Best over ``rounds`` of the mean time of ``number`` calls of each function, interleaved (seconds)."""
    best = dict.fromkeys(fns, np.inf)
    for _ in range(rounds):                      # interleaved: a change of load hits every method alike
        for name, fn in fns.items():
            fn()
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / number)
            time.sleep(SETTLE)
    return best


def bench_hvp(rounds: int):
    p = UFMProblem(512, 100, 50, 1.0)
    rng = np.random.default_rng(0)
    W, H = p.random_point(rng)
    dW, dH = p.random_tangent(W, H, rng)
    op = p.hessian_operator(W, H)
    op(dW, dH)                                   # fills the operator's work arrays
    left, right = op._stacked(())
    K = p.K

    def floor():
        """The HVP's six products alone, at their shapes (no elementwise work)."""
        return (dW.T @ H, W.T @ dH, dH @ op._tau_G.T, H @ right[K:].T, left @ right)

    fns = {"W^T H": lambda: W.T @ H, "numpy HVP": lambda: op(dW, dH), "numpy, its six products alone": floor}
    jx = jax_hvps(op)
    if jx is None:
        print("jax not installed: JAX-jit column skipped (pip install jax to include it)")
    else:
        import jax

        jdW, jdH = jax.device_put(dW), jax.device_put(dH)
        ref = op(dW, dH)
        for name, f in jx.items():                      # the first call compiles, outside the timing
            err = max(np.max(np.abs(a - np.asarray(b))) for a, b in zip(ref, f(jdW, jdH)))
            print(f"JAX-jit, {name}, agrees with numpy to {err / max(np.max(np.abs(a)) for a in ref):.1e} (relative)")
            fns[f"JAX-jit, {name}"] = lambda f=f: f(jdW, jdH)
    t = best_times(fns, rounds, number=3)
    u = t["W^T H"]
    print(f"HVP at (512, 100, 50), best of {rounds} rounds, in W^T H products (W^T H {u * 1e3:.2f} ms):")
    for name, v in t.items():
        print(f"  {name:30s} {v * 1e3:7.1f} ms {v / u:6.2f}")
    jax_times = [v for k, v in t.items() if k.startswith("JAX")]
    if jax_times:
        print(f"  faster JAX / numpy {min(jax_times) / t['numpy HVP']:.2f}")


def bench_build(d: int, K: int, n: int):
    p = UFMProblem(d, K, n, 1.0)
    W, H = F.global_etf(p)
    blocks = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        A = hessian_matrix(p, W, H, method="blocks")
        blocks = min(blocks, time.perf_counter() - t0)
    t0 = time.perf_counter()
    R = hessian_matrix(p, W, H, method="products")
    products = time.perf_counter() - t0
    agree = np.max(np.abs(A - R)) / np.max(np.abs(R))
    del R                                        # not held while eigh runs
    t0 = time.perf_counter()
    ev = eigh(A, eigvals_only=True, driver="evd")
    t_eigh = time.perf_counter() - t0
    print(f"dense Hessian at ({d}, {K}, {n}), the ETF, T = {A.shape[0]}:")
    print(f"  blocks (best of 3)   {blocks:7.2f} s {blocks / t_eigh:6.1%} of eigh")
    print(f"  products             {products:7.2f} s {products / t_eigh:6.1%} of eigh")
    print(f"  eigh (scipy, evd)    {t_eigh:7.2f} s")
    print(f"  max |blocks - products| / max |A| {agree:.1e}; lambda_min {ev[0]:.1e}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats; the dense build at (30, 5, 3)")
    args = ap.parse_args(argv)
    print(thread_setting())
    print(blas_kernels())
    bench_hvp(rounds=3 if args.quick else 15)
    bench_build(*((30, 5, 3) if args.quick else (100, 10, 5)))


if __name__ == "__main__":
    main()
