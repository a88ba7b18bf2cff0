"""Attention (``torch.nn.functional`` semantics): ``scaled_dot_product_attention``, and multi-head attention
(``multi_head_attention_forward``), the op behind ``nn.MultiheadAttention`` and the transformer layers.

``scaled_dot_product_attention`` is a fused op with a closed-form NumPy backward; when the backward is itself
recorded (``create_graph=True``) it writes the same formulas with ember ops, so higher derivatives are exact.
Multi-head attention is a composite: the input projections are ``linear``, the attention itself is the fused
``scaled_dot_product_attention`` when the weights are not needed, and matmul + softmax + dropout when
they are (those weights are returned). Heads are kept as a separate dimension ``(N, heads, L, head_dim)``
so that a key padding mask ``(N, 1, 1, S)`` broadcasts over heads and queries instead of being expanded.

>>> import ember
>>> import ember.nn.functional as F
>>> _ = ember.manual_seed(0)
>>> x = ember.randn(3, 2, 4)
>>> out, weights = F.multi_head_attention_forward(x, x, x, 4, 2, ember.randn(12, 4), ember.zeros(12), None, None,
...                                               False, 0.0, ember.randn(4, 4), ember.zeros(4))
>>> out.shape, weights.shape
(ember.Size([3, 2, 4]), ember.Size([2, 3, 3]))
"""

from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.dtypes import opmath, rounded_like
from ember.errors import _PACKAGE_DIR, op_error
from ember.ops.registry import recording as _recording
from ember.ops.registry import register_function, register_op
from ember.tensor import Tensor, from_array


def _shape(t):
    return list(t._data.shape)


# ------------------------------------------------------------------------------------------ scaled dot-product attention
def _matmul(a: Tensor, b: Tensor) -> Tensor:
    from ember.ops.products import Matmul
    return Matmul.function(a, b)


def _dropout_keep(shape, p):
    from ember.ops.random import dropout_mask
    return dropout_mask(shape, p, _dt.float32) != 0


@register_op
class ScaledDotProductAttention:
    """Attention ``softmax(query @ key^T * scale + mask) @ value`` over ``(*, L, E)``, ``(*, S, E)``,
    ``(*, S, Ev)`` inputs.

    ``attn_mask`` is boolean (True = the key takes part) or float (added to the scores), broadcast to
    ``(*, L, S)``; ``is_causal`` masks key ``j > i`` for query ``i``; ``scale`` defaults to
    ``1 / sqrt(E)``; ``dropout_p`` drops attention weights; ``enable_gqa`` lets ``key``/``value`` have
    fewer heads (dim -3) than ``query``, each shared by a group of query heads. Positions excluded by a
    boolean or causal mask get weight 0; a query row with every key masked out gives zeros (as PyTorch's CPU
    kernel does).

    >>> q = k = ember.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> v = ember.tensor([[[1.0], [3.0]]])
    >>> ember.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    tensor([[[1.0000],
             [2.3395]]])
    """

    name = "scaled_dot_product_attention"
    kind = "matmul"
    promote = "none"
    save = ("inputs",)
    functional = "only"
    out = False

    def function(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                 is_causal: bool = False, scale: float | None = None, enable_gqa: bool = False) -> Tensor:
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

    def forward(ctx, q, k, v, mask, dropout_p, is_causal, scale):
        qc, kc, vc = opmath(q), opmath(k), opmath(v)
        dtype = qc.dtype
        scores = _batched_matmul(qc, np.swapaxes(kc, -1, -2))
        scores *= dtype.type(scale)
        if mask is not None:
            if mask.dtype == np.bool_:
                scores = np.where(mask, scores, dtype.type(-np.inf))
            else:
                scores = scores + mask.astype(dtype, copy=False)
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
        return rounded_like(out, q)

    def backward(ctx, grad):
        q, k, v, mask = ctx.inputs
        if STATE.enabled:
            return _attention_backward_graph(ctx, grad, q, k, v, mask)
        dropout_p, _, scale = ctx.attention
        probs, weights = ctx.probs, ctx.weights
        dtype = probs.dtype
        g = grad._data.astype(dtype, copy=False)
        need_q, need_k, need_v, need_mask = (e is not None for e in ctx.next_edges)
        grad_q = grad_k = grad_v = grad_mask = None
        if need_v:
            grad_v = from_array(rounded_like(_batched_matmul(np.swapaxes(weights, -1, -2), g), v._data))
        if need_q or need_k or need_mask:
            d_scores = _batched_matmul(g, np.swapaxes(v._data.astype(dtype, copy=False), -1, -2))
            if ctx.keep is not None:
                d_scores *= ctx.keep * dtype.type(1.0 / (1.0 - dropout_p)) if dropout_p < 1.0 else 0
            # sum_j dP_ij P_ij equals grad_i . out_i (dropout included), far cheaper than over the scores.
            d_scores -= np.einsum("...ij,...ij->...i", g, np.broadcast_to(ctx.out, g.shape))[..., None]
            d_scores *= probs
            if need_mask:
                grad_mask = from_array(rounded_like(d_scores.copy(), mask._data))
            d_scores *= dtype.type(scale)
            if need_q:
                grad_q = from_array(rounded_like(_batched_matmul(d_scores, k._data.astype(dtype, copy=False)), q._data))
            if need_k:
                grad_k = from_array(rounded_like(
                    _batched_matmul(np.swapaxes(d_scores, -1, -2), q._data.astype(dtype, copy=False)), k._data))
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
    low = q._data.dtype in _dt.HALF_NUMPY_DTYPES
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


