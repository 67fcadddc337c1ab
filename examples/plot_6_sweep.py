r"""
# A sweep's heatmap: probe verdicts over a small grid

`nc_verify.runs.sweep.run_sweep` runs one task per cell of a grid of $(d, K, n, \tau)$ (here
`probe`: descent runs plus a critical-point search until saturated, with every point
classified) and appends one JSON record per cell; `heatmap` draws the records. The grid is
tiny and runs serially (`workers=0`); `nc-verify sweep GRID.toml --out OUT.jsonl` does the
same from a TOML file, on a dask cluster if asked.

What to look for: at $d = 3 > K = 2$ every cell is green, "no counterexample found", with a
strict saddle whose curvature grows with $\tau$ (right panel). At $d = K = 2$ (outside
Theorem 2's $d > K$) the probe reports a potential counterexample (red): the degenerate
critical points of the $d = 2$ problem (see the degenerate-point example), which have no
negative eigenvalue and are saddles only at fourth order.
"""

import os
import tempfile

import matplotlib.pyplot as plt

from nc_verify.runs.sweep import heatmap, read_records, run_sweep, summary_rows

grid = {"task": "probe", "d": [2, 3], "K": [2], "n": [1], "tau": [1.0, 4.0],
        "loss": ["cross_entropy"], "seed": [0],
        "options": {"n_starts": 4, "save_dir": None}}
out = os.path.join(tempfile.mkdtemp(), "sweep.jsonl")
run_sweep(grid, out, workers=0, progress=False)
records = read_records(out)
for d, K, n, tau, _, _, state, verdict, _, worst, _ in summary_rows(records):
    print(f"d={d} K={K} n={n} tau={tau}: {state:9s} {verdict:25s} "
          f"worst saddle {worst}")

png = heatmap(records, out + ".png")
image = plt.imread(png)
fig = plt.figure(figsize=(image.shape[1] / 100, image.shape[0] / 100))
fig.figimage(image)
plt.show()
