"""Recurrent ops: one fused op runs a whole RNN/LSTM/GRU layer in one direction, and the cell functions.

``rnn_layer`` loops over the time steps in NumPy (the input projection of all steps is one matmul) and
saves the gate activations, so its backward is a closed-form backpropagation through time, again in NumPy,
ending in one matmul per weight. One layer and direction is one node of the autograd graph, however long
the sequence. When the backward itself is recorded (``create_graph=True``) the layer is recomputed with
ordinary ember ops and differentiated through them, so higher derivatives are exact.

Inputs are laid out three ways: padded time-major ``(T, B, I)``, padded ``batch_first`` ``(B, T, I)``, or
packed ``(N, I)`` with ``batch_sizes`` (the rows of step ``t`` follow those of step ``t - 1``; the batch
shrinks as sequences end, the layout of :class:`ember.nn.utils.rnn.PackedSequence`). A cell is the
one-step case ``(B, I)``.

The torch-level functions ``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell``, ``rnn_relu_cell`` and the
whole-network ``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu`` (what ``nn.LSTM`` & co. call) are public: registered
compositions of the layer op.

>>> import ember
>>> x, h, c = ember.ones(2, 3), ember.zeros(2, 4), ember.zeros(2, 4)
>>> w_ih, w_hh = ember.full((16, 3), 0.1), ember.full((16, 4), 0.1)
>>> h1, c1 = ember.lstm_cell(x, (h, c), w_ih, w_hh)
>>> h1.shape, round(float(h1[0, 0]), 4)
(ember.Size([2, 4]), 0.0952)
"""

from __future__ import annotations

import numpy as np

from ember.autograd.grad_mode import STATE
from ember.errors import op_error
from ember.ops.movement import Clone
from ember.ops.normalization import _compute_dtype, _wrap
from ember.ops.products import _cast
from ember.ops.registry import register_function, register_op
from ember.tensor import Tensor

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------------------------------------ layout
def step_plan(lead_shape, batch_sizes, batch_first, reverse):
    """The time steps in processing order: (index into arrays laid out like the input, active rows).

    ``lead_shape`` is the input's shape without its feature dim: ``(T, B)``, ``(B, T)`` (``batch_first``),
    ``(N,)`` packed with ``batch_sizes``, or ``(B,)`` for a single step (a cell).
    Returns ``(plan, batch)`` where ``batch`` is the number of rows of the hidden state.
    """
    if batch_sizes is not None:
        plan, start = [], 0
        for size in batch_sizes:
            plan.append((slice(start, start + size), size))
            start += size
        batch = batch_sizes[0] if batch_sizes else 0
    elif len(lead_shape) == 1:
        plan, batch = [(slice(None), lead_shape[0])], lead_shape[0]
    elif batch_first:
        batch, steps = lead_shape
        plan = [((slice(None), t), batch) for t in range(steps)]
    else:
        steps, batch = lead_shape
        plan = [(t, batch) for t in range(steps)]
    if reverse:
        plan.reverse()
    return plan, batch


def _sigmoid_(v):
    """Sigmoid in place, through tanh so that no exp overflows."""
    v *= 0.5
    np.tanh(v, out=v)
    v *= 0.5
    v += 0.5
    return v


def _rows(arr):
    return arr.reshape(-1, arr.shape[-1])


# ------------------------------------------------------------------------------------------ NumPy kernels
def _lstm_kernel(name, *arrays):
    """ember.kernels.rnn_cell's ``name`` kernel bound to these arrays (one C call per LSTM time step) when the
    compile extra works and they are float32, else None (the NumPy loop runs)."""
    if arrays[0].dtype != np.float32:
        return None
    from ember.kernels import rnn_cell
    return getattr(rnn_cell, name)(*arrays)


