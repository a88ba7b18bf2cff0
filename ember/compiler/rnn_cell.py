"""LSTM cell C kernels: one call per time step instead of about ten NumPy passes.

``rnn_layer`` (ember/ops/nn_rnn.py) runs the recurrence one time step at a time: a GEMM, then the gate
nonlinearities and the cell update on a (batch, 4 * hidden) block. In NumPy that block costs about ten calls per
step, and float32 ``tanh`` has no SIMD path on AVX2 (a sigmoid of a 32x1024 block took 0.2 ms here, as long as
the step's GEMM). One C loop per step reads the block once and uses a vectorizable rational ``tanh`` (the one
``pointwise.py`` uses for GELU: within a few float32 ulps of libm).

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

from ember.compiler.kernels import EagerKernels
from ember.compiler.pointwise import TANH_SOURCE

__all__ = ["lstm_forward", "lstm_backward", "LstmForward", "LstmBackward", "enabled"]

_DECLARATIONS = """
void ember_lstm_forward(float* g, long g_row, const float* cp, long cp_row, float* cell, long cell_row,
                        float* tanh_c, long tc_row, float* out, long out_row, float* h, float* c,
                        long batch, long hidden);
void ember_lstm_backward(const float* dht, long dht_row, const float* g, long g_row, const float* tanh_c,
                         long tc_row, const float* cp, long cp_row, float* dg, long dg_row, float* dc,
                         long batch, long hidden);
"""

_SOURCE = TANH_SOURCE + """
static inline float ember_sigmoidf(float v) {
    float s = v * 0.5f;
    s = ember_tanhf(s);
    s = s * 0.5f;
    return s + 0.5f;
}

static void ember_lstm_forward_row(float* restrict gi, float* restrict gf, float* restrict gg, float* restrict go,
                                   const float* restrict cp, float* restrict cell, float* restrict tanh_c,
                                   float* restrict out, float* restrict h, float* restrict c, long hidden) {
    for (long j = 0; j < hidden; j++) {
        float candidate = ember_tanhf(gg[j]);
        float i = ember_sigmoidf(gi[j]);
        float f = ember_sigmoidf(gf[j]);
        float o = ember_sigmoidf(go[j]);
        gi[j] = i; gf[j] = f; gg[j] = candidate; go[j] = o;
        float cn = f * cp[j];
        float added = i * candidate;
        cn = cn + added;
        cell[j] = cn;
        float tc = ember_tanhf(cn);
        tanh_c[j] = tc;
        float hn = o * tc;
        out[j] = hn;
        h[j] = hn;
        c[j] = cn;
    }
}

void ember_lstm_forward(float* g, long g_row, const float* cp, long cp_row, float* cell, long cell_row,
                        float* tanh_c, long tc_row, float* out, long out_row, float* h, float* c,
                        long batch, long hidden) {
    for (long b = 0; b < batch; b++) {
        float* gi = g + b * g_row;
        ember_lstm_forward_row(gi, gi + hidden, gi + 2 * hidden, gi + 3 * hidden, cp + b * cp_row, cell + b * cell_row,
                               tanh_c + b * tc_row, out + b * out_row, h + b * hidden, c + b * hidden, hidden);
    }
}

static void ember_lstm_backward_row(const float* restrict gi, const float* restrict gf, const float* restrict gg,
                                    const float* restrict go, const float* restrict dht, const float* restrict tanh_c,
                                    const float* restrict cp, float* restrict dgi, float* restrict dgf,
                                    float* restrict dgg, float* restrict dgo, float* restrict dc, long hidden) {
    for (long j = 0; j < hidden; j++) {
        float i = gi[j], f = gf[j], candidate = gg[j], o = go[j];
        float d = dht[j], tc = tanh_c[j];
        float d_o = d * tc;
        float dct = tc * tc;
        dct = 1.0f - dct;
        dct = dct * o;
        dct = dct * d;
        dct = dct + dc[j];
        float d_i = dct * candidate;
        float d_f = dct * cp[j];
        float d_g = dct * i;
        dc[j] = dct * f;
        float slope = candidate * candidate;
        slope = 1.0f - slope;
        d_g = d_g * slope;
        float si = 1.0f - i;
        si = i * si;
        d_i = d_i * si;
        float sf = 1.0f - f;
        sf = f * sf;
        d_f = d_f * sf;
        float so = 1.0f - o;
        so = o * so;
        d_o = d_o * so;
        dgi[j] = d_i; dgf[j] = d_f; dgg[j] = d_g; dgo[j] = d_o;
    }
}

void ember_lstm_backward(const float* dht, long dht_row, const float* g, long g_row, const float* tanh_c,
                         long tc_row, const float* cp, long cp_row, float* dg, long dg_row, float* dc,
                         long batch, long hidden) {
    for (long b = 0; b < batch; b++) {
        const float* gi = g + b * g_row;
        float* dgi = dg + b * dg_row;
        ember_lstm_backward_row(gi, gi + hidden, gi + 2 * hidden, gi + 3 * hidden, dht + b * dht_row,
                                tanh_c + b * tc_row, cp + b * cp_row, dgi, dgi + hidden, dgi + 2 * hidden,
                                dgi + 3 * hidden, dc + b * hidden, hidden);
    }
}
"""

_F32 = np.dtype(np.float32)
_EAGER = EagerKernels(_SOURCE, _DECLARATIONS, "EMBER_FUSED_RNN")
_STATE = _EAGER.state  # tests set _STATE["lib"] = None to run the NumPy path


def enabled() -> bool:
    """Whether the kernels run here: the ``compile`` extra works and ``EMBER_FUSED_RNN`` (or ``EMBER_FUSED_KERNELS``)
    is not ``0``.

    >>> isinstance(enabled(), bool)
    True
    """
    return _EAGER.library() is not None


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
        ffi = _ffi()
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
        ffi = _ffi()
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


def _ffi():
    from ember.compiler.kernels import _STATE as toolchain
    return toolchain["ffi"]
