"""Image sets of the torch extra: CIFAR pickle reader, subsets, random labels, stand-ins (no torch needed)."""

import pickle

import numpy as np
import pytest

from nc_verify.deepnet.data import (
    CIFAR_STATS,
    ImageSet,
    load_cifar,
    load_digits,
    per_class_subset,
    randomize_labels,
    synthetic_images,
)

# float32 rounding of a standardised pixel (|value| < 3 / 0.19 ~ 16): 16 * 2^-24 ~ 1e-6.
F32_TOL = 2e-6


def _write_batch(path, data, labels, label_key):
    # The CIFAR releases are python-2 pickles: byte-string keys, uint8 rows of 3072.
    with open(path, "wb") as fh:
        pickle.dump({b"batch_label": b"test", label_key: list(map(int, labels)), b"data": data}, fh, protocol=2)


@pytest.fixture
def cifar10_dir(tmp_path):
    """A miniature CIFAR-10 in the standard layout: 5 training batches of 6 images, 1 test batch."""
    rng = np.random.default_rng(0)
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    batches = []
    for i in range(1, 6):
        data = rng.integers(0, 256, size=(6, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=6)
        _write_batch(root / f"data_batch_{i}", data, labels, b"labels")
        batches.append((data, labels))
    _write_batch(root / "test_batch", rng.integers(0, 256, size=(4, 3072), dtype=np.uint8), [0, 1, 2, 3], b"labels")
    data = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    return tmp_path, data, labels


class TestCifarReader:
    def test_pixels_and_labels(self, cifar10_dir):
        parent, raw, labels = cifar10_dir
        ds = load_cifar(parent, "cifar10")
        assert ds.images.shape == (30, 3, 32, 32) and ds.images.dtype == np.float32
        np.testing.assert_array_equal(ds.labels, labels)
        mean, std = CIFAR_STATS["cifar10"]
        # pixel (c, i, j) of image r is byte r, c*1024 + 32 i + j
        for r, c, i, j in [(0, 0, 0, 0), (7, 1, 5, 31), (29, 2, 31, 0)]:
            expected = (raw[r, c * 1024 + 32 * i + j] / 255.0 - mean[c]) / std[c]
            assert abs(ds.images[r, c, i, j] - expected) <= F32_TOL
        assert ds.num_classes == 10 and ds.name == "cifar10"

    def test_directory_itself_or_parent(self, cifar10_dir):
        parent, _, _ = cifar10_dir
        a = load_cifar(parent, "cifar10")
        b = load_cifar(parent / "cifar-10-batches-py", "cifar10")
        np.testing.assert_array_equal(a.images, b.images)

    def test_test_batch(self, cifar10_dir):
        parent, _, _ = cifar10_dir
        ds = load_cifar(parent, "cifar10", train=False)
        np.testing.assert_array_equal(ds.labels, [0, 1, 2, 3])

    def test_per_class_takes_first_in_file_order(self, tmp_path):
        root = tmp_path / "cifar-10-batches-py"
        root.mkdir()
        labels = np.tile(np.arange(10), 3)  # every class three times per batch
        for i in range(1, 6):
            data = np.full((30, 3072), i, dtype=np.uint8)  # batch number as pixel value
            _write_batch(root / f"data_batch_{i}", data, labels, b"labels")
        ds = load_cifar(tmp_path, per_class=4)
        assert ds.size == 40
        np.testing.assert_array_equal(ds.class_counts(), np.full(10, 4))
        # the first 3 of each class come from batch 1, the 4th from batch 2
        mean, std = CIFAR_STATS["cifar10"]
        batch_of = np.round((ds.images[:, 0, 0, 0] * std[0] + mean[0]) * 255).astype(int)
        assert sorted(batch_of.tolist()) == [1] * 30 + [2] * 10

    def test_cifar100_fine_labels(self, tmp_path):
        root = tmp_path / "cifar-100-python"
        root.mkdir()
        rng = np.random.default_rng(1)
        fine = np.repeat(np.arange(100), 2)
        with open(root / "train", "wb") as fh:
            pickle.dump(
                {b"data": rng.integers(0, 256, (200, 3072), dtype=np.uint8), b"fine_labels": fine.tolist(), b"coarse_labels": (fine // 5).tolist()},
                fh,
                protocol=2,
            )
        ds = load_cifar(tmp_path, "cifar100", per_class=1)
        assert ds.num_classes == 100 and ds.size == 100
        np.testing.assert_array_equal(ds.labels, np.arange(100))

    def test_missing_directory_names_expected_files(self, tmp_path):
        with pytest.raises(FileNotFoundError, match=r"data_batch_1.*test_batch.*never downloads"):
            load_cifar(tmp_path / "nowhere", "cifar10")
        with pytest.raises(FileNotFoundError, match=r"cifar-100-python.*expected the files train, test"):
            load_cifar(tmp_path, "cifar100")

    def test_wrong_content(self, tmp_path):
        root = tmp_path / "cifar-100-python"
        root.mkdir()
        with open(root / "train", "wb") as fh:
            pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}, fh)
        with pytest.raises(ValueError, match="fine_labels"):
            load_cifar(tmp_path, "cifar100")

    def test_unknown_dataset(self, tmp_path):
        with pytest.raises(ValueError, match="unknown dataset 'cifar20'"):
            load_cifar(tmp_path, "cifar20")

    def test_too_few_per_class(self, cifar10_dir):
        parent, _, labels = cifar10_dir
        with pytest.raises(ValueError, match="per_class=100 exceeds"):
            load_cifar(parent, per_class=100)


class TestSubsetsAndLabels:
    def test_per_class_subset(self):
        labels = np.array([2, 0, 2, 1, 0, 2, 1, 0, 1])
        np.testing.assert_array_equal(per_class_subset(labels, 2), [0, 1, 2, 3, 4, 6])
        with pytest.raises(ValueError, match="per_class must be >= 1"):
            per_class_subset(labels, 0)

    def test_randomize_labels_keeps_counts_and_is_seeded(self):
        ds = synthetic_images(4, 25, size=4, seed=0)
        a = randomize_labels(ds, seed=3)
        b = randomize_labels(ds, seed=3)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.class_counts(), ds.class_counts())
        assert np.mean(a.labels != ds.labels) > 0.5  # 100 labels shuffled: ~3/4 change
        assert a.images is ds.images

    def test_synthetic(self):
        ds = synthetic_images(3, 4, size=8, channels=1, seed=1)
        assert ds.images.shape == (12, 1, 8, 8)
        np.testing.assert_array_equal(ds.labels, np.repeat(np.arange(3), 4))
        np.testing.assert_array_equal(ds.images, synthetic_images(3, 4, size=8, channels=1, seed=1).images)
        with pytest.raises(ValueError, match="num_classes must be >= 2"):
            synthetic_images(1, 4)

    def test_imageset_validation(self):
        x = np.zeros((2, 3, 4, 4), np.float32)
        with pytest.raises(ValueError, match="labels must lie in 0..1"):
            ImageSet(x, np.array([0, 2]), 2, "x")
        with pytest.raises(ValueError, match="float32"):
            ImageSet(x.astype(np.float64), np.array([0, 1]), 2, "x")
        with pytest.raises(ValueError, match=r"shape \(N, C, S, S\)"):
            ImageSet(np.zeros((2, 3, 4, 5), np.float32), np.array([0, 1]), 2, "x")


class TestDigits:
    def test_digits(self):
        pytest.importorskip("sklearn", reason="the digits stand-in needs scikit-learn")
        ds = load_digits(10, size=16)
        assert ds.images.shape == (100, 3, 16, 16) and ds.num_classes == 10
        np.testing.assert_array_equal(ds.class_counts(), np.full(10, 10))
        # standardised over the set; each 8x8 pixel became a 2x2 block
        assert abs(float(ds.images.mean())) < 1e-5 and abs(float(ds.images.std()) - 1) < 1e-5
        np.testing.assert_array_equal(ds.images[:, :, 0::2, 0::2], ds.images[:, :, 1::2, 1::2])
        with pytest.raises(ValueError, match="multiple of 8"):
            load_digits(10, size=12)

    def test_full_digits(self):
        pytest.importorskip("sklearn", reason="the digits stand-in needs scikit-learn")
        ds = load_digits(size=8)
        assert ds.size == 1797 and ds.images.shape[1:] == (3, 8, 8)
