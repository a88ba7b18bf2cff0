"""LSTM cell C kernels (rnn_cell.c): one call per time step instead of about ten NumPy passes.

``rnn_layer`` (ember/ops/recurrent.py) runs the recurrence one time step at a time: a GEMM, then the gate
nonlinearities and the cell update on a (batch, 4 * hidden) block. In NumPy that block costs about ten calls per
step, and float32 ``tanh`` has no SIMD path on AVX2 (a sigmoid of a 32x1024 block took 0.2 ms here, as long as
the step's GEMM). One C loop per step reads the block once and uses a vectorizable rational ``tanh`` (ember_kernels.h's, which
the GELU kernels use too: within a few float32 ulps of libm).

- :meth:`LstmForward.step` turns one step's pre-activations into the gate values in place and writes the new
  cell, ``tanh`` of the cell, the output and the carried ``h``/``c`` state (the NumPy loop's statements in order).
- :meth:`LstmBackward.step` performs the backward loop's float32 operations in the same order, so given the
  same activations its results equal NumPy's bit for bit.

:func:`lstm_forward` and :func:`lstm_backward` bind them to one layer call's arrays (C-contiguous float32, laid out like the input: time
major, ``batch_first`` or packed); it returns None when no kernel applies (no C compiler, not float32), and the
caller then runs its NumPy code. Eager mode uses them when the ``compile`` extra is installed;
``EMBER_FUSED_RNN=0`` opts out.
"""

from __future__ import annotations

import numpy as np

from ember import flags
from ember.kernels import loader
from ember.kernels.loader import EagerLibrary

__all__ = ["lstm_forward", "lstm_backward", "LstmForward", "LstmBackward", "enabled"]

_F32 = np.dtype(np.float32)
_EAGER = EagerLibrary("rnn_cell", flags.FUSED_RNN)
_STATE = _EAGER.state  # tests set _STATE["lib"] = None to run the NumPy path

enabled = _EAGER.enabled  # whether the kernels run here (the compile extra works, not switched off)


def _step_layout(idx):
    """How ``base[idx]`` selects one time step's (rows, features) block: (dim indexed, first index, rows' dim)."""
    if idx.__class__ is tuple:  # batch_first: (slice(None), t)
        return 1, idx[1], 0
    if idx.__class__ is slice:  # packed rows, or a single-step cell
        return 0, idx.start or 0, 0
    return 0, idx, 1  # time-major: t


