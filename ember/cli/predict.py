"""``ember predict CHECKPOINT INPUT...``: the predicted class (and its probability) of each sample.

Classes print as their index, or as their name when the checkpoint has a ``classes`` list. INPUT is a
``.npy``/``.npz`` array of samples, a ``.csv`` file of rows, or image files (with Pillow installed) or
folders of them. Samples may be given as rows of values (``(N, 64)`` for the 8x8 digits), images ``(N, H, W)``
or ``(N, C, H, W)``, or one sample without the batch dimension. Values in [0, 1] are used as they are; larger
values are taken as raw pixel values (0..16 for the digits, 0..255 for 8-bit images) and scaled to [0, 1], as the
training data was. Images are resized to the model's input size; for one-channel models trained on light strokes
on a dark background (the digits, MNIST), an image with a light background is inverted first.

>>> from ember.cli.predict import top_k
>>> top_k(np.array([[0.1, 0.7, 0.2]]), 2)
(array([[1, 2]]), array([[0.7, 0.2]]))
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import ember
from ember.cli.common import CLIError, model_from_checkpoint, normalize, positive_int, read_checkpoint

__all__ = ["add_arguments", "run", "top_k", "samples_from_array", "read_inputs"]

_NPZ_KEYS = ("data", "x", "X", "features", "images", "inputs", "x_test")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``ember predict``'s arguments to ``parser``.

    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["model.safetensors", "a.npy", "--top-k", "3"]).top_k
    3
    """
    parser.add_argument("checkpoint", help="a checkpoint saved by `ember train`")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="a .npy/.npz/.csv file of samples, image files (needs Pillow), or folders of images")
    parser.add_argument("--top-k", type=positive_int, default=1, help="show the k most likely classes (default: 1)")


def top_k(probabilities: np.ndarray, k: int):
    """``(classes, probabilities)`` of the ``k`` most likely classes per row, most likely first.

    >>> top_k(np.array([[0.2, 0.5, 0.3]]), 1)
    (array([[1]]), array([[0.5]]))
    """
    classes = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return classes, np.take_along_axis(probabilities, classes, axis=1)


def samples_from_array(array: np.ndarray, input_shape, what: str) -> np.ndarray:
    """Reshape ``array`` into float32 samples of ``input_shape`` (C, H, W); a wrong shape raises :class:`CLIError`.

    >>> samples_from_array(np.zeros((5, 64)), [1, 8, 8], "x").shape
    (5, 1, 8, 8)
    >>> samples_from_array(np.zeros((8, 8)), [1, 8, 8], "x").shape
    (1, 1, 8, 8)
    """
    channels, height, width = input_shape
    size = channels * height * width
    shape = tuple(array.shape)
    if array.dtype.kind not in "iufb":
        raise CLIError(f"{what} holds {array.dtype} values; expected numbers")
    if shape[-3:] == (channels, height, width):
        samples = array.reshape(-1, channels, height, width)
    elif channels == 1 and shape[-2:] == (height, width):
        samples = array.reshape(-1, 1, height, width)
    elif channels > 1 and shape[-3:] == (height, width, channels):
        samples = array.reshape(-1, height, width, channels).transpose(0, 3, 1, 2)
    elif array.ndim <= 2 and shape[-1:] == (size,):
        samples = array.reshape(-1, channels, height, width)
    else:
        expected = f"(N, {size})" + (f", (N, {height}, {width})" if channels == 1 else "") + f" or (N, {channels}, {height}, {width})"
        raise CLIError(f"{what} has shape {shape}; the model takes samples of shape {list(input_shape)}: give an array of "
                       f"shape {expected}, or one sample without the N")
    return np.ascontiguousarray(samples, dtype=np.float32)


def _scale(samples: np.ndarray, raw_max: float, what: str):
    """Raw pixel values -> the [0, 1] range the model was trained on; returns (samples, note or None)."""
    top = float(samples.max()) if samples.size else 0.0
    if raw_max <= 1.0 or top <= 1.0:
        return samples, None
    if top <= raw_max:
        return samples / np.float32(raw_max), f"{what}: values up to {top:g} taken as raw pixel values (divided by {raw_max:g})"
    if top <= 255.0:
        return samples / np.float32(255), f"{what}: values up to {top:g} taken as 8-bit pixel values (divided by 255)"
    raise CLIError(f"{what} has values up to {top:g}; expected values in [0, 1] or raw pixel values up to {raw_max:g}")


def _read_image(path: str, input_shape, invert_light_background: bool):
    try:
        from PIL import Image
    except ImportError:
        raise CLIError(f"{path}: reading images needs Pillow (pip install Pillow); or give the samples as a .npy "
                       "file") from None
    channels, height, width = input_shape
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    if channels not in modes:
        raise CLIError(f"{path}: the model takes {channels}-channel inputs, which no image format holds; give a .npy file")
    try:
        with Image.open(path) as image:
            image = image.convert(modes[channels])
            shrinking = image.width >= width and image.height >= height
            image = image.resize((width, height), Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32) / np.float32(255)
    except (OSError, ValueError, SyntaxError) as error:
        raise CLIError(f"{path}: cannot read it as an image ({error})") from error
    pixels = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    note = None
    if invert_light_background and pixels.mean() > 0.5:
        pixels, note = 1.0 - pixels, f"{path}: light background, inverted to light strokes on dark like the training data"
    return pixels, note


