"""Optional torch extra: the paper's feature-normalised ResNet experiments (Figures 4 and 6).

Install with ``pip install "nc-verify[torch]"``. Importing this package needs
nothing beyond the core; the data readers (:mod:`.data`), settings and records
(:mod:`.records`) and plots (:mod:`.plots`) work without torch, while the
networks (:mod:`.models`), the training loop (:mod:`.training`) and the figure
runs (:mod:`.figures`) import torch on first use and raise an ImportError
naming the install command when it is missing. Nothing else in ``nc_verify``
imports torch.
"""

from __future__ import annotations

import importlib

from nc_verify.deepnet._imports import TORCH_INSTALL_HINT, require_torch

_EXPORTS = {
    # torch-free
    "ImageSet": "data",
    "load_cifar": "data",
    "load_digits": "data",
    "synthetic_images": "data",
    "per_class_subset": "data",
    "randomize_labels": "data",
    "TrainConfig": "records",
    "EpochRecord": "records",
    "TrainingRun": "records",
    "write_csv": "records",
    # need torch
    "ResNet": "models",
    "resnet18": "models",
    "resnet50": "models",
    "build_model": "models",
    "Evaluation": "training",
    "evaluate": "training",
    "regularized_loss": "training",
    "select_device": "training",
    "train": "training",
    "FigureResult": "figures",
    "figure4": "figures",
    "figure6": "figures",
    "load_dataset": "figures",
    "save_figure": "figures",
}

__all__ = sorted(_EXPORTS) + ["TORCH_INSTALL_HINT", "require_torch"]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
