"""Random numbers: the default Generator, ``manual_seed``, and random tensors.

Every random op draws from an :class:`Generator` (a NumPy PCG64 stream), so one seed reproduces a run.

>>> import ember
>>> _ = ember.manual_seed(0); a = ember.rand(3)
>>> _ = ember.manual_seed(0); b = ember.rand(3)
>>> bool((a == b).all())
True
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dt
from ember.device import to_device
from ember.ops.arguments import as_shape
from ember.tensor import _make

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "rand", "randn",
           "get_rng_state", "set_rng_state"]


class Generator:
    """A random number stream, as ``torch.Generator``.

    >>> g = ember.Generator().manual_seed(42)
    >>> ember.rand(2, generator=g).shape
    ember.Size([2])
    """

    def __init__(self, device="cpu"):
        to_device(device)
        self._seed = 67280421310721
        self.rng = np.random.Generator(np.random.PCG64(self._seed))

    @property
    def device(self):
        from ember.device import CPU
        return CPU

    def manual_seed(self, seed) -> "Generator":
        seed = int(seed)
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def seed(self) -> int:
        import secrets
        s = secrets.randbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The stream's state as a uint8 tensor (restore it with ``set_state``)."""
        import pickle
        return _make(np.frombuffer(pickle.dumps((self._seed, self.rng.bit_generator.state)), dtype=np.uint8).copy())

    def set_state(self, new_state) -> "Generator":
        import pickle
        seed, state = pickle.loads(new_state._data.tobytes())  # produced by get_state above
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64())
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


def _rng(generator):
    return (generator or default_generator).rng


def manual_seed(seed) -> Generator:
    """Seed the default generator (and thus every random op).

    >>> ember.manual_seed(1).initial_seed()
    1
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically and return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with.

    >>> _ = ember.manual_seed(5); ember.initial_seed()
    5
    """
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state (see ``set_rng_state``).

    >>> s = ember.get_rng_state(); a = ember.rand(1); ember.set_rng_state(s); bool((ember.rand(1) == a).all())
    True
    """
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


def _float_dtype(dtype, op_name):
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"{op_name}: expected a floating point dtype, got {dt}")
    return dt


def _finish(arr, dt, requires_grad):
    t = _make(arr.astype(dt.numpy_dtype, copy=False))
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1).

    >>> ember.rand(2, 3).shape
    ember.Size([2, 3])
    """
    to_device(device)
    dt = _float_dtype(dtype, "rand")
    arr = _rng(generator).random(as_shape(size, "rand"), dtype=np.float64 if dt is _dt.float64 else np.float32)
    return _finish(arr, dt, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Standard normal samples.

    >>> ember.randn(4).dtype
    ember.float32
    """
    to_device(device)
    dt = _float_dtype(dtype, "randn")
    arr = _rng(generator).standard_normal(as_shape(size, "randn"),
                                          dtype=np.float64 if dt is _dt.float64 else np.float32)
    return _finish(arr, dt, requires_grad)


TENSOR_METHODS = {}
