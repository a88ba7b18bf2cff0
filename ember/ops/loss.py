"""Loss functions (``torch.nn.functional`` semantics): every ``reduction`` ('mean' | 'sum' | 'none') and
PyTorch's legacy ``size_average``/``reduce`` arguments.

The losses used in training loops are single registered ops computed in NumPy, their functions (in
``ember.nn.functional``, and in ``ember`` too where ``torch`` has them) generated from their definitions:
``cross_entropy`` is one fused op (log-softmax, class weights, ``ignore_index``, label smoothing, class-index
or probability targets) whose backward is the closed form ``softmax * sum(q) - q`` in one pass, with a double
backward written in ember ops. The rarer losses are short registered compositions of ember ops. Half-precision
inputs are computed in float32 (``dtypes.opmath``) and the loss is rounded once.

>>> import ember
>>> import ember.nn.functional as F
>>> F.cross_entropy(ember.tensor([[0.0, 0.0]]), ember.tensor([1]))
tensor(0.6931)
>>> F.mse_loss(ember.tensor([1.0, 3.0]), ember.tensor([0.0, 0.0]), reduction="sum")
tensor(10.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.dtypes import opmath, torch_type_name
from ember.errors import broadcast_message, op_error
from ember.ops.activation import (LogSigmoid, LogSoftmax, Relu, Softmax, SoftmaxBackward, Softplus,
                                  _log_softmax_parts)
from ember.ops.arguments import require_tensor
from ember.ops.arithmetic import Abs, Cast, Where
from ember.ops.math_functions import Exp, Log, Sigmoid, Sign
from ember.ops.registry import _Scratch, register_function, register_op
from ember.tensor import Tensor, from_array

_REDUCTIONS = ("none", "mean", "sum")


# ------------------------------------------------------------------------------------ shared helpers
def _reduction(reduction, size_average=None, reduce=None, op_name="loss", extra=()):
    """Resolve PyTorch's reduction argument (a string, the ATen int enum, or the legacy pair).

    An int where ``size_average`` stands is the ATen enum passed positionally through a top-level name
    (``torch.kl_div(x, t, 1)``), whose signature has ``reduction`` in that place.
    """
    if type(size_average) is int:
        size_average, reduction = None, size_average
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                      + ("none" if reduce is False else "mean" if size_average in (None, True) else "sum")
                      + "' instead.", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else "mean" if size_average else "sum"
    if isinstance(reduction, int) and not isinstance(reduction, bool):
        reduction = {0: "none", 1: "mean", 2: "sum"}.get(reduction, reduction)
    if reduction not in _REDUCTIONS + tuple(extra):
        raise op_error(ValueError, op_name, f"{reduction} is not a valid value for reduction; expected one of "
                       f"{', '.join(repr(r) for r in _REDUCTIONS + tuple(extra))}")
    return reduction


def _reduce_np(values, reduction, out_dtype):
    """Reduce loss ``values`` (computed from ``dtypes.opmath`` operands, so already in the compute precision) and
    round the result once to ``out_dtype``."""
    if reduction == "none":
        return values.astype(out_dtype, copy=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        if reduction == "sum":
            return np.asarray(values.sum()).astype(out_dtype)
        return np.asarray(values.mean() if values.size else np.nan).astype(out_dtype)


def _reduce(t: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return t
    return t.sum() if reduction == "sum" else t.mean()


def _scale_by_reduction(grad, ctx):
    """The output gradient as it reaches each element: ``grad / count`` for 'mean'."""
    if ctx.reduction == "mean":
        return grad / ctx.count if ctx.count else grad * float("nan")
    return grad


def _shape(t):
    return tuple(t._data.shape) if isinstance(t, Tensor) else ()


def _warn_size(input, target, stacklevel=3):
    if _shape(input) != _shape(target):
        warnings.warn(f"Using a target size ({_size_repr(target)}) that is different to the input size "
                      f"({_size_repr(input)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=stacklevel)


def _size_repr(t):
    return f"ember.Size({list(_shape(t))})"


def _broadcast_shape(op_name, *tensors):
    try:
        return np.broadcast_shapes(*[_shape(t) for t in tensors])
    except ValueError:
        raise op_error(RuntimeError, op_name, broadcast_message([_shape(t) for t in tensors])) from None


def _float_operands(op_name, *tensors):
    """Promote the operands to one floating dtype (ints promote to the default float dtype)."""
    present = [t for t in tensors if t is not None]
    dt = _dt.result_type_of(present)
    if dt.category < 2:
        dt = _dt.get_default_dtype()
    return [Cast(t, dtype=dt) if isinstance(t, Tensor) and t._dtype is not dt else t for t in tensors], dt


def _weight_array(weight, dtype):
    if weight is None:
        return None
    data = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    return opmath(data.astype(dtype.numpy_dtype, copy=False))


# ------------------------------------------------------------------------------------ pointwise losses
def _pointwise(value_np, derivative):
    """Class decorator for a loss ``reduce(f(input, target))``: adds the forward ``value_np(x, y, **params)`` (in
    NumPy, on operands the function has promoted) and the backward, ``derivative(x, y, need_x, need_y, **params)``
    times the output gradient, which reads the saved operands.

    ``derivative`` returns ember tensors ``(d/dx, d/dy)`` (or None for one not needed), so the gradient is
    itself differentiable.
    """

    def forward(ctx, x, y, weight, reduction, params):
        ctx.reduction, ctx.params, ctx.weight = reduction, params, weight
        values = value_np(opmath(x), opmath(y), **params)
        if weight is not None:
            values = values * weight
        ctx.count = values.size
        return _reduce_np(values, reduction, x.dtype)

    def backward(ctx, grad):
        x, y = ctx.inputs
        need_x, need_y = ctx.next_edges[0] is not None, ctx.next_edges[1] is not None
        scale = _scale_by_reduction(grad, ctx)
        if ctx.weight is not None:
            scale = scale * from_array(ctx.weight.astype(grad._data.dtype, copy=False))
        d_x, d_y = derivative(x, y, need_x, need_y, **ctx.params)
        return (d_x * scale if need_x else None), (d_y * scale if need_y else None)

    def decorate(cls):
        cls.kind, cls.promote, cls.save = "reduce", "none", ("inputs",)
        cls.forward, cls.backward = forward, backward
        return cls

    return decorate


def _mse_np(x, y):
    d = x - y
    return d * d


def _mse_derivative(x, y, need_x, need_y):
    d = (x - y) * 2
    return d, (-d if need_y else None)


def _l1_derivative(x, y, need_x, need_y):
    s = Sign(x - y)
    return s, (-s if need_y else None)


def _smooth_l1_np(x, y, beta):
    d = np.abs(x - y)
    if beta == 0:
        return d
    return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


def _smooth_l1_derivative(x, y, need_x, need_y, beta):
    d = x - y
    if beta == 0:
        s = Sign(d)
    else:
        s = Where(from_array(np.abs(d._data) < beta), d / beta, Sign(d))
    return s, (-s if need_y else None)


def _huber_np(x, y, delta):
    d = np.abs(x - y)
    return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


def _huber_derivative(x, y, need_x, need_y, delta):
    d = x - y
    s = Where(from_array(np.abs(d._data) < delta), d, Sign(d) * delta)
    return s, (-s if need_y else None)


@register_op
@_pointwise(_mse_np, _mse_derivative)
class MseLoss:
    """Mean squared error ``(input - target) ** 2``, reduced.

    >>> import ember.nn.functional as F
    >>> F.mse_loss(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 4.0]))
    tensor(2.)
    """

    name = "mse_loss"
    functional = "only"
    out = False

    def function(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                 weight: Tensor | None = None) -> Tensor:
        reduction = _reduction(reduction, size_average, reduce, "mse_loss")
        return _regression_loss(MseLoss, "mse_loss", input, target, reduction, weight)


@register_op
@_pointwise(lambda x, y: np.abs(x - y), _l1_derivative)
class L1Loss:
    """Mean absolute error ``|input - target|``, reduced.

    >>> import ember.nn.functional as F
    >>> F.l1_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 4.0]))
    tensor(1.5000)
    """

    name = "l1_loss"
    functional = "only"
    out = False

    def function(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                 weight: Tensor | None = None) -> Tensor:
        reduction = _reduction(reduction, size_average, reduce, "l1_loss")
        return _regression_loss(L1Loss, "l1_loss", input, target, reduction, weight)


@register_op
@_pointwise(_smooth_l1_np, _smooth_l1_derivative)
class SmoothL1Loss:
    """Quadratic for ``|d| < beta`` (``0.5 d^2 / beta``), linear beyond (``|d| - 0.5 beta``).

    >>> import ember.nn.functional as F
    >>> F.smooth_l1_loss(ember.tensor([0.5, 3.0]), ember.tensor([0.0, 0.0]), reduction="none")
    tensor([0.1250, 2.5000])
    """

    name = "smooth_l1_loss"
    functional = "only"
    out = False

    def function(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> Tensor:
        reduction = _reduction(reduction, size_average, reduce, "smooth_l1_loss")
        if beta < 0:
            raise op_error(RuntimeError, "smooth_l1_loss", f"smooth_l1_loss does not support negative values for "
                           f"beta, got {beta}")
        return _regression_loss(SmoothL1Loss, "smooth_l1_loss", input, target, reduction, beta=beta)


@register_op
@_pointwise(_huber_np, _huber_derivative)
class HuberLoss:
    """Quadratic for ``|d| < delta`` (``0.5 d^2``), linear beyond (``delta (|d| - 0.5 delta)``).

    >>> import ember.nn.functional as F
    >>> F.huber_loss(ember.tensor([0.5, 3.0]), ember.tensor([0.0, 0.0]), reduction="none")
    tensor([0.1250, 2.5000])
    """

    name = "huber_loss"
    functional = "only"
    out = False

    def function(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
                 weight: Tensor | None = None) -> Tensor:
        reduction = _reduction(reduction, op_name="huber_loss")
        if delta <= 0:
            raise op_error(RuntimeError, "huber_loss", f"huber_loss does not support non-positive values for delta, "
                           f"got {delta}")
        return _regression_loss(HuberLoss, "huber_loss", input, target, reduction, weight, delta=delta)


def _regression_loss(op, op_name, input, target, reduction, weight=None, **params):
    require_tensor(op_name, input, "input")
    require_tensor(op_name, target, "target")
    _warn_size(input, target, stacklevel=4)
    shape = _broadcast_shape(op_name, input, target)
    (input, target), dt = _float_operands(op_name, input, target)
    if _shape(input) != shape:
        input = input.expand(shape)
    if _shape(target) != shape:
        target = target.expand(shape)
    weight_array = None
    if weight is not None:
        if _shape(weight) != _shape(input):
            raise op_error(ValueError, op_name, f"Weights and input must have the same size: weight has shape "
                           f"{_shape(weight)}, input {_shape(input)}")
        weight_array = _weight_array(weight, dt)
    result = op(input, target, weight=weight_array, reduction=reduction, params=params)
    if weight_array is not None and reduction == "mean":
        total = weight_array.sum() if op_name != "huber_loss" else weight_array.size
        result = result * (weight_array.size / total)
    return result


# ------------------------------------------------------------------------------------ binary cross entropy
_BCE_EPSILON = 1e-12


def _bce_np(x, y):
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100)
        log_1mx = np.maximum(np.log1p(-x), -100)
    return -(y * log_x + (1 - y) * log_1mx)


def _bce_derivative(x, y, need_x, need_y):
    d_x = d_y = None
    if need_x:
        denominator = (1 - x) * x
        clamped = Where(from_array(denominator._data < _BCE_EPSILON), _BCE_EPSILON, denominator)
        d_x = (x - y) / clamped
    if need_y:
        log_x = Where(from_array(x._data <= math.exp(-100)), -100.0, Log(x))
        log_1mx = Where(from_array(1 - x._data <= math.exp(-100)), -100.0, Log(1 - x))
        d_y = log_1mx - log_x
    return d_x, d_y


@register_op
@_pointwise(_bce_np, _bce_derivative)
class BinaryCrossEntropy:
    """``-(t log(x) + (1 - t) log(1 - x))`` for probabilities ``x``; logs are clamped at -100 as in PyTorch.

    >>> import ember.nn.functional as F
    >>> F.binary_cross_entropy(ember.tensor([0.5, 0.5]), ember.tensor([1.0, 0.0]))
    tensor(0.6931)
    """

    name = "binary_cross_entropy"
    functional = "only"
    out = False

    def function(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                 reduce=None, reduction: str = "mean") -> Tensor:
        reduction = _reduction(reduction, size_average, reduce, "binary_cross_entropy")
        require_tensor("binary_cross_entropy", input, "input")
        require_tensor("binary_cross_entropy", target, "target")
        if _shape(target) != _shape(input):
            raise op_error(ValueError, "binary_cross_entropy", f"Using a target size ({_size_repr(target)}) that is "
                           f"different to the input size ({_size_repr(input)}) is deprecated. Please ensure they have "
                           "the same size.")
        (input, target), dt = _float_operands("binary_cross_entropy", input, target)
        x, y = input._data, target._data
        if x.size and (np.any(x < 0) or np.any(x > 1) or np.isnan(x).any()):
            raise op_error(RuntimeError, "binary_cross_entropy", "all elements of input should be between 0 and 1")
        if y.size and (np.any(y < 0) or np.any(y > 1)):
            raise op_error(RuntimeError, "binary_cross_entropy", "all elements of target should be between 0 and 1")
        weight_array = None
        if weight is not None:
            weight_array = np.broadcast_to(_weight_array(weight, dt), _broadcast_shape("binary_cross_entropy",
                                                                                       target, weight))
        return BinaryCrossEntropy(input, target, weight=weight_array, reduction=reduction, params={})


@register_op
class BinaryCrossEntropyWithLogits:
    """Binary cross entropy on logits (sigmoid folded in, numerically stable); ``pos_weight`` weights positives:
    ``(1 - t) x - lw * logsigmoid(x)`` with ``lw = 1 + (pos_weight - 1) t``.

    >>> import ember.nn.functional as F
    >>> F.binary_cross_entropy_with_logits(ember.tensor([0.0, 0.0]), ember.tensor([1.0, 0.0]))
    tensor(0.6931)
    """

    name = "binary_cross_entropy_with_logits"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)
    functional = True
    out = False

    def function(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
        # torch.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)
        if isinstance(size_average, Tensor):
            pos_weight, size_average = size_average, None
            if type(reduce) is int:
                reduction, reduce = reduce, None
        reduction = _reduction(reduction, size_average, reduce, "binary_cross_entropy_with_logits")
        require_tensor("binary_cross_entropy_with_logits", input, "input")
        require_tensor("binary_cross_entropy_with_logits", target, "target")
        if _shape(target) != _shape(input):
            raise op_error(ValueError, "binary_cross_entropy_with_logits", f"Target size ({_size_repr(target)}) must "
                           f"be the same as input size ({_size_repr(input)})")
        (input, target), dt = _float_operands("binary_cross_entropy_with_logits", input, target)
        shape = _shape(input)
        weight_array = pos_weight_array = None
        if weight is not None:
            weight_array = np.broadcast_to(_weight_array(weight, dt), _broadcast_shape(
                "binary_cross_entropy_with_logits", input, weight))
        if pos_weight is not None:
            pos_weight_array = _weight_array(pos_weight, dt)
            _broadcast_shape("binary_cross_entropy_with_logits", input, pos_weight)
        del shape
        return BinaryCrossEntropyWithLogits(input, target, weight=weight_array, pos_weight=pos_weight_array,
                                            reduction=reduction)

    def forward(ctx, x, y, weight, pos_weight, reduction):
        ctx.reduction, ctx.weight, ctx.pos_weight = reduction, weight, pos_weight
        xf, yf = opmath(x), opmath(y)
        with np.errstate(over="ignore"):
            softplus_neg = np.log1p(np.exp(-np.abs(xf)))
        softplus_neg += np.maximum(-xf, 0)
        if pos_weight is not None:
            softplus_neg *= (pos_weight - 1) * yf + 1
        values = (1 - yf) * xf + softplus_neg
        if weight is not None:
            values *= weight
        ctx.count = values.size
        return _reduce_np(values, reduction, x.dtype)

    def backward(ctx, grad):
        x, y = ctx.inputs
        scale = _scale_by_reduction(grad, ctx)
        dtype = grad._data.dtype
        if ctx.weight is not None:
            scale = scale * from_array(ctx.weight.astype(dtype, copy=False))
        grad_x = grad_y = None
        pos_weight = None if ctx.pos_weight is None else from_array(ctx.pos_weight.astype(dtype, copy=False))
        if ctx.next_edges[0] is not None:
            s = Sigmoid(x)
            if pos_weight is None:
                grad_x = (s - y) * scale
            else:
                grad_x = ((y * (pos_weight - 1) + 1) * s - pos_weight * y) * scale
        if ctx.next_edges[1] is not None:
            if pos_weight is None:
                grad_y = -x * scale
            else:
                grad_y = (-x - (pos_weight - 1) * LogSigmoid(x)) * scale
        return grad_x, grad_y


# ------------------------------------------------------------------------------------ nll / cross entropy
def _class_targets(input, target, weight, ignore_index, op_name):
    """Validate class-index targets against (C,) / (N, C, d1, ...) input; returns the class dim and C."""
    ndim = input._data.ndim
    if ndim == 0:
        raise op_error(ValueError, op_name, "input must have at least 1 dimension: (C,) or (N, C, d1, ...), got a "
                       "0-d tensor")
    class_dim = 0 if ndim == 1 else 1
    classes = input._data.shape[class_dim]
    if target._dtype not in (_dt.int64, _dt.uint8):
        raise op_error(RuntimeError, op_name, f"expected target dtype to be Long or Byte, but got "
                       f"{torch_type_name(target._dtype)}")
    t_shape = _shape(target)
    in_shape = _shape(input)
    if ndim == 1:
        if t_shape != ():
            raise op_error(RuntimeError, op_name, f"0D or 1D target tensor expected, multi-target not supported: "
                           f"input {in_shape} needs a 0-d target, got {t_shape}")
    elif ndim == 2:
        if len(t_shape) != 1:
            raise op_error(RuntimeError, op_name, f"0D or 1D target tensor expected, multi-target not supported: "
                           f"input {in_shape} needs a target of shape ({in_shape[0]},), got {t_shape}")
        if t_shape[0] != in_shape[0]:
            raise op_error(ValueError, op_name, f"Expected input batch_size ({in_shape[0]}) to match target "
                           f"batch_size ({t_shape[0]}).")
    else:
        expected = in_shape[:1] + in_shape[2:]
        if t_shape != expected:
            if len(t_shape) >= 1 and t_shape[:1] != in_shape[:1]:
                raise op_error(ValueError, op_name, f"Expected input batch_size ({in_shape[0]}) to match target "
                               f"batch_size ({t_shape[0]}).")
            raise op_error(RuntimeError, op_name, f"Expected target size {list(expected)}, got {list(t_shape)}")
    if weight is not None and _shape(weight) != (classes,):
        raise op_error(RuntimeError, op_name, f"weight tensor should be defined either for all {classes} classes or "
                       f"no classes but got weight tensor of shape: {list(_shape(weight))}")
    return class_dim, classes


def _picked_targets(target, ignore_index, classes, op_name):
    """The valid mask and in-range indices (ignored positions point at class 0)."""
    t = target.astype(np.int64, copy=False)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= classes))
    if bad.any():
        raise op_error(IndexError, op_name, f"Target {int(t[bad].flat[0])} is out of bounds.")
    return valid, np.where(valid, t, 0)


def _class_shape(weight, ndim, class_dim):
    return weight.reshape((weight.shape[0],) + (1,) * (ndim - class_dim - 1))


@register_op
class NllLoss:
    """Negative log likelihood of class ``target`` under log-probabilities ``input`` ((C,) or (N, C, d1, ...)):
    ``-weight[t] * input[t]`` per sample; 'mean' divides by the summed weights of non-ignored targets.

    >>> import ember.nn.functional as F
    >>> F.nll_loss(ember.tensor([[-1.0, -2.0], [-3.0, -4.0]]), ember.tensor([0, 1]))
    tensor(2.5000)
    """

    name = "nll_loss"
    kind = "reduce"
    promote = "none"
    functional = "only"
    out = False

    def function(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
        reduction = _reduction(reduction, size_average, reduce, "nll_loss")
        require_tensor("nll_loss", input, "input")
        require_tensor("nll_loss", target, "target")
        class_dim, _ = _class_targets(input, target, weight, ignore_index, "nll_loss")
        weight_array = _weight_array(weight, input._dtype)
        return NllLoss(input, target, weight=weight_array, ignore_index=ignore_index, reduction=reduction,
                       class_dim=class_dim)

    def forward(ctx, x, target, weight, ignore_index, reduction, class_dim):
        classes = x.shape[class_dim]
        valid, safe = _picked_targets(target, ignore_index, classes, "nll_loss")
        index = np.expand_dims(safe, class_dim)
        picked = np.take_along_axis(opmath(x), index, class_dim).squeeze(class_dim)
        weights = (weight[safe] if weight is not None else np.ones(safe.shape, dtype=picked.dtype)) * valid
        ctx.spec = (index, weights.astype(picked.dtype, copy=False), reduction, class_dim, x.shape)
        values = -picked * weights
        if reduction == "none":
            return values.astype(x.dtype)
        total = values.sum()
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                total = total / weights.sum()
        ctx.denominator = weights.sum()
        return np.asarray(total).astype(x.dtype)

    def backward(ctx, grad):
        index, weights, reduction, class_dim, shape = ctx.spec
        coefficients = np.zeros(shape, dtype=grad._data.dtype)
        np.put_along_axis(coefficients, index, np.expand_dims(-weights, class_dim).astype(grad._data.dtype),
                          class_dim)
        if reduction == "none":
            return from_array(coefficients) * grad.unsqueeze(class_dim), None
        if reduction == "mean":
            grad = grad / float(ctx.denominator) if ctx.denominator else grad * float("nan")
        return from_array(coefficients) * grad, None


class _CrossEntropySpec:
    """What cross entropy's backward needs, computed once in forward."""

    __slots__ = ("class_dim", "classes", "weight", "smoothing", "reduction", "probabilities", "valid", "safe",
                 "target_weights", "denominator", "loss_shape", "ignore_index")