def _forward_kernel(ctx, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, plan, batch):
    """Run the layer; stash on ``ctx`` what the backward kernel reads. Arrays are in the compute dtype."""
    lead = x.shape[:-1]
    gates, out_size = w_hh.shape
    hidden = gates // _GATES[mode]
    acts = (_rows(x) @ w_ih.T).reshape(lead + (gates,))  # becomes the gate activations, step by step
    if b_ih is not None:
        acts += (b_ih + b_hh) if mode != "GRU" else b_ih
    dtype = acts.dtype
    h = np.array(h0, dtype=dtype) if h0 is not None else np.zeros((batch, out_size), dtype)
    out = np.empty(lead + (out_size,), dtype)
    h_prev = np.empty(lead + (out_size,), dtype)
    w_hh_t = w_hh.T
    ctx.acts, ctx.h_prev = acts, h_prev
    if mode == "LSTM":
        c = np.array(c0, dtype=dtype) if c0 is not None else np.zeros((batch, hidden), dtype)
        c_prev = np.empty(lead + (hidden,), dtype)
        tanh_c = np.empty(lead + (hidden,), dtype)
        cells = np.empty(lead + (hidden,), dtype)
        unprojected = np.empty(lead + (hidden,), dtype) if w_hr is not None else None
        w_hr_t = w_hr.T if w_hr is not None else None
        two, three = 2 * hidden, 3 * hidden
        fused = _lstm_kernel("lstm_forward", acts, c_prev, cells, tanh_c, out, h, c) if w_hr is None else None
        for idx, size in plan:
            hp = h_prev[idx]
            hp[...] = h[:size]
            cp = c_prev[idx]
            cp[...] = c[:size]
            g = acts[idx]
            g += hp @ w_hh_t
            if fused is not None:
                fused.step(idx, size)
                continue
            candidate = np.tanh(g[:, two:three])
            _sigmoid_(g)
            g[:, two:three] = candidate
            cn = cells[idx]
            np.multiply(g[:, hidden:two], cp, out=cn)
            cn += g[:, :hidden] * candidate
            tc = tanh_c[idx]
            np.tanh(cn, out=tc)
            hn = out[idx]
            if w_hr is None:
                np.multiply(g[:, three:], tc, out=hn)
            else:
                m = unprojected[idx]
                np.multiply(g[:, three:], tc, out=m)
                hn[...] = m @ w_hr_t
            h[:size] = hn
            c[:size] = cn
        ctx.c_prev, ctx.tanh_c, ctx.unprojected = c_prev, tanh_c, unprojected
        return out, h, c
    if mode == "GRU":
        hidden_n = np.empty(lead + (hidden,), dtype)  # W_hn h + b_hn, which the reset gate scales
        two = 2 * hidden
        for idx, size in plan:
            hp = h_prev[idx]
            hp[...] = h[:size]
            g = acts[idx]
            gh = hp @ w_hh_t
            if b_hh is not None:
                gh += b_hh
            g[:, :two] += gh[:, :two]
            _sigmoid_(g[:, :two])
            hidden_n[idx] = gh[:, two:]
            n = g[:, two:]
            n += g[:, :hidden] * gh[:, two:]
            np.tanh(n, out=n)
            hn = out[idx]
            np.subtract(hp, n, out=hn)
            hn *= g[:, hidden:two]
            hn += n
            h[:size] = hn
        ctx.hidden_n = hidden_n
        return out, h
    relu = mode == "RNN_RELU"
    for idx, size in plan:
        hp = h_prev[idx]
        hp[...] = h[:size]
        g = acts[idx]
        g += hp @ w_hh_t
        if relu:
            np.maximum(g, 0, out=g)
        else:
            np.tanh(g, out=g)
        out[idx] = g
        h[:size] = g
    return out, h


