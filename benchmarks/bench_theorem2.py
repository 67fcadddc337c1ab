"""Theorem 2 tooling timings, measured in one run (prints figures; asserts nothing).

1. full Hessian spectrum at (d, K, n) = (100, 10, 5) (tangent dimension 5940): build vs eigh;
2. lambda_min by Lanczos at (512, 100, 50) (tangent dimension ~2.6 million): time, products;
3. verify_theorem2(8, 4, 2, 2.0) with 200 starts, end to end;
4. the default (adaptive) critical-point search at (5, 3, 1) and (6, 4, 1), tau = 1 and 2:
   starts and seconds until saturated, distinct points found.
"""

import time

import numpy as np

from nc_verify import UFMProblem, find_critical_points, hessian_matrix, min_hessian_eigenpair, verify_theorem2
from nc_verify.objective import families as F
from scipy.linalg import eigh


def main():
    p = UFMProblem(100, 10, 5, 1.0)
    W, H = F.global_etf(p)
    t0 = time.perf_counter()
    A = hessian_matrix(p, W, H)
    t1 = time.perf_counter()
    ev = eigh(A, eigvals_only=True, driver="evd")
    t2 = time.perf_counter()
    print(f"spectrum (100,10,5) T={A.shape[0]}: build {t1 - t0:.2f} s, eigh {t2 - t1:.2f} s, "
          f"lambda_min {ev[0]:.2e}, first positive {ev[855]:.3e}")

    p = UFMProblem(512, 100, 50, 1.0)
    for name, build in (("global_etf", F.global_etf), ("cross_polytope", F.cross_polytope)):
        W, H = build(p)
        t0 = time.perf_counter()
        lam, _, info = min_hessian_eigenpair(p, W, H, method="lanczos", rng=0, full_output=True)
        dt = time.perf_counter() - t0
        print(f"lanczos (512,100,50) T={p.tangent_dimension} at {name}: {dt:.2f} s, "
              f"{info['products']} products, lambda_min {lam:.4e}, residual {info['residual']:.1e}")

    t0 = time.perf_counter()
    rep = verify_theorem2(8, 4, 2, 2.0, n_starts=200, seed=0, progress=False)
    print(f"verify_theorem2(8,4,2,2.0) 200 starts: {time.perf_counter() - t0:.1f} s, verdict {rep.verdict}, "
          f"{len(rep.critical_points)} distinct points, saturated {rep.saturated}")

    for d, K, n, tau in ((5, 3, 1, 1.0), (6, 4, 1, 1.0), (6, 4, 1, 2.0)):
        r = find_critical_points(UFMProblem(d, K, n, tau), seed=0, progress=False)
        print(f"default search ({d},{K},{n},{tau:g}): saturated {r.saturated} after {r.n_starts} starts, "
              f"{r.elapsed:.1f} s, {len(r.points)} distinct points, last new at start {r.last_new_point_at}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
