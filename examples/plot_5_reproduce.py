r"""
# The paper's Table 1 and Figures 1, 3 and 5, in quick mode

`nc_verify.runs.experiments.reproduce(name, out, quick=True)` runs each of the paper's
feature-model artefacts at the small settings of `QUICK` (the same as
`nc-verify reproduce all --quick`) and writes its CSV and PNG files; the pictures below
are those files. The paper-size runs and what they show are in
[Experiments](../../experiments.md).

What to look for:

* **Table 1**: normalised features reach 100% training accuracy at loss 3.84 (the value at
  features collapsed onto 100 classifiers evenly spaced on the circle); regularised ones do
  not separate the classes at $d = 2$.
* **Figure 1**: the normalised features sit on their classifiers around the circle; the
  regularised ones do not.
* **Figure 3**: every run lies on the Theorem 1 bound where the runs can resolve it; at
  $\tau = 100$ the bound ($5 \cdot 10^{-48}$) is far below what the runs' stopping gradient
  can resolve, so that temperature is shaded "undecided", not counted as a miss.
* **Figure 5**: the normalised runs reach full accuracy sooner, with smaller NC1.
"""

import tempfile
import textwrap

import matplotlib.pyplot as plt

from nc_verify.runs.experiments import reproduce

out = tempfile.mkdtemp()
pngs = {}
for name in ("table1", "figure1", "figure3", "figure5"):
    result, files, rows = reproduce(name, out, quick=True, seed=0,
                                    progress=False)
    print(f"== {name} (quick) ==")
    for quantity, ours, paper in rows:
        line = f"{quantity}: {ours}" + (f" [paper: {paper}]" if paper else "")
        print(textwrap.fill(line, 76, initial_indent="  ",
                            subsequent_indent="      "))
    pngs.update({name: f for f in files if f.endswith(".png")})

# %%
# The figures as `reproduce` wrote them.
for name, png in pngs.items():
    image = plt.imread(png)
    fig = plt.figure(figsize=(image.shape[1] / 100, image.shape[0] / 100))
    fig.figimage(image)
plt.show()
