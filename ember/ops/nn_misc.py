"""The remaining ``torch.nn.functional`` ops: linear and bilinear maps, embeddings, one-hot encoding,
similarities and distances, and scaled dot-product attention.

``linear``, ``embedding`` and ``scaled_dot_product_attention`` are fused ops with closed-form NumPy
backwards; when the backward is itself recorded (``create_graph=True``) they write the same formulas with
ember ops, so higher derivatives are exact. The others are short compositions of ops.

>>> import ember
>>> import ember.nn.functional as F
>>> F.linear(ember.tensor([[1.0, 2.0]]), ember.tensor([[1.0, 1.0], [0.0, 1.0]]), ember.tensor([0.5, 0.0]))
tensor([[3.5000, 2.0000]])
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.errors import op_error
from ember.ops.arguments import wrap_dim
from ember.ops.nn_norm import _LOW_PRECISION, _compute_dtype, _sum_to_shape, _vector_norm, _wrap
from ember.ops.registry import recording as _recording
from ember.ops.registry import register_op
from ember.tensor import Tensor, from_array

__all__ = ["bilinear", "embedding", "embedding_bag", "cosine_similarity", "pairwise_distance", "pdist", "cdist"]
FUNCTIONAL = ["linear", "bilinear", "embedding", "embedding_bag", "one_hot", "cosine_similarity",
              "pairwise_distance", "pdist", "scaled_dot_product_attention"]


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
        low_precision = x_dtype in _LOW_PRECISION
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

    # out= (ember.compile's arena): the GEMM written into `out`, then the bias added in place, as forward does.
    def can_forward_into(out, x, weight, bias):
        return (x.dtype == out.dtype and weight.dtype == out.dtype and weight.ndim == 2 and x.ndim > 0
                and x.shape[-1] != 0 and (bias is None or (bias.dtype == out.dtype and bias.ndim <= 1)))

    def forward_into(out, x, weight, bias):
        np.matmul(x.reshape(-1, weight.shape[1]), weight.T, out=out.reshape(-1, weight.shape[0]))
        if bias is not None:
            out += bias

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


# ------------------------------------------------------------------------------------------ embedding
def _index_add_rows(indices, rows, num_rows):
    """``out[indices[i]] += rows[i]`` into zeros of shape (num_rows, D); repeated indices accumulate."""
    dtype = _compute_dtype(rows.dtype)
    rows = _as(rows, dtype)
    from ember.kernels import scatter_rows  # one C pass (the compile extra), else None
    fused = scatter_rows.index_add_rows(indices, rows, num_rows)  # sequential sums, as np.add.at
    if fused is not None:
        return fused
    if indices.size >= 256:
        # Sort the lookups so equal rows are adjacent, then sum each run at once: several times faster than
        # np.add.at, which handles one row per Python-level index.
        order = np.argsort(indices, kind="stable")
        sorted_indices = indices[order]
        starts = np.flatnonzero(np.r_[True, sorted_indices[1:] != sorted_indices[:-1]])
        out = np.zeros((num_rows, rows.shape[1]), dtype=dtype)
        out[sorted_indices[starts]] = np.add.reduceat(rows[order], starts, axis=0)
        return out
    out = np.zeros((num_rows, rows.shape[1]), dtype=dtype)
    np.add.at(out, indices, rows)
    return out


def _row_factors(indices, num_weights, padding_idx, scale_grad_by_freq):
    """Per-lookup gradient factors: 0 at ``padding_idx``, 1/frequency with ``scale_grad_by_freq``."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    factors = np.ones(indices.size, dtype=np.float64)
    if scale_grad_by_freq:
        factors /= np.bincount(indices, minlength=num_weights)[indices]
    if padding_idx is not None:
        factors[indices == padding_idx] = 0.0
    return factors


