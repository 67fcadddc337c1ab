r"""
# A landscape proof's boxes, slice by slice

`prove_landscape(K=2, n=1, tau=1)` proves Theorem 2's dichotomy for every $d \ge 3$ at once:
it covers the chart of planar configurations ($w_1$ fixed at angle 0, $w_2$ at angle
$\pi + a_2$, the features at angles $\theta_1, \theta_2$) with boxes,
bisecting until a discard test holds on each box in interval arithmetic:

* **gradient**: some gradient coordinate keeps one sign on the box, so it holds no critical point;
* **saddle (normal)** / **saddle (in-plane)**: every point of the box has a direction of
  negative curvature, so every critical point in it is a strict saddle;
* **ETF (convex)**: the box around the global minimum on which $f$ is convex.

Each of the first three panels is a 2-D slice of the 3-D chart at one value of $a_2$: the rectangles are the
leaves of the bisection tree that meet the slice, coloured by their test. The last panel is
the same proof stopped after 60 boxes: what is left is **unresolved** (hatched red), and a
proof with any unresolved box is reported as `not_proved`.

What to look for: the boxes shrink towards the critical points, where no gradient coordinate
keeps its sign and a curvature test must take over; the small convex boxes (green) only near
$a_2 = 0$, $\theta = (0, 0)$: antipodal classifiers with their features, the $K = 2$ simplex ETF;
no hatched box in the complete proof.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch, Rectangle

from nc_verify.certify.prover import prove_landscape

TESTS = {"gradient": ("#cfd8dc", "gradient nonzero"),
         "saddle_normal": ("#64b5f6", "saddle (normal)"),
         "saddle_inplane": ("#9575cd", "saddle (in-plane)"),
         "etf_convex": ("#66bb6a", "ETF (convex)"),
         "unresolved": ("#ffffff", "unresolved")}

proof = prove_landscape(2, 1, 1.0)
partial = prove_landscape(2, 1, 1.0, max_boxes=60)
print(f"complete proof: {proof.status}")
print(f"  leaves per test: {proof.counts}")
print(f"stopped after 60 boxes: {partial.status}, "
      f"{partial.counts['unresolved']} boxes unresolved")


def leaves(p):
    """Every leaf as (lo, hi, test), the unresolved boxes included."""
    out = [(l["lo"], l["hi"], l["test"]) for l in p.leaves]
    return out + [(u["lo"], u["hi"], "unresolved") for u in p.unresolved]


def draw_slice(ax, p, a2):
    """The leaves of p that meet the slice a_2 = a2, in (theta_1, theta_2)."""
    for lo, hi, test in leaves(p):
        if lo[0] <= a2 < hi[0]:
            bad = test == "unresolved"
            ax.add_patch(Rectangle(
                (lo[1], lo[2]), hi[1] - lo[1], hi[2] - lo[2],
                facecolor=TESTS[test][0], edgecolor="red" if bad else "k",
                lw=0.3, hatch="xx" if bad else None))
    ax.set_xlim(-np.pi, np.pi)
    ax.set_ylim(-np.pi, np.pi)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    stopped = "" if p is proof else ", stopped at 60 boxes"
    ax.set_title(rf"$a_2 = {a2:.2f}${stopped}", fontsize=10)


fig, axes = plt.subplots(2, 2, figsize=(8, 8.4), layout="constrained")
for ax, a2 in zip(axes.flat, [-0.05, -0.6, -1.9]):
    draw_slice(ax, proof, a2)
draw_slice(axes[1, 1], partial, -1.9)
present = {test for p in (proof, partial) for _, _, test in leaves(p)}
keys = [Patch(facecolor=c, edgecolor="red" if t == "unresolved" else "k",
              hatch="xx" if t == "unresolved" else None, label=label)
        for t, (c, label) in TESTS.items() if t in present]
fig.legend(handles=keys, loc="outside lower center", ncols=4, fontsize=9,
           frameon=False)
fig.suptitle(f"landscape proof at K = 2, n = 1, tau = 1, every d >= 3: "
             f"{proof.status}")
plt.show()
