r"""
# A degenerate critical point: no negative eigenvalue, yet a saddle (d = 2)

At $d = 2$ the classifiers all equal to $u$ and the features all equal to $v$
($W = u 1^T$, $H = v 1^T$) form a critical point for every angle $\phi$ between $u$ and $v$:
a continuum at cost $\log K$. Left: $\lambda_{\min}$ of the Riemannian Hessian along it at
$(d, K, n, \tau) = (2, 3, 1, 1)$ (`classify_critical_point`). It is negative except at
$\phi = \pi/2$, $v \perp u$, where it is $0$: the member with the largest $\lambda_{\min}$,
which `worst_member` finds, and where second-order information says nothing.

Right: `higher_order_test` there. Along a flat Hessian direction $e$ beyond the rotation orbit,
the curve $t \mapsto R(x, t e)$ (kept on the valley floor by Newton steps in the Hessian's range)
lowers the cost by $|f - f(x)| \propto t^4$: the dots lie on a line of slope 4 in log-log,
above the cost's rounding level (dotted). A resolved decrease of fourth order: the point is not a
local minimum although no eigenvalue is negative, a *degenerate saddle* (`classify_point`
says `degenerate_saddle`). Theorem 2 is stated for $d > K$; at $d = 2$ such points exist.

What to look for: the left curve touches zero only at $\phi = \pi/2$, where `worst_member`
lands (the star) from $\phi = 0.3$; on the right the dots follow the slope-4 line, not the
slope-2 one, well above the dotted rounding level.
"""

import matplotlib.pyplot as plt
import numpy as np

from nc_verify import UFMProblem, classify_critical_point
from nc_verify.landscape.degenerate import (classify_point,
                                            higher_order_test, worst_member)

d, K, n, tau = 2, 3, 1, 1.0
problem = UFMProblem(d, K, n, tau)


def member(phi):
    """W = u 1^T with u = e_1, H = v 1^T with v at angle phi from u."""
    u, v = np.array([1.0, 0.0]), np.array([np.cos(phi), np.sin(phi)])
    return np.tile(u[:, None], (1, K)), np.tile(v[:, None], (1, K * n))


phis = np.linspace(0.0, np.pi, 61)
lam = [classify_critical_point(problem, *member(phi), refine=False).lambda_min
       for phi in phis]

# the member with the largest lambda_min, searched from phi = 0.3
(W, H), worst = worst_member(problem, *member(0.3))
worst_phi = np.arccos(np.clip(abs(W[:, 0] @ H[:, 0]), 0.0, 1.0))
print(f"worst_member from phi = 0.3: lambda_min "
      f"{worst['lambda_min_start']:.3e} -> {worst['lambda_min']:.3e}")
print(f"  at phi = {worst_phi:.4f} (pi/2 = {np.pi / 2:.4f})")

x = member(np.pi / 2)
test = higher_order_test(problem, *x, rng=0)
kind = classify_point(problem, *x, rng=0).kind
print(f"classify_point at phi = pi/2: {kind}")
print(f"fitted order {test['order']:.3f}, "
      f"{test['flat_directions']} flat directions beyond the orbit")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
ax1.plot(phis, lam, "o-", ms=3)
ax1.axhline(0.0, color="0.5", lw=0.8)
ax1.axvline(np.pi / 2, color="tab:red", ls="--", lw=1,
            label=r"$v \perp u$: $\lambda_{\min} = 0$")
ax1.plot(worst_phi, worst["lambda_min"], "r*", ms=12,
         label=r"worst_member, started at $\phi = 0.3$")
ax1.set_xticks(np.linspace(0, np.pi, 5),
               ["0", r"$\pi/4$", r"$\pi/2$", r"$3\pi/4$", r"$\pi$"])
ax1.set_xlabel(r"angle $\phi$ between $u$ and $v$")
ax1.set_ylabel(r"$\lambda_{\min}$")
ax1.set_title(rf"$W = u1^T$, $H = v1^T$ at ({d}, {K}, {n}, $\tau$ = {tau:g})")
ax1.legend(fontsize=8)

t, drop = test["steps"], -test["differences"]
i = len(t) // 2
ax2.loglog(t, drop, "o", label=r"$f(x) - f$ along the flat direction")
ax2.loglog(t, drop[i] * (t / t[i]) ** 4, "k--", lw=1, label=r"slope 4: $t^4$")
ax2.loglog(t, drop[i] * (t / t[i]) ** 2, color="0.6", ls=":", lw=1,
           label="slope 2: what a negative eigenvalue gives")
ax2.axhline(test["floor"], color="tab:red", ls=":", lw=1,
            label="rounding level of f")
ax2.set_xlabel("step t along the flat direction")
ax2.set_ylabel("decrease of f")
ax2.set_title(rf"$v \perp u$: descent of order {test['order']:.2f}")
ax2.legend(fontsize=8)
plt.show()
