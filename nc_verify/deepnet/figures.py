"""The paper's deep-network experiments: Figure 4 (width sweep) and Figure 6 (normalised vs regularised).

Figure 4: ResNet-18 of width k in {4, 8, 16, 32, 64} with the normalised head
memorises CIFAR-10 with random labels (n = 200 per class, 200 epochs); training
accuracy and NC1-NC3 per epoch. Figure 6: ResNet-18 and ResNet-50 on CIFAR-100
with n = 30 per class (N = 3000), 100 epochs, normalised vs regularised head;
training accuracy and NC1 per epoch. Both accept any :class:`ImageSet`, so the
digits and synthetic stand-ins run the same code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from nc_verify.deepnet._imports import require_torch
from nc_verify.deepnet.data import (
    ImageSet,
    load_cifar,
    load_digits,
    randomize_labels,
    synthetic_images,
)
from nc_verify.deepnet.models import ARCHITECTURES, HEADS, build_model
from nc_verify.deepnet.plots import plot_head_comparison, plot_width_sweep
from nc_verify.deepnet.records import TrainConfig, write_csv
from nc_verify.deepnet.training import select_device, train
from nc_verify.utils.validation import as_rng, check_choice, check_int

torch = require_torch()

#: Data sources of the command line and their per-class defaults for (Figure 4, Figure 6).
DATASETS = ("cifar", "digits", "synthetic")
DEFAULT_PER_CLASS = {"cifar": (200, 30), "digits": (100, 30), "synthetic": (50, 30)}
FIGURE4_WIDTHS = (4, 8, 16, 32, 64)


@dataclass
class FigureResult:
    """Runs of one figure and the files written for it."""

    figure: str
    runs: list
    files: dict = field(default_factory=dict)

    SUMMARY_HEADERS = ("run", "N", "d", "final acc", "epoch@100%", "NC1 start", "NC1 end", "NC2 end", "NC3 end", "seconds")

    def summary_rows(self) -> list:
        """One row per run: label, N, d, final accuracy, first epoch at 100%, NC1 start/end, NC2, NC3, seconds."""
        rows = []
        for r in self.runs:
            first = r.first_epoch_at(1.0)
            rows.append(
                (
                    r.label, r.num_samples, r.feature_dim, f"{r.final.accuracy:.4f}",
                    "-" if first is None else first, f"{r.records[0].nc1:.3g}", f"{r.final.nc1:.3g}",
                    f"{r.final.nc2:.3g}", f"{r.final.nc3:.3g}", f"{r.final.seconds:.1f}",
                )
            )
        return rows

    def summary_text(self) -> str:
        """The summary rows as an aligned plain-text table."""
        cells = [list(self.SUMMARY_HEADERS)] + [[str(c) for c in row] for row in self.summary_rows()]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.SUMMARY_HEADERS))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict:
        return {"figure": self.figure, "files": dict(self.files), "runs": [r.as_dict() for r in self.runs]}


def load_dataset(source: str, figure: str, *, directory=None, per_class=None, size: int = 32, seed: int = 0) -> ImageSet:
    """The training set of ``figure`` ("figure4" or "figure6") from ``source``.

    ``"cifar"`` reads CIFAR-10 (Figure 4) or CIFAR-100 (Figure 6) from ``directory``;
    ``"digits"`` uses scikit-learn's bundled digits enlarged to ``size``;
    ``"synthetic"`` draws 10 classes of Gaussian noise images of side ``size``.
    ``per_class`` defaults to :data:`DEFAULT_PER_CLASS`.
    """
    source = check_choice(source, "dataset", DATASETS)
    figure = check_choice(figure, "figure", ("figure4", "figure6"))
    if per_class is None:
        per_class = DEFAULT_PER_CLASS[source][figure == "figure6"]
    if source == "cifar":
        if directory is None:
            raise ValueError("the cifar data set needs --data DIR: the folder with the CIFAR python-pickle batches")
        return load_cifar(directory, "cifar10" if figure == "figure4" else "cifar100", per_class=per_class)
    if source == "digits":
        return load_digits(per_class, size=size)
    return synthetic_images(10, per_class, size=size, seed=seed)


def save_figure(result: FigureResult, out) -> FigureResult:
    """Write ``<figure>.csv``, ``.png``, ``_summary.txt`` and ``.json`` of ``result`` into folder ``out``."""
    plot = plot_width_sweep if result.figure == "figure4" else plot_head_comparison
    os.makedirs(out, exist_ok=True)
    name = result.figure
    result.files["csv"] = write_csv(os.path.join(out, f"{name}.csv"), result.runs)
    if result.runs:
        result.files["png"] = plot(result.runs, os.path.join(out, f"{name}.png"))
    result.files["summary"] = os.path.join(out, f"{name}_summary.txt")
    result.files["json"] = os.path.join(out, f"{name}.json")
    with open(result.files["summary"], "w", encoding="utf-8") as fh:
        fh.write(result.summary_text())
    with open(result.files["json"], "w", encoding="utf-8") as fh:
        json.dump(result.as_dict(), fh, indent=2)
        fh.write("\n")
    return result


def figure4(data: ImageSet, *, widths=FIGURE4_WIDTHS, config=None, tau: float = 1.0, random_labels: bool = True, device=None, out=None, progress=None) -> FigureResult:
    """Figure 4: ResNet-18 of each width with the normalised head on randomly labelled ``data``.

    Parameters
    ----------
    data : ImageSet
        Training set (CIFAR-10, n = 200 per class in the paper).
    widths : sequence of int
        k; feature dimension 8k.
    config : TrainConfig or None
        Default ``TrainConfig(epochs=200)``.
    tau : float
        Temperature of the normalised features.
    random_labels : bool
        Shuffle the labels with ``config.seed`` first (the paper's setting).
    device : str or None
        None: CUDA when available.
    out : path or None
        Folder for ``figure4.csv``, ``figure4.png`` and ``figure4.json``; the CSV
        is rewritten after every run, so an interrupted sweep keeps its finished runs.
    """
    config = TrainConfig(epochs=200) if config is None else config
    widths = [check_int(w, "width", 1) for w in widths]
    if not widths:
        raise ValueError("widths must name at least one width")
    if random_labels:
        data = randomize_labels(data, rng=as_rng(seed=config.seed))
    dev = select_device(device)
    result = FigureResult("figure4", [])
    for k in widths:
        torch.manual_seed(config.seed)
        model = build_model("resnet18", k, data.num_classes, head="normalized", tau=tau, in_channels=data.images.shape[1])
        run = train(model, data, config, device=dev, label=f"resnet18-k{k}", arch="resnet18", width=k, progress=progress)
        result.runs.append(run)
        if out is not None:
            save_figure(result, out)
    return result


def figure6(data: ImageSet, *, archs=ARCHITECTURES, width: int = 64, heads=HEADS, config=None, tau: float = 1.0, device=None, out=None, progress=None) -> FigureResult:
    """Figure 6: each architecture with the normalised and the regularised head on ``data``.

    Parameters
    ----------
    data : ImageSet
        Training set (CIFAR-100, n = 30 per class in the paper).
    archs : sequence of {"resnet18", "resnet50"}
    width : int
        k (64: the standard networks, d = 512 and 2048).
    heads : sequence of {"normalized", "regularized"}
    config : TrainConfig or None
        Default ``TrainConfig(epochs=100)``; ``config.weight_decay`` is the
        regularised head's penalty weight.
    tau, device, out, progress
        As :func:`figure4`; files ``figure6.csv``, ``figure6.png``, ``figure6.json``.
    """
    config = TrainConfig(epochs=100) if config is None else config
    archs = [check_choice(a, "arch", ARCHITECTURES) for a in archs]
    heads = [check_choice(h, "head", HEADS) for h in heads]
    if not archs or not heads:
        raise ValueError("archs and heads must each name at least one choice")
    width = check_int(width, "width", 1)
    dev = select_device(device)
    result = FigureResult("figure6", [])
    for arch in archs:
        for head in heads:
            torch.manual_seed(config.seed)
            model = build_model(arch, width, data.num_classes, head=head, tau=tau, in_channels=data.images.shape[1])
            run = train(model, data, config, device=dev, label=f"{arch}-{head}", arch=arch, width=width, progress=progress)
            result.runs.append(run)
            if out is not None:
                save_figure(result, out)
    return result
