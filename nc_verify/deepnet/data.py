"""Image sets for the deep-network experiments: CIFAR from local pickles, digits, synthetic.

Nothing here downloads anything and nothing here needs torch: images are numpy
arrays of shape (N, C, S, S) (float32, standardised per channel) with integer
labels (N,). CIFAR is read from the standard python-pickle batches in a directory
the user gives; scikit-learn's bundled 8x8 digits and Gaussian noise images stand
in when CIFAR is not at hand.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass

import numpy as np

from nc_verify.deepnet._imports import require_sklearn_digits
from nc_verify.utils.validation import as_rng, check_choice, check_int

#: Directory and file names of the python-pickle releases of CIFAR.
CIFAR_LAYOUT = {
    "cifar10": {
        "folder": "cifar-10-batches-py",
        "train": ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"),
        "test": ("test_batch",),
        "labels": "labels",
        "classes": 10,
    },
    "cifar100": {
        "folder": "cifar-100-python",
        "train": ("train",),
        "test": ("test",),
        "labels": "fine_labels",
        "classes": 100,
    },
}

#: Per-channel mean and standard deviation used to standardise CIFAR (the authors' values).
CIFAR_STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
    "cifar100": ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)),
}


@dataclass(frozen=True)
class ImageSet:
    """A labelled image set held in memory.

    Attributes
    ----------
    images : ndarray, shape (N, C, S, S), float32
        Standardised images.
    labels : ndarray, shape (N,), int64
        Class of each image, in ``0..num_classes-1``.
    num_classes : int
        K.
    name : str
        Where the images came from, e.g. ``"cifar10"`` or ``"digits"``.
    """

    images: np.ndarray
    labels: np.ndarray
    num_classes: int
    name: str

    def __post_init__(self):
        images, labels = self.images, self.labels
        if not isinstance(images, np.ndarray) or images.ndim != 4 or images.shape[2] != images.shape[3]:
            raise ValueError(f"images must be an array of shape (N, C, S, S), got {np.shape(images)}")
        if images.dtype != np.float32 or not np.all(np.isfinite(images)):
            raise ValueError("images must be finite float32")
        if (
            not isinstance(labels, np.ndarray)
            or labels.shape != (images.shape[0],)
            or not np.issubdtype(labels.dtype, np.integer)
        ):
            raise ValueError(f"labels must be an integer array of shape ({images.shape[0]},), got {np.shape(labels)}")
        check_int(self.num_classes, "num_classes", 2)
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"labels must lie in 0..{self.num_classes - 1}")

    @property
    def size(self) -> int:
        """Number of images N."""
        return int(self.labels.size)

    def class_counts(self) -> np.ndarray:
        """Images per class, shape (K,)."""
        return np.bincount(self.labels, minlength=self.num_classes)


def per_class_subset(labels, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` images of every class, in file order.

    Parameters
    ----------
    labels : array of int, shape (N,)
    per_class : int
        Images kept per class (the paper's n).

    Returns
    -------
    ndarray of int, shape (K * per_class,), sorted.
    """
    labels = np.asarray(labels)
    per_class = check_int(per_class, "per_class", 1)
    counts = np.bincount(labels)
    if counts.min() < per_class:
        cls = int(np.argmin(counts))
        raise ValueError(f"per_class={per_class} exceeds the {counts[cls]} images of class {cls}")
    # rank of each image within its class, in file order
    order = np.argsort(labels, kind="stable")
    rank = np.empty_like(order)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank[order] = np.arange(labels.size) - np.repeat(starts, counts)
    return np.flatnonzero(rank < per_class)


def randomize_labels(data: ImageSet, *, rng=None, seed=None) -> ImageSet:
    """The same images with their labels shuffled by a seeded permutation.

    The class counts are kept (a balanced set stays balanced) while the labels no
    longer depend on the images: the random-label setting of Figure 4.
    """
    gen = as_rng(rng, seed)
    return ImageSet(data.images, gen.permutation(data.labels), data.num_classes, data.name + "-random-labels")


def _standardise(images: np.ndarray, mean, std) -> np.ndarray:
    mean = np.asarray(mean, dtype=np.float64).reshape(1, -1, 1, 1)
    std = np.asarray(std, dtype=np.float64).reshape(1, -1, 1, 1)
    return ((images - mean) / std).astype(np.float32)


def _read_pickle(path: str) -> dict:
    # The CIFAR batches are python-2 pickles of dicts with byte-string keys.
    with open(path, "rb") as fh:
        raw = pickle.load(fh, encoding="bytes")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in raw.items()}


