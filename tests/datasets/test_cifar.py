"""CIFAR loaders over pickle batches the tests write, and the restricted unpickler refusing code."""

import os
import pickle

import numpy as np
import pytest

from ember.datasets import CIFAR10, CIFAR100, restricted_pickle_load


def _batch(count, seed, labels_key="labels", num_classes=10):
    rng = np.random.default_rng(seed)
    return {"data": rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
            labels_key: rng.integers(0, num_classes, size=count).tolist(), "batch_label": "testing batch"}


def _write(path, obj, protocol=2):
    with open(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=protocol)


@pytest.fixture
def cifar10_root(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = [_batch(2, seed) for seed in range(5)]
    for index, batch in enumerate(batches, start=1):
        _write(folder / f"data_batch_{index}", batch, protocol=2 + index % 4)
    _write(folder / "test_batch", _batch(3, 9))
    _write(folder / "batches.meta", {"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": 2})
    return tmp_path, batches


def test_cifar10_items_and_layout(cifar10_root):
    root, batches = cifar10_root
    train = CIFAR10(root)
    assert len(train) == 10 and train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets == sum((b["labels"] for b in batches), [])
    image, label = train[3]
    planes = batches[1]["data"][1].reshape(3, 32, 32)  # item 3 is the second image of data_batch_2
    np.testing.assert_array_equal(image, planes.transpose(1, 2, 0))
    assert label == batches[1]["labels"][1] and isinstance(label, int)
    assert train.classes[2] == "class2" and train.class_to_idx["class9"] == 9
    assert len(CIFAR10(root, train=False)) == 3


def test_cifar10_without_meta_uses_standard_names(cifar10_root):
    root, _ = cifar10_root
    os.remove(root / "cifar-10-batches-py" / "batches.meta")
    assert CIFAR10(root, train=False).classes[0] == "airplane"


def test_cifar100_fine_labels_and_bytes_keys(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    train = _batch(4, 0, labels_key="fine_labels", num_classes=100)
    # Pickles written by Python 2 can carry byte-string keys; they are decoded.
    _write(folder / "train", {key.encode(): value for key, value in train.items()})
    _write(folder / "test", _batch(2, 1, labels_key="fine_labels", num_classes=100))
    _write(folder / "meta", {"fine_label_names": [f"fine{i}" for i in range(100)], "coarse_label_names": ["c"] * 20})
    dataset = CIFAR100(tmp_path)
    assert dataset.targets == train["fine_labels"] and dataset.classes[99] == "fine99"
    assert dataset[0][0].shape == (32, 32, 3)


def test_numpy1_pickles_load(tmp_path):
    """The real CIFAR files name numpy.core.multiarray (NumPy 1); that spelling is allowed too."""
    payload = pickle.dumps({"data": np.arange(5, dtype=np.uint8)}, protocol=2)
    assert b"numpy._core.multiarray" in payload
    (tmp_path / "old").write_bytes(payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    np.testing.assert_array_equal(restricted_pickle_load(tmp_path / "old")["data"], np.arange(5))


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_malicious_pickle_is_refused(cifar10_root):
    root, _ = cifar10_root
    marker = str(root / "pwned")
    batch = _batch(2, 0)
    batch["labels"] = _Exploit(marker)
    _write(root / "cifar-10-batches-py" / "data_batch_3", batch)
    with pytest.raises(ValueError, match="refusing to load global posix.mkdir|refusing to load global os.mkdir") as info:
        CIFAR10(root)
    assert "data_batch_3" in str(info.value)
    assert not os.path.exists(marker)
    (root / "evil").write_bytes(b"cos\nsystem\n(S'echo hi'\ntR.")
    with pytest.raises(ValueError, match="refusing to load global os.system"):
        restricted_pickle_load(root / "evil")


def test_corrupt_and_malformed_batches(cifar10_root):
    root, _ = cifar10_root
    path = root / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt") as info:
        CIFAR10(root, train=False)
    assert str(path) in str(info.value)
    _write(path, {"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]})
    with pytest.raises(ValueError, match=r"shape \(N, 3072\)"):
        CIFAR10(root, train=False)
    _write(path, {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]})
    with pytest.raises(ValueError, match="0..9"):
        CIFAR10(root, train=False)
    _write(path, {"data": np.zeros((2, 3072), np.uint8), "labels": [0]})
    with pytest.raises(ValueError, match="2 images but 1 labels"):
        CIFAR10(root, train=False)
    _write(path, [1, 2])
    with pytest.raises(ValueError, match="expected a pickled dict"):
        CIFAR10(root, train=False)


def test_missing_files_and_download(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10(tmp_path)
    assert str(tmp_path / "cifar-10-batches-py" / "data_batch_1") in str(info.value)
    with pytest.raises(ValueError, match="never downloads"):
        CIFAR100(tmp_path, download=True)
