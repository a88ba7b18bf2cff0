"""The small default models ``ember train`` builds, and how a checkpoint's model config rebuilds them.

A model config is a plain JSON-able dict (``{"name": "cnn", "input_shape": [1, 8, 8], "num_classes": 10, ...}``)
saved in every checkpoint, so ``ember eval`` and ``ember predict`` rebuild the network without extra flags.

>>> import ember
>>> from ember.cli.models import build_model, default_config
>>> config = default_config("cnn", input_shape=[1, 8, 8], num_classes=10)
>>> model = build_model(config)
>>> model(ember.zeros(2, 1, 8, 8)).shape
ember.Size([2, 10])
"""

from __future__ import annotations

import numpy as np

from ember import nn

__all__ = ["DigitsCNN", "MLP", "MODEL_NAMES", "default_config", "build_model"]

MODEL_NAMES = ("cnn", "mlp")


class DigitsCNN(nn.Module):
    """Two conv blocks (3x3 conv, batch norm, ReLU, 2x2 max pool) and a linear classifier.

    ``width`` is the first block's channel count; the second has twice as many. Images must be at least 4x4
    (8x8 digits, 28x28 MNIST, 32x32 CIFAR all work).

    >>> model = DigitsCNN(input_shape=(1, 8, 8), num_classes=10, width=4)
    >>> model(ember.zeros(3, 1, 8, 8)).shape
    ember.Size([3, 10])
    """

    def __init__(self, input_shape=(1, 8, 8), num_classes: int = 10, width: int = 32) -> None:
        super().__init__()
        channels, height, width_pixels = input_shape
        if height < 4 or width_pixels < 4:
            raise ValueError(f"the cnn model needs images of at least 4x4 pixels, got {height}x{width_pixels}; "
                             "use the mlp model for rows of features")
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(2 * width * (height // 4) * (width_pixels // 4), num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class MLP(nn.Module):
    """A multi-layer perceptron on flattened images: ``Linear -> ReLU`` per hidden layer, then a linear head.

    >>> model = MLP(input_shape=(1, 8, 8), num_classes=10, hidden=(16,))
    >>> model(ember.zeros(3, 1, 8, 8)).shape
    ember.Size([3, 10])
    """

    def __init__(self, input_shape=(1, 8, 8), num_classes: int = 10, hidden=(256, 128)) -> None:
        super().__init__()
        layers, features = [nn.Flatten()], int(np.prod(input_shape))
        for size in hidden:
            layers += [nn.Linear(features, size), nn.ReLU()]
            features = size
        layers.append(nn.Linear(features, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def default_config(name: str, input_shape, num_classes: int) -> dict:
    """The config of model ``name`` (``"cnn"`` or ``"mlp"``) with its default sizes, for ``(C, H, W)`` inputs.

    >>> default_config("mlp", input_shape=[1, 8, 8], num_classes=10)["hidden"]
    [256, 128]
    """
    common = {"name": name, "input_shape": [int(size) for size in input_shape], "num_classes": int(num_classes)}
    if name == "cnn":
        return {**common, "width": 32}
    if name == "mlp":
        return {**common, "hidden": [256, 128]}
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")


def build_model(config: dict) -> nn.Module:
    """A freshly initialised model from a config made by :func:`default_config` (or read from a checkpoint).

    >>> build_model({"name": "mlp", "input_shape": [1, 8, 8], "num_classes": 3, "hidden": [4]})
    MLP(
      (layers): Sequential(
        (0): Flatten(start_dim=1, end_dim=-1)
        (1): Linear(in_features=64, out_features=4, bias=True)
        (2): ReLU()
        (3): Linear(in_features=4, out_features=3, bias=True)
      )
    )
    """
    sizes = {"input_shape": tuple(int(size) for size in config["input_shape"]), "num_classes": int(config["num_classes"])}
    if config.get("name") == "cnn":
        return DigitsCNN(**sizes, width=int(config["width"]))
    if config.get("name") == "mlp":
        return MLP(**sizes, hidden=tuple(int(size) for size in config["hidden"]))
    raise ValueError(f"unknown model {config.get('name')!r}; choose one of {', '.join(MODEL_NAMES)}")
