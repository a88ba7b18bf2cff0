"""Pointwise C kernels (pointwise.c) the compiled executor and eager mode run in place of an op's NumPy forward or backward,
and libm's ``expm1f`` for ELU (CPU-independent bits).

The tanh-GELU forward is six NumPy passes over the activation plus ``tanh`` (and its backward ten more); one C
loop reads ``x`` once and writes the value and the ``tanh`` term that backward reuses, and one C loop computes
``grad * gelu'(x)``. Each loop performs the float32 operations of ``ember/ops/activation.py``
(``_gelu_saving``, ``_gelu_derivative_np``) in the same order, with float32 constants as NumPy rounds them,
so results stay within float32 rounding of eager mode (the rational ``tanh`` of ember_kernels.h may differ
from NumPy's ``tanh`` by an ulp). The loops are single-threaded: an OpenMP region right after an OpenBLAS GEMM stalls (measured).

``gelu_tanh(x)`` and ``gelu_tanh_backward(grad, x, t)`` return ``None`` when no kernel applies (no C
compiler, not float32, not contiguous, shapes differ); the caller then runs the op's own NumPy code.

>>> import numpy as np
>>> x = np.linspace(-3, 3, 7, dtype=np.float32)
>>> fused = gelu_tanh(x)
>>> value = fused[0] if fused is not None else x * 0.5 * (1 + np.tanh(0.7978846 * (x + 0.044715 * x ** 3)))
>>> np.round(value, 4)
array([-0.0036, -0.0454, -0.1588,  0.    ,  0.8412,  1.9546,  2.9964], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from ember import flags
from ember.kernels.loader import eager_allowed, load_library, pointer

__all__ = ["gelu_tanh", "gelu_tanh_backward", "eager_gelu_tanh", "eager_gelu_tanh_slope", "expm1_float32", "library"]

_STATE = {"lib": None, "loaded": False}


def library():
    """The compiled kernels (cffi library), or ``None`` without a C toolchain; compiled once, then cached.

    >>> library() is None or hasattr(library(), "ember_gelu_tanh")
    True
    """
    if not _STATE["loaded"]:
        _STATE["loaded"] = True
        _STATE["lib"] = load_library("pointwise")
    return _STATE["lib"]


def expm1_float32(x):
    """``expm1`` of a float32 array through libm's ``expm1f`` (the same bits on every CPU), or ``None`` when no
    kernel applies (not float32, no C compiler, or ``EMBER_FUSED_KERNELS=0``): the caller then runs NumPy's, whose
    last bit depends on the CPU.

    >>> out = expm1_float32(np.zeros(2, np.float32))
    >>> out is None or out.tolist() == [0.0, 0.0]
    True
    """
    if x.dtype != np.float32 or not _eager(None):
        return None
    lib = library()
    if lib is None:
        return None
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    lib.ember_expm1f(pointer(x), pointer(out), x.size)
    return out


def eager_gelu_tanh(x):
    """The tanh-GELU of float32 ``x`` through the C kernel for eager mode, or ``None`` (no kernel applies, or
    ``EMBER_FUSED_GELU=0`` / ``EMBER_FUSED_KERNELS=0``): ember/ops/activation.py then runs its NumPy passes.

    >>> out = eager_gelu_tanh(np.zeros(2, np.float32))
    >>> out is None or out.tolist() == [0.0, 0.0]
    True
    """
    if not _eager():
        return None
    fused = gelu_tanh(x, keep_tanh=False)
    return None if fused is None else fused[0]


def eager_gelu_tanh_slope(x):
    """``gelu'(x)`` (tanh approximation) of float32 ``x`` through the C kernel for eager mode, or ``None``.

    >>> slope = eager_gelu_tanh_slope(np.zeros(1, np.float32))
    >>> slope is None or slope.tolist() == [0.5]
    True
    """
    if not _eager():
        return None
    lib = library()
    if lib is None or not _fits(x) or x.ndim == 0:
        return None
    out = np.empty_like(x)
    lib.ember_gelu_tanh_slope(pointer(x), pointer(out), x.size)
    return out


def _eager(switch=flags.FUSED_GELU):
    """:func:`eager_allowed` for ``switch`` (None: only ``EMBER_FUSED_KERNELS``), checked once per process."""
    key = ("eager", switch)
    allowed = _STATE.get(key)
    if allowed is None:
        allowed = _STATE[key] = eager_allowed(switch)
    return allowed


def _fits(*arrays) -> bool:
    shape = arrays[0].shape
    return all(a.__class__ is np.ndarray and a.dtype == np.float32 and a.flags.c_contiguous and a.shape == shape
               for a in arrays)


def gelu_tanh(x, keep_tanh: bool = True):
    """``(gelu(x, approximate='tanh'), tanh term)`` as new float32 arrays, or ``None`` (see the module docstring).

    With ``keep_tanh=False`` the tanh term is not stored (it is ``None``): the backward recomputes it from ``x``
    (rematerialization: one array fewer kept alive from forward to backward, for a few flops per element).

    >>> out = gelu_tanh(np.zeros(2, np.float32), keep_tanh=False)
    >>> out is None or (out[0].tolist(), out[1]) == ([0.0, 0.0], None)
    True
    """
    lib = library()
    if lib is None or not _fits(x) or x.ndim == 0:
        return None
    out = np.empty_like(x)
    if not keep_tanh:
        lib.ember_gelu_tanh_value(pointer(x), pointer(out), x.size)
        return out, None
    t = np.empty_like(x)
    lib.ember_gelu_tanh(pointer(x), pointer(out), pointer(t), x.size)
    return out, t


def gelu_tanh_backward(grad, x, t=None):
    """``grad * gelu'(x)`` (tanh approximation) as a new array, or ``None``; ``t`` is the forward's tanh term, or
    ``None`` to recompute it from ``x`` (the same float32 bits the forward kernel computed).

    >>> g = gelu_tanh_backward(np.ones(1, np.float32), np.zeros(1, np.float32))
    >>> g is None or g.tolist() == [0.5]
    True
    """
    lib = library()
    if lib is None or x.ndim == 0 or not (_fits(grad, x) if t is None else _fits(grad, x, t)):
        return None
    out = np.empty_like(x)
    if t is None:
        lib.ember_gelu_tanh_backward_recompute(pointer(grad), pointer(x), pointer(out), x.size)
    else:
        lib.ember_gelu_tanh_backward(pointer(grad), pointer(x), pointer(t), pointer(out), x.size)
    return out
