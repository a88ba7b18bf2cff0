"""The model workloads: a training step (forward + loss + backward + optimizer step) or an inference pass.

Each ``ModelWorkload`` builds its model with the shared code in ``bench.models`` for either library, makes
its inputs with NumPy from a fixed seed, and returns a ``step`` callable the harness times.

>>> sorted(MODEL_WORKLOADS)
['cnn', 'gpt', 'lstm', 'mlp', 'resnet18']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from bench import models

__all__ = ["ModelWorkload", "MODEL_WORKLOADS", "PreparedStep", "build_step", "prepared_step"]

INPUT_SEED = 1234


@dataclass(frozen=True)
class ModelWorkload:
    """One model workload: how to build it, feed it and step it, at full size and at ``--quick`` size.

    ``build(lib, quick)`` returns the model; ``inputs(quick)`` a dict of NumPy arrays; ``loss(lib, model,
    tensors)`` the scalar loss (training) or the output (inference); ``optimizer(lib, params)`` the
    optimizer, or ``None`` for inference, which runs in eval mode under ``no_grad``.

    >>> MODEL_WORKLOADS["mlp"].target
    1.1
    """

    name: str
    description: str
    build: Callable
    inputs: Callable
    loss: Callable
    optimizer: Callable | None
    target: float
    warmup: int
    steps: int
    rounds: int


def _rng():
    return np.random.default_rng(INPUT_SEED)


def _classification_loss(lib, model, tensors):
    return lib.nn.functional.cross_entropy(model(tensors["x"]), tensors["y"])


def _sequence_loss(lib, model, tensors):
    logits = model(tensors["x"])
    return lib.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tensors["y"].reshape(-1))


def _mlp_inputs(quick):
    rng = _rng()
    batch = 128
    return {"x": rng.standard_normal((batch, 784), dtype=np.float32), "y": rng.integers(0, 10, batch, dtype=np.int64)}


def _cnn_inputs(quick):
    rng = _rng()
    batch = 16 if quick else 64
    return {"x": rng.standard_normal((batch, 1, 28, 28), dtype=np.float32), "y": rng.integers(0, 10, batch, dtype=np.int64)}


def _gpt_config(quick):
    return dict(vocab=256, d_model=64, heads=4, layers=1, seq=32) if quick else dict(vocab=256, d_model=256, heads=4, layers=4, seq=128)


def _gpt_inputs(quick):
    rng = _rng()
    batch, seq = (4, 32) if quick else (16, 128)
    tokens = rng.integers(0, 256, (batch, seq + 1), dtype=np.int64)
    return {"x": np.ascontiguousarray(tokens[:, :-1]), "y": np.ascontiguousarray(tokens[:, 1:])}


def _lstm_inputs(quick):
    rng = _rng()
    batch, seq = (4, 8) if quick else (32, 64)
    tokens = rng.integers(0, 256, (batch, seq + 1), dtype=np.int64)
    return {"x": np.ascontiguousarray(tokens[:, :-1]), "y": np.ascontiguousarray(tokens[:, 1:])}


def _resnet_inputs(quick):
    side = 64 if quick else 224
    return {"x": _rng().standard_normal((1, 3, side, side), dtype=np.float32)}


def _sgd_momentum(lib, params):
    return lib.optim.SGD(params, lr=0.01, momentum=0.9)


MODEL_WORKLOADS = {w.name: w for w in [
    ModelWorkload("mlp", "MLP 784-512-512-10 train step, batch 128, SGD momentum",
                  lambda lib, quick: models.mlp(lib), _mlp_inputs, _classification_loss, _sgd_momentum,
                  target=1.1, warmup=5, steps=40, rounds=5),
    ModelWorkload("cnn", "CNN 2x(conv3x3+ReLU+maxpool) + 2 linear train step, batch 64x1x28x28, SGD momentum",
                  lambda lib, quick: models.cnn(lib), _cnn_inputs, _classification_loss, _sgd_momentum,
                  target=1.5, warmup=3, steps=10, rounds=3),
    ModelWorkload("gpt", "GPT d256 4 heads 4 layers, seq 128, batch 16, AdamW train step",
                  lambda lib, quick: models.gpt(lib, **_gpt_config(quick)), _gpt_inputs, _sequence_loss,
                  lambda lib, params: lib.optim.AdamW(params, lr=3e-4, weight_decay=0.1),
                  target=1.5, warmup=2, steps=5, rounds=3),
    ModelWorkload("lstm", "LSTM LM: embedding 256 -> LSTM 256, seq 64, batch 32, Adam train step",
                  lambda lib, quick: models.lstm_language_model(lib), _lstm_inputs, _sequence_loss,
                  lambda lib, params: lib.optim.Adam(params, lr=1e-3),
                  target=2.0, warmup=2, steps=8, rounds=3),
    ModelWorkload("resnet18", "ResNet-18 inference, batch 1, 3x224x224, eval + no_grad",
                  lambda lib, quick: models.resnet18(lib), _resnet_inputs, lambda lib, model, t: model(t["x"]), None,
                  target=1.5, warmup=3, steps=10, rounds=3),
]}


class PreparedStep:
    """One workload built on one library: ``step()`` runs a step and returns its loss (or the inference output),
    ``first_value`` is the loss (or output sum) of the untouched model, ``model`` and ``optimizer`` (None for
    inference) are what the step updates."""

    def __init__(self, step, first_value, model, optimizer):
        self.step = step
        self.first_value = first_value
        self.model = model
        self.optimizer = optimizer


def build_step(lib, workload: ModelWorkload, quick: bool, state_dict: dict | None) -> PreparedStep:
    """Build ``workload`` on ``lib``, load ``state_dict`` (NumPy arrays) if given, and prepare its step.

    A training step is zero_grad, forward, loss, backward and the optimizer's step; an inference step runs in eval
    mode under ``no_grad``. The step returns what it computes, so a compiler cannot drop it as dead code.

    >>> import ember
    >>> prepared = build_step(ember, MODEL_WORKLOADS["mlp"], True, None)
    >>> float(prepared.step()) < prepared.first_value + 1, prepared.optimizer is not None
    (True, True)
    """
    model = workload.build(lib, quick)
    if state_dict is not None:
        model.load_state_dict({name: lib.from_numpy(np.array(value)) for name, value in state_dict.items()})
    tensors = {name: lib.from_numpy(array) for name, array in workload.inputs(quick).items()}
    if workload.optimizer is None:
        model.eval()
        with lib.no_grad():
            first_value = float(workload.loss(lib, model, tensors).sum())

        def infer():
            with lib.no_grad():
                return workload.loss(lib, model, tensors)
        return PreparedStep(infer, first_value, model, None)

    model.train()
    optimizer = workload.optimizer(lib, list(model.parameters()))
    with lib.no_grad():
        first_value = float(workload.loss(lib, model, tensors))

    def train():
        optimizer.zero_grad(set_to_none=True)
        loss = workload.loss(lib, model, tensors)
        loss.backward()
        optimizer.step()
        return loss
    return PreparedStep(train, first_value, model, optimizer)


def prepared_step(lib, workload: ModelWorkload, quick: bool, state_dict: dict | None):
    """``(step, first_value)`` of :func:`build_step`: what the harness times, and the step-0 value it compares.

    >>> import ember
    >>> step, first = prepared_step(ember, MODEL_WORKLOADS["mlp"], True, None)
    >>> _ = step(); isinstance(first, float)
    True
    """
    prepared = build_step(lib, workload, quick, state_dict)
    return prepared.step, prepared.first_value