def _backward_kernel(ctx, mode, x, w_ih, w_hh, w_hr, grad_out, grad_h, grad_c, needs):
    """Backpropagation through time; returns gradient arrays for (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)."""
    acts, h_prev = ctx.acts, ctx.h_prev
    plan, batch = ctx.plan, ctx.batch
    lead = acts.shape[:-1]
    gates, out_size = w_hh.shape
    hidden = gates // _GATES[mode]
    dtype = acts.dtype
    dh = np.array(grad_h, dtype=dtype) if grad_h is not None else np.zeros((batch, out_size), dtype)
    d_acts = np.empty_like(acts)  # gradient of the gates' pre-activations (input side)
    d_hidden_side = d_acts        # gradient of W_hh h + b_hh (differs from d_acts only for GRU)
    grad_w_hr = None
    if mode == "LSTM":
        dc = np.array(grad_c, dtype=dtype) if grad_c is not None else np.zeros((batch, hidden), dtype)
        c_prev, tanh_c, unprojected = ctx.c_prev, ctx.tanh_c, ctx.unprojected
        d_projected = np.empty(lead + (out_size,), dtype) if w_hr is not None else None
        two, three = 2 * hidden, 3 * hidden
        fused = _lstm_kernel("lstm_backward", acts, c_prev, tanh_c, d_acts, dc)
        for idx, size in reversed(plan):
            dht = dh[:size] if grad_out is None else dh[:size] + grad_out[idx]
            if w_hr is not None:
                d_projected[idx] = dht
                dht = dht @ w_hr
            g = acts[idx]
            tc = tanh_c[idx]
            dg = d_acts[idx]
            if fused is not None:
                fused.step(dht, idx, size)
                dh[:size] = dg @ w_hh
                continue
            o = g[:, three:]
            np.multiply(dht, tc, out=dg[:, three:])
            dct = 1 - tc * tc
            dct *= o
            dct *= dht
            dct += dc[:size]
            np.multiply(dct, g[:, two:three], out=dg[:, :hidden])
            np.multiply(dct, c_prev[idx], out=dg[:, hidden:two])
            np.multiply(dct, g[:, :hidden], out=dg[:, two:three])
            np.multiply(dct, g[:, hidden:two], out=dc[:size])
            candidate = g[:, two:three]
            dg[:, two:three] *= 1 - candidate * candidate
            dg[:, :two] *= g[:, :two] * (1 - g[:, :two])
            dg[:, three:] *= o * (1 - o)
            dh[:size] = dg @ w_hh
        if w_hr is not None and needs[7]:
            grad_w_hr = _rows(d_projected).T @ _rows(unprojected)
    elif mode == "GRU":
        hidden_n = ctx.hidden_n
        d_hidden_side = np.empty_like(acts)
        two = 2 * hidden
        for idx, size in reversed(plan):
            dht = dh[:size] if grad_out is None else dh[:size] + grad_out[idx]
            g = acts[idx]
            r, z, n = g[:, :hidden], g[:, hidden:two], g[:, two:]
            dg = d_acts[idx]
            dgh = d_hidden_side[idx]
            dn = dg[:, two:]
            np.multiply(dht, 1 - z, out=dn)
            dn *= 1 - n * n
            np.multiply(dn, r, out=dgh[:, two:])
            dr = dg[:, :hidden]
            np.multiply(dn, hidden_n[idx], out=dr)
            dr *= r * (1 - r)
            dz = dg[:, hidden:two]
            np.subtract(h_prev[idx], n, out=dz)
            dz *= dht
            dz *= z * (1 - z)
            dgh[:, :two] = dg[:, :two]
            dh_next = dgh @ w_hh
            dh_next += dht * z
            dh[:size] = dh_next
    else:
        relu = mode == "RNN_RELU"
        for idx, size in reversed(plan):
            dht = dh[:size] if grad_out is None else dh[:size] + grad_out[idx]
            dg = d_acts[idx]
            h = acts[idx]
            if relu:
                np.multiply(dht, h > 0, out=dg)
            else:
                np.multiply(dht, 1 - h * h, out=dg)
            dh[:size] = dg @ w_hh
    d_rows = _rows(d_acts)
    grad_x = (d_rows @ w_ih).reshape(x.shape) if needs[0] else None
    grad_w_ih = d_rows.T @ _rows(x) if needs[3] else None
    grad_w_hh = _rows(d_hidden_side).T @ _rows(h_prev) if needs[4] else None
    grad_b_ih = d_rows.sum(0) if needs[5] else None
    grad_b_hh = _rows(d_hidden_side).sum(0) if needs[6] else None
    grad_c0 = dc if mode == "LSTM" and needs[2] else None
    return grad_x, dh if needs[1] else None, grad_c0, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh, grad_w_hr


