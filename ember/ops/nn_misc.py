"""Linear and bilinear maps (``torch.nn.functional.linear`` and ``bilinear``).

``linear`` is a fused op with closed-form NumPy backwards; when the backward is itself recorded
(``create_graph=True``) it writes the same formulas with ember ops, so higher derivatives are exact.
``bilinear`` is a short composition of ops.

>>> import ember
>>> import ember.nn.functional as F
>>> F.linear(ember.tensor([[1.0, 2.0]]), ember.tensor([[1.0, 1.0], [0.0, 1.0]]), ember.tensor([0.5, 0.0]))
tensor([[3.5000, 2.0000]])
"""

from __future__ import annotations

import math

import numpy as np

from ember.autograd.grad_mode import STATE
from ember.dtypes import HALF_NUMPY_DTYPES
from ember.errors import op_error
from ember.ops.normalization import _compute_dtype, _sum_to_shape, _wrap
from ember.ops.registry import register_op
from ember.tensor import Tensor

__all__ = ["bilinear"]
FUNCTIONAL = ["linear", "bilinear"]


def _as(arr, dtype):
    return arr if arr is None or arr.dtype == dtype else arr.astype(dtype)


def _shape(t):
    return list(t._data.shape)


# ------------------------------------------------------------------------------------------ linear
@register_op
class Linear:
    """``x @ weight.T + bias`` over any number of leading dims of ``x`` (weight is 2-d or 1-d)."""

    name = "linear"
    kind = "matmul"
    promote = "none"
    save = ("inputs",)

    def forward(x, weight, bias):
        x_dtype = x.dtype
        low_precision = x_dtype in HALF_NUMPY_DTYPES
        dtype = _compute_dtype(x_dtype) if low_precision else x_dtype
        x_shape = x.shape
        in_features = x_shape[-1]
        # explicit row counts: reshape(-1, 0) is ambiguous to NumPy when in_features == 0
        rows = x if x.ndim == 2 else x.reshape(math.prod(x_shape[:-1]), in_features)
        w = weight if weight.ndim == 2 else weight.reshape(math.prod(weight.shape[:-1]), in_features)
        if low_precision:
            rows, w = _as(rows, dtype), _as(w, dtype)
        # ndarray.dot: the same GEMM as `@`, without the ufunc overhead that dominates small layers
        out = rows.dot(w.T)
        out_shape = x_shape[:-1] + weight.shape[:-1]
        if bias is not None and not low_precision and bias.ndim == 1 and bias.dtype is x_dtype:
            out += bias
            return out if out.shape == out_shape else out.reshape(out_shape)
        if bias is not None:
            if bias.ndim <= 1:
                out += _as(bias, dtype)
            else:
                out = out.reshape(out_shape) + _as(bias, dtype)
        return _as(out, x.dtype).reshape(out_shape)

    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        need_x, need_w, need_b = (e is not None for e in ctx.next_edges)
        in_features = x._data.shape[-1]
        out_features = weight._data.shape[0] if weight._data.ndim == 2 else 1
        grad_x = grad_w = grad_b = None
        if STATE.enabled:
            g2 = grad.reshape(-1, out_features)
            w2 = weight.reshape(out_features, in_features)
            if need_x:
                grad_x = Linear(g2, w2.t(), None).reshape(x._data.shape)
            if need_w:
                rows = x.reshape(math.prod(x._data.shape[:-1]), in_features)
                grad_w = Linear(g2.t(), rows.t(), None).reshape(weight._data.shape)
            if need_b:
                grad_b = g2.sum(0)
            return grad_x, grad_w, grad_b
        dtype = _compute_dtype(grad._data.dtype)
        g2 = _as(grad._data.reshape(-1, out_features), dtype)
        if need_x:
            w2 = _as(weight._data, dtype).reshape(out_features, in_features)
            grad_x = _wrap(g2.dot(w2).reshape(x._data.shape), x._dtype)
        if need_w:
            rows = _as(x._data.reshape(math.prod(x._data.shape[:-1]), in_features), dtype)
            grad_w = _wrap(g2.T.dot(rows).reshape(weight._data.shape), weight._dtype)
        if need_b:
            if bias._data.shape == (out_features,):
                grad_b = _wrap(g2.sum(axis=0), bias._dtype)
            else:
                grad_b = _wrap(_sum_to_shape(_as(grad._data, dtype), bias._data.shape), bias._dtype)
        return grad_x, grad_w, grad_b


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``input`` is ``(*, in_features)``, ``weight`` ``(out_features,
    in_features)``, ``bias`` ``(out_features,)``.

    >>> ember.nn.functional.linear(ember.ones(2, 3), ember.ones(4, 3)).shape
    ember.Size([2, 4])
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise op_error(TypeError, "linear", f"linear(): input and weight must be Tensors, got "
                       f"{type(input).__name__} and {type(weight).__name__}")
    x_shape, w_shape = input._data.shape, weight._data.shape
    if not x_shape or weight._data.ndim not in (1, 2):
        raise op_error(RuntimeError, "linear", f"linear(): expected input of shape (*, in_features) and weight of shape "
                       f"(out_features, in_features), got input {list(x_shape)} and weight {list(w_shape)}")
    if x_shape[-1] != w_shape[-1]:
        rows = math.prod(x_shape[:-1])
        raise op_error(RuntimeError, "linear", f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x_shape[-1]} and "
                       f"{w_shape[-1]}x{w_shape[0] if len(w_shape) == 2 else 1}): input has shape {list(x_shape)} "
                       f"(in_features={x_shape[-1]}) but weight has shape {list(w_shape)} (in_features={w_shape[-1]})")
    if weight._dtype is not input._dtype or (bias is not None and bias._dtype is not input._dtype):
        described = f"input {input._dtype.name}, weight {weight._dtype.name}" + (
            f", bias {bias._dtype.name}" if bias is not None else "")
        raise op_error(RuntimeError, "linear", f"expected input, weight and bias to have the same dtype, but got "
                       f"{described}")
    if bias is not None and (len(w_shape) != 2 or bias._data.shape != w_shape[:1]):
        out_shape = x_shape[:-1] + w_shape[:-1]
        try:
            np.broadcast_shapes(tuple(bias._data.shape), out_shape)
        except ValueError:
            raise op_error(RuntimeError, "linear", f"bias of shape {_shape(bias)} does not broadcast to the output shape "
                           f"{list(out_shape)} (expected bias of shape [{w_shape[0] if len(w_shape) == 2 else ''}])") from None
    return Linear(input, weight, bias)


