"""ArrayDataset (.npy/.npz/arrays) and CSVDataset."""

import gzip

import numpy as np
import pytest

import ember
from ember.datasets import ArrayDataset, CSVDataset
from ember.vision import transforms


def test_npz_default_and_explicit_keys(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.savez(tmp_path / "a.npz", features=x, labels=np.array([0, 1, 0, 2]), other=np.zeros(4))
    dataset = ArrayDataset(tmp_path / "a.npz")
    sample, target = dataset[3]
    np.testing.assert_array_equal(sample, x[3])
    assert target == 2 and isinstance(target, int) and len(dataset) == 4
    sample[0] = -1  # items are copies
    assert dataset.data[3, 0] == 9
    by_key = ArrayDataset(tmp_path / "a.npz", data_key="other", targets_key="features")
    assert by_key[1][0] == 0.0 and by_key[1][1].shape == (3,)
    with pytest.raises(KeyError, match="no array 'nope'"):
        ArrayDataset(tmp_path / "a.npz", data_key="nope")
    np.savez(tmp_path / "b.npz", weird=x)
    with pytest.raises(KeyError, match="data_key="):
        ArrayDataset(tmp_path / "b.npz")


def test_npy_images_with_separate_targets(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 6, 7, 3), dtype=np.uint8)
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", np.arange(5))
    dataset = ArrayDataset(tmp_path / "x.npy", tmp_path / "y.npy", transform=transforms.ToTensor(), mmap_mode="r")
    tensor, label = dataset[2]
    assert tensor.shape == (3, 6, 7) and tensor.dtype == ember.float32 and label == 2
    np.testing.assert_allclose(tensor.numpy(), images[2].transpose(2, 0, 1) / 255, rtol=1e-6)
    unlabeled = ArrayDataset(str(tmp_path / "x.npy"))
    assert unlabeled[0].shape == (6, 7, 3)


def test_label_column_and_in_memory_inputs():
    table = np.array([[1.0, 2.0, 1.0], [3.0, 4.0, 0.0]])
    dataset = ArrayDataset(table, label_column=2)
    assert dataset[0][1] == 1 and isinstance(dataset[0][1], int) and dataset.data.shape == (2, 2)
    regression = ArrayDataset(ember.tensor([[1.0, 0.5], [2.0, 1.5]]), label_column=-1)
    assert regression[1] == (pytest.approx(np.array([2.0])), 1.5)
    assert ArrayDataset([1, 2, 3], targets=[4, 5, 6])[2] == (3, 6)


def test_array_errors(tmp_path):
    with pytest.raises(ValueError, match="3 samples but 2 targets"):
        ArrayDataset(np.zeros((3, 2)), targets=[0, 1])
    with pytest.raises(ValueError, match="either targets or label_column"):
        ArrayDataset(np.zeros((3, 2)), targets=[0, 1, 2], label_column=0)
    with pytest.raises(IndexError, match="out of range"):
        ArrayDataset(np.zeros((3, 2)), label_column=5)
    with pytest.raises(TypeError, match="NumPy array"):
        ArrayDataset({"a": 1})
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        ArrayDataset(tmp_path / "missing.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="objects.npy"):
        ArrayDataset(tmp_path / "objects.npy")
    with pytest.raises(ValueError, match="no targets"):
        ArrayDataset(np.zeros(3), target_transform=str)


def test_csv_header_named_label_and_gzip(tmp_path):
    text = "a,b,label\n1.5,2,0\n3,4.25,2\n"
    (tmp_path / "t.csv").write_text(text)
    with gzip.open(tmp_path / "t.csv.gz", "wt") as handle:
        handle.write(text)
    for name in ("t.csv", "t.csv.gz"):
        dataset = CSVDataset(tmp_path / name, label_column="label")
        assert dataset.feature_names == ["a", "b"] and dataset.label_name == "label"
        features, label = dataset[1]
        np.testing.assert_array_equal(features, np.array([3, 4.25], dtype=np.float32))
        assert features.dtype == np.float32 and label == 2 and isinstance(label, int)
    first = CSVDataset(tmp_path / "t.csv", label_column=0, transform=ember.as_tensor)
    assert first[0][1] == 1.5 and first[0][0].tolist() == [2.0, 0.0]


def test_csv_without_header_and_without_labels(tmp_path):
    (tmp_path / "n.csv").write_text("1;2;3\n4;5;6\n")
    assert len(CSVDataset(tmp_path / "n.csv", delimiter=";")) == 2
    dataset = CSVDataset(tmp_path / "n.csv", label_column=None, delimiter=";", header=False)
    assert dataset.feature_names is None and dataset[1].tolist() == [4.0, 5.0, 6.0]


def test_csv_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,2\n3\n")
    with pytest.raises(ValueError, match="line 2 has 1 fields, expected 2"):
        CSVDataset(path)
    path.write_text("x,y\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match="line 3 has the non-numeric value 'oops'"):
        CSVDataset(path)
    path.write_text("1,2\n")
    with pytest.raises(ValueError, match="no header"):
        CSVDataset(path, label_column="y")
    path.write_text("x,y\n1,2\n")
    with pytest.raises(KeyError, match="no column 'z'"):
        CSVDataset(path, label_column="z")
    path.write_text("")
    with pytest.raises(ValueError, match="empty"):
        CSVDataset(path)
    with pytest.raises(FileNotFoundError, match="nothing.csv"):
        CSVDataset(tmp_path / "nothing.csv")