@register_op
class Embedding:
    """Row lookup ``weight[indices]``; its backward adds gradient rows into the looked-up rows."""

    name = "embedding"
    kind = "index"
    promote = "none"

    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        _check_index_range(indices, weight.shape[0], "embedding")  # here too: a compiled replay runs only the op
        if _recording(ctx):
            ctx.indices = indices.reshape(-1).astype(np.int64, copy=False)
            ctx.lookup = (padding_idx, scale_grad_by_freq)
        return np.take(weight, indices, axis=0)

    def backward(ctx, grad):
        padding_idx, scale = ctx.lookup
        return EmbeddingBackward(grad, indices=ctx.indices, num_weights=ctx.input_meta[0][0][0],
                                 padding_idx=padding_idx, scale_grad_by_freq=scale), None


@register_op
class EmbeddingBackward:
    """Gradient of ``embedding``: output-gradient rows summed into zeros of the weight's shape."""

    name = "embedding_backward"
    kind = "index"
    promote = "none"

    def forward(ctx, grad, indices, num_weights, padding_idx, scale_grad_by_freq):
        rows = grad.reshape(indices.size, grad.shape[-1])
        factors = _row_factors(indices, num_weights, padding_idx, scale_grad_by_freq)
        if _recording(ctx):
            ctx.indices, ctx.factors, ctx.grad_shape = indices, factors, grad.shape
        if factors is not None:
            rows = rows * factors.astype(_compute_dtype(rows.dtype))[:, None]
        return _as(_index_add_rows(indices, rows, num_weights), grad.dtype)

    def backward(ctx, grad):
        rows = Embedding(grad, from_array(ctx.indices), padding_idx=None, scale_grad_by_freq=False)
        if ctx.factors is not None:
            rows = rows * from_array(ctx.factors.astype(grad._data.dtype)[:, None])
        return rows.reshape(ctx.grad_shape)


def _check_indices(indices, op_name, argument="indices"):
    if not isinstance(indices, Tensor):
        raise op_error(TypeError, op_name, f"{argument} must be a Tensor, got {type(indices).__name__}")
    if indices._dtype not in (_dt.int64, _dt.int32):
        raise op_error(RuntimeError, op_name, f"Expected tensor for argument #1 '{argument}' to have one of the following "
                       f"scalar types: Long, Int; but got {indices._dtype.torch_name} instead (while checking "
                       f"arguments for {op_name})")


def _check_index_range(arr, num_weights, op_name):
    if arr.size == 0:
        return
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or high >= num_weights:
        bad = low if low < 0 else high
        raise op_error(IndexError, op_name, f"index out of range in self: index {bad} is out of range for an embedding "
                       f"table with {num_weights} rows (valid indices are 0 to {num_weights - 1})")


