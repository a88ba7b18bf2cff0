"""``ember eval CHECKPOINT``: evaluate a saved model: loss, accuracy, per-class accuracy and confusion matrix.

The data defaults to the test split of the data the checkpoint was trained on; ``--data`` evaluates on another
source (``digits``, an MNIST folder, a .npz/.npy/.csv file) and ``--split train`` on its training split.

>>> from ember.cli.evaluate import confusion_matrix
>>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2)
array([[1, 0],
       [1, 1]])
"""

from __future__ import annotations

import argparse

import numpy as np

from ember.cli.common import CLIError, accuracy_and_loss, load_split, model_from_checkpoint, normalize, read_checkpoint

__all__ = ["add_arguments", "run", "confusion_matrix", "format_report"]

# Beyond this many classes the full matrix is unreadable on a terminal; the most frequent confusions are listed.
_MAX_MATRIX_CLASSES = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``ember eval``'s arguments to ``parser``.

    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["model.safetensors", "--split", "train"]).split
    'train'
    """
    parser.add_argument("checkpoint", help="a checkpoint saved by `ember train`")
    parser.add_argument("--data", help="the data to evaluate on (default: the data the checkpoint was trained on)")
    parser.add_argument("--split", choices=("test", "train"), default="test", help="which split of the data (default: test)")
    parser.add_argument("--batch-size", type=int, default=512, help="evaluation batch size (default: 512)")


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """``matrix[true, predicted]`` counts.

    >>> confusion_matrix(np.array([2, 2]), np.array([2, 0]), 3)[2]
    array([1, 0, 1])
    """
    return np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def format_report(matrix: np.ndarray) -> str:
    """Per-class accuracy (with the class each is most often mistaken for) and the confusion matrix, as text.

    >>> print(format_report(np.array([[3, 1], [0, 4]])))
    class  accuracy  count  most often mistaken for
        0     75.0%      4  1 (1x)
        1    100.0%      4
    <BLANKLINE>
    confusion matrix (rows: true class, columns: predicted; . is 0)
           0    1
      0    3    1
      1    .    4
    """
    num_classes = len(matrix)
    lines = ["class  accuracy  count  most often mistaken for"]
    for label in range(num_classes):
        count = int(matrix[label].sum())
        accuracy = f"{100 * matrix[label, label] / count:.1f}%" if count else "-"
        wrong = matrix[label].copy()
        wrong[label] = 0
        mistaken = f"  {int(wrong.argmax())} ({int(wrong.max())}x)" if wrong.max() > 0 else ""
        lines.append(f"{label:5d}  {accuracy:>8}  {count:5d}{mistaken}")
    lines.append("")
    if num_classes <= _MAX_MATRIX_CLASSES:
        width = max(4, len(str(int(matrix.max()))) + 1)
        lines.append("confusion matrix (rows: true class, columns: predicted; . is 0)")
        lines.append("     " + "".join(f"{label:>{width}}" for label in range(num_classes)))
        for label in range(num_classes):
            cells = "".join(f"{int(value) if value else '.':>{width}}" for value in matrix[label])
            lines.append(f"{label:>3}  {cells}")
    else:
        off_diagonal = matrix * (1 - np.eye(num_classes, dtype=matrix.dtype))
        order = np.argsort(-off_diagonal, axis=None, kind="stable")[:10]
        pairs = [(int(i // num_classes), int(i % num_classes)) for i in order if off_diagonal.flat[i] > 0]
        lines.append("most frequent confusions (true -> predicted): "
                     + (", ".join(f"{t} -> {p} ({int(matrix[t, p])}x)" for t, p in pairs) or "none"))
    return "\n".join(lines)


def run(args) -> int:
    """Run ``ember eval`` with parsed ``args``; returns the exit code.

    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["missing.safetensors"]))
    Traceback (most recent call last):
    ...
    ember.cli.common.CLIError: checkpoint missing.safetensors: no such file
    """
    checkpoint = read_checkpoint(args.checkpoint)
    model = model_from_checkpoint(checkpoint, args.checkpoint)
    model_config = checkpoint["config"]["model"]
    data_spec = args.data or checkpoint["config"].get("data", "digits")
    try:
        data = load_split(data_spec, train=args.split == "train", num_classes=model_config["num_classes"])
    except CLIError as error:
        if args.data:
            raise
        raise CLIError(f"{error} (the data the checkpoint was trained on; choose other data with --data)") from error
    if data.input_shape != list(model_config["input_shape"]):
        raise CLIError(f"--data {data_spec}: images of shape {data.input_shape} but the model takes {model_config['input_shape']}")
    accuracy, loss, predictions = accuracy_and_loss(model, normalize(data.images, checkpoint["normalization"]), data.labels,
                                                    batch_size=max(args.batch_size, 1))
    correct = int((predictions == data.labels).sum())
    print(f"checkpoint {args.checkpoint}: {model_config['name']} model, epoch {checkpoint['epoch']}, "
          f"trained on {checkpoint['config'].get('data', '?')}")
    print(f"data: {data.description}, {len(data.labels)} images")
    print(f"loss {loss:.4f}  accuracy {100 * accuracy:.1f}% ({correct}/{len(data.labels)})")
    print()
    print(format_report(confusion_matrix(data.labels, predictions, model_config["num_classes"])))
    return 0
