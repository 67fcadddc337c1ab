r"""
# The landscape at one size: every critical point, by kind and family

Theorem 2 at $(d, K, n, \tau) = (5, 3, 1, 1)$: `verify_theorem2` searches the critical points
of problem (4) until its saturation rule holds, and classifies each one from its Hessian
spectrum. Each marker is one distinct critical point (up to rotation), placed at its cost
$f$ and the smallest eigenvalue $\lambda_{\min}$ of its Riemannian Hessian; the colour is
its kind, the marker its family (`nc_verify.objective.families`; "found" points are
not a member of a named family).

What to look for: one point on the dashed line (Theorem 1's bound), with
$\lambda_{\min} = 0$ (its zero eigenvalues are exactly the rotation orbit): the simplex
ETF, the global minimum. Every other point lies strictly left of $\lambda_{\min} = 0$
(a strict saddle), however high or low its cost: no spurious local minimum, as Theorem 2
says. A point right of zero above the bound would be a counterexample.
"""

import matplotlib.pyplot as plt

from nc_verify import theorem1_bound, verify_theorem2

d, K, n, tau = 5, 3, 1, 1.0
report = verify_theorem2(d, K, n, tau, seed=0)
print(f"verdict: {report.verdict}")
print(f"{len(report.critical_points)} distinct critical points, "
      f"{report.n_starts} starts, saturated: {report.saturated}")

COLOURS = {"global_minimizer": "tab:green", "strict_saddle": "tab:blue"}
MARKERS = {"global_etf": "*", "anti_aligned_etf": "v", "collinear": "o",
           "found": "s"}


def family(point):
    """A point's family: "collinear[+1 +0 -1]" is collinear."""
    name = point.name.split("[")[0].split(" ")[0]
    return name if name in MARKERS else "found"


fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
labelled = set()
for p in report.critical_points:
    fam = family(p)
    label = f"{p.kind}, {fam}".replace("_", " ")
    ax.scatter(p.lambda_min, p.cost, marker=MARKERS[fam],
               s=160 if fam == "global_etf" else 50,
               color=COLOURS.get(p.kind, "tab:red"), edgecolor="k",
               linewidth=0.5, zorder=3,
               label=None if label in labelled else label)
    labelled.add(label)
ax.axhline(theorem1_bound(K, tau), color="k", ls="--", lw=0.8,
           label="Theorem 1 bound")
ax.axvline(0.0, color="0.5", lw=0.8)
ax.set_xlabel(r"$\lambda_{\min}$ of the Riemannian Hessian")
ax.set_ylabel("cost f")
ax.set_title(f"(d, K, n, tau) = ({d}, {K}, {n}, {tau:g}): {report.verdict}")
fig.legend(loc="outside right upper", fontsize=8)
plt.show()