def cifar_directory(directory, dataset: str) -> str:
    """The folder that holds the batches of ``dataset``: ``directory`` itself or its standard subfolder."""
    dataset = check_choice(dataset, "dataset", tuple(CIFAR_LAYOUT))
    layout = CIFAR_LAYOUT[dataset]
    directory = os.fspath(directory)
    for cand in (directory, os.path.join(directory, layout["folder"])):
        if all(os.path.isfile(os.path.join(cand, f)) for f in layout["train"]):
            return cand
    expected = ", ".join(layout["train"] + layout["test"])
    raise FileNotFoundError(
        f"no {dataset} python-pickle batches in {directory!r} (nor in its subfolder {layout['folder']!r}); "
        f"expected the files {expected}. nc-verify never downloads data: unpack the python version "
        f"of {dataset.upper()} (the {layout['folder']} archive from the CIFAR web page) there first"
    )


def load_cifar(directory, dataset: str = "cifar10", *, per_class=None, train: bool = True) -> ImageSet:
    """CIFAR-10 or CIFAR-100 from the python-pickle batches in a local directory.

    Parameters
    ----------
    directory : path
        Folder holding the batches (``data_batch_1``.. ``data_batch_5`` and
        ``test_batch`` for CIFAR-10; ``train`` and ``test`` for CIFAR-100), or its
        parent holding ``cifar-10-batches-py`` / ``cifar-100-python``.
    dataset : {"cifar10", "cifar100"}
    per_class : int or None
        Keep the first ``per_class`` images of each class in file order (the
        authors' subsets: n = 200 for Figure 4, n = 30 for Figure 6); None keeps all.
    train : bool
        Training batches (default) or the test batch.

    Returns
    -------
    ImageSet
        Images (N, 3, 32, 32) scaled to [0, 1] and standardised with the
        authors' per-channel statistics (:data:`CIFAR_STATS`); fine labels for CIFAR-100.
    """
    folder = cifar_directory(directory, dataset)
    layout = CIFAR_LAYOUT[dataset]
    names = layout["train"] if train else layout["test"]
    data, labels = [], []
    for name in names:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"missing CIFAR file {path!r}")
        batch = _read_pickle(path)
        if "data" not in batch or layout["labels"] not in batch:
            raise ValueError(f"{path!r} is not a {dataset} batch: it lacks the keys 'data' and {layout['labels']!r}")
        data.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[layout["labels"]], dtype=np.int64))
    images = np.concatenate(data)
    y = np.concatenate(labels)
    if y.size != images.shape[0]:
        raise ValueError(f"{folder!r}: {images.shape[0]} images but {y.size} labels")
    if per_class is not None:
        keep = per_class_subset(y, per_class)
        images, y = images[keep], y[keep]
    mean, std = CIFAR_STATS[dataset]
    return ImageSet(_standardise(images / 255.0, mean, std), y, layout["classes"], dataset)


def load_digits(per_class=None, *, size: int = 32, channels: int = 3) -> ImageSet:
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes) as an image set.

    Needs no download. Pixels (0..16) are scaled to [0, 1], copied to ``channels``
    channels, enlarged to ``size`` x ``size`` by pixel repetition (``size`` a
    multiple of 8) and standardised per channel with the set's own mean and std.
    ``per_class`` keeps the first images of each class (at most 174: the
    smallest class).
    """
    size = check_int(size, "size", 8)
    channels = check_int(channels, "channels", 1)
    if size % 8:
        raise ValueError(f"size must be a multiple of 8 (the digits are 8x8), got {size}")
    bunch = require_sklearn_digits()()
    images = np.asarray(bunch.images, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    if per_class is not None:
        keep = per_class_subset(y, per_class)
        images, y = images[keep], y[keep]
    f = size // 8
    images = np.repeat(np.repeat(images, f, axis=1), f, axis=2)
    images = np.repeat(images[:, None], channels, axis=1)
    mean, std = images.mean(), images.std()
    return ImageSet(_standardise(images, [mean] * channels, [std] * channels), y, 10, "digits")


def synthetic_images(num_classes: int, per_class: int, *, size: int = 16, channels: int = 3, rng=None, seed=None) -> ImageSet:
    """Standard Gaussian noise images with balanced labels: a set that can only be memorised.

    Image ``j`` has label ``j // per_class``; the pixels are independent of the
    label, so fitting the set is the random-label task of Figure 4.
    """
    K = check_int(num_classes, "num_classes", 2)
    n = check_int(per_class, "per_class", 1)
    size = check_int(size, "size", 1)
    channels = check_int(channels, "channels", 1)
    gen = as_rng(rng, seed)
    images = gen.standard_normal((K * n, channels, size, size)).astype(np.float32)
    return ImageSet(images, np.repeat(np.arange(K, dtype=np.int64), n), K, "synthetic")
