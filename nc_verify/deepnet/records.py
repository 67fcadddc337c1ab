"""Training settings and per-epoch records of the deep-network runs (no torch needed)."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import asdict, dataclass, field, fields

from nc_verify.utils.validation import check_int, check_positive_float


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings; the defaults are the authors' (SGD, no optimiser weight decay).

    Attributes
    ----------
    epochs : int
        Passes over the training set (200 for Figure 4, 100 for Figure 6).
    lr, momentum : float
        SGD step size 0.05 and heavy-ball momentum 0.9.
    lr_decay, lr_decay_period : float, int
        Step decay: the step size is multiplied by 0.1 every 40 epochs.
    batch_size : int
        128; the training set is reshuffled every epoch.
    weight_decay : float
        The regularised head's penalty weight on ``W`` and on the features (1e-4);
        unused by the normalised head.
    seed : int
        Seeds the network's initialisation and the batch order.
    record_every : int
        Measure the training set after every ``record_every``-th epoch (1: every
        epoch; the authors measured every 5th). Epoch 0 and the last epoch are
        always measured. The NC metrics need a d x d eigendecomposition, which
        dominates short epochs of wide networks.
    eval_batch_size : int
        Batch size of the full-set feature pass (no effect on results).
    """

    epochs: int = 200
    lr: float = 0.05
    momentum: float = 0.9
    lr_decay: float = 0.1
    lr_decay_period: int = 40
    batch_size: int = 128
    weight_decay: float = 1e-4
    seed: int = 0
    record_every: int = 1
    eval_batch_size: int = 512

    def __post_init__(self):
        check_int(self.epochs, "epochs", 0)
        check_positive_float(self.lr, "lr")
        if not (isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        check_positive_float(self.lr_decay, "lr_decay")
        check_int(self.lr_decay_period, "lr_decay_period", 1)
        check_int(self.batch_size, "batch_size", 1)
        if not (isinstance(self.weight_decay, (int, float)) and math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be finite and >= 0, got {self.weight_decay!r}")
        check_int(self.seed, "seed", 0)
        check_int(self.record_every, "record_every", 1)
        check_int(self.eval_batch_size, "eval_batch_size", 1)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EpochRecord:
    """Training-set measurements after an epoch (epoch 0: at initialisation).

    All of them come from one pass over the full training set in evaluation mode
    (batch-norm running statistics), the features cast to float64.

    Attributes
    ----------
    epoch : int
    lr : float
        Step size used during this epoch (NaN for epoch 0).
    objective : float
        Mean of the minibatch training objectives during the epoch (NaN for epoch 0);
        includes the penalties of the regularised head.
    loss : float
        Cross-entropy of the full training set.
    accuracy : float
        Fraction of training images classified correctly.
    nc1, nc2, nc3 : float
        :func:`nc_verify.objective.metrics.nc_metrics` of the classifier ``W`` (d, K) and the
        features ``H`` (d, N).
    seconds : float
        Wall time since training started.
    """

    epoch: int
    lr: float
    objective: float
    loss: float
    accuracy: float
    nc1: float
    nc2: float
    nc3: float
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


#: Columns of the CSV files: run description followed by the epoch record.
CSV_COLUMNS = ("run", "arch", "width", "head", "tau", "dataset", "N", "K", "d") + tuple(f.name for f in fields(EpochRecord))


@dataclass
class TrainingRun:
    """One network trained on one image set, with its per-epoch records."""

    label: str
    arch: str
    width: int
    head: str
    tau: float
    dataset: str
    num_samples: int
    num_classes: int
    feature_dim: int
    device: str
    config: TrainConfig
    records: list = field(default_factory=list)

    def column(self, name: str) -> list:
        """One field of every record, in epoch order."""
        return [getattr(r, name) for r in self.records]

    @property
    def final(self) -> EpochRecord:
        """The last record."""
        return self.records[-1]

    def first_epoch_at(self, accuracy: float = 1.0):
        """First epoch whose training accuracy is at least ``accuracy``, or None."""
        return next((r.epoch for r in self.records if r.accuracy >= accuracy), None)

    def csv_rows(self) -> list:
        head = (self.label, self.arch, self.width, self.head, self.tau, self.dataset, self.num_samples, self.num_classes, self.feature_dim)
        return [head + tuple(asdict(r).values()) for r in self.records]

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("config", "records")}
        out["config"] = self.config.as_dict()
        out["records"] = [r.as_dict() for r in self.records]
        return out


def write_csv(path, runs) -> str:
    """Write the records of ``runs`` (TrainingRun) to one CSV file (columns :data:`CSV_COLUMNS`)."""
    path = os.fspath(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for run in runs:
            writer.writerows(run.csv_rows())
    return path