def _cross_entropy_coefficients(spec, target, dtype):
    """``q`` (the per-class weights of -log p) and its class sum, as NumPy arrays."""
    eps, classes, class_dim = spec.smoothing, spec.classes, spec.class_dim
    weight_b = None if spec.weight is None else _class_shape(spec.weight, np.ndim(target), class_dim)
    if spec.probabilities:
        q = opmath(target).astype(dtype, copy=True)
        if eps:
            q *= 1 - eps
            q += eps / classes
        if weight_b is not None:
            q *= weight_b
        return q, q.sum(axis=class_dim, keepdims=True)
    total_weight = float(spec.weight.sum()) if spec.weight is not None else float(classes)
    q_sum = spec.target_weights * (1 - eps)
    if eps:
        q_sum = q_sum + spec.valid * (eps / classes * total_weight)
    return None, np.expand_dims(q_sum.astype(dtype, copy=False), class_dim)


def _cross_entropy_grad_np(spec, log_probabilities, target, grad, exp_parts=None):
    """``(softmax * sum(q) - q) * grad``, the closed-form gradient of cross entropy w.r.t. the logits.

    ``exp_parts`` is ``(exp(x - max), sums)`` kept by the forward: softmax is their ratio, so ``exp`` is
    not evaluated again.
    """
    class_dim, eps = spec.class_dim, spec.smoothing
    dtype = log_probabilities.dtype
    grad = opmath(np.asarray(grad)).astype(dtype, copy=False)
    if spec.reduction == "none":
        grad_row = grad
    else:
        scale = grad / spec.denominator if spec.reduction == "mean" else grad
        grad_row = np.broadcast_to(scale, spec.loss_shape)
    grad_b = np.expand_dims(grad_row, class_dim)
    q, q_sum = _cross_entropy_coefficients(spec, target, dtype)
    if exp_parts is None:
        out = np.exp(log_probabilities)
        out *= q_sum * grad_b
    else:
        shifted_exp, sums = exp_parts
        out = np.multiply(shifted_exp, q_sum * grad_b / sums)
    if spec.probabilities:
        out -= q * grad_b
        return out
    index = np.expand_dims(spec.safe, class_dim)
    picked = np.take_along_axis(out, index, class_dim)
    picked -= np.expand_dims(spec.target_weights * (1 - eps), class_dim) * grad_b
    np.put_along_axis(out, index, picked, class_dim)
    if eps:
        weight_b = 1.0 if spec.weight is None else _class_shape(spec.weight, out.ndim, class_dim)
        out -= (eps / spec.classes) * weight_b * (grad_b * np.expand_dims(spec.valid, class_dim))
    return out


