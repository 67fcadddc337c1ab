"""Plots of the deep-network runs (matplotlib's Agg canvas, imported lazily; no torch needed)."""

from __future__ import annotations

import os

from nc_verify.deepnet._imports import new_figure


def _panel(ax, runs, key, label_of, *, log=False, title=""):
    for run in runs:
        ax.plot(run.column("epoch"), run.column(key), label=label_of(run))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_title(title or key)
    ax.grid(True, alpha=0.3)


def plot_width_sweep(runs, path) -> str:
    """Figure 4: training accuracy and NC1-NC3 against epochs, one line per width."""
    fig = new_figure(13, 3.2)
    axes = fig.subplots(1, 4)
    label = lambda r: f"k={r.width} (d={r.feature_dim})"  # noqa: E731
    _panel(axes[0], runs, "accuracy", label, title="training accuracy")
    _panel(axes[1], runs, "nc1", label, log=True, title="NC1")
    _panel(axes[2], runs, "nc2", label, log=True, title="NC2")
    _panel(axes[3], runs, "nc3", label, log=True, title="NC3")
    axes[0].legend(fontsize="small")
    if runs:
        r = runs[0]
        fig.suptitle(f"ResNet-18 of width k, normalised features (tau={r.tau:g}), {r.dataset}, N={r.num_samples}, K={r.num_classes}")
    return _save(fig, path)


def plot_head_comparison(runs, path) -> str:
    """Figure 6: training accuracy and NC1 of each architecture, normalised vs regularised head."""
    archs = list(dict.fromkeys(r.arch for r in runs))
    fig = new_figure(4.2 * max(len(archs), 1), 6.0)
    axes = fig.subplots(2, max(len(archs), 1), squeeze=False)
    for j, arch in enumerate(archs):
        mine = [r for r in runs if r.arch == arch]
        _panel(axes[0, j], mine, "accuracy", lambda r: r.head, title=f"{arch}: training accuracy")
        _panel(axes[1, j], mine, "nc1", lambda r: r.head, log=True, title=f"{arch}: NC1")
        axes[0, j].legend(fontsize="small")
    if runs:
        r = runs[0]
        fig.suptitle(f"Normalised vs regularised head, {r.dataset}, N={r.num_samples}, K={r.num_classes}")
    return _save(fig, path)


def _save(fig, path) -> str:
    path = os.fspath(path)
    fig.savefig(path, dpi=120)
    return path
