"""Speed of the hand-written derivatives against pymanopt's autograd backend, and time to the bound.

Run: ``python benchmarks/bench_derivatives.py [--quick]``. Prints, per size (d, K, n):
best-of-repeats times of the Riemannian gradient and Riemannian Hessian-vector product
(HVP) for the autograd backend, the analytic backend through pymanopt, and the cached
``UFMProblem.hessian_operator``; their ratios; and the cached HVP in units of one
``W^T H`` product measured in the same run. Then the time for trust regions and
steepest descent to reach the Theorem 1 bound. All ratios come from one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nc_verify import UFMProblem, solve


def best_time(fn, repeats: int, number: int) -> float:
    """Best over ``repeats`` of the mean time of ``number`` calls (seconds)."""
    fn()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    time.sleep(0.2)  # let BLAS threads settle before the next method
    return best


def bench_size(d, K, n, repeats, number):
    p = UFMProblem(d, K, n, 1.0)
    rng = np.random.default_rng(0)
    W, H = p.random_point(rng)
    dW, dH = p.random_tangent(W, H, rng)
    x, v = [W, H], [dW, dH]
    auto = p.to_pymanopt("autograd")
    ana = p.to_pymanopt("analytic")
    op = p.hessian_operator(W, H)
    number_auto = max(1, number // 10) if d >= 512 else number
    t = {
        "grad autograd": best_time(lambda: auto.riemannian_gradient(x), repeats, number_auto),
        "grad analytic": best_time(lambda: p.riemannian_gradient(W, H), repeats, number),
        "hvp autograd": best_time(lambda: auto.riemannian_hessian(x, v), repeats, number_auto),
        "hvp analytic (pymanopt)": best_time(lambda: ana.riemannian_hessian(x, v), repeats, number),
        "hvp cached operator": best_time(lambda: op(dW, dH), repeats, number),
        "W^T H product": best_time(lambda: W.T @ H, repeats, number),
    }
    print(f"\n(d, K, n) = ({d}, {K}, {n}); N = {p.N}; tangent dimension {p.tangent_dimension}")
    for k, s in t.items():
        print(f"  {k:26s} {s * 1e3:10.3f} ms")
    print(f"  ratio gradient autograd / analytic        {t['grad autograd'] / t['grad analytic']:8.1f}x")
    print(f"  ratio HVP autograd / cached operator      {t['hvp autograd'] / t['hvp cached operator']:8.1f}x")
    print(f"  ratio HVP autograd / analytic (pymanopt)  {t['hvp autograd'] / t['hvp analytic (pymanopt)']:8.1f}x")
    print(f"  cached HVP / one W^T H product            {t['hvp cached operator'] / t['W^T H product']:8.2f}")
    return t


def bench_time_to_bound(d, K, n, seeds):
    p = UFMProblem(d, K, n, 1.0)
    print(f"\ntime to the bound at (d, K, n) = ({d}, {K}, {n}), tau = 1, {len(seeds)} random starts")
    for opt, tol in (("trust_regions", 1e-10), ("steepest_descent", 1e-8)):
        times, its, gaps = [], [], []
        for s in seeds:
            t0 = time.perf_counter()
            r = solve(p, opt, seed=s, gradient_tol=tol, max_iterations=20000)
            times.append(time.perf_counter() - t0)
            its.append(r.iterations)
            gaps.append(r.cost - p.bound)
        print(f"  {opt:17s} median {np.median(times) * 1e3:8.1f} ms, iterations {int(np.median(its))}, "
              f"max gap {max(gaps):.1e} (gradient tol {tol:g})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only, few repeats")
    args = ap.parse_args(argv)
    sizes = [(20, 5, 3), (100, 10, 5)] + ([] if args.quick else [(512, 100, 50)])
    for d, K, n in sizes:
        bench_size(d, K, n, repeats=3 if args.quick else 5, number=20 if d < 512 else 10)
    bench_time_to_bound(100, 10, 5, seeds=range(3 if args.quick else 5))


if __name__ == "__main__":
    main()
