"""Embedding ops (``torch.nn.functional`` semantics): ``embedding`` (row lookup), ``embedding_bag`` (sums,
means or maxima of bags of rows) and ``one_hot``.

``embedding`` is a fused op whose backward adds the output-gradient rows into the looked-up rows (one sorted
pass, or the C scatter kernel) instead of building a dense one-hot product; its backward is itself an op,
so higher derivatives are exact. ``embedding_bag`` looks the rows up once and reduces them into bags.

>>> import ember
>>> import ember.nn.functional as F
>>> weight = ember.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
>>> F.embedding(ember.tensor([2, 0]), weight)
tensor([[3., 4.],
        [0., 0.]])
>>> F.one_hot(ember.tensor([1, 0]), 3)
tensor([[0, 1, 0],
        [1, 0, 0]])
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.dtypes import opmath, rounded_like
from ember.errors import op_error
from ember.ops.registry import recording as _recording
from ember.ops.registry import register_function, register_op
from ember.tensor import Tensor, from_array


def _shape(t):
    return list(t._data.shape)


# ------------------------------------------------------------------------------------------ embedding
def _index_add_rows(indices, rows, num_rows):
    """``out[indices[i]] += rows[i]`` into zeros of shape (num_rows, D); repeated indices accumulate."""
    rows = opmath(rows)
    dtype = rows.dtype
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
    """Look up rows of ``weight`` (``(num_embeddings, embedding_dim)``) at the integer ``input``.

    Rows at ``padding_idx`` get no gradient. With ``max_norm``, the looked-up rows of ``weight`` whose
    ``norm_type``-norm exceeds it are rescaled in place first. ``scale_grad_by_freq`` divides each row's
    gradient by how often it occurs in ``input``. ``sparse=True`` gives the same (dense) gradient.
    PyTorch's top-level ``ember.embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False,
    sparse=False)`` is accepted too. The lookup's backward (``embedding_backward``) adds the gradient rows into
    the looked-up rows.

    >>> weight = ember.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
    >>> ember.nn.functional.embedding(ember.tensor([[2, 1]]), weight)
    tensor([[[3., 4.],
             [1., 2.]]])
    """

    name = "embedding"
    kind = "index"
    promote = "none"
    functional = True
    out = False

    def function(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
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
            rows = opmath(rows)
            rows = rows * factors.astype(rows.dtype)[:, None]
        return rounded_like(_index_add_rows(indices, rows, num_weights), grad)

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


@register_function(functional=True)
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
        work = opmath(rows)
        dtype = work.dtype
        values = work[kept]
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
        return rounded_like(out, rows)

    def backward(ctx, grad):
        if not STATE.enabled:
            return from_array(grad._data[ctx.bag_of] * ctx.factor)
        return grad[from_array(ctx.bag_of)] * from_array(ctx.factor)


# ------------------------------------------------------------------------------------------ one-hot
@register_function(functional="only")
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