@register_op
class CrossEntropy:
    """Cross entropy between logits ``input`` ((C,) or (N, C, d1, ...)) and class indices or class probabilities.

    >>> import ember.nn.functional as F
    >>> logits = ember.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> F.cross_entropy(logits, ember.tensor([0, 2]), reduction="none")
    tensor([0.2395, 1.0986])
    >>> F.cross_entropy(logits, ember.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    tensor(0.6691)
    """

    name = "cross_entropy"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)
    functional = "only"
    out = False

    def function(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> Tensor:
        reduction = _reduction(reduction, size_average, reduce, "cross_entropy")
        require_tensor("cross_entropy", input, "input")
        require_tensor("cross_entropy", target, "target")
        if not 0.0 <= label_smoothing <= 1.0:
            raise op_error(RuntimeError, "cross_entropy", f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
        if input._dtype.category < 2:
            raise op_error(RuntimeError, "cross_entropy", f"expected a floating point input (logits), got "
                           f"{input._dtype.name}")
        spec = _CrossEntropySpec()
        spec.smoothing, spec.reduction, spec.ignore_index = float(label_smoothing), reduction, ignore_index
        probabilities = _shape(target) == _shape(input) and input._data.ndim > 0
        if probabilities:
            if target._dtype.category < 2:
                name = target._dtype.name.title() if target._dtype is not _dt.int64 else "Long"
                raise op_error(RuntimeError, "cross_entropy", f"Expected floating point type for target with class "
                               f"probabilities, got {name}")
            (input, target), _ = _float_operands("cross_entropy", input, target)
            spec.class_dim = 0 if input._data.ndim == 1 else 1
            spec.classes = input._data.shape[spec.class_dim]
            if weight is not None and _shape(weight) != (spec.classes,):
                raise op_error(RuntimeError, "cross_entropy", f"weight tensor should be defined either for all "
                               f"{spec.classes} classes or no classes but got weight tensor of shape: "
                               f"{list(_shape(weight))}")
        else:
            spec.class_dim, spec.classes = _class_targets(input, target, weight, ignore_index, "cross_entropy")
        spec.probabilities = probabilities
        spec.weight = _weight_array(weight, input._dtype)
        return CrossEntropy(input, target, spec=spec)

    def forward(ctx, x, target, spec):
        ctx.spec = spec
        class_dim, classes, eps = spec.class_dim, spec.classes, spec.smoothing
        xf = opmath(x)
        if x.size == 0:
            log_probabilities = xf.copy()
        else:
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                log_probabilities, shifted_exp, sums = _log_softmax_parts(xf, class_dim)
            if ctx.__class__ is not _Scratch:
                ctx.exp_parts = (shifted_exp, sums)
        ctx.log_probabilities = log_probabilities
        weight_b = None if spec.weight is None else _class_shape(spec.weight, x.ndim, class_dim)
        if spec.probabilities:
            q, _ = _cross_entropy_coefficients(spec, target, xf.dtype)
            values = -(log_probabilities * q).sum(axis=class_dim)
            spec.denominator = x.size / classes if classes else 0
        else:
            valid, safe = _picked_targets(target, spec.ignore_index, classes, "cross_entropy")
            spec.valid, spec.safe = valid, safe
            picked = np.take_along_axis(log_probabilities, np.expand_dims(safe, class_dim), class_dim)
            picked = picked.squeeze(class_dim)
            weights = (spec.weight[safe] if spec.weight is not None else np.ones(safe.shape, xf.dtype)) * valid
            spec.target_weights = weights.astype(xf.dtype, copy=False)
            values = picked * spec.target_weights
            values *= -(1 - eps)
            if eps:
                smooth = (log_probabilities * weight_b).sum(axis=class_dim) if weight_b is not None else \
                    log_probabilities.sum(axis=class_dim)
                values -= (eps / classes) * smooth * valid
            spec.denominator = spec.target_weights.sum()
        spec.loss_shape = values.shape
        if spec.reduction == "none":
            return values.astype(x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            total = values.sum()
            if spec.reduction == "mean":
                total = total / spec.denominator
        return np.asarray(total).astype(x.dtype)

    def backward(ctx, grad):
        x, target = ctx.inputs
        spec = ctx.spec
        grad_x = grad_target = None
        if ctx.next_edges[0] is not None:
            grad_x = CrossEntropyBackward(grad, x, target, spec=spec, log_probabilities=ctx.log_probabilities,
                                          exp_parts=getattr(ctx, "exp_parts", None))
        if spec.probabilities and ctx.next_edges[1] is not None:
            scale = _grad_per_sample(grad, spec)
            if spec.weight is not None:
                scale = scale * from_array(_class_shape(spec.weight, x._data.ndim, spec.class_dim).astype(
                    grad._data.dtype))
            grad_target = -(LogSoftmax(x, dim=spec.class_dim) * scale) * (1 - spec.smoothing)
        return grad_x, grad_target


def _grad_per_sample(grad, spec):
    """The incoming gradient broadcast over the class dim (divided by the denominator for 'mean')."""
    if spec.reduction == "none":
        return grad.unsqueeze(spec.class_dim)
    if spec.reduction == "mean":
        return grad / float(spec.denominator) if spec.denominator else grad * float("nan")
    return grad


@register_op
class CrossEntropyBackward:
    """The gradient of cross entropy w.r.t. the logits; its own backward gives double backward."""

    name = "cross_entropy_backward"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)

    def forward(ctx, grad, x, target, spec, log_probabilities, exp_parts=None):
        ctx.spec = spec
        with np.errstate(invalid="ignore", divide="ignore"):
            out = _cross_entropy_grad_np(spec, log_probabilities, target, grad, exp_parts)
        return out.astype(x.dtype, copy=False)

    def backward(ctx, grad_grad):
        grad, x, target = ctx.inputs
        spec = ctx.spec
        class_dim, eps = spec.class_dim, spec.smoothing
        dtype = grad_grad._data.dtype
        probabilities = Softmax(x, dim=class_dim)
        grad_b = _grad_per_sample(grad, spec)
        weight_b = None if spec.weight is None else from_array(
            _class_shape(spec.weight, x._data.ndim, class_dim).astype(dtype))
        if spec.probabilities:
            q = target * (1 - eps) + eps / spec.classes
            if weight_b is not None:
                q = q * weight_b
            q_sum = q.sum(class_dim, keepdim=True)
        else:
            q_np = np.zeros(x._data.shape, dtype=dtype)
            np.put_along_axis(q_np, np.expand_dims(spec.safe, class_dim),
                              np.expand_dims(spec.target_weights * (1 - eps), class_dim).astype(dtype), class_dim)
            if eps:
                class_weights = 1.0 if spec.weight is None else _class_shape(spec.weight, q_np.ndim, class_dim)
                q_np += (eps / spec.classes) * class_weights * np.expand_dims(spec.valid, class_dim)
            q = from_array(q_np)
            q_sum = from_array(q_np.sum(axis=class_dim, keepdims=True))
        grad_of_grad = grad_of_x = grad_of_target = None
        if ctx.next_edges[0] is not None:
            per_sample = (grad_grad * (probabilities * q_sum - q)).sum(class_dim)
            if spec.reduction == "none":
                grad_of_grad = per_sample
            else:
                grad_of_grad = per_sample.sum()
                if spec.reduction == "mean":
                    grad_of_grad = grad_of_grad / float(spec.denominator) if spec.denominator else \
                        grad_of_grad * float("nan")
        if ctx.next_edges[1] is not None:
            grad_of_x = SoftmaxBackward(grad_grad * (grad_b * q_sum), probabilities, dim=class_dim)
        if spec.probabilities and ctx.next_edges[2] is not None:
            scale = grad_b * (1 - eps)
            if weight_b is not None:
                scale = scale * weight_b
            grad_of_target = scale * ((grad_grad * probabilities).sum(class_dim, keepdim=True) - grad_grad)
        return grad_of_grad, grad_of_x, grad_of_target


# ------------------------------------------------------------------------------------ composite losses
@register_function(functional=True)
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with ``input`` log-probabilities: ``target * (log(target) - input)``.

    >>> import ember.nn.functional as F
    >>> F.kl_div(ember.tensor([[-0.5, -1.0]]), ember.tensor([[0.5, 0.5]]), reduction="batchmean")
    tensor(0.0569)
    """
    if size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce, "kl_div")
    else:
        reduction = _reduction(reduction, op_name="kl_div", extra=("batchmean",))
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          UserWarning, stacklevel=2)
    if log_target:
        values = Exp(target) * (target - input)
    else:
        positive = from_array(target._data > 0)
        safe = Where(positive, target, 1.0)
        values = Where(positive, target * Log(safe), 0.0) - target * input
    if reduction == "batchmean":
        total = values.sum()
        return total / input._data.shape[0] if input._data.ndim else total
    return _reduce(values, reduction)


@register_function(functional=True)
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``.

    >>> import ember.nn.functional as F
    >>> F.margin_ranking_loss(ember.tensor([1.0]), ember.tensor([2.0]), ember.tensor([1.0]))
    tensor(1.)
    """
    reduction = _reduction(reduction, size_average, reduce, "margin_ranking_loss")
    if not (input1._data.ndim == input2._data.ndim == target._data.ndim):
        raise op_error(RuntimeError, "margin_ranking_loss", f"margin_ranking_loss : All input tensors should have "
                       f"same dimension but got sizes: input1: {_size_repr(input1)}, input2: {_size_repr(input2)}, "
                       f"target: {_size_repr(target)} ")
    return _reduce(Relu(-target * (input1 - input2) + margin), reduction)


@register_function(functional=True)
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``.

    >>> import ember.nn.functional as F
    >>> F.hinge_embedding_loss(ember.tensor([0.3, 2.0]), ember.tensor([1.0, -1.0]), reduction="none")
    tensor([0.3000, 0.0000])
    """
    reduction = _reduction(reduction, size_average, reduce, "hinge_embedding_loss")
    target_data = np.broadcast_to(target._data, _broadcast_shape("hinge_embedding_loss", input, target))
    margin_part = Where(from_array(target_data != 1), Relu(margin - input), 0.0)
    self_part = Where(from_array(target_data != -1), input, 0.0)
    return _reduce(margin_part + self_part, reduction)


@register_function(functional="only")
def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * input))``.

    >>> import ember.nn.functional as F
    >>> F.soft_margin_loss(ember.tensor([0.0]), ember.tensor([1.0]))
    tensor(0.6931)
    """
    reduction = _reduction(reduction, size_average, reduce, "soft_margin_loss")
    return _reduce(Softplus(-target * input, beta=1.0, threshold=float("inf")), reduction)


@register_function(functional="only")
def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """Per-class binary logistic loss averaged over classes: ``-(t logsig(x) + (1 - t) logsig(-x))``.

    >>> import ember.nn.functional as F
    >>> F.multilabel_soft_margin_loss(ember.tensor([[0.0, 0.0]]), ember.tensor([[1.0, 0.0]]))
    tensor(0.6931)
    """
    reduction = _reduction(reduction, size_average, reduce, "multilabel_soft_margin_loss")
    loss = -(target * LogSigmoid.function(input) + (1 - target) * LogSigmoid.function(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input._data.ndim - 1
    loss = loss.sum(class_dim) / input._data.shape[class_dim]
    return _reduce(loss, reduction)


def _one_hot_np(target, classes, dtype, op_name):
    valid = (target >= 0) & (target < classes)
    if not valid.all():
        raise op_error(IndexError if op_name == "nll_loss" else RuntimeError, op_name,
                       f"target out of range: {int(target[~valid].flat[0])} is not in [0, {classes})")
    one_hot = np.zeros(target.shape + (classes,), dtype=dtype)
    np.put_along_axis(one_hot, target[..., None], 1, axis=-1)
    return one_hot


@register_function(functional="only")
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{j != y} max(0, margin - x[y] + x[j]) ** p / C``.

    >>> import ember.nn.functional as F
    >>> F.multi_margin_loss(ember.tensor([[0.1, 0.2, 0.4, 0.8]]), ember.tensor([3]))
    tensor(0.3250)
    """
    reduction = _reduction(reduction, size_average, reduce, "multi_margin_loss")
    if p not in (1, 2):
        raise op_error(ValueError, "multi_margin_loss", f"only p == 1 and p == 2 supported, got {p}")
    ndim = input._data.ndim
    if ndim > 2 or (ndim == 2 and _shape(target) != input._data.shape[:1]) or (ndim <= 1 and target._data.size != 1
                                                                               and ndim == 1):
        raise op_error(RuntimeError, "multi_margin_loss", f"inconsistent target size: got {list(_shape(target))} for "
                       f"input of size: {list(_shape(input))}")
    classes = input._data.shape[-1] if ndim else 1
    target_np = target._data.astype(np.int64).reshape(input._data.shape[:-1] if ndim else ())
    one_hot = _one_hot_np(target_np, classes, input._data.dtype, "multi_margin_loss")
    one_hot_t = from_array(one_hot if ndim else one_hot.reshape(()))
    target_score = (input * one_hot_t).sum(-1, keepdim=True) if ndim else input
    margins = Relu(margin - target_score + input) * from_array(1 - one_hot if ndim else np.zeros((), one_hot.dtype))
    if p == 2:
        margins = margins * margins
    if weight is not None:
        margins = margins * from_array(np.asarray(weight._data[target_np])[..., None].astype(input._data.dtype)
                                   if ndim else weight._data[target_np].astype(input._data.dtype))
    loss = margins.sum(-1) / classes if ndim else margins / classes
    return _reduce(loss, reduction)


@register_function(functional="only")
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """``sum_{j in targets, k not in targets} max(0, 1 - (x[j] - x[k])) / C``; targets end at the first -1.

    >>> import ember.nn.functional as F
    >>> F.multilabel_margin_loss(ember.tensor([[0.1, 0.2, 0.4, 0.8]]), ember.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    reduction = _reduction(reduction, size_average, reduce, "multilabel_margin_loss")
    if _shape(target) != _shape(input) or input._data.ndim > 2:
        raise op_error(RuntimeError, "multilabel_margin_loss", f"inconsistent target size: {list(_shape(target))} for "
                       f"input of size: {list(_shape(input))}")
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    t = target._data.reshape(x._data.shape).astype(np.int64)
    rows, classes = x._data.shape
    is_target = np.zeros((rows, classes), dtype=bool)
    for r in range(rows):
        for c in t[r]:
            if c < 0:
                break
            if c >= classes:
                raise op_error(RuntimeError, "multilabel_margin_loss", f"target index {c} out of range [0, {classes})")
            is_target[r, c] = True
    pair_mask = (is_target[:, :, None] & ~is_target[:, None, :]).astype(x._data.dtype)
    pairs = Relu(1 - (x.unsqueeze(2) - x.unsqueeze(1))) * from_array(pair_mask)
    loss = pairs.sum((1, 2)) / classes
    if input._data.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _pairwise_distance(x1, x2, p, eps):
    difference = x1 - x2 + eps
    if p == 2:
        return ((difference * difference).sum(-1)) ** 0.5
    if p == 1:
        return Abs(difference).sum(-1)
    return (Abs(difference) ** p).sum(-1) ** (1.0 / p)


def _minimum(a, b):
    return Where(from_array(a._data <= b._data), a, b)


@register_function(functional=True)
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the p-norm distance; ``swap`` uses ``min(d(a, n), d(p, n))``.

    >>> import ember.nn.functional as F
    >>> a, p_, n = ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0]]), ember.tensor([[0.0, 1.0]])
    >>> F.triplet_margin_loss(a, p_, n, eps=0.0)
    tensor(5.)
    """
    reduction = _reduction(reduction, size_average, reduce, "triplet_margin_loss")
    dims = (anchor._data.ndim, positive._data.ndim, negative._data.ndim)
    if len(set(dims)) != 1 or dims[0] not in (1, 2):
        raise op_error(RuntimeError, "triplet_margin_loss", f"The anchor, positive, and negative tensors are expected "
                       f"to have the same number of dimensions (1 or 2), but got: anchor {dims[0]}D, positive "
                       f"{dims[1]}D, and negative {dims[2]}D inputs")
    if margin <= 0:
        raise op_error(ValueError, "triplet_margin_loss", f"margin must be greater than 0, got {margin}")
    distance_positive = _pairwise_distance(anchor, positive, p, eps)
    distance_negative = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_negative = _minimum(distance_negative, _pairwise_distance(positive, negative, p, eps))
    return _reduce(Relu(distance_positive - distance_negative + margin), reduction)


@register_function(functional="only")
def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """Triplet loss with a custom ``distance_function`` (default: the 2-norm pairwise distance).

    >>> import ember.nn.functional as F
    >>> a, p_, n = ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0]]), ember.tensor([[0.0, 1.0]])
    >>> F.triplet_margin_with_distance_loss(a, p_, n, distance_function=lambda x, y: (x - y).abs().sum(-1))
    tensor(7.)
    """
    reduction = _reduction(reduction, op_name="triplet_margin_with_distance_loss")
    if margin <= 0:
        raise op_error(ValueError, "triplet_margin_with_distance_loss", f"margin must be greater than 0, got {margin}")
    distance = distance_function or (lambda x, y: _pairwise_distance(x, y, 2, 1e-6))
    distance_positive = distance(anchor, positive)
    distance_negative = distance(anchor, negative)
    if swap:
        distance_negative = _minimum(distance_negative, distance(positive, negative))
    return _reduce(Relu(distance_positive - distance_negative + margin), reduction)


@register_function(functional=True)
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``.

    >>> import ember.nn.functional as F
    >>> F.cosine_embedding_loss(ember.tensor([[1.0, 0.0]]), ember.tensor([[0.0, 1.0]]), ember.tensor([1]))
    tensor(1.)
    """
    reduction = _reduction(reduction, size_average, reduce, "cosine_embedding_loss")
    if _shape(input1) != _shape(input2) or input1._data.ndim not in (1, 2):
        raise op_error(RuntimeError, "cosine_embedding_loss", f"cosine_embedding_loss expects 1D or 2D inputs of the "
                       f"same size, got {list(_shape(input1))} and {list(_shape(input2))}")
    dim = 1 if input1._data.ndim == 2 else 0
    if _shape(target) != input1._data.shape[:dim]:
        raise op_error(RuntimeError, "cosine_embedding_loss", f"target shape {list(_shape(target))} does not match "
                       f"the batch of inputs of shape {list(_shape(input1))}")
    product = (input1 * input2).sum(dim)
    magnitude1 = (input1 * input1).sum(dim) + 1e-12
    magnitude2 = (input2 * input2).sum(dim) + 1e-12
    cosine = product / (magnitude1 * magnitude2) ** 0.5
    target_data = target._data
    positive = Where(from_array(target_data == 1), 1 - cosine, 0.0)
    negative = Where(from_array(target_data == -1), Relu(cosine - margin), 0.0)
    return _reduce(positive + negative, reduction)


