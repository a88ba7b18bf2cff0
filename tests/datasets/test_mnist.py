"""MNIST-family loaders over IDX files the tests write (raw and gzipped), and the IDX reader's errors."""

import gzip

import numpy as np
import pytest

import ember
from ember.datasets import KMNIST, MNIST, FashionMNIST, read_idx, write_idx
from ember.vision import transforms


def _make_split(folder, prefix, count, gz, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count).astype(np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_torchvision_layout(tmp_path, gz):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = _make_split(raw, "train", 6, gz)
    test_images, test_labels = _make_split(raw, "t10k", 3, gz, seed=1)
    train = MNIST(tmp_path)
    assert len(train) == 6 and train.data.shape == (6, 28, 28) and train.data.dtype == ember.uint8
    assert train.targets.dtype == ember.int64 and train.targets.tolist() == labels.tolist()
    image, label = train[4]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    np.testing.assert_array_equal(image, images[4])
    assert label == int(labels[4]) and isinstance(label, int)
    test = MNIST(str(tmp_path), train=False)
    np.testing.assert_array_equal(test.data.numpy(), test_images)
    assert test.targets.tolist() == test_labels.tolist()


def test_files_directly_in_root_and_totensor(tmp_path):
    images, _ = _make_split(tmp_path, "train", 2, gz=True)
    dataset = MNIST(tmp_path, transform=transforms.ToTensor(), target_transform=lambda y: -y)
    tensor, label = dataset[1]
    assert tensor.shape == (1, 28, 28) and tensor.dtype == ember.float32 and label <= 0
    np.testing.assert_allclose(tensor.numpy()[0], images[1] / 255.0, rtol=1e-6)


def test_fashion_and_kmnist_use_their_own_folders(tmp_path):
    for name in ("FashionMNIST", "KMNIST"):
        raw = tmp_path / name / "raw"
        raw.mkdir(parents=True)
        _make_split(raw, "t10k", 2, gz=False)
    assert len(FashionMNIST(tmp_path, train=False)) == 2 and FashionMNIST.classes[9] == "Ankle boot"
    assert len(KMNIST(tmp_path, train=False)) == 2
    with pytest.raises(FileNotFoundError, match="MNIST"):
        MNIST(tmp_path, train=False)


def test_missing_files_name_the_paths(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz") in message
    assert str(tmp_path / "train-images-idx3-ubyte") in message


def test_download_is_refused(tmp_path):
    with pytest.raises(ValueError, match="never downloads"):
        FashionMNIST(tmp_path, download=True)


def test_bad_magic_names_the_file(tmp_path):
    _make_split(tmp_path, "train", 2, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    raw = bytearray(path.read_bytes())
    raw[0] = 0x12
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="bad magic number") as info:
        MNIST(tmp_path)
    assert str(path) in str(info.value)
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(ValueError, match="shorter than the 4-byte magic"):
        read_idx(path)


def test_truncated_files(tmp_path):
    _make_split(tmp_path, "train", 3, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    full = path.read_bytes()
    path.write_bytes(full[:-10])
    with pytest.raises(ValueError, match="truncated") as info:
        MNIST(tmp_path)
    assert str(path) in str(info.value)
    path.write_bytes(full[:10])
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(path)
    path.write_bytes(full + b"\x00")
    with pytest.raises(ValueError, match="trailing data"):
        read_idx(path)
    gz_path = tmp_path / "x-idx3-ubyte.gz"
    gz_path.write_bytes(gzip.compress(full)[:-20])
    with pytest.raises(ValueError, match="gzip") as info:
        read_idx(gz_path)
    assert str(gz_path) in str(info.value)


def test_count_and_shape_mismatches(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        MNIST(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28), np.uint8))
    with pytest.raises(ValueError, match=r"expected uint8 images of shape \(N, H, W\)"):
        MNIST(tmp_path)


def test_idx_round_trip_other_dtypes(tmp_path):
    for array in (np.arange(6, dtype=np.int16).reshape(2, 3) - 3, np.linspace(0, 1, 4, dtype=np.float32),
                  np.arange(4, dtype=np.float64), np.arange(-2, 2, dtype=np.int8), np.arange(5, dtype=np.int32)):
        path = tmp_path / "a.idx"
        write_idx(path, array)
        loaded = read_idx(path)
        assert loaded.dtype == array.dtype.newbyteorder("=") and loaded.dtype.isnative
        np.testing.assert_array_equal(loaded, array)
    with pytest.raises(TypeError, match="IDX cannot store"):
        write_idx(tmp_path / "b.idx", np.zeros(2, np.int64))