# ------------------------------------------------------------------------------------------ the layer op
@register_op
class RnnLayer:
    """One layer of a recurrent network in one direction: ``(output, h_n)``, plus ``c_n`` for LSTM.

    Operands: ``x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr`` (``h0``, ``c0``, biases and ``w_hr`` may be
    None). Attributes: ``mode`` (one of ``MODES``), ``batch_sizes`` (a tuple for packed input, else None),
    ``batch_first``, ``reverse``.
    """

    name = "rnn_layer"
    kind = "opaque"
    promote = "none"
    save = ("inputs",)

    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, batch_first, reverse):
        dtype = _compute_dtype(x.dtype)
        plan, batch = step_plan(x.shape[:-1], batch_sizes, batch_first, reverse)
        ctx.plan, ctx.batch, ctx.materialize_grads = plan, batch, False
        ctx.attrs = {"mode": mode, "batch_sizes": batch_sizes, "batch_first": batch_first, "reverse": reverse}
        arrays = [_cast(a, dtype) for a in (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)]
        outs = _forward_kernel(ctx, mode, *arrays, plan, batch)
        return tuple(_cast(o, x.dtype) for o in outs)

    def backward(ctx, grad_out, grad_h, grad_c=None):
        attrs = ctx.attrs
        inputs = ctx.inputs
        needs = tuple(e is not None for e in ctx.next_edges)
        if STATE.enabled:
            return _recorded_backward(inputs, needs, attrs, (grad_out, grad_h, grad_c))
        x, w_ih, w_hh, w_hr = inputs[0], inputs[3], inputs[4], inputs[7]
        dtype = ctx.acts.dtype
        grads = _backward_kernel(
            ctx, attrs["mode"], _cast(x._data, dtype), _cast(w_ih._data, dtype), _cast(w_hh._data, dtype),
            None if w_hr is None else _cast(w_hr._data, dtype),
            *(None if g is None else _cast(g._data, dtype) for g in (grad_out, grad_h, grad_c)), needs)
        return tuple(None if g is None else _wrap(g, t._dtype) for g, t in zip(grads, inputs))


def rnn_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes=None, batch_first=False, reverse=False):
    """Run one layer in one direction (see :class:`RnnLayer`); shapes are not checked here.

    >>> x = ember.ones(5, 2, 3)
    >>> out, h_n = ember.ops.recurrent.rnn_layer(x, None, None, ember.full((4, 3), 0.1), ember.full((4, 4), 0.1),
    ...                                       None, None, None, "RNN_TANH")
    >>> out.shape, h_n.shape
    (ember.Size([5, 2, 4]), ember.Size([2, 4]))
    """
    return RnnLayer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode=mode, batch_sizes=batch_sizes,
                    batch_first=batch_first, reverse=reverse)


def _recorded_backward(inputs, needs, attrs, grads):
    """Gradients as a graph of ember ops (for double backward): rerun the layer with ember ops, differentiate."""
    from ember.autograd.differentiate import grad as autograd_grad
    # Clones stand in for the inputs so the inner backward stops at them instead of running on past them.
    stand_ins = [Clone(t) if need else (t.detach() if t is not None else None) for t, need in zip(inputs, needs)]
    outs = reference_layer(*stand_ins, **attrs)
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
    wanted = [t for t, need in zip(stand_ins, needs) if need]
    found = autograd_grad([o for o, _ in pairs], wanted, [g for _, g in pairs], create_graph=True, allow_unused=True)
    found = iter(found)
    return tuple(next(found) if need else None for need in needs)


def reference_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes=None, batch_first=False,
                    reverse=False):
    """The same layer as :func:`rnn_layer`, written step by step with ember ops (differentiable to any order).

    >>> x = ember.ones(5, 2, 3)
    >>> args = (x, None, None, ember.full((4, 3), 0.1), ember.full((4, 4), 0.1), None, None, None, "RNN_TANH")
    >>> bool((ember.ops.recurrent.reference_layer(*args)[0] == ember.ops.recurrent.rnn_layer(*args)[0]).all())
    True
    """
    import ember
    from ember.nn import functional as F
    lead = tuple(x.shape[:-1])
    plan, batch = step_plan(lead, batch_sizes, batch_first, reverse)
    gates, out_size = w_hh.shape
    hidden = gates // _GATES[mode]
    h = h0 if h0 is not None else ember.zeros(batch, out_size, dtype=x.dtype)
    c = None
    if mode == "LSTM":
        c = c0 if c0 is not None else ember.zeros(batch, hidden, dtype=x.dtype)
    acts = F.linear(x, w_ih, b_ih)
    outs = []
    for idx, size in plan:
        hp = h[:size]
        gh = F.linear(hp, w_hh, b_hh)
        g = acts[idx]
        if mode == "LSTM":
            i, f, cand, o = (g + gh).chunk(4, -1)
            i, f, o, cand = ember.sigmoid(i), ember.sigmoid(f), ember.sigmoid(o), ember.tanh(cand)
            cn = f * c[:size] + i * cand
            hn = o * ember.tanh(cn)
            if w_hr is not None:
                hn = F.linear(hn, w_hr)
            c = cn if size == batch else ember.cat([cn, c[size:]], 0)
        elif mode == "GRU":
            xr, xz, xn = g.chunk(3, -1)
            hr, hz, hn_ = gh.chunk(3, -1)
            r, z = ember.sigmoid(xr + hr), ember.sigmoid(xz + hz)
            n = ember.tanh(xn + r * hn_)
            hn = n + z * (hp - n)
        else:
            pre = g + gh
            hn = ember.relu(pre) if mode == "RNN_RELU" else ember.tanh(pre)
        outs.append(hn)
        h = hn if size == batch else ember.cat([hn, h[size:]], 0)
    ordered = outs[::-1] if reverse else outs
    if batch_sizes is not None:
        output = ember.cat(ordered, 0)
    elif len(lead) == 1:
        output = ordered[0]
    else:
        output = ember.stack(ordered, 1 if batch_first else 0)
    return (output, h, c) if mode == "LSTM" else (output, h)