def _read_array_file(path: str, input_shape) -> np.ndarray:
    """The samples of a .npy/.npz/.csv file (a .csv row may end with a label, as the training files do; it is dropped)."""
    try:
        if path.endswith((".csv", ".csv.gz")):
            from ember.datasets import CSVDataset
            table = CSVDataset(path, label_column=None).data
            size = int(np.prod(input_shape))
            return table[:, :size] if table.ndim == 2 and table.shape[1] == size + 1 else table
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, KeyError, IndexError) as error:
        raise CLIError(f"{path}: cannot read it ({str(error).splitlines()[0]})") from error
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            key = next((name for name in _NPZ_KEYS if name in loaded.files), None)
            if key is None and len(loaded.files) == 1:
                key = loaded.files[0]
            if key is None:
                raise CLIError(f"{path}: holds the arrays {loaded.files}; name the samples one of {', '.join(_NPZ_KEYS)}")
            return loaded[key]
    return loaded


def read_inputs(paths, input_shape, raw_max: float, invert_light_background: bool):
    """``(samples (N, C, H, W) in [0, 1], names, notes)`` from files and folders given to ``ember predict``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "two.npy")
    >>> np.save(path, np.full((2, 64), 16.0))
    >>> samples, names, notes = read_inputs([path], [1, 8, 8], raw_max=16.0, invert_light_background=True)
    >>> samples.shape, float(samples.max()), names
    ((2, 1, 8, 8), 1.0, ['two.npy[0]', 'two.npy[1]'])
    """
    from ember.datasets.folder import IMG_EXTENSIONS
    batches, names, notes = [], [], []
    for path in paths:
        if os.path.isdir(path):
            files = sorted(os.path.join(path, name) for name in os.listdir(path) if name.lower().endswith(IMG_EXTENSIONS))
            if not files:
                raise CLIError(f"{path}: folder holds no image files ({', '.join(IMG_EXTENSIONS)})")
        elif os.path.isfile(path):
            files = [path]
        else:
            raise CLIError(f"{path}: no such file or folder")
        for file in files:
            if file.lower().endswith(IMG_EXTENSIONS):
                pixels, note = _read_image(file, input_shape, invert_light_background)
                batches.append(pixels[None])
                names.append(os.path.basename(file))
            elif file.lower().endswith((".npy", ".npz", ".csv", ".csv.gz")):
                array = _read_array_file(file, input_shape)
                samples = samples_from_array(np.asarray(array), input_shape, file)
                samples, note = _scale(samples, raw_max, file)
                batches.append(samples)
                base = os.path.basename(file)
                names.extend(f"{base}[{index}]" for index in range(len(samples)))
            else:
                raise CLIError(f"{file}: unsupported input; give .npy, .npz or .csv samples, or images "
                               f"({', '.join(IMG_EXTENSIONS)})")
            if note:
                notes.append(note)
    samples = np.concatenate(batches) if batches else np.zeros((0, *input_shape), np.float32)
    return samples, names, notes


def run(args) -> int:
    """Run ``ember predict`` with parsed ``args``; returns the exit code.

    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["missing.safetensors", "x.npy"]))
    Traceback (most recent call last):
    ...
    ember.cli.common.CLIError: checkpoint missing.safetensors: no such file
    """
    checkpoint = read_checkpoint(args.checkpoint)
    model = model_from_checkpoint(checkpoint, args.checkpoint)
    model_config = checkpoint["config"]["model"]
    num_classes = int(model_config["num_classes"])
    if args.top_k > num_classes:
        raise CLIError(f"--top-k {args.top_k}: the model has only {num_classes} classes")
    normalization = checkpoint["normalization"]
    invert = model_config["input_shape"][0] == 1 and float(normalization["mean"][0]) < 0.5
    samples, names, notes = read_inputs(args.inputs, model_config["input_shape"], float(normalization.get("raw_max", 1.0)),
                                        invert_light_background=invert)
    for note in notes:
        print(f"note: {note}")
    inputs = normalize(samples, normalization)
    probabilities = []
    with ember.no_grad():
        for start in range(0, len(inputs), 512):
            logits = model(ember.from_numpy(inputs[start:start + 512]))
            probabilities.append(ember.softmax(logits.double(), dim=1).numpy())
    probabilities = np.concatenate(probabilities) if probabilities else np.zeros((0, num_classes))
    classes, top_probabilities = top_k(probabilities, args.top_k)
    name_width = max([len("sample"), *(len(name) for name in names)])
    heading = "prediction (probability)" if args.top_k == 1 else f"top {args.top_k} (probability)"
    print(f"{'sample':<{name_width}}  {heading}")
    class_names = checkpoint.get("classes")
    if not (isinstance(class_names, (list, tuple)) and len(class_names) == num_classes):
        class_names = [str(label) for label in range(num_classes)]
    for name, row_classes, row_probabilities in zip(names, classes, top_probabilities):
        guesses = "  ".join(f"{class_names[int(label)]} ({100 * probability:.1f}%)"
                            for label, probability in zip(row_classes, row_probabilities))
        print(f"{name:<{name_width}}  {guesses}")
    return 0