# ------------------------------------------------------------------------------------------ multi-head attention
_OP = "multi_head_attention_forward"


@register_function(functional="only")
def _canonical_mask(mask: Tensor | None, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True) -> Tensor | None:
    """A boolean mask (True = masked out) as an additive float mask of ``target_type`` (0 or -inf); float
    masks pass through unchanged.

    >>> ember.nn.functional._canonical_mask(ember.tensor([True, False]), "mask", None, "", ember.float32)
    tensor([-inf, 0.])
    """
    if mask is None:
        return None
    mask_dtype = mask._dtype
    is_float = mask_dtype.is_floating_point
    if mask_dtype is not _dt.bool and not is_float:
        raise op_error(AssertionError, _OP, f"only bool and floating types of {mask_name} are supported, got "
                       f"{mask_dtype.name}")
    if check_other and other_type is not None and mask_dtype is not _dt.to_dtype(other_type):
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=_user_stacklevel())
    if is_float:
        return mask
    numpy_dtype = _dt.to_dtype(target_type).numpy_dtype
    additive = np.zeros(mask._data.shape, dtype=numpy_dtype)
    additive[mask._data] = -np.inf
    return from_array(additive)


def _user_stacklevel() -> int:
    """The warnings stacklevel of the first frame outside the ember package: the user's line, however deep the
    layers that passed the mask down."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


@register_function(functional="only")
def _none_or_dtype(input: Tensor | None):
    """``input.dtype``, or None when ``input`` is None.

    >>> ember.nn.functional._none_or_dtype(ember.zeros(1))
    ember.float32
    """
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input._dtype
    raise op_error(RuntimeError, _OP, "input to _none_or_dtype() must be None or torch.Tensor")


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the inputs are batched ``(L, N, E)`` (True) or unbatched ``(L, E)``; raises on other ranks."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise op_error(TypeError, _OP, f"{name} must be a Tensor, got {type(t).__name__}")
    q_dim, k_dim, v_dim = query._data.ndim, key._data.ndim, value._data.ndim
    if q_dim not in (2, 3):
        raise op_error(AssertionError, _OP, f"query should be unbatched 2D or batched 3D tensor but received {q_dim}-D "
                       "query tensor")
    batched = q_dim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if k_dim != q_dim or v_dim != q_dim:
        raise op_error(AssertionError, _OP, f"For {kind} `query`, expected `key` and `value` to be {q_dim}-D but found "
                       f"{k_dim}-D and {v_dim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask._data.ndim != q_dim - 1:
        raise op_error(AssertionError, _OP, f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                       f"{q_dim - 1}-D but found {key_padding_mask._data.ndim}-D tensor instead")
    if attn_mask is not None:
        if attn_mask._data.ndim not in (2, 3):
            raise op_error(AssertionError, _OP, f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                           f"found {attn_mask._data.ndim}-D tensor instead")
        if not batched and attn_mask._data.ndim == 3:
            expected = (num_heads, query._data.shape[0], key._data.shape[0])
            if attn_mask._data.shape != expected:
                raise op_error(AssertionError, _OP, f"Expected `attn_mask` shape to be {expected} but got "
                               f"{tuple(attn_mask._data.shape)}")
    return batched


def _check_weight(weight, expected, what):
    if weight is not None and tuple(weight._data.shape) != expected:
        raise op_error(AssertionError, _OP, f"expecting {what} shape of {expected}, but got {tuple(weight._data.shape)}")


def _in_projection_packed(query, key, value, weight, bias, embed_dim):
    """q, k, v projections with one ``(3E, E)`` weight; one matmul when query, key and value are one tensor."""
    from ember.ops.products import Linear
    if key is value:
        if query is key:
            return Linear.function(query, weight, bias).split(embed_dim, -1)
        w_q, w_kv = weight.split([embed_dim, 2 * embed_dim])
        b_q, b_kv = bias.split([embed_dim, 2 * embed_dim]) if bias is not None else (None, None)
        k, v = Linear.function(key, w_kv, b_kv).split(embed_dim, -1)
        return Linear.function(query, w_q, b_q), k, v
    w_q, w_k, w_v = weight.chunk(3)
    b_q, b_k, b_v = bias.chunk(3) if bias is not None else (None, None, None)
    return Linear.function(query, w_q, b_q), Linear.function(key, w_k, b_k), Linear.function(value, w_v, b_v)


def _in_projection(query, key, value, w_q, w_k, w_v, bias, embed_dim):
    from ember.ops.products import Linear
    e_k, e_v = key._data.shape[-1], value._data.shape[-1]
    _check_weight(w_q, (embed_dim, embed_dim), "query weights")
    _check_weight(w_k, (embed_dim, e_k), "key weights")
    _check_weight(w_v, (embed_dim, e_v), "value weights")
    b_q, b_k, b_v = bias.chunk(3) if bias is not None else (None, None, None)
    for b, what in ((b_q, "query bias"), (b_k, "key bias"), (b_v, "value bias")):
        _check_weight(b, (embed_dim,), what)
    return Linear.function(query, w_q, b_q), Linear.function(key, w_k, b_k), Linear.function(value, w_v, b_v)


def _split_heads(t, length, batch, num_heads, head_dim):
    """``(S, N, E)`` -> ``(N, heads, S, head_dim)`` (a view)."""
    return t.reshape(length, batch, num_heads, head_dim).permute(1, 2, 0, 3)


def _static_heads(static, name, batch, num_heads, head_dim):
    """A precomputed ``(N * heads, S, head_dim)`` key or value as ``(N, heads, S, head_dim)``."""
    shape = tuple(static._data.shape)
    if len(shape) != 3 or shape[0] != batch * num_heads:
        raise op_error(AssertionError, _OP, f"expecting {name}.size(0) of {batch * num_heads}, but got "
                       f"{shape[0] if shape else shape}")
    if shape[2] != head_dim:
        raise op_error(AssertionError, _OP, f"expecting {name}.size(2) of {head_dim}, but got {shape[2]}")
    return static.reshape(batch, num_heads, shape[1], head_dim)


@register_function(functional="only")
def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
                                 bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
                                 out_proj_bias: Tensor | None, training: bool = True,
                                 key_padding_mask: Tensor | None = None, need_weights: bool = True,
                                 attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
                                 q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
                                 v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
                                 static_v: Tensor | None = None, average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention of ``query`` ``(L, N, E)`` over ``key`` ``(S, N, Ek)`` / ``value`` ``(S, N, Ev)``
    (or unbatched ``(L, E)``, ``(S, E)``), with PyTorch's arguments.

    The inputs are projected by ``in_proj_weight`` (packed ``(3E, E)``) or, with
    ``use_separate_proj_weight``, by ``q/k/v_proj_weight``; ``bias_k``/``bias_v`` append one learned key and
    value, ``add_zero_attn`` one zero key and value. ``key_padding_mask`` ``(N, S)`` and ``attn_mask``
    ``(L, S)`` or ``(N * num_heads, L, S)`` are boolean (True = not attended) or additive float masks.
    ``is_causal`` is a hint that ``attn_mask`` is the causal mask. Returns ``(output, weights)``: output
    ``(L, N, E)``; weights ``(N, L, S)`` averaged over heads, ``(N, num_heads, L, S)`` with
    ``average_attn_weights=False``, or None with ``need_weights=False``.

    >>> import ember.nn.functional as F
    >>> x = ember.ones(2, 4)
    >>> eye = ember.eye(4)
    >>> out, weights = F.multi_head_attention_forward(x, x, x, 4, 2, ember.cat([eye, eye, eye]), None, None, None,
    ...                                               False, 0.0, eye, None)
    >>> out
    tensor([[1., 1., 1., 1.],
            [1., 1., 1., 1.]])
    >>> weights
    tensor([[0.5000, 0.5000],
            [0.5000, 0.5000]])
    """
    from ember.ops.creation import zeros
    from ember.ops.movement import Cat, pad
    from ember.ops.activation import Softmax, dropout
    from ember.ops.products import Linear, Matmul

    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        # Keep query/key/value identity (self-attention shares one projection) while adding the batch dim.
        key_was_query, value_was_key = key is query, value is key
        query = query.unsqueeze(1)
        key = query if key_was_query else key.unsqueeze(1)
        value = key if value_was_key else value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, batch, embed_dim = query._data.shape
    src_len = key._data.shape[0]

    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query._dtype)
    if is_causal and attn_mask is None:
        raise op_error(RuntimeError, _OP, "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                       "module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        # With no padding mask and no weights to return, the hint alone drives the fused kernel's causal mask.
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query._dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False

    if embed_dim != embed_dim_to_check:
        raise op_error(AssertionError, _OP, f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                       f"{embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise op_error(AssertionError, _OP, f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key._data.shape[:2] != value._data.shape[:2]:
            raise op_error(AssertionError, _OP, f"key's sequence and batch dims {tuple(key._data.shape[:2])} do not match "
                           f"value's {tuple(value._data.shape[:2])}")
    elif key._data.shape != value._data.shape:
        raise op_error(AssertionError, _OP, f"key shape {tuple(key._data.shape)} does not match value shape "
                       f"{tuple(value._data.shape)}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise op_error(AssertionError, _OP, "use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias, embed_dim)
    else:
        for name, weight in (("q_proj_weight", q_proj_weight), ("k_proj_weight", k_proj_weight),
                             ("v_proj_weight", v_proj_weight)):
            if weight is None:
                raise op_error(AssertionError, _OP, f"use_separate_proj_weight is True but {name} is None")
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias, embed_dim)

    if attn_mask is not None:
        mask_shape = tuple(attn_mask._data.shape)
        if attn_mask._data.ndim == 2:
            if mask_shape != (tgt_len, src_len):
                raise op_error(RuntimeError, _OP, f"The shape of the 2D attn_mask is {mask_shape}, but should be "
                               f"{(tgt_len, src_len)}.")
        elif attn_mask._data.ndim == 3:
            if mask_shape != (batch * num_heads, tgt_len, src_len):
                raise op_error(RuntimeError, _OP, f"The shape of the 3D attn_mask is {mask_shape}, but should be "
                               f"{(batch * num_heads, tgt_len, src_len)}.")
            attn_mask = attn_mask.reshape(batch, num_heads, tgt_len, src_len)
        else:
            raise op_error(RuntimeError, _OP, f"attn_mask's dimension {attn_mask._data.ndim} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise op_error(AssertionError, _OP, "bias cannot be added to static key.")
        if static_v is not None:
            raise op_error(AssertionError, _OP, "bias cannot be added to static value.")
        k = Cat.function([k, bias_k.expand(1, batch, embed_dim)])
        v = Cat.function([v, bias_v.expand(1, batch, embed_dim)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise op_error(AssertionError, _OP, "bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise op_error(AssertionError, _OP, "bias_v is set but bias_k is None")

    q = _split_heads(q, tgt_len, batch, num_heads, head_dim)
    k = (_split_heads(k, k._data.shape[0], batch, num_heads, head_dim) if static_k is None
         else _static_heads(static_k, "static_k", batch, num_heads, head_dim))
    v = (_split_heads(v, v._data.shape[0], batch, num_heads, head_dim) if static_v is None
         else _static_heads(static_v, "static_v", batch, num_heads, head_dim))

    if add_zero_attn:
        k = Cat.function([k, zeros((batch, num_heads, 1, head_dim), dtype=k._dtype)], 2)
        v = Cat.function([v, zeros((batch, num_heads, 1, head_dim), dtype=v._dtype)], 2)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k._data.shape[2]

    if key_padding_mask is not None:
        if tuple(key_padding_mask._data.shape) != (batch, src_len):
            got = tuple(key_padding_mask._data.shape)
            wrong, expected = (0, batch) if got[0] != batch else (1, src_len)
            raise op_error(AssertionError, _OP, f"Expected key_padded_mask.shape[{wrong}] to be {expected}, but got "
                           f"{got[wrong]}")
        key_padding_mask = key_padding_mask.reshape(batch, 1, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = Matmul.function(q * math.sqrt(1.0 / float(head_dim)), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = Softmax.function(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        attended = Matmul.function(weights, v)
    else:
        weights = None
        attended = ScaledDotProductAttention.function(q, k, v, attn_mask, dropout_p, is_causal)
    attended = attended.permute(2, 0, 1, 3).reshape(tgt_len, batch, embed_dim)
    output = Linear.function(attended, out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        output = output.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return output, weights