# ------------------------------------------------------------------------------------------ bilinear
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = input1 @ weight[o] @ input2 + bias[o]``; ``weight`` is ``(out, in1, in2)``.

    >>> x1, x2 = ember.ones(2, 3), ember.ones(2, 4)
    >>> ember.nn.functional.bilinear(x1, x2, ember.ones(5, 3, 4)).shape
    ember.Size([2, 5])
    """
    s1, s2, sw = _shape(input1), _shape(input2), _shape(weight)
    if len(sw) != 3:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): weight must be 3-dimensional (out, in1, in2), got shape {sw}")
    if len(s1) != len(s2) or s1[:-1] != s2[:-1]:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): input batch dimensions do not match: got {s1[:-1]} and "
                       f"{s2[:-1]} (input1 {s1}, input2 {s2})")
    if s1[-1] != sw[1]:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): input1 size does not match weight size: got {s1[-1]} but "
                       f"expected {sw[1]} (input1 {s1}, weight {sw})")
    if s2[-1] != sw[2]:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): input2 size does not match weight size: got {s2[-1]} but "
                       f"expected {sw[2]} (input2 {s2}, weight {sw})")
    if bias is not None and _shape(bias) != [sw[0]]:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): bias size does not match weight size: got {_shape(bias)} "
                       f"but expected [{sw[0]}]")
    out_features, in1, in2 = sw
    # weight_rows[o * in2 + j, i] = weight[o, i, j], so input1 @ weight_rows.T holds input1 @ weight[o] for every o.
    weight_rows = weight.permute(0, 2, 1).reshape(out_features * in2, in1)
    partial = linear(input1, weight_rows).reshape(tuple(s1[:-1]) + (out_features, in2))
    out = (partial * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out
