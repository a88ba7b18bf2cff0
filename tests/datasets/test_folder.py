"""ImageFolder / DatasetFolder over generated PNG and .npy trees."""

import sys

import numpy as np
import pytest

import ember
from ember.datasets import DatasetFolder, ImageFolder, default_loader
from ember.vision import transforms


def _png_tree(root):
    Image = pytest.importorskip("PIL.Image")
    colours = {"cat": (255, 0, 0), "dog": (0, 255, 0)}
    for name, colour in colours.items():
        (root / name / "nested").mkdir(parents=True)
        Image.new("RGB", (5, 4), colour).save(root / name / "a.png")
        Image.new("L", (5, 4), 200).save(root / name / "nested" / "b.PNG")
        (root / name / "notes.txt").write_text("not an image")
    return colours


def test_imagefolder_png(tmp_path):
    colours = _png_tree(tmp_path)
    folder = ImageFolder(tmp_path)
    assert folder.classes == ["cat", "dog"] and folder.class_to_idx == {"cat": 0, "dog": 1}
    assert [path.split("/")[-1] for path, _ in folder.samples] == ["a.png", "b.PNG", "a.png", "b.PNG"]
    assert folder.targets == [0, 0, 1, 1] and folder.imgs is folder.samples
    image, label = folder[2]
    assert image.dtype == np.uint8 and image.shape == (4, 5, 3) and label == 1
    assert tuple(image[0, 0]) == colours["dog"]
    gray, _ = folder[1]
    assert gray.shape == (4, 5, 3) and np.all(gray == 200)  # converted to RGB like torchvision
    tensor, _ = ImageFolder(tmp_path, transform=transforms.ToTensor())[0]
    assert tensor.shape == (3, 4, 5) and tensor.dtype == ember.float32 and float(tensor[0, 0, 0]) == 1.0


def test_imagefolder_npy_without_pillow(tmp_path, monkeypatch):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        np.save(tmp_path / name / "0.npy", np.full((3, 3), ord(name), dtype=np.uint8))
    (tmp_path / "b" / "1.png").write_bytes(b"not really a png")
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    folder = ImageFolder(tmp_path)
    image, label = folder[0]
    assert image.shape == (3, 3) and image[0, 0] == ord("a") and label == 0
    with pytest.raises(ImportError, match=r"pip install ember\[vision\]") as info:
        folder[2]
    assert "1.png" in str(info.value)


def test_is_valid_file_and_custom_loader(tmp_path):
    for name in ("x", "y"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "keep.dat").write_text(name * 2)
        (tmp_path / name / "skip.dat").write_text("no")
    folder = DatasetFolder(tmp_path, loader=lambda p: open(p).read(), is_valid_file=lambda p: "keep" in p,
                           target_transform=str)
    assert len(folder) == 2 and folder[1] == ("yy", "1")
    with pytest.raises(ValueError, match="cannot be None or not None"):
        DatasetFolder(tmp_path, loader=open)


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ImageFolder(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    np.save(tmp_path / "full" / "0.npy", np.zeros((2, 2)))
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        ImageFolder(tmp_path)
    assert len(ImageFolder(tmp_path, allow_empty=True)) == 1
    (tmp_path / "full" / "bad.npy").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.npy"):
        default_loader(str(tmp_path / "full" / "bad.npy"))


def test_corrupt_image_names_file(tmp_path):
    pytest.importorskip("PIL.Image")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="x.png"):
        ImageFolder(tmp_path)[0]
