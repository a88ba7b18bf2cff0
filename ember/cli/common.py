"""What the ``ember`` subcommands share: the error type that becomes one line on stderr and the runner that
prints it, argument types, reading the ``--data`` sources into arrays, evaluating a model on them, and
writing/reading the checkpoints ``ember train`` saves. Subcommand modules import this one, never each other
or ``ember.__main__`` (which builds the ``ember`` parser from them).

A checkpoint is an ``ember.save`` file (safetensors) holding a dict: ``model`` (state dict), ``optimizer`` and
``scheduler`` (state dicts), ``epoch`` (epochs done), ``config`` (model config, optimizer, training options),
``normalization`` (per-channel mean/std of the training images and the raw pixel maximum) and ``classes``.

>>> from ember.cli.common import load_split
>>> data = load_split("digits", train=False)
>>> data.images.shape, data.labels.shape, data.num_classes
((360, 1, 8, 8), (360,), 10)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

import ember

__all__ = ["CLIError", "ImageData", "load_split", "normalization_of", "normalize", "save_checkpoint", "read_checkpoint",
           "model_from_checkpoint", "CHECKPOINT_FORMAT", "positive_int", "non_negative_int", "positive_float",
           "accuracy_and_loss", "debug_option", "parse_command_line", "run_command"]

CHECKPOINT_FORMAT = "ember-cli-checkpoint/1"
# A data file without its own test split gives this share of its rows (a fixed, seeded choice) to the test set.
_HELD_OUT_SHARE = 0.2
_EVAL_BATCH = 512


class CLIError(Exception):
    """A user error (missing file, bad data, wrong shape): ``ember`` prints its message on one line, exits 2.

    >>> str(CLIError("checkpoint 'x.safetensors' not found"))
    "checkpoint 'x.safetensors' not found"
    """


@dataclass
class ImageData:
    """Images as float32 ``(N, C, H, W)`` (digits and uint8 images scaled to [0, 1]) with int64 labels ``(N,)``.

    ``raw_max`` is what 1.0 stands for in the source's own units (16 for the digits' pixel counts, 255 for
    8-bit images, 1 when the source already held floats); ``ember predict`` uses it for raw inputs.

    >>> data = ImageData(np.zeros((2, 1, 8, 8), np.float32), np.array([0, 1]), 10, 16.0, "toy")
    >>> data.input_shape
    [1, 8, 8]
    """

    images: np.ndarray
    labels: np.ndarray
    num_classes: int
    raw_max: float
    description: str

    @property
    def input_shape(self) -> list:
        return [int(size) for size in self.images.shape[1:]]


def _as_numpy(value) -> np.ndarray:
    return value.numpy() if isinstance(value, ember.Tensor) else np.asarray(value)


def _images_from_array(array: np.ndarray, what: str):
    """(float32 (N, C, H, W) images, raw_max) from samples stored as (N, H, W), (N, H, W, C), (N, C, H, W) or
    (N, F) rows (square F: one-channel images; otherwise (1, 1, F), usable by the MLP only)."""
    if array.ndim < 2:
        raise CLIError(f"{what} holds samples of shape {tuple(array.shape[1:])}; expected images (H, W), (C, H, W) "
                       "or rows of features")
    raw_max = 255.0 if array.dtype == np.uint8 else 1.0
    images = array.astype(np.float32) / np.float32(raw_max)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        shape = (1, side, side) if side * side == images.shape[1] else (1, 1, images.shape[1])
        images = images.reshape(len(images), *shape)
    elif images.ndim == 3:
        images = images[:, None]
    elif images.ndim == 4 and images.shape[-1] in (1, 3, 4) and images.shape[1] not in (1, 3, 4):
        images = images.transpose(0, 3, 1, 2)
    elif images.ndim != 4:
        raise CLIError(f"{what} holds samples of shape {tuple(array.shape[1:])}; expected images (H, W), (C, H, W), "
                       "(H, W, C) or rows of features")
    return np.ascontiguousarray(images), raw_max


def _labels_from(targets, what: str) -> np.ndarray:
    if targets is None:
        raise CLIError(f"{what} has no labels; training and evaluation need one label per sample")
    labels = _as_numpy(targets)
    if labels.ndim != 1 or labels.dtype.kind not in "iub" or (labels.size and labels.min() < 0):
        raise CLIError(f"{what} has labels of dtype {labels.dtype} and shape {tuple(labels.shape)}; expected "
                       "non-negative integer class indices, one per sample")
    return labels.astype(np.int64)


def _held_out_rows(count: int, train: bool) -> np.ndarray:
    order = np.random.Generator(np.random.PCG64(0)).permutation(count)
    num_test = int(round(count * _HELD_OUT_SHARE))
    return np.sort(order[num_test:] if train else order[:num_test])


def _load_array_file(path: str, train: bool):
    from ember.datasets import ArrayDataset, CSVDataset
    name = os.path.basename(path)
    if path.endswith((".csv", ".csv.gz")):
        dataset, split_keys = CSVDataset(path), False
    else:
        with np.load(path, allow_pickle=False) as archive:
            split_keys = {"x_train", "y_train", "x_test", "y_test"} <= set(archive.files)
        if split_keys:  # the layout of Keras' mnist.npz
            suffix = "train" if train else "test"
            dataset = ArrayDataset(path, data_key=f"x_{suffix}", targets_key=f"y_{suffix}")
        else:
            dataset = ArrayDataset(path)
    images, raw_max = _images_from_array(_as_numpy(dataset.data), name)
    labels = _labels_from(dataset.targets, name)
    if split_keys:
        return images, labels, raw_max, f"{name} ({'x_train' if train else 'x_test'})"
    rows = _held_out_rows(len(labels), train)
    split = (f"training rows ({100 - round(100 * _HELD_OUT_SHARE)}%)" if train
             else f"held-out test rows ({round(100 * _HELD_OUT_SHARE)}%, fixed seed)")
    return images[rows], labels[rows], raw_max, f"{name}, {split}"


def load_split(spec: str, train: bool, num_classes: int | None = None) -> ImageData:
    """The training or test split of a ``--data`` source as arrays.

    ``spec``: ``"digits"`` (the shipped UCI digits, ``ember.datasets.Digits``), a folder holding the MNIST IDX
    files (``ember.datasets.MNIST``), or a ``.npz``/``.npy``/``.csv`` file (``ArrayDataset``/``CSVDataset``;
    a ``.npz`` with ``x_train, y_train, x_test, y_test`` gives both splits, any other file is split 80/20 with a
    fixed seed). ``num_classes`` (e.g. from a checkpoint) overrides the count inferred from the labels.
    Raises :class:`CLIError` for a missing or unreadable source.

    >>> train = load_split("digits", train=True)
    >>> len(train.labels), train.raw_max, float(train.images.max())
    (1437, 16.0, 1.0)
    """
    if spec == "digits":
        from ember.datasets import Digits
        dataset = Digits(train=train)
        images = _as_numpy(dataset.data).astype(np.float32)[:, None] / np.float32(16)
        labels, raw_max = _as_numpy(dataset.targets).astype(np.int64), 16.0
        description = f"digits ({'training' if train else 'test'} split)"
    elif os.path.isdir(spec):
        from ember.datasets import MNIST
        try:
            dataset = MNIST(spec, train=train)
        except (OSError, ValueError) as error:
            raise CLIError(f"--data {spec}: {str(error).splitlines()[0]} (a folder must hold the MNIST IDX files)") from error
        images, raw_max = _images_from_array(_as_numpy(dataset.data), spec)
        labels = _as_numpy(dataset.targets).astype(np.int64)
        description = f"MNIST in {spec} ({'training' if train else 'test'} split)"
    elif os.path.isfile(spec):
        if not spec.endswith((".npz", ".npy", ".csv", ".csv.gz")):
            raise CLIError(f"--data {spec}: unsupported file type; give 'digits', an MNIST folder, or a .npz, .npy "
                           "or .csv file")
        try:
            images, labels, raw_max, description = _load_array_file(spec, train)
        except (OSError, ValueError, KeyError, IndexError, EOFError) as error:
            raise CLIError(f"--data {spec}: cannot read it ({str(error).splitlines()[0]})") from error
    else:
        raise CLIError(f"--data {spec}: no such file or folder; give 'digits', an MNIST folder, or a .npz, .npy "
                       "or .csv file")
    if len(labels) == 0:
        raise CLIError(f"--data {spec}: the {'training' if train else 'test'} split is empty")
    inferred = int(labels.max()) + 1
    if num_classes is not None and inferred > num_classes:
        raise CLIError(f"--data {spec}: has labels up to {inferred - 1} but the model predicts {num_classes} classes")
    return ImageData(images, labels, num_classes or inferred, raw_max, description)


def normalization_of(images: np.ndarray, raw_max: float) -> dict:
    """Per-channel mean and std of ``(N, C, H, W)`` training images, the values every input is normalised by.

    >>> normalization_of(np.array([[[[0.0, 1.0]]]], dtype=np.float32), 16.0)
    {'mean': [0.5], 'std': [0.5], 'raw_max': 16.0}
    """
    mean = images.mean(axis=(0, 2, 3), dtype=np.float64)
    std = images.std(axis=(0, 2, 3), dtype=np.float64)
    return {"mean": [float(m) for m in mean], "std": [float(s) if s > 0 else 1.0 for s in std], "raw_max": float(raw_max)}


def normalize(images: np.ndarray, normalization: dict) -> np.ndarray:
    """``(images - mean) / std`` per channel, as float32.

    >>> normalize(np.ones((1, 1, 2, 2), np.float32), {"mean": [0.5], "std": [0.25]})[0, 0, 0]
    array([2., 2.], dtype=float32)
    """
    mean = np.asarray(normalization["mean"], dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(normalization["std"], dtype=np.float32).reshape(1, -1, 1, 1)
    return ((images - mean) / std).astype(np.float32)


def save_checkpoint(path: str, checkpoint: dict) -> None:
    """Write ``checkpoint`` with ``ember.save``, creating the parent folder; errors become :class:`CLIError`.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "runs", "tiny.safetensors")
    >>> save_checkpoint(path, {"format": CHECKPOINT_FORMAT, "epoch": 1})
    >>> os.path.exists(path)
    True
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        ember.save(checkpoint, path)
    except OSError as error:
        raise CLIError(f"cannot write checkpoint {path}: {error.strerror or error}") from error