@register_function(functional=True)
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: ``exp(x) - t * x`` (``log_input``) or ``x - t * log(x + eps)``.

    >>> import ember.nn.functional as F
    >>> F.poisson_nll_loss(ember.tensor([0.0]), ember.tensor([1.0]))
    tensor(1.)
    """
    if isinstance(size_average, float) and type(eps) is int:  # torch.poisson_nll_loss(input, target, log_input, full, eps, reduction)
        size_average, eps, reduction = None, size_average, eps
    reduction = _reduction(reduction, size_average, reduce, "poisson_nll_loss")
    loss = Exp(input) - target * input if log_input else input - target * Log(input + eps)
    if full:
        t = target._data
        safe = np.where(t > 1, t, 1).astype(np.float64)
        stirling = np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)
        stirling_t = from_array(stirling.astype(loss._data.dtype))
        if isinstance(target, Tensor) and target._requires_grad and STATE.enabled:
            stirling_t = Where(from_array(t > 1), target * Log(Where(from_array(t > 1), target, 1.0)) - target
                               + Log(Where(from_array(t > 1), target, 1.0) * (2 * math.pi)) * 0.5, 0.0)
        loss = loss + stirling_t
    return _reduce(loss, reduction)


@register_function(functional="only")
def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log likelihood ``0.5 * (log(var) + (input - target) ** 2 / var)``.

    >>> import ember.nn.functional as F
    >>> F.gaussian_nll_loss(ember.tensor([1.0]), ember.tensor([1.0]), ember.tensor([1.0]))
    tensor(0.)
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise op_error(ValueError, "gaussian_nll_loss", "var has negative entry/entries")
        var = from_array(np.full(input._data.shape, var, dtype=input._data.dtype))
    elif np.any(var._data < 0):
        raise op_error(ValueError, "gaussian_nll_loss", "var has negative entry/entries")
    in_shape, var_shape = _shape(input), _shape(var)
    if var_shape != in_shape:
        if in_shape[:-1] == var_shape:
            var = var.unsqueeze(-1)
        elif not (len(in_shape) == len(var_shape)
                  and sum(v for i, v in zip(in_shape, var_shape) if i != v) == 1):
            raise op_error(ValueError, "gaussian_nll_loss", f"var is of incorrect size: {list(var_shape)} for input "
                           f"of size {list(in_shape)}")
    if reduction not in _REDUCTIONS:
        raise op_error(ValueError, "gaussian_nll_loss", f"{reduction} is not valid")
    # The clamp is invisible to autograd (PyTorch clamps a clone under no_grad): shift by a constant.
    var_data = var._data
    shift = np.maximum(var_data, eps) - var_data
    var = var + from_array(shift.astype(var_data.dtype)) if shift.any() else var
    loss = (Log(var) + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------------------------ CTC
def _logsumexp_pair(a, b):
    high = np.maximum(a, b)
    safe = np.where(np.isfinite(high), high, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isneginf(high), -np.inf, safe + np.log(np.exp(a - safe) + np.exp(b - safe)))


def _ctc_single(log_probs, labels, length, blank):
    """Negative log likelihood of ``labels`` and d(nll)/d(log_probs) for one sequence (alpha-beta in log space)."""
    extended = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    extended[1::2] = labels
    states = extended.size
    gradient = np.zeros_like(log_probs)
    if length == 0:
        return (0.0 if states == 1 else np.inf), gradient
    emissions = log_probs[:length, extended]
    skip = np.zeros(states, dtype=bool)
    skip[2:] = (extended[2:] != blank) & (extended[2:] != extended[:-2])
    alpha = np.full((length, states), -np.inf)
    alpha[0, 0] = emissions[0, 0]
    if states > 1:
        alpha[0, 1] = emissions[0, 1]
    for t in range(1, length):
        previous = alpha[t - 1]
        combined = previous.copy()
        combined[1:] = _logsumexp_pair(combined[1:], previous[:-1])
        combined[2:] = np.where(skip[2:], _logsumexp_pair(combined[2:], previous[:-2]), combined[2:])
        alpha[t] = combined + emissions[t]
    beta = np.full((length, states), -np.inf)
    beta[-1, -1] = emissions[-1, -1]
    if states > 1:
        beta[-1, -2] = emissions[-1, -2]
    for t in range(length - 2, -1, -1):
        following = beta[t + 1]
        combined = following.copy()
        combined[:-1] = _logsumexp_pair(combined[:-1], following[1:])
        skip_from = np.zeros(states, dtype=bool)
        skip_from[:-2] = skip[2:]
        combined[:-2] = np.where(skip_from[:-2], _logsumexp_pair(combined[:-2], following[2:]), combined[:-2])
        beta[t] = combined + emissions[t]
    log_likelihood = alpha[-1, -1] if states == 1 else _logsumexp_pair(alpha[-1, -1], alpha[-1, -2])
    if not np.isfinite(log_likelihood):
        return np.inf, gradient
    # d(-log p)/d(log_probs[t, k]) = Exp(lp[t, k]) - sum over states s with label k of Exp(alpha + beta - lp - log p)
    occupancy = alpha + beta - emissions - log_likelihood
    with np.errstate(under="ignore"):
        per_state = np.exp(occupancy)
    per_class = np.zeros((length, log_probs.shape[1]))
    np.add.at(per_class, (slice(None), extended), per_state)
    gradient[:length] = np.exp(log_probs[:length]) - per_class
    return -log_likelihood, gradient


@register_op
class CtcLoss:
    """Connectionist Temporal Classification loss of ``log_probs`` (T, N, C) against unaligned ``targets``.

    >>> import ember.nn.functional as F
    >>> log_probs = ember.log_softmax(ember.zeros(3, 1, 2), dim=2)
    >>> F.ctc_loss(log_probs, ember.tensor([[1]]), [3], [1], reduction="sum")
    tensor(0.2877)
    """

    name = "ctc_loss"
    kind = "opaque"
    promote = "none"
    functional = True
    out = False

    def function(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
                 reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
        reduction = _reduction(reduction, op_name="ctc_loss")
        ndim = log_probs._data.ndim
        if ndim not in (2, 3):
            raise op_error(RuntimeError, "ctc_loss", f"log_probs must be (T, N, C) or (T, C), got "
                           f"{list(_shape(log_probs))}")
        classes = log_probs._data.shape[-1]
        if not 0 <= blank < classes:
            raise op_error(RuntimeError, "ctc_loss", f"blank must be in label range [0, {classes}), got {blank}")
        lengths = [np.asarray(v._data if isinstance(v, Tensor) else v, dtype=np.int64).reshape(-1)
                   for v in (input_lengths, target_lengths)]
        steps = log_probs._data.shape[0]
        if (lengths[0] > steps).any():
            raise op_error(RuntimeError, "ctc_loss", f"Expected input_lengths to have value at most {steps}, but got "
                           f"value {int(lengths[0].max())}")
        target_data = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
        return CtcLoss(log_probs, target_data, lengths[0], lengths[1], blank=blank, reduction=reduction,
                       zero_infinity=zero_infinity)

    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
        batched = log_probs.ndim == 3
        lp = opmath(log_probs) if batched else opmath(log_probs)[:, None, :]
        lp64 = lp.astype(np.float64)
        batch = lp.shape[1]
        input_lengths = np.asarray(input_lengths, dtype=np.int64).reshape(batch)
        target_lengths = np.asarray(target_lengths, dtype=np.int64).reshape(batch)
        targets = np.asarray(targets, dtype=np.int64)
        if not batched:
            targets = targets.reshape(1, -1)
        offsets = np.concatenate([[0], np.cumsum(target_lengths)])
        losses = np.zeros(batch)
        gradients = np.zeros_like(lp64)
        for b in range(batch):
            if targets.ndim == 2:
                labels = targets[b, :target_lengths[b]]
            else:
                labels = targets[offsets[b]:offsets[b + 1]]
            nll, gradient = _ctc_single(lp64[:, b, :], labels, int(input_lengths[b]), blank)
            if zero_infinity and np.isinf(nll):
                nll, gradient = 0.0, np.zeros_like(gradient)
            losses[b] = nll
            gradients[:, b, :] = gradient
        if reduction == "mean":
            scale = 1.0 / np.maximum(target_lengths, 1) / batch
            value = (losses * scale * batch).mean()
            gradients *= scale[None, :, None]
        elif reduction == "sum":
            value = losses.sum()
        else:
            value = losses
        ctx.gradients = gradients if batched else gradients[:, 0, :]
        ctx.reduction = reduction
        out = np.asarray(value)
        if not batched and reduction == "none":
            out = out.reshape(())
        return out.astype(log_probs.dtype)

    def backward(ctx, grad):
        gradients = from_array(ctx.gradients.astype(grad._data.dtype))
        if ctx.reduction == "none":
            grad = grad.unsqueeze(-1) if grad._data.ndim == 0 else grad.unsqueeze(0).unsqueeze(-1)
        return gradients * grad, None, None, None
