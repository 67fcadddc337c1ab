r"""
# When is the search done? The discovery curve and its saturation rule

`find_critical_points` at $(d, K, n, \tau) = (5, 3, 1, 2)$ runs until its saturation rule
holds: at least 3000 starts (`MIN_SATURATION_STARTS`), no new distinct point in the last
half of them (`SATURATION_FRACTION`), and every point that a random start found reached by
at least two starts. The curve is the number of distinct critical points known after each
start.

What to look for: the curve climbs steeply over the first few dozen starts, then stays flat;
the search stops at the first start count, at least 3000, at which the flat part (shaded) is at
least half the run (at larger sizes, such as $(6, 4, 2)$, the last new point comes after
thousands of starts and the run goes on to twice that). A curve
still climbing at the end would mean the search is not saturated, and Theorem 2's check
would say "undecided", not "holds".
"""

import matplotlib.pyplot as plt
import numpy as np

from nc_verify import UFMProblem, find_critical_points
from nc_verify.landscape.search import (MIN_SATURATION_STARTS,
                                       SATURATION_FRACTION)

search = find_critical_points(UFMProblem(5, 3, 1, 2.0), seed=0)
m, last = search.n_starts, search.last_new_point_at
print(f"{len(search.points)} distinct points after {m} starts")
print(f"last new point at start {last}; saturated: {search.saturated}")
print(f"Good-Turing chance of a new point per start: "
      f"{search.unseen_probability:.3g}")

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.plot(np.arange(1, m + 1), search.discovery, color="tab:blue", lw=1.5,
        label="distinct critical points found")
ax.axvline(MIN_SATURATION_STARTS, color="k", ls=":", lw=1,
           label=f"minimum starts ({MIN_SATURATION_STARTS})")
ax.axvspan(last, m, color="tab:green", alpha=0.15,
           label=f"no new point: starts {last}-{m}, {(m - last) / m:.0%} "
                 f"of the run (rule: at least {SATURATION_FRACTION:.0%})")
ax.axvline(last, color="tab:green", lw=1)
ax.set_xscale("log")
ax.set_xlabel("starts")
ax.set_ylabel("distinct critical points")
state = "saturated" if search.saturated else "NOT saturated"
ax.set_title(f"search at (5, 3, 1), tau = 2: {state}")
ax.legend(fontsize=8, loc="lower right")
plt.show()