_REQUIRED_KEYS = ("model", "epoch", "config", "normalization")


def read_checkpoint(path: str) -> dict:
    """Read a checkpoint written by ``ember train``; a missing, corrupt or foreign file raises :class:`CLIError`.

    >>> try:
    ...     read_checkpoint("no-such-file.safetensors")
    ... except CLIError as error:
    ...     print(error)
    checkpoint no-such-file.safetensors: no such file
    """
    if not os.path.exists(path):
        raise CLIError(f"checkpoint {path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"checkpoint {path}: is a folder, not a checkpoint file")
    try:
        checkpoint = ember.load(path)
    except Exception as error:  # ember.load reports corruption with several exception types
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CLIError(f"checkpoint {path}: cannot read it ({reason})") from error
    if not isinstance(checkpoint, dict) or any(key not in checkpoint for key in _REQUIRED_KEYS):
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CLIError(f"checkpoint {path}: not a checkpoint written by `ember train` (expected keys "
                       f"{', '.join(_REQUIRED_KEYS)}; found {found})")
    return checkpoint


def model_from_checkpoint(checkpoint: dict, path: str = "checkpoint"):
    """Rebuild the model a checkpoint describes and load its weights (the model is left in eval mode).

    >>> from ember.cli.models import build_model, default_config
    >>> config = default_config("mlp", [1, 8, 8], 10)
    >>> checkpoint = {"config": {"model": config}, "model": build_model(config).state_dict()}
    >>> model_from_checkpoint(checkpoint).training
    False
    """
    from ember.cli.models import build_model
    try:
        model = build_model(checkpoint["config"]["model"])
        model.load_state_dict(checkpoint["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CLIError(f"{path}: its model does not match its config ({reason})") from error
    return model.eval()


# ------------------------------------------------------------------------------------------- arguments
def _argument_type(convert, accept, expected: str, name: str):
    """An argparse ``type``: ``convert(text)``, refused with "expected <expected>" unless ``accept(value)``.

    >>> positive_int("3"), non_negative_int("0"), positive_float("0.5")
    (3, 0, 0.5)
    >>> positive_int("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected a positive integer, got 0
    """
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            # A float is shown as typed: 1e400 parses to inf.
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value if convert is int else text}")
        return value

    parse.__name__ = parse.__qualname__ = name
    return parse


positive_int = _argument_type(int, lambda value: value >= 1, "a positive integer", "positive_int")
non_negative_int = _argument_type(int, lambda value: value >= 0, "a non-negative integer", "non_negative_int")
positive_float = _argument_type(float, lambda value: value > 0 and math.isfinite(value), "a positive number",
                                "positive_float")


def debug_option() -> argparse.ArgumentParser:
    """A parent parser with the ``--debug`` option every subcommand takes.

    >>> argparse.ArgumentParser(parents=[debug_option()]).parse_args(["--debug"]).debug
    True
    """
    debug = argparse.ArgumentParser(add_help=False)
    # SUPPRESS keeps a subcommand's unset --debug from overriding `ember --debug <command>`.
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback on errors")
    return debug


def parse_command_line(parser: argparse.ArgumentParser, argv):
    """``parser.parse_args(argv)``, or the exit code when argparse exits (0 after ``--help``, 2 on a usage error).

    >>> parse_command_line(argparse.ArgumentParser(prog="demo"), ["--oops"])  # the usage error goes to stderr
    2
    """
    try:
        return parser.parse_args(argv)
    except SystemExit as exit_request:  # --help, or a usage error argparse has already reported
        code = exit_request.code
        return code if isinstance(code, int) else (0 if code is None else 2)


def run_command(args) -> int:
    """Run ``args.run(args)`` for subcommand ``args.command``; returns the exit code: a :class:`CLIError` prints
    one line on stderr and returns 2 (``--debug`` raises it instead), Ctrl-C returns 130, a closed pipe 0.

    >>> def fail(args):
    ...     raise CLIError("no such file")
    >>> run_command(argparse.Namespace(run=fail, command="demo", debug=False))  # prints the error on stderr
    2
    """
    try:
        return args.run(args)
    except CLIError as error:
        if args.debug:
            raise
        print(f"ember {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"ember {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, without a second error while flushing stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# ------------------------------------------------------------------------------------------- evaluating
def accuracy_and_loss(model, images: np.ndarray, labels: np.ndarray, batch_size: int = _EVAL_BATCH):
    """``(accuracy, mean cross-entropy, predictions)`` of ``model`` in eval mode on normalised ``images``.

    >>> from ember.cli.models import MLP
    >>> model = MLP((1, 2, 2), num_classes=3, hidden=(4,))
    >>> accuracy, loss, predictions = accuracy_and_loss(model, np.zeros((5, 1, 2, 2), np.float32), np.zeros(5, np.int64))
    >>> predictions.shape, 0.0 <= accuracy <= 1.0
    ((5,), True)
    """
    was_training = model.training
    model.eval()
    total_loss, predictions = 0.0, []
    with ember.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(ember.from_numpy(images[start:start + batch_size]))
            target = ember.from_numpy(labels[start:start + batch_size])
            total_loss += float(ember.nn.functional.cross_entropy(logits, target, reduction="sum"))
            predictions.append(logits.argmax(1).numpy())
    model.train(was_training)
    predictions = np.concatenate(predictions) if predictions else np.zeros(0, np.int64)
    return float((predictions == labels).mean()), total_loss / max(len(labels), 1), predictions