def _padding_index(padding_idx, num_weights, op_name):
    if padding_idx is None:
        return None
    padding_idx = int(padding_idx)
    if not -num_weights <= padding_idx < num_weights:
        raise op_error(AssertionError, op_name, f"Padding_idx must be within num_embeddings (got padding_idx="
                       f"{padding_idx} for {num_weights} embeddings)")
    return padding_idx + num_weights if padding_idx < 0 else padding_idx


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Scale the referenced rows of ``weight`` in place so their ``norm_type``-norm is at most ``max_norm``."""
    data = weight._data
    rows = np.unique(indices)
    if rows.size == 0:
        return
    selected = data[rows].astype(np.float64)
    norms = np.linalg.norm(selected, ord=norm_type, axis=1) if norm_type != 0 else (selected != 0).sum(axis=1)
    too_long = norms > max_norm
    if too_long.any():
        scales = max_norm / (norms[too_long] + 1e-7)
        data[rows[too_long]] = (data[rows[too_long]] * scales[:, None].astype(data.dtype)).astype(data.dtype)
        weight._version.value += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (``(num_embeddings, embedding_dim)``) at the integer ``input``.

    Rows at ``padding_idx`` get no gradient. With ``max_norm``, the looked-up rows of ``weight`` whose
    ``norm_type``-norm exceeds it are rescaled in place first. ``scale_grad_by_freq`` divides each row's
    gradient by how often it occurs in ``input``. ``sparse=True`` gives the same (dense) gradient.
    PyTorch's top-level ``ember.embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False,
    sparse=False)`` is accepted too.

    >>> weight = ember.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
    >>> ember.nn.functional.embedding(ember.tensor([[2, 1]]), weight)
    tensor([[[3., 4.],
             [1., 2.]]])
    """
    if (isinstance(input, Tensor) and isinstance(weight, Tensor) and input._dtype.is_floating_point
            and not weight._dtype.is_floating_point):
        # torch.embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse): -1 means no padding row.
        input, weight = weight, input
        scale_grad_by_freq = bool(max_norm) if max_norm is not None else scale_grad_by_freq
        padding_idx = None if padding_idx is None or padding_idx < 0 else padding_idx
        max_norm = None
    _check_indices(input, "embedding")
    if not isinstance(weight, Tensor) or weight._data.ndim != 2:
        raise op_error(RuntimeError, "embedding", f"'weight' must be 2-D (num_embeddings, embedding_dim), got "
                       f"{_shape(weight) if isinstance(weight, Tensor) else type(weight).__name__}")
    num_weights = weight._data.shape[0]
    padding_idx = _padding_index(padding_idx, num_weights, "embedding")
    indices = input._data
    _check_index_range(indices, num_weights, "embedding")
    if max_norm is not None:
        _renorm_rows(weight, indices.reshape(-1), float(max_norm), float(norm_type))
    return Embedding(weight, input, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embedding rows, without building the looked-up rows per bag.

    ``input`` is 2-d ``(B, N)`` (each row one bag) or 1-d with ``offsets`` giving where each bag starts.
    ``per_sample_weights`` (``mode="sum"`` only) scales each looked-up row. Empty bags give zeros.

    >>> weight = ember.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> ember.nn.functional.embedding_bag(ember.tensor([0, 1, 2]), weight, ember.tensor([0, 2]), mode="sum")
    tensor([[4., 6.],
            [5., 6.]])
    """
    _check_indices(input, "embedding_bag", "input")
    if mode not in ("sum", "mean", "max"):
        raise op_error(ValueError, "embedding_bag", f'mode has to be one of sum, mean or max, got "{mode}"')
    if not isinstance(weight, Tensor) or weight._data.ndim != 2:
        raise op_error(ValueError, "embedding_bag", f"weight has to be a 2D Tensor, but got Tensor of dimension "
                       f"{weight._data.ndim if isinstance(weight, Tensor) else type(weight).__name__}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise op_error(NotImplementedError, "embedding_bag", f"embedding_bag: per_sample_weights was not None. "
                           f"per_sample_weights is only supported for mode='sum' (got mode='{mode}'). Please open a "
                           "feature request on GitHub.")
        if _shape(per_sample_weights) != _shape(input):
            raise op_error(ValueError, "embedding_bag", f"embedding_bag: If per_sample_weights ({_shape(per_sample_weights)})"
                           f" is not None, then it must have the same shape as the input ({_shape(input)})")
    num_weights = weight._data.shape[0]
    padding_idx = _padding_index(padding_idx, num_weights, "embedding_bag")
    indices = input._data
    if indices.ndim == 2:
        if offsets is not None:
            raise op_error(ValueError, "embedding_bag", "if input is 2D, then offsets has to be None, as input is treated "
                           "is a mini-batch of fixed length sequences. However, found offsets of type Tensor")
        end = indices.size
        bags, width = indices.shape
        starts = np.arange(0, bags * width, width, dtype=np.int64) if width else np.zeros(bags, np.int64)
        flat = input.reshape(-1)
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    elif indices.ndim == 1:
        if offsets is None:
            raise op_error(ValueError, "embedding_bag", "offsets has to be a 1D Tensor but got None")
        _check_indices(offsets, "embedding_bag", "offsets")
        if offsets._data.ndim != 1:
            raise op_error(ValueError, "embedding_bag", f"offsets has to be a 1D Tensor, got shape {_shape(offsets)}")
        starts = offsets._data.astype(np.int64)
        flat, psw, end = input, per_sample_weights, indices.size
        if include_last_offset:
            end = int(starts[-1]) if starts.size else 0
            starts = starts[:-1]
    else:
        raise op_error(ValueError, "embedding_bag", f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                       f"{indices.ndim}")
    _check_index_range(flat._data, num_weights, "embedding_bag")
    if starts.size and (starts[0] != 0 or np.any(np.diff(starts) < 0) or starts[-1] > flat._data.size):
        raise op_error(ValueError, "embedding_bag", f"offsets must start at 0, be non-decreasing and not exceed the "
                       f"number of indices ({flat._data.size}), got {starts.tolist()}")
    if max_norm is not None:
        _renorm_rows(weight, flat._data, float(max_norm), float(norm_type))
    rows = Embedding(weight, flat, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq))
    if psw is not None:
        rows = rows * psw.unsqueeze(-1)
    bag_of = np.searchsorted(starts, np.arange(flat._data.size), side="right") - 1
    kept = np.arange(flat._data.size) < end
    if padding_idx is not None:
        kept &= flat._data != padding_idx
    return BagReduce(rows, bag_of=bag_of, kept=kept, num_bags=starts.size, mode=mode)


@register_op
class BagReduce:
    """Reduce looked-up rows into bags (``embedding_bag``): sum, mean or max of each bag's kept rows.

    Backward gathers each bag's gradient back to its rows, times a per-row factor (0 for dropped rows,
    1/count for means, and for max, 1 only where the row was the first to attain the maximum).
    """

    name = "embedding_bag_reduce"
    kind = "reduce"
    promote = "none"

    def forward(ctx, rows, bag_of, kept, num_bags, mode):
        dtype = _compute_dtype(rows.dtype)
        values = _as(rows, dtype)[kept]
        bags = bag_of[kept]
        dim = rows.shape[1]
        counts = np.bincount(bags, minlength=num_bags)
        if mode == "max":
            out = np.full((num_bags, dim), -np.inf, dtype=dtype)
            np.maximum.at(out, bags, values)
            positions = np.flatnonzero(kept)
            none = np.iinfo(np.int64).max
            candidates = np.where(values == out[bags], positions[:, None], none)
            winners = np.full((num_bags, dim), none, dtype=np.int64)
            np.minimum.at(winners, bags, candidates)
            out[counts == 0] = 0
            factor = np.zeros(rows.shape, dtype=rows.dtype)
            factor[kept] = (winners[bags] == positions[:, None])
        else:
            out = _index_add_rows(bags, values, num_bags) if values.size else np.zeros((num_bags, dim), dtype)
            factor = kept.astype(dtype)
            if mode == "mean":
                out /= np.maximum(counts, 1)[:, None]
                factor /= np.maximum(counts, 1)[np.maximum(bag_of, 0)] if bag_of.size else 1
            factor = factor.astype(rows.dtype)[:, None]
        ctx.bag_of, ctx.factor = np.maximum(bag_of, 0), factor
        return _as(out, rows.dtype)

    def backward(ctx, grad):
        if not STATE.enabled:
            return from_array(grad._data[ctx.bag_of] * ctx.factor)
        return grad[from_array(ctx.bag_of)] * from_array(ctx.factor)


# ------------------------------------------------------------------------------------------ one-hot
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor of shape ``(*tensor.shape, num_classes)`` with a 1 at each class index.

    >>> ember.nn.functional.one_hot(ember.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if not isinstance(tensor, Tensor) or tensor._dtype is not _dt.int64:
        raise op_error(RuntimeError, "one_hot", "one_hot is only applicable to index tensor of type LongTensor, got "
                       f"{tensor._dtype.name if isinstance(tensor, Tensor) else type(tensor).__name__}")
    arr = tensor._data
    num_classes = int(num_classes)
    if num_classes == -1:
        if arr.size == 0:
            raise op_error(RuntimeError, "one_hot", "Can not infer total number of classes from empty tensor.")
        num_classes = int(arr.max()) + 1
    elif num_classes < -1:
        raise op_error(RuntimeError, "one_hot", f"num_classes should be positive or -1, got {num_classes}")
    if arr.size:
        if arr.min() < 0:
            raise op_error(RuntimeError, "one_hot", f"Class values must be non-negative (got {int(arr.min())}).")
        if arr.max() >= num_classes:
            raise op_error(RuntimeError, "one_hot", f"Class values must be smaller than num_classes (got "
                           f"{int(arr.max())} with num_classes={num_classes}).")
    out = np.zeros(arr.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, arr[..., None], 1, axis=-1)
    return from_array(out)


# ------------------------------------------------------------------------------------------ similarity, distance
def _floating_pair(x1, x2, op_name):
    dtype = _dt.result_type_of((x1, x2))
    if not dtype.is_floating_point:
        raise op_error(RuntimeError, op_name, f"expected common dtype to be floating point, yet common dtype is "
                       f"{_dt.to_dtype(dtype).torch_name.replace('Tensor', '')} (inputs {x1._dtype.name} and "
                       f"{x2._dtype.name})")
    return dtype


def _broadcast_pair(x1, x2, op_name):
    try:
        shape = np.broadcast_shapes(tuple(x1._data.shape), tuple(x2._data.shape))
    except ValueError:
        from ember.errors import broadcast_message
        raise op_error(RuntimeError, op_name, broadcast_message([x1._data.shape, x2._data.shape])) from None
    return x1.expand(shape), x2.expand(shape)


def _clamp_value_keep_grad(norm, eps):
    """``max(norm, eps)`` in value, with the gradient of ``norm`` (PyTorch clamps the norms under no_grad)."""
    data = norm._data
    shift = np.maximum(data, np.asarray(eps, dtype=data.dtype)) - data
    if not shift.any():
        return norm
    return norm + from_array(shift)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` over ``dim``, after broadcasting.

    >>> ember.nn.functional.cosine_similarity(ember.tensor([[1.0, 0.0]]), ember.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    dtype = _floating_pair(x1, x2, "cosine_similarity")
    x1, x2 = _broadcast_pair(x1.to(dtype), x2.to(dtype), "cosine_similarity")
    dim = wrap_dim(dim, x1._data.ndim, "cosine_similarity")
    norm1 = _clamp_value_keep_grad(_vector_norm(x1, 2, dim, True), eps)
    norm2 = _clamp_value_keep_grad(_vector_norm(x2, 2, dim, True), eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension.

    >>> ember.nn.functional.pairwise_distance(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    ndim = max(x1._data.ndim, x2._data.ndim)
    difference = x1 - x2 + eps
    if ndim == 0:
        return _vector_norm(difference.reshape(1), p, 0, False) if not keepdim else _vector_norm(difference, p, None, True)
    return _vector_norm(difference, p, ndim - 1, keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between every pair of rows of a 2-d ``input``, ``i < j`` in row-major order.

    >>> ember.nn.functional.pdist(ember.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    if input._data.ndim != 2:
        raise op_error(RuntimeError, "pdist", f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if not input._dtype.is_floating_point:
        raise op_error(RuntimeError, "pdist", f"pdist only supports floating-point dtypes, got {input._dtype.name}")
    if p < 0:
        raise op_error(RuntimeError, "pdist", f"pdist only supports non-negative p values, got {p}")
    first, second = np.triu_indices(input._data.shape[0], 1)
    difference = input[from_array(first)] - input[from_array(second)]
    return _vector_norm(difference, p, 1, False)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between each row of ``x1`` (``(*, P, M)``) and each row of ``x2`` (``(*, R, M)``).

    >>> ember.cdist(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0], [1.0, 0.0]]))
    tensor([[5., 1.]])
    """
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise op_error(RuntimeError, "cdist", f"cdist only supports at least 2D tensors, {name} got: {t._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise op_error(RuntimeError, "cdist", f"X1 and X2 must have the same number of columns. X1: "
                       f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    if not (x1._dtype.is_floating_point and x2._dtype.is_floating_point):
        raise op_error(RuntimeError, "cdist", f"cdist only supports floating-point dtypes, X1 got: {x1._dtype.name}, "
                       f"X2 got: {x2._dtype.name}")
    if p < 0:
        raise op_error(RuntimeError, "cdist", f"cdist only supports non-negative p values, got {p}")
    difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _vector_norm(difference, p, -1, False)


# ------------------------------------------------------------------------------------------ attention
def _matmul(a: Tensor, b: Tensor) -> Tensor:
    from ember.ops.linalg import matmul
    return matmul(a, b)


def _dropout_keep(shape, p):
    from ember.ops.random import dropout_mask
    return dropout_mask(shape, p, _dt.float32) != 0


@register_op
class ScaledDotProductAttention:
    """``softmax(q @ k^T * scale + mask) @ v`` with an optional dropout of the attention weights.

    Positions excluded by a boolean or causal mask get weight 0; a query row with every key masked out
    gives zeros (as PyTorch's CPU kernel does).
    """

    name = "scaled_dot_product_attention"
    kind = "matmul"
    promote = "none"
    save = ("inputs",)

    def forward(ctx, q, k, v, mask, dropout_p, is_causal, scale):
        dtype = _compute_dtype(q.dtype)
        qc, kc, vc = _as(q, dtype), _as(k, dtype), _as(v, dtype)
        scores = _batched_matmul(qc, np.swapaxes(kc, -1, -2))
        scores *= dtype.type(scale)
        if mask is not None:
            if mask.dtype == np.bool_:
                scores = np.where(mask, scores, dtype.type(-np.inf))
            else:
                scores = scores + _as(mask, dtype)
        if is_causal:
            causal = np.tri(scores.shape[-2], scores.shape[-1], dtype=bool)
            np.copyto(scores, dtype.type(-np.inf), where=~causal)
        probs = _softmax_last(scores)
        weights = probs
        keep = None
        if dropout_p > 0.0:
            keep = _dropout_keep(probs.shape, dropout_p)
            weights = probs * (keep / dtype.type(1.0 - dropout_p)).astype(dtype) if dropout_p < 1.0 else np.zeros_like(probs)
        out = _batched_matmul(weights, vc)
        if _recording(ctx):
            ctx.probs, ctx.weights, ctx.keep, ctx.out = probs, weights, keep, out
            ctx.attention = (dropout_p, is_causal, scale)
        return _as(out, q.dtype)

    def backward(ctx, grad):
        q, k, v, mask = ctx.inputs
        if STATE.enabled:
            return _attention_backward_graph(ctx, grad, q, k, v, mask)
        dropout_p, _, scale = ctx.attention
        probs, weights = ctx.probs, ctx.weights
        dtype = probs.dtype
        g = _as(grad._data, dtype)
        need_q, need_k, need_v, need_mask = (e is not None for e in ctx.next_edges)
        grad_q = grad_k = grad_v = grad_mask = None
        if need_v:
            grad_v = _wrap(_batched_matmul(np.swapaxes(weights, -1, -2), g), v._dtype)
        if need_q or need_k or need_mask:
            d_scores = _batched_matmul(g, np.swapaxes(_as(v._data, dtype), -1, -2))
            if ctx.keep is not None:
                d_scores *= ctx.keep * dtype.type(1.0 / (1.0 - dropout_p)) if dropout_p < 1.0 else 0
            # sum_j dP_ij P_ij equals grad_i . out_i (dropout included), far cheaper than over the scores.
            d_scores -= np.einsum("...ij,...ij->...i", g, np.broadcast_to(ctx.out, g.shape))[..., None]
            d_scores *= probs
            if need_mask:
                grad_mask = _wrap(d_scores.copy(), mask._dtype)
            d_scores *= dtype.type(scale)
            if need_q:
                grad_q = _wrap(_batched_matmul(d_scores, _as(k._data, dtype)), q._dtype)
            if need_k:
                grad_k = _wrap(_batched_matmul(np.swapaxes(d_scores, -1, -2), _as(q._data, dtype)), k._dtype)
        return grad_q, grad_k, grad_v, grad_mask


def _batched_matmul(a, b):
    """``a @ b``; NumPy's stacked matmul is many times slower on transposed views, so those are copied."""
    if a.ndim > 2 and not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    if b.ndim > 2 and not b.flags.c_contiguous:
        b = np.ascontiguousarray(b)
    return np.matmul(a, b)


def _softmax_last(scores):
    """Softmax over the last axis, in place; rows whose every score is -inf become zeros."""
    peak = scores.max(axis=-1, keepdims=True) if scores.shape[-1] else np.zeros(scores.shape[:-1] + (1,), scores.dtype)
    peak[~np.isfinite(peak)] = 0
    np.subtract(scores, peak, out=scores)
    np.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)
    total[total == 0] = 1
    scores /= total
    return scores


