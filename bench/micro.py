"""Micro benchmarks: per-op dispatch overhead on tiny tensors, GEMM throughput and single heavy ops.

Each ``MicroBenchmark`` makes one callable for a library; the harness times ``inner`` calls at a time and
reports the time per call. Inputs come from NumPy with a fixed seed, so both libraries see the same data.

>>> [m.name for m in MICRO_BENCHMARKS][:3]
['tiny add', 'tiny matmul 4x4', 'tiny indexing']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["MicroBenchmark", "MICRO_BENCHMARKS", "GEMM_SIZE"]

GEMM_SIZE = 1024


@dataclass(frozen=True)
class MicroBenchmark:
    """One micro benchmark: ``make(lib, quick)`` returns the callable to time; ``inner`` calls per sample.

    ``unit`` is how the per-call time is shown ("us" or "ms"); ``flops(quick)``, when set, gives the
    floating-point operations per call so the table can show GFLOP/s; ``target`` is the Ember/PyTorch
    ratio to meet, if any.

    >>> MICRO_BENCHMARKS[0].unit
    'us'
    """

    name: str
    make: Callable
    unit: str
    inner: int
    target: float | None = None
    flops: Callable | None = None


def _arrays(*shapes):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]


def _tiny_add(lib, quick):
    a, b = (lib.from_numpy(x) for x in _arrays((4, 4), (4, 4)))
    return lambda: a + b


def _tiny_matmul(lib, quick):
    a, b = (lib.from_numpy(x) for x in _arrays((4, 4), (4, 4)))
    return lambda: a @ b


def _tiny_indexing(lib, quick):
    (a,) = (lib.from_numpy(x) for x in _arrays((4, 4)))
    return lambda: a[1:3, 2]


def _tiny_linear(lib, quick):
    lib.manual_seed(0)
    layer = lib.nn.Linear(4, 4)
    (x,) = (lib.from_numpy(x) for x in _arrays((2, 4)))
    return lambda: layer(x)


def _tiny_autograd(lib, quick):
    (x_data,) = _arrays((4, 4))
    w = lib.from_numpy(x_data).requires_grad_()
    x = lib.from_numpy(x_data.copy())

    def call():
        (w * x).sum().backward()
        w.grad = None
    return call


def _gemm_side(quick):
    return 256 if quick else GEMM_SIZE


def _gemm(lib, quick):
    side = _gemm_side(quick)
    a, b = (lib.from_numpy(x) for x in _arrays((side, side), (side, side)))
    return lambda: a @ b


def _conv2d_forward_backward(lib, quick):
    batch = 2 if quick else 16
    x_data, w_data, g_data = _arrays((batch, 32, 32, 32), (64, 32, 3, 3), (batch, 64, 32, 32))
    x = lib.from_numpy(x_data).requires_grad_()
    w = lib.from_numpy(w_data).requires_grad_()
    grad = lib.from_numpy(g_data)

    def call():
        lib.nn.functional.conv2d(x, w, padding=1).backward(grad)
        x.grad = w.grad = None
    return call


def _softmax_forward_backward(lib, quick):
    rows = 16 if quick else 256
    x_data, g_data = _arrays((rows, 1024), (rows, 1024))
    x = lib.from_numpy(x_data).requires_grad_()
    grad = lib.from_numpy(g_data)

    def call():
        lib.softmax(x, dim=-1).backward(grad)
        x.grad = None
    return call


def _layer_norm_forward_backward(lib, quick):
    rows = 64 if quick else 2048
    x_data, w_data, b_data, g_data = _arrays((rows, 256), (256,), (256,), (rows, 256))
    x = lib.from_numpy(x_data).requires_grad_()
    w = lib.from_numpy(w_data).requires_grad_()
    b = lib.from_numpy(b_data).requires_grad_()
    grad = lib.from_numpy(g_data)

    def call():
        lib.nn.functional.layer_norm(x, (256,), w, b).backward(grad)
        x.grad = w.grad = b.grad = None
    return call


def _cross_entropy_forward_backward(lib, quick):
    rows = 64 if quick else 2048
    (x_data,) = _arrays((rows, 256))
    x = lib.from_numpy(x_data).requires_grad_()
    target = lib.from_numpy(np.random.default_rng(8).integers(0, 256, rows, dtype=np.int64))

    def call():
        lib.nn.functional.cross_entropy(x, target).backward()
        x.grad = None
    return call


def _elementwise_chain(lib, quick):
    side = 128 if quick else 1024
    x, y, z = (lib.from_numpy(a) for a in _arrays((side, side), (side, side), (side, side)))
    return lambda: lib.sigmoid(lib.tanh(x * y + z) * 2.0 - 1.0)


MICRO_BENCHMARKS = [
    MicroBenchmark("tiny add", _tiny_add, "us", inner=2000, target=2.0),
    MicroBenchmark("tiny matmul 4x4", _tiny_matmul, "us", inner=2000, target=2.0),
    MicroBenchmark("tiny indexing", _tiny_indexing, "us", inner=2000, target=2.0),
    MicroBenchmark("tiny Linear(4,4) forward", _tiny_linear, "us", inner=2000, target=2.0),
    MicroBenchmark("tiny mul+sum+backward", _tiny_autograd, "us", inner=500, target=2.0),
    MicroBenchmark(f"GEMM {GEMM_SIZE}^3 float32", _gemm, "ms", inner=3, flops=lambda quick: 2.0 * _gemm_side(quick) ** 3),
    MicroBenchmark("conv2d fwd+bwd 16x32x32x32, 64 3x3", _conv2d_forward_backward, "ms", inner=1),
    MicroBenchmark("softmax fwd+bwd 256x1024", _softmax_forward_backward, "ms", inner=5),
    MicroBenchmark("layer_norm fwd+bwd 2048x256", _layer_norm_forward_backward, "ms", inner=5),
    MicroBenchmark("cross_entropy fwd+bwd 2048x256", _cross_entropy_forward_backward, "ms", inner=5),
    MicroBenchmark("elementwise chain 1024x1024", _elementwise_chain, "ms", inner=3),
]