class _Steps:
    """C pointers into contiguous float32 arrays laid out like the layer's input (time steps along one dim): each
    step's block is found by pointer arithmetic, not by asking NumPy for a view's address (2 us each)."""

    def __init__(self, ffi, arrays):
        self.pointers = [ffi.cast("float*", ffi.from_buffer("float[]", a)) for a in arrays]
        self.strides = [tuple(s // 4 for s in a.strides) for a in arrays]

    def at(self, idx):
        """``[(pointer, row stride)]`` of each array's block of step ``idx``."""
        dim, start, rows = _step_layout(idx)
        return [(p + start * st[dim], st[rows]) for p, st in zip(self.pointers, self.strides)]


def _fit(*arrays) -> bool:
    return all(a.__class__ is np.ndarray and a.dtype == _F32 and a.flags.c_contiguous for a in arrays)


class LstmForward:
    """The forward cell kernel bound to one layer call's arrays (float32, C-contiguous): ``acts`` (lead, 4H) holds
    the pre-activations (the gate values after each step), ``c_prev``/``cells``/``tanh_c``/``out`` (lead, H) the
    per-step cell inputs and results, ``h``/``c`` (batch, H) the carried state."""

    def __init__(self, acts, c_prev, cells, tanh_c, out, h, c):
        ffi = loader.ffi()
        self.lib = _STATE["lib"]
        self.hidden = cells.shape[-1]
        self.steps = _Steps(ffi, (acts, c_prev, cells, tanh_c, out))
        self.state = [ffi.cast("float*", ffi.from_buffer("float[]", a)) for a in (h, c)]

    def step(self, idx, size):
        """Step ``idx`` (``size`` active rows), after ``acts[idx] += h_prev @ W_hh.T``."""
        (g, g_row), (cp, cp_row), (cell, cell_row), (tc, tc_row), (out, out_row) = self.steps.at(idx)
        h, c = self.state
        self.lib.ember_lstm_forward(g, g_row, cp, cp_row, cell, cell_row, tc, tc_row, out, out_row, h, c, size,
                                    self.hidden)


class LstmBackward:
    """The backward cell kernel bound to the forward's ``acts`` (gate values), ``c_prev``, ``tanh_c``, the gate
    gradients ``d_acts`` (lead, 4H) it writes and the carried cell gradient ``dc`` (batch, H) it updates."""

    def __init__(self, acts, c_prev, tanh_c, d_acts, dc):
        ffi = loader.ffi()
        self.ffi = ffi
        self.lib = _STATE["lib"]
        self.hidden = tanh_c.shape[-1]
        self.steps = _Steps(ffi, (acts, c_prev, tanh_c, d_acts))
        self.dc = ffi.cast("float*", ffi.from_buffer("float[]", dc))

    def step(self, dht, idx, size):
        """Backward of step ``idx`` given ``dht`` (size, H), the gradient reaching its output."""
        (g, g_row), (cp, cp_row), (tc, tc_row), (dg, dg_row) = self.steps.at(idx)
        dht = np.ascontiguousarray(dht)
        self.lib.ember_lstm_backward(self.ffi.from_buffer("float[]", dht), dht.shape[1], g, g_row, tc, tc_row, cp,
                                     cp_row, dg, dg_row, self.dc, size, self.hidden)


def lstm_forward(acts, c_prev, cells, tanh_c, out, h, c):
    """:class:`LstmForward` for these arrays, or None when no kernel applies (see the module docstring).

    >>> lead = (1, 1)  # one time step, batch 1, hidden 1
    >>> acts = np.zeros(lead + (4,), np.float32)
    >>> c_prev, cells, tanh_c, out = (np.zeros(lead + (1,), np.float32) for _ in range(4))
    >>> h, c = np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32)
    >>> kernel = lstm_forward(acts, c_prev, cells, tanh_c, out, h, c)
    >>> if kernel is not None:
    ...     kernel.step(0, 1)
    ...     print(acts.tolist())
    ... else:
    ...     print([[[0.5, 0.5, 0.0, 0.5]]])
    [[[0.5, 0.5, 0.0, 0.5]]]
    """
    if not enabled() or not _fit(acts, c_prev, cells, tanh_c, out, h, c):
        return None
    return LstmForward(acts, c_prev, cells, tanh_c, out, h, c)


def lstm_backward(acts, c_prev, tanh_c, d_acts, dc):
    """:class:`LstmBackward` for these arrays, or None when no kernel applies.

    >>> acts = np.full((1, 1, 4), 0.5, np.float32)
    >>> c_prev, tanh_c = np.zeros((1, 1, 1), np.float32), np.zeros((1, 1, 1), np.float32)
    >>> d_acts, dc = np.zeros((1, 1, 4), np.float32), np.ones((1, 1), np.float32)
    >>> kernel = lstm_backward(acts, c_prev, tanh_c, d_acts, dc)
    >>> if kernel is not None:
    ...     kernel.step(np.zeros((1, 1), np.float32), 0, 1)
    ...     print(d_acts.tolist(), dc.tolist())
    ... else:
    ...     print([[[0.125, 0.0, 0.375, 0.0]]], [[0.5]])
    [[[0.125, 0.0, 0.375, 0.0]]] [[0.5]]
    """
    if not enabled() or not _fit(acts, c_prev, tanh_c, d_acts, dc):
        return None
    return LstmBackward(acts, c_prev, tanh_c, d_acts, dc)