def _attention_backward_graph(ctx, grad, q, k, v, mask):
    """The attention backward with ember ops, recomputing the weights so that they carry the graph."""
    from ember.ops.math_functions import Exp
    from ember.ops.arithmetic import Where
    dropout_p, is_causal, scale = ctx.attention
    need_q, need_k, need_v, need_mask = (e is not None for e in ctx.next_edges)
    low = q._data.dtype in _LOW_PRECISION
    if low:
        q, k, v, grad = q.to(_dt.float32), k.to(_dt.float32), v.to(_dt.float32), grad.to(_dt.float32)
    scores = _matmul(q, k.transpose(-2, -1)) * scale
    if mask is not None:
        scores = Where(mask, scores, -math.inf) if mask._dtype is _dt.bool else scores + mask
    if is_causal:
        scores = Where(from_array(np.tri(scores._data.shape[-2], scores._data.shape[-1], dtype=bool)), scores, -math.inf)
    peak = scores._data.max(axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    exps = Exp(scores - from_array(peak))
    total = exps.sum(-1, keepdim=True)
    probs = exps / Where(total == 0, 1.0, total)
    keep_scale = None
    if ctx.keep is not None:
        keep_scale = from_array((ctx.keep / (1.0 - dropout_p)).astype(probs._data.dtype) if dropout_p < 1.0
                           else np.zeros(ctx.keep.shape, probs._data.dtype))
    weights = probs * keep_scale if keep_scale is not None else probs
    grad_q = grad_k = grad_v = grad_mask = None
    if need_v:
        grad_v = _matmul(weights.transpose(-2, -1), grad)
    if need_q or need_k or need_mask:
        d_weights = _matmul(grad, v.transpose(-2, -1))
        if keep_scale is not None:
            d_weights = d_weights * keep_scale
        d_scores = probs * (d_weights - (d_weights * probs).sum(-1, keepdim=True))
        if need_mask:
            grad_mask = d_scores
        if need_q:
            grad_q = _matmul(d_scores, k) * scale
        if need_k:
            grad_k = _matmul(d_scores.transpose(-2, -1), q) * scale
    return grad_q, grad_k, grad_v, grad_mask


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention ``softmax(query @ key^T * scale + mask) @ value`` over ``(*, L, E)``, ``(*, S, E)``,
    ``(*, S, Ev)`` inputs.

    ``attn_mask`` is boolean (True = the key takes part) or float (added to the scores), broadcast to
    ``(*, L, S)``; ``is_causal`` masks key ``j > i`` for query ``i``; ``scale`` defaults to
    ``1 / sqrt(E)``; ``dropout_p`` drops attention weights; ``enable_gqa`` lets ``key``/``value`` have
    fewer heads (dim -3) than ``query``, each shared by a group of query heads.

    >>> q = k = ember.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> v = ember.tensor([[[1.0], [3.0]]])
    >>> ember.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    tensor([[[1.0000],
             [2.3395]]])
    """
    op_name = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise op_error(TypeError, op_name, f"{name} must be a Tensor, got {type(t).__name__}")
        if t._data.ndim < 2:
            raise op_error(RuntimeError, op_name, f"{name} must have at least 2 dimensions (*, L, E), got shape {_shape(t)}")
    if not (query._dtype is key._dtype is value._dtype):
        raise op_error(RuntimeError, op_name, f"Expected query, key, and value to have the same dtype, but got "
                       f"query.dtype: {query._dtype.name} key.dtype: {key._dtype.name} and value.dtype: "
                       f"{value._dtype.name} instead.")
    if not query._dtype.is_floating_point:
        raise op_error(RuntimeError, op_name, f"expected floating point query, key and value, got {query._dtype.name}")
    if attn_mask is not None and is_causal:
        raise op_error(RuntimeError, op_name, "Explicit attn_mask should not be set when is_causal=True")
    if attn_mask is not None and attn_mask._dtype is not _dt.bool and attn_mask._dtype is not query._dtype:
        raise op_error(RuntimeError, op_name, f"Expected attn_mask dtype to be bool or float or to match query dtype, "
                       f"but got attn_mask.dtype: {attn_mask._dtype.name} and query.dtype: {query._dtype.name} instead.")
    if not 0.0 <= dropout_p <= 1.0:
        raise op_error(ValueError, op_name, f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    q_shape, k_shape, v_shape = _shape(query), _shape(key), _shape(value)
    if q_shape[-1] != k_shape[-1]:
        raise op_error(RuntimeError, op_name, f"query and key must have the same embedding size (last dim), got query "
                       f"{q_shape} and key {k_shape}")
    if k_shape[-2] != v_shape[-2]:
        raise op_error(RuntimeError, op_name, f"key and value must have the same sequence length (dim -2), got key "
                       f"{k_shape} and value {v_shape}")
    if enable_gqa and len(q_shape) >= 3 and len(k_shape) >= 3:
        key = _repeat_heads(key, q_shape[-3], "key")
        value = _repeat_heads(value, q_shape[-3], "value")
    try:
        batch = np.broadcast_shapes(tuple(q_shape[:-2]), tuple(key._data.shape[:-2]), tuple(value._data.shape[:-2]))
        if attn_mask is not None:
            np.broadcast_shapes(batch + (q_shape[-2], k_shape[-2]), tuple(attn_mask._data.shape))
    except ValueError:
        mask_text = f", attn_mask {_shape(attn_mask)}" if attn_mask is not None else ""
        raise op_error(RuntimeError, op_name, f"the batch dimensions of query {q_shape}, key {_shape(key)} and value "
                       f"{_shape(value)}{mask_text} cannot be broadcast together") from None
    if scale is None:
        scale = 1.0 / math.sqrt(q_shape[-1]) if q_shape[-1] else 1.0
    return ScaledDotProductAttention(query, key, value, attn_mask, dropout_p=float(dropout_p), is_causal=bool(is_causal),
                                     scale=float(scale))


def _repeat_heads(t, query_heads, name):
    heads = t._data.shape[-3]
    if heads == query_heads:
        return t
    if query_heads % heads:
        raise op_error(RuntimeError, "scaled_dot_product_attention", f"Number of heads in key and value must divide the "
                       f"number of heads in query: query has {query_heads} heads, {name} has {heads}")
    shape = t._data.shape
    group = query_heads // heads
    expanded = t.unsqueeze(-3).expand(shape[:-2] + (group,) + shape[-2:])
    return expanded.reshape(shape[:-3] + (query_heads,) + shape[-2:])


TENSOR_METHODS = {}
