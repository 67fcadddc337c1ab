"""Guarded imports of the extra's optional dependencies (torch, scikit-learn, matplotlib)."""

from __future__ import annotations

import importlib

#: How to install the extra; quoted by every missing-torch error.
TORCH_INSTALL_HINT = (
    'pip install "nc-verify[torch]"; on a machine without a GPU install a CPU build of '
    "torch first (e.g. pip install torch==2.13.0 where that is a CPU wheel), since a bare "
    "torch requirement can pull several GB of CUDA wheels"
)


def require_torch():
    """Return the ``torch`` module, or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise ImportError(
            f"nc_verify.deepnet needs PyTorch, which is not installed ({exc}). Install the extra: {TORCH_INSTALL_HINT}"
        ) from exc


def require_sklearn_digits():
    """Return ``sklearn.datasets.load_digits`` or raise an ImportError naming the install."""
    try:
        return importlib.import_module("sklearn.datasets").load_digits
    except ImportError as exc:
        raise ImportError(
            f"the digits data set comes with scikit-learn, which is not installed ({exc}); "
            'install it with pip install scikit-learn (it is part of pip install "nc-verify[torch]")'
        ) from exc


def new_figure(width: float, height: float):
    """A matplotlib Figure drawn by the Agg canvas (no pyplot, no global backend change)."""
    Figure = importlib.import_module("matplotlib.figure").Figure
    FigureCanvasAgg = importlib.import_module("matplotlib.backends.backend_agg").FigureCanvasAgg
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig
