"""Digits: the shipped UCI handwritten digits, its fixed split and its items."""

import gzip
import os
import time

import numpy as np
import pytest

import ember
from ember.datasets import Digits
from ember.datasets import digits as digits_module


def _file_rows():
    with gzip.open(digits_module._SHIPPED_FILE, "rt") as handle:
        return np.loadtxt(handle, delimiter=",", dtype=np.int64)


def test_counts_and_split_sizes():
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    assert len(train) + len(test) == 1797 == len(_file_rows())


def test_split_is_stratified_disjoint_and_covers_the_file():
    rows = _file_rows()
    train, test = Digits(train=True), Digits(train=False)
    file_counts = np.bincount(rows[:, 64], minlength=10)
    test_counts = np.bincount(test.targets.numpy(), minlength=10)
    assert np.all(np.abs(test_counts - file_counts * 360 / 1797) < 1)
    assert np.array_equal(test_counts + np.bincount(train.targets.numpy(), minlength=10), file_counts)
    # Every file row is in exactly one split (compare whole rows: pixels and label).
    both = np.concatenate([np.concatenate([d.data.numpy().reshape(-1, 64), d.targets.numpy()[:, None]], axis=1)
                           for d in (train, test)])
    assert sorted(map(tuple, both.tolist())) == sorted(map(tuple, rows.tolist()))


def test_split_is_deterministic_and_independent_of_the_global_seed():
    first = Digits(train=False).targets.numpy().copy()
    ember.manual_seed(123)
    np.random.seed(5)
    digits_module._CACHE.clear()
    assert np.array_equal(Digits(train=False).targets.numpy(), first)
    # The documented split, spelled out independently.
    rows = _file_rows()
    labels = rows[:, 64]
    quota = np.bincount(labels) * 360 / 1797
    per_class = np.floor(quota).astype(int)
    per_class[np.argsort(-(quota - per_class), kind="stable")[:360 - per_class.sum()]] += 1
    rng = np.random.Generator(np.random.PCG64(0))
    test_rows = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class[c]] for c in range(10)]))
    assert np.array_equal(Digits(train=False).data.numpy().reshape(-1, 64), rows[test_rows, :64])


def test_items_and_pixel_ranges():
    train = Digits()
    image, label = train[5]
    assert image.shape == (1, 8, 8) and image.dtype == ember.float32 and isinstance(label, int)
    np.testing.assert_array_equal(image.numpy()[0], train.data.numpy()[5] / 16)
    assert train.data.dtype == ember.uint8 and int(train.data.max()) == 16 and int(train.data.min()) == 0
    assert train.targets.dtype == ember.int64
    scaled = train._scaled
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert train.classes[3] == "3 - three" and train.class_to_idx["9 - nine"] == 9
    image[0, 0, 0] = 5.0  # items are copies: the dataset is unchanged
    assert float(train[5][0][0, 0, 0]) == float(train.data[5, 0, 0]) / 16


def test_transforms_apply():
    dataset = Digits(train=False, transform=lambda x: x * 2, target_transform=lambda y: y + 100)
    image, label = dataset[0]
    reference_image, reference_label = Digits(train=False)[0]
    assert label == reference_label + 100
    np.testing.assert_array_equal(image.numpy(), reference_image.numpy() * 2)


def test_load_is_fast_and_cached():
    Digits()
    start = time.perf_counter()
    Digits(train=True), Digits(train=False)
    assert time.perf_counter() - start < 0.1


def test_custom_root(tmp_path):
    rows = np.zeros((10, 65), dtype=np.int64)
    rows[:, 64] = np.arange(10)
    rows[:, 0] = 16
    np.savetxt(tmp_path / "digits.csv", rows, fmt="%d", delimiter=",")
    train, test = Digits(root=tmp_path), Digits(root=tmp_path, train=False)
    assert len(train) + len(test) == 10 and len(test) == 2
    assert float(train[0][0][0, 0, 0]) == 1.0


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="digits.csv.gz"):
        Digits(root=tmp_path)
    (tmp_path / "digits.csv").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="65"):
        Digits(root=tmp_path)
    (tmp_path / "digits.csv").write_text(",".join(["17"] * 64 + ["1"]) + "\n")
    with pytest.raises(ValueError, match="0..16"):
        Digits(root=tmp_path)


def test_license_file_is_shipped():
    text = open(os.path.join(os.path.dirname(digits_module._SHIPPED_FILE), "LICENSE-digits.txt")).read()
    assert "CC BY 4.0" in text and "Alpaydin" in text and "Kaynak" in text


def test_dataloader_batches_digits_and_mnist(tmp_path):
    data = pytest.importorskip("ember.utils.data")
    from ember.datasets import MNIST, write_idx
    from ember.vision import transforms
    images, labels = next(iter(data.DataLoader(Digits(), batch_size=8, shuffle=False)))
    assert images.shape == (8, 1, 8, 8) and images.dtype == ember.float32
    assert labels.dtype == ember.int64 and labels.tolist() == Digits().targets[:8].tolist()
    assert isinstance(Digits(), data.Dataset) and len(Digits() + Digits(train=False)) == 1797
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(5, dtype=np.uint8))
    mnist = MNIST(tmp_path, transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]))
    batch, targets = next(iter(data.DataLoader(mnist, batch_size=5)))
    assert batch.shape == (5, 1, 28, 28) and float(batch.min()) == -1.0 and targets.tolist() == [0, 1, 2, 3, 4]