# ------------------------------------------------------------------------------------------ networks
def rnn_network(mode, input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first,
                batch_sizes=None):
    """A stack of layers, both directions, dropout between layers (what ``nn.RNN``/``LSTM``/``GRU`` run).

    ``input`` is ``(T, B, I)``/``(B, T, I)`` or packed ``(N, I)`` with ``batch_sizes`` (a tuple);
    ``hx`` is ``h0`` (or ``(h0, c0)`` for LSTM) of shape ``(layers * directions, B, H)``, or None.
    ``params`` is the flat weight list in torch's order. Returns ``(output, h_n)`` or
    ``(output, h_n, c_n)``.

    >>> w = [ember.full((4, 3), 0.1), ember.full((4, 4), 0.1)]
    >>> out, h_n = ember.ops.recurrent.rnn_network("RNN_TANH", ember.ones(5, 2, 3), None, w, False, 1, 0.0, False,
    ...                                         False, False)
    >>> out.shape, h_n.shape
    (ember.Size([5, 2, 4]), ember.Size([1, 2, 4]))
    """
    import ember
    lstm = mode == "LSTM"
    directions = 2 if bidirectional else 1
    per_layer = len(params) // (num_layers * directions)
    has_projection = per_layer == (5 if has_biases else 3)
    h0s = c0s = None
    if hx is not None:
        if lstm:
            h0s, c0s = hx[0].unbind(0), hx[1].unbind(0)
        else:
            h0s = hx.unbind(0)
    drop = dropout > 0 and train
    layer_input = input
    h_n, c_n = [], []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            k = layer * directions + direction
            weights = params[k * per_layer:(k + 1) * per_layer]
            w_ih, w_hh = weights[0], weights[1]
            b_ih, b_hh = (weights[2], weights[3]) if has_biases else (None, None)
            w_hr = weights[-1] if has_projection else None
            result = rnn_layer(layer_input, None if h0s is None else h0s[k], None if c0s is None else c0s[k],
                               w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, batch_first, direction == 1)
            outputs.append(result[0])
            h_n.append(result[1])
            if lstm:
                c_n.append(result[2])
        layer_input = outputs[0] if directions == 1 else ember.cat(outputs, -1)
        if drop and layer < num_layers - 1:
            layer_input = ember.nn.functional.dropout(layer_input, dropout, True)
    h_n = ember.stack(h_n, 0)
    return (layer_input, h_n, ember.stack(c_n, 0)) if lstm else (layer_input, h_n)


def _network_call(mode, args):
    """Parse torch's two overloads: (input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
    batch_first) and the packed (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
    bidirectional)."""
    if len(args) == 9 and isinstance(args[3], bool):
        input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first = args
        batch_sizes = None
    elif len(args) == 9:
        input, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional = args
        batch_first = False
        batch_sizes = tuple(int(b) for b in np.asarray(batch_sizes._data if isinstance(batch_sizes, Tensor)
                                                       else batch_sizes).reshape(-1))
    else:
        raise op_error(TypeError, mode.lower(), f"expected 9 arguments, got {len(args)}")
    return rnn_network(mode, input, hx, list(params), has_biases, num_layers, dropout, train, bidirectional,
                       batch_first, batch_sizes)


