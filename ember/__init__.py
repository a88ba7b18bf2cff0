"""Ember: a lightweight, define-by-run deep learning framework with PyTorch's API, built on NumPy.

The one import cycle by design: ``tensor.py``, the op families in ``ops/`` that backward formulas reach
(with ``ops/registry.py``, the dispatcher) and the autograd core (``autograd/engine.py``, ``differentiate.py``,
``views.py``, ``hooks.py``, ``saved_tensors.py``) import each other, because each needs the others at call
time, as ../shared/DESIGN.md's layout has it (``tensor.py``'s dunders call ops; ops are "forward on arrays,
backward in ember ops"; the engine runs those backwards):

- Tensor methods and operators are ops (``a + b`` runs ``ops.add``), and ``Tensor.backward`` /
  ``register_hook`` run the engine and its hooks;
- ops make Tensors, and dispatch records autograd Nodes (and the record of a view) for them;
- the engine makes Tensors (gradient seeds, zero gradients, a leaf's ``.grad``), and backward formulas are
  ops, often of another family (``movement``'s backward uses ``arithmetic``, ``index``'s uses ``reduce``).

The imports that close the loop are deferred to call time (inside functions), so that ``import ember`` loads
them in one order: the autograd core, ``tensor.py``, then ``ops/``, which binds the methods. Nothing else
takes part in it: ``formatting``, ``linalg``, the ``autograd`` package's ``functional``/``gradcheck``/
``function``, ``execution_hook``, ``compiler``, ``kernels``, ``optim`` and ``nn`` only import into it.
``tests/test_import_cycles.py`` holds the exact list of its modules and fails when another joins
(``python tools/import_cycles.py`` prints every cycle).

>>> import ember
>>> x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> loss = (x ** 2).sum()
>>> loss.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from __future__ import annotations

import importlib as _importlib

from ember._namespaces import lazy_submodules as _lazy_submodules

__version__ = "0.1.0"

from ember import _allocator  # noqa: E402
_allocator.tune()  # reuse freed array memory across steps (glibc); EMBER_MALLOC_TUNING=0 turns it off

from ember import dtypes as _dtypes_module
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: E402
                                      is_inference_mode_enabled, no_grad, set_grad_enabled)
from ember.device import device  # noqa: E402
from ember.dtypes import (bfloat16, bool, can_cast, double, finfo, float, float16, float32,  # noqa: E402
                          float64, get_default_dtype, half, iinfo, int, int8, int16, int32, int64,
                          long, promote_types, result_type, set_default_dtype, short, uint8)
from ember.dtypes import dtype  # noqa: E402
from ember.formatting import set_printoptions  # noqa: E402
from ember.size import Size  # noqa: E402
from ember.tensor import Tensor  # noqa: E402
from ember import ops  # noqa: E402  (registers every op and binds Tensor methods)
from ember.ops import *  # noqa: E402,F401,F403
from ember import autograd  # noqa: E402

_LAZY_SUBMODULES = {"nn", "optim", "utils", "linalg", "special", "fft", "testing", "amp", "compiler",
                    "distributed", "data", "io", "onnx", "models", "vision", "datasets", "serialization",
                    "compat", "cuda", "backends", "random", "functional", "distributions"}
_submodule = _lazy_submodules(__name__, globals(), _LAZY_SUBMODULES)


def __getattr__(name):
    if name in ("save", "load"):  # checkpoints import json/zipfile/pickle only when first used
        value = getattr(_importlib.import_module("ember.serialization"), name)
        globals()[name] = value
        return value
    if name == "compile":  # the compiler is imported when first used
        value = _importlib.import_module("ember.compiler").compile
        globals()[name] = value
        return value
    return _submodule(name)


def is_tensor(obj) -> bool:
    """Whether ``obj`` is an ember Tensor.

    >>> ember.is_tensor(ember.zeros(1)), ember.is_tensor([1])
    (True, False)
    """
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    """Whether the tensor's dtype is floating point.

    >>> ember.is_floating_point(ember.zeros(1))
    True
    """
    return input._dtype.is_floating_point


def numel(input) -> int:
    """Number of elements.

    >>> ember.numel(ember.zeros(2, 3))
    6
    """
    return input._data.size


def get_num_threads() -> int:
    """Threads NumPy's BLAS may use (as reported by the environment).

    >>> ember.get_num_threads() >= 1
    True
    """
    import os
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return _builtin_int(os.environ[var])
    return os.cpu_count() or 1


def set_num_threads(n) -> None:
    """Accepted for compatibility; NumPy's BLAS thread count is fixed at import (set OMP_NUM_THREADS)."""


_builtin_int = __builtins__["int"] if isinstance(__builtins__, dict) else __builtins__.int
