"""Wall-clock of certified verdicts against the goals of the certify extra.

Goals: a saddle certificate at (d, K, n) = (6, 4, 2) under 50 ms; at K = 20, N = 1000
under 5 s; a minimum certificate at tangent dimension about 300 under 10 s.
Prints each time and its ratio to the goal (below 1 = goal met), measured in one run.

    PYTHONPATH=. python benchmarks/bench_certify.py
"""

import time

from nc_verify.certify import certify_minimum, certify_strict_saddle
from nc_verify.objective.problem import UFMProblem


def best_of(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def row(label, seconds, goal, cert):
    value = cert.mu.text if cert.kind == "minimum" else cert.rayleigh_quotient.text
    print(f"{label:52s} {seconds * 1e3:9.1f} ms  goal {goal * 1e3:7.0f} ms  ratio {seconds / goal:6.3f}  "
          f"{cert.status} at {cert.precision} bits  {value}")


def main():
    certify_strict_saddle(UFMProblem(6, 4, 2, 1.0), "cross_polytope")        # warm-up (imports)
    for name in ("cross_polytope", "anti_aligned_etf"):
        for tau in (1.0, 1000.0):
            p = UFMProblem(6, 4, 2, tau)
            t, c = best_of(lambda: certify_strict_saddle(p, name), 5)
            row(f"saddle {name} (6, 4, 2) tau={tau:g}", t, 0.05, c)
    p = UFMProblem(6, 4, 2, 1.0)
    t, c = best_of(lambda: certify_strict_saddle(p, "collinear_all_equal"), 3)
    row("saddle collinear_all_equal (6, 4, 2), auto direction", t, 0.05, c)
    for name in ("cross_polytope", "anti_aligned_etf"):
        for tau in (1.0, 1000.0):
            p = UFMProblem(20, 20, 50, tau)
            t, c = best_of(lambda: certify_strict_saddle(p, name), 1)
            row(f"saddle {name} (20, 20, 50) N=1000 tau={tau:g}", t, 5.0, c)
    for dKn in ((6, 4, 14), (11, 10, 2)):
        for tau in (1.0, 200.0):
            p = UFMProblem(*dKn, tau)
            t, c = best_of(lambda: certify_minimum(p, "global_etf"), 1)
            row(f"minimum global_etf {dKn} T={p.tangent_dimension} tau={tau:g}", t, 10.0, c)


if __name__ == "__main__":
    main()