@register_function
def lstm(*args):
    """``torch.lstm``: a multi-layer LSTM over a padded or packed batch; returns ``(output, h_n, c_n)``.

    >>> w = [ember.full((8, 3), 0.1), ember.full((8, 2), 0.1)]
    >>> out, h_n, c_n = ember.lstm(ember.ones(5, 1, 3), (ember.zeros(1, 1, 2), ember.zeros(1, 1, 2)), w, False, 1,
    ...                            0.0, False, False, False)
    >>> out.shape, c_n.shape
    (ember.Size([5, 1, 2]), ember.Size([1, 1, 2]))
    """
    return _network_call("LSTM", args)


@register_function
def gru(*args):
    """``torch.gru``: a multi-layer GRU over a padded or packed batch; returns ``(output, h_n)``.

    >>> w = [ember.full((6, 3), 0.1), ember.full((6, 2), 0.1)]
    >>> out, h_n = ember.gru(ember.ones(5, 1, 3), ember.zeros(1, 1, 2), w, False, 1, 0.0, False, False, False)
    >>> out.shape
    ember.Size([5, 1, 2])
    """
    return _network_call("GRU", args)


@register_function
def rnn_tanh(*args):
    """``torch.rnn_tanh``: a multi-layer Elman RNN with tanh; returns ``(output, h_n)``.

    >>> w = [ember.full((2, 3), 0.1), ember.full((2, 2), 0.1)]
    >>> ember.rnn_tanh(ember.ones(5, 1, 3), ember.zeros(1, 1, 2), w, False, 1, 0.0, False, False, False)[1].shape
    ember.Size([1, 1, 2])
    """
    return _network_call("RNN_TANH", args)


@register_function
def rnn_relu(*args):
    """``torch.rnn_relu``: a multi-layer Elman RNN with ReLU; returns ``(output, h_n)``.

    >>> w = [ember.full((2, 3), 0.1), ember.full((2, 2), 0.1)]
    >>> ember.rnn_relu(ember.ones(5, 1, 3), ember.zeros(1, 1, 2), w, False, 1, 0.0, False, False, False)[1]
    tensor([[[0.3749, 0.3749]]])
    """
    return _network_call("RNN_RELU", args)


# ------------------------------------------------------------------------------------------ cells
def _check_cell(op_name, input, hidden, w_ih, w_hh, index=0):
    if input.dim() != 2 or input.shape[1] != w_ih.shape[1]:
        if input.dim() == 2:
            raise op_error(RuntimeError, op_name, f"input has inconsistent input_size: got {input.shape[1]} expected "
                           f"{w_ih.shape[1]}")
        raise op_error(RuntimeError, op_name, f"expected input of shape (batch, input_size), got {list(input.shape)}")
    if hidden.dim() != 2:
        raise op_error(RuntimeError, op_name, f"expected hidden{index} of shape (batch, hidden_size), got "
                       f"{list(hidden.shape)}")
    if input.shape[0] != hidden.shape[0]:
        raise op_error(RuntimeError, op_name, f"Input batch size {input.shape[0]} doesn't match hidden{index} batch "
                       f"size {hidden.shape[0]}")


def _check_cell_dtypes(op_name, tensors):
    dtypes = {t._dtype for t in tensors if t is not None}
    if len(dtypes) > 1:
        names = ", ".join(sorted(d.name for d in dtypes))
        raise op_error(RuntimeError, op_name, f"expected input, hidden state and weights to have the same dtype, but "
                       f"got {names}")
    dtype = dtypes.pop()
    if not dtype.is_floating_point:
        raise op_error(RuntimeError, op_name, f"expected floating-point tensors, got {dtype.name}")


def _cell(op_name, mode, input, hx, c, w_ih, w_hh, b_ih, b_hh):
    _check_cell(op_name, input, hx, w_ih, w_hh)
    out_size = w_hh.shape[1]
    if hx.shape[1] != out_size:
        raise op_error(RuntimeError, op_name, f"hidden0 has inconsistent hidden_size: got {hx.shape[1]}, expected "
                       f"{out_size}")
    if c is not None:
        _check_cell(op_name, input, c, w_ih, w_hh, 1)
        if c.shape[1] != w_hh.shape[0] // 4:
            raise op_error(RuntimeError, op_name, f"hidden1 has inconsistent hidden_size: got {c.shape[1]}, expected "
                           f"{w_hh.shape[0] // 4}")
    _check_cell_dtypes(op_name, (input, hx, c, w_ih, w_hh, b_ih, b_hh))
    return rnn_layer(input, hx, c, w_ih, w_hh, b_ih, b_hh, None, mode)


