"""Training loop of the deep-network experiments, and the per-epoch NC measurements.

SGD with momentum and step decay (the authors' defaults, :class:`TrainConfig`).
The normalised head trains on plain cross-entropy and retracts the classifier
rows to the unit sphere after every step; the regularised head trains on
cross-entropy plus weight decay on ``W`` and on the features
(:func:`regularized_loss`). After every epoch the whole training set is passed
through the network in evaluation mode and NC1-NC3 are computed by the same
:func:`nc_verify.objective.metrics.nc_metrics` as for the feature model, in float64.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from nc_verify.deepnet._imports import require_torch
from nc_verify.deepnet.data import ImageSet
from nc_verify.deepnet.records import EpochRecord, TrainConfig, TrainingRun
from nc_verify.objective.losses import CROSS_ENTROPY
from nc_verify.objective.metrics import nc_metrics
from nc_verify.utils.progress import Progress

torch = require_torch()
F = torch.nn.functional


def select_device(device=None):
    """``torch.device`` to train on: CUDA when available for ``None``/``"auto"``, else as named.

    Raises ValueError for an unknown name or a CUDA device that is not available.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available (use 'cpu' or 'auto')")
    return dev


def regularized_loss(logits, labels, features, weight, weight_decay: float):
    """Training objective of the regularised head (the regularised UFM of the authors' runs).

    ``CE(logits, labels) + wd ||W||_F^2 / 2 + wd sum_i ||h_i||^2 / 2``, with the
    cross-entropy averaged over the batch and the feature penalty summed over it.

    Parameters
    ----------
    logits : tensor (B, K)
    labels : tensor (B,), int64
    features : tensor (B, d)
    weight : tensor (K, d)
        The classifier (``W^T``).
    weight_decay : float
        wd >= 0.
    """
    return (
        F.cross_entropy(logits, labels)
        + weight_decay * weight.pow(2).sum() / 2
        + weight_decay * features.pow(2).sum() / 2
    )


@dataclass(frozen=True)
class Evaluation:
    """A full-set pass in evaluation mode.

    Attributes
    ----------
    features : ndarray (d, N), float64
        ``H``, columns in the order of the image set.
    logits : ndarray (K, N), float64
    loss : float
        Mean cross-entropy.
    accuracy : float
    nc1, nc2, nc3 : float
        ``nc_metrics(W, H, labels)``.
    """

    features: np.ndarray
    logits: np.ndarray
    loss: float
    accuracy: float
    nc1: float
    nc2: float
    nc3: float

    def as_dict(self) -> dict:
        """Scalars only (the feature and logit arrays stay in the object)."""
        return {k: getattr(self, k) for k in ("loss", "accuracy", "nc1", "nc2", "nc3")}


@torch.no_grad()
def evaluate(model, data: ImageSet, *, device=None, batch_size: int = 512) -> Evaluation:
    """Features, loss, accuracy and NC1-NC3 of ``model`` on the whole of ``data``.

    Runs in evaluation mode (batch norm uses its running statistics) and restores
    the model's mode afterwards.
    """
    dev = select_device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    feats, logits = [], []
    try:
        for start in range(0, data.size, batch_size):
            x = torch.from_numpy(data.images[start : start + batch_size]).to(dev)
            z, h = model(x)
            feats.append(h.to("cpu", torch.float64).numpy())
            logits.append(z.to("cpu", torch.float64).numpy())
    finally:
        model.train(was_training)
    H = np.concatenate(feats).T
    Z = np.concatenate(logits).T
    y = data.labels
    loss = CROSS_ENTROPY(Z, y).value          # the package's one (cancellation-free) softmax
    accuracy = float(np.mean(np.argmax(Z, axis=0) == y))
    m = nc_metrics(model.classifier_matrix(), H, y)
    return Evaluation(H, Z, loss, accuracy, m.nc1, m.nc2, m.nc3)


def _batches(perm, batch_size: int) -> list:
    """Consecutive slices of ``perm``; a last slice of one image joins the one before
    (batch norm cannot normalise a batch of one)."""
    bounds = list(range(0, perm.numel(), batch_size)) + [perm.numel()]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]
    return [perm[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def train(model, data: ImageSet, config: TrainConfig, *, device=None, label: str = "", arch: str = "", width: int = 0, progress=None) -> TrainingRun:
    """Train ``model`` on ``data`` with SGD and record the training-set metrics after epochs.

    Each epoch visits the images in a fresh random order (seeded by
    ``config.seed``) in batches of ``config.batch_size``; the normalised head
    minimises the cross-entropy and retracts the classifier after every step, the
    regularised head minimises :func:`regularized_loss`.

    Parameters
    ----------
    model : nc_verify.deepnet.models.ResNet
        Trained in place (moved to ``device``).
    data : ImageSet
    config : TrainConfig
    device : str, torch.device or None
        None or "auto": CUDA when available.
    label, arch, width : description stored in the returned run.
    progress : bool or None
        Progress bar on stderr (None: when stderr is a terminal).

    Returns
    -------
    TrainingRun
        Records for epoch 0 (initialisation), every ``config.record_every``-th
        epoch and the last epoch.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(data, ImageSet):
        raise TypeError(f"data must be an ImageSet, got {type(data).__name__}")
    if data.num_classes != model.num_classes:
        raise ValueError(f"data has {data.num_classes} classes but the model's head has {model.num_classes}")
    dev = select_device(device)
    model.to(dev)
    run = TrainingRun(
        label=label, arch=arch, width=width, head=model.head, tau=model.tau, dataset=data.name,
        num_samples=data.size, num_classes=data.num_classes, feature_dim=model.feature_dim,
        device=str(dev), config=config,
    )
    X = torch.from_numpy(data.images).to(dev)
    Y = torch.from_numpy(data.labels.astype(np.int64)).to(dev)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_decay_period, gamma=config.lr_decay)
    order = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()

    def record(epoch, lr, objective):
        ev = evaluate(model, data, device=dev, batch_size=config.eval_batch_size)
        run.records.append(
            EpochRecord(epoch, lr, objective, ev.loss, ev.accuracy, ev.nc1, ev.nc2, ev.nc3, time.perf_counter() - start)
        )

    record(0, float("nan"), float("nan"))
    with Progress(config.epochs, label or "train", enabled=progress) as bar:
        for epoch in range(1, config.epochs + 1):
            lr = optimizer.param_groups[0]["lr"]
            model.train()
            total = torch.zeros((), device=dev)
            batches = _batches(torch.randperm(data.size, generator=order).to(dev), config.batch_size)
            for idx in batches:
                logits, h = model(X[idx])
                if model.normalized:
                    loss = F.cross_entropy(logits, Y[idx])
                else:
                    loss = regularized_loss(logits, Y[idx], h, model.classifier.weight, config.weight_decay)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if model.normalized:
                    model.retract_classifier()
                total += loss.detach()
            scheduler.step()
            if epoch % config.record_every == 0 or epoch == config.epochs:
                record(epoch, lr, float(total) / len(batches))
            r = run.final
            bar.update(postfix=f"acc {r.accuracy:.3f} nc1 {r.nc1:.3g}")
    return run