@register_function
def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None):
    """One LSTM step: ``hx = (h, c)`` of shape ``(B, H)``; returns ``(h', c')``. Gates are ordered i, f, g, o.

    >>> h, c = ember.lstm_cell(ember.ones(1, 2), (ember.zeros(1, 1), ember.zeros(1, 1)), ember.ones(4, 2),
    ...                        ember.ones(4, 1))
    >>> round(float(h), 4), round(float(c), 4)
    (0.6083, 0.8491)
    """
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise op_error(RuntimeError, "lstm_cell", "lstm_cell expects two hidden states (h, c)")
    result = _cell("lstm_cell", "LSTM", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)
    return result[1], result[2]


@register_function
def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step on ``(B, I)`` input and ``(B, H)`` state; gates are ordered r, z, n.

    >>> round(float(ember.gru_cell(ember.ones(1, 2), ember.zeros(1, 1), ember.ones(3, 2), ember.ones(3, 1))), 4)
    0.1149
    """
    return _cell("gru_cell", "GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


@register_function
def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One Elman step: ``tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``.

    >>> ember.rnn_tanh_cell(ember.ones(1, 2), ember.zeros(1, 1), ember.ones(1, 2), ember.ones(1, 1))
    tensor([[0.9640]])
    """
    return _cell("rnn_tanh_cell", "RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


@register_function
def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One Elman step with ReLU: ``relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``.

    >>> ember.rnn_relu_cell(ember.ones(1, 2), ember.zeros(1, 1), ember.ones(1, 2), ember.ones(1, 1))
    tensor([[2.]])
    """
    return _cell("rnn_relu_cell", "RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


# ------------------------------------------------------------------------------------------ padding and packing
def _first_dtype(args):
    return args[0]._dtype


@register_op
class PadSequence:
    """Stack sequences ``(L_i, *)`` into ``(T, B, *)`` (or ``(B, T, *)``), filling with ``padding_value``."""

    name = "pad_sequence"
    kind = "movement"
    promote = _first_dtype

    def forward(ctx, *sequences, batch_first, padding_value, padding_side):
        longest = max(s.shape[0] for s in sequences)
        trailing = sequences[0].shape[1:]
        count = len(sequences)
        shape = (count, longest) + trailing if batch_first else (longest, count) + trailing
        out = np.full(shape, padding_value, dtype=sequences[0].dtype)
        starts = []
        for b, s in enumerate(sequences):
            start = longest - s.shape[0] if padding_side == "left" else 0
            starts.append(start)
            if batch_first:
                out[b, start:start + s.shape[0]] = s
            else:
                out[start:start + s.shape[0], b] = s
        ctx.starts, ctx.lengths, ctx.batch_first = starts, [s.shape[0] for s in sequences], batch_first
        return out

    def backward(ctx, grad):
        time_dim = 1 if ctx.batch_first else 0
        batch_dim = 1 - time_dim
        return tuple(grad.select(batch_dim, b).narrow(0, start, length)
                     for b, (start, length) in enumerate(zip(ctx.starts, ctx.lengths)))


def pad_sequence_op(sequences, batch_first, padding_value, padding_side):
    """The op behind :func:`ember.nn.utils.rnn.pad_sequence` (sequences already checked).

    >>> ember.ops.recurrent.pad_sequence_op([ember.ones(2), ember.ones(1)], True, 0.0, "right")
    tensor([[1., 1.],
            [1., 0.]])
    """
    return PadSequence(*sequences, batch_first=batch_first, padding_value=padding_value, padding_side=padding_side)


def packed_row_indices(batch_sizes, rows_per_step, batch_first, steps):
    """For each packed row (step ``t``, sequence ``b``), its row in the flattened padded tensor.

    Padded ``(T, B, *)`` flattens to row ``t * B + b``; ``(B, T, *)`` to ``b * T + t``.

    >>> ember.ops.recurrent.packed_row_indices((2, 1), 2, False, 2)
    array([0, 1, 2])
    """
    sizes = np.asarray(batch_sizes, dtype=np.int64)
    step_of_row = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    batch_of_row = np.arange(int(sizes.sum())) - np.repeat(starts, sizes)
    if batch_first:
        return batch_of_row * steps + step_of_row
    return step_of_row * rows_per_step + batch_of_row

